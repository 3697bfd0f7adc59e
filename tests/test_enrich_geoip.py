"""GeoIP/ASN look-ups on the bundled offline data: real answers, no network, fast in bulk."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pandas as pd
import pytest

from nbcatalog.enrich import geoip
from nbcatalog.enrich.errors import EnrichmentError
from nbcatalog.enrich.settings import configure

pytest_plugins = ["enrich_support"]  # isolated_config, no_network
pytestmark = pytest.mark.usefixtures("isolated_config")

INTERFACE_COLUMNS = [
    "IpAddress",
    "IpClass",
    "CountryCode",
    "CountryName",
    "City",
    "Latitude",
    "Longitude",
    "Asn",
    "AsnOrg",
]


def test_well_known_public_addresses_resolve_offline(no_network):
    df = geoip.lookup_ips(
        ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "81.2.69.142", "13.107.42.14"]
    ).set_index("IpAddress")
    assert df.loc["8.8.8.8", "CountryCode"] == "US"
    assert df.loc["8.8.8.8", "CountryName"] == "United States"
    assert df.loc["8.8.8.8", "AsnOrg"] == "GOOGLE"
    assert df.loc["1.1.1.1", "AsnOrg"] == "CLOUDFLARENET"
    assert df.loc["2001:4860:4860::8888", "CountryCode"] == "US"  # IPv6 is covered too
    assert df.loc["2001:4860:4860::8888", "AsnOrg"] == "GOOGLE"
    assert df.loc["81.2.69.142", "CountryCode"] == "GB"
    assert "MICROSOFT" in df.loc["13.107.42.14", "AsnOrg"]
    assert (df["IpClass"] == "public").all()
    # Country centres: inside the country's bounding box, good enough for a map.
    assert 24 < df.loc["8.8.8.8", "Latitude"] < 50
    assert -125 < df.loc["8.8.8.8", "Longitude"] < -66
    assert 49 < df.loc["81.2.69.142", "Latitude"] < 61
    assert df["GeoSource"].str.contains("geoip2fast").all()
    assert no_network == []


def test_columns_follow_the_agreed_interface():
    df = geoip.lookup_ips(["8.8.8.8"])
    assert list(df.columns)[: len(INTERFACE_COLUMNS)] == INTERFACE_COLUMNS
    assert str(df["Latitude"].dtype) == "float64"
    assert str(df["Asn"].dtype) == "Int64"
    assert df["City"].isna().all()  # the bundled data is country-level, and says so
    assert df["GeoSource"].str.contains("country centre").all()


def test_non_public_addresses_are_classified_and_never_looked_up(monkeypatch):
    asked: list[str] = []
    real_lookup = geoip._Resolver.lookup_many

    def spy(self, ips):
        asked.extend(ips)
        return real_lookup(self, ips)

    monkeypatch.setattr(geoip._Resolver, "lookup_many", spy)
    special = {
        "192.0.2.66": "documentation",
        "198.51.100.23": "documentation",
        "203.0.113.77": "documentation",
        "2001:db8::5": "documentation",
        "10.0.0.5": "private",
        "100.64.3.4": "private",
        "127.0.0.1": "loopback",
        "169.254.169.254": "link-local",
        "224.0.0.251": "multicast",
        "240.0.0.1": "reserved",
    }
    df = geoip.lookup_ips([*special, "8.8.8.8"]).set_index("IpAddress")
    assert asked == ["8.8.8.8"]
    for ip, ip_class in special.items():
        assert df.loc[ip, "IpClass"] == ip_class
        row = df.loc[ip, ["CountryCode", "CountryName", "City", "Latitude", "Longitude", "AsnOrg"]]
        assert row.isna().all(), ip


def test_junk_and_hostile_values_become_invalid_rows(no_network):
    hostile = [
        "x' OR '1'='1",
        "8.8.8.8; DROP TABLE x",
        '" | where 1==1',
        "<script>alert(1)</script>",
        "-",
        "a" * 50_000,
    ]
    df = geoip.lookup_ips([*hostile, "8.8.8.8"])
    assert df["IpClass"].tolist() == ["invalid"] * len(hostile) + ["public"]
    assert df.iloc[: len(hostile)]["CountryCode"].isna().all()
    assert no_network == []


def test_blanks_are_skipped_repeats_kept_once_in_first_seen_order():
    values = ["8.8.8.8", None, float("nan"), pd.NA, pd.NaT, "", "  ", "10.0.0.1", " 8.8.8.8 "]
    df = geoip.lookup_ips(pd.Series(values, dtype=object))
    assert df["IpAddress"].tolist() == ["8.8.8.8", "10.0.0.1"]
    assert geoip.lookup_ips("1.1.1.1")["IpAddress"].tolist() == ["1.1.1.1"]  # one string
    assert geoip.lookup_ips([]).columns.tolist()[:9] == INTERFACE_COLUMNS


def test_lookup_ip_single_address():
    row = geoip.lookup_ip("8.8.8.8")
    assert row["CountryCode"] == "US" and row["AsnOrg"] == "GOOGLE" and row["Asn"] is None
    assert geoip.lookup_ip("192.168.1.1")["IpClass"] == "private"
    with pytest.raises(ValueError, match="not an IP address"):
        geoip.lookup_ip("not-an-ip")


def test_thousands_of_addresses_are_fast():
    rng = random.Random(7)
    unique = [
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(5000)
    ]
    flows = [rng.choice(unique) for _ in range(50_000)]  # a flow table repeats addresses
    geoip.lookup_ips(["8.8.8.8"])  # data file loaded once per process
    started = time.perf_counter()
    df = geoip.lookup_ips(flows)
    elapsed = time.perf_counter() - started
    assert len(df) == len(set(flows))
    assert df.loc[df["IpClass"] == "public", "CountryCode"].notna().mean() > 0.9
    assert elapsed < 3.0, f"50k addresses took {elapsed:.2f}s"


def test_maxmind_is_not_used_unless_configured(no_network, tmp_path):
    # Default: offline provider, no msticpy GeoLiteLookup.
    assert geoip.lookup_ips(["8.8.8.8"])["GeoSource"].str.startswith("geoip2fast").all()
    # Configured without a database (and without auto-update): a clear error, no download.
    configure({"geoip": {"provider": "maxmind", "maxmind_db_folder": str(tmp_path)}})
    with pytest.raises(EnrichmentError, match="GeoLite2-City.mmdb") as caught:
        geoip.lookup_ips(["8.8.8.8"])
    assert str(tmp_path) in str(caught.value)
    # Private addresses need no provider at all, so they still work.
    assert geoip.lookup_ips(["10.0.0.1"])["IpClass"].tolist() == ["private"]
    assert no_network == []


def test_misconfigured_files_are_clear_errors(tmp_path):
    configure({"geoip": {"data_file": str(tmp_path / "missing.dat.gz")}})
    with pytest.raises(EnrichmentError, match="missing.dat.gz"):
        geoip.lookup_ips(["8.8.8.8"])
    configure({"geoip": {"asn_db": str(tmp_path / "GeoLite2-ASN.mmdb")}})
    with pytest.raises(EnrichmentError, match="asn_db"):
        geoip.lookup_ips(["8.8.8.8"])


@pytest.fixture
def maxmind_folder(tmp_path):
    """A real GeoLite2-City and GeoLite2-ASN database, written in the MaxMind DB format."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    city = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City", languages=["en"]
    )
    city.insert_network(
        IPSet(["8.8.8.0/24"]),
        {
            "city": {"names": {"en": "Mountain View"}},
            "country": {"iso_code": "US", "names": {"en": "United States"}},
            "location": {"latitude": 37.386, "longitude": -122.0838},
        },
    )
    city.insert_network(
        IPSet(["81.2.69.0/24"]),
        {
            "city": {"names": {"en": "London"}},
            "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
            "location": {"latitude": 51.5142, "longitude": -0.0931},
        },
    )
    city.to_db_file(str(tmp_path / "GeoLite2-City.mmdb"))
    asn = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN", languages=["en"]
    )
    asn.insert_network(
        IPSet(["8.8.8.0/24"]),
        {"autonomous_system_number": 15169, "autonomous_system_organization": "GOOGLE"},
    )
    asn.to_db_file(str(tmp_path / "GeoLite2-ASN.mmdb"))
    return tmp_path


