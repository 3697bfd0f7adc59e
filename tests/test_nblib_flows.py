"""nblib.flows and nblib.maps without kernels: pure pandas on small frames, then the demo store.

The demo checks compare what the steps report with counts computed directly from the
AzureNetworkAnalytics_CL table, so a wrong direction, a doubled row or a lost flow
shows up as a number that does not agree.
"""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.display import Image

from nbcatalog.nblib import Investigation, flows, maps
from nbcatalog.nblib.findings import Note

T0 = pd.Timestamp("2024-05-01T10:00:00Z")


def _raw(**cols) -> pd.DataFrame:
    """msticpy-shaped flow rows; one row unless the columns say otherwise."""
    n = max((len(v) for v in cols.values() if isinstance(v, list)), default=1)
    base = {
        "TimeGenerated": [T0] * n,
        "FlowStartTime": [T0] * n,
        "VMName": ["LNX-WEB01"] * n,
        "VMIPAddress": ["10.20.0.10"] * n,
        "SrcIP": ["10.20.0.10"] * n,
        "DestIP": ["192.0.2.66"] * n,
        "FlowDirection": ["O"] * n,
        "L4Protocol": ["T"] * n,
        "L7Protocol": [None] * n,
        "DestPort": [4444.0] * n,
        "AllowedOutFlows": [2.0] * n,
        "AllowedInFlows": [0.0] * n,
        "AllExtIPs": ["192.0.2.66"] * n,
    }
    base.update({k: v if isinstance(v, list) else [v] * n for k, v in cols.items()})
    return pd.DataFrame(base)


# ------------------------------------------------------------------ normalize


def test_direction_and_remote_end_follow_the_investigated_address():
    raw = _raw(
        SrcIP=["10.20.0.10", "198.51.100.23"],
        DestIP=["192.0.2.66", "10.20.0.10"],
        FlowDirection=["O", "I"],
        L7Protocol=[None, "ssh"],
        DestPort=[4444.0, 22.0],
        AllExtIPs=["192.0.2.66", "198.51.100.23"],
    )
    host_view = flows.normalize_flows(raw, focus=["10.20.0.10"])
    assert host_view[["Direction", "LocalIP", "RemoteIP", "Protocol"]].values.tolist() == [
        ["outbound", "10.20.0.10", "192.0.2.66", "TCP"],
        ["inbound", "10.20.0.10", "198.51.100.23", "ssh"],
    ]
    # Seen from the attacker's address, its SSH connection is outbound to the web server.
    attacker_view = flows.normalize_flows(raw.iloc[[1]], focus=["198.51.100.23"])
    assert attacker_view[["Direction", "LocalIP", "RemoteIP"]].values.tolist() == [
        ["outbound", "198.51.100.23", "10.20.0.10"]
    ]
    assert host_view["RemoteClass"].tolist() == ["documentation", "documentation"]


def test_msticpy_expansion_rows_are_counted_once():
    # msticpy's query lists a row once per external address, often twice for one address.
    raw = pd.concat([_raw(), _raw()], ignore_index=True)
    out = flows.normalize_flows(raw, focus=["10.20.0.10"])
    assert len(out) == 1 and out["Flows"].sum() == 2
    # Two external addresses of one aggregated row are two remote ends.
    raw = pd.concat([_raw(AllExtIPs="192.0.2.66"), _raw(AllExtIPs="192.0.2.67")])
    assert sorted(flows.normalize_flows(raw, ["10.20.0.10"])["RemoteIP"]) == [
        "192.0.2.66",
        "192.0.2.67",
    ]


def test_logs_without_counts_or_flow_times_still_count():
    # Zeek-like rows: no NSG counts, no flow start, no L7 protocol, UDP.
    raw = _raw(
        AllowedOutFlows=[None],
        AllowedInFlows=[None],
        FlowStartTime=[None],
        L4Protocol=["U"],
        DestPort=[53.0],
    )
    out = flows.normalize_flows(raw, ["10.20.0.10"])
    assert out.loc[0, "Flows"] == 1 and out.loc[0, "Protocol"] == "UDP"
    assert out.loc[0, "FlowTime"] == T0


def test_flow_data_without_addresses_is_a_clear_error():
    with pytest.raises(ValueError, match=r"lacks the columns \['SrcIP', 'DestIP'\]"):
        flows.normalize_flows(pd.DataFrame({"TimeGenerated": [T0], "Bytes": [5]}))
    assert flows.normalize_flows(pd.DataFrame()).empty


# ---------------------------------------------------------------- summaries


