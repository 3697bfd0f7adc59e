"""Loading a pandas pickle without running the code a hostile pickle carries.

`pandas.read_pickle` executes whatever callables the pickle names; an exported
DataFrame only ever needs a known handful (numpy arrays, pandas arrays, dtypes,
indexes, the block manager). Anything else is refused with its name.

Pickles written by pandas 1.x (years of msticpy notebooks) name classes pandas 2
no longer has: `Int64Index`, `UInt64Index`, `Float64Index` and the 1.3-era
`new_block`. They are allowed by their old names and loaded as what pandas itself
loads them as (`Index`, `_unpickle_block`), as `pandas.read_pickle` does; numpy 1's
`numpy.core` names load from `numpy._core` under numpy 2.

Example:
    >>> import io, pickle, pandas as pd
    >>> load_frame(io.BytesIO(pickle.dumps(pd.DataFrame({"a": [1]})))).shape
    (1, 1)
"""

from __future__ import annotations

import importlib.util
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
    # pandas 1.x: the numeric index classes pandas 2 folded into Index.
    ("pandas.core.indexes.numeric", "Int64Index"),
    ("pandas.core.indexes.numeric", "UInt64Index"),
    ("pandas.core.indexes.numeric", "Float64Index"),
    # pandas 1.3 pickles a block's constructor as partial(new_block, ...): partial
    # only calls what it wraps, and that went through this list too.
    ("functools", "partial"),
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


# Where pandas 2 keeps what pandas 1.x pickled (the same moves pandas.read_pickle makes).
_MOVED: dict[tuple[str, str], tuple[str, str]] = {
    ("pandas.core.indexes.numeric", "Int64Index"): ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.numeric", "UInt64Index"): ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.numeric", "Float64Index"): ("pandas.core.indexes.base", "Index"),
    ("pandas.core.internals.blocks", "new_block"): ("pandas._libs.internals", "_unpickle_block"),
}
_NUMPY_CORE_MOVED = importlib.util.find_spec("numpy._core") is not None


class UnsafePickleError(ValueError):
    """The pickle names a callable that a plain DataFrame never needs."""


class _FrameUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) not in _ALLOWED:
            raise UnsafePickleError(
                f"refusing to load {module}.{name}: only plain pandas DataFrames are accepted"
            )
        module, name = _MOVED.get((module, name), (module, name))
        if _NUMPY_CORE_MOVED and module.startswith("numpy.core."):
            module = "numpy._core." + module.removeprefix("numpy.core.")  # numpy 2 renamed it
        return super().find_class(module, name)


def load_frame(fh: BinaryIO) -> pd.DataFrame:
    """Unpickle a DataFrame from `fh`, refusing anything a DataFrame does not need."""
    obj = _FrameUnpickler(fh).load()
    if not isinstance(obj, pd.DataFrame):
        raise UnsafePickleError(f"the pickle holds a {type(obj).__name__}, not a pandas DataFrame")
    return obj
