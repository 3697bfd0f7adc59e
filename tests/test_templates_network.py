"""network_flow_summary and ip_summary end to end on the demo store, in real kernels, offline.

Every kernel and CLI process of this module starts with the internet refused
(tests/helpers/offline.py), so the runs also prove that no GeoIP, TI or map step goes
online. Each distinct run happens once per module; the tests read its Results, its
saved notebook and its HTML report the way an analyst would, and compare counts with
the store's own tables.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers.demo_runs import C2, C2_PORT, c2_outbound_flows, cli_run_json
from helpers.offline import attempts
from run_helpers import outputs_text

import nbcatalog
from nbcatalog.catalog import get_template
from nbcatalog.errors import ParameterError

pytestmark = pytest.mark.slow
pytest_plugins = ["helpers.offline_plugin"]  # offline, offline_pool

ATTACKER = "203.0.113.77"
WKSTN_042_IP = "10.10.1.52"
# Anything that would make a browser fetch from the network: src/href/url() to http(s) or //.
REMOTE_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*|url\(\s*["']?\s*|@import\s+["'])"""
    r"""(?:https?:)?//""",
    re.IGNORECASE,
)


@pytest.fixture(autouse=True)
def stays_offline(offline):
    """Every test of this module ends with no internet attempt on record."""
    yield
    assert attempts(offline) == "", "a run tried to go online"


@pytest.fixture(scope="module")
def runner(demo_db, offline_pool, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    cache: dict[str, object] = {}

    def run(name: str, **params):
        key = name + json.dumps(
            {k: v for k, v in params.items() if k != "data"}, sort_keys=True, default=str
        )
        if "data" in params:  # a frame is not a cache key; tests pass one frame
            key += "+data"
        if key not in cache:
            settings = {"data_source": f"duckdb:{demo_db}", "silent": True, "quiet": True}
            cache[key] = nbcatalog.run(
                name, output_dir=out, pool=offline_pool, **{**settings, **params}
            )
        return cache[key]

    return run


def _images(res, section: str) -> int:
    nb = nbformat.read(res.notebook_path, as_version=4)
    return sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if f"section:{section}" in cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", [])
    )


def _assert_offline_report(res, template_name: str) -> str:
    html = res.report_path.read_text(encoding="utf-8")
    assert REMOTE_REFERENCE.findall(html) == []
    assert "leaflet" not in html.lower() and "<iframe" not in html
    for section in get_template(template_name).sections:
        assert f">{section.title}<" in html or f">{section.title}</" in html, section.title
    return html


# ------------------------------------------------------------ network_flow_summary


def test_network_flow_summary_contract():
    t = get_template("network-flow-summary")
    names = [p.name for p in t.parameters]
    assert names == ["host", "ip", "asn", "data", "start", "end", "data_source", "options"]
    assert t.parameter("data").type == "DataFrame"
    assert [s.id for s in t.sections] == [
        "subject",
        "flows",
        "beacons",
        "remote_access",
        "protocols",
        "ti",
        "remote",
        "asn",
        "map",
        "findings",
        "summary",
    ]
    for name in (
        "network_flows",
        "plot_flows_by_protocol",
        "plot_flows_by_direction",
        "flow_summary",
        "flow_index",
        "ti_results",
        "geo_map",
    ):
        assert name in t.glue_names, name


