"""Onward drill-downs (issue 12) from real runs on the demo store, from Python and a shell.

alert_ti_enrich runs once; its pick_ip and pick_url drill-downs run ip_summary and
url_summary for the planted attacker address and URL (real kernels, through the
shared run cache of tests/summary_runs.py, so tests/test_ip_summary_sections.py
reads the same runs). Then browse_alerts, display_alert_timeline and
browse_ti_results work on what those runs glued, and `nbcatalog drill` does the
same from a shell. Expected figures are counted from the run's own tables.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from nbcatalog.cli.main import main
from run_helpers import Recorder
from summary_runs import cached_runner, summary_run

from nbcatalog.errors import UsageError
from nbcatalog.nblib.alerttimeline import AlertTimeline
from nbcatalog.nblib.browse import Browsed

pytestmark = pytest.mark.slow

ATTACKER = "203.0.113.77"
URL = "http://malicious.example/payload.ps1"
# Anything that would make a browser fetch from the network: src/href/url() to http(s) or //.
REMOTE_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*|url\(\s*["']?\s*|@import\s+["'])"""
    r"""(?:https?:)?//""",
    re.IGNORECASE,
)


def onward_runs(db: Path) -> dict:
    """alert_ti_enrich, and ip_summary / url_summary reached from it by pick_ip / pick_url."""
    alerts = summary_run(db, "alert_ti_enrich")
    return {
        "alerts": alerts,
        "ip": alerts.pick_ip(ATTACKER, run=cached_runner(db)),
        "url": alerts.pick_url(URL, run=cached_runner(db)),
    }


@pytest.fixture(scope="module")
def runs(demo_db) -> dict:
    return onward_runs(demo_db)


def _drill(*args: str):
    result = CliRunner().invoke(main, ["drill", *map(str, args)])
    return result, result.output + (result.stderr or "")


# ------------------------------------------------------------- chained runs


def test_pick_ip_and_pick_url_run_the_next_notebooklet(runs):
    alerts, ip, url = runs["alerts"], runs["ip"], runs["url"]
    assert (ip.template, ip.status) == ("ip_summary", "ok")
    assert ip.parameters["ip"] == ATTACKER
    assert (url.template, url.status) == ("url_summary", "ok")
    assert url.parameters["url"] == URL
    # The time range and data source carry over.
    for res in (ip, url):
        assert res.parameters["start"] == alerts.parameters["start"]
        assert res.parameters["data_source"] == alerts.parameters["data_source"]


def test_pick_ip_offers_only_the_alerts_ip_addresses(runs):
    alerts = runs["alerts"]
    iocs = alerts["alert_iocs"]
    expected = set(iocs.loc[iocs["IocType"] == "ipv4", "Ioc"])
    with pytest.raises(UsageError) as caught:
        alerts.pick_ip(URL, run=Recorder())  # a URL is not one of the addresses
    message = str(caught.value)
    assert f"{len(expected)} to choose from" in message
    assert all(ip in message for ip in expected)
    run = Recorder()
    alerts.pick_ip(0, run=run)
    assert run.calls[0][0] == "ip_summary" and run.calls[0][1]["ip"] in expected


def test_url_summary_pick_ip_and_ip_summary_pick_account(runs):
    url, ip = runs["url"], runs["ip"]
    addresses = set(url["known_addresses"]["Address"])
    assert addresses  # the demo logs a DNS answer for the URL's host
    run = Recorder()
    url.pick_ip(0, run=run)
    assert run.calls[-1][0] == "ip_summary" and run.calls[-1][1]["ip"] in addresses
    hosts = list(url["hosts"]["Host"])
    url.pick_host(hosts[-1], run=run)
    assert run.calls[-1][0] == "host_summary" and run.calls[-1][1]["host"] == hosts[-1]
    accounts = ip["ip_accounts"]
    chosen = accounts["Account"].iloc[0]
    ip.pick_account(chosen, run=run)
    assert run.calls[-1] == (
        "account_summary",
        {
            "silent": True,
            "start": ip.parameters["start"],
            "end": ip.parameters["end"],
            "data_source": ip.parameters["data_source"],
            "account": chosen,
        },
    )


# ------------------------------------------------------------- browse_alerts


