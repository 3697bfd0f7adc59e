"""Offline enrichment of indicators: address classes, GeoIP/ASN, threat intelligence, IoCs.

Each job has one module and one public entry point, with a real offline default
and any online provider switched on only in the `enrichment` section of the
nbcatalog config file (see `nbcatalog.enrich.settings`):

- `ipclass.classify_ip("10.0.0.5")` -> "private"
- `geoip.lookup_ips(["8.8.8.8"])` -> country and AS owner (bundled geoip2fast data)
- `ti.lookup_iocs(["203.0.113.77"])` -> matches in the ThreatIntelligenceIndicator table
- `iocs.extract_iocs("curl http://x.example/a")` -> typed indicators found in text

Example:
    >>> from nbcatalog.enrich.ipclass import classify_ip
    >>> classify_ip("192.0.2.1")
    'documentation'

The same names are importable from `nbcatalog.enrich` itself; submodules are
imported on demand so that a notebook kernel pays only for what it uses.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> "module:attribute"; resolved on first use (see the module docstring).
_EXPORTS = {
    "classify_ip": "nbcatalog.enrich.ipclass:classify_ip",
    "lookup_ips": "nbcatalog.enrich.geoip:lookup_ips",
    "lookup_iocs": "nbcatalog.enrich.ti:lookup_iocs",
    "extract_iocs": "nbcatalog.enrich.iocs:extract_iocs",
    "extract_entity_iocs": "nbcatalog.enrich.iocs:extract_entity_iocs",
    "configure": "nbcatalog.enrich.settings:configure",
    "EnrichmentError": "nbcatalog.enrich.errors:EnrichmentError",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        target = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'nbcatalog.enrich' has no attribute {name!r}") from None
    module_name, attr = target.split(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