def test_c2_flow_from_lnx_web01_with_its_ti_match(runner, demo_source):
    res = runner("network_flow_summary", host="LNX-WEB01", html=True)
    assert res.status == "ok"
    index = res["flow_index"]
    c2 = index[(index["RemoteIP"] == C2) & (index["DestPort"] == C2_PORT)]
    assert c2["Direction"].tolist() == ["outbound"]
    expected = c2_outbound_flows(demo_source, res.parameters)
    assert c2["Flows"].iloc[0] == expected > 0

    ti = res["ti_results"].set_index("Ioc")
    assert bool(ti.loc[C2, "Result"]) and ti.loc[C2, "Severity"] == "high"
    assert C2 in res["ti_matches"]
    summary = res["flow_summary"].set_index("RemoteIP")
    assert summary.loc[C2, "TISeverity"] == "high"
    assert summary.loc[C2, "RemoteClass"] == "documentation"
    assert summary["Flows"].sum() == res["network_flows"]["Flows"].sum()
    owners = res["asn_summary"]
    assert owners["Addresses"].sum() == len(summary)  # every address is in one group
    assert C2 in outputs_text(res, "ti")
    counts = res["summary"].set_index("Item")["Count"]
    assert counts["TI matches"] == len(res["ti_matches"])
    assert counts["Network flows"] == len(res["network_flows"])
    # Three charts and the bar of counts, then the map: drawn, inline.
    assert _images(res, "protocols") == 3 and _images(res, "map") == 1


def test_network_flow_summary_report_opens_offline(runner):
    res = runner("network_flow_summary", host="LNX-WEB01", html=True)
    html = _assert_offline_report(res, "network_flow_summary")
    assert html.count("data:image/png;base64") >= 4
    assert "nf.flow_chart" not in html  # no code in the report


def test_options_off_are_honoured(runner):
    # Only geo on: every other part says it was switched off and glues nothing.
    res = runner("network_flow_summary", host="LNX-WEB01", options=["geo"])
    assert res.status == "ok"
    assert len(res["network_flows"]) > 0  # the flows are always read
    for section, option in (
        ("protocols", "plot_flows"),
        ("remote", "flow_summary"),
        ("asn", "flow_summary"),
        ("ti", "ti"),
        ("map", "geo_map"),
    ):
        assert f"option &#x27;{option}&#x27; is off" in outputs_text(res, section), option
    assert _images(res, "protocols") == 0 and _images(res, "map") == 0
    assert res["ti_results"].empty and res["ti_matches"] == []
    assert res["asn_summary"].empty
    assert res["flow_summary"]["AsnOrg"].notna().any()  # geo on: owners were looked up


def test_flows_passed_as_data_without_geo(runner, demo_source):
    reference = runner("network_flow_summary", host="LNX-WEB01", html=True)
    window = {k: reference.parameters[k] for k in ("start", "end")}
    flows = demo_source.query(
        "Network.list_azure_network_flows_by_host", host_name="LNX-WEB01", **window
    )
    res = runner("network_flow_summary", data=flows, options=["geo_map", "ti"], **window)
    assert res.status == "ok"
    assert res["network_flows"]["Flows"].sum() == reference["network_flows"]["Flows"].sum()
    assert C2 in res["ti_matches"]
    assert res["flow_summary"]["AsnOrg"].isna().all()  # geo off: nothing looked up
    assert "option &#x27;geo&#x27; is off" in outputs_text(res, "map")  # the map needs it
    assert "DataFrame passed as data" in outputs_text(res, "flows")


def test_pick_an_as_owner(runner):
    from nbcatalog.nblib.pickers import picker

    res = runner("network_flow_summary", host="LNX-WEB01", html=True)
    owners = res["asn_summary"]
    named = owners[~owners["AsnOrg"].str.startswith("(")]
    box = picker(res, "asn", run=runner)
    box.dropdown.value = named["AsnOrg"].iloc[0]
    box.pick()  # what the Show button does
    chosen = box.last_results
    assert chosen.parameters["asn"] == named["AsnOrg"].iloc[0]
    picked = chosen["asn_addresses"]
    assert len(picked) == named["Addresses"].iloc[0]
    assert set(picked["AsnOrg"]) == {named["AsnOrg"].iloc[0]}
    assert f"Remote addresses of {named['AsnOrg'].iloc[0]}" in outputs_text(chosen, "asn")
    assert _images(chosen, "map") == 1