@pytest.mark.parametrize(
    "which, result", [("ip", "related_alerts"), ("url", "related_alerts"), ("alerts", "alerts")]
)
def test_browse_alerts_lists_every_alert_and_shows_one(runs, which, result):
    res = runs[which]
    alerts = res[result]
    assert len(alerts) > 0
    box = res.browse_alerts()
    assert len(box.dropdown.options) == len(alerts)
    assert sorted(box.table["SystemAlertId"]) == sorted(alerts["SystemAlertId"])
    newest = alerts.sort_values("TimeGenerated").iloc[-1]
    shown = res.browse_alerts(alert=newest["SystemAlertId"])
    assert isinstance(shown, Browsed)
    fields = dict(shown.findings[0].data[["Field", "Value"]].values)
    assert fields["SystemAlertId"] == newest["SystemAlertId"]
    assert fields["AlertDisplayName"] == newest["AlertDisplayName"]
    assert str(res.browse_alerts(alert=0)) == str(shown)  # position 0: the most recent
    with pytest.raises(UsageError, match=f"{len(alerts)} to choose from"):
        res.browse_alerts(alert="no-such-alert")


def test_browse_alerts_on_ip_summary_shows_the_address_among_the_entities(runs):
    res = runs["ip"]
    for position in range(len(res["related_alerts"])):
        entities = res.browse_alerts(alert=position).findings[1].data
        assert ATTACKER in set(entities["Value"])


# ------------------------------------------------------------- browse_ti_results


@pytest.mark.parametrize("which", ["ip", "alerts"])
def test_browse_ti_results_per_indicator_with_provider_details(runs, which):
    res = runs[which]
    ti = res["ti_results"]
    assert len(ti) > 0
    box = res.browse_ti_results()
    assert len(box.dropdown.options) == ti["Ioc"].nunique()
    listed = ti.loc[ti["Result"].astype(bool), "Ioc"]
    assert ATTACKER in set(listed)  # the demo TI lists the attacker's address
    assert box.table["Ioc"].iloc[0] in set(listed)  # listed indicators first
    shown = res.browse_ti_results(indicator=ATTACKER)
    providers = shown.findings[0].data
    rows = ti[ti["Ioc"] == ATTACKER]
    assert set(providers["Provider"]) == set(rows["Provider"])
    hits = set(rows.loc[rows["Result"].astype(bool), "Provider"])
    assert any(
        n.kind == "finding" and all(p in n.text for p in hits) for n in shown.findings[0].notes
    )
    if which == "alerts":  # which alerts hold the indicator
        holding = set(rows["SystemAlertId"])
        assert set(shown.findings[1].data["SystemAlertId"]) == holding


# ------------------------------------------------------------- display_alert_timeline


def test_alert_timeline_is_interactive_offline_with_a_static_fallback(runs, tmp_path):
    res = runs["ip"]
    alerts = res["related_alerts"]
    page_path = tmp_path / "alerts.html"
    shown = res.display_alert_timeline(output=str(page_path))
    assert isinstance(shown, AlertTimeline) and shown.interactive
    assert len(shown.alerts) == len(alerts)
    bundle = shown._repr_mimebundle_()
    assert bundle["image/png"]  # the fallback where no script runs
    assert 'sandbox="allow-scripts"' in bundle["text/html"]
    page = page_path.read_text()
    assert page == shown.page()
    assert "Content-Security-Policy" in page and "script-src 'sha256-" in page
    assert not re.search(r"<script[^>]+src=", page)  # every script inlined: nothing fetched
    assert REMOTE_REFERENCE.findall(page) == []
    for name in alerts["AlertDisplayName"]:
        assert name.replace("&", "&amp;").replace("<", "&lt;") in page or name in page
    # The text fallback (what a shell prints) has one line per alert.
    text = str(shown).splitlines()
    assert text[0].endswith(f"{len(alerts)} alert(s)") and len(text) == len(alerts) + 2


