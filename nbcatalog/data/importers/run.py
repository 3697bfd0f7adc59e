"""One import call: check every file, then read and store them all in one transaction.

Order of work, so that a failure leaves the store exactly as it was:
1. every path is checked (exists, readable, format known) before the store is
   opened; a bad one raises and nothing is touched (a store file that did not
   exist is not even created);
2. inside a single transaction each file is read, its rows coerced to the
   schema, deduplicated against the ledger, and appended; any file that turns
   out unreadable rolls the whole call back;
3. a non-empty file from which no row was stored (every row rejected, none a
   duplicate of an earlier import) fails the call too, and is not recorded as
   imported: a wrong --format must not leave a file that a retry then skips.

Example:
    >>> report = import_paths(["auth.log"], db="/tmp/example.duckdb")  # doctest: +SKIP
    >>> print(report.summary())                                        # doctest: +SKIP
    auth.log [syslog]: read 120, stored 118 (Syslog 118), rejected 2, duplicates 0
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from nbcatalog.data.importers import ledger
from nbcatalog.data.importers.batch import Batch
from nbcatalog.data.importers.coerce import coerce_frame
from nbcatalog.data.importers.defender import read_hunting_csv, read_hunting_json
from nbcatalog.data.importers.detect import (
    accepted_formats,
    canonical_format,
    detect_format,
)
from nbcatalog.data.importers.errors import (
    ImportFormatError,
    UnreadableFileError,
    UnusableFileError,
)
from nbcatalog.data.importers.evtx import read_evtx
from nbcatalog.data.importers.report import SHOWN_REJECTIONS, FileReport, ImportReport
from nbcatalog.data.importers.sentinel import (
    check_table,
    read_csv,
    read_json,
    read_parquet,
    read_pickle,
)
from nbcatalog.data.importers.syslog import read_syslog
from nbcatalog.data.importers.textio import HEAD_BYTES, read_head
from nbcatalog.data.importers.winjson import read_windows_json
from nbcatalog.data.importers.zeek import read_zeek
from nbcatalog.data.store import CLUSTER_KEYS, Store, default_db_path

Reader = Callable[[Path, FileReport, "str | None"], list[Batch]]
READERS: dict[str, Reader] = {
    "sentinel-csv": read_csv,
    "sentinel-json": read_json,
    "sentinel-parquet": read_parquet,
    "sentinel-pickle": read_pickle,
    "defender-csv": read_hunting_csv,
    "defender-json": read_hunting_json,
    "evtx": read_evtx,
    "windows-json": read_windows_json,
    "syslog": read_syslog,
    "zeek": read_zeek,
}
TABLE_FORMATS = {
    "sentinel-csv",
    "sentinel-json",
    "sentinel-parquet",
    "sentinel-pickle",
    "defender-csv",
    "defender-json",
}


@dataclass(frozen=True)
class PlannedFile:
    """A file that passed the checks: its path and the format that will read it."""

    path: Path
    format: str
    empty: bool


def plan(paths: Iterable[str | os.PathLike], fmt: str | None = None, table: str | None = None):
    """Check every path and settle its format, before anything is written.

    Directories stand for the regular files under them (hidden ones skipped).
    Raises ImportFormatError (bad usage: unknown format/table) or UnreadableFileError.
    """
    forced = canonical_format(fmt) if fmt else None
    if table is not None:
        check_table(table)
        if forced and forced not in TABLE_FORMATS:
            raise ImportFormatError(
                f"--table applies to Sentinel and Defender exports only; "
                f"{forced} chooses its own tables"
            )
    planned = []
    for path in _expand(paths):
        try:
            head = read_head(path)
        except OSError as exc:
            raise UnreadableFileError(f"cannot read {path}: {exc.strerror or exc}") from None
        if _blank(head):
            planned.append(PlannedFile(path, forced or "empty", True))
            continue
        found = forced or detect_format(path, head)
        if found is None:
            raise ImportFormatError(
                f"cannot tell the format of {path}; name it with --format. "
                f"Accepted formats:\n{accepted_formats()}"
            )
        if table is not None and found not in TABLE_FORMATS:
            raise ImportFormatError(
                f"--table applies to Sentinel and Defender exports only; {path} is {found}, "
                "which chooses its own tables"
            )
        planned.append(PlannedFile(path, found, False))
    if not planned:
        raise ImportFormatError("no files to import")
    return planned


def _blank(head: bytes) -> bool:
    """True for a file holding nothing but blanks, line ends or a byte-order mark."""
    return len(head) < HEAD_BYTES and not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe")


def _expand(paths: Iterable[str | os.PathLike]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.exists() and not path.is_file():
            raise UnreadableFileError(f"cannot read {path}: not a regular file")
        else:
            out.append(path)
    return out


def import_paths(
    paths: Iterable[str | os.PathLike],
    *,
    db: str | os.PathLike | None = None,
    format: str | None = None,  # noqa: A002 - mirrors the --format option
    table: str | None = None,
) -> ImportReport:
    """Import log files into the store at `db` (default store if None) in one transaction.

    Example: ``import_paths(["Security.evtx", "auth.log"], db="case.duckdb")``.
    """
    planned = plan(paths, format, table)
    db_path = Path(db) if db is not None else default_db_path()
    created = not db_path.exists()
    try:
        with _open_store(db_path) as store:
            with store.transaction() as con:
                ledger.ensure_tables(con)
                return ImportReport([_import_file(store, f, table) for f in planned])
    except BaseException:
        if created:  # leave no trace of a store this failed call created
            for leftover in (db_path, db_path.with_name(db_path.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise


def _open_store(db_path: Path) -> Store:
    try:
        return Store.open(db_path)
    except (duckdb.Error, OSError) as exc:  # locked by another process, not a DuckDB file, …
        raise UnreadableFileError(f"cannot open the store {db_path}: {exc}") from None


def _import_file(store: Store, planned: PlannedFile, table: str | None) -> FileReport:
    report = FileReport(str(planned.path), planned.format)
    if planned.empty:
        report.warn("empty file: nothing to import")
        return report
    try:
        sha = ledger.file_sha256(planned.path)
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {planned.path}: {exc.strerror or exc}") from None
    earlier = ledger.earlier_import(store.con, sha)
    if earlier:
        report.already_imported = earlier
        return report
    try:
        batches = READERS[planned.format](planned.path, report, table)
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {planned.path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{planned.path}: cannot decode text: {exc}") from None
    # Readers count the rows they reject or collapse as repeats; the rest are in batches.
    report.rows_read = (
        report.rows_rejected + report.rows_duplicate + sum(len(b.frame) for b in batches)
    )
    repeats_in_file = report.rows_duplicate
    for batch in batches:
        _store_batch(store, batch, report)
    if not report.rows_stored and report.rows_duplicate == repeats_in_file:
        _nothing_stored(report)  # neither stored nor already in the store
        return report  # a file without rows: not recorded, nothing to skip next time
    ledger.record_file(
        store.con,
        sha,
        str(planned.path),
        planned.format,
        report.tables,
        report.rows_stored,
        report.rows_rejected,
    )
    return report


def _clustered(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` in the store's order for `table` (CLUSTER_KEYS: entity, then time).

    As in the demo store, a host's or user's rows then lie together, so DuckDB's
    zone maps skip the other row groups of this import. The sort is stable: rows
    of one entity at the same time keep the file's order (a syslog "last message
    repeated" line stays after the line it repeats).

    Example:
        >>> f = pd.DataFrame({"Computer": ["b", "a", "b"], "TimeGenerated": [2, 1, 1]})
        >>> _clustered("Syslog", f).values.tolist()
        [['a', 1], ['b', 1], ['b', 2]]
    """
    keys = [k for k in CLUSTER_KEYS.get(table, ()) if k in frame.columns]
    if not keys or len(frame) < 2:
        return frame
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def _nothing_stored(report: FileReport) -> None:
    """Fail the call for a file whose rows were all rejected; warn for one without rows."""
    if not report.rows_read:
        report.warn("the file holds no rows (a header only?): nothing to import")
        return
    reasons = "\n".join(f"  {r}" for r in report.rejections[:SHOWN_REJECTIONS])
    more = report.rows_rejected - min(len(report.rejections), SHOWN_REJECTIONS)
    if more > 0:
        reasons += f"\n  ... and {more} more"
    raise UnusableFileError(
        f"{report.file} [{report.format}]: nothing stored: all {report.rows_rejected} rows "
        f"were rejected. The first reasons:\n{reasons}\n"
        "The file was not recorded as imported: fix it, or name its format (--format) "
        "or table (--table), and import it again."
    )


