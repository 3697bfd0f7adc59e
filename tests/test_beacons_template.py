"""network_flow_summary on LNX-WEB01 reports the planted C2 beacon as a finding.

One real CLI run (kernel, demo store, nbconvert report), offline; the test reads what
an analyst reads: the --json findings, the beaconing section of the notebook and the
HTML report. Figures are counted from the store with plain SQL.
"""

from __future__ import annotations

import html
import json

import pytest
from helpers.demo_runs import C2, C2_PORT, c2_contacts, offline_cli_run
from helpers.offline import attempts
from run_helpers import outputs_text

pytestmark = pytest.mark.slow
pytest_plugins = ["helpers.offline_plugin"]

SPRAY_SOURCE = "198.51.100.23"
CONTRACT_KEYS = {"severity", "title", "text", "section", "result", "count", "key"}


run = offline_cli_run("network-flow-summary", timeout=300)


def _findings(summary: dict) -> list[dict]:
    # The runner may carry findings at the top (issue 11) or as the glued result.
    found = summary.get("findings")
    return found if isinstance(found, list) else summary["results"]["findings"]


class _Res:
    def __init__(self, summary):
        from pathlib import Path

        self.notebook_path = Path(summary["notebook"])


def test_the_beacon_is_a_high_finding_with_the_store_s_contact_count(run, demo_source):
    assert run["status"] == "ok"
    by_key = {f["key"]: f for f in _findings(run)}
    beacon = by_key[f"beacon:{C2}:{C2_PORT}"]
    assert set(beacon) == CONTRACT_KEYS
    assert beacon["severity"] == "high"
    assert beacon["section"] == "beacons" and beacon["result"] == "beacons"
    contacts = c2_contacts(demo_source, run["parameters"])
    assert contacts > 0 and f"{contacts} times" in beacon["title"]
    assert beacon["count"] == 1  # the channel's one row in `beacons`
    assert f"{C2}:{C2_PORT} every 10 min" in beacon["title"]
    # No other channel of the host is a beacon finding (its database traffic is steady too).
    assert [k for k in by_key if k.startswith("beacon:")] == [f"beacon:{C2}:{C2_PORT}"]


def test_the_spray_and_the_c2_ti_match_are_findings_too(run, demo_source):
    found = _findings(run)
    by_key = {f["key"]: f for f in found}
    assert by_key[f"ti:{C2}"]["severity"] == "high"
    spray = by_key[f"bruteforce:{SPRAY_SOURCE}:22"]
    flows = demo_source.sql(
        'SELECT sum(AllowedInFlows_d) FROM "AzureNetworkAnalytics_CL" '
        "WHERE VM_s LIKE '%/LNX-WEB01' AND SrcIP_s = $ip AND DestPort_d = 22 "
        "AND FlowStartTime_t >= $s AND FlowEndTime_t <= $e",
        {"ip": SPRAY_SOURCE, "s": run["parameters"]["start"], "e": run["parameters"]["end"]},
    ).iloc[0, 0]
    assert f"received {int(flows)} " in spray["title"] and spray["count"] == 1
    # The beacon channel is not reported a second time as an uncommon port.
    assert f"port:{C2}:{C2_PORT}" not in by_key
    ranks = ["high", "medium", "low", "info"]
    assert [ranks.index(f["severity"]) for f in found] == sorted(
        ranks.index(f["severity"]) for f in found
    )
    for f in found:
        assert set(f) <= CONTRACT_KEYS and f["section"] in (
            "beacons",
            "ti",
            "remote_access",
            "flows",
        )


def test_the_notebook_and_the_report_show_the_beacon(run):
    section = outputs_text(_Res(run), "beacons")
    assert C2 in section and "10 min" in section
    findings_section = outputs_text(_Res(run), "findings")
    assert f"beacon:{C2}:{C2_PORT}" in findings_section
    with open(run["report"], encoding="utf-8") as fh:
        report = fh.read()
    beacon = next(f for f in _findings(run) if f["key"] == f"beacon:{C2}:{C2_PORT}")
    assert html.escape(beacon["title"]) in report
    assert ">Beaconing<" in report and ">Findings<" in report
    assert json.dumps(beacon["title"])  # plain JSON text


def test_host_summary_scores_the_beacon_in_its_own_section(demo_db, offline, tmp_path_factory):
    import nbcatalog

    res = nbcatalog.run(
        "host_summary",
        host="LNX-WEB01",
        data_source=f"duckdb:{demo_db}",
        output_dir=tmp_path_factory.mktemp("host"),
        silent=True,
        quiet=True,
    )
    assert res.status == "ok"
    top = res["beacons"].iloc[0]
    assert (top["RemoteIP"], int(top["RemotePort"])) == (C2, C2_PORT)
    assert top["Score"] >= 0.9 and top["Interval"] == "10 min"
    assert C2 in outputs_text(res, "beacons")
    assert attempts(offline) == ""