def test_alert_timeline_refuses_a_bad_output_and_leaves_files_alone(runs, tmp_path):
    res = runs["url"]
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    with pytest.raises(UsageError, match="must be an .html file"):
        res.display_alert_timeline(output=str(keep))
    assert keep.read_text() == "mine"
    with pytest.raises(UsageError, match="does not exist"):
        res.display_alert_timeline(output=str(tmp_path / "missing" / "a.html"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


# ------------------------------------------------------------- from a shell


def test_drill_lists_the_new_drilldowns(runs):
    for which, names in {
        "ip": ["browse_alerts", "display_alert_timeline", "browse_ti_results", "pick_account"],
        "url": ["browse_alerts", "display_alert_timeline", "pick_ip", "pick_host"],
        "alerts": [
            "browse_alerts",
            "display_alert_timeline",
            "browse_ti_results",
            "pick_ip",
            "pick_url",
        ],
    }.items():
        result, out = _drill(runs[which].run_dir)
        assert result.exit_code == 0, out
        for name in names:
            assert re.search(rf"^{name} \((function|template): ", out, re.M), (which, name, out)


def test_drill_browse_alerts_from_a_shell(runs):
    res = runs["ip"]
    alerts = res["related_alerts"]
    result, out = _drill(res.run_dir, "browse_alerts")
    assert result.exit_code == 2  # the alert to show is missing: the table, then the choices
    assert "--param alert=" in out and f"{len(alerts)} alert(s)" in out
    for alert_id in alerts["SystemAlertId"]:
        assert out.count(alert_id) >= 2  # in the table and among the accepted values
    chosen = alerts["SystemAlertId"].iloc[0]
    result, out = _drill(res.run_dir, "browse_alerts", "--param", f"alert={chosen}")
    assert result.exit_code == 0, out
    assert chosen in out and "== Entities" in out and ATTACKER in out
    result, out = _drill(res.run_dir, "browse_alerts", "--param", "alert=nope")
    assert result.exit_code == 2 and "no alert 'nope'" in out
    result, out = _drill(res.run_dir, "browse_alerts", "--param", "colour=red")
    assert result.exit_code == 2 and "takes no colour" in out


def test_drill_ti_results_and_timeline_from_a_shell(runs, tmp_path):
    res = runs["alerts"]
    result, out = _drill(res.run_dir, "browse_ti_results")
    indicators = res["ti_results"]["Ioc"].unique()
    assert result.exit_code == 2 and "--param indicator=" in out
    assert f"{len(indicators)} indicator(s)" in out and all(i in out for i in indicators)
    result, out = _drill(
        res.run_dir, "browse_ti_results", "--param", f"indicator={ATTACKER}", "--json"
    )
    assert result.exit_code == 0, out
    providers = json.loads(result.output)[0]
    expected = res["ti_results"].query("Ioc == @ATTACKER")["Provider"]
    assert {r["Provider"] for r in providers["rows"]} == set(expected)

    page = tmp_path / "timeline.html"
    result, out = _drill(res.run_dir, "display_alert_timeline", "--param", f"output={page}")
    assert result.exit_code == 0, out
    assert f"{len(res['alerts'])} alert(s)" in out and page.stat().st_size > 100_000  # BokehJS
    result, out = _drill(res.run_dir, "display_alert_timeline", "--param", "output=t.csv")
    assert result.exit_code == 2 and "must be an .html file" in out


def test_drill_pick_url_prints_the_url_summary_command(runs):
    res = runs["alerts"]
    result, out = _drill(res.run_dir, "pick_url", "--row", URL, "--print")
    assert result.exit_code == 0, out
    words = shlex.split(result.output)
    assert words[:3] == ["nbcatalog", "run", "url-summary"]
    assert words[words.index("--url") + 1] == URL
    result, out = _drill(res.run_dir, "pick_url")
    urls = res["alert_iocs"].query("IocType == 'url'")["Ioc"].unique()
    if len(urls) > 1:
        assert result.exit_code == 2 and f"{len(urls)} to choose from" in out


def test_the_browsed_text_carries_no_terminal_controls():
    hostile = pd.DataFrame(
        {
            "AlertDisplayName": ["x\x1b]0;owned\x07"],
            "SystemAlertId": ["a\x1b[2J"],
            "Entities": ["[]"],
            "TimeGenerated": pd.to_datetime(["2024-05-01"], utc=True),
        }
    )

    class Run:
        template = "ip_summary"
        data = {"related_alerts": hostile}

    from nbcatalog.nblib.browse import browse_alerts

    text = str(browse_alerts(Run(), alert=0))
    assert "\x1b" not in text and "\x07" not in text and "\\x1b" in text


# ------------------------------------------- every pick_* from Python and from a shell

# (run, drill-down): the companion template and the parameter it is given.
PICKS = {
    ("alerts", "pick_ip"): ("ip_summary", "ip"),
    ("alerts", "pick_url"): ("url_summary", "url"),
    ("url", "pick_ip"): ("ip_summary", "ip"),
    ("url", "pick_host"): ("host_summary", "host"),
    ("ip_internal", "pick_host"): ("host_summary", "host"),
    ("ip", "pick_account"): ("account_summary", "account"),
}
# WKSTN-042's own address: ip_summary finds the host using it (the attacker's has none).
INTERNAL = "10.10.1.52"


def _pick_run(runs: dict, which: str, db: Path):
    if which == "ip_internal":
        return summary_run(db, "ip_summary", ip=INTERNAL)
    return runs[which]


@pytest.mark.parametrize(("which", "name"), sorted(PICKS))
def test_each_pick_gives_python_and_the_shell_the_same_run(runs, demo_db, which, name):
    from nbcatalog.drilldowns import specs_for

    res = _pick_run(runs, which, demo_db)
    template, param = PICKS[(which, name)]
    spec = specs_for(res)[name]
    assert spec.template == template
    column = spec.row_columns[param]
    frame = res[spec.result]
    if spec.where:  # e.g. alert_iocs rows of one IocType
        for key, value in spec.where.items():
            frame = frame[frame[key].isin(value if isinstance(value, list) else [value])]
    chosen = str(frame[column].iloc[-1])  # the last row: not a default a bug would pick
    run = Recorder()
    getattr(res, name)(chosen, run=run)
    called, params = run.calls[-1]
    assert (called, params[param]) == (template, chosen)
    result, out = _drill(res.run_dir, name, "--row", chosen, "--print")
    assert result.exit_code == 0, out
    words = shlex.split(result.output)
    assert words[:3] == ["nbcatalog", "run", template.replace("_", "-")]
    assert words[words.index(f"--{param}") + 1] == chosen
    assert words[words.index("--start") + 1] == params["start"] == res.parameters["start"]
    assert words[words.index("--source") + 1] == params["data_source"]


def test_pick_host_with_no_host_to_pick_says_so(runs):
    res = runs["ip"]  # the attacker's address: no host of the estate uses it
    assert res["host_entities"].empty
    with pytest.raises(UsageError) as caught:
        res.pick_host(run=Recorder())
    python_message = str(caught.value)
    result, out = _drill(res.run_dir, "pick_host", "--print")
    assert result.exit_code == 2
    assert python_message in out


# ------------------------------------------- host_network_summary's pick_ip

C2 = "192.0.2.66"  # LNX-WEB01's beacon (nbcatalog/data/demo planted_network.py)


@pytest.fixture(scope="module")
def hostnet_run(demo_db):
    return summary_run(demo_db, "host_network_summary", host="LNX-WEB01")


def test_host_network_summary_pick_ip_runs_ip_summary_from_python(hostnet_run, demo_db):
    res = hostnet_run
    assert res.status == "ok"
    assert C2 in set(res["remote_addresses"]["RemoteIP"])
    with pytest.raises(UsageError) as caught:
        res.pick_ip("198.18.0.1", run=Recorder())  # not among the host's remote addresses
    assert C2 in str(caught.value)
    ip = res.pick_ip(C2, run=cached_runner(demo_db))
    assert (ip.template, ip.status, ip.parameters["ip"]) == ("ip_summary", "ok", C2)
    assert ip.parameters["start"] == res.parameters["start"]


def test_host_network_summary_pick_ip_runs_from_a_shell(hostnet_run, tmp_path):
    """`nbcatalog drill RUN_DIR pick_ip --row IP` in a subprocess: a real ip_summary run."""
    import os
    import subprocess
    import sys

    res = hostnet_run
    nbcatalog_cmd = Path(sys.executable).with_name("nbcatalog")
    listed = subprocess.run(
        [str(nbcatalog_cmd), "drill", str(res.run_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^pick_ip \(template: ip_summary\)", listed.stdout, re.M), listed.stdout
    env = {**os.environ, "NBCATALOG_OUTPUT": str(tmp_path)}
    done = subprocess.run(
        [str(nbcatalog_cmd), "drill", str(res.run_dir), "pick_ip", "--row", C2, "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert (summary["template"], summary["status"]) == ("ip_summary", "ok")
    assert summary["parameters"]["ip"] == C2
    assert summary["parameters"]["data_source"] == res.parameters["data_source"]


# Every function drill-down of each run, from a shell, on that run's own rows.
FUNCTIONS = [
    (which, name)
    for which, names in {
        "ip": ["browse_alerts", "browse_ti_results", "display_alert_timeline"],
        "url": ["browse_alerts", "display_alert_timeline"],
        "alerts": ["browse_alerts", "browse_ti_results", "display_alert_timeline"],
    }.items()
    for name in names
]


@pytest.mark.parametrize(("which", "name"), FUNCTIONS)
def test_every_function_drilldown_runs_from_a_shell(runs, which, name, tmp_path):
    from nbcatalog.drilldowns import specs_for

    res = runs[which]
    frame = res[specs_for(res)[name].result]
    assert len(frame) > 0, f"{which}: no rows for {name} on the demo estate"
    if name == "browse_alerts":
        chosen = str(frame.sort_values("TimeGenerated")["SystemAlertId"].iloc[0])  # the oldest
        result, out = _drill(res.run_dir, name, "--param", f"alert={chosen}")
        assert result.exit_code == 0, out
        assert chosen in out and "== Entities" in out
    elif name == "browse_ti_results":
        chosen = str(frame["Ioc"].iloc[-1])
        result, out = _drill(res.run_dir, name, "--param", f"indicator={chosen}", "--json")
        assert result.exit_code == 0, out
        rows = json.loads(result.output)[0]["rows"]
        assert {r["Provider"] for r in rows} == set(frame.loc[frame["Ioc"] == chosen, "Provider"])
    else:
        page = tmp_path / "timeline.html"
        result, out = _drill(res.run_dir, name, "--param", f"output={page}")
        assert result.exit_code == 0, out
        assert f"{len(frame)} alert(s)" in out and page.stat().st_size > 100_000
