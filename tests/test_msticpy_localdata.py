"""msticpy LocalData (msticnb-style pickles): a query returns the rows its parameters select.

LocalData's driver returns a whole file for a query whatever its parameters; the
pickles here hold several hosts, as msticnb's test data does, and the expected rows
are counted from the frame written.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from helpers.localdata import export_store, localdata_source

T0 = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    folder = tmp_path_factory.mktemp("localdata")
    hosts = ["WKSTN-042", "wkstn-042.contoso.com", "WIN-DC01", "WKSTN-0421", None]
    rows = [
        {
            "TimeGenerated": T0 + timedelta(hours=i),
            "Computer": hosts[i % len(hosts)],
            "EventID": 4688,
            "TargetUserName": "bob" if i % 2 else "alice",
            "IpAddress": "203.0.113.77" if i % 3 == 0 else "10.0.0.5",
        }
        for i in range(40)
    ]
    frame = pd.DataFrame(rows)
    frame.to_pickle(folder / "processes_on_host.pkl")
    frame.to_pickle(folder / "host_logons.pkl")
    return localdata_source(folder), frame


def test_host_query_returns_only_that_host_and_its_fqdn(local):
    source, frame = local
    window = {"start": T0 - timedelta(days=1), "end": T0 + timedelta(days=3)}
    got = source.query("WindowsSecurity.list_host_processes", host_name="WKSTN-042", **window)
    names = frame["Computer"].dropna().str.lower()
    expected = int(((names == "wkstn-042") | names.str.startswith("wkstn-042.")).sum())
    assert len(got) == expected > 0
    assert set(got["Computer"]) == {"WKSTN-042", "wkstn-042.contoso.com"}


def test_time_range_is_applied(local):
    source, frame = local
    start, end = T0 + timedelta(hours=10), T0 + timedelta(hours=19)
    got = source.query(
        "WindowsSecurity.list_host_logons", host_name="WIN-DC01", start=start, end=end
    )
    want = frame[
        (frame["Computer"] == "WIN-DC01")
        & (frame["TimeGenerated"] >= start)
        & (frame["TimeGenerated"] <= end)
    ]
    assert len(got) == len(want) > 0
    assert got["TimeGenerated"].between(start, end).all()


def test_unknown_host_gets_no_rows_not_every_host(local):
    source, _ = local
    window = {"start": T0 - timedelta(days=1), "end": T0 + timedelta(days=3)}
    assert source.query("WindowsSecurity.list_host_processes", host_name="WKSTN-99", **window).empty


def test_export_writes_msticpys_localdata_files_from_the_store(demo_db, tmp_path):
    import duckdb
    import msticpy
    import yaml

    export_store(demo_db, tmp_path)
    # Every file named by msticpy's own LocalData query definitions, and nothing else.
    spec = Path(msticpy.__file__).parent / "data" / "queries" / "localdata" / "local_data.yaml"
    names = {s["args"]["query"] for s in yaml.safe_load(spec.read_text())["sources"].values()}
    written = {p.name for p in tmp_path.glob("*.pkl")}
    assert written <= names and {"host_logons.pkl", "processes_on_host.pkl"} <= written
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        n = con.execute('SELECT count(*) FROM "SecurityEvent" WHERE EventID = 4688').fetchone()[0]
    finally:
        con.close()
    assert len(pd.read_pickle(tmp_path / "processes_on_host.pkl")) == n > 0
    assert not list(tmp_path.glob("*.part"))


def test_export_without_a_store_exits_2_and_writes_nothing(tmp_path):
    from click.testing import CliRunner
    from nbcatalog.cli.main import main

    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["data", "localdata", str(out), "--db", str(tmp_path / "none.duckdb")]
    )
    assert result.exit_code == 2
    assert "no data store" in result.output
    assert not out.exists()


def test_flow_files_select_by_their_vm_name(tmp_path):
    flows = pd.DataFrame(
        {
            "TimeGenerated": [T0] * 4,
            "Computer": [None] * 4,
            "VM_s": ["rg/WKSTN-042", "rg/LNX-WEB01", "rg/WKSTN-042", "rg/WKSTN-0420"],
        }
    )
    flows.to_pickle(tmp_path / "az_net_comms_df.pkl")
    got = localdata_source(tmp_path).query(
        "Network.list_azure_network_flows_by_host",
        host_name="WKSTN-042",
        start=T0 - timedelta(hours=1),
        end=T0 + timedelta(hours=1),
    )
    assert got["VM_s"].tolist() == ["rg/WKSTN-042", "rg/WKSTN-042"]


def test_flow_files_select_by_flow_start_and_end_as_the_flow_queries_do(tmp_path):
    """msticpy's Sentinel flow queries bound FlowStartTime/FlowEndTime, not TimeGenerated
    (the flow log is written minutes after a flow ends); the saved rows are read alike."""
    hour = timedelta(hours=1)
    start, end = T0, T0 + 10 * hour
    flows = pd.DataFrame(
        {
            "TimeGenerated": [
                end + 0.2 * hour,  # ended in the window, logged after it: kept
                start + hour,  # started before the window, logged inside it: dropped
                start + 2 * hour,  # inside on every clock: kept
                end - hour,  # no flow times recorded: TimeGenerated decides, kept
            ],
            "FlowStartTime": [end - 0.5 * hour, start - 0.5 * hour, start + hour, None],
            "FlowEndTime": [end - 0.1 * hour, start + 0.5 * hour, start + 2 * hour, None],
            "VMName": ["LNX-WEB01"] * 4,
            "Computer": [None] * 4,
            "DestPort": [4444, 22, 443, 80],
        }
    )
    flows.to_pickle(tmp_path / "az_net_comms_df.pkl")
    got = localdata_source(tmp_path).query(
        "Network.list_azure_network_flows_by_host", host_name="LNX-WEB01", start=start, end=end
    )
    assert got["DestPort"].tolist() == [4444, 443, 80]
