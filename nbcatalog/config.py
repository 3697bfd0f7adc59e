"""Defaults for a session or a machine: the data source and the output folder.

Precedence, highest first:

- `init(...)` in this Python session,
- environment: ``NBCATALOG_SOURCE``, ``NBCATALOG_OUTPUT``,
- the config file (``$NBCATALOG_CONFIG``, else ``~/.config/nbcatalog/config.toml``)::

      data_source = "duckdb:/data/soc.duckdb"   # a relative path: relative to this file
      output_dir = "~/soc-reports"              # likewise

      [enrichment]                      # read by nbcatalog.enrich
      ...

      [web]                             # read by nbcatalog.web (`nbcatalog web`)
      ...

- built-in: the embedded store (``duckdb:`` + its default path) and ``./output``.

A run's own ``data_source=`` / ``output_dir=`` beat all of these.

Example:
    >>> import nbcatalog
    >>> nbcatalog.init(data_source="msticpy:MSSentinel")   # doctest: +SKIP
    >>> nbcatalog.config.default_data_source()              # doctest: +SKIP
    'msticpy:MSSentinel'
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from nbcatalog.errors import UsageError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ENV_CONFIG = "NBCATALOG_CONFIG"
ENV_SOURCE = "NBCATALOG_SOURCE"
ENV_OUTPUT = "NBCATALOG_OUTPUT"

# Top-level keys of the config file and the type each must have.
KNOWN_KEYS: dict[str, type] = {
    "data_source": str,
    "output_dir": str,
    "enrichment": dict,
    "web": dict,  # read by nbcatalog.web (login, cookies, allowed host names)
}

_session: dict[str, Any] = {}


class ConfigError(UsageError):
    """A config file that cannot be read or holds a key or value we do not accept."""


def init(data_source: str | None = None, output_dir: str | os.PathLike | None = None) -> dict:
    """Set this session's default data source and/or output folder.

    Arguments left as None keep their current value. Returns the session settings.

    Example:
        >>> init(data_source="duckdb:/tmp/demo.duckdb")["data_source"]
        'duckdb:/tmp/demo.duckdb'
        >>> reset()
    """
    if data_source is not None:
        from nbcatalog.parameters import normalize_data_source

        _session["data_source"] = normalize_data_source(data_source)
    if output_dir is not None:
        _session["output_dir"] = Path(output_dir).expanduser()
    return dict(_session)


def reset() -> None:
    """Forget what `init` set (mostly for tests)."""
    _session.clear()


def config_path() -> Path:
    """Where the config file is read from (it need not exist)."""
    explicit = os.environ.get(ENV_CONFIG)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "nbcatalog" / "config.toml"


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The config file's contents, checked; `{}` when there is no file.

    Example:
        >>> load_config(Path("/nonexistent/config.toml"))
        {}
    """
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from exc
    for key, value in data.items():
        expected = KNOWN_KEYS.get(key)
        if expected is None:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"config file {path}: unknown key {key!r}{hint} "
                f"(accepted: {', '.join(sorted(KNOWN_KEYS))})"
            )
        if not isinstance(value, expected):
            kind = "a table" if expected is dict else "a string"
            raise ConfigError(f"config file {path}: {key!r} must be {kind}")
    return data


def default_data_source() -> str:
    """The data-source spec a run uses when it is not given one.

    Example:
        >>> default_data_source().split(":")[0] in ("duckdb", "msticpy")
        True
    """
    from nbcatalog.parameters import normalize_data_source

    if "data_source" in _session:
        return _session["data_source"]
    env = os.environ.get(ENV_SOURCE)
    if env:
        return normalize_data_source(env)
    configured = load_config().get("data_source")
    if configured:
        kind, _, rest = configured.partition(":")
        if kind == "duckdb" and rest and not Path(rest).expanduser().is_absolute():
            # Like output_dir: a relative store path is relative to the config file.
            configured = f"duckdb:{config_path().parent / rest}"
        return normalize_data_source(configured)
    from nbcatalog.data.store import default_db_path

    return f"duckdb:{default_db_path()}"


def default_output_dir() -> Path:
    """The folder run folders are written under when a run is not given one.

    Example:
        >>> default_output_dir().name                   # doctest: +SKIP
        'output'
    """
    if "output_dir" in _session:
        return _session["output_dir"]
    env = os.environ.get(ENV_OUTPUT)
    if env:
        return Path(env).expanduser()
    configured = load_config().get("output_dir")
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else config_path().parent / path
    return Path("output")


def enrichment_settings() -> dict[str, Any]:
    """The ``[enrichment]`` table of the config file (owned by nbcatalog.enrich)."""
    return dict(load_config().get("enrichment", {}))


def web_settings() -> dict[str, Any]:
    """The ``[web]`` table of the config file (owned by nbcatalog.web)."""
    return dict(load_config().get("web", {}))
