"""host_network_summary end to end: the demo store, imported real-format exports, no_data.

Real kernels (one offline pool for the module), real DuckDB stores and nbconvert
reports. Figures are counted with plain SQL on the store, or with json/csv on the
fixture files, never with nbcatalog's own parsers.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.offline import attempts
from run_helpers import outputs_text

import nbcatalog
from nbcatalog.catalog import get_template

pytestmark = pytest.mark.slow
pytest_plugins = ["helpers.offline_plugin"]

FIXTURES = Path(__file__).parent / "fixtures" / "network"
DEFENDER = FIXTURES / "DeviceNetworkEvents_web02.json"
FIREWALL = FIXTURES / "CommonSecurityLog_fortigate.csv"
C2, C2_PORT = "192.0.2.66", 4444
NBCATALOG = Path(sys.executable).parent / "nbcatalog"


@pytest.fixture(autouse=True)
def stays_offline(offline):
    yield
    assert attempts(offline) == "", "a run tried to go online"


@pytest.fixture(scope="module")
def runner(offline_pool, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    cache: dict[str, object] = {}

    def run(source: str, **params):
        key = source + json.dumps(params, sort_keys=True)
        if key not in cache:
            cache[key] = nbcatalog.run(
                "host_network_summary",
                data_source=source,
                output_dir=out,
                pool=offline_pool,
                silent=True,
                quiet=True,
                **params,
            )
        return cache[key]

    return run


def _keys(res) -> dict[str, dict]:
    return {f["key"]: f for f in res.findings or []}


def test_contract():
    t = get_template("host-network-summary")
    assert [p.name for p in t.parameters][:4] == ["host", "start", "end", "data_source"]
    assert [s.id for s in t.sections] == [
        "host",
        "connections",
        "matrix",
        "owners",
        "ti",
        "whois",
        "beacons",
        "bruteforce",
        "findings",
        "summary",
    ]
    drill = t.metadata["drilldowns"]["pick_ip"]
    assert drill["template"] == "ip_summary" and drill["result"] == "remote_addresses"
    assert drill["result"] in t.glue_names
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "| `host_network_summary` | host |" in readme


def test_lnx_web01_beacon_seen_by_every_log(runner, demo_db, demo_source):
    res = runner(f"duckdb:{demo_db}", host="LNX-WEB01", html=True)
    assert res.status == "ok"
    s, e = res.parameters["start"], res.parameters["end"]
    by_log = res["connections_by_source"].set_index("Source")["Connections"]
    defender = demo_source.sql(
        'SELECT count(*) FROM "DeviceNetworkEvents" WHERE DeviceName = $d '
        "AND TimeGenerated BETWEEN $s AND $e AND ActionType <> 'ListeningConnectionCreated'",
        {"d": "lnx-web01.contoso.com", "s": s, "e": e},
    ).iloc[0, 0]
    assert by_log["Defender"] == defender > 0
    firewall = demo_source.sql(
        'SELECT count(*) AS n, sum(SentBytes + ReceivedBytes) AS b FROM "CommonSecurityLog" '
        "WHERE TimeGenerated BETWEEN $s AND $e AND DestinationIP = $ip AND DestinationPort = $p",
        {"ip": C2, "p": C2_PORT, "s": s, "e": e},
    ).iloc[0]
    matrix = res["flow_matrix"]
    row = matrix[(matrix["RemoteIP"] == C2) & (matrix["DestPort"] == C2_PORT)].iloc[0]
    assert row["Sources"] == "Defender, Firewall, NSG flows"
    assert row["Processes"] == "kworkerd"
    assert row["Bytes"] == firewall["b"]
    # The logs overlap: the busiest log's count, never the sum of the three.
    nsg = demo_source.sql(
        'SELECT sum(AllowedOutFlows_d) FROM "AzureNetworkAnalytics_CL" WHERE VM_s LIKE '
        "'%/LNX-WEB01' AND DestIP_s = $ip AND DestPort_d = $p "
        "AND FlowStartTime_t >= $s AND FlowEndTime_t <= $e",
        {"ip": C2, "p": C2_PORT, "s": s, "e": e},
    ).iloc[0, 0]
    assert row["Connections"] == max(nsg, firewall["n"])

    found = _keys(res)
    beacon = found[f"beacon:{C2}:{C2_PORT}"]
    assert beacon["severity"] == "high" and beacon["section"] == "beacons"
    assert found[f"ti:{C2}"]["severity"] == "high"
    assert "bruteforce:198.51.100.23:22" in found
    scored = res["beacons"]
    assert set(scored.loc[scored["RemoteIP"] == C2, "Source"]) == {
        "Defender",
        "Firewall",
        "NSG flows",
    }
    assert C2 in outputs_text(res, "beacons")
    report = res.report_path.read_text(encoding="utf-8")
    assert ">Beaconing<" in report and beacon["title"] in report
    assert "Whois" in outputs_text(res, "whois")  # off by default: says how to switch it on


def test_wkstn_042_brute_force_counted_per_log(runner, demo_db, demo_source):
    res = runner(f"duckdb:{demo_db}", host="WKSTN-042")
    assert res.status == "ok"
    s, e = res.parameters["start"], res.parameters["end"]
    accepted = demo_source.sql(
        'SELECT count(*) FROM "DeviceNetworkEvents" WHERE DeviceName = $d AND RemoteIP = $ip '
        "AND LocalPort = 3389 AND ActionType = 'InboundConnectionAccepted' "
        "AND TimeGenerated BETWEEN $s AND $e",
        {"d": "wkstn-042.contoso.com", "ip": "203.0.113.77", "s": s, "e": e},
    ).iloc[0, 0]
    brute = res["brute_force"]
    rdp = brute[(brute["RemoteIP"] == "203.0.113.77") & (brute["DestPort"] == 3389)]
    assert rdp.set_index("Source").loc["Defender", "Flows"] == accepted > 100
    # The firewall logged it against the NAT address; the host's private one is local.
    assert rdp.set_index("Source").loc["Firewall", "LocalIPs"] == "10.10.1.52"
    assert "20.83.144.42" in res["host_addresses"]
    finding = _keys(res)["bruteforce:203.0.113.77:3389"]
    assert f"received {accepted} " in finding["title"] and finding["severity"] == "high"


def test_no_connections_in_the_range_is_no_data(runner, demo_db):
    res = runner(
        f"duckdb:{demo_db}",
        host="LNX-WEB01",
        start="2020-01-01T00:00:00Z",
        end="2020-01-02T00:00:00Z",
    )
    assert res.status == "no_data"
    assert "network connections of LNX-WEB01" in res.reason


# ------------------------------------------------------------ imported exports


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("imported") / "store.duckdb"
    proc = subprocess.run(
        [str(NBCATALOG), "data", "import", str(DEFENDER), str(FIREWALL), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return db


def test_imported_exports_give_the_beacon_and_the_brute_force(runner, imported):
    events = json.loads(DEFENDER.read_text(encoding="utf-8"))
    with FIREWALL.open(newline="", encoding="utf-8") as fh:
        sessions = list(csv.DictReader(fh))
    device = {e["DeviceName"] for e in events}.pop()
    implant = [e for e in events if e["RemotePort"] == 8443]
    c2 = implant[0]["RemoteIP"]
    ssh = [r for r in sessions if r["DestinationPort"] == "22"]
    attacker = ssh[0]["SourceIP"]
    times = sorted(e["Timestamp"] for e in events)
    res = runner(
        f"duckdb:{imported}", host=device.split(".")[0], start=times[0], end="2026-12-01T00:00:00Z"
    )
    assert res.status == "ok"
    by_log = res["connections_by_source"].set_index("Source")["Connections"]
    connections = [e for e in events if e["ActionType"] != "ListeningConnectionCreated"]
    assert by_log["Defender"] == len(connections)
    assert by_log["Firewall"] == len(sessions)
    found = _keys(res)
    beacon = found[f"beacon:{c2}:8443"]
    assert f"{len({e['Timestamp'] for e in implant})} times" in beacon["title"]
    assert f"received {len(ssh)} " in found[f"bruteforce:{attacker}:22"]["title"]
    # The IPv6 remote is listed, and the hostile URL never reaches the page as markup.
    assert "2001:db8:beef::10" in set(res["remote_addresses"]["RemoteIP"])
    assert "<img src=x" not in "".join(outputs_text(res, s) for s in ("matrix", "findings"))


# ------------------------------------------------------------ msticpy LocalData


def test_msticpy_localdata_flow_file_names_the_host_and_its_connections(demo_source, tmp_path):
    """msticpy's LocalData driver (files, no network): its flow file is the only log."""
    import warnings

    import pandas as pd

    from nbcatalog.data.source import MsticpySource
    from nbcatalog.nblib import Investigation, hostnet

    end = pd.Timestamp(
        demo_source.sql('SELECT max(FlowEndTime_t) FROM "AzureNetworkAnalytics_CL"').iloc[0, 0]
    )
    start = end - pd.Timedelta(days=7)
    flows = demo_source.query(
        "Network.list_azure_network_flows_by_host", host_name="LNX-WEB01", start=start, end=end
    )
    flows.to_pickle(tmp_path / "az_net_comms_df.pkl")  # the file LocalData reads for it
    # The same host read from the embedded store: LocalData must tell the same story.
    in_store = hostnet.host_connections(Investigation(demo_source, start, end), "LNX-WEB01")
    expected = hostnet.source_summary(in_store).set_index("Source")["Connections"]["NSG flows"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inv = Investigation(MsticpySource("LocalData", data_paths=[str(tmp_path)]), start, end)
        found = hostnet.find_network_host(inv, "lnx-web01")
        assert found.name == "LNX-WEB01"
        conns = hostnet.host_connections(inv, found.name)
    by_log = hostnet.source_summary(conns).set_index("Source")["Connections"]
    assert by_log["NSG flows"] == expected > 0
    assert by_log["Defender"] == by_log["Firewall"] == 0
    assert any("M365D.host_connections" in m for m in conns.messages())  # says what is absent
    scored = hostnet.beacons_by_source(conns.data, "LNX-WEB01").data
    assert (scored.iloc[0]["RemoteIP"], int(scored.iloc[0]["RemotePort"])) == (C2, C2_PORT)
