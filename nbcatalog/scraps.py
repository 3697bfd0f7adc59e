"""How glued values are stored in a notebook and read back: scrapbook encoders.

Templates record results with `nbcatalog.nblib.glue.glue`; this module is the part
both sides share, kept outside `nbcatalog.nblib` so that the runner can read results
without importing the template libraries (plots, enrichment):

- ``nbcatalog-value``: None, bool, int, float (NaN/inf too), str, datetime, date,
  timedelta, pandas Timestamp/Timedelta/NaT, numpy scalars, and lists/tuples/dicts
  of those, as tagged JSON;
- ``nbcatalog-frame``: a pandas DataFrame or Series as parquet (dtypes kept,
  tz-aware timestamps included); inline base64 when small, otherwise a sidecar file
  ``data/<name>.parquet`` in the run folder, which the notebook only references
  (big frames would bloat the notebook, which papermill rewrites as it runs).
  Read back under `reading_from(run_dir, lazy=True)`, a sidecar becomes a
  `SidecarFrame` that reads the file on first use.

Example:
    >>> from nbcatalog.scraps import reading_from
    >>> with reading_from("output/host_summary/20240501T000000Z-ab12cd"):  # doctest: +SKIP
    ...     scraps = scrapbook.read_notebook(".../notebook.ipynb").scraps
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import datetime as dt
import functools
import io
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scrapbook.encoders import registry

VALUE_ENCODER = "nbcatalog-value"
FRAME_ENCODER = "nbcatalog-frame"
RUN_DIR_ENV = "NBCATALOG_RUN_DIR"
SIDECAR_DIR = "data"
INLINE_MAX_BYTES = 256 * 1024  # parquet bytes above this go to a sidecar file
DISPLAY_SUFFIX = "_display"
# The scrap a template's `Investigation` glues its data state under (see nblib.outcome).
OUTCOME_SCRAP = "nbcatalog_outcome"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The folder relative sidecar paths are read from, and whether to read them now
# (set by the reader, see reading_from).
_read_base: contextvars.ContextVar[tuple[Path, bool] | None] = contextvars.ContextVar(
    "nbcatalog_glue_read_base", default=None
)


class GlueError(ValueError):
    """A value or name that cannot be glued; says what is accepted."""


# ------------------------------------------------------------------ plain values


@functools.lru_cache(maxsize=1)
def _payload_validator() -> Any:
    """scrapbook's scrap schema, checked and compiled once (scrapbook does both per scrap)."""
    from jsonschema.validators import validator_for
    from scrapbook.schemas import LATEST_SCRAP_VERSION, scrap_schema

    schema = scrap_schema(LATEST_SCRAP_VERSION)
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def scrap_payload(name: str, data: Any, encoder: str) -> dict[str, Any]:
    """The payload scrapbook stores for a scrap, checked against its schema.

    The same check and exception as scrapbook's `scrap_to_payload` (and its reader's),
    with the schema compiled once: it cost a glue or a harvest 1-3 ms per scrap.

    Example:
        >>> scrap_payload("n", 3, "json")["version"]
        1
    """
    from jsonschema.exceptions import best_match
    from scrapbook.exceptions import ScrapbookDataException
    from scrapbook.schemas import LATEST_SCRAP_VERSION

    payload = {"name": name, "data": data, "encoder": encoder, "version": LATEST_SCRAP_VERSION}
    error = best_match(_payload_validator().iter_errors(payload))
    if error is not None:
        raise ScrapbookDataException(
            f"Scrap (name={name or 'None'}) contents do not conform to required type "
            f"structures: {error}",
            [error],
        )
    return payload


def _encode_value(value: Any) -> Any:
    """A value as tagged JSON: plain JSON stays as is, the rest becomes {"$t": ...}."""
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic) and not isinstance(value, (np.datetime64, np.timedelta64)):
        value = value.item()
        if value is None or isinstance(value, (bool, str)):
            return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$t": "float", "v": repr(value)}
    if value is pd.NaT:
        return {"$t": "nat"}
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, np.timedelta64):
        value = pd.Timedelta(value)
    if isinstance(value, pd.Timestamp):
        return {"$t": "timestamp", "v": value.isoformat(), "tz": str(value.tz or "")}
    if isinstance(value, dt.datetime):
        return {"$t": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$t": "date", "v": value.isoformat()}
    if isinstance(value, pd.Timedelta):
        return {"$t": "timedelta", "v": value.value}
    if isinstance(value, dt.timedelta):
        return {"$t": "timedelta", "v": pd.Timedelta(value).value}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_encode_value(v) for v in value]
        if isinstance(value, list):
            return items
        return {"$t": type(value).__name__, "v": items}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and "$t" not in value:
            return {k: _encode_value(v) for k, v in value.items()}
        return {"$t": "dict", "v": [[_encode_value(k), _encode_value(v)] for k, v in value.items()]}
    raise GlueError(
        f"cannot store a {type(value).__name__} as data; accepted: None, bool, numbers, "
        "text, dates/times, lists/dicts of those, DataFrames and Series "
        "(show anything else with glue(name, value) as a display)"
    )