def test_configured_maxmind_gives_cities_and_as_numbers(maxmind_folder, no_network):
    configure(
        {
            "geoip": {
                "provider": "maxmind",
                "maxmind_db_folder": str(maxmind_folder),
                "asn_db": str(maxmind_folder / "GeoLite2-ASN.mmdb"),
            }
        }
    )
    df = geoip.lookup_ips(["8.8.8.8", "81.2.69.142", "1.1.1.1", "203.0.113.77"])
    df = df.set_index("IpAddress")
    assert df.loc["8.8.8.8", "City"] == "Mountain View"
    assert df.loc["8.8.8.8", ["Latitude", "Longitude"]].tolist() == [37.386, -122.0838]
    assert df.loc["8.8.8.8", "Asn"] == 15169 and df.loc["8.8.8.8", "AsnOrg"] == "GOOGLE"
    assert df.loc["81.2.69.142", "City"] == "London"
    assert df.loc["81.2.69.142", "CountryCode"] == "GB"
    assert pd.isna(df.loc["1.1.1.1", "CountryCode"])  # not in this small database
    assert df.loc["203.0.113.77", "IpClass"] == "documentation"
    assert df.loc["8.8.8.8", "GeoSource"].startswith("MaxMind GeoLite2 City")
    assert no_network == []  # a local database and no auto-update: nothing downloaded


def test_maxmind_city_with_offline_as_owners(maxmind_folder):
    configure({"geoip": {"provider": "maxmind", "maxmind_db_folder": str(maxmind_folder)}})
    row = geoip.lookup_ip("8.8.8.8")
    assert row["City"] == "Mountain View"
    assert row["AsnOrg"] == "GOOGLE" and row["Asn"] is None  # from the bundled data


def test_switching_geoip2fast_data_files_and_back():
    import geoip2fast

    country_only = Path(geoip2fast.__file__).parent / "geoip2fast.dat.gz"  # no ASN data
    configure({"geoip": {"data_file": str(country_only)}})
    row = geoip.lookup_ip("8.8.8.8")
    assert row["CountryCode"] == "US" and row["AsnOrg"] is None
    configure(None)  # back to the bundled country + ASN file: its tables are reloaded
    geoip.lookup_ips(["8.8.8.8"])
    row = geoip.lookup_ip("9.9.9.9")  # not in any cache yet
    assert row["CountryCode"] is not None and "QUAD9" in row["AsnOrg"].upper()
