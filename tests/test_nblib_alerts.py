"""Parsing SecurityAlert entities and picking the alerts that name an entity."""

import json

import pandas as pd

from nbcatalog.nblib.alerts import (
    alert_entities,
    alert_names_account,
    alert_names_host,
    alert_summary,
    normalize_alerts,
    parse_entities,
)

ENTITIES = json.dumps(
    [
        {"$id": "1", "Type": "host", "HostName": "WKSTN-042", "DnsDomain": "contoso.com"},
        {"$id": "2", "Type": "account", "Name": "bob", "NTDomain": "CONTOSO"},
        {"$id": "3", "Type": "ip", "Address": "203.0.113.77"},
        {"$id": "4", "Type": "file", "Name": "payload.ps1"},
        {"$id": "5", "Type": "process", "CommandLine": "powershell", "ImageFile": {"$ref": "4"}},
    ]
)


def test_parse_entities_resolves_references():
    entities = parse_entities(ENTITIES)
    assert [e["Type"] for e in entities] == ["host", "account", "ip", "file", "process"]
    assert entities[4]["ImageFile"]["Name"] == "payload.ps1"


def test_parse_entities_survives_hostile_input():
    assert parse_entities(None) == []
    assert parse_entities("") == []
    assert parse_entities("{not json") == []
    assert parse_entities('"just text"') == []
    assert parse_entities("[" * 100000 + "]" * 100000) == []  # too deep to parse
    cyclic = '[{"$id": "1", "Type": "x", "Self": {"$ref": "1"}}]'
    assert parse_entities(cyclic)[0]["Type"] == "x"
    assert parse_entities('{"Type": "ip", "Address": "1.2.3.4"}')[0]["Address"] == "1.2.3.4"


def test_alert_entities_table():
    alerts = pd.DataFrame(
        {"SystemAlertId": ["a1"], "DisplayName": ["RDP brute force"], "Entities": [ENTITIES]}
    )
    table = alert_entities(alerts)
    assert table["AlertDisplayName"].unique().tolist() == ["RDP brute force"]
    values = dict(zip(table["Type"], table["Value"], strict=True))
    assert values["host"] == "WKSTN-042.contoso.com"
    assert values["account"] == "CONTOSO\\bob"
    assert values["ip"] == "203.0.113.77"


def test_alert_naming_is_exact():
    alert = {"Entities": ENTITIES, "CompromisedEntity": ""}
    assert alert_names_host(alert, "wkstn-042")
    assert not alert_names_host(alert, "WKSTN-04")
    assert alert_names_account(alert, "bob@contoso.com")
    assert not alert_names_account(alert, "bobby.jones")
    other = {"Entities": json.dumps([{"Type": "account", "Name": "bobby.jones"}])}
    assert not alert_names_account(other, "bob")
    assert alert_names_host({"Entities": "", "CompromisedEntity": "WKSTN-042"}, "WKSTN-042")


def test_normalize_and_summary():
    alerts = pd.DataFrame(
        {
            "DisplayName": ["b", "a", "a"],
            "AlertSeverity": ["Low", "High", "High"],
            "TimeGenerated": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-02"], utc=True),
        }
    )
    assert {"AlertDisplayName", "Severity"} <= set(normalize_alerts(alerts).columns)
    summary = alert_summary(alerts)
    assert summary[["AlertDisplayName", "Count"]].values.tolist() == [["a", 2], ["b", 1]]
    assert str(summary["FirstSeen"].iloc[0].date()) == "2024-01-01"
    assert alert_summary(pd.DataFrame()).empty
