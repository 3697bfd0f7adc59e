"""The query library: named, parameterized DuckDB queries loaded from YAML data files.

Each file under `nbcatalog/data/queries/` holds one query family (as msticpy names
them: `WindowsSecurity`, `LinuxSyslog`, ...). A query has a description, typed
parameters, the SQL to run (values appear only as `$name` placeholders, bound by
DuckDB) and the columns it returns, which match msticpy's Sentinel query of the same
name. `_macros.yaml` holds SQL macros (KQL operators such as `has`) created on every
connection before a query runs.

Example:
    >>> from nbcatalog.data.querylib import load_library
    >>> lib = load_library()
    >>> q = lib["WindowsSecurity.list_host_logons"]
    >>> sorted(q.parameters)
    ['end', 'host_name', 'start']
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from nbcatalog.data.schema import TABLES

PARAM_TYPES = ("str", "datetime", "list", "int", "bool")
_PLACEHOLDER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

# Every query accepts a time range, as msticpy's do; these are the defaults.
_TIME_PARAMETERS = {
    "start": {"type": "datetime", "description": "Query start time (default: 1 day before end)"},
    "end": {"type": "datetime", "description": "Query end time (default: now)"},
}


class QueryLibraryError(ValueError):
    """A query file that does not follow the library's format (a packaging bug)."""


@dataclass(frozen=True)
class QueryParameter:
    """One parameter of a query: its type, help text, default and other accepted names."""

    name: str
    type: str
    description: str
    default: Any = None
    required: bool = True
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryDef:
    """A named query: `family.name`, its SQL, parameters and result columns."""

    family: str
    name: str
    description: str
    sql: str
    columns: tuple[str, ...]
    parameters: dict[str, QueryParameter] = field(default_factory=dict)
    table: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.family}.{self.name}"

    @property
    def placeholders(self) -> set[str]:
        """The `$name` placeholders the SQL binds."""
        return set(_PLACEHOLDER.findall(self.sql))

    def parameter_summary(self) -> str:
        """One-line text listing the parameters, e.g. `host_name, start=, end=`."""
        parts = []
        for p in self.parameters.values():
            if p.required:
                parts.append(f"{p.name}: {p.type}")
            else:
                default = "" if p.default is None else f" = {p.default!r}"
                parts.append(f"[{p.name}: {p.type}{default}]")
        return ", ".join(parts)


@dataclass(frozen=True)
class QueryLibrary:
    """All queries by full name, plus the SQL macros they use."""

    queries: dict[str, QueryDef]
    macros: tuple[str, ...]

    def __getitem__(self, name: str) -> QueryDef:
        return self.queries[name]

    def __contains__(self, name: object) -> bool:
        return name in self.queries

    def names(self) -> list[str]:
        return sorted(self.queries)


def _parse_parameter(qname: str, name: str, spec: dict[str, Any]) -> QueryParameter:
    ptype = spec.get("type", "str")
    if ptype not in PARAM_TYPES:
        raise QueryLibraryError(f"{qname}: parameter {name} has unknown type {ptype!r}")
    has_default = "default" in spec or spec.get("required") is False
    return QueryParameter(
        name=name,
        type=ptype,
        description=str(spec.get("description", "")),
        default=spec.get("default"),
        required=not has_default and name not in _TIME_PARAMETERS,
        aliases=tuple(spec.get("aliases", ())),
    )


def _table_columns(qname: str, table: str, rename: Mapping[str, str]) -> list[str]:
    if table not in TABLES:
        raise QueryLibraryError(f"{qname}: columns name unknown table {table}")
    names = TABLES[table].column_names
    unknown = set(rename) - set(names)
    if unknown:
        raise QueryLibraryError(f"{qname}: {table} has no column(s) {sorted(unknown)}")
    return [rename.get(c, c) for c in names]


