"""Sentinel / Log Analytics exports (CSV, JSON, Parquet, pandas pickle) of any table.

Column names are used as Sentinel writes them; the portal's CSV suffix
``TimeGenerated [UTC]`` is understood, a local-time export is refused (its zone is
unknown). msticpy query results (a projection of a table's columns) import the
same way.

Which table: `--table` if given; else the ``Type`` column Log Analytics adds
(rows are split by it; a row whose Type is empty goes to the table its columns
fit); else the one table that has the most of the file's columns. A tie or no
match is an error asking for `--table`.

A frame saved from a msticpy query carries msticpy's names for some columns
(AlertDisplayName, Severity, StartTimeUtc, SrcIP, ...): they count towards the
table they come from and are renamed back (`nbcatalog.data.columnmap`); the
report says which.

Columns the chosen table does not have are dropped, and the report lists them:
real exports carry many more columns than the store keeps, so refusing such files
would make most of them unimportable. But a file whose rows lack a column the
table cannot do without (`keycolumns`) is refused, naming it.

Example:
    >>> import pandas as pd
    >>> infer_table(["TimeGenerated", "Computer", "Account", "LogonType"])
    'SecurityEvent'
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd

from nbcatalog.data.columnmap import COMMON, Mapped, msticpy_names, to_sentinel
from nbcatalog.data.importers.batch import Batch
from nbcatalog.data.importers.coerce import is_null
from nbcatalog.data.importers.errors import (
    ImportFormatError,
    UnreadableFileError,
    UnusableFileError,
)
from nbcatalog.data.importers.keycolumns import missing_keys
from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.safe_pickle import UnsafePickleError, load_frame
from nbcatalog.data.importers.textio import iter_json_lines, iter_lines, open_binary, text_encoding
from nbcatalog.data.schema import TABLES

_COMMON = {"TenantId", "TimeGenerated", "SourceSystem"}
_SUFFIX = re.compile(r"^(?P<name>.*?)\s*\[(?P<zone>[^\]]*)\]$")
MAX_JSON_BYTES = 1 << 30


def known_tables() -> str:
    return ", ".join(sorted(TABLES))


def check_table(table: str) -> str:
    """Return `table` if the store has it; else ImportFormatError listing the known tables."""
    if table not in TABLES:
        raise ImportFormatError(f"unknown table {table!r}; known tables: {known_tables()}")
    return table


def infer_table(column_names: list[str]) -> str:
    """The one table having the most of these columns; ImportFormatError when ambiguous.

    msticpy's names for a table's columns count as that table's.
    """
    wanted = set(column_names) - _COMMON - set(COMMON) - {"Type"}
    scores = {
        name: len(wanted & (set(t.column_names) | msticpy_names(name)))
        for name, t in TABLES.items()
    }
    best = max(scores.values())
    tied = sorted(name for name, score in scores.items() if score == best)
    if best == 0:
        raise ImportFormatError(
            f"no supported table has the columns {', '.join(sorted(wanted)) or '(none)'}; "
            f"name the table with --table (known tables: {known_tables()})"
        )
    if len(tied) > 1:
        raise ImportFormatError(
            f"cannot tell the table from the columns {', '.join(sorted(wanted))}: "
            f"they fit {', '.join(tied)} equally; name it with --table"
        )
    return tied[0]


def normalise_columns(names: list[str]) -> list[str]:
    """Strip blanks and the portal's ' [UTC]' suffix; refuse local-time or duplicate columns."""
    out = []
    for raw in names:
        name = str(raw).strip().lstrip("\ufeff")
        match = _SUFFIX.match(name)
        if match:
            if match["zone"].strip().upper() != "UTC":
                raise ImportFormatError(
                    f"column {name!r} is not in UTC; export from Log Analytics with times in UTC"
                )
            name = match["name"]
        out.append(name)
    dupes = sorted({n for n in out if out.count(n) > 1})
    if dupes:
        raise ImportFormatError(f"duplicate column(s) {', '.join(dupes)}")
    return out


def read_csv(path: Path, report: FileReport, table: str | None) -> list[Batch]:
    """Read a Sentinel CSV export; rows with the wrong number of fields are rejected."""
    frame, where = csv_frame(path, report)
    _refuse_hunting_rows(list(frame.columns), "defender-csv", report)
    return split_by_table(frame, where, report, table)


