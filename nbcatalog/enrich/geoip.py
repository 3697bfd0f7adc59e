"""GeoIP and AS owner of public IP addresses, offline by default.

The default provider is the geoip2fast package and the MaxMind GeoLite2
country + ASN data file it bundles (IPv4 and IPv6): country and AS organisation
name, no city, no AS number. Latitude/Longitude are then the country's centre
(from the countryinfo package), good for a map of countries, not of cities;
the `GeoSource` column says so. Switched on in the `[enrichment.geoip]` config
(see `nbcatalog.enrich.settings`):

- `provider = "maxmind"`: city-level location from msticpy's GeoLiteLookup and a
  local GeoLite2-City.mmdb (msticpy downloads it only if `maxmind_auto_update`);
- `asn_db = ".../GeoLite2-ASN.mmdb"`: AS numbers from a local MaxMind ASN database;
- `data_file`: a newer geoip2fast data file (including its city editions).

Private, loopback, link-local, documentation, reserved and multicast addresses
are classified by `nbcatalog.enrich.ipclass` and never looked up.

Example:
    >>> df = lookup_ips(["8.8.8.8", "10.0.0.5"])
    >>> df[["IpAddress", "IpClass", "CountryCode", "AsnOrg"]].values.tolist()
    [['8.8.8.8', 'public', 'US', 'GOOGLE'], ['10.0.0.5', 'private', None, None]]
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbcatalog.enrich.errors import EnrichmentError
from nbcatalog.enrich.iocs import is_missing
from nbcatalog.enrich.ipclass import classify_ips
from nbcatalog.enrich.settings import EnrichmentSettings, GeoIPSettings, current_settings

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = [
    "IpAddress",
    "IpClass",
    "CountryCode",
    "CountryName",
    "City",
    "Latitude",
    "Longitude",
    "Asn",
    "AsnOrg",
    "GeoSource",
]

# geoip2fast's combined country + ASN file, IPv4 and IPv6, shipped in its wheel.
BUNDLED_DATA_FILE = "geoip2fast-asn-ipv6.dat.gz"


@dataclass(frozen=True)
class GeoRecord:
    """What one provider knows of one public address (None where it knows nothing)."""

    country_code: str | None = None
    country_name: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    asn: int | None = None
    asn_org: str | None = None
    source: str | None = None


@lru_cache(maxsize=512)
def country_centre(country_code: str) -> tuple[float | None, float | None]:
    """Approximate centre (lat, lon) of a country from its ISO code; (None, None) if unknown.

    Example:
        >>> country_centre("US")
        (38.0, -97.0)
    """
    try:
        from countryinfo import CountryInfo
    except ImportError:  # optional on Python 3.10, where countryinfo is not installable
        return None, None
    try:
        lat, lon = CountryInfo(country_code).latlng()[:2]
        return float(lat), float(lon)
    except Exception:  # unknown code, or an entry without coordinates
        return None, None


class OfflineGeoIP:
    """Country and AS organisation from a geoip2fast data file (the bundled one by default)."""

    def __init__(self, data_file: Path | None = None):
        import geoip2fast
        from geoip2fast import GeoIP2Fast

        # An absolute path: a bare file name would make geoip2fast look in the cwd first.
        path = data_file or Path(geoip2fast.__file__).parent / BUNDLED_DATA_FILE
        try:
            self._db = GeoIP2Fast(geoip2fast_data_file=str(path))
        except Exception as exc:  # geoip2fast raises its own GeoIPError for missing/bad files
            raise EnrichmentError(
                f"GeoIP data file {path} cannot be loaded: {exc}; set "
                "[enrichment.geoip] data_file to a geoip2fast .dat.gz file, or remove it"
            ) from exc
        info = self._db.get_database_info()
        self.source = f"geoip2fast {info.get('source_info', path.name)}"

    def lookup(self, ip: str) -> GeoRecord:
        """Look one public address up (no network)."""
        found = self._db.lookup(ip).to_dict()
        code = found.get("country_code") or ""
        known = len(code) == 2 and code.isalpha()
        city = found.get("city")
        if isinstance(city, dict):
            city = city.get("name")
        lat, lon = country_centre(code) if known else (None, None)
        return GeoRecord(
            country_code=code if known else None,
            country_name=found.get("country_name") if known else None,
            city=city or None,
            latitude=lat,
            longitude=lon,
            asn_org=found.get("asn_name") or None,
            source=f"{self.source} (country centre)" if known and not city else self.source,
        )

    def lookup_many(self, ips: list[str]) -> dict[str, GeoRecord]:
        """Look several public addresses up."""
        return {ip: self.lookup(ip) for ip in ips}


class MaxMindGeoIP:
    """City-level location from msticpy's GeoLiteLookup over a local GeoLite2-City.mmdb."""

    DB_FILE = "GeoLite2-City.mmdb"

    def __init__(self, settings: GeoIPSettings):
        folder = settings.maxmind_db_folder or Path.home() / ".msticpy" / "GeoLite2"
        if not (folder / self.DB_FILE).is_file() and not settings.maxmind_auto_update:
            raise EnrichmentError(
                f"[enrichment.geoip] provider is 'maxmind' but {folder / self.DB_FILE} does "
                "not exist; put the GeoLite2 City database there, set maxmind_db_folder, or "
                "set maxmind_auto_update = true (downloads it with the MaxMind key in "
                "msticpyconfig.yaml)"
            )
        from msticpy.context.geoip import GeoLiteLookup

        self._lookup = GeoLiteLookup(
            db_folder=str(folder),
            auto_update=settings.maxmind_auto_update,
            force_update=False,
        )
        self.source = f"MaxMind GeoLite2 City ({folder / self.DB_FILE})"

    def lookup_many(self, ips: list[str]) -> dict[str, GeoRecord]:
        """Look public addresses up in the local MaxMind database, in one call."""
        _, entities = self._lookup.lookup_ip(ip_addr_list=ips)
        found = {str(e.Address).lower(): getattr(e, "Location", None) for e in entities}
        out = {}
        for ip in ips:
            location = found.get(ip)
            if location is None or not getattr(location, "CountryCode", None):
                out[ip] = GeoRecord(source=self.source)  # not in the database
                continue
            out[ip] = GeoRecord(
                country_code=location.CountryCode,
                country_name=getattr(location, "CountryOrRegionName", None) or None,
                city=getattr(location, "City", None) or None,
                latitude=_float_or_none(getattr(location, "Latitude", None)),
                longitude=_float_or_none(getattr(location, "Longitude", None)),
                source=self.source,
            )
        return out


