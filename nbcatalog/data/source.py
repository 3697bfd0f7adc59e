"""Data sources: one interface over the embedded DuckDB store and msticpy's QueryProvider.

Templates get their data only through `connect(spec).query(name, **params)`, with
msticpy's Microsoft Sentinel query names and parameter names, so the same template runs
on the embedded store and on a real workspace.

Spec forms:
    `duckdb:PATH`             the embedded store file at PATH (opened read-only)
    `msticpy:<Environment>`   msticpy's QueryProvider, e.g. `msticpy:MSSentinel`,
                              `msticpy:LocalData`; connection settings come from
                              msticpyconfig.yaml / the environment, never from the spec
    None or ""                the embedded store at `default_db_path()` (`$NBCATALOG_DB`)

Example:
    >>> from nbcatalog.data import connect
    >>> src = connect("duckdb:/tmp/demo.duckdb")                        # doctest: +SKIP
    >>> src.query("WindowsSecurity.list_host_logons", host_name="WKSTN-042",
    ...           start="2024-05-01", end="2024-05-08")                 # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from nbcatalog.data import kql
from nbcatalog.data.querylib import (
    QueryLibrary,
    find_query,
    load_library,
    resolve_parameters,
    to_utc_timestamp,
)
from nbcatalog.data.store import DB_ENV, Store, default_db_path
from nbcatalog.errors import DataSourceError

SPEC_FORMS = (
    "duckdb:PATH (the embedded store file)",
    "msticpy:<DataEnvironment> (e.g. msticpy:MSSentinel, msticpy:LocalData)",
    "empty / None (the embedded store at $NBCATALOG_DB or the user data directory)",
)


# Tables are always written quoted in the query library (`FROM "SecurityEvent"`).
_TABLE_REF = re.compile(r'\b(?:FROM|JOIN)\s+"([A-Za-z_]\w*)"', re.IGNORECASE)
_MACRO_NAME = re.compile(r"\bMACRO\s+([A-Za-z_]\w*)", re.IGNORECASE)
# The runner sets this in the kernel of every notebooklet run (nbcatalog.scraps).
KEEP_OPEN_ENV = "NBCATALOG_RUN_DIR"
KEEP_IDLE = 2.0  # seconds a run's shared store connection stays open after its last use


def macro_tables(macros: Sequence[str]) -> dict[str, frozenset[str]]:
    """The tables each SQL macro reads, directly or through the macros it calls.

    A table macro is bound when it is created, so one reading a missing table cannot
    be created at all; knowing what each reads lets the others be created anyway.

    Example:
        >>> macro_tables(['CREATE MACRO a() AS TABLE SELECT * FROM "Syslog"',
        ...               "CREATE MACRO b() AS TABLE SELECT * FROM a()"])["b"]
        frozenset({'Syslog'})
    """
    found: dict[str, frozenset[str]] = {}
    for sql in macros:
        match = _MACRO_NAME.search(sql)
        if match:
            found[match.group(1)] = tables_read(sql, found)
    return found


def tables_read(sql: str, macros: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """The tables `sql` reads: quoted `FROM`/`JOIN` names plus those of the macros it calls.

    Example:
        >>> sorted(tables_read('SELECT * FROM alerts() JOIN "Heartbeat" USING (Computer)',
        ...                    {"alerts": frozenset({"SecurityAlert"})}))
        ['Heartbeat', 'SecurityAlert']
    """
    tables = set(_TABLE_REF.findall(sql))
    for name, needs in macros.items():
        if needs and re.search(rf"\b{re.escape(name)}\s*\(", sql):
            tables |= needs
    return frozenset(tables)


def missing_table_message(what: str, missing: Sequence[str], path: Path, present) -> str:
    """Say which tables `what` needs that the store lacks (wording nblib.queries recognises)."""
    names = ", ".join(sorted(missing))
    first = sorted(missing)[0]
    have = ", ".join(sorted(present)) or "none"
    return (
        f"{what} cannot run: Table with name {first} does not exist in {path} "
        f"(missing: {names}; the store has: {have}). Load that data with "
        f"`nbcatalog data import PATH... --db {path}`"
    )


class DataSource(ABC):
    """Where a template's data comes from; see `connect`."""

    spec: str

    @abstractmethod
    def query(self, name: str, **params: Any) -> pd.DataFrame:
        """Run the named query (msticpy's Sentinel name, e.g. `WindowsSecurity.list_host_logons`).

        `start`/`end` accept datetimes or ISO-8601 text; the result columns are those of
        msticpy's Sentinel query of the same name.
        """

    @abstractmethod
    def tables(self) -> list[str]:
        """The tables this source can read."""

    @abstractmethod
    def list_queries(self) -> pd.DataFrame:
        """The queries this source serves: columns name, description, parameters."""

    def has_table(self, name: str) -> bool:
        """Whether `name` is one of `tables()`."""
        return name in self.tables()

    def sql(self, text: str, params: Mapping[str, Any] | Sequence[Any] | None = None):
        """Run SQL in the store (embedded DuckDB store only)."""
        raise DataSourceError(
            f"{self.spec} does not run SQL; sql() works on the embedded store (duckdb:PATH)"
        )

    def close(self) -> None:  # noqa: B027 - optional hook, most sources hold nothing
        """Release what the source holds (nothing by default)."""

    def __enter__(self) -> DataSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"


