"""Column-wise text building for the generators (pyarrow kernels, no per-row Python).

Example:
    >>> import numpy as np
    >>> cat("port ", np.array([22, 2222])).to_pylist()
    ['port 22', 'port 2222']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def as_text(value: object, n: int | None = None) -> pa.Array | str:
    """A string array from numbers, objects or strings; a plain str stays a scalar."""
    if isinstance(value, str):
        return value
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        return value if value.type == pa.string() else value.cast(pa.string())
    if isinstance(value, pd.Series):
        value = value.to_numpy()
    arr = np.asarray(value)
    if arr.dtype.kind in "iuf":
        return pa.array(arr).cast(pa.string())
    return pa.array(arr.astype(object), type=pa.string())


def cat(*parts: object) -> pa.Array:
    """Element-wise concatenation of string arrays, numbers and constants."""
    texts = [as_text(p) for p in parts]
    if not any(isinstance(t, pa.Array) for t in texts):
        raise ValueError("cat() needs at least one array part")
    return pc.binary_join_element_wise(*texts, "")


def column(values: object) -> pd.Series:
    """A pandas column backed by a pyarrow string array (cheap to hand to DuckDB)."""
    arr = as_text(values)
    return pd.Series(arr, dtype=pd.ArrowDtype(pa.string()))


def pick(rng: np.random.Generator, options: list | tuple, n: int) -> np.ndarray:
    """`n` random choices from `options` as an object array."""
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]
