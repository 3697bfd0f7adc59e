"""host_logons_summary, win_host_events and logon_session_rarity end to end on real kernels.

Each run happens once per module and several tests read it, as an analyst would: the
results, the saved notebook's section outputs and the HTML report.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from run_helpers import outputs_text

import nbcatalog
from nbcatalog.catalog import get_template

pytestmark = pytest.mark.slow

ATTACKER = "203.0.113.77"
SPRAYER = "198.51.100.23"
SCRIPT = '<script>alert("nbcatalog")</script>'


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("logon_runs")


@pytest.fixture(scope="module")
def runner(demo_db, out):
    cache: dict[str, object] = {}

    def run(key: str, name: str, **params):
        if key not in cache:
            settings = {"data_source": f"duckdb:{demo_db}", "silent": True, "quiet": True}
            cache[key] = nbcatalog.run(name, output_dir=out, **{**settings, **params})
        return cache[key]

    return run


@pytest.fixture(scope="module")
def bare_source(tmp_path_factory):
    import duckdb

    path = tmp_path_factory.mktemp("bare") / "bare.duckdb"
    duckdb.connect(str(path)).close()  # a store with no tables at all
    return f"duckdb:{path}"


def _assert_report_has_every_section(res, name: str) -> str:
    html = res.report_path.read_text(encoding="utf-8")
    for section in get_template(name).sections:
        assert f">{section.title}<" in html or f">{section.title}\n" in html, section.title
    assert SCRIPT not in html  # log text is never markup in a report
    return html


def _skipped(res, section: str, option: str) -> bool:
    return f"option &#x27;{option}&#x27; is off" in outputs_text(res, section)


# ------------------------------------------------------------ host_logons_summary


def wkstn(runner):
    return runner("wkstn", "host_logons_summary", host="WKSTN-042", html=True)


def test_host_logons_summary_contract():
    t = get_template("host-logons-summary")
    assert [p.name for p in t.parameters] == [
        "host",
        "data",
        "min_failures",
        "start",
        "end",
        "data_source",
        "options",
    ]
    assert t.parameters[1].type == "DataFrame"
    assert "Python only" in t.parameters[1].help and "noqa" not in t.parameters[1].help
    for name in ("logon_sessions", "failed_success", "logon_matrix", "timeline", "logon_map"):
        assert name in t.glue_names
    assert "plots" in t.glue_names


def test_wkstn_042_brute_force(runner):
    res = wkstn(runner)
    assert res.status == "ok"
    sessions = res["logon_sessions"]
    failures = sessions[(sessions["SourceIP"] == ATTACKER) & (sessions["LogonResult"] == "Failure")]
    assert len(failures) >= 300
    attack = res["attack_findings"].set_index("SourceIP").loc[ATTACKER]
    assert attack["Kind"] == "brute force" and attack["Failures"] == len(failures)
    assert attack["SucceededAs"].lower() == "contoso\\bob"
    assert any(
        s.startswith(f"Brute force from {ATTACKER}: {len(failures)} failed logons")
        for s in res["attack_summary"]
    )
    assert res["failed_success"]["SourceIP"].tolist() == [ATTACKER]
    matrix = res["logon_matrix"]
    assert matrix["Count"].sum() == len(sessions)
    by_account = res["logons_by_account"].set_index("Account")
    assert by_account["Total"].sum() == len(sessions)
    # the finding is shown in plain words in its section
    assert f"Brute force from {ATTACKER}" in outputs_text(res, "findings")


def test_wkstn_042_report_has_every_section_and_chart(runner):
    res = wkstn(runner)
    html = _assert_report_has_every_section(res, "host_logons_summary")
    # timeline, two bar charts, the matrix heat map (the attacker's address has no location)
    assert html.count("data:image/png;base64") >= 4
    assert "none of the" in outputs_text(res, "map") and "has a location" in outputs_text(
        res, "map"
    )


def test_lnx_web01_spray_and_every_option_off(runner):
    res = runner("lnx", "host_logons_summary", host="lnx-web01", options=[])
    assert res.status == "ok"
    attack = res["attack_findings"].set_index("SourceIP").loc[SPRAYER]
    assert attack["Kind"] == "password spray" and attack["Failures"] >= 200
    assert attack["SucceededAs"] == "deploy"
    wins = res["logon_sessions"].query("SourceIP == @SPRAYER and LogonResult == 'Success'")
    assert wins["Account"].tolist() == ["deploy"]
    assert set(res["logon_sessions"]["Platform"]) == {"Linux"}
    # options=[] replaces the defaults: every optional part says it is off
    for section, option in (
        ("timeline", "timeline"),
        ("map", "map"),
        ("charts", "charts"),
        ("matrix", "matrix"),
    ):
        assert _skipped(res, section, option), option
    assert res["logon_matrix"].empty and res["logon_addresses"].empty


def test_lnx_web01_map_locates_the_public_scanners(runner):
    res = runner("lnx_map", "host_logons_summary", host="LNX-WEB01", options=["map"])
    addresses = res["logon_addresses"].set_index("IpAddress")
    assert addresses.loc[SPRAYER, "IpClass"] == "documentation"
    assert (addresses["IpClass"] == "public").sum() > 0
    assert addresses["Latitude"].notna().sum() > 0
    assert "data:image/png" not in outputs_text(res, "timeline")  # timeline is off
    assert _skipped(res, "timeline", "timeline")


def test_logons_passed_as_a_dataframe(runner, demo_source):
    syslog = demo_source.sql("SELECT * FROM \"Syslog\" WHERE Computer = 'LNX-WEB01'")
    res = runner("frame", "host_logons_summary", data=syslog, options=["matrix"])
    assert res.status == "ok"
    assert "rows passed as data" in outputs_text(res, "host")
    assert res["attack_findings"].set_index("SourceIP").loc[SPRAYER, "SucceededAs"] == "deploy"
    saved = json.loads((res.run_dir / "run.json").read_text())["parameters"]["data"]
    assert saved == {"type": "DataFrame", "rows": len(syslog), "columns": list(syslog.columns)}


def test_unknown_host_names_the_closest_matches(runner):
    res = runner("unknown", "host_logons_summary", host="WKSTN-42x", options=[])
    # Found nothing is not all clear: the run says no_data, and why (it used to say ok).
    assert res.status == "no_data" and res["logon_sessions"].empty
    assert res.no_data["reason"].startswith("no host named 'WKSTN-42x' in this data source")
    assert "WKSTN-042" in res.no_data["closest"]
    text = outputs_text(res, "host")
    assert "no host named &#x27;WKSTN-42x&#x27;" in text and "closest names: WKSTN-042" in text
    assert "NO DATA" in text  # the banner, where the host was looked for


def test_missing_tables_are_explained(runner, bare_source):
    res = runner("bare", "host_logons_summary", host="WKSTN-042", data_source=bare_source)
    assert res.status == "no_data" and res["logon_sessions"].empty
    assert {"Heartbeat", "SecurityEvent", "Syslog"} <= set(res.no_data["missing_tables"])
    text = outputs_text(res, "host")
    assert "Missing data:" in text
    assert "table is missing" in text or "table in this data source" in text
    assert "no single host selected" in outputs_text(res, "logons")
    events = runner("bare_events", "win_host_events", host="WKSTN-042", data_source=bare_source)
    assert events.status == "no_data" and events["all_events"].empty


def test_cli_json_reports_the_brute_force(demo_db, out):
    from nbcatalog.cli.main import main

    result = CliRunner().invoke(
        main,
        [
            "run",
            "host-logons-summary",
            "--host",
            "WKSTN-042",
            "--source",
            f"duckdb:{demo_db}",
            "--output",
            str(out),
            "--option",
            "-map",
            "--json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["status"] == "ok"
    assert summary["parameters"]["options"] == ["timeline", "charts", "matrix"]
    assert summary["results"]["logon_sessions"]["rows"] > 300
    assert any(
        s.startswith(f"Brute force from {ATTACKER}") for s in summary["results"]["attack_summary"]
    )


# ------------------------------------------------------------ win_host_events


def test_win_host_events_svc_backup(runner):
    res = runner(
        "events",
        "win_host_events",
        host="WKSTN-042",
        html=True,
        options=["+expand_events"],  # no event_ids: the account-management events
    )
    assert res.status == "ok"
    changes = res["account_changes"]
    assert any(c.endswith("created user WKSTN-042\\svc_backup") for c in changes)
    assert any(
        "added WKSTN-042\\svc_backup to local group Builtin\\Administrators" in c for c in changes
    )
    events = res["account_events"]
    assert set(events["EventID"]) >= {4720, 4732}
    assert not set(res["all_events"]["EventID"]) & {4624, 4625, 4688}
    pivot = res["event_pivot"].set_index("EventID")
    assert pivot["Events"].sum() == len(res["all_events"])
    assert pivot.loc[4720, "AccountNames"].lower() == "contoso\\bob"
    assert res["account_pivot"]["Events"].sum() == len(events)
    expanded = res["expanded_events"]
    assert expanded["EventID"].tolist() == [4720, 4732]
    assert expanded.loc[0, "SamAccountName"] == "svc_backup"
    html = _assert_report_has_every_section(res, "win_host_events")
    assert "data:image/png;base64" in html  # the account-event timeline
    assert "created user WKSTN-042\\svc_backup" in html


def test_win_host_events_options_off(runner):
    res = runner("events_none", "win_host_events", host="WKSTN-042", options=[])
    assert res.status == "ok"
    assert res["event_pivot"].empty and res["account_events"].empty
    assert res["expanded_events"].empty and not res["all_events"].empty
    for section, option in (
        ("summary", "summary"),
        ("accounts", "accounts"),
        ("accounts", "timeline"),
        ("expand", "expand_events"),
    ):
        assert _skipped(res, section, option), option


# ------------------------------------------------------------ logon_session_rarity


def test_logon_session_rarity_ranks_bobs_session(runner):
    res = runner("rarity", "logon_session_rarity", host="WKSTN-042", html=True, top=3)
    assert res.status == "ok"
    processes = res["processes_with_cluster"]
    attack = processes[processes["CommandLine"].str.contains("svc_backup", regex=False)]
    session = attack["LogonId"].unique().tolist()
    assert len(session) == 1
    ranking = res["session_rarity"]
    top = ranking.head(3)
    assert session[0] in top["LogonId"].tolist()
    assert top.set_index("LogonId").loc[session[0], "Account"].lower() == "contoso\\bob"
    assert len(res["rare_sessions"]) == 3 and session[0] in res["rare_sessions"][0]
    assert res["process_clusters"]["Processes"].sum() == len(processes)
    trees = res["process_trees"]
    assert set(trees["Rank"]) == {1, 2, 3}
    assert trees["CommandLine"].str.contains(SCRIPT, regex=False).sum() == 1
    html = _assert_report_has_every_section(res, "logon_session_rarity")
    assert "echo &lt;script&gt;alert(" in html


def test_logon_session_rarity_on_data_with_options_off(runner, demo_source):
    events = demo_source.sql("SELECT * FROM \"SecurityEvent\" WHERE Computer = 'WKSTN-042'")
    res = runner("rarity_frame", "logon_session_rarity", data=events, options=[], top=1)
    assert res.status == "ok"
    ranking = res["session_rarity"]
    first = res["processes_with_cluster"]
    first = first[first["LogonId"] == ranking["LogonId"].iloc[0]]
    assert first["CommandLine"].str.contains("svc_backup", regex=False).any()
    assert res["process_clusters"].empty and res["process_trees"].empty
    for section, option in (("clusters", "clusters"), ("trees", "trees"), ("sessions", "chart")):
        assert _skipped(res, section, option), option


def test_session_picker_reruns_with_the_chosen_session(runner, out):
    from nbcatalog.nblib.pickers import picker

    res = runner("rarity", "logon_session_rarity", host="WKSTN-042", html=True, top=3)
    box = picker(
        res, "session", run=lambda name, **p: nbcatalog.run(name, output_dir=out, quiet=True, **p)
    )
    quiet_one = res["session_rarity"]["LogonId"].iloc[-1]  # the least rare session
    box.dropdown.value = quiet_one
    box.pick()
    chosen = box.last_results
    assert chosen.parameters["session"] == quiet_one
    assert chosen.parameters["start"] == res.parameters["start"]
    trees = chosen["process_trees"]
    assert quiet_one in set(trees["LogonId"]) and set(trees["Rank"]) >= {1, 2, 3}


def test_host_logons_summary_on_imported_logs(tmp_path_factory, out):
    from test_nblib_logons import _write_logs

    from nbcatalog.data.importers import import_paths

    folder = tmp_path_factory.mktemp("imported")
    files, rdp_failures, spray_failures = _write_logs(folder)
    import_paths(files, db=folder / "case.duckdb")
    window = {"start": "2026-11-26T00:00:00Z", "end": "2026-11-28T00:00:00Z"}
    source = f"duckdb:{folder / 'case.duckdb'}"
    for host, ip, failures, kind, who in (
        ("WKSTN-042", ATTACKER, rdp_failures, "brute force", "CONTOSO\\bob"),
        ("lnx-web01", SPRAYER, spray_failures, "password spray", "deploy"),
    ):
        res = nbcatalog.run(
            "host_logons_summary",
            host=host,
            data_source=source,
            output_dir=out,
            options=["matrix"],
            quiet=True,
            silent=True,
            **window,
        )
        attack = res["attack_findings"].set_index("SourceIP").loc[ip]
        assert (attack["Kind"], attack["Failures"], attack["SucceededAs"]) == (kind, failures, who)
        assert res["logon_matrix"]["Count"].sum() == failures + 1


def test_event_picker_expands_the_chosen_event_id(runner, out):
    from nbcatalog.nblib.pickers import picker

    res = runner("events_off", "win_host_events", host="WKSTN-042", options=["summary"])
    assert res["expanded_events"].empty
    box = picker(
        res, "event_ids", run=lambda name, **p: nbcatalog.run(name, output_dir=out, quiet=True, **p)
    )
    assert "4697" in [value for _, value in box.dropdown.options]
    box.dropdown.value = "4697"
    box.pick()
    chosen = box.last_results
    assert chosen.parameters["event_ids"] == ["4697"]
    assert chosen.parameters["options"] == ["summary"]  # expand_events off: event_ids ask
    expanded = chosen["expanded_events"]
    assert expanded["EventID"].tolist() == [4697]
    assert expanded.loc[0, "ServiceName"] == "UpdaterSvc"
