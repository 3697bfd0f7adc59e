"""host_summary's and account_summary's deeper parts, end to end on the demo store.

Real kernels (runs shared through tests/summary_runs.py): WKSTN-042's svc_backup
creation and admin grant, its scheduled task and service install, bob's session as a
process tree, the encoded PowerShell's URL found by TI; bob's logons per source (the
RDP logon on WKSTN-042, the Linux logon), sign-ins from two countries, the Owner role
assignment, the SharePoint/OneDrive download burst. Counts are checked against SQL on
the same store; each new option is turned off once; missing tables are explained.
"""

from __future__ import annotations

import base64
import shutil

import nbformat
import pandas as pd
import pytest
from summary_runs import summary_run

from nbcatalog.catalog import get_template
from nbcatalog.data import connect

pytestmark = pytest.mark.slow

ATTACKER = "203.0.113.77"
URL = "http://malicious.example/payload.ps1"
SCRIPT = '<script>alert("nbcatalog")</script>'


def _outputs(res, section: str) -> str:
    nb = nbformat.read(res.notebook_path, as_version=4)
    parts = []
    for cell in nb.cells:
        if f"section:{section}" not in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            parts += [data.get("text/html", "") or data.get("text/plain", ""), out.get("text", "")]
    return "\n".join(parts)


def _pngs(res, section: str) -> int:
    nb = nbformat.read(res.notebook_path, as_version=4)
    return sum(
        1
        for cell in nb.cells
        if f"section:{section}" in cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    )


@pytest.fixture(scope="module")
def sql(demo_db):
    source = connect(f"duckdb:{demo_db}")
    return lambda text, params=None: source.sql(text, params)


@pytest.fixture(scope="module")
def wkstn(demo_db):
    return summary_run(demo_db, "host_summary", host="WKSTN-042", html=True)


@pytest.fixture(scope="module")
def bob(demo_db):
    return summary_run(demo_db, "account_summary", account="bob", html=True)


# ------------------------------------------------------------------ contracts


@pytest.mark.parametrize(
    ("name", "new"),
    [
        ("host_summary", ["account_changes", "tasks", "process_tree", "ti"]),
        ("account_summary", ["host_logons", "locations", "azure", "office", "ips"]),
    ],
)
def test_new_parts_have_options_and_results(name, new):
    t = get_template(name)
    assert set(new) <= set(t.default_options)
    assert all(t.option_descriptions[o] for o in new)
    msticnb_names = {
        "host_summary": {"scheduled_tasks", "account_changes", "process_tree", "cmdline_ti"},
        "account_summary": {
            "host_logons",
            "host_logon_summary",
            "azure_activity",
            "azure_activity_summary",
            "ip_summary",
            "ip_all_data",
            "account_timeline_by_ip",
            "geoip_map",
        },
    }[name]
    assert msticnb_names <= set(t.glue_names) and msticnb_names <= set(t.results)


# ------------------------------------------------------------------ host_summary


def test_wkstn_042_account_changes(wkstn, sql):
    changes = wkstn["account_changes"]
    expected = sql(
        "SELECT count(*) AS n FROM SecurityEvent WHERE Computer = 'WKSTN-042' "
        "AND EventID IN (4720, 4725, 4727, 4728, 4731, 4732, 4740, 4754, 4756, 4767)"
    )["n"][0]
    assert len(changes) == expected == 2
    text = " | ".join(changes["Description"])
    assert "created user WKSTN-042\\svc_backup" in text
    assert "added WKSTN-042\\svc_backup to local group Builtin\\Administrators" in text
    assert set(changes["Subject"]) == {"CONTOSO\\bob"}


def test_wkstn_042_scheduled_task_and_service(wkstn):
    tasks = wkstn["scheduled_tasks"]
    task = tasks[tasks["Type"] == "Scheduled Task"]
    assert task["Name"].tolist() == ["\\Microsoft\\Windows\\UpdateCheck"]
    # The task's command comes out of its XML, and is flagged.
    assert "powershell.exe -w hidden -enc" in task["Command"].iloc[0]
    assert "encoded PowerShell" in task["Reasons"].iloc[0]
    services = tasks[tasks["Type"] == "Service"]
    # One install, seen by the Security log (4697) and the System log (7045).
    assert sorted(services["EventID"].astype(int)) == [4697, 7045]
    assert set(services["Name"]) == {"UpdaterSvc"}
    assert set(services["Command"]) == {"C:\\ProgramData\\Updater\\updater.exe"}


def test_wkstn_042_process_tree_of_bobs_session(wkstn):
    tree = wkstn["process_tree"]
    assert set(tree["LogonId"]) == {"0x5a3f1c2"}  # the attacker's RDP session as bob
    assert (tree["Account"] == "CONTOSO\\bob").all()
    marked = tree[tree["Reasons"] != ""]
    assert marked["CommandLine"].str.contains("-enc ", regex=False).any()
    assert marked["CommandLine"].str.contains("svc_backup /add", regex=False).any()
    # Children are indented under cmd.exe.
    assert (tree.loc[tree["Process"].str.contains("net.exe"), "Depth"] > 0).all()
    html = _outputs(wkstn, "processes")
    assert "&lt;script&gt;alert(" in html and SCRIPT not in html