class _KeptConnection:
    """One read-only connection to a store, shared by a run's sources, closed when idle.

    Opening a connection and defining the query macros costs about 30 ms, and a
    summary template makes a dozen or more calls. Inside a notebooklet run the
    calls share this connection; it closes `KEEP_IDLE` seconds after its last use
    (and when the pool resets the kernel), so a writer is never blocked for long.
    DuckDB allows one configuration per file and process: every source of the run
    must use this connection rather than open its own while it is open.
    """

    def __init__(self, key: str, store: Store, present: dict[str, str], library: Any):
        self.key = key
        self.store: Store | None = store
        self.present = present
        self.library = library
        self.lock = threading.RLock()
        self.last_used = time.monotonic()
        self.timer: threading.Timer | None = None

    def _arm(self, delay: float) -> None:
        self.timer = threading.Timer(delay, self._close_if_idle)
        self.timer.daemon = True
        self.timer.start()

    def release(self) -> None:
        """Mark a use finished; the idle timer starts if it is not running."""
        self.last_used = time.monotonic()
        if self.timer is None:
            self._arm(KEEP_IDLE)

    def _close_if_idle(self) -> None:
        with self.lock:
            self.timer = None
            left = KEEP_IDLE - (time.monotonic() - self.last_used)
            if self.store is not None and left > 0.01:
                self._arm(left)
                return
            self.close()

    def close(self) -> None:
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            with _kept_lock:
                if _kept.get(self.key) is self:
                    del _kept[self.key]
            if self.store is not None:
                self.store.close()
                self.store = None


_kept: dict[str, _KeptConnection] = {}
_kept_lock = threading.Lock()


def close_kept_connections() -> None:
    """Close the store connections kept open for a run (the pool calls this on reset).

    Example:
        >>> close_kept_connections()
    """
    with _kept_lock:
        entries = list(_kept.values())
    for entry in entries:
        entry.close()