def _expand_columns(qname: str, spec: list[Any]) -> tuple[str, ...]:
    """Expand `Table.*` and `{table: T, rename: {old: new}}` entries to schema columns."""
    cols: list[str] = []
    for item in spec:
        if isinstance(item, dict):
            names = _table_columns(qname, item["table"], item.get("rename") or {})
            cols.extend(c for c in names if c not in cols)
        elif item.endswith(".*"):
            cols.extend(c for c in _table_columns(qname, item[:-2], {}) if c not in cols)
        elif item in cols:
            raise QueryLibraryError(f"{qname}: column {item} listed twice")
        else:
            cols.append(item)
    return tuple(cols)


def parse_family(text: str, source: str = "<string>") -> list[QueryDef]:
    """Parse one family file's YAML text into query definitions (validated)."""
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or "family" not in doc or "queries" not in doc:
        raise QueryLibraryError(f"{source}: needs top-level 'family' and 'queries'")
    family = doc["family"]
    out = []
    for name, spec in doc["queries"].items():
        qname = f"{family}.{name}"
        for key in ("description", "sql", "columns"):
            if key not in spec:
                raise QueryLibraryError(f"{source}: {qname} has no {key!r}")
        params_spec = {**_TIME_PARAMETERS, **(spec.get("parameters") or {})}
        params = {n: _parse_parameter(qname, n, s or {}) for n, s in params_spec.items()}
        query = QueryDef(
            family=family,
            name=name,
            description=" ".join(str(spec["description"]).split()),
            sql=spec["sql"],
            columns=_expand_columns(qname, spec["columns"]),
            parameters=params,
            table=spec.get("table"),
        )
        unknown = query.placeholders - set(params)
        if unknown:
            raise QueryLibraryError(f"{qname}: SQL uses undeclared {sorted(unknown)}")
        out.append(query)
    return out


@lru_cache(maxsize=1)
def load_library() -> QueryLibrary:
    """Load and validate every query file shipped in `nbcatalog/data/queries/`."""
    folder = resources.files("nbcatalog.data") / "queries"
    queries: dict[str, QueryDef] = {}
    macros: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        text = entry.read_text(encoding="utf-8")
        if entry.name == "_macros.yaml":
            macros.extend(m["sql"] for m in yaml.safe_load(text)["macros"])
            continue
        for query in parse_family(text, entry.name):
            if query.full_name in queries:
                raise QueryLibraryError(f"{entry.name}: {query.full_name} defined twice")
            queries[query.full_name] = query
    return QueryLibrary(queries, tuple(macros))


def _closest(name: str, choices: list[str]) -> list[str]:
    import difflib

    found = difflib.get_close_matches(name, choices, n=5, cutoff=0.5)
    if not found:
        short = name.rsplit(".", 1)[-1]
        found = [c for c in choices if c.rsplit(".", 1)[-1] == short]
    return found


def find_query(library: QueryLibrary, name: str) -> QueryDef:
    """The query called `name`; `DataSourceError` naming the closest names otherwise.

    Example:
        >>> find_query(load_library(), "WindowsSecurity.list_host_logons").table
        'SecurityEvent'
    """
    from nbcatalog.errors import DataSourceError

    if name in library:
        return library[name]
    close = _closest(name, library.names())
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise DataSourceError(
        f"unknown query {name!r}{hint} (list them with DataSource.list_queries())"
    )