def _decode_value(data: Any) -> Any:
    import pandas as pd

    if isinstance(data, list):
        return [_decode_value(v) for v in data]
    if not isinstance(data, dict):
        return data
    tag = data.get("$t")
    if tag is None:
        return {k: _decode_value(v) for k, v in data.items()}
    if tag == "float":
        return float(data["v"])
    if tag == "nat":
        return pd.NaT
    if tag == "timestamp":
        return pd.Timestamp(data["v"])
    if tag == "datetime":
        return dt.datetime.fromisoformat(data["v"])
    if tag == "date":
        return dt.date.fromisoformat(data["v"])
    if tag == "timedelta":
        return pd.Timedelta(int(data["v"]), unit="ns").to_pytimedelta()
    if tag in ("tuple", "set", "frozenset"):
        items = [_decode_value(v) for v in data["v"]]
        return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
    if tag == "dict":
        return {_decode_value(k): _decode_value(v) for k, v in data["v"]}
    raise GlueError(f"unknown stored value tag {tag!r}")


class ValueEncoder:
    """scrapbook encoder for plain Python values (tagged JSON)."""

    def name(self) -> str:
        return VALUE_ENCODER

    def encodable(self, data: Any) -> bool:
        try:
            _encode_value(data)
        except GlueError:
            return False
        return True

    def encode(self, scrap: Any, **kwargs: Any) -> Any:
        return scrap._replace(data={"value": _encode_value(scrap.data)})

    def decode(self, scrap: Any, **kwargs: Any) -> Any:
        return scrap._replace(data=_decode_value(scrap.data["value"]))


# ------------------------------------------------------------------- dataframes


