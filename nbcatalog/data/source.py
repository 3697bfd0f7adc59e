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

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from nbcatalog.data.querylib import (
    QueryLibrary,
    find_query,
    load_library,
    resolve_parameters,
)
from nbcatalog.data.store import DB_ENV, Store, default_db_path
from nbcatalog.errors import DataSourceError

SPEC_FORMS = (
    "duckdb:PATH (the embedded store file)",
    "msticpy:<DataEnvironment> (e.g. msticpy:MSSentinel, msticpy:LocalData)",
    "empty / None (the embedded store at $NBCATALOG_DB or the user data directory)",
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


class DuckDBSource(DataSource):
    """The embedded store, read-only: many kernels can read one file at once.

    A connection is opened for each call and closed after it, so a source held by an
    idle notebook never blocks `nbcatalog data import` or `data demo` from writing.
    Every value reaches DuckDB as a bound parameter, never as SQL text.
    """

    def __init__(self, path: str | os.PathLike, library: QueryLibrary | None = None):
        self.path = Path(path).expanduser()
        self.spec = f"duckdb:{self.path}"
        self.library = library or load_library()
        if not self.path.is_file():
            raise DataSourceError(
                f"no data store at {self.path}; build the demo store with "
                f"`nbcatalog data demo --db {self.path}` or load your logs with "
                f"`nbcatalog data import PATH... --db {self.path}` "
                f"(the default store is ${DB_ENV} or {default_db_path()})"
            )

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection with the query library's SQL macros defined."""
        try:
            store = Store.open(self.path, read_only=True)
        except duckdb.Error as exc:
            raise DataSourceError(f"cannot open the store {self.path}: {exc}") from exc
        try:
            for macro in self.library.macros:
                store.con.execute(macro)
            yield store.con
        finally:
            store.close()

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        q = find_query(self.library, name)
        values = resolve_parameters(q, params)
        bound = {k: values[k] for k in q.placeholders}
        with self.connection() as con:
            try:
                frame = con.execute(q.sql, bound).df()
            except duckdb.Error as exc:
                raise DataSourceError(f"{name} failed on {self.path}: {exc}") from exc
        if tuple(frame.columns) != q.columns:
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
                raise DataSourceError(f"SQL failed on {self.path}: {exc}") from exc

    def tables(self) -> list[str]:
        with self.connection() as con:
            rows = con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_catalog = current_database() "
                "ORDER BY table_name"
            ).fetchall()
        return [r[0] for r in rows]

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


class MsticpySource(DataSource):
    """msticpy's QueryProvider for `environment` (written next)."""

    def __init__(self, environment: str):
        self.environment = environment
        self.spec = f"msticpy:{environment}"
        raise DataSourceError("msticpy sources are not available yet")

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        raise NotImplementedError

    def tables(self) -> list[str]:
        raise NotImplementedError

    def list_queries(self) -> pd.DataFrame:
        raise NotImplementedError