class DuckDBSource(DataSource):
    """The embedded store, read-only: many kernels can read one file at once.

    Outside a notebooklet run a connection is opened for each call and closed after
    it, so a source held by an idle notebook never blocks `nbcatalog data import` or
    `data demo` from writing. Inside a run (``$NBCATALOG_RUN_DIR`` set) the run's
    calls share one connection that closes after `KEEP_IDLE` seconds unused.
    Every value reaches DuckDB as a bound parameter, never as SQL text.
    """

    def __init__(self, path: str | os.PathLike, library: QueryLibrary | None = None):
        self.path = Path(path).expanduser()
        self.spec = f"duckdb:{self.path}"
        self.library = library or load_library()
        self._session: duckdb.DuckDBPyConnection | None = None
        self._macro_tables = macro_tables(self.library.macros)
        # Tables (lower-cased) of the file as of the last connection opened; a store
        # written by another tool or an older version may lack some.
        self._present: dict[str, str] = {}
        if not self.path.is_file():
            raise DataSourceError(
                f"no data store at {self.path}; build the demo store with "
                f"`nbcatalog data demo --db {self.path}` or load your logs with "
                f"`nbcatalog data import PATH... --db {self.path}` "
                f"(the default store is ${DB_ENV} or {default_db_path()})"
            )

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection with the query library's SQL macros defined.

        Macros reading a table the file lacks are left out (queries needing them say
        which table is missing). Inside `session()` this is the session's connection;
        otherwise a new one that is closed on leaving the block.
        """
        if self._session is not None:
            yield self._session
            return
        if os.environ.get(KEEP_OPEN_ENV):
            kept = self._kept()
            if kept is not None:
                try:
                    yield kept.store.con
                finally:
                    kept.release()
                    kept.lock.release()
                return
        store = self._open()
        try:
            yield store.con
        finally:
            store.close()

    def _kept(self) -> _KeptConnection | None:
        """The run's shared connection to this store, locked for this thread; None if
        it was opened for another query library (then each call opens its own)."""
        key = str(self.path.resolve())
        while True:
            with _kept_lock:
                kept = _kept.get(key)
                if kept is None:
                    kept = _KeptConnection(key, self._open(), self._present, self.library)
                    _kept[key] = kept
            if kept.library is not self.library:
                return None
            kept.lock.acquire()
            if kept.store is not None:
                self._present = kept.present
                return kept
            kept.lock.release()  # closed for idleness meanwhile: open a new one

    def _open(self) -> Store:
        """A new read-only connection with the macros defined and configuration locked."""
        try:
            store = Store.open(self.path, read_only=True)
        except duckdb.Error as exc:
            raise DataSourceError(f"cannot open the store {self.path}: {exc}") from exc
        try:
            self._present = {t.lower(): t for t in _table_names(store.con)}
            for macro in self.library.macros:
                name = _MACRO_NAME.search(macro)
                if name and self._absent(self._macro_tables.get(name.group(1), frozenset())):
                    continue
                store.con.execute(macro)
            # Queries read the store and nothing else: no files, no extensions, and
            # no way to turn that back on from SQL.
            store.con.execute("SET enable_external_access = false")
            store.con.execute("SET lock_configuration = true")
        except BaseException:
            store.close()
            raise
        return store

    @contextmanager
    def session(self) -> Iterator[DuckDBSource]:
        """Keep one connection open for several queries (saves ~30 ms of opening each).

        Example:
            >>> with src.session():                                      # doctest: +SKIP
            ...     logons = src.query("WindowsSecurity.list_host_logons", host_name="h")
            ...     procs = src.query("WindowsSecurity.list_host_processes", host_name="h")
        """
        if self._session is not None:
            yield self
            return
        with self.connection() as con:
            self._session = con
            try:
                yield self
            finally:
                self._session = None

    def _absent(self, tables: frozenset[str]) -> list[str]:
        return sorted(t for t in tables if t.lower() not in self._present)

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        q = find_query(self.library, name)
        values = resolve_parameters(q, params)
        bound = {k: values[k] for k in q.placeholders}
        with self.connection() as con:
            missing = self._absent(tables_read(q.sql, self._macro_tables))
            if missing:
                raise DataSourceError(
                    missing_table_message(name, missing, self.path, self._present.values())
                )
            try:
                frame = con.execute(q.sql, bound).df()
            except duckdb.Error as exc:
                raise DataSourceError(f"{name} failed on {self.path}: {exc}") from exc
        if tuple(frame.columns) != q.columns:
            lacking = [c for c in q.columns if c not in frame.columns]
            if lacking and set(frame.columns) <= set(q.columns):
                # `SELECT *` on a table another tool created with fewer columns.
                raise DataSourceError(
                    f"{name} cannot run on {self.path}: its tables lack the column(s) "
                    f"{', '.join(lacking)} that Sentinel's have"
                )
            # A library bug, not a user error: say exactly what differs.
            raise AssertionError(
                f"{name} returned columns {list(frame.columns)}, declared {list(q.columns)}"
            )
        return frame

    def sql(
        self, text: str, params: Mapping[str, Any] | Sequence[Any] | None = None
    ) -> pd.DataFrame:
        """Run `text` read-only with bound `params` (`$name` with a dict, `?` with a list).

        The query library's macros (`kql_has`, ...) are available. Example:
            >>> src.sql('SELECT Computer, count(*) AS n FROM "SecurityEvent" '
            ...         'WHERE EventID = $id GROUP BY Computer', {"id": 4625})  # doctest: +SKIP
        """
        with self.connection() as con:
            try:
                return con.execute(text, params if params is not None else []).df()
            except duckdb.Error as exc:
                missing = self._absent(tables_read(text, self._macro_tables))
                if missing:  # a macro left out for a missing table: name the table
                    message = missing_table_message(
                        "this SQL", missing, self.path, self._present.values()
                    )
                    raise DataSourceError(f"{message}: {exc}") from exc
                raise DataSourceError(f"SQL failed on {self.path}: {exc}") from exc

    def tables(self) -> list[str]:
        with self.connection() as con:
            return _table_names(con)

    def list_queries(self) -> pd.DataFrame:
        rows = [
            {
                "name": q.full_name,
                "description": q.description,
                "parameters": q.parameter_summary(),
            }
            for q in (self.library[n] for n in self.library.names())
        ]
        return pd.DataFrame(rows, columns=["name", "description", "parameters"])


def is_embedded_store(source: object) -> bool:
    """Whether `source` is the embedded DuckDB store, the one source that runs SQL.

    Use this, not "has a `sql` method", to choose between store-only SQL and the
    named queries: every `DataSource` has `sql`, and msticpy's only raises, so a
    duck-typed test sends a Sentinel workspace down the SQL path.

    Example:
        >>> import tempfile
        >>> from nbcatalog.data.store import Store
        >>> db = Path(tempfile.mkdtemp()) / "store.duckdb"
        >>> Store.open(db).close()
        >>> is_embedded_store(DuckDBSource(db)), is_embedded_store(object())
        (True, False)
    """
    return isinstance(source, DuckDBSource)


def _table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = current_database() "
        "ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def parse_spec(spec: str | None) -> tuple[str, str]:
    """Split a data-source spec into (kind, argument); kind is "duckdb" or "msticpy".

    Example:
        >>> parse_spec("msticpy:MSSentinel")
        ('msticpy', 'MSSentinel')
    """
    if spec is None or not str(spec).strip():
        return "duckdb", str(default_db_path())
    text = str(spec).strip()
    kind, sep, arg = text.partition(":")
    kind = kind.lower()
    if sep and kind in ("duckdb", "msticpy") and arg.strip():
        return kind, arg.strip()
    accepted = "\n  ".join(SPEC_FORMS)
    raise DataSourceError(f"unknown data source {text!r}; accepted forms:\n  {accepted}")


def connect(spec: str | None = None) -> DataSource:
    """Open the data source named by `spec` (see the module docstring for the forms).

    Example:
        >>> src = connect("duckdb:/tmp/demo.duckdb")                    # doctest: +SKIP
        >>> src.tables()[:2]                                             # doctest: +SKIP
        ['AuditLogs', 'AzureActivity']
    """
    kind, arg = parse_spec(spec)
    if kind == "duckdb":
        return DuckDBSource(arg)
    return MsticpySource(arg)


# LocalData query parameter -> the columns it selects on (the first one present is used).
_LOCAL_ENTITY_COLUMNS = {
    # Flow records name their VM ("resource-group/VM") instead of a Computer.
    "host_name": ("Computer", "VMName", "VM_s"),
    "account_name": ("TargetUserName", "Account", "UserPrincipalName"),
    "ip_address": ("IpAddress", "IPAddress", "SrcIP"),
}


def filter_local_rows(frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of a LocalData file that the query's parameters select.

    msticpy's LocalData returns a whole pickle whatever the parameters (one file per
    query, every host's rows), so a host summary would count other hosts' processes.
    Here the entity (host name, or its FQDN; account; IP address) and the time range
    are applied to the frame, as the query would have applied them.

    Example:
        >>> rows = pd.DataFrame({"Computer": ["WKSTN-042", "web01.contoso.com", "DC01"]})
        >>> filter_local_rows(rows, {"host_name": "web01"})["Computer"].tolist()
        ['web01.contoso.com']
    """
    keep = pd.Series(True, index=frame.index)
    for param, columns in _LOCAL_ENTITY_COLUMNS.items():
        value = params.get(param)
        # The first of the columns that holds any value (flows carry an empty Computer).
        column = next((c for c in columns if c in frame.columns and frame[c].notna().any()), None)
        if not isinstance(value, str) or not value.strip() or column is None:
            continue
        wanted = value.strip().casefold()
        text = frame[column].astype("string").str.casefold()
        if param == "host_name":
            text = text.str.rpartition("/")[2]  # "contoso-rg/WKSTN-042" names WKSTN-042
        match = text == wanted
        if param == "host_name":  # a bare name also finds its FQDN
            match = match | text.str.startswith(wanted + ".")
        keep &= match.fillna(False).astype(bool)
    for bound, keep_side in (("start", "ge"), ("end", "le")):
        moment = _local_time_column(frame, bound)
        if moment is not None and params.get(bound) is not None:
            limit = to_utc_timestamp(params[bound])
            keep &= getattr(moment, keep_side)(limit).fillna(False)
    return frame[keep].reset_index(drop=True)