def _frame_for_parquet(frame: Any) -> tuple[Any, list[str]]:
    """Parquet needs text column names and one type per column; say what changed."""
    import pyarrow as pa

    frame = frame.copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    stringified = []
    for column in [c for c in frame.columns if frame[c].dtype.kind == "O"]:
        try:
            pa.array(frame[column], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            # Mixed Python objects (dicts next to text, say): keep them readable as text.
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
            stringified.append(column)
    return frame, stringified


def _parquet_bytes(frame: Any) -> tuple[bytes, list[str]]:
    frame, stringified = _frame_for_parquet(frame)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow")
    return buffer.getvalue(), stringified


def _write_atomic(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


class FrameEncoder:
    """scrapbook encoder for DataFrames/Series as parquet, inline or in a sidecar."""

    def name(self) -> str:
        return FRAME_ENCODER

    def encodable(self, data: Any) -> bool:
        import pandas as pd

        return isinstance(data, (pd.DataFrame, pd.Series))

    def encode(self, scrap: Any, **kwargs: Any) -> Any:
        import pandas as pd

        value = scrap.data
        kind = "frame"
        if isinstance(value, pd.Series):
            kind = "series"
            value = value.to_frame(name=str(value.name) if value.name is not None else "0")
            series_name = scrap.data.name
        payload, stringified = _parquet_bytes(value)
        data: dict[str, Any] = {
            "kind": kind,
            "rows": len(value),
            "columns": [str(c) for c in value.columns],
            "stringified": stringified,
        }
        if kind == "series":
            data["series_name"] = _encode_value(series_name)
        run_dir = os.environ.get(RUN_DIR_ENV)
        if run_dir and len(payload) > INLINE_MAX_BYTES:
            relative = f"{SIDECAR_DIR}/{scrap.name}.parquet"
            _write_atomic(Path(run_dir) / relative, payload)
            data["sidecar"] = relative
        else:
            data["parquet"] = base64.b64encode(payload).decode("ascii")
        return scrap._replace(data=data)

    def decode(self, scrap: Any, **kwargs: Any) -> Any:
        import pandas as pd

        data = scrap.data
        if "sidecar" in data:
            base = _read_base.get()
            if base is None:
                raise GlueError(
                    f"scrap {scrap.name!r} is stored in {data['sidecar']}; read it with "
                    "nbcatalog.harvest.harvest(run_dir) so the run folder is known"
                )
            relative = Path(data["sidecar"])
            if relative.is_absolute() or ".." in relative.parts:
                raise GlueError(f"scrap {scrap.name!r}: sidecar path must stay in the run folder")
            folder, lazy = base
            sidecar = SidecarFrame(folder / relative, data)
            return scrap._replace(data=sidecar if lazy else sidecar.load())
        base = _read_base.get()
        if base is not None and base[1]:
            # Read lazily, an inline frame waits for first use too: most results of a
            # small run are never looked at, and each parquet decode costs a few ms.
            return scrap._replace(data=InlineFrame(scrap.name, data))
        frame = pd.read_parquet(io.BytesIO(base64.b64decode(data["parquet"])), engine="pyarrow")
        return scrap._replace(data=_restore_kind(frame, data))


def _restore_kind(frame: Any, data: dict[str, Any]) -> Any:
    """A Series glued as one: the frame's only column, with its name."""
    if data.get("kind") == "series":
        series = frame.iloc[:, 0]
        series.name = _decode_value(data.get("series_name"))
        return series
    return frame


class SidecarFrame:
    """A glued frame kept in a parquet sidecar, read the first time it is needed.

    `rows`, `columns` and `kind` come from the notebook's reference, without
    reading the file.

    Example:
        >>> ref = SidecarFrame(Path("run/data/big.parquet"), {"kind": "frame", "rows": 3,
        ...                    "columns": ["a"]})
        >>> ref.rows, ref.columns
        (3, ['a'])
    """

    def __init__(self, path: Path, reference: dict[str, Any]) -> None:
        self.path = path
        self.kind = reference.get("kind", "frame")
        self.rows = int(reference.get("rows", 0))
        self.columns = list(reference.get("columns", []))
        self._reference = reference

    def load(self) -> Any:
        """Read the sidecar: the DataFrame (or Series) the template glued."""
        import pandas as pd

        if not self.path.is_file():
            raise GlueError(f"result file {self.path} is missing (was the run folder moved?)")
        return _restore_kind(pd.read_parquet(self.path, engine="pyarrow"), self._reference)

    def __repr__(self) -> str:
        return f"<SidecarFrame {self.path.name}: {self.rows} rows, {len(self.columns)} columns>"


class InlineFrame(SidecarFrame):
    """A glued frame stored inline in the notebook, decoded the first time it is needed.

    Example:
        >>> InlineFrame("logons", {"kind": "frame", "rows": 0, "columns": []})
        <InlineFrame logons: 0 rows, 0 columns>
    """

    def __init__(self, name: str, reference: dict[str, Any]) -> None:
        super().__init__(Path(name), reference)
        self.name = name

    def load(self) -> Any:
        """Decode the parquet bytes: the DataFrame (or Series) the template glued."""
        import pandas as pd

        payload = base64.b64decode(self._reference["parquet"])
        frame = pd.read_parquet(io.BytesIO(payload), engine="pyarrow")
        return _restore_kind(frame, self._reference)

    def __repr__(self) -> str:
        return f"<InlineFrame {self.name}: {self.rows} rows, {len(self.columns)} columns>"


@contextlib.contextmanager
def reading_from(run_dir: str | os.PathLike, *, lazy: bool = False) -> Iterator[None]:
    """Resolve sidecar files against `run_dir` while reading scraps.

    With `lazy`, frames decode to `SidecarFrame` / `InlineFrame` references (read later).

    Example:
        >>> with reading_from("output/host_summary/20240501T000000Z-ab12cd"):  # doctest: +SKIP
        ...     scraps = scrapbook.read_notebook(".../notebook.ipynb").scraps
    """
    token = _read_base.set((Path(run_dir), lazy))
    try:
        yield
    finally:
        _read_base.reset(token)


def register_encoders() -> None:
    """Register our encoders with scrapbook (idempotent; done on import)."""
    registry.register(ValueEncoder())
    registry.register(FrameEncoder())


register_encoders()