def test_wkstn_042_encoded_powershell_url_hits_ti(wkstn):
    ti = wkstn["cmdline_ti"]
    hit = ti[(ti["Ioc"] == URL) & ti["Result"]]
    assert len(hit) == 1
    assert bool(hit["Decoded"].iloc[0])  # only visible after decoding -EncodedCommand
    assert hit["Severity"].iloc[0] == "high"
    iocs = wkstn["cmdline_iocs"].set_index("Ioc")
    assert bool(iocs.loc[URL, "Decoded"])
    encoded = iocs.loc[URL, "CommandLine"].split("-enc ")[1].split()[0]
    assert URL in base64.b64decode(encoded).decode("utf-16-le")
    text = _outputs(wkstn, "ti")
    assert "hidden in an encoded command" in text
    assert "intranet.contoso.com" not in text  # misses are counted, not shown


def test_wkstn_042_summary_counts_the_new_parts(wkstn):
    summary = wkstn.summary.set_index("Item")["Count"]  # the glued frame, not a method
    assert summary["Account changes"] == len(wkstn["account_changes"])
    assert summary["Scheduled tasks and services"] == len(wkstn["scheduled_tasks"])
    assert summary["Processes in suspicious sessions"] == len(wkstn["process_tree"])
    assert summary["Command-line indicators listed by TI"] == int(
        wkstn["cmdline_ti"]["Result"].sum()
    )


def test_host_report_has_the_new_sections(wkstn):
    html = wkstn.report_path.read_text(encoding="utf-8")
    for title in (
        "Accounts, scheduled tasks and services",
        "Process trees",
        "Threat intelligence on command-line indicators",
    ):
        assert title in html
    assert "svc_backup" in html and SCRIPT not in html


def test_lnx_web01_shell_commands_reach_the_c2(demo_db):
    res = summary_run(demo_db, "host_summary", host="LNX-WEB01")
    ti = res["cmdline_ti"]
    listed = set(ti.loc[ti["Result"], "Ioc"])
    assert {"192.0.2.66", URL} <= listed
    assert res["process_tree"].empty
    assert "process trees need Windows process creations" in _outputs(res, "processes")
    assert res["account_changes"].empty and res["scheduled_tasks"].empty


@pytest.mark.parametrize(
    ("options", "off", "on"),
    [
        (["-account_changes", "-process_tree"], ["account_changes", "process_tree"], ["ti"]),
        (["-tasks", "-ti"], ["tasks", "ti"], ["process_tree"]),
    ],
)
def test_host_options_turn_parts_off(demo_db, options, off, on):
    res = summary_run(demo_db, "host_summary", host="WKSTN-042", options=options)
    results = {"account_changes": "account_changes", "tasks": "scheduled_tasks"}
    results |= {"process_tree": "process_tree", "ti": "cmdline_ti"}
    sections = {"account_changes": "changes", "tasks": "changes"}
    sections |= {"process_tree": "processes", "ti": "ti"}
    for option in off:
        assert res[results[option]].empty
        assert f"option &#x27;{option}&#x27; is off" in _outputs(res, sections[option])
    for option in on:
        assert not res[results[option]].empty
    if "ti" in on:  # without the task list, the process command line still has the URL
        assert URL in set(res["cmdline_ti"].loc[res["cmdline_ti"]["Result"], "Ioc"])
    assert not res["related_alerts"].empty  # the old parts are untouched


# --------------------------------------------------------------- account_summary


def test_bob_host_logons_per_source(bob, sql):
    logons = bob["host_logons"]
    assert set(logons["Source"]) == {"Windows logons", "Linux logons"}
    rdp = logons[
        (logons["Host"] == "WKSTN-042")
        & (logons["Result"] == "Success")
        & logons["LogonType"].str.contains("RemoteInteractive")
    ]
    assert rdp["IpAddress"].tolist() == [ATTACKER]
    linux = logons[logons["Source"] == "Linux logons"]
    expected = sql(
        "SELECT count(*) AS n FROM Syslog WHERE ProcessName = 'sshd' "
        "AND SyslogMessage LIKE 'Accepted % for bob from %'"
    )["n"][0]
    assert len(linux) == expected > 0
    summary = bob["host_logon_summary"]
    assert summary["Successes"].sum() == (logons["Result"] == "Success").sum()
    row = summary[(summary["Host"] == "WKSTN-042") & summary["LogonType"].str.contains("Remote")]
    assert ATTACKER in row["IpAddresses"].iloc[0]
    assert "remote desktop logons: WKSTN-042 from 203.0.113.77" in _outputs(bob, "host_logons")


