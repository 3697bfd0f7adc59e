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

Submodules are imported on demand so that a notebook kernel pays only for what it uses.
"""
