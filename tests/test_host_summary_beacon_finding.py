"""host_summary on LNX-WEB01 states the planted C2 beacon as a finding, wherever a user reads it.

One real CLI run (`nbcatalog run host-summary --host LNX-WEB01 --html --json`, a
subprocess, offline kernel on the demo store): the beacon is in the printed --json
findings, in `Results.findings` of the run folder read back from Python, and in the
report's verdict. The contact count is counted from the store with plain SQL. The
beacon is planted by nbcatalog/data/demo/planted_network.py (LNX-WEB01 ->
192.0.2.66:4444 every 10 minutes).
"""

from __future__ import annotations

import html

import pytest
from helpers.demo_runs import C2, C2_PORT, c2_contacts, offline_cli_run

pytestmark = pytest.mark.slow
pytest_plugins = ["helpers.offline_plugin"]

KEY = f"beacon:{C2}:{C2_PORT}"


run = offline_cli_run("host-summary", timeout=600)


def test_json_states_the_beacon_with_the_store_s_contact_count(run, demo_source):
    assert run["status"] == "ok"
    by_key = {f["key"]: f for f in run["findings"]}
    beacon = by_key[KEY]
    assert beacon["severity"] == "high" and beacon["section"] == "beacons"
    contacts = c2_contacts(demo_source, run["parameters"])
    assert contacts > 0 and f"{C2}:{C2_PORT} every 10 min, {contacts} times" in beacon["title"]
    assert beacon["count"] == 1  # its evidence: the channel's one row in `beacons`
    assert [k for k in by_key if k.startswith("beacon:")] == [KEY]  # nothing else beacons


def test_results_findings_read_back_from_the_run_folder_hold_the_beacon(run):
    from nbcatalog.batch import results_from_run_dir

    res = results_from_run_dir(run["run_dir"])
    assert res.status == "ok"
    beacon = next(f for f in res.findings if f["key"] == KEY)
    assert beacon == next(f for f in run["findings"] if f["key"] == KEY)
    assert C2 in set(res["beacons"]["RemoteIP"])  # the evidence rows behind it


def test_report_verdict_names_the_beacon(run):
    beacon = next(f for f in run["findings"] if f["key"] == KEY)
    with open(run["report"], encoding="utf-8") as fh:
        page = fh.read()
    start = page.index('class="nbc-verdict')
    verdict = page[start : page.index('class="nbc-toc"', start)]
    assert html.escape(beacon["title"]) in verdict
    assert 'href="#sec-beacons"' in verdict
    assert f"{len(run['findings'])} finding" in verdict