def test_unknown_host_names_the_closest(runner):
    res = runner("network_flow_summary", host="LNX-WEB1")
    assert res.status == "no_data"  # it used to say ok with every section empty
    assert res.no_data["reason"].startswith("no host named 'LNX-WEB1' in this data source")
    assert "LNX-WEB01" in res.no_data["closest"]
    assert res["network_flows"].empty and res["host_matches"].empty
    assert "closest names: LNX-WEB01" in outputs_text(res, "subject")
    assert "did not select one host" in outputs_text(res, "flows")


def test_cli_json_summary_names_the_c2(demo_db, tmp_path):
    summary = cli_run_json("network-flow-summary", demo_db, tmp_path)
    assert summary["status"] == "ok"
    assert C2 in summary["results"]["ti_matches"]
    assert summary["results"]["network_flows"]["rows"] > 0
    assert "RemoteIP" in summary["results"]["flow_index"]["columns"]


# ---------------------------------------------------------------------- ip_summary


def test_ip_summary_contract_and_bad_addresses():
    t = get_template("ip-summary")
    assert [p.name for p in t.parameters] == ["ip", "start", "end", "data_source", "options"]
    msticnb_names = "ip_str ip_type ip_origin geoip heartbeat host_entities aad_signins"
    msticnb_names += " host_logons related_alerts related_bookmarks ti_results az_network_flows"
    assert set(msticnb_names.split()) <= set(t.glue_names)
    with pytest.raises(ParameterError, match="ip"):
        nbcatalog.run("ip_summary")  # required: refused before a kernel starts
    with pytest.raises(ParameterError, match="not a valid ip"):
        nbcatalog.run("ip_summary", ip="10.0.0.999")


def test_ip_summary_on_the_rdp_attacker(runner, demo_source):
    res = runner("ip_summary", ip=ATTACKER, html=True)
    assert res.status == "ok"
    assert res["ip_type"] == "documentation"
    assert res["ti_matches"] == [ATTACKER]
    assert res["ip_entity"]["ThreatIntel"] == "listed (high)"
    assert res["geoip"].empty  # documentation range: no location exists
    assert (res["ip_str"], res["ip_origin"]) == (ATTACKER, "External")

    logons = res["logons"]
    failures = demo_source.sql(
        'SELECT count(*) FROM "SecurityEvent" WHERE EventID = 4625 AND IpAddress = $ip '
        "AND TimeGenerated BETWEEN $s AND $e",
        {"ip": ATTACKER, "s": res.parameters["start"], "e": res.parameters["end"]},
    ).iloc[0, 0]
    windows = logons[logons["Source"] == "Windows"]
    assert (windows["Result"] == "Failure").sum() == failures >= 300
    assert (windows["Result"] == "Success").any()
    signins = res["aad_signins"]
    assert (logons["Source"] == "Entra ID sign-in").sum() == len(signins) > 0
    assert set(signins["IPAddress"]) == {ATTACKER}  # SigninLogs rows as Entra ID wrote them
    assert len(res["host_logons"]) == len(logons) - len(signins)

    alerts = res["related_alerts"]
    assert len(alerts) > 0 and all(ATTACKER in e for e in alerts["Entities"])
    assert sorted(res["alert_names"]) == sorted(set(alerts["AlertDisplayName"]))
    assert len(res["related_bookmarks"]) > 0
    assert set(res["az_network_flows"]["RemoteIP"]) == {WKSTN_042_IP}
    assert res["host_entities"].empty
    assert _images(res, "logons") == 1  # the logon timeline

    summary = res["summary"].set_index("Item")["Count"]
    assert summary["Logon attempts"] == len(logons)
    assert summary["Related alerts"] == len(alerts)


def test_ip_summary_report_opens_offline(runner):
    res = runner("ip_summary", ip=ATTACKER, html=True)
    html = _assert_offline_report(res, "ip_summary")
    assert "data:image/png;base64" in html


