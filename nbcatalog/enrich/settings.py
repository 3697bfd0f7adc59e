"""Which enrichment providers are switched on: the `[enrichment]` table of the config file.

Everything online is off unless named here; with no config file every look-up is
offline (bundled GeoIP data, the store's ThreatIntelligenceIndicator table).
The file is nbcatalog's config file (`$NBCATALOG_CONFIG`, else
`~/.config/nbcatalog/config.toml`)::

    [enrichment.geoip]
    provider = "maxmind"          # "offline" (default) or "maxmind" (msticpy GeoLiteLookup)
    maxmind_db_folder = "~/.msticpy/GeoLite2"   # where GeoLite2-City.mmdb is
    maxmind_auto_update = false   # let msticpy download a newer database (needs its API key)
    asn_db = "~/GeoLite2-ASN.mmdb"   # optional MaxMind ASN database: adds AS numbers
    data_file = "~/geoip2fast-asn-ipv6.dat.gz"  # optional newer geoip2fast data file

    [enrichment.ti]
    table = true                  # look in the ThreatIntelligenceIndicator table (default)
    lookback_days = 365           # how far back indicators count
    providers = ["VirusTotal"]    # msticpy TILookup providers (keys in msticpyconfig.yaml)

    [enrichment.url]              # online look-ups of a URL's host (all off by default)
    dns = false                   # resolve the host name with the system resolver
    whois = false                 # whois/RDAP of the host's addresses (msticpy)
    screenshot = false            # a screenshot via msticpy (Browshot key in msticpyconfig)

`configure({...})` sets the same structure for this Python session only (it wins
over the file), which is how a notebook or a test switches a provider on.

Example:
    >>> s = configure({"ti": {"lookback_days": 30}})
    >>> s.ti.lookback_days, s.ti.providers, s.geoip.provider
    (30, (), 'offline')
    >>> configure(None)
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbcatalog.enrich.errors import EnrichmentError

GEOIP_PROVIDERS = ("offline", "maxmind")


@dataclass(frozen=True)
class GeoIPSettings:
    """GeoIP/ASN provider choice and its files."""

    provider: str = "offline"
    data_file: Path | None = None
    maxmind_db_folder: Path | None = None
    maxmind_auto_update: bool = False
    asn_db: Path | None = None


@dataclass(frozen=True)
class TISettings:
    """Threat-intelligence sources: the indicator table and any msticpy TILookup providers."""

    table: bool = True
    lookback_days: int = 365
    providers: tuple[str, ...] = ()


@dataclass(frozen=True)
class UrlSettings:
    """Online look-ups of a URL's host; each runs only when switched on."""

    dns: bool = False
    whois: bool = False
    screenshot: bool = False


@dataclass(frozen=True)
class EnrichmentSettings:
    """The whole `[enrichment]` table, checked."""

    geoip: GeoIPSettings = field(default_factory=GeoIPSettings)
    ti: TISettings = field(default_factory=TISettings)
    url: UrlSettings = field(default_factory=UrlSettings)


_session_override: dict[str, Any] | None = None


def configure(settings: dict[str, Any] | None) -> EnrichmentSettings | None:
    """Use `settings` (same shape as the file's `[enrichment]` table) for this session.

    Returns the checked settings. `None` goes back to the config file (read at
    the next look-up) and returns None.

    Example:
        >>> configure({"geoip": {"provider": "offline"}}).geoip.provider
        'offline'
        >>> configure(None)
    """
    global _session_override
    if settings is None:
        _session_override = None
        return None
    checked = parse_settings(settings, origin="configure()")
    _session_override = dict(settings)
    return checked


def current_settings() -> EnrichmentSettings:
    """The settings in force: `configure()` for this session, else the config file.

    Example:
        >>> current_settings().ti.table       # doctest: +SKIP
        True
    """
    if _session_override is not None:
        return parse_settings(_session_override, origin="configure()")
    return parse_settings(_read_config_table(), origin="[enrichment] of the config file")


def _read_config_table() -> dict[str, Any]:
    try:
        from nbcatalog.config import enrichment_settings
    except ImportError:  # config module not present: read the file the same way it would
        return _read_toml_enrichment()
    return enrichment_settings()


def _read_toml_enrichment() -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    explicit = os.environ.get("NBCATALOG_CONFIG")
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    path = Path(explicit).expanduser() if explicit else Path(base) / "nbcatalog" / "config.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EnrichmentError(f"config file {path}: cannot be read: {exc}") from exc
    return dict(data.get("enrichment", {}))


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    if not isinstance(table, dict):
        raise EnrichmentError(f"{where} must be a table of settings, got {type(table).__name__}")
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise EnrichmentError(
                f"{where}: unknown setting {key!r}{hint} (accepted: {', '.join(allowed)})"
            )


def _path(value: Any, where: str) -> Path | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise EnrichmentError(f"{where} must be a path as text, got {value!r}")
    return Path(value).expanduser()


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise EnrichmentError(f"{where} must be true or false, got {value!r}")
    return value


def parse_settings(table: dict[str, Any], *, origin: str = "settings") -> EnrichmentSettings:
    """Check an `[enrichment]` table and turn it into `EnrichmentSettings`.

    Unknown keys and wrong types are errors naming the key and what is accepted,
    so that a misspelt provider is never silently ignored.

    Example:
        >>> parse_settings({"ti": {"providers": ["OTX"]}}).ti.providers
        ('OTX',)
    """
    _check_keys(table, ("geoip", "ti", "url"), origin)
    geo = table.get("geoip", {})
    _check_keys(
        geo,
        ("provider", "data_file", "maxmind_db_folder", "maxmind_auto_update", "asn_db"),
        f"{origin} geoip",
    )
    provider = geo.get("provider", "offline")
    if provider not in GEOIP_PROVIDERS:
        raise EnrichmentError(
            f"{origin} geoip.provider: {provider!r} is not a GeoIP provider "
            f"(accepted: {', '.join(GEOIP_PROVIDERS)})"
        )
    geoip = GeoIPSettings(
        provider=provider,
        data_file=_path(geo.get("data_file"), f"{origin} geoip.data_file"),
        maxmind_db_folder=_path(geo.get("maxmind_db_folder"), f"{origin} geoip.maxmind_db_folder"),
        maxmind_auto_update=_flag(
            geo.get("maxmind_auto_update", False), f"{origin} geoip.maxmind_auto_update"
        ),
        asn_db=_path(geo.get("asn_db"), f"{origin} geoip.asn_db"),
    )
    ti_table = table.get("ti", {})
    _check_keys(ti_table, ("table", "lookback_days", "providers"), f"{origin} ti")
    days = ti_table.get("lookback_days", 365)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise EnrichmentError(
            f"{origin} ti.lookback_days must be a whole number of days >= 1, got {days!r}"
        )
    providers = ti_table.get("providers", [])
    if isinstance(providers, str) or not all(isinstance(p, str) and p for p in providers):
        raise EnrichmentError(
            f"{origin} ti.providers must be a list of msticpy TI provider names "
            f'such as ["VirusTotal", "OTX"], got {providers!r}'
        )
    ti = TISettings(
        table=_flag(ti_table.get("table", True), f"{origin} ti.table"),
        lookback_days=days,
        providers=tuple(providers),
    )
    url_table = table.get("url", {})
    _check_keys(url_table, ("dns", "whois", "screenshot"), f"{origin} url")
    url = UrlSettings(
        **{
            k: _flag(url_table.get(k, False), f"{origin} url.{k}")
            for k in ("dns", "whois", "screenshot")
        }
    )
    return EnrichmentSettings(geoip=geoip, ti=ti, url=url)