class MaxMindASN:
    """AS number and organisation from a local MaxMind GeoLite2-ASN.mmdb."""

    def __init__(self, path: Path):
        if not path.is_file():
            raise EnrichmentError(
                f"[enrichment.geoip] asn_db {path} does not exist; give the path of a "
                "GeoLite2-ASN.mmdb file, or remove the setting"
            )
        import geoip2.database

        self._reader = geoip2.database.Reader(str(path))

    def lookup(self, ip: str) -> tuple[int | None, str | None]:
        """(AS number, organisation) or (None, None) when the address is not in the file."""
        import geoip2.errors

        try:
            found = self._reader.asn(ip)
        except geoip2.errors.AddressNotFoundError:
            return None, None
        return found.autonomous_system_number, found.autonomous_system_organization


def _float_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


class _Resolver:
    """The providers chosen by the settings, with a per-address cache."""

    def __init__(self, settings: GeoIPSettings):
        self.geo: OfflineGeoIP | MaxMindGeoIP
        self.asn_names = None
        if settings.provider == "maxmind":
            self.geo = MaxMindGeoIP(settings)
            # AS owners still come from the bundled data unless a MaxMind ASN file is set.
            self.asn_names = None if settings.asn_db else _offline(settings.data_file)
        else:
            self.geo = _offline(settings.data_file)
        self.asn = MaxMindASN(settings.asn_db) if settings.asn_db else None
        self._cache: dict[str, GeoRecord] = {}

    def lookup_many(self, ips: list[str]) -> dict[str, GeoRecord]:
        """Records for public addresses (lower-case text), each looked up once per process."""
        todo = [ip for ip in ips if ip not in self._cache]
        for ip, record in self.geo.lookup_many(todo).items() if todo else ():
            if self.asn is not None:
                number, org = self.asn.lookup(ip)
                record = _replace(record, asn=number, asn_org=org or record.asn_org)
            elif self.asn_names is not None:
                record = _replace(record, asn_org=self.asn_names.lookup(ip).asn_org)
            if len(self._cache) < 1_000_000:  # bound memory on endless streams
                self._cache[ip] = record
        return {ip: self._cache.get(ip) or self.geo.lookup_many([ip])[ip] for ip in ips}