def to_utc_timestamp(value: Any, name: str = "time") -> pd.Timestamp:
    """A datetime, date, pandas Timestamp or ISO-8601 text as a tz-aware UTC Timestamp.

    Naive values are taken as UTC. Example:
        >>> to_utc_timestamp("2024-05-01T10:00:00+02:00").isoformat()
        '2024-05-01T08:00:00+00:00'
    """
    from nbcatalog.errors import DataSourceError

    if isinstance(value, str):
        text = value.strip()
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError):
            ts = pd.NaT
        if pd.isna(ts):
            raise DataSourceError(
                f"{name}={value!r} is not a time; give a datetime or ISO-8601 text "
                "such as '2024-05-01T10:00:00Z'"
            )
    elif isinstance(value, (datetime.datetime, datetime.date, pd.Timestamp)):
        ts = pd.Timestamp(value)
    else:
        raise DataSourceError(
            f"{name} must be a datetime or ISO-8601 text, not {type(value).__name__}"
        )
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _coerce(param: QueryParameter, value: Any) -> Any:
    from nbcatalog.errors import DataSourceError

    name = param.name
    if param.type == "datetime":
        return to_utc_timestamp(value, name).to_pydatetime()
    if param.type == "str":
        if not isinstance(value, str):
            raise DataSourceError(f"{name} must be text, not {type(value).__name__}")
        if param.required and not value.strip():
            raise DataSourceError(f"{name} must not be empty")
        return value
    if param.type == "list":
        if isinstance(value, str):
            # As msticpy does: a comma-separated string is a list.
            items = [v.strip() for v in value.split(",")] if "," in value else [value]
        elif isinstance(value, (list, tuple, set, frozenset, pd.Series, pd.Index)):
            items = list(value)
        else:
            raise DataSourceError(
                f"{name} must be a list (or comma-separated text), not {type(value).__name__}"
            )
        bad = [v for v in items if not isinstance(v, (str, int)) or isinstance(v, bool)]
        if bad:
            raise DataSourceError(f"{name} items must be text or integers; got {bad[:3]!r}")
        return [str(v) for v in items]
    if param.type == "int":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise DataSourceError(f"{name} must be an integer, not {type(value).__name__}")
        try:
            return int(value)
        except ValueError:
            raise DataSourceError(f"{name}={value!r} is not an integer") from None
    if param.type == "bool":
        if not isinstance(value, bool):
            raise DataSourceError(f"{name} must be True or False, not {value!r}")
        return value
    raise AssertionError(param.type)  # parse_family rejects other types


def resolve_parameters(query: QueryDef, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check and convert caller values for `query`: aliases, defaults, types, time range.

    Returns every declared parameter's value. Raises `DataSourceError` naming each
    unknown or missing parameter and saying what is accepted.

    Example:
        >>> q = load_library()["WindowsSecurity.list_host_logons"]
        >>> v = resolve_parameters(q, {"host_name": "WKSTN-042", "start": "2024-01-01"})
        >>> v["host_name"], v["start"].isoformat()
        ('WKSTN-042', '2024-01-01T00:00:00+00:00')
    """
    from nbcatalog.errors import DataSourceError

    by_alias = {a: p.name for p in query.parameters.values() for a in p.aliases}
    given: dict[str, Any] = {}
    unknown = []
    for key, value in params.items():
        name = key if key in query.parameters else by_alias.get(key)
        if name is None:
            unknown.append(key)
        else:
            given[name] = value
    accepted = query.parameter_summary()
    if unknown:
        raise DataSourceError(
            f"{query.full_name} has no parameter(s) {', '.join(map(repr, unknown))}; "
            f"it accepts: {accepted}"
        )
    missing = [
        p.name for p in query.parameters.values() if p.required and given.get(p.name) is None
    ]
    if missing:
        raise DataSourceError(
            f"{query.full_name} needs parameter(s) {', '.join(missing)}; it accepts: {accepted}"
        )
    values: dict[str, Any] = {}
    for p in query.parameters.values():
        value = given.get(p.name)
        if value is None and p.name not in _TIME_PARAMETERS:
            values[p.name] = p.default
        elif value is not None:
            values[p.name] = _coerce(p, value)
    if "end" in query.parameters:
        end = values.get("end") or datetime.datetime.now(datetime.timezone.utc)
        values["end"] = end
        values["start"] = values.get("start") or end - datetime.timedelta(days=1)
        if values["start"] > end:
            raise DataSourceError(
                f"start ({values['start'].isoformat()}) is after end ({end.isoformat()})"
            )
    return values