# A time bound -> the column it applies to, as the queries apply it: flow records by
# when the flow started and ended (msticpy's Sentinel flow queries and the store's
# azure_flows), other rows by TimeGenerated.
_LOCAL_TIME_COLUMNS = {"start": "FlowStartTime", "end": "FlowEndTime"}


def _local_time_column(frame: pd.DataFrame, bound: str) -> pd.Series | None:
    """The times `bound` limits in `frame` (UTC), TimeGenerated where a flow time is empty."""
    generated = (
        pd.to_datetime(frame["TimeGenerated"], utc=True, errors="coerce")
        if "TimeGenerated" in frame.columns
        else None
    )
    flow = _LOCAL_TIME_COLUMNS[bound]
    if flow not in frame.columns:
        return generated
    times = pd.to_datetime(frame[flow], utc=True, errors="coerce")
    return times if generated is None else times.fillna(generated)


def _caller_parameter(template: str, name: str, ptype: str) -> bool:
    """Whether a caller may set msticpy parameter `name` (not a bare KQL fragment)."""
    if ptype in ("list", "datetime", "int"):
        return True
    return "quoted" in kql.placeholder_contexts(template, name) and "bare" not in (
        kql.placeholder_contexts(template, name)
    )


# msticpyconfig.yaml keys that may hold LocalData's folders: msticpy's documented
# ``DataProviders: LocalData: data_paths`` and the top-level ``LocalData: data_paths``.
_LOCALDATA_PATH_KEYS = ("DataProviders.LocalData.data_paths", "LocalData.data_paths")


