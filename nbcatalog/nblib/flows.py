"""Network flows of a host or an address: who it talked to, how, when and how much.

Flow rows come from msticpy's `Network.list_azure_network_flows_by_host` /
`..._by_ip` (Azure NSG flow analytics columns: SrcIP, DestIP, FlowDirection "I"/"O",
L4Protocol "T"/"U", L7Protocol, DestPort, AllowedInFlows, AllowedOutFlows,
AllExtIPs, ...) or from a DataFrame the analyst already has with those columns.
`normalize_flows` adds the columns every later step reads:

- `FlowTime`: flow start (else TimeGenerated), UTC;
- `Direction`: "inbound" / "outbound" as seen from the investigated host or address;
- `LocalIP` / `RemoteIP`: the investigated end and the other end;
- `Protocol`: the application protocol (L7), else TCP/UDP, else "unknown";
- `Flows`: allowed flow count of the row (1 when the log has no counts, e.g. Zeek).

msticpy's query repeats a row once per external address it lists (`mv-expand
AllExtIPs`), often twice for the same address: repeated rows are dropped so counts
are not doubled. Pure pandas here; data access goes through `flows_for`.

Example:
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"TimeGenerated": pd.to_datetime(["2024-05-01 10:00"], utc=True),
    ...     "SrcIP": ["10.0.0.5"], "DestIP": ["192.0.2.66"], "FlowDirection": ["O"],
    ...     "L4Protocol": ["T"], "L7Protocol": [None], "DestPort": [4444.0],
    ...     "AllowedOutFlows": [2.0], "AllowedInFlows": [0.0]})
    >>> normalize_flows(raw, focus=["10.0.0.5"])[["Direction", "RemoteIP", "Protocol", "Flows"]
    ...     ].values.tolist()
    [['outbound', '192.0.2.66', 'TCP', 2]]
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from nbcatalog.nblib.findings import Finding, Note
from nbcatalog.nblib.hosts import defender_only_note
from nbcatalog.nblib.plots import _RC, _png, _short
from nbcatalog.nblib.values import text_of

# Columns a flow frame needs (at least one of each group) to be read at all.
REQUIRED_COLUMNS = ("SrcIP", "DestIP")
FLOW_COLUMNS = [
    "FlowTime",
    "Direction",
    "LocalIP",
    "RemoteIP",
    "RemoteClass",
    "Protocol",
    "DestPort",
    "Flows",
    "VMName",
    "FlowType",
]
INDEX_COLUMNS = [
    "LocalIP",
    "RemoteIP",
    "Direction",
    "Protocol",
    "DestPort",
    "Flows",
    "FirstSeen",
    "LastSeen",
]
# What the remote-address table shows first (the result keeps every column).
SUMMARY_COLUMNS = [
    "RemoteIP",
    "RemoteClass",
    "CountryCode",
    "AsnOrg",
    "TISeverity",
    "Directions",
    "Protocols",
    "Ports",
    "Flows",
    "FirstSeen",
    "LastSeen",
]
_L4 = {"T": "TCP", "U": "UDP", "TCP": "TCP", "UDP": "UDP", "ICMP": "ICMP", "I": "ICMP"}
_DIRECTION = {"I": "inbound", "O": "outbound", "IN": "inbound", "OUT": "outbound"}
# Columns that identify one flow row; the expanded external-address column is not one.
_ROW_KEY = (
    "TimeGenerated",
    "FlowStartTime",
    "FlowEndTime",
    "VMName",
    "VMIPAddress",
    "SrcIP",
    "DestIP",
    "DestPort",
    "L4Protocol",
    "L7Protocol",
    "FlowDirection",
    "AllowedInFlows",
    "AllowedOutFlows",
    "RemoteIP",
)


def address_class(ip: str) -> str:
    """The class of an address (private, public, documentation, ...), "invalid" for junk.

    Example:
        >>> address_class("10.1.2.3"), address_class("8.8.8.8"), address_class("-")
        ('private', 'public', 'invalid')
    """
    from nbcatalog.enrich.ipclass import classify_ip

    try:
        return classify_ip(str(ip))
    except ValueError:
        return "invalid"


def is_external(ip_class: str) -> bool:
    """True for classes that can be on the internet (worth GeoIP / TI).

    Documentation and reserved ranges count: test data and attackers' spoofed
    sources use them, and a TI table may list them.

    Example:
        >>> is_external("public"), is_external("documentation"), is_external("private")
        (True, True, False)
    """
    return ip_class in ("public", "documentation", "reserved")


def _texts(values: pd.Series, transform: Any = None) -> pd.Series:
    """A column as stripped text ("" for missing), `transform` applied to each distinct value.

    Flow tables are big and repetitive: each distinct value is cleaned once, then
    spread back with its factor codes.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    cleaned = [text_of(u) for u in uniques]
    if transform is not None:
        cleaned = [transform(u) for u in cleaned]
    table = np.array([*cleaned, ""], dtype=object)  # code -1 (missing) takes the last one
    return pd.Series(table[codes], index=values.index, dtype=object)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)


