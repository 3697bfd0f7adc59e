"""A msticpy data provider for the embedded store, so msticpy notebooks can query it.

`query_provider(db)` returns a msticpy `QueryProvider` for the data environment
`NBCatalog` whose query functions are the nbcatalog query library, e.g.
`qp.WindowsSecurity.list_host_logons(host_name="WKSTN-042", start=..., end=...)`.

msticpy formats parameters into query text; here that text is only a JSON request
(`{"query": name, "params": {...}}`, built by `json.dumps`, so values cannot change
its structure). The driver decodes it and runs the named query through
`DuckDBSource.query`, where every value is a bound SQL parameter. Any other text given
to `qp.exec_query` runs as read-only SQL.

Example:
    >>> from nbcatalog.data.msticpy_driver import query_provider
    >>> qp = query_provider("/tmp/demo.duckdb")                          # doctest: +SKIP
    >>> qp.WindowsSecurity.list_host_logons(host_name="WKSTN-042",
    ...     start="2024-05-01", end="2024-05-08")                        # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from msticpy.data import drivers
from msticpy.data.core.query_defns import Formatters
from msticpy.data.drivers.driver_base import DriverBase, DriverProps

from nbcatalog.data.querylib import load_library
from nbcatalog.data.source import DuckDBSource, parse_spec

ENVIRONMENT = "NBCatalog"
_REQUEST_KEY = "nbcatalog_query"


def _datetime_param(value: datetime.datetime) -> str:
    return value.isoformat()


def _keep_list(value: list) -> list:
    return list(value)


def _request(template: str, params: dict[str, Any]) -> str:
    """msticpy PARAM_HANDLER: the query name and values as a JSON request."""
    return json.dumps({_REQUEST_KEY: template.strip(), "params": params}, default=str)


class NBCatalogDriver(DriverBase):
    """msticpy driver (plugin) running nbcatalog's query library on a DuckDB store.

    `connect(connection_str)` takes the store path (default: the `db_path` given to
    the provider, else msticpyconfig's ``DataProviders: NBCatalog: Args: db_path``,
    else nbcatalog's default store). Registered with msticpy by `register()` or by
    msticpy's own plugin loader from `PLUGIN_FOLDER` (see
    nbcatalog/data/msticpy_plugin/nbcatalog_msticpy.py).
    """

    DATA_ENVIRONMENTS = [ENVIRONMENT]  # read by msticpy's plugin loader

    def __init__(self, connection_str: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._db_path = connection_str or kwargs.get("db_path") or _config_db_path()
        self._source: DuckDBSource | None = None
        self.set_driver_property(
            DriverProps.FORMATTERS,
            {
                Formatters.PARAM_HANDLER: _request,
                Formatters.DATETIME: _datetime_param,
                Formatters.LIST: _keep_list,
            },
        )
        self._loaded = True

    def connect(self, connection_str: str | None = None, **kwargs: Any) -> None:
        """Open the store (read-only) at `connection_str`, `db_path` or the default."""
        path = connection_str or kwargs.get("db_path") or self._db_path
        _, default = parse_spec(None)
        self._source = DuckDBSource(path or default)
        self._connected = True

    def query(self, query: str, query_source: Any = None, **kwargs: Any) -> pd.DataFrame:
        """Run a library request built by the query functions, or read-only SQL."""
        del query_source, kwargs
        if self._source is None:
            self.connect()
        assert self._source is not None
        try:
            request = json.loads(query)
        except ValueError:
            request = None
        if isinstance(request, dict) and _REQUEST_KEY in request:
            return self._source.query(request[_REQUEST_KEY], **request["params"])
        return self._source.sql(query)

    def query_with_results(self, query: str, **kwargs: Any) -> tuple[pd.DataFrame, Any]:
        return self.query(query, **kwargs), "OK"


PLUGIN_FOLDER = Path(__file__).parent / "msticpy_plugin"
QUERY_FILE_PREFIX = "nbcatalog_"


def _config_db_path() -> str | None:
    """``DataProviders: NBCatalog: Args: db_path`` from msticpyconfig.yaml, if set."""
    from msticpy.common.pkg_config import get_config

    try:
        value = get_config(f"DataProviders.{ENVIRONMENT}.Args.db_path", None)
    except Exception:  # no config file, or a config msticpy cannot read: no setting
        return None
    return str(value) if value else None


def query_file_texts() -> dict[str, str]:
    """The query library as msticpy query files: file name -> YAML text.

    The plugin folder holds these files (msticpy reads them through
    ``QueryDefinitions: Custom``); tests/test_msticpy_plugin.py checks they match.

    Example:
        >>> "nbcatalog_WindowsSecurity.yaml" in query_file_texts()   # doctest: +SKIP
        True
    """
    header = "# Generated from nbcatalog's query library by write_query_files(); do not edit.\n"
    return {
        f"{QUERY_FILE_PREFIX}{family}.yaml": header + yaml.safe_dump(doc, sort_keys=False)
        for family, doc in sorted(msticpy_query_definitions().items())
    }


def write_query_files(folder: str | Path = PLUGIN_FOLDER) -> list[Path]:
    """Write `query_file_texts` into `folder` (the plugin folder by default).

    Example:
        >>> write_query_files("/tmp/nbcatalog-queries")              # doctest: +SKIP
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in query_file_texts().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def msticpy_config_snippet() -> str:
    """The msticpyconfig.yaml lines that make ``QueryProvider("NBCatalog")`` available.

    Example:
        >>> print(msticpy_config_snippet())                          # doctest: +SKIP
    """
    folder = json.dumps(str(PLUGIN_FOLDER))  # a JSON string is a valid YAML scalar
    return (
        f"PluginFolders:\n  - {folder}\n"
        f"QueryDefinitions:\n  Custom:\n    - {folder}\n"
        "# optional: the store to query (else $NBCATALOG_DB, else nbcatalog's default)\n"
        f"# DataProviders:\n#   {ENVIRONMENT}:\n#     Args:\n"
        "#       db_path: /path/to/store.duckdb\n"
    )


