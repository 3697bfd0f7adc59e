"""A run's full result frames as files beside its report, and as rows for its tables.

Every DataFrame (or Series) a template glued is written to the run folder as
``data/<name>.csv`` and ``data/<name>.parquet``: the report's tables and the links
under them point there, so the rows a table cut are one click away. A parquet
sidecar the glue step already wrote (big frames) is kept as it is.

CSV cells are what a spreadsheet will open, and log fields are written by
attackers: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (and not a plain number) gets a leading ``'`` so Excel or LibreOffice shows
it instead of running it as a formula. The parquet file keeps the exact values.

Example:
    >>> import pandas as pd, tempfile
    >>> files = export_frames({"logons": pd.DataFrame({"a": ["=cmd|' /C calc'!A0"]})},
    ...                       tempfile.mkdtemp())
    >>> files["logons"].csv, files["logons"].rows
    ('data/logons.csv', 1)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nbcatalog.runfolder import write_bytes, write_text

DATA_DIR = "data"
# Rows of one table carried inside a report; past this the table says so and links the file.
MAX_INLINE_ROWS = 50_000
# Characters of one cell carried inside a report (the files have the whole value).
MAX_CELL_CHARS = 1_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class DataFile:
    """The files of one exported result, relative to the run folder, and its row count."""

    name: str
    rows: int
    csv: str | None
    parquet: str | None


def as_frame(value: Any) -> pd.DataFrame | None:
    """`value` as a DataFrame when it is one (or a Series), else None.

    Example:
        >>> as_frame(pd.Series([1], name="n")).columns.tolist(), as_frame(3)
        (['n'], None)
    """
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, pd.Series):
        return value.to_frame(name=str(value.name) if value.name is not None else "value")
    return None


def _defuse(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """`frame` as CSV text with formula-like text cells defused (see the module doc).

    Example:
        >>> csv_text(pd.DataFrame({"v": ["=1+1", "-5", "ok"]})).splitlines()
        ['v', "'=1+1", '-5', 'ok']
    """
    safe = frame.copy(deep=False)
    safe.columns = [_defuse(str(c)) for c in safe.columns]
    for column in safe.columns:
        if safe[column].dtype.kind == "O":
            safe[column] = safe[column].map(_defuse)
    return safe.to_csv(index=False)


def export_frames(frames: Mapping[str, Any], run_dir: str | Path) -> dict[str, DataFile]:
    """Write each frame in `frames` as ``data/<name>.csv`` and ``.parquet`` under `run_dir`.

    Values that are not frames are skipped; a parquet file already there (the glue
    step's sidecar of the same frame) is kept. Returns what was written, by name.

    Example:
        >>> export_frames({"n": 3}, "/tmp")
        {}
    """
    from nbcatalog.scraps import _frame_for_parquet

    folder = Path(run_dir) / DATA_DIR
    written: dict[str, DataFile] = {}
    for name, value in frames.items():
        frame = as_frame(value)
        if frame is None or not _SAFE_NAME.fullmatch(str(name)):
            continue
        csv_rel = f"{DATA_DIR}/{name}.csv"
        parquet_rel: str | None = f"{DATA_DIR}/{name}.parquet"
        write_text(folder / f"{name}.csv", csv_text(frame))
        parquet_path = folder / f"{name}.parquet"
        if not parquet_path.exists():
            try:
                clean, _ = _frame_for_parquet(frame)
                write_bytes(parquet_path, clean.to_parquet(engine="pyarrow"))
            except Exception:  # a column pyarrow cannot store: the CSV still has it
                parquet_rel = None
        written[str(name)] = DataFile(str(name), len(frame), csv_rel, parquet_rel)
    return written


def cell_text(value: Any) -> str:
    """One cell as the report shows it (the tables' own formatting), cut at MAX_CELL_CHARS.

    Example:
        >>> cell_text(pd.Timestamp("2024-05-01 10:00", tz="UTC")), cell_text(None)
        ('2024-05-01 10:00:00', '')
    """
    from nbcatalog.nblib.tables import format_value

    text = format_value(value)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + " …"


def table_rows(frame: pd.DataFrame, columns: list[str], limit: int | None = None) -> list:
    """The first `limit` (default MAX_INLINE_ROWS) rows of `frame`'s `columns`, as text.

    Example:
        >>> table_rows(pd.DataFrame({"a": [1, 2], "b": ["x", None]}), ["b"])
        [['x'], ['']]
    """
    part = frame.loc[:, columns].head(MAX_INLINE_ROWS if limit is None else limit)
    return [[cell_text(v) for v in row] for row in part.itertuples(index=False, name=None)]
