"""host_summary reads Microsoft Defender for Endpoint's process events (DeviceProcessEvents).

The store is filled by the real importer (`nbcatalog data import`) from a saved
Defender advanced hunting API answer (`{"Stats", "Schema", "Results"}`) of
DeviceProcessEvents rows in Microsoft's column order and types
(tests/fixtures/mde_processes/, written by make_fixtures.py there): wkstn-077 is known
only to Defender; WIN-DC01 has Windows Security 4688 events too. Every figure asserted
is counted here from the fixture files with the json and base64 modules, never by
nbcatalog's parsers; the encoded PowerShell is decoded here the way PowerShell reads
it (base64 of UTF-16LE).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers.defender_fixture import END, MDE_ONLY, MIXED, START, Hunting, Workspace, investigation
from helpers.demo_runs import cli_run_json
from helpers.offline import attempts

import nbcatalog
from nbcatalog.data import connect
from nbcatalog.nblib import hostactivity, hosts, processes

pytest_plugins = ["helpers.offline_plugin"]

FIX = Hunting(
    "mde_processes",
    "DeviceProcessEvents_api.json",
    "SecurityEvent_win-dc01.json",
    "ThreatIntelligenceIndicator.json",
)
results, security_events, device_rows = FIX.results, FIX.security_events, FIX.device_rows


# ------------------------------------------------------------ the fixture, read here


def encoded_row() -> dict:
    return next(r for r in device_rows(MDE_ONLY) if "-EncodedCommand" in r["ProcessCommandLine"])


def decoded_script() -> str:
    token = encoded_row()["ProcessCommandLine"].split("-EncodedCommand", 1)[1].split()[0]
    return base64.b64decode(token).decode("utf-16-le")


def hostile_row() -> dict:
    return next(r for r in results() if "<script>" in r["ProcessCommandLine"])


# ----------------------------------------------------------------- the store


store = FIX.store_fixture()
_inv = investigation


def test_the_api_answer_is_stored_as_device_process_events(store):
    with duckdb.connect(str(store), read_only=True) as con:
        count = con.execute('SELECT count(*) FROM "DeviceProcessEvents"').fetchone()[0]
        hostile = hostile_row()
        stored = con.execute(
            'SELECT ProcessCommandLine, ProcessId, DeviceName FROM "DeviceProcessEvents" '
            "WHERE ReportId = ?",
            [hostile["ReportId"]],
        ).fetchone()
    assert count == len(results())
    # The hostile command line is a value: stored as written, nothing ran as SQL.
    assert stored == (hostile["ProcessCommandLine"], hostile["ProcessId"], hostile["DeviceName"])


def test_find_host_selects_the_defender_device_and_not_its_longer_namesake(store):
    found = hosts.find_host(_inv(connect(f"duckdb:{store}")), MDE_ONLY.upper())
    assert found.name == f"{MDE_ONLY}.contoso.com"  # not wkstn-0770.contoso.com
    assert found.defender == ["DeviceProcessEvents"]


def test_host_processes_gives_defender_rows_the_4688_columns(store):
    inv = _inv(connect(f"duckdb:{store}"))
    found = hosts.find_host(inv, MDE_ONLY)
    got = hostactivity.host_processes(inv, found.name)
    mine = device_rows(MDE_ONLY)
    assert len(got.data) == len(mine)  # the row before the range and wkstn-0770's are out
    assert set(got.data["Log"]) == {"DeviceProcessEvents"}
    assert not got.notes  # no "missing SecurityEvent" note: Defender's rows stand in
    by_pid = got.data.set_index("NewProcessId")
    for row in mine:
        shown = by_pid.loc[hex(row["ProcessId"])]
        assert shown["NewProcessName"] == row["FolderPath"]
        assert shown["CommandLine"] == row["ProcessCommandLine"]
        assert shown["ParentProcessName"] == row["InitiatingProcessFolderPath"]
        assert shown["ProcessId"] == hex(row["InitiatingProcessId"])
        assert shown["Account"] == f"{row['AccountDomain']}\\{row['AccountName']}"
        stamp = re.sub(r"(\.\d{6})\d", r"\1", row["Timestamp"])  # the store keeps microseconds
        assert shown["TimeGenerated"] == pd.Timestamp(stamp)


def test_host_activity_counts_the_device_process_events(store):
    inv = _inv(connect(f"duckdb:{store}"))
    found = hosts.find_host(inv, MDE_ONLY)
    activity = hosts.host_activity(inv, found)
    mine = device_rows(MDE_ONLY)
    assert activity.data.set_index("Source")["Rows"].to_dict() == {"DeviceProcessEvents": len(mine)}
    assert not [m for m in activity.messages() if m.startswith("warning")]


def test_a_host_with_both_logs_has_both_and_the_counts_add_up(store):
    inv = _inv(connect(f"duckdb:{store}"))
    found = hosts.find_host(inv, MIXED)
    assert found.name == "WIN-DC01" and not found.defender  # SecurityEvent names it
    got = hostactivity.host_processes(inv, found.name)
    assert got.data["Log"].value_counts().to_dict() == {
        "SecurityEvent 4688": len(security_events()),
        "DeviceProcessEvents": len(device_rows(MIXED)),
    }
    counts = hosts.host_activity(inv, found).data.set_index("Source")["Rows"].to_dict()
    assert counts == {
        "SecurityEvent": len(security_events()),
        "DeviceProcessEvents": len(device_rows(MIXED)),
    }


def test_a_workspace_is_asked_through_msticpys_query_name(store):
    source = Workspace(store, ["DeviceNetworkEvents", "DeviceProcessEvents"])
    inv = _inv(source)
    found = hosts.find_host(inv, f"{MDE_ONLY}.contoso.com")
    activity = hosts.host_activity(inv, found)
    assert "M365D.list_host_processes" in source.asked
    assert activity.data.set_index("Source")["Rows"].to_dict() == {
        "M365D.list_host_processes": len(device_rows(MDE_ONLY))
    }
    got = processes.notable_processes(inv, found.name)
    assert set(got.data["CommandLine"]) == {
        encoded_row()["ProcessCommandLine"],
        hostile_row()["ProcessCommandLine"],
    }


def test_a_source_without_defender_process_events_says_nothing_of_them(store):
    source = Workspace(store, ["SecurityEvent", "ThreatIntelligenceIndicator"])
    inv = _inv(source)
    got = hostactivity.host_processes(inv, "WIN-DC01")
    assert set(got.data["Log"]) == {"SecurityEvent 4688"}
    assert len(got.data) == len(security_events())
    assert not [m for m in got.messages() if "DeviceProcessEvents" in m]
    assert "M365D.list_host_processes" not in source.asked  # the table is absent: not asked


# ----------------------------------------------------------- through the runner


@pytest.fixture(scope="module")
def cli_run(offline, store, tmp_path_factory) -> dict:
    """`nbcatalog run host-summary --host WKSTN-077 --json --html`, as an analyst runs it."""
    out = tmp_path_factory.mktemp("runs")
    summary = cli_run_json(
        "host-summary",
        store,
        out,
        host=MDE_ONLY.upper(),
        start=START,
        end=END,
        html=True,
        quiet=True,
    )
    assert attempts(offline) == "", "the run tried to go online"
    return summary


@pytest.mark.slow
def test_a_defender_only_host_gets_a_real_summary(cli_run):
    from nbcatalog.batch import results_from_run_dir

    assert cli_run["status"] == "ok"
    res = results_from_run_dir(cli_run["run_dir"])
    mine = device_rows(MDE_ONLY)
    assert res["host_activity"].set_index("Source")["Rows"].to_dict() == {
        "DeviceProcessEvents": len(mine)
    }
    notable = res["notable_processes"]
    assert set(notable["Log"]) == {"DeviceProcessEvents"}
    assert set(notable["CommandLine"]) == {
        encoded_row()["ProcessCommandLine"],
        hostile_row()["ProcessCommandLine"],  # shown as the text it is
    }
    notes = res["summary"].set_index("Item")["Note"]
    assert "DeviceProcessEvents" not in notes["Suspicious processes"]  # rows, not a note
    titles = [f["title"] for f in cli_run["findings"]]
    assert f"2 of {len(mine)} commands run on {MDE_ONLY}.contoso.com look suspicious" in titles


@pytest.mark.slow
def test_the_encoded_powershell_is_decoded_and_its_url_looked_up(cli_run):
    from nbcatalog.batch import results_from_run_dir

    script = decoded_script()
    res = results_from_run_dir(cli_run["run_dir"])
    assert res["decoded_powershell"]["DecodedCommand"].tolist() == [script]
    high = [f for f in cli_run["findings"] if f["severity"] == "high"]
    assert any(f["title"].endswith(f"decoded, it runs: {script}") for f in high)
    url = re.search(r"http://[^']+", script)[0]
    ti = res["cmdline_ti"].set_index("Ioc")
    assert bool(ti.loc[url, "Result"]) and bool(ti.loc[url, "Decoded"])
    tree = res["process_tree"]
    # The session's tree: explorer -> cmd -> (powershell, the hostile cmd, whoami).
    session = [r for r in device_rows(MDE_ONLY) if r["LogonId"] == encoded_row()["LogonId"]]
    assert len(tree) == len(session)
    assert set(tree["LogonId"]) == {hex(encoded_row()["LogonId"])}


@pytest.mark.slow
def test_the_html_report_shows_the_hostile_command_line_as_text(cli_run):
    html = Path(cli_run["report"]).read_text(encoding="utf-8")
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html
    assert "DROP TABLE" in html  # shown, as text


@pytest.mark.slow
def test_a_host_with_both_logs_shows_both_in_the_summary(offline, offline_pool, store, tmp_path):
    res = nbcatalog.run(
        "host_summary",
        host=MIXED,
        start=START,
        end=END,
        data_source=f"duckdb:{store}",
        output_dir=tmp_path,
        pool=offline_pool,
        silent=True,
        quiet=True,
    )
    assert res.status == "ok"
    assert res["host_activity"].set_index("Source")["Rows"].to_dict() == {
        "SecurityEvent": len(security_events()),
        "DeviceProcessEvents": len(device_rows(MIXED)),
    }
    assert set(res["notable_processes"]["Log"]) == {"SecurityEvent 4688", "DeviceProcessEvents"}
    total = len(security_events()) + len(device_rows(MIXED))
    flagged = len(res["notable_processes"])
    assert f"{flagged} of {total} commands run on WIN-DC01 look suspicious" in [
        f["title"] for f in res.findings
    ]
    assert attempts(offline) == "", "the run tried to go online"