def _normalized() -> pd.DataFrame:
    raw = _raw(
        SrcIP=["10.20.0.10", "10.20.0.10", "8.8.8.8", "10.20.0.10"],
        DestIP=["192.0.2.66", "192.0.2.66", "10.20.0.10", "8.8.4.4"],
        FlowDirection=["O", "O", "I", "O"],
        AllExtIPs=["192.0.2.66", "192.0.2.66", "8.8.8.8", "8.8.4.4"],
        L7Protocol=[None, None, "dns", "dns"],
        DestPort=[4444.0, 4444.0, 53.0, 53.0],
        AllowedOutFlows=[2.0, 3.0, 0.0, 7.0],
        AllowedInFlows=[0.0, 0.0, 4.0, 0.0],
        TimeGenerated=[T0, T0 + pd.Timedelta("1h"), T0, T0],
        FlowStartTime=[T0, T0 + pd.Timedelta("1h"), T0, T0],
    )
    return flows.normalize_flows(raw, ["10.20.0.10"])


def test_flow_index_sums_per_pair_busiest_first():
    index = flows.flow_index(_normalized())
    assert index[["RemoteIP", "Direction", "DestPort", "Flows"]].values.tolist() == [
        ["8.8.4.4", "outbound", 53, 7],
        ["192.0.2.66", "outbound", 4444, 5],
        ["8.8.8.8", "inbound", 53, 4],
    ]
    c2 = index[index["RemoteIP"] == "192.0.2.66"].iloc[0]
    assert c2["FirstSeen"] == T0 and c2["LastSeen"] == T0 + pd.Timedelta("1h")
    assert list(flows.flow_index(None).columns) == flows.INDEX_COLUMNS


def test_remote_addresses_grouped_by_owner_and_selected_by_asn():
    remote = flows.remote_summary(_normalized())
    geo = pd.DataFrame(
        {
            "IpAddress": ["8.8.8.8", "8.8.4.4"],
            "CountryCode": ["US", "US"],
            "CountryName": ["United States"] * 2,
            "Asn": [15169, 15169],
            "AsnOrg": ["GOOGLE", "GOOGLE"],
        }
    )
    enriched = flows.add_geo(remote, geo)
    owners = flows.asn_summary(enriched)
    assert owners[["AsnOrg", "Addresses", "RemoteIPs", "Flows"]].values.tolist() == [
        ["GOOGLE", 2, "8.8.4.4, 8.8.8.8", 11],
        ["(documentation)", 1, "192.0.2.66", 5],
    ]
    assert owners.loc[0, "Directions"] == "inbound, outbound"
    assert flows.select_asn(enriched, "AS15169")["RemoteIP"].tolist() == ["8.8.4.4", "8.8.8.8"]
    assert flows.select_asn(enriched, "google")["Flows"].sum() == 11
    assert flows.select_asn(enriched, "GOOGLE LLC").empty
    focus = flows.asn_focus("GOOGLE LLC", flows.select_asn(enriched, "GOOGLE LLC"), owners)
    assert "no remote address belongs to AS owner 'GOOGLE LLC'" in focus.messages()[0]
    assert "GOOGLE" in focus.messages()[0]  # the owners that were seen


def test_protocol_counts_and_ti_columns():
    counts = flows.protocol_counts(_normalized())
    assert counts.values.tolist() == [
        ["dns", "outbound", 7],
        ["TCP", "outbound", 5],
        ["dns", "inbound", 4],
    ]
    ti = pd.DataFrame(
        {
            "Ioc": ["192.0.2.66", "192.0.2.66", "8.8.8.8"],
            "Result": [True, True, False],
            "Severity": ["warning", "high", "information"],
        }
    )
    remote = flows.with_ti(flows.remote_summary(_normalized()), ti)
    assert dict(zip(remote["RemoteIP"], remote["TISeverity"], strict=True)) == {
        "8.8.4.4": None,
        "192.0.2.66": "high",
        "8.8.8.8": None,
    }
    geo = pd.DataFrame(
        {
            "IpAddress": ["8.8.8.8", "192.0.2.66"],
            "CountryCode": ["US", None],
            "Latitude": [38.0, None],
            "Longitude": [-97.0, None],
        }
    )
    points = flows.map_points(remote, geo)
    assert points[["IpAddress", "Category", "Flows"]].values.tolist() == [["8.8.8.8", "inbound", 4]]


# ------------------------------------------------------------------- charts


def test_charts_draw_or_say_why_not():
    data = _normalized()
    assert isinstance(flows.flow_chart(data, by="Protocol"), Image)
    hostile = data.assign(Protocol=["$x^{", "<script>", "$$", "a\nb"])
    assert isinstance(flows.flow_chart(hostile, by="Protocol", title="$ \\frac"), Image)
    empty = flows.flow_chart(data.iloc[0:0], by="Direction", title="Flows by direction")
    assert isinstance(empty, Note) and "no flows" in empty.text


def test_world_map_offline():
    assert len(maps.world_outlines()) > 150  # country shapes ship with countryinfo
    geo = pd.DataFrame(
        {
            "IpAddress": ["8.8.8.8", "8.8.4.4", "1.1.1.1"],
            "CountryCode": ["US", "US", "AU"],
            "Latitude": [38.0, 38.0, -27.0],
            "Longitude": [-97.0, -97.0, 133.0],
            "Flows": [5, 1, 2],
            "Category": ["TI match", "outbound", "<b>$x$</b>"],
        }
    )
    image = maps.ip_map(geo, weight="Flows", category="Category")
    assert isinstance(image, Image) and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    nothing = maps.ip_map(geo.assign(Latitude=None, Longitude=None), title="Remote addresses")
    assert isinstance(nothing, Note) and "none of the addresses has a location" in nothing.text