def localdata_paths() -> list[str] | None:
    """LocalData's folders as msticpyconfig.yaml gives them, under either key; None if unset.

    msticpy 3.0.2's LocalData driver only reads ``LocalData.data_paths`` when
    ``DataProviders.LocalData`` exists, so a config holding one of the two forms
    silently read the working directory instead (a notebooklet then said no_data).
    The folders found here are passed to the driver explicitly. ``~`` is expanded;
    a relative folder stays relative to the working directory, as msticpy reads it.

    Example:
        >>> # msticpyconfig.yaml:  LocalData: {data_paths: [~/ld]}
        >>> localdata_paths()                                            # doctest: +SKIP
        ['/home/me/ld']
    """
    from msticpy.common.pkg_config import get_config

    for key in _LOCALDATA_PATH_KEYS:
        try:
            value = get_config(key, None)
        except Exception:  # a config msticpy cannot read: nothing set
            value = None
        if isinstance(value, str):  # one folder written as a string, not a list
            value = [value]
        if isinstance(value, list | tuple):
            paths = [os.path.expanduser(str(v).strip()) for v in value if str(v).strip()]
            if paths:
                return paths
    return None


class MsticpySource(DataSource):
    """msticpy's QueryProvider for a data environment (`MSSentinel`, `LocalData`, ...).

    Connection settings come from msticpyconfig.yaml / the environment (msticpy's own
    `connect()`), never from the spec or a template parameter. Every value is escaped
    or rejected by `nbcatalog.data.kql` before msticpy formats it into KQL; the text
    that would be sent is available from `render_query` without connecting.
    """

    def __init__(self, environment: str, **provider_kwargs: Any):
        self.environment = environment
        self.spec = f"msticpy:{environment}"
        self._library = load_library()
        try:
            from msticpy.data import QueryProvider
        except ImportError as exc:  # msticpy is a dependency, but may be broken
            raise DataSourceError(f"msticpy cannot be imported: {exc}") from exc
        if environment.casefold() == "localdata" and "data_paths" not in provider_kwargs:
            paths = localdata_paths()
            if paths:  # else msticpy's own default, the working directory
                provider_kwargs["data_paths"] = paths
        try:
            self.provider = QueryProvider(environment, **provider_kwargs)
        except Exception as exc:  # msticpy raises several types for a bad name
            known = ", ".join(QueryProvider.list_data_environments())
            raise DataSourceError(
                f"msticpy cannot open data environment {environment!r}: {exc}. "
                f"msticpy's environments: {known}"
            ) from exc
        if self.whole_files:
            self._check_local_files()

    def _check_local_files(self) -> None:
        """Refuse a LocalData source with no data file: every notebooklet would say no_data
        with every table absent, when the cause is where LocalData looked."""
        driver = getattr(self.provider, "_query_provider", None)
        files = getattr(driver, "data_files", None)
        if not isinstance(files, dict) or files:
            return  # a driver that does not say, or one with files
        paths = [str(Path(p).resolve()) for p in getattr(driver, "_paths", None) or ["."]]
        raise DataSourceError(
            f"msticpy LocalData found no data files (*.pkl, *.csv) in {', '.join(paths)}; "
            "name the folder holding them in msticpyconfig.yaml (DataProviders: LocalData: "
            "data_paths: [FOLDER]); `nbcatalog data localdata FOLDER` writes the store there"
        )

    @property
    def whole_files(self) -> bool:
        """True for LocalData: each query reads a whole file of every host's rows, and
        `filter_local_rows` selects the ones its parameters ask for."""
        return self.environment.casefold() == "localdata"

    def _query_source(self, name: str):
        try:
            return self.provider.query_store.get_query(name)
        except LookupError:
            names = sorted(self.provider.list_queries())
            from nbcatalog.data.querylib import _closest

            close = _closest(name, names)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise DataSourceError(
                f"unknown query {name!r} in msticpy {self.environment}{hint}"
            ) from None

    def render_query(self, name: str, **params: Any) -> str:
        """The query text msticpy would run for `name` with `params` (no connection needed).

        Example:
            >>> src = connect("msticpy:MSSentinel")                      # doctest: +SKIP
            >>> print(src.render_query("WindowsSecurity.list_host_logons",
            ...                        host_name='x" | where 1==1'))     # doctest: +SKIP
        """
        from msticpy.data.core.query_defns import Formatters

        source = self._query_source(name)
        declared = {p: spec.get("type", "str") for p, spec in source.params.items()}
        ours = self._library[name].parameters if name in self._library else {}
        aliases = {a: p for p, spec in source.params.items() for a in spec.get("aliases") or ()}
        given: dict[str, Any] = {}
        for key, value in params.items():
            target = key if key in declared else aliases.get(key)
            if target is not None:
                given[target] = value
            elif key not in ours:
                accepted = ", ".join(sorted(set(declared) | set(ours)))
                raise DataSourceError(f"{name} has no parameter {key!r}; it accepts: {accepted}")
            # else: a parameter of the embedded-store query that this environment's
            # query does not use (LocalData queries take none); msticpy ignores it too.
        if "end" in declared or "start" in declared:
            end = given.get("end") or datetime.datetime.now(datetime.timezone.utc)
            given["end"] = end
            given.setdefault("start", to_utc_timestamp(end) - datetime.timedelta(days=1))
        missing = [
            p for p, spec in source.params.items() if "default" not in spec and given.get(p) is None
        ]
        if missing:
            raise DataSourceError(f"{name} needs parameter(s) {', '.join(missing)}")
        safe = kql.prepare_parameters(source.query, declared, given)
        formatters = {Formatters.LIST: kql.format_list, Formatters.DATETIME: kql.format_datetime}
        return source.create_query(formatters=formatters, **safe)

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        text = self.render_query(name, **params)
        if not self.provider.connected:
            try:
                self.provider.connect()
            except Exception as exc:  # network, auth or config: all the user's to fix
                raise DataSourceError(
                    f"cannot connect to msticpy {self.environment} "
                    f"(settings come from msticpyconfig.yaml): {exc}"
                ) from exc
        result = self.provider.exec_query(text, query_source=self._query_source(name))
        if not isinstance(result, pd.DataFrame):
            raise DataSourceError(f"{name} on msticpy {self.environment} failed: {result}")
        if "TimeGenerated" in result.columns:
            result["TimeGenerated"] = pd.to_datetime(result["TimeGenerated"], utc=True)
        if self.whole_files:
            result = filter_local_rows(result, params)
        return result

    def tables(self) -> list[str]:
        """The tables msticpy's schema lists; DataSourceError while it lists none.

        msticpy learns a workspace's schema when it connects (on the first query),
        and some drivers never have one: an empty schema says nothing about what the
        queries can read, so it must not read as "no tables" (every section would
        then say its table is missing, on a workspace that has it).
        """
        try:
            tables = sorted(self.provider.schema_tables)
        except Exception as exc:  # schema needs a connection; without one, nothing is known
            raise DataSourceError(f"msticpy {self.environment} lists no schema: {exc}") from exc
        if not tables:
            state = "before it connects" if not self.provider.connected else "for this driver"
            raise DataSourceError(f"msticpy {self.environment} lists no schema {state}")
        return tables

    def list_queries(self) -> pd.DataFrame:
        rows = []
        for name in sorted(self.provider.list_queries()):
            source = self._query_source(name)
            params = [
                p if "default" not in spec else f"[{p}]"
                for p, spec in source.params.items()
                if _caller_parameter(source.query, p, spec.get("type", "str"))
            ]
            rows.append(
                {"name": name, "description": source.description, "parameters": ", ".join(params)}
            )
        return pd.DataFrame(rows, columns=["name", "description", "parameters"])
