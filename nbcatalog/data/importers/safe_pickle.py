"""Loading a pandas pickle without running the code a hostile pickle carries.

`pandas.read_pickle` executes whatever callables the pickle names; an exported
DataFrame only ever needs a known handful (numpy arrays, pandas arrays, dtypes,
indexes, the block manager). Anything else is refused with its name.

Example:
    >>> import io, pickle, pandas as pd
    >>> load_frame(io.BytesIO(pickle.dumps(pd.DataFrame({"a": [1]})))).shape
    (1, 1)
"""

from __future__ import annotations

import pickle
from typing import BinaryIO

import pandas as pd

_NUMPY = {
    "numpy.core.multiarray",
    "numpy._core.multiarray",
    "numpy.core.numeric",
    "numpy._core.numeric",
}
_ALLOWED: set[tuple[str, str]] = {
    ("builtins", "slice"),
    ("__builtin__", "slice"),
    ("_codecs", "encode"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("pytz", "_UTC"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    *((m, n) for m in _NUMPY for n in ("_reconstruct", "scalar", "_frombuffer")),
    ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
    ("pandas._libs.internals", "_unpickle_block"),
    ("pandas._libs.missing", "NA"),
    ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
    ("pandas._libs.tslibs.nattype", "__nat_unpickle"),
    ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle"),
    ("pandas.core.frame", "DataFrame"),
    ("pandas.core.series", "Series"),
    ("pandas.core.internals.managers", "BlockManager"),
    ("pandas.core.internals.managers", "SingleBlockManager"),
    ("pandas.core.internals.blocks", "new_block"),
    ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.base", "_new_Index"),
    ("pandas.core.indexes.range", "RangeIndex"),
    ("pandas.core.indexes.datetimes", "DatetimeIndex"),
    ("pandas.core.indexes.datetimes", "_new_DatetimeIndex"),
    ("pandas.core.arrays.datetimes", "DatetimeArray"),
    ("pandas.core.arrays.categorical", "Categorical"),
    ("pandas.core.arrays.boolean", "BooleanArray"),
    ("pandas.core.arrays.boolean", "BooleanDtype"),
    ("pandas.core.arrays.string_", "StringArray"),
    ("pandas.core.arrays.string_", "StringDtype"),
    ("pandas.core.arrays.integer", "IntegerArray"),
    ("pandas.core.arrays.floating", "FloatingArray"),
    ("pandas.core.dtypes.dtypes", "CategoricalDtype"),
    ("pandas.core.dtypes.dtypes", "DatetimeTZDtype"),
    *(
        ("pandas.core.arrays.integer", f"{sign}Int{bits}Dtype")
        for sign in ("", "U")
        for bits in (8, 16, 32, 64)
    ),
    *(("pandas.core.arrays.floating", f"Float{bits}Dtype") for bits in (32, 64)),
}


class UnsafePickleError(ValueError):
    """The pickle names a callable that a plain DataFrame never needs."""


class _FrameUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) not in _ALLOWED:
            raise UnsafePickleError(
                f"refusing to load {module}.{name}: only plain pandas DataFrames are accepted"
            )
        return super().find_class(module, name)


def load_frame(fh: BinaryIO) -> pd.DataFrame:
    """Unpickle a DataFrame from `fh`, refusing anything a DataFrame does not need."""
    obj = _FrameUnpickler(fh).load()
    if not isinstance(obj, pd.DataFrame):
        raise UnsafePickleError(f"the pickle holds a {type(obj).__name__}, not a pandas DataFrame")
    return obj