def csv_frame(path: Path, report: FileReport) -> tuple[pd.DataFrame, list[int | None]]:
    """The rows of a CSV file (text values) and the line each row starts on.

    The header's names are normalised (`normalise_columns`); a row with the wrong
    number of fields, or malformed quoting, is rejected into `report` with its line.

    Example:
        >>> frame, lines = csv_frame(Path("SecurityEvent.csv"), report)  # doctest: +SKIP
        >>> lines[:2]                                                    # doctest: +SKIP
        [2, 3]
    """
    state = {"line": 0}

    def lines():
        for number, text in iter_lines(path, report):
            state["line"] = number
            yield text + "\n"

    reader = csv.reader(lines())
    header: list[str] | None = None
    records, where = [], []
    end_of_last = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.reject(end_of_last + 1, f"malformed CSV: {exc}")
            end_of_last = state["line"]
            continue
        start, end_of_last = end_of_last + 1, state["line"]
        if not any(f.strip() for f in fields):
            continue
        if header is None:
            header = normalise_columns(fields)
            continue
        if len(fields) != len(header):
            report.reject(start, f"expected {len(header)} fields, found {len(fields)}")
            continue
        records.append(dict(zip(header, fields, strict=True)))
        where.append(start)
    if header is None:
        return pd.DataFrame(), []
    return pd.DataFrame.from_records(records, columns=header), where


def read_json(path: Path, report: FileReport, table: str | None) -> list[Batch]:
    """Read a JSON export: an array of objects, or one object per line."""
    with open_binary(path) as fh:
        head = fh.read(4096)
    first = head.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00")[:1]
    if first == b"[":
        return _json_array(path, report, table)
    records, where = [], []
    for number, obj in iter_json_lines(path, report):
        if not isinstance(obj, dict):
            report.reject(number, f"expected a JSON object, found {type(obj).__name__}")
            continue
        records.append(obj)
        where.append(number)
    return _records_to_batches(records, where, report, table)


def _json_array(path: Path, report: FileReport, table: str | None) -> list[Batch]:
    items = load_json_document(path, report, "a JSON array")
    if not isinstance(items, list):
        raise UnreadableFileError(f"{path}: not a JSON array")
    records, where = [], []
    for number, obj in enumerate(items, start=1):
        if isinstance(obj, dict):
            records.append(obj)
            where.append(number)
        else:
            report.reject(number, f"item is a {type(obj).__name__}, not a JSON object")
    return _records_to_batches(records, where, report, table)


def load_json_document(path: Path, report: FileReport, what: str):
    """Parse a whole JSON file (at most MAX_JSON_BYTES); UnreadableFileError when it is not JSON.

    `what` names the expected document in errors ("a JSON array").

    Example:
        >>> load_json_document(Path("alerts.json"), report, "a JSON array")[:1]  # doctest: +SKIP
        [{'TimeGenerated': '2024-03-04T10:00:00Z', 'AlertName': 'x'}]
    """
    with open_binary(path) as fh:
        data = fh.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise UnreadableFileError(
            f"{path}: {what} over {MAX_JSON_BYTES} bytes; export as JSON lines instead"
        )
    encoding = text_encoding(data[:512])
    try:
        text = data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        report.warn("file is not valid UTF-8; read as Latin-1")
    try:
        return json.loads(text.lstrip("\ufeff"))
    except (ValueError, RecursionError) as exc:
        raise UnreadableFileError(f"{path}: not valid JSON ({what}): {exc}") from None


def _records_to_batches(records, where, report, table) -> list[Batch]:
    if not records:
        return []
    frame = records_frame(records)
    _refuse_hunting_rows(list(frame.columns), "defender-json", report)
    return split_by_table(frame, where, report, table)


def _refuse_hunting_rows(columns: list[str], fmt: str, report: FileReport) -> None:
    """Hand Defender advanced hunting rows (read as Sentinel's by --format) to `fmt`.

    Detection already sends them there; this is for a Sentinel format named by hand,
    which would otherwise fail on the TimeGenerated they do not have.
    """
    # Imported here: the defender module builds on this one.
    from nbcatalog.data.importers.defender import is_hunting_row

    if is_hunting_row(dict.fromkeys(columns)):
        raise ImportFormatError(
            f"{report.file}: rows with Timestamp and Defender device columns but no "
            "TimeGenerated are "
            f"Microsoft Defender advanced hunting results; import them with --format {fmt}"
        )


def records_frame(records: list[dict], first: list[str] | None = None) -> pd.DataFrame:
    """A frame of JSON objects, columns normalised: `first` names, then keys as met.

    >>> records_frame([{"b": 1}, {"a": 2}], first=["c"]).columns.tolist()
    ['c', 'b', 'a']
    """
    names: dict[str, None] = dict.fromkeys(first or [])
    for obj in records:
        names.update(dict.fromkeys(obj))
    raw = list(names)
    renamed = dict(zip(raw, normalise_columns(raw), strict=True))
    rows = [{renamed[k]: v for k, v in obj.items()} for obj in records]
    return pd.DataFrame.from_records(rows, columns=list(renamed.values()))


def read_parquet(path: Path, report: FileReport, table: str | None) -> list[Batch]:
    """Read a Parquet file of one table."""
    import pyarrow.parquet as pq

    try:
        frame = pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises many types for damaged files
        raise UnreadableFileError(f"{path}: not a readable Parquet file: {exc}") from None
    return _frame_batches(frame, report, table)