def _replace(record: GeoRecord, **changes: Any) -> GeoRecord:
    from dataclasses import replace

    return replace(record, **changes)


_lock = threading.Lock()
_offline_dbs: dict[Path | None, OfflineGeoIP] = {}
_resolvers: dict[GeoIPSettings, _Resolver] = {}


def _offline(data_file: Path | None) -> OfflineGeoIP:
    # geoip2fast keeps its tables in module globals, so one file is loaded at a time:
    # loading another replaces the tables under every older instance, which are dropped.
    with _lock:
        if data_file not in _offline_dbs:
            loaded = OfflineGeoIP(data_file)
            _offline_dbs.clear()
            _resolvers.clear()
            _offline_dbs[data_file] = loaded
        return _offline_dbs[data_file]


def _resolver(settings: GeoIPSettings) -> _Resolver:
    with _lock:
        found = _resolvers.get(settings)
    if found is None:
        found = _Resolver(settings)
        with _lock:
            _resolvers[settings] = found
    return found


def _unique_addresses(ips: Iterable[Any]) -> list[str]:
    if isinstance(ips, str):
        ips = [ips]
    seen: dict[str, None] = {}
    for value in ips:
        if not is_missing(value):
            seen.setdefault(str(value).strip(), None)
    return list(seen)


def lookup_ips(ips: Iterable[str], *, settings: EnrichmentSettings | None = None) -> pd.DataFrame:
    """One row per distinct address: its class and, for public ones, where and whose it is.

    Columns: IpAddress, IpClass, CountryCode, CountryName, City, Latitude, Longitude,
    Asn, AsnOrg, GeoSource. Non-public rows keep the geo columns empty; values that
    are not addresses get IpClass "invalid" (log fields hold "-" and worse). Blank
    values and NaN are skipped; a single string is one address. Repeated addresses
    are looked up once, so a column of thousands of flows costs one pass.

    Example:
        >>> lookup_ips(["1.1.1.1", "203.0.113.77", "-"])["IpClass"].tolist()
        ['public', 'documentation', 'invalid']
    """
    import pandas as pd

    settings = settings or current_settings()
    addresses = _unique_addresses(ips)
    classes = classify_ips(addresses)
    public = [ip.lower() for ip, c in zip(addresses, classes, strict=True) if c == "public"]
    records = _resolver(settings.geoip).lookup_many(public) if public else {}
    rows = []
    for ip, ip_class in zip(addresses, classes, strict=True):
        record = records[ip.lower()] if ip_class == "public" else GeoRecord()
        rows.append(
            (
                ip,
                ip_class,
                record.country_code,
                record.country_name,
                record.city,
                record.latitude,
                record.longitude,
                record.asn,
                record.asn_org,
                record.source,
            )
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["Latitude"] = frame["Latitude"].astype("float64")
    frame["Longitude"] = frame["Longitude"].astype("float64")
    frame["Asn"] = frame["Asn"].astype("Int64")
    return frame


def lookup_ip(ip: str, *, settings: EnrichmentSettings | None = None) -> dict[str, Any]:
    """The `lookup_ips` row of one address as a dict; EnrichmentError if it is not an address.

    Example:
        >>> lookup_ip("192.168.1.10")["IpClass"]
        'private'
    """
    from nbcatalog.enrich.ipclass import classify_ip

    classify_ip(ip)  # raises with a clear message for a non-address
    frame = lookup_ips([ip], settings=settings)
    if frame.empty:
        raise EnrichmentError("an empty string is not an IP address")
    row = frame.iloc[0].to_dict()
    return {k: (None if _is_missing(v) else v) for k, v in row.items()}


def _is_missing(value: Any) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