def _protocols(l7: pd.Series, l4: pd.Series) -> np.ndarray:
    app = _texts(l7, str.lower)
    named = (app != "") & ~app.isin(["unknown", "-", "none"])
    transport = _texts(l4, lambda t: _L4.get(t.upper(), t.upper() or "unknown"))
    return np.where(named, app, transport)


def _counts(allowed_in: pd.Series, allowed_out: pd.Series) -> np.ndarray:
    a = pd.to_numeric(allowed_in, errors="coerce")
    b = pd.to_numeric(allowed_out, errors="coerce")
    total = a.fillna(0) + b.fillna(0)
    # A log without flow counts (Zeek, firewall logs): each row is one flow.
    uncounted = (a.isna() & b.isna()) | (total <= 0)
    return np.where(uncounted, 1, total).astype("int64")


def normalize_flows(flows: pd.DataFrame, focus: Iterable[str] | None = None) -> pd.DataFrame:
    """Flows with FlowTime, Direction, LocalIP, RemoteIP, RemoteClass, Protocol and Flows.

    `focus`: the investigated addresses (the host's own, or the address asked
    about). A row whose source is in `focus` is outbound, whose destination is,
    inbound; otherwise FlowDirection ("I"/"O", as the NSG saw it) decides.
    The original columns are kept; repeated rows (msticpy's AllExtIPs expansion)
    are dropped. Raises ValueError naming the missing columns for a frame without
    SrcIP/DestIP.
    """
    if flows is None or flows.empty:
        return pd.DataFrame(columns=FLOW_COLUMNS)
    missing = [c for c in REQUIRED_COLUMNS if c not in flows.columns]
    if missing:
        raise ValueError(
            f"flow data lacks the columns {missing}; expected msticpy's network flow "
            "columns (TimeGenerated, SrcIP, DestIP, FlowDirection, L4Protocol, L7Protocol, "
            "DestPort, AllowedInFlows, AllowedOutFlows)"
        )
    wanted = {text_of(f) for f in (focus or []) if text_of(f)}
    plain = isinstance(flows.index, pd.RangeIndex) and flows.index.equals(pd.RangeIndex(len(flows)))
    frame = flows if plain else flows.reset_index(drop=True)  # big frames: no needless copy
    try:
        ext = _texts(_column(frame, "AllExtIPs"))
    except TypeError:  # lists: not expanded yet (a frame built by hand)
        frame = frame.explode("AllExtIPs", ignore_index=True)
        ext = _texts(frame["AllExtIPs"])
    src, dest = _texts(frame["SrcIP"]), _texts(frame["DestIP"])
    direction = _texts(
        _column(frame, "FlowDirection"), lambda d: _DIRECTION.get(d.upper(), "unknown")
    )
    src_in, dest_in = src.isin(wanted), dest.isin(wanted)
    direction = direction.mask(src_in & ~dest_in, "outbound").mask(dest_in & ~src_in, "inbound")
    outbound = (direction == "outbound").to_numpy()
    near = np.where(outbound, src, dest)
    far = np.where(outbound, dest, src)
    # An aggregated row lists its external addresses in AllExtIPs.
    far = np.where((ext != "") & ~ext.isin(wanted) & (ext != near), ext, far)
    times = pd.to_datetime(_column(frame, "FlowStartTime"), utc=True, errors="coerce")
    if "TimeGenerated" in frame:
        times = times.fillna(pd.to_datetime(frame["TimeGenerated"], utc=True, errors="coerce"))
    derived = pd.DataFrame(
        {
            "FlowTime": times.array,
            "Direction": direction.to_numpy(),
            "LocalIP": near,
            "RemoteIP": far,
            "Protocol": _protocols(_column(frame, "L7Protocol"), _column(frame, "L4Protocol")),
            "DestPort": pd.to_numeric(_column(frame, "DestPort"), errors="coerce")
            .astype("Int64")
            .to_numpy(),
            "Flows": _counts(_column(frame, "AllowedInFlows"), _column(frame, "AllowedOutFlows")),
        }
    )
    # Repeated rows (msticpy's mv-expand of AllExtIPs) are one flow: keep the first.
    key = {c: frame[c] for c in _ROW_KEY if c in frame.columns and c != "DestPort"}
    key.update(RemoteIP=derived["RemoteIP"], DestPort=derived["DestPort"])
    keep = ~pd.DataFrame(key).duplicated().to_numpy()
    if not keep.all():
        frame, derived = frame[keep], derived[keep]
    classes = {ip: address_class(ip) for ip in pd.unique(derived["RemoteIP"])}
    derived["RemoteClass"] = derived["RemoteIP"].map(classes)
    rest = frame.drop(columns=[c for c in derived.columns if c in frame.columns])
    out = pd.concat(
        [derived.reset_index(drop=True), rest.reset_index(drop=True)], axis=1, copy=False
    )
    first = [c for c in FLOW_COLUMNS if c in out.columns]
    out = out[first + [c for c in out.columns if c not in first]]
    if not out["FlowTime"].is_monotonic_increasing:
        out = out.sort_values("FlowTime", kind="stable").reset_index(drop=True)
    return out


