"""nblib.ipinfo without kernels: address facts, and each step on the demo store.

Counts are checked against the tables the steps read (SecurityEvent, Syslog,
SigninLogs, SecurityAlert), so a lost or doubled logon shows as a disagreement.
"""

from __future__ import annotations

import pandas as pd
import pytest

from nbcatalog.nblib import Investigation, ipinfo

ATTACKER = "203.0.113.77"
SPRAYER = "198.51.100.23"
WKSTN_042_IP = "10.10.1.52"


@pytest.mark.parametrize(
    ("ip", "cls", "external"),
    [
        ("10.10.1.52", "private", False),
        ("203.0.113.77", "documentation", True),
        ("8.8.8.8", "public", True),
        ("127.0.0.1", "loopback", False),
        ("fe80::1", "link-local", False),
        ("2001:db8::1", "documentation", True),
    ],
)
def test_address_facts(ip, cls, external):
    facts = ipinfo.ip_facts(ip)
    assert (facts.ip_class, facts.external) == (cls, external)
    table = dict(zip(facts.data["Property"], facts.data["Value"], strict=True))
    assert table["Class"] == cls and table["Meaning"] == ipinfo.MEANING[cls]


def test_not_an_address_is_a_warning_not_an_exception():
    facts = ipinfo.ip_facts("10.0.0.1; DROP TABLE x")
    assert facts.ip_class == "invalid" and facts.data.empty
    assert "is not an IPv4 or IPv6 address" in facts.messages()[0]


def test_internal_addresses_are_never_looked_up(monkeypatch):
    import nbcatalog.enrich.geoip as geoip
    import nbcatalog.enrich.ti as ti

    def refuse(*args, **kwargs):
        raise AssertionError("an internal address was sent to a look-up")

    monkeypatch.setattr(geoip, "lookup_ips", refuse)
    monkeypatch.setattr(ti, "lookup_iocs", refuse)
    geo = ipinfo.geo_for_ip(ipinfo.ip_facts(WKSTN_042_IP))
    assert geo.empty and "none was looked up" in geo.messages()[0]
    found = ipinfo.ti_for_ips(object(), [WKSTN_042_IP, "127.0.0.1"])
    assert found.empty and "2 internal addresses" in found.messages()[0]


def test_ip_entity_and_summary_heading():
    facts = ipinfo.ip_facts("8.8.8.8")
    geo = pd.DataFrame({"CountryName": ["United States"], "CountryCode": ["US"],
                        "AsnOrg": ["GOOGLE"], "Asn": [pd.NA]})  # fmt: skip
    ti = pd.DataFrame({"Ioc": ["8.8.8.8"], "Result": [True], "Severity": ["high"]})
    entity = ipinfo.ip_entity(facts, geo, ti)
    assert entity["Country"] == "United States" and entity["AsnOrg"] == "GOOGLE"
    assert "Asn" not in entity and entity["ThreatIntel"] == "listed (high)"
    found = ipinfo.entity_finding(entity, pd.DataFrame(), "the week")
    assert found.title == "Summary for 8.8.8.8 (public, United States, GOOGLE), the week"
    assert found.notes[0].kind == "finding"


# ------------------------------------------------------------------ demo store


@pytest.fixture(scope="module")
def inv(demo_db):
    return Investigation.open(f"duckdb:{demo_db}")


def _count(inv, sql: str, **params) -> int:
    return int(inv.source.sql(sql, {"s": inv.start, "e": inv.end, **params}).iloc[0, 0])


def test_hosts_using_a_private_address(inv):
    from nbcatalog.nblib.flows import flows_for

    found = ipinfo.hosts_for_ip(inv, WKSTN_042_IP, flows_for(inv, ip=WKSTN_042_IP).data)
    assert set(found.data["HostName"]) == {"WKSTN-042"}
    assert set(found.data["Source"]) == {"Heartbeat", "Network flows"}
    nobody = ipinfo.hosts_for_ip(inv, ATTACKER)
    assert nobody.empty and "no host of the estate reported" in nobody.messages()[0]


