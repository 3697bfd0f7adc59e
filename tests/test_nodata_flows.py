"""Item 9: network_flow_summary with `data=` and `host=` (or `ip=`) reads the frame it was
given, never the store. The expected counts are made here with plain pandas from the
frame itself."""

from __future__ import annotations

import pandas as pd
import pytest

import nbcatalog
from nbcatalog.nblib import Investigation
from nbcatalog.nblib import flows as nf

T0 = pd.Timestamp("2024-05-01", tz="UTC")


def flow_frame() -> pd.DataFrame:
    """NSG flow rows in msticpy's columns, of three VMs, plus rows no VM was logged for."""
    rows = []

    def add(vm, vm_ip, src, dest, direction, port, flows, minute):
        rows.append(
            {
                "TimeGenerated": T0 + pd.Timedelta(minutes=minute),
                "FlowStartTime": T0 + pd.Timedelta(minutes=minute),
                "VMName": vm,
                "VMIPAddress": vm_ip,
                "SrcIP": src,
                "DestIP": dest,
                "FlowDirection": direction,
                "L4Protocol": "T",
                "L7Protocol": "https" if port == 443 else None,
                "DestPort": port,
                "AllowedOutFlows": flows if direction == "O" else 0,
                "AllowedInFlows": flows if direction == "I" else 0,
            }
        )

    for i in range(6):  # the web server talks out to a C2 and serves clients
        add("LNX-WEB01", "10.20.0.10", "10.20.0.10", "192.0.2.66", "O", 4444, 1, 10 * i)
        add("LNX-WEB01", "10.20.0.10", "198.51.100.7", "10.20.0.10", "I", 443, 3, 10 * i + 1)
    for i in range(4):  # another VM, also talking to the web server: its own view
        add("WKSTN-042", "10.10.1.52", "10.10.1.52", "10.20.0.10", "O", 443, 2, 5 * i)
    add("WIN-DC01", "10.10.0.4", "10.10.0.4", "8.8.8.8", "O", 53, 1, 7)
    for i in range(3):  # a firewall's rows, no VM named: only the address says whose
        add(None, None, "203.0.113.77", "10.20.0.10", "I", 22, 1, 30 + i)
    add(None, None, "203.0.113.77", "10.10.0.4", "I", 22, 1, 40)
    return pd.DataFrame(rows)


class NoStore:
    """A data source that fails the test if anything asks it."""

    def tables(self):
        raise AssertionError("the store was asked for its tables")

    def query(self, name, **params):
        raise AssertionError(f"the store was asked: {name}")

    def sql(self, text, params=None):
        raise AssertionError("the store was asked for SQL")


def expected_rows(frame: pd.DataFrame, host: str) -> pd.DataFrame:
    """The test's own rule: the host's rows, plus unlogged rows to or from its addresses."""
    own = frame["VMName"].fillna("").str.casefold() == host.casefold()
    addresses = set(frame.loc[own, "VMIPAddress"])
    unlogged = frame["VMName"].isna()
    touches = frame["SrcIP"].isin(addresses) | frame["DestIP"].isin(addresses)
    return frame[own | (unlogged & touches)]


def test_a_host_given_with_data_is_looked_for_in_the_frame():
    frame = flow_frame()
    inv = Investigation(NoStore(), T0, T0 + pd.Timedelta("1d"))
    subject = nf.resolve_subject(inv, host="lnx-web01", data=frame)
    assert subject.ok and subject.host == "LNX-WEB01"
    flows = nf.subject_flows(inv, subject, frame)
    mine = expected_rows(frame, "LNX-WEB01")
    assert len(flows.data) == len(mine) == 15
    wanted = (mine["AllowedInFlows"] + mine["AllowedOutFlows"]).sum()
    assert flows.data["Flows"].sum() == wanted == 6 * 1 + 6 * 3 + 3
    assert set(flows.data["LocalIP"]) == {"10.20.0.10"}
    assert set(flows.data["RemoteIP"]) == {"192.0.2.66", "198.51.100.7", "203.0.113.77"}
    # WKSTN-042's rows about the web server are WKSTN-042's view: not counted twice.
    assert "10.10.1.52" not in set(flows.data["RemoteIP"])
    assert "15 of them are flows of LNX-WEB01" in flows.messages()[0]


def test_an_address_given_with_data_selects_its_rows():
    frame = flow_frame()
    inv = Investigation(NoStore(), T0, T0 + pd.Timedelta("1d"))
    flows = nf.flows_for(inv, ip="203.0.113.77", data=frame)
    by_pandas = frame[(frame["SrcIP"] == "203.0.113.77") | (frame["DestIP"] == "203.0.113.77")]
    assert len(flows.data) == len(by_pandas) == 4
    assert set(flows.data["LocalIP"]) == {"203.0.113.77"}


def test_a_host_not_in_the_frame_selects_nothing_and_names_the_closest():
    inv = Investigation(NoStore(), T0, T0 + pd.Timedelta("1d"))
    subject = nf.resolve_subject(inv, host="LNX-WEB1", data=flow_frame())
    assert not subject.ok and subject.closest == ["LNX-WEB01"]
    assert inv.require_entity(subject) is False
    assert inv.outcome.reason == (
        "no host named 'LNX-WEB1' in the rows passed as data (closest: LNX-WEB01)"
    )


@pytest.mark.slow
def test_network_flow_summary_counts_the_frames_flows_in_a_kernel(demo_db, tmp_path):
    frame = flow_frame()
    res = nbcatalog.run(
        "network_flow_summary",
        host="LNX-WEB01",
        data=frame,
        options=["flow_summary"],
        data_source=f"duckdb:{demo_db}",  # has LNX-WEB01 flows of its own: must not be read
        output_dir=tmp_path,
        silent=True,
        quiet=True,
        fresh_kernel=True,
    )
    assert res.status == "ok"
    mine = expected_rows(frame, "LNX-WEB01")
    assert len(res["network_flows"]) == len(mine)
    assert (
        res["network_flows"]["Flows"].sum()
        == (mine["AllowedInFlows"] + mine["AllowedOutFlows"]).sum()
    )
    by_remote = mine.assign(
        Remote=mine["DestIP"].where(mine["SrcIP"] == "10.20.0.10", mine["SrcIP"])
    )
    counts = (
        (by_remote["AllowedInFlows"] + by_remote["AllowedOutFlows"])
        .groupby(by_remote["Remote"])
        .sum()
    )
    summary = res["flow_summary"].set_index("RemoteIP")["Flows"]
    assert summary.sort_index().to_dict() == counts.sort_index().to_dict()
    other = nbcatalog.run(
        "network_flow_summary",
        host="LNX-WEB1",
        data=frame,
        options=[],
        data_source=f"duckdb:{demo_db}",
        output_dir=tmp_path,
        silent=True,
        quiet=True,
        fresh_kernel=True,
    )
    assert other.status == "no_data" and other.no_data["closest"] == ["LNX-WEB01"]
