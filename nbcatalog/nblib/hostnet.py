"""A host's network connections from every log that saw them, in one frame.

Three views of the same traffic, each normalized to the columns of
`nblib.flows.normalize_flows` (FlowTime, Direction, LocalIP, RemoteIP, RemoteClass,
Protocol, DestPort, Flows) plus Source, Bytes, Process and Action:

- "NSG flows": AzureNetworkAnalytics_CL (`Network.list_azure_network_flows_by_host`),
  counted per 10-minute interval;
- "Defender": DeviceNetworkEvents (`M365D.host_connections`), one row per
  connection, with the process that made or accepted it;
- "Firewall": CommonSecurityLog (`Network.ip_network_connections_csl` for each of
  the host's addresses, its public NAT addresses included), one row per session,
  with bytes.

`DestPort` is always the service port (the remote's for outbound connections, the
host's own for inbound ones), so "RDP to the host" is port 3389 whoever logged it.

Example:
    >>> import pandas as pd
    >>> dne = pd.DataFrame({"TimeGenerated": pd.to_datetime(["2026-01-09 06:00"], utc=True),
    ...     "DeviceName": ["wkstn-042.contoso.com"], "ActionType": ["InboundConnectionAccepted"],
    ...     "LocalIP": ["10.10.1.52"], "LocalPort": [3389], "RemoteIP": ["203.0.113.77"],
    ...     "RemotePort": [50123], "Protocol": ["Tcp"],
    ...     "InitiatingProcessFileName": ["svchost.exe"]})
    >>> c = defender_connections(dne)
    >>> c[["Direction", "RemoteIP", "DestPort", "Process"]].astype(str).values.tolist()
    [['inbound', '203.0.113.77', '3389', 'svchost.exe']]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.flows import address_class, normalize_flows
from nbcatalog.nblib.values import text_of

CONNECTION_COLUMNS = [
    "FlowTime",
    "Source",
    "Direction",
    "LocalIP",
    "RemoteIP",
    "RemoteClass",
    "Protocol",
    "DestPort",
    "Flows",
    "Bytes",
    "Process",
    "Action",
]
MATRIX_COLUMNS = [
    "LocalIP",
    "Direction",
    "RemoteIP",
    "RemoteClass",
    "DestPort",
    "Protocol",
    "Connections",
    "Bytes",
    "Sources",
    "Processes",
    "FirstSeen",
    "LastSeen",
]
# Defender actions that are a connection, and the ones where the remote end called in.
_DEFENDER_CONNECTIONS = {
    "ConnectionSuccess",
    "ConnectionFailed",
    "ConnectionAttempt",
    "ConnectionRequest",
    "InboundConnectionAccepted",
    "ConnectionAcknowledged",
}
_DEFENDER_INBOUND = {"InboundConnectionAccepted"}


def _col(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(default, index=frame.index, dtype=object)


def _port(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("Int64")


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=CONNECTION_COLUMNS)
    classes = {ip: address_class(ip) for ip in frame["RemoteIP"].unique()}
    frame["RemoteClass"] = frame["RemoteIP"].map(classes)
    return frame[CONNECTION_COLUMNS].sort_values("FlowTime", kind="stable").reset_index(drop=True)


def defender_connections(events: pd.DataFrame) -> pd.DataFrame:
    """DeviceNetworkEvents rows that are connections, as connection rows (one each).

    Listening sockets and other non-connection actions are left out.
    """
    if events is None or events.empty:
        return pd.DataFrame(columns=CONNECTION_COLUMNS)
    action = _col(events, "ActionType").map(text_of)
    rows = events[action.isin(_DEFENDER_CONNECTIONS).to_numpy()]
    action = action[action.isin(_DEFENDER_CONNECTIONS)]
    inbound = action.isin(_DEFENDER_INBOUND).to_numpy()
    times = pd.to_datetime(_col(rows, "Timestamp"), utc=True, errors="coerce")
    times = times.fillna(pd.to_datetime(_col(rows, "TimeGenerated"), utc=True, errors="coerce"))
    out = pd.DataFrame(
        {
            "FlowTime": times.to_numpy(),
            "Source": "Defender",
            "Direction": np.where(inbound, "inbound", "outbound"),
            "LocalIP": _col(rows, "LocalIP").map(text_of).to_numpy(),
            "RemoteIP": _col(rows, "RemoteIP").map(text_of).to_numpy(),
            "Protocol": _col(rows, "Protocol").map(lambda p: text_of(p).upper() or "unknown"),
            "DestPort": np.where(
                inbound, _port(_col(rows, "LocalPort")), _port(_col(rows, "RemotePort"))
            ),
            "Flows": 1,
            "Bytes": np.nan,
            "Process": _col(rows, "InitiatingProcessFileName").map(text_of).to_numpy(),
            "Action": action.to_numpy(),
        }
    )
    out["DestPort"] = _port(out["DestPort"])
    out["Times"] = out["FlowTime"]
    return _finish(out.drop(columns="Times"))


def firewall_connections(logs: pd.DataFrame, addresses: Iterable[str]) -> pd.DataFrame:
    """CommonSecurityLog sessions to or from `addresses` (the host's, NAT ones included).

    A session whose destination (or translated destination) is the host is inbound;
    the local address is the host's private one when the firewall translated it.
    """
    mine = {text_of(a) for a in addresses if text_of(a)}
    if logs is None or logs.empty or not mine:
        return pd.DataFrame(columns=CONNECTION_COLUMNS)
    src, dest = _col(logs, "SourceIP").map(text_of), _col(logs, "DestinationIP").map(text_of)
    src_nat = _col(logs, "SourceTranslatedAddress").map(text_of)
    dest_nat = _col(logs, "DestinationTranslatedAddress").map(text_of)
    inbound = (dest.isin(mine) | dest_nat.isin(mine)).to_numpy()
    outbound = (src.isin(mine) | src_nat.isin(mine)).to_numpy() & ~inbound
    keep = inbound | outbound
    rows = logs[keep]
    inbound = inbound[keep]
    local_in = np.where(dest_nat[keep] != "", dest_nat[keep], dest[keep])
    times = pd.to_datetime(_col(rows, "StartTime"), utc=True, errors="coerce")
    times = times.fillna(pd.to_datetime(_col(rows, "TimeGenerated"), utc=True, errors="coerce"))
    sent = pd.to_numeric(_col(rows, "SentBytes"), errors="coerce").fillna(0)
    received = pd.to_numeric(_col(rows, "ReceivedBytes"), errors="coerce").fillna(0)
    app = _col(rows, "ApplicationProtocol").map(text_of)
    proto = _col(rows, "Protocol").map(lambda p: text_of(p).upper() or "unknown")
    out = pd.DataFrame(
        {
            "FlowTime": times.to_numpy(),
            "Source": "Firewall",
            "Direction": np.where(inbound, "inbound", "outbound"),
            "LocalIP": np.where(inbound, local_in, src[keep]),
            "RemoteIP": np.where(inbound, src[keep], dest[keep]),
            "Protocol": np.where((app != "") & ~app.str.startswith("unknown"), app, proto),
            "DestPort": _port(_col(rows, "DestinationPort")).to_numpy(),
            "Flows": pd.to_numeric(_col(rows, "EventCount"), errors="coerce")
            .fillna(1)
            .clip(lower=1)
            .astype("int64")
            .to_numpy(),
            "Bytes": (sent + received).to_numpy(dtype="float64"),
            "Process": "",
            "Action": _col(rows, "DeviceAction").map(text_of).to_numpy(),
        }
    )
    out["DestPort"] = _port(out["DestPort"])
    return _finish(out)


def nsg_connections(flows: pd.DataFrame) -> pd.DataFrame:
    """Normalized NSG flows (`flows.flows_for(...).data`) as connection rows."""
    if flows is None or flows.empty:
        return pd.DataFrame(columns=CONNECTION_COLUMNS)
    out = flows.copy()
    if "FlowTime" not in out.columns:
        out = normalize_flows(out)
    out["Source"] = "NSG flows"
    out["Bytes"] = np.nan
    out["Process"] = ""
    out["Action"] = "allowed"
    return _finish(out)


class HostConnections(Finding):
    """Every connection of a host (`data`), what each log held, and the addresses used."""

    def __init__(self, title: str) -> None:
        super().__init__(title)
        self.per_source: dict[str, pd.DataFrame] = {}
        self.addresses: list[str] = []


def host_connections(inv: Any, host: str, addresses: Iterable[str] = ()) -> HostConnections:
    """The connections of resolved host `host` from NSG flows, Defender and the firewall.

    `addresses`: the host's known addresses (Heartbeat, NSG); the NSG flows add theirs,
    and the estate's public NAT addresses come from the firewall's translations.
    Missing tables become notes; never raises for missing data.

    Example:
        conns = nblib.hostnet.host_connections(inv, "LNX-WEB01", ["10.20.0.10"])
    """
    from nbcatalog.nblib.flows import flows_for

    found = HostConnections(f"Network connections of {host}")
    flow_set = flows_for(inv, host=host)
    found.notes += [n for n in flow_set.notes if n.kind != "info" or flow_set.empty]
    known = {text_of(a) for a in addresses if text_of(a)} | set(flow_set.focus)
    found.per_source["NSG flows"] = nsg_connections(flow_set.data)

    dne = inv.query("M365D.host_connections", title="Defender connections", host_name=host)
    found.notes += dne.notes
    events = dne.data
    if not events.empty and "DeviceName" in events.columns:
        from nbcatalog.nblib.entities import host_matches

        names = {n: host_matches(host, n) for n in events["DeviceName"].map(text_of).unique()}
        events = events[events["DeviceName"].map(text_of).map(names).astype(bool)]
    found.per_source["Defender"] = defender_connections(events)
    known |= {a for a in found.per_source["Defender"]["LocalIP"] if a}

    firewall: list[pd.DataFrame] = []
    # Sessions naming the address itself, then those the firewall translated to or from it
    # (msticpy's field parameters): a host behind NAT shows up under its private address.
    fields = (
        {},
        {
            "source_ip_field": "SourceTranslatedAddress",
            "dest_ip_field": "DestinationTranslatedAddress",
        },
    )
    for address in sorted(known):
        for extra in fields:
            q = inv.query(
                "Network.ip_network_connections_csl",
                title="Firewall sessions",
                ip_address=address,
                **extra,
            )
            if q.missing:
                found.notes += q.notes
                break
            firewall.append(q.data)
        else:
            continue
        break
    sessions = [f for f in firewall if not f.empty]  # none at all: a store with an empty table
    logs = pd.concat(sessions, ignore_index=True) if sessions else None
    if logs is not None and not logs.empty:
        logs = logs.drop_duplicates()
    found.per_source["Firewall"] = firewall_connections(logs, known)
    if logs is not None and not logs.empty:  # the host's public NAT addresses
        nat_in = logs.loc[logs["DestinationTranslatedAddress"].isin(known), "DestinationIP"]
        nat_out = logs.loc[logs["SourceIP"].isin(known), "SourceTranslatedAddress"]
        known |= {text_of(v) for v in (*nat_in, *nat_out)} - {""}
    found.addresses = sorted(known, key=lambda a: (":" in a, a))
    frames = [f for f in found.per_source.values() if not f.empty]
    found.data = (
        pd.concat(frames, ignore_index=True).sort_values("FlowTime", kind="stable")
        if frames
        else pd.DataFrame(columns=CONNECTION_COLUMNS)
    ).reset_index(drop=True)
    found.columns = CONNECTION_COLUMNS
    if found.empty:
        found.note("info", f"no network connections of {host} in {inv.period}")
    return found


def source_summary(conns: HostConnections) -> pd.DataFrame:
    """One row per log: Source, Connections, RemoteAddresses, Inbound, Outbound, First/LastSeen.

    Example:
        >>> c = HostConnections("x")
        >>> c.per_source = {"Defender": pd.DataFrame(columns=CONNECTION_COLUMNS)}
        >>> source_summary(c)[["Source", "Connections"]].values.tolist()
        [['Defender', 0]]
    """
    rows = []
    for source, frame in conns.per_source.items():
        rows.append(
            {
                "Source": source,
                "Connections": int(frame["Flows"].sum()) if not frame.empty else 0,
                "RemoteAddresses": int(frame["RemoteIP"].nunique()),
                "Inbound": int(frame.loc[frame["Direction"] == "inbound", "Flows"].sum()),
                "Outbound": int(frame.loc[frame["Direction"] == "outbound", "Flows"].sum()),
                "FirstSeen": frame["FlowTime"].min() if not frame.empty else pd.NaT,
                "LastSeen": frame["FlowTime"].max() if not frame.empty else pd.NaT,
            }
        )
    return pd.DataFrame(rows)


def flow_matrix(connections: pd.DataFrame) -> pd.DataFrame:
    """Connections per (local, direction, remote, port, protocol), with bytes, logs and processes.

    Connections is the count of the log that saw most of them (logs overlap).

    Example:
        >>> c = pd.DataFrame({"FlowTime": pd.to_datetime(["2026-01-09"] * 2, utc=True),
        ...     "Source": ["Defender", "Firewall"], "Direction": ["outbound"] * 2,
        ...     "LocalIP": ["10.20.0.10"] * 2, "RemoteIP": ["192.0.2.66"] * 2,
        ...     "RemoteClass": ["documentation"] * 2, "Protocol": ["TCP"] * 2,
        ...     "DestPort": [4444, 4444], "Flows": [1, 1], "Bytes": [None, 1440.0],
        ...     "Process": ["kworkerd", ""], "Action": ["ConnectionSuccess", "allow"]})
        >>> flow_matrix(c)[["Connections", "Bytes", "Sources", "Processes"]].values.tolist()
        [[1, 1440.0, 'Defender, Firewall', 'kworkerd']]
    """
    if connections is None or connections.empty:
        return pd.DataFrame(columns=MATRIX_COLUMNS)
    keys = ["LocalIP", "Direction", "RemoteIP", "DestPort", "Protocol"]
    frame = connections.assign(DestPort=connections["DestPort"].astype("Int64"))

    def joined(values: pd.Series) -> str:
        return ", ".join(sorted({text_of(v) for v in values if text_of(v)}))

    # Each log counts the same connections its own way: the busiest log's count, not a sum.
    per_log = frame.groupby([*keys, "Source"], dropna=False)["Flows"].sum()
    busiest = per_log.groupby(level=list(range(len(keys))), dropna=False).max()
    out = (
        frame.groupby(keys, dropna=False)
        .agg(
            RemoteClass=("RemoteClass", "first"),
            Bytes=("Bytes", lambda b: b.sum(min_count=1)),
            Sources=("Source", joined),
            Processes=("Process", joined),
            FirstSeen=("FlowTime", "min"),
            LastSeen=("FlowTime", "max"),
        )
        .reset_index()
    )
    out["Connections"] = busiest.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy()
    out = out.sort_values(["Connections", "RemoteIP"], ascending=[False, True], kind="stable")
    return out[MATRIX_COLUMNS].reset_index(drop=True)


def remote_addresses(matrix: pd.DataFrame) -> pd.DataFrame:
    """One row per remote address (for geo, owners, TI and the drill-down to ip_summary).

    Example:
        >>> m = pd.DataFrame({"RemoteIP": ["8.8.8.8", "8.8.8.8"], "RemoteClass": ["public"] * 2,
        ...     "Direction": ["outbound"] * 2, "Protocol": ["dns", "https"],
        ...     "DestPort": [53, 443], "Connections": [3, 4],
        ...     "FirstSeen": pd.to_datetime(["2026-01-09"] * 2, utc=True),
        ...     "LastSeen": pd.to_datetime(["2026-01-10"] * 2, utc=True)})
        >>> remote_addresses(m)[["RemoteIP", "Ports", "Flows"]].values.tolist()
        [['8.8.8.8', '53, 443', 7]]
    """
    columns = [
        "RemoteIP",
        "RemoteClass",
        "Directions",
        "Protocols",
        "Ports",
        "Flows",
        "FirstSeen",
        "LastSeen",
    ]
    if matrix is None or matrix.empty:
        return pd.DataFrame(columns=columns)

    def joined(values: pd.Series) -> str:
        items = {text_of(v) for v in values if text_of(v)}
        return ", ".join(sorted(items, key=lambda s: (len(s), s)))

    out = (
        matrix.groupby("RemoteIP")
        .agg(
            RemoteClass=("RemoteClass", "first"),
            Directions=("Direction", joined),
            Protocols=("Protocol", joined),
            Ports=("DestPort", joined),
            Flows=("Connections", "sum"),
            FirstSeen=("FirstSeen", "min"),
            LastSeen=("LastSeen", "max"),
        )
        .reset_index()
        .sort_values(["Flows", "RemoteIP"], ascending=[False, True], kind="stable")
    )
    return out[columns].reset_index(drop=True)


def beacons_by_source(connections: pd.DataFrame, subject: str = "") -> Finding:
    """Beacon scores per log (each log's own contact times), best score first.

    Example:
        found = nblib.hostnet.beacons_by_source(conns.data, subject="LNX-WEB01")
    """
    from nbcatalog.nblib import beacons

    found = beacons.beacons_of(pd.DataFrame(), subject=subject)
    found.notes = []
    frames = []
    if connections is not None and not connections.empty:
        for source, rows in connections.groupby("Source"):
            scored = beacons.score_frame(rows)
            if not scored.empty:
                frames.append(scored.assign(Source=source))
    if frames:
        found.data = pd.concat(frames, ignore_index=True).sort_values(
            ["Score", "Contacts"], ascending=[False, False], kind="stable"
        )
        found.data = found.data.reset_index(drop=True)
        found.columns = ["Source", *(found.columns or [])]
    else:
        found.data = pd.DataFrame(columns=[*beacons.BEACON_COLUMNS, "Source"])
        found.note(
            "info",
            f"no outbound channel with at least {beacons.DEFAULT_MIN_CONTACTS} contacts",
        )
    return found


def remote_access_by_source(connections: pd.DataFrame) -> pd.DataFrame:
    """`netfindings.remote_access_sources` per log (column Source), most connections first.

    Each log counts the same attempts its own way, so they are never added up.

    Example:
        >>> c = pd.DataFrame({"FlowTime": pd.to_datetime(["2026-01-09"] * 2, utc=True),
        ...     "Source": ["Defender", "Firewall"], "Direction": ["inbound"] * 2,
        ...     "LocalIP": ["10.10.1.52"] * 2, "RemoteIP": ["203.0.113.77"] * 2,
        ...     "RemoteClass": ["documentation"] * 2, "DestPort": [3389, 3389], "Flows": [1, 1]})
        >>> remote_access_by_source(c)[["Source", "Service", "Flows"]].values.tolist()
        [['Defender', 'RDP', 1], ['Firewall', 'RDP', 1]]
    """
    from nbcatalog.nblib.netfindings import remote_access_sources

    frames = []
    if connections is not None and not connections.empty:
        for source, rows in connections.groupby("Source"):
            found = remote_access_sources(rows)
            if not found.empty:
                frames.append(found.assign(Source=source))
    if not frames:
        return pd.DataFrame(columns=["Source", *remote_access_sources(None).columns])
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["Flows", "Source"], ascending=[False, True], kind="stable")
    return out[["Source", *[c for c in out.columns if c != "Source"]]].reset_index(drop=True)


# Where a host with no Heartbeat, Windows or Linux events and no Defender device name
# (those are `hosts.find_host`'s) is named: msticpy LocalData flow files, NSG-only stores.
NETWORK_NAME_QUERIES = (("Network.list_azure_network_flows_by_host", "VMName", "NSG flow VM"),)


def find_network_host(inv: Any, host: str) -> Any:
    """`hosts.find_host`, else the one NSG flow VM named like `host`.

    `find_host` knows Heartbeat, Windows and Linux events and Defender's DeviceName
    ("lnx-web01.contoso.com"); a store or LocalData folder holding only NSG flows
    names its hosts in the flows' VMName. Several matching names stay a no match,
    listing them.

    Example:
        found = nblib.hostnet.find_network_host(inv, "lnx-web01")
    """
    from nbcatalog.nblib.entities import host_matches
    from nbcatalog.nblib.hosts import find_host

    found = find_host(inv, host)
    if found.name is not None or len(found.candidates) > 1 or not text_of(host):
        return found
    for query, column, what in NETWORK_NAME_QUERIES:
        q = inv.query(query, title=f"{what}s", host_name=host)
        if q.empty or column not in q.data.columns:
            continue
        names = sorted({n for n in q.data[column].map(text_of) if n and host_matches(host, n)})
        if len(names) == 1:
            found.name, found.candidates, found.closest = names[0], names, []
            found.notes = [n for n in found.notes if n.kind == "missing"]
            found.note("info", f"{host!r} is {what} {names[0]} ({query})")
            found.data = pd.DataFrame({"HostName": names, "OSFamily": [None]})
            return found
        if names:
            found.candidates = names
            found.note("warning", f"{host!r} matches several {what}s: {', '.join(names)}")
            return found
    return found