def test_logons_from_the_rdp_attacker_agree_with_security_events(inv):
    found = ipinfo.logons_from_ip(inv, ATTACKER)
    windows = found.data[found.data["Source"] == "Windows"]
    for event, result in ((4625, "Failure"), (4624, "Success")):
        expected = _count(
            inv,
            'SELECT count(*) FROM "SecurityEvent" WHERE EventID = $id AND IpAddress = $ip '
            "AND TimeGenerated BETWEEN $s AND $e",
            id=event,
            ip=ATTACKER,
        )
        assert (windows["Result"] == result).sum() == expected > 0
    assert windows.loc[windows["Result"] == "Success", "Account"].str.endswith("bob").all()
    signins = found.data[found.data["Source"] == "Entra ID sign-in"]
    assert len(signins) == _count(
        inv,
        'SELECT count(*) FROM "SigninLogs" WHERE IPAddress = $ip '
        "AND TimeGenerated BETWEEN $s AND $e",
        ip=ATTACKER,
    )
    assert set(signins["Account"]) == {"bob@contoso.com"}
    summary = ipinfo.logon_summary(found.data)
    top = summary.iloc[0]
    assert (top["Computer"], top["Result"], top["Accounts"]) == ("WKSTN-042", "Failure", 24)


def test_ssh_spray_is_one_row_per_attempt(inv):
    found = ipinfo.logons_from_ip(inv, SPRAYER)
    pam = _count(
        inv,
        "SELECT count(*) FROM \"Syslog\" WHERE SyslogMessage LIKE '%authentication failure%' "
        "AND (SyslogMessage LIKE '%rhost=' || $ip OR SyslogMessage LIKE '%rhost=' || $ip || ' %') "
        "AND TimeGenerated BETWEEN $s AND $e",
        ip=SPRAYER,
    )
    linux = found.data[found.data["Source"] == "Linux"]
    assert (linux["Result"] == "Failure").sum() == pam == 240
    assert linux.loc[linux["Result"] == "Success", "Account"].tolist() == ["deploy"]
    assert (linux.loc[linux["Result"] == "Failure", "Account"] != "").all()


def test_alerts_and_bookmarks_name_the_address_exactly(inv):
    alerts = ipinfo.alerts_for_ip(inv, ATTACKER)
    assert len(alerts.data) > 0
    assert all(ATTACKER in text for text in alerts.data["Entities"])
    assert ipinfo.alerts_for_ip(inv, "203.0.113.7").empty  # a prefix is another address
    bookmarks = ipinfo.bookmarks_for_ip(inv, ATTACKER)
    assert len(bookmarks.data) == 1
    assert (
        "no bookmarks name 10.10.1.52" in ipinfo.bookmarks_for_ip(inv, WKSTN_042_IP).messages()[0]
    )


def test_ti_on_the_demo(inv):
    found = ipinfo.ti_for_ips(inv, [ATTACKER, SPRAYER, WKSTN_042_IP])
    assert ipinfo.ti_matches(found.data) == [ATTACKER]
    assert found.data.set_index("Ioc").loc[ATTACKER, "Severity"] == "high"
    assert any("1 internal address" in m for m in found.messages())
    assert any(m.startswith("finding: 1 address(es) listed") for m in found.messages())


class Empty:
    """A workspace with none of the tables an address summary reads."""

    def tables(self):
        return []

    def query(self, name, **params):  # pragma: no cover - must not be reached
        raise AssertionError(name)


def test_missing_tables_are_notes():
    t0 = pd.Timestamp("2024-05-01", tz="UTC")
    inv = Investigation(Empty(), t0, t0 + pd.Timedelta("1d"))
    logons = ipinfo.logons_from_ip(inv, ATTACKER)
    assert logons.empty and {n.kind for n in logons.notes} == {"missing", "info"}
    assert any("no SecurityEvent table" in m for m in logons.messages())
    assert ipinfo.alerts_for_ip(inv, ATTACKER).missing
    assert ipinfo.bookmarks_for_ip(inv, ATTACKER).missing
    assert "no Heartbeat table" in ipinfo.hosts_for_ip(inv, WKSTN_042_IP).messages()[0]
    ti = ipinfo.ti_for_ips(inv, [ATTACKER])
    assert ti.missing and "no ThreatIntelligenceIndicator table" in ti.messages()[0]


def test_public_address_is_located_offline():
    geo = ipinfo.geo_for_ip(ipinfo.ip_facts("8.8.8.8"))
    row = geo.data.iloc[0]
    assert (row["CountryCode"], row["AsnOrg"]) == ("US", "GOOGLE")  # bundled GeoLite2 data
    entity = ipinfo.ip_entity(ipinfo.ip_facts("8.8.8.8"), geo.data, None)
    assert entity["Country"] == "United States" and "ThreatIntel" not in entity
    many = ipinfo.geo_for_ips(["8.8.8.8", "10.0.0.1", "192.0.2.66", "8.8.8.8"])
    assert many.data["IpAddress"].tolist() == ["8.8.8.8", "10.0.0.1", "192.0.2.66"]
    assert many.messages() == [
        "info: 2 of 3 addresses are not public: no location or owner looked up for them"
    ]