def test_ip_summary_on_a_private_address(runner):
    res = runner("ip_summary", ip=WKSTN_042_IP)
    assert res.status == "ok"
    assert res["ip_type"] == "private"
    hosts = res["host_entities"]
    assert "WKSTN-042" in set(hosts.loc[hosts["Source"] == "Heartbeat", "HostName"])
    assert res["ip_origin"] == "Internal"
    assert "WKSTN-042" in set(res["heartbeat"]["Computer"])
    assert res["geoip"].empty and "none was looked up" in outputs_text(res, "geo")
    assert res["ti_results"].empty and "internal address" in outputs_text(res, "ti")
    assert len(res["az_network_flows"]) > 0 and len(res["logons"]) > 0
    assert res["related_alerts"].empty and "no alerts name" in outputs_text(res, "alerts")


def test_ip_summary_options_off(runner):
    res = runner("ip_summary", ip=ATTACKER, options=[])
    assert res.status == "ok"
    assert res["ip_type"] == "documentation"  # the address itself is always described
    for section, option in (
        ("hosts", "hosts"),
        ("geo", "geo"),
        ("ti", "ti"),
        ("logons", "logons"),
        ("alerts", "alerts"),
        ("alerts", "bookmarks"),
        ("flows", "flows"),
    ):
        assert f"option &#x27;{option}&#x27; is off" in outputs_text(res, section), option
    for name in ("logons", "related_alerts", "related_bookmarks", "az_network_flows", "ti_results"):
        assert res[name].empty, name
    assert res["ti_matches"] == [] and _images(res, "logons") == 0


def test_ip_summary_on_an_empty_store(offline_pool, tmp_path):
    from nbcatalog.data.store import Store

    db = tmp_path / "empty.duckdb"
    Store.open(db).close()
    res = nbcatalog.run(
        "ip_summary",
        ip=ATTACKER,
        data_source=f"duckdb:{db}",
        output_dir=tmp_path / "out",
        silent=True,
        quiet=True,
        pool=offline_pool,
    )
    # Nothing anywhere, and no TI: no_data (it used to say ok); GeoIP alone does not count.
    assert res.status == "no_data"
    assert res.no_data["reason"].startswith(f"no sighting of {ATTACKER} (hosts, logons")
    assert res["summary"]["Count"].sum() == 0
    assert "no logon attempts from" in outputs_text(res, "logons")
    assert "no TI provider lists" in outputs_text(res, "ti")


# ------------------------------------------------------ imported from a Zeek conn.log

ZEEK_FIELDS = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service local_orig".split()


def _zeek_log(path: Path, now: float) -> list[dict]:
    """A conn.log of one workstation (10.0.1.5) and a neighbour; returns the records."""
    plan = (
        [("10.0.1.5", "192.0.2.66", 4444, "tcp", "-", "T")] * 12  # beacons
        + [("10.0.1.5", "10.0.0.2", 53, "udp", "dns", "T")] * 10
        + [("10.0.1.5", "8.8.8.8", 443, "tcp", "ssl", "T")] * 5
        + [("203.0.113.77", "10.0.1.5", 22, "tcp", "ssh", "F")] * 3
        + [("10.0.1.9", "1.1.1.1", 443, "tcp", "ssl", "T")] * 4  # another host
    )
    records = [
        dict(zip(ZEEK_FIELDS, (now - 60 * i, f"C{i}", o, 40000 + i, r, p, pr, s, lo), strict=True))
        for i, (o, r, p, pr, s, lo) in enumerate(plan)
    ]
    lines = ["#separator \\x09", "#path\tconn", "#fields\t" + "\t".join(ZEEK_FIELDS)]
    lines += ["\t".join(str(rec[f]) for f in ZEEK_FIELDS) for rec in records]
    path.write_text("\n".join(lines) + "\n")
    return records