def register() -> None:
    """Make `QueryProvider("NBCatalog")` available in this Python process."""
    drivers.CUSTOM_PROVIDERS[ENVIRONMENT] = NBCatalogDriver


def msticpy_query_definitions() -> dict[str, dict]:
    """The query library as msticpy query-definition documents, one per family."""
    docs: dict[str, dict] = {}
    lib = load_library()
    for full_name in lib.names():
        q = lib[full_name]
        doc = docs.setdefault(
            q.family,
            {
                "metadata": {
                    "version": 1,
                    "description": f"nbcatalog {q.family} queries",
                    "data_environments": [ENVIRONMENT],
                    "data_families": [q.family],
                },
                "defaults": {},
                "sources": {},
            },
        )
        params = {}
        for p in q.parameters.values():
            spec: dict[str, Any] = {"description": p.description or p.name, "type": p.type}
            if not p.required and p.name not in ("start", "end"):
                spec["default"] = p.default
            if p.aliases:
                spec["aliases"] = list(p.aliases)
            params[p.name] = spec
        doc["sources"][q.name] = {
            "description": q.description,
            "args": {"query": full_name},
            "parameters": params,
        }
    return docs


def load_queries(provider: Any) -> None:
    """Add the query library's functions to a `QueryProvider("NBCatalog")`."""
    with tempfile.TemporaryDirectory(prefix="nbcatalog-msticpy-") as folder:
        for family, doc in msticpy_query_definitions().items():
            path = Path(folder) / f"{family}.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
            provider.import_query_file(str(path))


def query_provider(db: str | None = None, **kwargs: Any):
    """A connected msticpy `QueryProvider` on the store file `db` (default store if None).

    Example:
        >>> qp = query_provider("/tmp/demo.duckdb")                      # doctest: +SKIP
        >>> qp.SecurityAlert.list_alerts(start="2024-05-01", end="2024-05-08")  # doctest: +SKIP
    """
    from msticpy.data import QueryProvider

    register()
    provider = QueryProvider(ENVIRONMENT, db_path=db, **kwargs)
    load_queries(provider)
    provider.connect(db)
    return provider