def _store_batch(store: Store, batch: Batch, report: FileReport) -> None:
    frame, bad = coerce_frame(batch.table, batch.frame)
    # Every Sentinel row has a time; a row without one could never be found by a query.
    times = frame["TimeGenerated"] if "TimeGenerated" in frame else pd.Series([pd.NaT] * len(frame))
    for pos in (p for p, missing in enumerate(times.isna().tolist()) if missing):
        bad.setdefault(pos, "no TimeGenerated (every Sentinel row has one)")
    for pos in sorted(bad):
        report.reject(batch.lines[pos], bad[pos])
    good = [pos for pos in range(len(frame)) if pos not in bad]
    frame = _clustered(batch.table, frame.iloc[good].reset_index(drop=True))
    keys = ledger.row_keys(batch.table, frame)
    known = ledger.known_keys(store.con, batch.table, keys)
    if known:
        fresh = [i for i, k in enumerate(keys) if k not in known]
        report.rows_duplicate += len(keys) - len(fresh)
        frame = frame.iloc[fresh].reset_index(drop=True)
        keys = [keys[i] for i in fresh]
    stored = store.append(batch.table, frame)
    ledger.record_keys(store.con, batch.table, keys)
    report.rows_stored += stored
    if stored:
        report.tables[batch.table] = report.tables.get(batch.table, 0) + stored