def flow_index(flows: pd.DataFrame) -> pd.DataFrame:
    """One row per (LocalIP, RemoteIP, Direction, Protocol, DestPort): Flows, FirstSeen, LastSeen.

    Busiest first. Example:
        >>> raw = pd.DataFrame({"FlowTime": pd.to_datetime(["2024-05-01"] * 2, utc=True),
        ...     "LocalIP": ["10.0.0.5"] * 2, "RemoteIP": ["192.0.2.66"] * 2,
        ...     "Direction": ["outbound"] * 2, "Protocol": ["TCP"] * 2,
        ...     "DestPort": [4444, 4444], "Flows": [2, 3]})
        >>> flow_index(raw)["Flows"].tolist()
        [5]
    """
    if flows is None or flows.empty:
        return pd.DataFrame(columns=INDEX_COLUMNS)
    keys = ["LocalIP", "RemoteIP", "Direction", "Protocol", "DestPort"]
    index = (
        flows.groupby(keys, dropna=False)
        .agg(Flows=("Flows", "sum"), FirstSeen=("FlowTime", "min"), LastSeen=("FlowTime", "max"))
        .reset_index()
        .sort_values(["Flows", "RemoteIP"], ascending=[False, True], kind="stable")
    )
    return index[INDEX_COLUMNS].reset_index(drop=True)


def _joined(values: Iterable[Any], limit: int = 8) -> str:
    items = sorted({text_of(v) for v in values if text_of(v)}, key=_sort_key)
    more = f" (+{len(items) - limit})" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _sort_key(text: str) -> tuple[int, Any]:
    try:
        return (0, int(float(text)))
    except ValueError:
        pass
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return (2, text)
    # IPv4 before IPv6: addresses of different versions do not compare.
    return (1, address.version, address)


