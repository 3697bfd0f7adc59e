"""The embedded DuckDB store: one file holding Sentinel-named tables.

The store owns the schema and the safe ways in and out of the file; querying by
name lives in `source.py`, filling the store in `demo.py` and `importers/`.

Example:
    >>> from nbcatalog.data.store import Store
    >>> with Store.open("/tmp/example.duckdb") as store:
    ...     store.table_stats()["SecurityEvent"].rows
    0
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from nbcatalog.data.schema import TABLES, columns

DB_ENV = "NBCATALOG_DB"

# The order big tables are stored in: by the entity notebooklets look up, then time.
# DuckDB keeps min/max per column per row group (zone maps), so a host's rows sorted
# together are read from its own row groups instead of from every row group.
CLUSTER_KEYS: dict[str, tuple[str, ...]] = {
    "SecurityEvent": ("Computer", "TimeGenerated"),
    "Event": ("Computer", "TimeGenerated"),
    "Syslog": ("Computer", "TimeGenerated"),
    "Heartbeat": ("Computer", "TimeGenerated"),
    "AzureNetworkAnalytics_CL": ("VM_s", "TimeGenerated"),
    "SigninLogs": ("UserPrincipalName", "TimeGenerated"),
    "OfficeActivity": ("UserId", "TimeGenerated"),
    "AzureActivity": ("Caller", "TimeGenerated"),
    # Defender's busiest device table on an MDE estate: host_summary reads one device's.
    "DeviceProcessEvents": ("DeviceName", "TimeGenerated"),
    # host_logons_summary reads one device's logons (a brute force adds many rows).
    "DeviceLogonEvents": ("DeviceName", "TimeGenerated"),
}


def default_db_path() -> Path:
    """Where the store lives when nothing names it: `$NBCATALOG_DB`, else the user data dir."""
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nbcatalog" / "nbcatalog.duckdb"


@dataclass(frozen=True)
class TableStats:
    """Row count and time range of one table."""

    table: str
    rows: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None


class Store:
    """An open DuckDB store file with every Sentinel table created.

    Use `Store.open(path)` as a context manager. Writes go through `append`, which
    aligns a DataFrame to the table's columns (missing columns become NULL, unknown
    ones are an error) and converts timestamps to UTC.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None):
        self.con = con
        self.path = path
        # Frames come back tz-aware in UTC, whatever the machine's zone is.
        con.execute("SET TimeZone = 'UTC'")

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, read_only: bool = False) -> Store:
        """Open (and create, unless read-only) the store at `path` or the default path."""
        db = Path(path) if path is not None else default_db_path()
        if read_only:
            if not db.exists():
                raise FileNotFoundError(
                    f"no data store at {db}; build one with `nbcatalog data demo` "
                    f"or `nbcatalog data import`, or set {DB_ENV}"
                )
            return cls(duckdb.connect(str(db), read_only=True), db)
        db.parent.mkdir(parents=True, exist_ok=True)
        store = cls(duckdb.connect(str(db)), db)
        store.create_schema()
        return store

    @classmethod
    def in_memory(cls) -> Store:
        """A throw-away store (tests, previews)."""
        store = cls(duckdb.connect(":memory:"), None)
        store.create_schema()
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def create_schema(self) -> None:
        """Create every known table that does not exist yet."""
        for table in TABLES.values():
            self.con.execute(table.ddl())

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing writes: an exception rolls back everything done inside."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def append(self, table: str, frame: pd.DataFrame) -> int:
        """Append `frame` to `table`; returns the number of rows written.

        Columns are matched by name; absent ones are stored as NULL. A column the
        table does not have is a ValueError naming it, so nothing is dropped silently.
        """
        cols = columns(table)
        unknown = [c for c in frame.columns if c not in cols]
        if unknown:
            raise ValueError(
                f"{table} has no column(s) {', '.join(map(str, unknown))}; "
                f"its columns are: {', '.join(cols)}"
            )
        if frame.empty:
            return 0
        aligned = frame.reindex(columns=cols)
        for name, typ in TABLES[table].columns:
            if typ == "TIMESTAMPTZ":
                aligned[name] = pd.to_datetime(aligned[name], utc=True, errors="raise")
        self.con.register("_nbcatalog_incoming", aligned)
        try:
            # Table name comes from the schema module, never from data.
            self.con.execute(f'INSERT INTO "{table}" SELECT * FROM _nbcatalog_incoming')  # noqa: S608
        finally:
            self.con.unregister("_nbcatalog_incoming")
        return len(aligned)

    def append_store(self, other: str | os.PathLike) -> dict[str, int]:
        """Append every table of the store file `other` to this store's tables, as is.

        Returns the rows appended per table.

        Example:
            >>> with Store.open("/tmp/a.duckdb") as store:            # doctest: +SKIP
            ...     store.append_store("/tmp/b.duckdb")["Syslog"]
            11552
        """
        done = {}
        path = str(Path(other)).replace("'", "''")  # a quoted literal, never SQL text
        self.con.execute(f"ATTACH '{path}' AS _nbcatalog_add (READ_ONLY)")
        try:
            with self.transaction() as con:
                for table in TABLES:
                    # Names come from the schema module, never from data.
                    done[table] = con.execute(
                        f'INSERT INTO "{table}" SELECT * FROM _nbcatalog_add."{table}"'  # noqa: S608
                    ).fetchone()[0]
        finally:
            self.con.execute("DETACH _nbcatalog_add")
        return done

    def copy_sorted(self, other: str | os.PathLike) -> dict[str, int]:
        """Copy every table of the store file `other` into this one, big tables sorted.

        Tables in CLUSTER_KEYS are inserted `ORDER BY entity, time, rowid`, so look-ups of
        one host or user read only its row groups; others keep their order. Copying
        into a fresh file (rather than sorting in place) leaves no freed pages
        behind, so the file is no larger than an unsorted one. Returns rows per table.

        Example:
            >>> with Store.open("/tmp/sorted.duckdb") as store:        # doctest: +SKIP
            ...     store.copy_sorted("/tmp/unsorted.duckdb")["SecurityEvent"]
            102895
        """
        done = {}
        # The path is bound by DuckDB's own quoting rules: a literal, not SQL text.
        path = str(Path(other)).replace("'", "''")
        self.con.execute(f"ATTACH '{path}' AS _nbcatalog_src (READ_ONLY)")
        try:
            with self.transaction() as con:
                for table in TABLES:
                    keys = CLUSTER_KEYS.get(table)
                    # rowid last: rows of one entity and time keep their order (DuckDB's
                    # sort is not stable; a syslog repeat marker must follow its line).
                    order = (
                        " ORDER BY " + ", ".join(f'"{k}" NULLS LAST' for k in keys) + ", rowid"
                        if keys
                        else ""
                    )
                    # Names come from the schema module, never from data.
                    con.execute(
                        f'INSERT INTO "{table}" SELECT * FROM _nbcatalog_src."{table}"{order}'  # noqa: S608
                    )
                    done[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
        finally:
            self.con.execute("DETACH _nbcatalog_src")
        return done

    def table_stats(self) -> dict[str, TableStats]:
        """Row count and first/last TimeGenerated of every table.

        A table the file does not have (a store written by an older version, opened
        read-only) counts as empty rather than failing.
        """
        present = {
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_catalog = current_database()"
            ).fetchall()
        }
        stats = {}
        for name, table in TABLES.items():
            if name not in present:
                stats[name] = TableStats(name, 0, None, None)
                continue
            tc = table.time_column
            rows, first, last = self.con.execute(
                f'SELECT count(*), min("{tc}"), max("{tc}") FROM "{name}"'  # noqa: S608
            ).fetchone()
            stats[name] = TableStats(
                name,
                int(rows),
                pd.Timestamp(first).tz_convert("UTC") if first is not None else None,
                pd.Timestamp(last).tz_convert("UTC") if last is not None else None,
            )
        return stats