def read_pickle(path: Path, report: FileReport, table: str | None) -> list[Batch]:
    """Read a pandas pickle of one table, refusing pickles that would run code."""
    try:
        with open_binary(path) as fh:
            frame = load_frame(fh)
    except UnsafePickleError as exc:
        raise UnreadableFileError(f"{path}: {exc}") from None
    except Exception as exc:  # truncated or corrupt pickles raise many types
        raise UnreadableFileError(f"{path}: not a readable pandas pickle: {exc}") from None
    return _frame_batches(frame, report, table)


def _frame_batches(frame: pd.DataFrame, report: FileReport, table: str | None) -> list[Batch]:
    if isinstance(frame.columns, pd.MultiIndex):
        raise ImportFormatError("the DataFrame has multi-level columns; flatten them first")
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index(drop=not _named_index(frame))
    frame = frame.reset_index(drop=True)
    frame.columns = normalise_columns([str(c) for c in frame.columns])
    return split_by_table(frame, list(range(1, len(frame) + 1)), report, table)


def _named_index(frame: pd.DataFrame) -> bool:
    return any(name is not None for name in frame.index.names)


def split_by_table(
    frame: pd.DataFrame, lines: list[int | None], report: FileReport, table: str | None
) -> list[Batch]:
    """Choose the table(s) for a frame, map msticpy's names, drop (and list) other columns.

    Raises UnusableFileError when the rows for a table lack one of its key columns.
    """
    if frame.empty:
        return []
    if table is not None:
        groups = {check_table(table): list(range(len(frame)))}
    elif "Type" in frame.columns:
        groups = _groups_by_type(frame, lines, report)
    else:
        groups = {infer_table(list(frame.columns)): list(range(len(frame)))}
    batches = []
    for name, positions in groups.items():
        whole = len(positions) == len(frame)  # the usual case: no copy (a RangeIndex)
        part = frame if whole else frame.iloc[positions].reset_index(drop=True)
        part_lines = list(lines) if whole else [lines[p] for p in positions]
        mapped = to_sentinel(part, name)
        _report_mapping(report, name, mapped)
        if mapped.repeats:
            repeated = set(mapped.repeats)
            part_lines = [n for i, n in enumerate(part_lines) if i not in repeated]
        part = mapped.frame.reset_index(drop=True)
        keep = [c for c in part.columns if c in TABLES[name].column_names]
        extra = [str(c) for c in part.columns if c not in keep]
        if extra:
            report.columns_kept_out[name] = extra
            report.warn(
                f"dropped {len(extra)} column{'s' if len(extra) > 1 else ''} "
                f"not in {name}: {', '.join(extra)}"
            )
        if not keep:
            raise ImportFormatError(f"none of the file's columns belong to {name}")
        _check_keys(report, name, part[keep], extra)
        batches.append(Batch(name, part[keep], part_lines))
    return batches


def _report_mapping(report: FileReport, table: str, mapped: Mapped) -> None:
    if mapped.renamed:
        report.columns_renamed.setdefault(table, {}).update(mapped.renamed)
        pairs = ", ".join(f"{a} -> {b}" for a, b in mapped.renamed.items())
        report.note(f"msticpy column names mapped to {table}'s: {pairs}")
    for sentence in mapped.derived.values():
        report.note(sentence)
    if mapped.repeats:
        report.rows_duplicate += len(mapped.repeats)
        report.note(
            f"{len(mapped.repeats)} rows only repeated a flow once per external address "
            "(msticpy's mv-expand of AllExtIPs): stored once, counted as duplicates"
        )


def _check_keys(report: FileReport, table: str, rows: pd.DataFrame, dropped: list[str]) -> None:
    missing = missing_keys(table, rows)
    if not missing:
        return
    text = f"{report.file}: the rows for {table} lack columns it needs: {'; '.join(missing)}"
    if dropped:
        text += f". Dropped as not in {table}: {', '.join(dropped)}"
    raise UnusableFileError(
        text + f". Rename those columns to {table}'s names, or name the table with --table"
    )


def _groups_by_type(frame, lines, report) -> dict[str, list[int]]:
    """Rows by their Type; a row with an empty Type goes to the table the columns fit."""
    groups: dict[str, list[int]] = {}
    untyped: list[int] = []
    for pos, value in enumerate(frame["Type"].tolist()):
        name = "" if is_null(value) else str(value).strip()
        if not name:
            untyped.append(pos)
        elif name in TABLES:
            groups.setdefault(name, []).append(pos)
        else:
            report.reject(lines[pos], f"Type {name[:60]!r} is not a supported table")
    if untyped:
        try:
            fallback = infer_table(list(frame.columns))
        except ImportFormatError as exc:
            raise ImportFormatError(f"{len(untyped)} rows have an empty Type: {exc}") from None
        groups.setdefault(fallback, []).extend(untyped)
        groups[fallback].sort()
    return groups
