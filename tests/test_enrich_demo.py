"""Enrichment on the demo estate: what the notebooklets will ask of it, end to end."""

from __future__ import annotations

import duckdb
import pytest

from nbcatalog.enrich.geoip import lookup_ips
from nbcatalog.enrich.iocs import extract_entity_iocs, extract_iocs
from nbcatalog.enrich.ti import SEVERITY_RANK, lookup_iocs

pytest_plugins = ["enrich_support"]  # isolated_config, no_network
pytestmark = pytest.mark.usefixtures("isolated_config")

PLANTED = [
    "203.0.113.77",
    "192.0.2.66",
    "http://malicious.example/payload.ps1",
    "malicious.example",
]


@pytest.fixture(scope="module")
def demo(demo_db):
    return demo_db


def frame(demo, sql: str):
    con = duckdb.connect(str(demo), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_planted_indicators_are_high_severity_hits(demo, no_network):
    hashes = frame(
        demo,
        "SELECT FileHashValue FROM ThreatIntelligenceIndicator "
        "WHERE FileHashValue IS NOT NULL ORDER BY ThreatSeverity DESC, TimeGenerated DESC LIMIT 1",
    )["FileHashValue"].tolist()
    res = lookup_iocs([*PLANTED, *hashes, "8.8.8.8"], data_source=f"duckdb:{demo}")
    hits = res[res["Result"]]
    assert set(PLANTED) | set(hashes) == set(hits["Ioc"])
    assert set(hits["Severity"]) == {"high"}
    assert res.iloc[-1]["Ioc"] == "8.8.8.8" and not res.iloc[-1]["Result"]
    assert no_network == []


def test_alerts_naming_the_attacker_rank_high(demo):
    """What alert_ti_enrich does: IoCs from each alert's entities, TI on them, worst first."""
    alerts = frame(demo, "SELECT SystemAlertId, AlertName, Entities FROM SecurityAlert")
    per_alert = {a.SystemAlertId: extract_entity_iocs(a.Entities) for a in alerts.itertuples()}
    all_iocs = {ioc for found in per_alert.values() for ioc in found["Ioc"]}
    ti = lookup_iocs(all_iocs, data_source=f"duckdb:{demo}")  # one look-up for every alert
    worst = ti[ti["Result"]].groupby("Ioc")["Severity"].first()  # results come worst first
    top = {
        alert_id: max(
            (worst.get(ioc, "none") for ioc in found["Ioc"]),
            key=lambda sev: SEVERITY_RANK.get(sev, -1),
            default="none",
        )
        for alert_id, found in per_alert.items()
    }
    naming = alerts[alerts["Entities"].str.contains("203.0.113.77", regex=False, na=False)]
    assert len(naming) >= 1
    assert all(top[a] == "high" for a in naming["SystemAlertId"])
    others = alerts[~alerts["SystemAlertId"].isin(naming["SystemAlertId"])]
    assert any(top[a] != "high" for a in others["SystemAlertId"])  # not everything is high
    assert set(top.values()) <= set(SEVERITY_RANK) | {"none"}


def test_command_line_indicators_of_the_intrusion(demo):
    lines = frame(
        demo,
        "SELECT CommandLine FROM SecurityEvent WHERE Computer LIKE 'WKSTN-042%' "
        "AND EventID = 4688 AND CommandLine IS NOT NULL",
    )["CommandLine"]
    found = extract_iocs(lines)
    # The stager URL is only in PowerShell's -EncodedCommand text.
    assert "http://malicious.example/payload.ps1" in set(found["Ioc"])
    assert "http://malicious.example/payload.ps1" not in set(
        extract_iocs(lines, decode=False)["Ioc"]
    )
    # The attacker's markup is text, and holds no indicator.
    script = lines[lines.str.contains("<script>", regex=False)]
    assert len(script) >= 1
    assert extract_iocs(script).empty


def test_geoip_on_sign_in_and_flow_addresses(demo, no_network):
    signins = frame(demo, "SELECT DISTINCT IPAddress FROM SigninLogs")["IPAddress"]
    flows = frame(
        demo,
        "SELECT DISTINCT ip FROM (SELECT SrcIP_s AS ip FROM AzureNetworkAnalytics_CL "
        "UNION SELECT DestIP_s FROM AzureNetworkAnalytics_CL)",
    )["ip"]
    geo = lookup_ips([*signins, *flows]).set_index("IpAddress")
    assert geo.loc["203.0.113.77", "IpClass"] == "documentation"
    assert geo.loc["192.0.2.66", "IpClass"] == "documentation"
    assert pd_isna_all(geo.loc[["203.0.113.77", "192.0.2.66"], "CountryCode"])
    public = geo[geo["IpClass"] == "public"]
    assert len(public) > 10
    assert public["CountryCode"].notna().all()
    assert set(geo["IpClass"]) <= {"public", "private", "documentation"}
    assert no_network == []


def pd_isna_all(values) -> bool:
    return bool(values.isna().all())