def test_bob_signins_from_two_countries(bob, sql):
    signins = bob["signin_locations"]
    assert set(signins["Country"]) == {"US", "NL"}
    attacker = signins[signins["IPAddress"] == ATTACKER]
    assert set(attacker["City"]) == {"Amsterdam"}
    assert set(attacker["Result"]) == {"Success", "Failure"}
    expected = sql(
        "SELECT count(*) AS n FROM SigninLogs WHERE UserPrincipalName = 'bob@contoso.com' "
        "AND TimeGenerated >= ? AND TimeGenerated <= ?",
        [bob.parameters["start"], bob.parameters["end"]],
    )["n"][0]
    assert len(signins) == expected
    home = signins[signins["Country"] == "US"]
    assert (home["GeoCountry"] == "US").all()  # the offline GeoIP agrees for public addresses
    assert "sign-ins from 2 countries" in _outputs(bob, "signins")


def test_bob_azure_role_assignment(bob):
    azure = bob["azure_activity"]
    role = azure[azure["OperationNameValue"].str.contains("roleAssignments/write")]
    assert len(role) > 0 and set(role["CallerIpAddress"]) == {ATTACKER}
    summary = bob["azure_activity_summary"]
    assert summary["Operations"].sum() == len(azure)
    assert "role or access change" in _outputs(bob, "azure")


def test_bob_office_download_burst(bob, sql):
    from nbcatalog.nblib.accountdetail import office_bursts

    office = bob["office_activity"]
    expected = sql(
        "SELECT count(*) AS n FROM OfficeActivity WHERE UserId = 'bob@contoso.com' "
        "AND TimeGenerated >= ? AND TimeGenerated <= ?",
        [bob.parameters["start"], bob.parameters["end"]],
    )["n"][0]
    assert len(office) == expected
    bursts = office_bursts(office)
    top = bursts.iloc[0]
    assert (top["Operation"], top["ClientIP"], top["Count"]) == ("FileDownloaded", ATTACKER, 60)
    assert "60 FileDownloaded operations in 10 minutes from 203.0.113.77" in _outputs(bob, "office")


def test_bob_addresses_timelines_and_map(bob):
    ips = bob["ip_summary"].set_index("IpAddress")
    assert ips.loc[ATTACKER, "IpClass"] == "documentation"
    sources = ips.loc[ATTACKER, "Sources"]
    for source in ("Azure activity", "Entra ID sign-ins", "Office 365 activity", "Windows logons"):
        assert source in sources
    assert ips["Events"].sum() == len(bob["ip_all_data"])
    assert "127.0.0.1" not in ips.index  # local unlocks are not an address the account used
    assert _pngs(bob, "ips") == 1  # geoip_map
    assert _pngs(bob, "timeline") == 2  # by source, by IP
    everything = bob["all_activity"]
    assert set(everything["Source"]) >= {"Azure activity", "Office 365 activity", "Linux logons"}


def test_account_options_turn_parts_off(demo_db):
    off = ["host_logons", "locations", "azure", "office", "ips"]
    res = summary_run(demo_db, "account_summary", account="bob", options=[f"-{o}" for o in off])
    for result in ("host_logons", "signin_locations", "azure_activity", "office_activity"):
        assert res[result].empty
    assert res["ip_summary"].empty
    for section, option in (
        ("host_logons", "host_logons"),
        ("signins", "locations"),
        ("azure", "azure"),
        ("office", "office"),
        ("ips", "ips"),
    ):
        assert f"option &#x27;{option}&#x27; is off" in _outputs(res, section)
    assert not res["account_activity"].empty and not res["related_alerts"].empty


def test_missing_tables_are_explained(demo_db, tmp_path_factory):
    from nbcatalog.data.store import Store

    bare = tmp_path_factory.mktemp("bare-summary") / "partial.duckdb"
    shutil.copyfile(demo_db, bare)  # the demo estate less the tables dropped below
    with Store.open(bare) as store:
        for table in ("AzureActivity", "OfficeActivity", "Event", "ThreatIntelligenceIndicator"):
            store.con.execute(f'DROP TABLE "{table}"')
    account = summary_run(bare, "account_summary", account="bob")
    assert account.status == "ok"
    assert account["azure_activity"].empty and account["office_activity"].empty
    assert "no AzureActivity table" in _outputs(account, "azure")
    assert "no OfficeActivity table" in _outputs(account, "office")
    host = summary_run(bare, "host_summary", host="WKSTN-042")
    assert host.status == "ok"
    tasks = host["scheduled_tasks"]
    assert tasks["EventID"].astype(int).tolist() == [4698, 4697]  # Security log only
    assert "no Event table" in _outputs(host, "changes")
    assert host["cmdline_ti"].empty
    assert "no ThreatIntelligenceIndicator table" in _outputs(host, "ti")


def test_signin_location_details_that_are_not_json():
    from nbcatalog.nblib.accountdetail import _location

    assert _location("{not json")["Country"] is None
    assert _location('{"countryOrRegion": "NL", "geoCoordinates": {"latitude": "x"}}') == {
        "City": None,
        "State": None,
        "Country": "NL",
        "Latitude": None,
        "Longitude": None,
    }
    assert _location(pd.NA)["City"] is None