def test_flows_imported_from_a_zeek_conn_log_agree_with_the_file(offline_pool, tmp_path):
    import pandas as pd

    from nbcatalog.data.importers import import_paths
    from nbcatalog.data.store import Store

    now = pd.Timestamp.now(tz="UTC").floor("s")
    db = tmp_path / "zeek.duckdb"
    records = _zeek_log(tmp_path / "conn.log", now.timestamp())
    assert import_paths([tmp_path / "conn.log"], db=db).files[0].rows_stored == len(records)
    with Store.open(db) as store:  # the analyst's TI feed lists the C2
        store.append(
            "ThreatIntelligenceIndicator",
            pd.DataFrame(
                {
                    "TimeGenerated": [now - pd.Timedelta("1d")],
                    "IndicatorId": ["ti-1"],
                    "Active": [True],
                    "ThreatSeverity": [5],
                    "ThreatType": ["C2"],
                    "NetworkIP": [C2],
                }
            ),
        )
    res = nbcatalog.run(
        "network_flow_summary",
        ip="10.0.1.5",
        start=(now - pd.Timedelta("1d")).isoformat(),
        end=(now + pd.Timedelta("1h")).isoformat(),
        data_source=f"duckdb:{db}",
        output_dir=tmp_path / "out",
        silent=True,
        quiet=True,
        pool=offline_pool,
    )
    assert res.status == "ok"
    mine = [r for r in records if "10.0.1.5" in (r["id.orig_h"], r["id.resp_h"])]
    assert res["network_flows"]["Flows"].sum() == len(mine) == 30
    index = res["flow_index"].set_index(["RemoteIP", "DestPort"])
    for remote, port in ((C2, C2_PORT), ("10.0.0.2", 53), ("8.8.8.8", 443), (ATTACKER, 22)):
        expected = sum(
            1 for r in mine if remote in (r["id.orig_h"], r["id.resp_h"]) and r["id.resp_p"] == port
        )
        assert index.loc[(remote, port), "Flows"] == expected, remote
    assert index.loc[(ATTACKER, 22), "Direction"] == "inbound"
    assert index.loc[(C2, C2_PORT), "Direction"] == "outbound"
    assert "1.1.1.1" not in set(res["flow_summary"]["RemoteIP"])  # the neighbour's flow
    assert res["ti_matches"] == [C2]
    counts = res["protocol_counts"].groupby("Protocol")["Flows"].sum().to_dict()
    assert counts == {"TCP": 12, "dns": 10, "ssl": 5, "ssh": 3}


def test_the_block_is_real(offline):
    """A process started in this module cannot connect, and the attempt is logged."""
    probe = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=2)"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode != 0 and "internet access refused" in proc.stderr
    assert "create_connection" in attempts(offline)
    offline.write_text("", encoding="utf-8")  # expected: not a run going online


def test_ip_summary_on_a_public_address_locates_it(runner, demo_source):
    busiest = demo_source.sql(
        'SELECT SrcIP_s AS ip, count(*) AS n FROM "AzureNetworkAnalytics_CL" '
        "WHERE VM_s LIKE '%/LNX-WEB01' AND FlowDirection_s = 'I' AND SrcIP_s NOT LIKE '10.%' "
        "AND SrcIP_s NOT IN ('198.51.100.23', '203.0.113.77') GROUP BY 1 ORDER BY n DESC LIMIT 1"
    ).iloc[0]["ip"]
    res = runner("ip_summary", ip=busiest)
    assert res.status == "ok" and res["ip_type"] == "public"
    geo = res["geoip"].iloc[0]
    assert geo["CountryCode"] and geo["AsnOrg"]  # offline GeoLite2 data knows it
    assert res["ip_entity"]["Country"] == geo["CountryName"]
    assert _images(res, "geo") == 1  # the map
    flows = res["az_network_flows"]
    assert "10.20.0.10" in set(flows["RemoteIP"])  # LNX-WEB01, and whoever else it probed
    assert set(flows["Direction"]) == {"outbound"}  # seen from the address: it connected