def remote_summary(flows: pd.DataFrame) -> pd.DataFrame:
    """One row per remote address: class, directions, protocols, ports, flows, first/last seen.

    Example:
        >>> raw = pd.DataFrame({"FlowTime": pd.to_datetime(["2024-05-01"] * 2, utc=True),
        ...     "RemoteIP": ["192.0.2.66"] * 2, "RemoteClass": ["documentation"] * 2,
        ...     "Direction": ["outbound", "inbound"], "Protocol": ["TCP", "ssh"],
        ...     "DestPort": [4444, 22], "Flows": [2, 1]})
        >>> remote_summary(raw).loc[0, ["Directions", "Ports", "Flows"]].astype(str).tolist()
        ['inbound, outbound', '22, 4444', '3']
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
    if flows is None or flows.empty:
        return pd.DataFrame(columns=columns)
    out = (
        flows.groupby("RemoteIP", dropna=False)
        .agg(
            RemoteClass=("RemoteClass", "first"),
            Flows=("Flows", "sum"),
            FirstSeen=("FlowTime", "min"),
            LastSeen=("FlowTime", "max"),
        )
        .reset_index()
    )
    for name, column in (
        ("Directions", "Direction"),
        ("Protocols", "Protocol"),
        ("Ports", "DestPort"),
    ):
        # Distinct pairs first: joining text per row would be slow on big flow tables.
        pairs = flows[["RemoteIP", column]].drop_duplicates()
        out[name] = out["RemoteIP"].map(
            pairs.groupby("RemoteIP", dropna=False)[column].agg(_joined)
        )
    out = out.sort_values(["Flows", "RemoteIP"], ascending=[False, True], kind="stable")
    return out[columns].reset_index(drop=True)


def add_geo(summary: pd.DataFrame, geo: pd.DataFrame | None) -> pd.DataFrame:
    """`remote_summary` rows with CountryCode, CountryName, Asn and AsnOrg from `geo`.

    `geo` is `nbcatalog.enrich.geoip.lookup_ips` output (IpAddress, CountryCode, ...);
    addresses it does not cover keep empty columns.

    Example:
        >>> s = pd.DataFrame({"RemoteIP": ["8.8.8.8"], "Flows": [3]})
        >>> g = pd.DataFrame({"IpAddress": ["8.8.8.8"], "CountryCode": ["US"],
        ...                   "CountryName": ["United States"], "Asn": [15169],
        ...                   "AsnOrg": ["GOOGLE"]})
        >>> add_geo(s, g).loc[0, "AsnOrg"]
        'GOOGLE'
    """
    geo_cols = ["CountryCode", "CountryName", "Asn", "AsnOrg"]
    out = summary.drop(columns=[c for c in geo_cols if c in summary.columns])
    if geo is None or geo.empty:
        for c in geo_cols:
            out[c] = None
        return out
    keep = geo[["IpAddress", *[c for c in geo_cols if c in geo.columns]]].drop_duplicates(
        "IpAddress"
    )
    out = out.merge(keep, how="left", left_on="RemoteIP", right_on="IpAddress").drop(
        columns="IpAddress"
    )
    for c in geo_cols:
        if c not in out:
            out[c] = None
    return out


def asn_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """Remote addresses grouped by AS owner: AsnOrg, Asn, Countries, Addresses, RemoteIPs, Flows.

    Addresses with no owner (private, documentation, not found) are grouped by
    their class, e.g. "(documentation)", so nothing is dropped.

    Example:
        >>> s = pd.DataFrame({"RemoteIP": ["8.8.8.8", "8.8.4.4", "10.0.0.9"],
        ...     "RemoteClass": ["public", "public", "private"],
        ...     "AsnOrg": ["GOOGLE", "GOOGLE", None],
        ...     "Asn": [15169, 15169, None], "CountryCode": ["US", "US", None],
        ...     "Directions": ["outbound"] * 3, "Protocols": ["dns"] * 3, "Flows": [5, 2, 1],
        ...     "FirstSeen": pd.to_datetime(["2024-05-01"] * 3, utc=True),
        ...     "LastSeen": pd.to_datetime(["2024-05-02"] * 3, utc=True)})
        >>> asn_summary(s)[["AsnOrg", "Addresses", "RemoteIPs", "Flows"]].values.tolist()
        [['GOOGLE', 2, '8.8.4.4, 8.8.8.8', 7], ['(private)', 1, '10.0.0.9', 1]]
    """
    columns = [
        "AsnOrg",
        "Asn",
        "Countries",
        "Addresses",
        "RemoteIPs",
        "Directions",
        "Protocols",
        "Flows",
        "FirstSeen",
        "LastSeen",
    ]
    if summary is None or summary.empty:
        return pd.DataFrame(columns=columns)
    frame = summary.copy()
    owner = frame.get("AsnOrg", pd.Series(None, index=frame.index)).map(text_of)
    cls = frame.get("RemoteClass", pd.Series("unknown", index=frame.index)).map(text_of)
    frame["AsnOrg"] = [o if o else f"({c or 'unknown'})" for o, c in zip(owner, cls, strict=True)]
    if "Asn" not in frame:
        frame["Asn"] = None
    if "CountryCode" not in frame:
        frame["CountryCode"] = None
    out = (
        frame.groupby("AsnOrg", dropna=False)
        .agg(
            Asn=("Asn", lambda s: _joined(s.dropna().astype("Int64"))),
            Countries=("CountryCode", _joined),
            Addresses=("RemoteIP", "nunique"),
            RemoteIPs=("RemoteIP", lambda s: _joined(s, limit=20)),
            Directions=("Directions", lambda s: _joined(", ".join(s).split(", "))),
            Protocols=("Protocols", lambda s: _joined(", ".join(s).split(", "))),
            Flows=("Flows", "sum"),
            FirstSeen=("FirstSeen", "min"),
            LastSeen=("LastSeen", "max"),
        )
        .reset_index()
    )
    out = out.sort_values(["Flows", "AsnOrg"], ascending=[False, True], kind="stable")
    return out[columns].reset_index(drop=True)


def select_asn(summary: pd.DataFrame, asn: str) -> pd.DataFrame:
    """Rows of a geo-enriched `remote_summary` whose AS owner or number is `asn`.

    Matches the owner name case-insensitively, or the AS number ("15169", "AS15169").

    Example:
        >>> s = pd.DataFrame({"RemoteIP": ["8.8.8.8", "1.1.1.1"],
        ...                   "AsnOrg": ["GOOGLE", "CLOUDFLARENET"], "Asn": [15169, 13335]})
        >>> [select_asn(s, a)["RemoteIP"].tolist() for a in ("as15169", "google")]
        [['8.8.8.8'], ['8.8.8.8']]
    """
    wanted = text_of(asn)
    if not wanted or summary is None or summary.empty:
        return summary.iloc[0:0] if summary is not None else pd.DataFrame()
    number = wanted.upper().removeprefix("AS")
    owners = summary.get("AsnOrg", pd.Series(None, index=summary.index)).map(text_of).str.casefold()
    numbers = summary.get("Asn", pd.Series(None, index=summary.index)).map(
        lambda v: text_of(v).split(".")[0]
    )
    keep = (owners == wanted.casefold()) | (number.isdigit() & (numbers == number))
    return summary[keep].reset_index(drop=True)


def protocol_counts(flows: pd.DataFrame) -> pd.DataFrame:
    """Flows per protocol and direction (Protocol, Direction, Flows), busiest first.

    Example:
        >>> raw = pd.DataFrame({"Protocol": ["ssh", "ssh", "https"],
        ...     "Direction": ["inbound", "inbound", "outbound"], "Flows": [1, 2, 5]})
        >>> protocol_counts(raw).values.tolist()
        [['https', 'outbound', 5], ['ssh', 'inbound', 3]]
    """
    if flows is None or flows.empty:
        return pd.DataFrame(columns=["Protocol", "Direction", "Flows"])
    out = flows.groupby(["Protocol", "Direction"])["Flows"].sum().reset_index()
    out = out.sort_values(["Flows", "Protocol"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def _bucket(span: pd.Timedelta) -> str:
    if span <= pd.Timedelta(days=3):
        return "1h"
    if span <= pd.Timedelta(days=21):
        return "3h"
    return "1D"


def flow_chart(
    flows: pd.DataFrame, *, by: str = "Protocol", title: str = "Flows over time", max_lines: int = 8
):
    """Flow counts per time bucket, one line per value of `by` (the busiest `max_lines`).

    Returns a PNG Image, or a Note when there is nothing to draw.

    Example:
        flow_chart(flows, by="Direction", title="Flows of LNX-WEB01 by direction")
    """
    if flows is None or flows.empty or by not in flows.columns:
        return Note("info", f"{title}: no flows to draw")
    frame = flows[["FlowTime", by, "Flows"]].dropna(subset=["FlowTime"])
    if frame.empty:
        return Note("info", f"{title}: no flows with a time to draw")
    frame = frame.assign(lane=frame[by].map(_short))
    order = frame.groupby("lane")["Flows"].sum().sort_values(ascending=False).index.tolist()
    if len(order) > max_lines:
        keep = set(order[: max_lines - 1])
        frame["lane"] = frame["lane"].where(frame["lane"].isin(keep), "(other)")
        order = order[: max_lines - 1] + ["(other)"]
    times = frame["FlowTime"].dt.tz_convert("UTC").dt.tz_localize(None)
    freq = _bucket(times.max() - times.min())
    table = (
        frame.assign(t=times.dt.floor(freq))
        .pivot_table(index="t", columns="lane", values="Flows", aggfunc="sum", fill_value=0)
        .asfreq(freq, fill_value=0)
    )
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(9, 3.2))
        ax = fig.add_subplot()
        colours = matplotlib.colormaps["tab10"]
        for i, lane in enumerate(order):
            if lane in table:
                ax.plot(table.index, table[lane], label=lane, color=colours(i % 10), lw=1.2)
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        # A log scale keeps a handful of C2 flows visible next to millions of others.
        ax.set_yscale("symlog", linthresh=1)
        # Plain numbers: the default log labels are mathtext, which _RC turns off.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        ax.set_ylabel(f"flows per {freq} (log scale)")
        ax.set_xlabel("time (UTC)")
        ax.set_title(_short(title))
        ax.grid(color="#eee")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title=by)
    return _png(fig)


@dataclass
class FlowSet(Finding):
    """Normalized flows (`data`) and the addresses they were seen from (`focus`)."""

    focus: list[str] = field(default_factory=list)
    subject: str = ""


def flows_for(
    inv: Any,
    *,
    host: str | None = None,
    ip: str | None = None,
    data: pd.DataFrame | None = None,
) -> FlowSet:
    """The flows of `host` (a resolved host name) or of address `ip`, normalized.

    `data`: flows the analyst already has (msticpy's flow columns); when given,
    nothing is queried and `host`/`ip` only say which end is local.
    Notes say what was missing; never raises for missing data.
    """
    found = FlowSet("Network flows")
    if data is not None:
        raw, focus = frame_flows(data, host=host, ip=ip)
        mine = f": {len(raw)} of them are flows of {host or ip}" if host or ip else ""
        found.note("info", f"flows from the DataFrame passed as data ({len(data)} rows){mine}")
        found.subject = host or ip or "the given flows"
        return _normalized(found, raw, focus, inv, given_rows=True)
    if host:
        q = inv.query("Network.list_azure_network_flows_by_host", title="Flows", host_name=host)
        found.notes += q.notes
        raw = q.data
        if not raw.empty and "VMName" in raw:
            from nbcatalog.nblib.entities import host_matches

            raw = raw[[host_matches(host, text_of(v)) for v in raw["VMName"]]]
        found.subject = host
    elif ip:
        q = inv.query("Network.list_azure_network_flows_by_ip", title="Flows", ip_address_list=[ip])
        found.notes += q.notes
        raw = q.data
        found.subject = ip
    else:
        found.note("warning", "no host or ip given: pass host='LNX-WEB01' or ip='10.20.0.10'")
        found.data = pd.DataFrame(columns=FLOW_COLUMNS)
        return found
    focus: set[str] = {ip} if ip else set()
    if "VMIPAddress" in raw and (host or not ip):
        vm_ips = raw["VMIPAddress"].map(text_of)
        focus |= {v for v in vm_ips if v}
    return _normalized(found, raw, focus, inv, given_rows=False)


def _normalized(
    found: FlowSet, raw: pd.DataFrame, focus: set[str], inv: Any, *, given_rows: bool
) -> FlowSet:
    """`found` with `raw` normalized around the `focus` addresses (notes on what went wrong)."""
    if given_rows and not focus and not raw.empty:
        found.note("info", "no host or ip given: directions follow the log's FlowDirection")
    try:
        found.data = normalize_flows(raw, focus)
    except ValueError as exc:
        found.note("warning", str(exc))
        found.data = pd.DataFrame(columns=FLOW_COLUMNS)
        return found
    found.focus = sorted(focus, key=_sort_key)
    found.columns = FLOW_COLUMNS
    if found.empty and not found.notes:
        host = not given_rows and address_class(found.subject) == "invalid"  # a name, not an IP
        defender = defender_only_note(inv, found.subject, "NSG flow") if host else None
        if defender:  # not "info": the sections that read flows show this one
            found.note("missing", defender)
        else:
            found.note("info", f"no network flows for {found.subject} in {inv.period}")
    return found


# Columns of a flow frame that hold the investigated VM's own address.
_VM_ADDRESS_COLUMNS = ("VMIPAddress", "VMIP_s")


def _host_names(frame: pd.DataFrame) -> pd.Series:
    """Per row, the host it was logged for ("" when the frame does not say)."""
    from nbcatalog.nblib.hosts import FRAME_HOST_COLUMNS

    names = pd.Series("", index=frame.index, dtype=object)
    for column in FRAME_HOST_COLUMNS:
        if column in frame.columns:
            values = _texts(frame[column])
            if column == "VM_s":  # "resourcegroup/vmname"
                values = values.map(lambda v: v.rsplit("/", 1)[-1])
            names = names.mask(names == "", values)
    return names


def frame_flows(
    data: pd.DataFrame, *, host: str | None = None, ip: str | None = None
) -> tuple[pd.DataFrame, set[str]]:
    """The rows of a flow frame passed as data that are `host`'s or `ip`'s, and the focus.

    For a host: the rows logged for it (VMName, Computer, ... naming it), plus rows
    logged for no host whose source or destination is one of its addresses (the
    VMIPAddress of its own rows). For an address: the rows where it is the source,
    the destination or the VM's address. Neither: every row. The data source is
    never asked (the analyst's frame is the evidence).

    Example:
        >>> flows = pd.DataFrame({"VMName": ["WKSTN-042", "WIN-DC01"],
        ...     "VMIPAddress": ["10.0.0.5", "10.0.0.9"], "SrcIP": ["10.0.0.5", "10.0.0.9"],
        ...     "DestIP": ["192.0.2.66", "10.0.0.5"]})
        >>> rows, focus = frame_flows(flows, host="wkstn-042")
        >>> len(rows), sorted(focus)
        (1, ['10.0.0.5'])
    """
    from nbcatalog.nblib.entities import host_matches

    if data is None or data.empty or not (host or ip):
        own = set()
        for column in _VM_ADDRESS_COLUMNS if data is not None else ():
            if column in data.columns:
                own |= {a for a in _texts(data[column]) if a}
        return data, own
    src, dest = _texts(_column(data, "SrcIP")), _texts(_column(data, "DestIP"))
    if host:
        names = _host_names(data)
        distinct = {n: host_matches(host, n) for n in pd.unique(names) if n}
        own = names.map(lambda n: distinct.get(n, False)).astype(bool)
        addresses: set[str] = set()
        for column in _VM_ADDRESS_COLUMNS:
            if column in data.columns:
                addresses |= {a for a in _texts(data.loc[own, column]) if a}
        if ip:
            addresses.add(ip)
        unlogged = names == ""
        keep = own | (unlogged & (src.isin(addresses) | dest.isin(addresses)))
        return data[keep.to_numpy()], addresses
    keep = (src == ip) | (dest == ip)
    for column in _VM_ADDRESS_COLUMNS:
        if column in data.columns:
            keep |= _texts(data[column]) == ip
    return data[keep.to_numpy()], {ip}


@dataclass
class Subject(Finding):
    """Whose flows to read: a resolved `host`, an address `ip`, or the given data.

    `ok` is False when a host name selected no host or several (notes say which,
    with the closest names); the data is the host matches or the address facts.
    `kind`, `closest` and `candidates` describe the look-up for `inv.require_entity`.
    """

    host: str | None = None
    ip: str | None = None
    given: str = ""
    ok: bool = False
    kind: str = "host"
    closest: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    where: str = "this data source"

    @property
    def matched(self) -> bool:
        return self.ok

    @property
    def described(self) -> str:
        return self.host or self.ip or self.given


def resolve_subject(
    inv: Any, host: str = "", ip: str = "", data: pd.DataFrame | None = None
) -> Subject:
    """Resolve what the analyst asked about: a host name (full or partial) or an address.

    A host wins over an address when both are given (the address then only says
    which end is local). With `data`, the host is looked for in that frame (its
    VMName / Computer column), not in the data source; with neither host nor ip,
    the flows passed as `data` are read as they are.

    Example:
        subject = nblib.flows.resolve_subject(inv, host="lnx-web")   # -> LNX-WEB01
    """
    host, ip = text_of(host), text_of(ip)
    subject = Subject("Host or address", given=host or ip, kind="host" if host else "ip")
    if host:
        from nbcatalog.nblib.hosts import find_host

        found = find_host(inv, host, data=data)
        subject.data, subject.notes = found.data, list(found.notes)
        subject.host, subject.ok = found.name, found.name is not None
        subject.closest, subject.candidates = list(found.closest), list(found.candidates)
        subject.where = found.where
        subject.ip = ip or None
        return subject
    if ip:
        from nbcatalog.nblib.ipinfo import ip_facts

        facts = ip_facts(ip)
        subject.data, subject.notes = facts.data, list(facts.notes)
        subject.ip, subject.ok = facts.ip, facts.ip_class != "invalid"
        return subject
    if data is not None:
        subject.given, subject.ok = "the given flows", True
        subject.kind = "flows"
        subject.note("info", "no host or ip given: reading the flows passed as data")
        return subject
    subject.note("warning", "no host or ip given: pass host='LNX-WEB01' or ip='10.20.0.10'")
    return subject


def subject_flows(inv: Any, subject: Subject, data: pd.DataFrame | None = None) -> FlowSet:
    """`flows_for` the resolved subject; a note instead when it did not resolve.

    Example:
        flow_set = nblib.flows.subject_flows(inv, subject, data)
    """
    if not subject.ok:
        found = FlowSet("Network flows", pd.DataFrame(columns=FLOW_COLUMNS))
        what = repr(subject.given) if subject.given else "nothing"
        found.note("skipped", f"no flows read: {what} did not select one host or address")
        return found
    return flows_for(inv, host=subject.host, ip=subject.ip, data=data)


def with_ti(summary: pd.DataFrame, ti: pd.DataFrame | None) -> pd.DataFrame:
    """`summary` (one row per RemoteIP) plus TISeverity: the worst severity of a TI match.

    Example:
        >>> s = pd.DataFrame({"RemoteIP": ["192.0.2.66", "8.8.8.8"]})
        >>> ti = pd.DataFrame({"Ioc": ["192.0.2.66", "8.8.8.8"], "Result": [True, False],
        ...                    "Severity": ["high", "information"]})
        >>> with_ti(s, ti)["TISeverity"].tolist()
        ['high', None]
    """
    out = summary.copy()
    out["TISeverity"] = None
    if ti is None or ti.empty or not {"Ioc", "Result", "Severity"} <= set(ti.columns):
        return out
    rank = {"high": 3, "warning": 2, "information": 1, "unknown": 0}
    hits = ti[ti["Result"].astype(bool)]
    worst: dict[str, str] = {}
    for ioc, severity in zip(hits["Ioc"].astype(str), hits["Severity"].astype(str), strict=True):
        if rank.get(severity, 0) >= rank.get(worst.get(ioc, ""), -1):
            worst[ioc] = severity
    out["TISeverity"] = out["RemoteIP"].map(worst).astype(object)
    out["TISeverity"] = out["TISeverity"].where(out["TISeverity"].notna(), None)
    return out


def map_points(summary: pd.DataFrame, geo: pd.DataFrame | None) -> pd.DataFrame:
    """Rows for `maps.ip_map`: IpAddress, CountryCode, Latitude, Longitude, Flows, Category.

    Category is "TI match" for addresses with a TI severity, else their directions.

    Example:
        >>> s = pd.DataFrame({"RemoteIP": ["8.8.8.8"], "Flows": [4], "Directions": ["outbound"],
        ...                   "TISeverity": [None]})
        >>> g = pd.DataFrame({"IpAddress": ["8.8.8.8"], "CountryCode": ["US"],
        ...                   "Latitude": [38.0], "Longitude": [-97.0]})
        >>> map_points(s, g)[["IpAddress", "Category"]].values.tolist()
        [['8.8.8.8', 'outbound']]
    """
    columns = ["IpAddress", "CountryCode", "Latitude", "Longitude", "Flows", "Category"]
    if summary is None or summary.empty or geo is None or geo.empty:
        return pd.DataFrame(columns=columns)
    located = geo[["IpAddress", "CountryCode", "Latitude", "Longitude"]].dropna(
        subset=["Latitude", "Longitude"]
    )
    points = summary.merge(
        located, left_on="RemoteIP", right_on="IpAddress", how="inner", suffixes=("_flow", "")
    )
    severity = points.get("TISeverity", pd.Series(None, index=points.index))
    directions = points.get("Directions", pd.Series("", index=points.index)).fillna("")
    points["Category"] = [
        "TI match" if text_of(s) else d for s, d in zip(severity, directions, strict=True)
    ]
    return points[columns].reset_index(drop=True)


def asn_focus(asn: str, addresses: pd.DataFrame, owners: pd.DataFrame) -> Finding:
    """The addresses of the AS owner chosen with `asn`, or a note on how to choose one.

    Example:
        >>> asn_focus("", pd.DataFrame(), pd.DataFrame()).messages()[0][:30]
        'info: set asn to an AS owner o'
    """
    found = Finding(f"Remote addresses of {asn}" if asn else "One AS owner")
    if not text_of(asn):
        found.note(
            "info",
            "set asn to an AS owner or number from the table above (asn='Chinanet' or "
            "--asn Chinanet) to list its addresses and limit the map to them",
        )
        return found
    found.data = addresses
    if addresses is None or addresses.empty:
        known = ", ".join(owners["AsnOrg"].head(10).astype(str)) if not owners.empty else ""
        hint = f"; owners seen: {known}" if known else ""
        found.note("warning", f"no remote address belongs to AS owner {asn!r}{hint}")
    return found
