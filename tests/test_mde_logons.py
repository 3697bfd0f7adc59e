"""host_logons_summary reads Microsoft Defender for Endpoint's logons (DeviceLogonEvents).

The store is filled by the real importer (`nbcatalog data import`) from a saved
Defender advanced hunting API answer (`{"Stats", "Schema", "Results"}`) of
DeviceLogonEvents rows in Microsoft's column order and types
(tests/fixtures/mde_logons/, written by make_fixtures.py there): wkstn-077 is known
only to Defender (normal logons, then a brute force from one public address against
several accounts, one named with markup, ending in a success); WIN-DC01 has Windows
Security 4624/4625 events too. Every figure asserted is counted here from the fixture
files with the json module, never by nbcatalog's parsers.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from helpers.defender_fixture import END, MDE_ONLY, MIXED, START, Hunting, Workspace, investigation
from helpers.demo_runs import cli_run_json
from helpers.offline import attempts

import nbcatalog
from nbcatalog.data import connect
from nbcatalog.nblib import hosts, logons

pytest_plugins = ["helpers.offline_plugin"]

FIX = Hunting("mde_logons", "DeviceLogonEvents_api.json", "SecurityEvent_win-dc01.json")
results, security_events, device_rows = FIX.results, FIX.security_events, FIX.device_rows
HOSTILE = "<img src=x onerror=1>"
# Windows' numbers of the logon type names, as Microsoft documents event 4624's types.
WINDOWS_NUMBER = {"Interactive": "2", "Network": "3", "Service": "5", "Unlock": "7",
                  "RemoteInteractive": "10", "Batch": "4"}  # fmt: skip


# ------------------------------------------------------------ the fixture, read here


def attempts_of(short: str) -> list[dict]:
    """The rows that are logon attempts with an outcome (LogonAttempted has none)."""
    return [r for r in device_rows(short) if r["ActionType"] in ("LogonSuccess", "LogonFailed")]


def account(row: dict) -> str:
    return f"{row['AccountDomain']}\\{row['AccountName']}"


def attacker() -> tuple[str, list[dict]]:
    """The public address with the most failures on wkstn-077, and its failed rows."""
    failed = [r for r in attempts_of(MDE_ONLY) if r["ActionType"] == "LogonFailed"]
    public = Counter(r["RemoteIP"] for r in failed if r["RemoteIPType"] == "Public")
    ip = public.most_common(1)[0][0]
    return ip, [r for r in failed if r["RemoteIP"] == ip]


# ----------------------------------------------------------------- the store


store = FIX.store_fixture()
_inv = investigation


def test_the_api_answer_is_stored_as_device_logon_events(store):
    hostile = next(r for r in results() if r["AccountName"] == HOSTILE)
    admin = next(r for r in results() if r["IsLocalAdmin"])
    with duckdb.connect(str(store), read_only=True) as con:
        count = con.execute('SELECT count(*) FROM "DeviceLogonEvents"').fetchone()[0]
        stored = con.execute(
            'SELECT AccountName, RemoteIP, DeviceName FROM "DeviceLogonEvents" WHERE ReportId = ?',
            [hostile["ReportId"]],
        ).fetchone()
        typed = con.execute(
            'SELECT IsLocalAdmin, LogonId, RemotePort FROM "DeviceLogonEvents" WHERE ReportId = ?',
            [admin["ReportId"]],
        ).fetchone()
    assert count == len(results())
    # The hostile name is a value: stored as written.
    assert stored == (hostile["AccountName"], hostile["RemoteIP"], hostile["DeviceName"])
    assert typed == (True, admin["LogonId"], admin["RemotePort"])


def test_find_host_selects_the_defender_device_and_not_its_longer_namesake(store):
    found = hosts.find_host(_inv(connect(f"duckdb:{store}")), MDE_ONLY.upper())
    assert found.name == f"{MDE_ONLY}.contoso.com"  # not wkstn-0770.contoso.com
    assert found.defender == ["DeviceLogonEvents"]


def test_host_logons_reads_the_defender_logons_as_attempts(store):
    inv = _inv(connect(f"duckdb:{store}"))
    found = hosts.find_host(inv, MDE_ONLY)
    got = logons.host_logons(inv, found.name, found.os_family)
    mine = attempts_of(MDE_ONLY)
    # the row before the range, wkstn-0770's and the LogonAttempted row are out
    assert len(got.data) == len(mine) < len(device_rows(MDE_ONLY))
    assert set(got.data["Log"]) == {"DeviceLogonEvents"}
    assert set(got.data["Computer"]) == {f"{MDE_ONLY}.contoso.com"}
    by_report = {r["RemotePort"] or r["LogonId"]: r for r in mine}
    assert len(by_report) == len(mine)  # each row told apart by its port or logon id
    for row in got.data.itertuples():
        source = by_report[int(row.SourcePort) if row.SourcePort else int(row.TargetLogonId, 16)]
        assert (
            row.LogonResult
            == {"LogonSuccess": "Success", "LogonFailed": "Failure"}[source["ActionType"]]
        )
        assert row.LogonType == WINDOWS_NUMBER[source["LogonType"]]
        assert row.LogonTypeName == source["LogonType"]
        assert row.Account == account(source)
        assert row.SourceIP == source["RemoteIP"]
        assert row.Detail == source["FailureReason"]
    counts = Counter(r["ActionType"] for r in mine)
    assert (
        f"info: {len(mine)} logon attempts: {counts['LogonSuccess']} succeeded, "
        f"{counts['LogonFailed']} failed"
    ) in got.messages()
    unknown = len(device_rows(MDE_ONLY)) - len(mine)
    assert any(m.startswith(f"info: {unknown} DeviceLogonEvents row(s)") for m in got.messages())


def test_the_brute_force_is_found_on_defender_rows(store):
    inv = _inv(connect(f"duckdb:{store}"))
    got = logons.host_logons(inv, f"{MDE_ONLY}.contoso.com")
    ip, failed = attacker()
    found = logons.attack_findings(got.data)
    row = found.data.set_index("SourceIP").loc[ip]
    assert row["Failures"] == len(failed)
    assert row["Accounts"] == len({r["AccountName"] for r in failed})
    won = [
        r
        for r in attempts_of(MDE_ONLY)
        if r["RemoteIP"] == ip and r["ActionType"] == "LogonSuccess"
    ]
    assert row["SucceededAs"] == ", ".join(
        sorted({f"{r['AccountDomain']}\\{r['AccountName']}" for r in won})
    )
    # the hostile name is one of the accounts tried: counted, as the text it is
    matrix = logons.logon_matrix(got.data)
    assert f"contoso\\{HOSTILE}" in set(matrix["Account"])


def test_host_activity_counts_the_device_logon_events(store):
    inv = _inv(connect(f"duckdb:{store}"))
    found = hosts.find_host(inv, MDE_ONLY)
    activity = hosts.host_activity(inv, found)
    assert activity.data.set_index("Source")["Rows"].to_dict() == {
        "DeviceLogonEvents": len(device_rows(MDE_ONLY))
    }
    assert not [m for m in activity.messages() if m.startswith("warning")]


def test_a_host_with_both_logs_has_both_and_the_counts_add_up(store):
    inv = _inv(connect(f"duckdb:{store}"))
    found = hosts.find_host(inv, MIXED)
    assert found.name == "WIN-DC01" and not found.defender  # SecurityEvent names it
    got = logons.host_logons(inv, found.name, found.os_family)
    windows = [e for e in security_events() if e["EventID"] in (4624, 4625)]
    defender = attempts_of(MIXED)
    assert got.data["Log"].value_counts().to_dict() == {
        "SecurityEvent": len(windows),
        "DeviceLogonEvents": len(defender),
    }
    successes = sum(e["EventID"] == 4624 for e in windows) + sum(
        r["ActionType"] == "LogonSuccess" for r in defender
    )
    assert int((got.data["LogonResult"] == "Success").sum()) == successes
    assert len(got.data) == len(windows) + len(defender)
    counts = hosts.host_activity(inv, found).data.set_index("Source")["Rows"].to_dict()
    assert counts == {"SecurityEvent": len(security_events()), "DeviceLogonEvents": len(defender)}


def test_a_busy_host_summarised_in_the_store_says_its_defender_logons_are_left_out(store):
    from nbcatalog.nblib import logonstats

    inv = _inv(connect(f"duckdb:{store}"))
    # Forced, as for a domain controller with millions of 4624/4625: summaries in the store.
    stats = logonstats.host_logon_stats(inv, "WIN-DC01", "Windows", large=0)
    assert stats.aggregated
    every = device_rows(MIXED)  # the host's Defender logon events in the range
    said = [m for m in stats.sessions.messages() if "DeviceLogonEvents" in m]
    assert len(said) == 1, stats.sessions.messages()
    assert f"{len(every):,} Microsoft Defender logon events (DeviceLogonEvents)" in said[0]
    assert "not included" in said[0]


def test_a_workspace_is_asked_through_the_m365d_query(store):
    source = Workspace(store, ["DeviceLogonEvents"])
    inv = _inv(source)
    found = hosts.find_host(inv, f"{MDE_ONLY}.contoso.com")
    assert found.name == f"{MDE_ONLY}.contoso.com"
    activity = hosts.host_activity(inv, found)
    assert "M365D.host_logons" in source.asked
    assert activity.data.set_index("Source")["Rows"].to_dict() == {
        "M365D.host_logons": len(attempts_of(MDE_ONLY))
    }
    got = logons.host_logons(inv, found.name)
    assert len(got.data) == len(attempts_of(MDE_ONLY))


def test_user_logons_selects_an_accounts_defender_logons(store):
    found = connect(f"duckdb:{store}").query(
        "M365D.user_logons", account_name="da-admin", start=START, end=END
    )
    wanted = [
        r for r in results() if r["AccountName"] == "da-admin" and START[:10] <= r["Timestamp"]
    ]
    assert sorted(found["ReportId"]) == sorted(r["ReportId"] for r in wanted)


def test_a_source_without_defender_logons_says_nothing_of_them(store):
    source = Workspace(store, ["SecurityEvent"])
    inv = _inv(source)
    got = logons.host_logons(inv, "WIN-DC01", "Windows")
    assert set(got.data["Log"]) == {"SecurityEvent"}
    assert not [m for m in got.messages() if "DeviceLogonEvents" in m]
    assert "M365D.host_logons" not in source.asked  # the table is absent: not asked


# ----------------------------------------------------------- through the runner


@pytest.fixture(scope="module")
def cli_run(offline, store, tmp_path_factory) -> dict:
    """`nbcatalog run host-logons-summary --host WKSTN-077 --json --html`, as an analyst runs it."""
    out = tmp_path_factory.mktemp("runs")
    summary = cli_run_json(
        "host-logons-summary",
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
def test_a_defender_only_host_gets_a_real_logons_summary(cli_run):
    from nbcatalog.batch import results_from_run_dir

    assert cli_run["status"] == "ok"
    res = results_from_run_dir(cli_run["run_dir"])
    mine = attempts_of(MDE_ONLY)
    sessions = res["logon_sessions"]
    assert len(sessions) == len(mine)
    assert set(sessions["Log"]) == {"DeviceLogonEvents"}
    counts = Counter(r["ActionType"] for r in mine)
    assert sessions["LogonResult"].value_counts().to_dict() == {
        "Failure": counts["LogonFailed"],
        "Success": counts["LogonSuccess"],
    }
    by_account = res["logons_by_account"].set_index("Account")
    failed = Counter(
        f"{r['AccountDomain']}\\{r['AccountName']}"
        for r in mine
        if r["ActionType"] == "LogonFailed"
    )
    assert by_account["Failure"][by_account["Failure"] > 0].to_dict() == dict(failed)


@pytest.mark.slow
def test_the_brute_force_finding_names_the_address(cli_run):
    ip, failed = attacker()
    high = [f for f in cli_run["findings"] if f["severity"] == "high"]
    assert len(high) == 1, cli_run["findings"]
    title = high[0]["title"]
    assert title.startswith(f"Brute force from {ip}: {len(failed)} failed logons on ")
    assert "then a successful logon as contoso\\alice" in title


class _Elements(HTMLParser):
    """The elements an HTML page really has (what a browser would build)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.found.append((tag, dict(attrs)))


@pytest.mark.slow
def test_the_html_report_shows_the_hostile_account_as_text(cli_run):
    html = Path(cli_run["report"]).read_text(encoding="utf-8")
    parser = _Elements()
    parser.feed(html)
    # No element came from the account name: no image with an onerror handler.
    assert not [a for tag, a in parser.found if tag == "img" and "onerror" in a]
    assert "&lt;img src=x onerror=1&gt;" in html  # shown, as text


@pytest.mark.slow
def test_a_host_with_both_logs_shows_both_in_the_summary(offline, offline_pool, store, tmp_path):
    res = nbcatalog.run(
        "host_logons_summary",
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
    windows = [e for e in security_events() if e["EventID"] in (4624, 4625)]
    defender = attempts_of(MIXED)
    sessions = res["logon_sessions"]
    assert sessions["Log"].value_counts().to_dict() == {
        "SecurityEvent": len(windows),
        "DeviceLogonEvents": len(defender),
    }
    matrix = res["logon_matrix"]
    assert int(matrix["Count"].sum()) == len(windows) + len(defender)
    assert attempts(offline) == "", "the run tried to go online"