# ---------------------------------------------------------------- data access


class NoFlowTable:
    """A source without the flow table (as a workspace with no NSG flow logs)."""

    def tables(self):
        return ["Heartbeat"]

    def query(self, name, **params):  # pragma: no cover - must not be reached
        raise AssertionError(f"{name} should not run without its table")


def test_missing_flow_table_is_a_note():
    inv = Investigation(NoFlowTable(), T0, T0 + pd.Timedelta("1d"))
    found = flows.flows_for(inv, host="LNX-WEB01")
    assert found.empty and found.missing
    assert "no AzureNetworkAnalytics_CL table" in found.messages()[0]
    assert "pass host=" in flows.flows_for(inv).messages()[0]


@pytest.fixture(scope="module")
def inv(demo_db):
    return Investigation.open(f"duckdb:{demo_db}")


def test_demo_c2_flows_agree_with_the_table(inv):
    found = flows.flows_for(inv, host="LNX-WEB01")
    assert found.focus == ["10.20.0.10"]
    c2 = found.data[(found.data["RemoteIP"] == "192.0.2.66") & (found.data["DestPort"] == 4444)]
    assert set(c2["Direction"]) == {"outbound"}
    expected = inv.source.sql(
        'SELECT count(*) AS n, sum(AllowedOutFlows_d) AS flows FROM "AzureNetworkAnalytics_CL" '
        "WHERE VM_s LIKE '%/LNX-WEB01' AND DestIP_s = '192.0.2.66' AND DestPort_d = 4444 "
        "AND FlowStartTime_t >= $s AND FlowEndTime_t <= $e",
        {"s": inv.start, "e": inv.end},
    ).iloc[0]
    assert len(c2) == expected["n"] > 0
    assert c2["Flows"].sum() == expected["flows"]
    index = flows.flow_index(found.data)
    assert len(index) == len(
        index.drop_duplicates(["RemoteIP", "Direction", "Protocol", "DestPort"])
    )


def test_demo_subject_resolution(inv):
    partial = flows.resolve_subject(inv, host="lnx-web")
    assert partial.ok and partial.host == "LNX-WEB01"
    unknown = flows.resolve_subject(inv, host="LNX-WEB1")
    assert not unknown.ok and "closest names: LNX-WEB01" in unknown.messages()[0]
    assert "did not select one host" in flows.subject_flows(inv, unknown).messages()[0]
    address = flows.resolve_subject(inv, ip="203.0.113.77")
    found = flows.subject_flows(inv, address)
    assert set(found.data["RemoteIP"]) == {"10.10.1.52"}  # WKSTN-042, its only target


def test_flows_passed_as_data_are_read_as_given(inv):
    raw = inv.query("Network.list_azure_network_flows_by_host", host_name="LNX-WEB01").data
    given = flows.flows_for(inv, data=raw)
    queried = flows.flows_for(inv, host="LNX-WEB01")
    assert "DataFrame passed as data" in given.messages()[0]
    assert given.data["Flows"].sum() == queried.data["Flows"].sum()
    assert set(given.data["RemoteIP"]) == set(queried.data["RemoteIP"])


def test_hostile_addresses_are_classified_not_looked_up(inv):
    script = '<script>alert("nbcatalog")</script>'
    raw = _raw(DestIP=[script, "192.0.2.66"], AllExtIPs=[script, "192.0.2.66"])
    out = flows.normalize_flows(raw, ["10.20.0.10"])
    assert out.set_index("RemoteIP").loc[script, "RemoteClass"] == "invalid"
    from nbcatalog.nblib import ipinfo

    ti = ipinfo.ti_for_ips(inv, out["RemoteIP"])
    assert ti.data["Ioc"].tolist() == ["192.0.2.66"]  # the junk value is never queried
    assert "1 internal address" in ti.messages()[0]
    html = flows.FlowSet("Flows", out, columns=flows.FLOW_COLUMNS)._repr_html_()
    assert script not in html and "&lt;script&gt;" in html


def test_flow_data_without_addresses_is_a_warning_in_a_run(inv):
    found = flows.flows_for(inv, data=pd.DataFrame({"TimeGenerated": [T0], "Bytes": [5]}))
    assert found.empty
    assert any("lacks the columns ['SrcIP', 'DestIP']" in m for m in found.messages())


def test_normalized_flows_keep_every_original_column():
    raw = _raw(FlowType="MaliciousFlow")
    out = flows.normalize_flows(raw, ["10.20.0.10"])
    assert list(out.columns[: len(flows.FLOW_COLUMNS)]) == flows.FLOW_COLUMNS
    assert set(raw.columns) <= set(out.columns)
    assert (out.loc[0, "VMName"], out.loc[0, "FlowType"]) == ("LNX-WEB01", "MaliciousFlow")
