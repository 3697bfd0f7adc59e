"""Run a named query and turn missing data into a note instead of an exception.

A notebooklet must render on any estate: one without Linux hosts has no Syslog
table, a msticpy workspace may lack a query. `run_query` returns a `Finding` whose
notes say what was missing ("no Syslog table in this data source") and whose data
is an empty frame, so the template's section explains itself. Errors that are not
about missing data (bugs, a broken connection) still raise.

Example:
    >>> class NoTables:
    ...     def tables(self): return ["Heartbeat"]
    ...     def query(self, name, **params): raise AssertionError("not reached")
    >>> run_query(NoTables(), "SecurityAlert.list_alerts").notes[0].text[:32]
    'no SecurityAlert table in this d'
"""

from __future__ import annotations

import re
import weakref
from functools import lru_cache
from typing import Any

import pandas as pd

from nbcatalog.nblib.findings import Finding

# The table each query family reads, for sources that cannot tell us (msticpy).
_FAMILY_TABLES = {
    "WindowsSecurity": "SecurityEvent",
    "LinuxSyslog": "Syslog",
    "SecurityAlert": "SecurityAlert",
    "AzureSentinel": "HuntingBookmark",
    "Office365": "OfficeActivity",
    "ThreatIntelligence": "ThreatIntelligenceIndicator",
}
_QUERY_TABLES = {
    "Azure.list_aad_signins_for_account": "SigninLogs",
    "Azure.list_aad_signins_for_ip": "SigninLogs",
    "Azure.list_azure_activity_for_account": "AzureActivity",
    "Network.get_heartbeat_for_host": "Heartbeat",
    "Network.get_heartbeat_for_ip": "Heartbeat",
}
# How DuckDB and the Log Analytics API word a table that is not there.
_MISSING_TABLE = re.compile(
    r"Table with name \S+ does not exist|Failed to resolve table|"
    r"'?\w+'? could not be resolved|SemanticError",
    re.IGNORECASE,
)

_NAMED_TABLE = re.compile(r"Table with name \"?([A-Za-z_][\w]*)\"? does not exist")


@lru_cache(maxsize=1)
def _library_tables() -> dict[str, str]:
    try:
        from nbcatalog.data.querylib import load_library
    except ImportError:  # data layer not installed: fall back to the family map
        return {}
    lib = load_library()
    return {name: lib[name].table for name in lib.names() if lib[name].table}


def query_table(name: str) -> str | None:
    """The table a named query reads, when known.

    Example:
        >>> query_table("WindowsSecurity.list_host_processes")
        'SecurityEvent'
    """
    try:
        table = _library_tables().get(name)
    except Exception:  # a broken query library must not hide the family map
        table = None
    return table or _QUERY_TABLES.get(name) or _FAMILY_TABLES.get(name.split(".")[0])


# Table lists per source: listing costs a connection, and tables do not come and go
# during one notebooklet run.
_TABLES: weakref.WeakKeyDictionary[Any, frozenset[str]] = weakref.WeakKeyDictionary()


def has_table(source: Any, table: str) -> bool | None:
    """Whether `source` has `table`; None when the source cannot say.

    A list naming only things that are not store tables is no answer: msticpy's
    LocalData lists its files (host_logons.pkl). An empty list means no tables.

    Example:
        >>> class Files:
        ...     def tables(self): return ["host_logons.pkl"]
        >>> has_table(Files(), "SecurityEvent") is None
        True
    """
    try:
        known = _TABLES.get(source)
        if known is None:
            known = _TABLES[source] = frozenset(source.tables())
    except Exception:  # a source that cannot list tables: just try the query
        return None
    if known and not known & _store_tables():
        return None
    return table in known


@lru_cache(maxsize=1)
def _store_tables() -> frozenset[str]:
    try:
        from nbcatalog.data.schema import TABLES
    except ImportError:  # data layer not installed: the tables the queries read
        return frozenset(_FAMILY_TABLES.values()) | frozenset(_QUERY_TABLES.values())
    return frozenset(TABLES)


def run_query(source: Any, name: str, title: str = "", **params: Any) -> Finding:
    """Run query `name` on `source`; missing tables and queries become notes.

    Returns a Finding titled `title` holding the result (possibly empty).
    """
    finding = Finding(title or name)
    table = query_table(name)
    if table and has_table(source, table) is False:
        finding.note("missing", f"no {table} table in this data source, so {name} returned nothing")
        return finding
    try:
        data = source.query(name, **params)
    except Exception as exc:
        reason = _missing_reason(exc, name, table)
        if reason is None:
            raise
        finding.note("missing", reason)
        return finding
    finding.data = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    return finding


def _missing_reason(exc: Exception, name: str, table: str | None) -> str | None:
    from nbcatalog.errors import DataSourceError

    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, DataSourceError) and "unknown query" in str(exc).lower():
        return f"this data source has no query {name} ({text})"
    if isinstance(exc, FileNotFoundError):  # msticpy LocalData: no file for this query
        where = f"the {table} table" if table else "its data"
        return f"{name} could not run: {where} is missing ({text})"
    if _MISSING_TABLE.search(str(exc)):
        named = _NAMED_TABLE.search(str(exc))
        table = named.group(1) if named else table
        where = f"the {table} table" if table else "a table it reads"
        return f"{name} could not run: {where} is missing ({text})"
    return None


def known_values(source: Any, table: str, column: str, limit: int = 5000) -> list[str] | None:
    """Distinct non-empty values of `table.column` (for "closest match" suggestions).

    Only DuckDB sources can answer (None otherwise, or when the table is missing).
    Table and column must be in the store schema; nothing from the caller reaches
    the SQL text.

    Example:
        >>> known_values(object(), "Heartbeat", "Computer") is None
        True
    """
    from nbcatalog.data.schema import TABLES
    from nbcatalog.data.source import is_embedded_store

    # Only the store runs SQL; msticpy's sources answer None (no suggestions).
    if not is_embedded_store(source) or table not in TABLES:
        return None
    if column not in TABLES[table].column_names:
        return None
    try:
        frame = source.sql(
            f'SELECT DISTINCT "{column}" AS v FROM "{table}" '  # noqa: S608 - names from schema
            f'WHERE "{column}" IS NOT NULL AND "{column}" <> \'\' LIMIT {int(limit)}'
        )
    except Exception:
        return None
    return [str(v) for v in frame["v"]]
