"""Hosts seen only in Microsoft Defender for Endpoint tables are found, and say so.

A store is built with the real importer (`nbcatalog data import`) from
DeviceNetworkEvents rows written here in the shape Sentinel exports Defender's
advanced-hunting tables (the same keys as tests/fixtures/network/), plus two
Heartbeat rows for a host Defender also names. Every figure asserted is counted
by this file from the rows it wrote, never by nbcatalog's parsers.
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers.defender_fixture import END, START, Workspace, investigation
from helpers.offline import attempts
from run_helpers import outputs_text

import nbcatalog
from nbcatalog.data import connect
from nbcatalog.nblib import hosts

pytest_plugins = ["helpers.offline_plugin"]

NBCATALOG = Path(sys.executable).parent / "nbcatalog"
TEMPLATE_ROW = Path(__file__).parent / "fixtures" / "network" / "DeviceNetworkEvents_web02.json"
# A workspace holding only Defender tables: answers by query name, cannot list values.
DEFENDER_ONLY_TABLES = ["DeviceNetworkEvents"]
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
FQDN, SHORT = "wkstn-042.contoso.com", "WKSTN-042"  # one device, two spellings
OTHER = "wkstn-043.contoso.com"
BOTH = ("WIN-DC01", "win-dc01.contoso.com")  # Heartbeat's name, Defender's name
HOSTILE = '<img src=x onerror=alert(1)>\'; DROP TABLE "Heartbeat"; --'


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _event(keys: list[str], device: str, when: datetime, action: str, **values) -> dict:
    row = dict.fromkeys(keys, "")
    row.update(
        {
            "TenantId": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "TimeGenerated": _iso(when + timedelta(seconds=30)),
            "Timestamp": _iso(when),
            "DeviceId": "d" * 40,
            "DeviceName": device,
            "ActionType": action,
            "RemoteIP": "203.0.113.9",
            "RemotePort": 443,
            "LocalIP": "10.10.1.52",
            "LocalPort": 50000,
            "Protocol": "Tcp",
            "InitiatingProcessFileName": "chrome.exe",
            "InitiatingProcessFileSize": 1000,
            "InitiatingProcessId": 4242,
            "InitiatingProcessParentId": 1,
            "ReportId": 1,
            "Type": "DeviceNetworkEvents",
        }
    )
    row.update(values)
    return row


def _rows() -> list[dict]:
    keys = list(json.loads(TEMPLATE_ROW.read_text(encoding="utf-8"))[0])
    rows = []
    for i in range(20):  # outbound, three of them logged under the short name
        device = SHORT if i % 7 == 0 else FQDN
        rows.append(_event(keys, device, T0 + timedelta(minutes=5 * i), "ConnectionSuccess"))
    for i in range(6):
        rows.append(
            _event(
                keys,
                FQDN,
                T0 + timedelta(minutes=3 * i + 1),
                "InboundConnectionAccepted",
                RemoteIP="198.51.100.23",
                RemotePort=51000 + i,
                LocalPort=3389,
                InitiatingProcessFileName="svchost.exe",
            )
        )
    for i in range(4):
        rows.append(_event(keys, FQDN, T0 + timedelta(hours=i), "ListeningConnectionCreated"))
    for i in range(5):  # three weeks earlier: outside the time range
        rows.append(_event(keys, FQDN, T0 - timedelta(days=21, minutes=i), "ConnectionSuccess"))
    rows += [_event(keys, OTHER, T0 + timedelta(minutes=i), "ConnectionSuccess") for i in range(4)]
    rows += [
        _event(keys, BOTH[1], T0 + timedelta(minutes=i), "ConnectionSuccess") for i in range(2)
    ]
    rows.append(_event(keys, HOSTILE, T0, "ConnectionSuccess"))
    return rows


def _heartbeats() -> list[dict]:
    return [
        {
            "TenantId": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "TimeGenerated": _iso(T0 + timedelta(minutes=i)),
            "Computer": BOTH[0],
            "OSType": "Windows",
            "Category": "Direct Agent",
            "ComputerIP": "10.10.0.4",
            "Type": "Heartbeat",
        }
        for i in range(2)
    ]


@pytest.fixture(scope="module")
def written() -> list[dict]:
    return _rows()


@pytest.fixture(scope="module")
def store(tmp_path_factory, written) -> Path:
    folder = tmp_path_factory.mktemp("defender")
    events, beats = folder / "DeviceNetworkEvents.json", folder / "Heartbeat.json"
    events.write_text(json.dumps(written, indent=1), encoding="utf-8")
    beats.write_text(json.dumps(_heartbeats(), indent=1), encoding="utf-8")
    db = folder / "store.duckdb"
    proc = subprocess.run(
        [str(NBCATALOG), "data", "import", str(events), str(beats), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return db


def _in_range(rows: list[dict], *devices: str) -> list[dict]:
    return [r for r in rows if r["DeviceName"] in devices and START <= r["TimeGenerated"] <= END]


_inv = investigation


# ------------------------------------------------------------------ find_host


@pytest.mark.parametrize("typed", ["wkstn-042", "WKSTN-042.contoso.com", "wkstn-042.CONTOSO.com"])
def test_find_host_resolves_a_defender_device_by_short_name_or_fqdn(store, typed):
    found = hosts.find_host(_inv(connect(f"duckdb:{store}")), typed)
    assert found.name is not None and found.matched
    # The FQDN and the short spelling Defender also used are one host.
    assert found.candidates == [SHORT]
    assert found.names == sorted([FQDN, SHORT])
    assert found.defender == ["DeviceNetworkEvents"]
    assert found.os_family is None  # DeviceNetworkEvents does not say the OS
    assert any("known only from Microsoft Defender" in m for m in found.messages())
    assert not [m for m in found.messages() if "no host named" in m]


def test_a_host_heartbeat_knows_is_not_taken_from_defender(store):
    found = hosts.find_host(_inv(connect(f"duckdb:{store}")), "win-dc01")
    assert found.name == BOTH[0]
    assert found.names == [BOTH[0]]  # Defender was not asked: Heartbeat named it
    assert found.defender == []
    assert hosts.defender_only_note(_inv(connect(f"duckdb:{store}")), "win-dc01", "x") is None


def test_an_unknown_host_is_still_no_host_with_defenders_names_as_closest(store):
    inv = _inv(connect(f"duckdb:{store}"))
    found = hosts.find_host(inv, "wkstn-42")
    assert found.name is None and not found.matched
    assert SHORT in found.closest
    assert any("no host named 'wkstn-42'" in m for m in found.messages())
    assert inv.require_entity(found) is False
    assert inv.outcome.status == "no_data"
    assert SHORT in inv.outcome.reason


def test_a_partial_name_selecting_two_devices_lists_both(store):
    found = hosts.find_host(_inv(connect(f"duckdb:{store}")), "wkstn-04")
    assert found.name is None
    assert sorted(found.candidates) == sorted([SHORT, OTHER])


def test_hostile_device_names_stay_data(store, written):
    source = connect(f"duckdb:{store}")
    found = hosts.find_host(_inv(source), HOSTILE)
    assert found.name == HOSTILE  # a value, matched as written
    # Nothing ran as SQL: the tables are all there with every row written.
    assert source.sql('SELECT count(*) FROM "Heartbeat"').iloc[0, 0] == 2
    assert source.sql('SELECT count(*) FROM "DeviceNetworkEvents"').iloc[0, 0] == len(written)


def test_host_activity_counts_the_defender_rows_in_the_range(store, written):
    inv = _inv(connect(f"duckdb:{store}"))
    found = hosts.find_host(inv, "wkstn-042")
    activity = hosts.host_activity(inv, found)
    assert activity.empty  # none of the tables host_summary reads has a row of it
    mine = _in_range(written, FQDN, SHORT)
    times = sorted(r["TimeGenerated"] for r in mine)
    note = " ".join(activity.messages())
    assert f"DeviceNetworkEvents: {len(mine)} rows in the time range" in note
    assert f"from {times[0][:10]} {times[0][11:16]} to {times[-1][:10]} {times[-1][11:16]}" in note
    assert "Microsoft Defender tables only" in note and "host_network_summary" in note


# --------------------------------------------- a source that cannot list (msticpy)


def test_a_workspace_finds_the_device_through_the_defender_query(store, written):
    source = Workspace(store, DEFENDER_ONLY_TABLES)
    inv = _inv(source)
    found = hosts.find_host(inv, "wkstn-042")
    assert found.candidates == [SHORT] and found.defender == ["DeviceNetworkEvents"]
    assert "M365D.host_connections" in source.asked
    note = " ".join(hosts.host_activity(inv, found).messages())
    assert f"DeviceNetworkEvents: {len(_in_range(written, FQDN, SHORT))} rows" in note
    assert hosts.find_host(_inv(Workspace(store, DEFENDER_ONLY_TABLES)), "wkstn-999").name is None


# ----------------------------------------------------------- through the runner


@pytest.fixture(autouse=False)
def stays_offline(offline):
    yield
    assert attempts(offline) == "", "a run tried to go online"


@pytest.fixture(scope="module")
def runner(offline_pool, tmp_path_factory, store):
    out = tmp_path_factory.mktemp("runs")
    cache: dict[tuple, object] = {}

    def run(name: str, host: str):
        if (name, host) not in cache:
            cache[name, host] = nbcatalog.run(
                name,
                host=host,
                start=START,
                end=END,
                data_source=f"duckdb:{store}",
                output_dir=out,
                pool=offline_pool,
                silent=True,
                quiet=True,
            )
        return cache[name, host]

    return run


DEFENDER_ONLY = "its data comes from Microsoft Defender tables only (DeviceNetworkEvents)"


@pytest.mark.slow
def test_host_summary_of_a_defender_only_host_is_no_data_saying_why(runner, written, stays_offline):
    res = runner("host_summary", "wkstn-042")
    # Nothing host_summary reads names the host: not an "ok" run of empty sections.
    assert res.status == "no_data"
    assert res.reason == f"no records of {SHORT} in 2026-11-29 00:00 to 2026-12-01 00:00 UTC"
    assert res["host_matches"]["HostName"].tolist() == [SHORT]
    assert res["host_activity"].empty
    host = outputs_text(res, "host")
    assert "known only from Microsoft Defender for Endpoint (DeviceNetworkEvents)" in host
    assert f"DeviceNetworkEvents: {len(_in_range(written, FQDN, SHORT))} rows" in host
    assert f"no Heartbeat rows for {SHORT}: {DEFENDER_ONLY}" in host
    # The process section reads Defender's process events too, and says so.
    processes = f"no SecurityEvent, Syslog or DeviceProcessEvents rows for {SHORT}: {DEFENDER_ONLY}"
    assert processes in outputs_text(res, "notable")
    assert (
        "of Defender's tables only DeviceProcessEvents (host_summary's process sections, "
        "logon_session_rarity); DeviceLogonEvents (host_logons_summary) are read"
    ) in html.unescape(host)  # the note's apostrophes are HTML entities in the output
    assert f"no NSG flow rows for {SHORT}: {DEFENDER_ONLY}" in outputs_text(res, "beacons")
    notes = res["summary"].set_index("Item")["Note"]
    assert notes["Suspicious processes"].endswith(DEFENDER_ONLY)
    assert res.findings in (None, [])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "section", "table"),
    [
        # host_logons_summary reads Defender's logons too, and says so.
        ("host_logons_summary", "logons", "SecurityEvent, Syslog or DeviceLogonEvents logon"),
        ("win_host_events", "host", "SecurityEvent"),
        ("logon_session_rarity", "host", "SecurityEvent process creation"),
        ("network_flow_summary", "flows", "NSG flow"),
    ],
)
def test_other_host_notebooklets_say_the_host_is_defender_only(
    runner, name, section, table, stays_offline
):
    res = runner(name, "wkstn-042.contoso.com")
    assert res.status == "no_data"
    assert "no host named" not in res.reason and SHORT in res.reason
    assert f"no {table} rows for {SHORT}: {DEFENDER_ONLY}" in outputs_text(res, section)


@pytest.mark.slow
def test_host_network_summary_shows_the_defender_connections(runner, written, stays_offline):
    res = runner("host_network_summary", "wkstn-042")
    assert res.status == "ok"
    by_log = res["connections_by_source"].set_index("Source")["Connections"]
    connections = [
        r
        for r in _in_range(written, FQDN, SHORT)
        if r["ActionType"] != "ListeningConnectionCreated"
    ]
    assert by_log["Defender"] == len(connections)
    assert by_log["Firewall"] == by_log["NSG flows"] == 0
    rdp = res["brute_force"]
    inbound = [r for r in connections if r["LocalPort"] == 3389]
    assert rdp.set_index("Source").loc["Defender", "Flows"] == len(inbound)


@pytest.mark.slow
def test_host_summary_of_an_unknown_host_names_the_closest_devices(runner, stays_offline):
    res = runner("host_summary", "wkstn-42")
    assert res.status == "no_data"
    assert res.reason.startswith("no host named 'wkstn-42' in this data source")
    assert SHORT in res.reason
