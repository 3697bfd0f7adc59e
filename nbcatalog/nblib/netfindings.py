"""Findings of the network notebooklets: TI matches, remote-access floods, uncommon ports.

Each function turns one evidence frame into findings of the shared contract
(severity, title, text, section, result, count, key), plain JSON values only, so a
template glues the list as it is. Beacon findings live with their scoring in
`nblib.beacons`.

Example:
    >>> import pandas as pd
    >>> s = pd.DataFrame({"RemoteIP": ["192.0.2.66"], "TISeverity": ["high"], "Flows": [90]})
    >>> ti_findings(s, subject="LNX-WEB01")[0]["key"]
    'ti:192.0.2.66'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nbcatalog.nblib.values import text_of

# Ports an outsider uses to log on or run commands remotely.
REMOTE_ACCESS_PORTS = {
    22: "SSH",
    23: "Telnet",
    445: "SMB",
    3389: "RDP",
    5985: "WinRM",
    5986: "WinRM",
}
# Connections from one outside address to one such port that make a flood.
FLOOD_CONNECTIONS = 100
# Outbound ports ordinary hosts use to reach the internet.
COMMON_OUTBOUND_PORTS = {20, 21, 22, 25, 53, 80, 123, 443, 465, 587, 853, 993, 995, 8080, 8443}
_TI_SEVERITY = {"high": "high", "warning": "medium", "information": "info"}


def _ti_severity(ti: str, directions: str) -> str:
    """A TI match's finding severity; "warning" indicators seen only inbound (scanners
    knocking) are low, the host calling them is medium.

    Example:
        >>> _ti_severity("warning", "inbound"), _ti_severity("warning", "inbound, outbound")
        ('low', 'medium')
    """
    severity = _TI_SEVERITY.get(ti, "medium")
    if severity == "medium" and "outbound" not in directions:
        return "low"
    return severity


def ti_findings(
    summary: pd.DataFrame, *, subject: str = "", section: str = "ti", result: str = "flow_summary"
) -> list[dict[str, Any]]:
    """One finding per remote address with a TI match (`flows.with_ti` output).

    Example:
        >>> s = pd.DataFrame({"RemoteIP": ["8.8.8.8"], "TISeverity": [None], "Flows": [1]})
        >>> ti_findings(s)
        []
    """
    found: list[dict[str, Any]] = []
    if summary is None or summary.empty or "TISeverity" not in summary.columns:
        return found
    for row in summary.itertuples(index=False):
        ti = text_of(row.TISeverity).lower()
        if not ti:
            continue
        flows = int(row.Flows) if "Flows" in summary.columns and pd.notna(row.Flows) else 0
        who = subject or "the flows"
        found.append(
            {
                "severity": _ti_severity(ti, text_of(getattr(row, "Directions", ""))),
                "title": f"{who} exchanged {flows} flows with {row.RemoteIP}, "
                f"a threat-intelligence indicator ({ti})",
                "text": f"Ports: {text_of(getattr(row, 'Ports', ''))}; directions: "
                f"{text_of(getattr(row, 'Directions', ''))}.",
                "section": section,
                "result": result,
                "count": 1,  # evidence rows: the address's one row in `result`
                "key": f"ti:{row.RemoteIP}",
            }
        )
    return found


def remote_access_sources(flows: pd.DataFrame) -> pd.DataFrame:
    """Inbound flows to remote-access ports per external source: RemoteIP, DestPort, Service, ...

    Columns: RemoteIP, RemoteClass, DestPort, Service, LocalIPs, Flows, FirstSeen,
    LastSeen; most flows first. Reads normalized flows (`flows.normalize_flows`).

    Example:
        >>> f = pd.DataFrame({"FlowTime": pd.to_datetime(["2024-05-01"] * 2, utc=True),
        ...     "Direction": ["inbound"] * 2, "RemoteIP": ["203.0.113.77"] * 2,
        ...     "RemoteClass": ["documentation"] * 2, "LocalIP": ["10.0.0.5"] * 2,
        ...     "DestPort": [3389, 3389], "Flows": [150, 20]})
        >>> remote_access_sources(f)[["RemoteIP", "Service", "Flows"]].values.tolist()
        [['203.0.113.77', 'RDP', 170]]
    """
    from nbcatalog.nblib.flows import is_external

    columns = [
        "RemoteIP",
        "RemoteClass",
        "DestPort",
        "Service",
        "LocalIPs",
        "Flows",
        "FirstSeen",
        "LastSeen",
    ]
    if flows is None or flows.empty or "DestPort" not in flows.columns:
        return pd.DataFrame(columns=columns)
    port = pd.to_numeric(flows["DestPort"], errors="coerce")
    keep = (flows["Direction"] == "inbound") & port.isin(list(REMOTE_ACCESS_PORTS))
    keep &= flows["RemoteClass"].map(lambda c: is_external(text_of(c)))
    rows = flows[keep.fillna(False)]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = (
        rows.assign(DestPort=port[keep.fillna(False)].astype("int64"))
        .groupby(["RemoteIP", "DestPort"])
        .agg(
            RemoteClass=("RemoteClass", "first"),
            LocalIPs=("LocalIP", lambda s: ", ".join(sorted(set(map(str, s))))),
            Flows=("Flows", "sum"),
            FirstSeen=("FlowTime", "min"),
            LastSeen=("FlowTime", "max"),
        )
        .reset_index()
    )
    out["Service"] = out["DestPort"].map(REMOTE_ACCESS_PORTS)
    out = out.sort_values(["Flows", "RemoteIP"], ascending=[False, True], kind="stable")
    return out[columns].reset_index(drop=True)


def flood_findings(
    sources: pd.DataFrame,
    *,
    subject: str = "",
    section: str = "remote_access",
    result: str = "remote_access",
    threshold: int = FLOOD_CONNECTIONS,
) -> list[dict[str, Any]]:
    """A finding per outside address with at least `threshold` flows to one remote-access port.

    Example:
        >>> s = pd.DataFrame({"RemoteIP": ["203.0.113.77"], "DestPort": [3389],
        ...     "Service": ["RDP"], "LocalIPs": ["10.10.1.52"], "Flows": [324],
        ...     "FirstSeen": pd.to_datetime(["2026-01-09 06:00"], utc=True),
        ...     "LastSeen": pd.to_datetime(["2026-01-09 07:10"], utc=True)})
        >>> flood_findings(s, subject="WKSTN-042")[0]["title"]
        'WKSTN-042 received 324 RDP connections from 203.0.113.77 (port 3389)'
    """
    found: list[dict[str, Any]] = []
    if sources is None or sources.empty:
        return found
    for row in sources.itertuples(index=False):
        if int(row.Flows) < threshold:
            continue
        who = subject or text_of(row.LocalIPs)
        found.append(
            {
                "severity": "high" if int(row.Flows) >= 3 * threshold else "medium",
                "title": f"{who} received {int(row.Flows)} {row.Service} connections from "
                f"{row.RemoteIP} (port {int(row.DestPort)})",
                "text": f"From {row.FirstSeen:%Y-%m-%d %H:%M} to {row.LastSeen:%Y-%m-%d %H:%M} "
                f"UTC, to {text_of(row.LocalIPs)}: many connections from one outside address "
                "to a logon port are a brute force or a password spray.",
                "section": section,
                "result": result,
                "count": 1,  # evidence rows: this row of `result`
                "key": f"bruteforce:{row.RemoteIP}:{int(row.DestPort)}",
            }
        )
    return found


def uncommon_port_findings(
    flows: pd.DataFrame, *, subject: str = "", section: str = "flows", result: str = "flow_index"
) -> list[dict[str, Any]]:
    """One low finding per outside address reached outbound on an uncommon port.

    Example:
        >>> f = pd.DataFrame({"Direction": ["outbound", "outbound"],
        ...     "RemoteIP": ["192.0.2.66", "8.8.8.8"], "RemoteClass": ["documentation", "public"],
        ...     "DestPort": [4444, 443], "Flows": [5, 9]})
        >>> [x["key"] for x in uncommon_port_findings(f)]
        ['port:192.0.2.66:4444']
    """
    from nbcatalog.nblib.flows import is_external

    found: list[dict[str, Any]] = []
    if flows is None or flows.empty or "DestPort" not in flows.columns:
        return found
    port = pd.to_numeric(flows["DestPort"], errors="coerce")
    keep = (
        (flows["Direction"] == "outbound") & port.notna() & ~port.isin(list(COMMON_OUTBOUND_PORTS))
    )
    keep &= flows["RemoteClass"].map(lambda c: is_external(text_of(c)))
    rows = flows[keep.fillna(False)].assign(Port=port)
    if rows.empty:
        return found
    grouped = rows.groupby(["RemoteIP", "Port"])["Flows"].sum().reset_index()
    for row in grouped.sort_values("Flows", ascending=False).itertuples(index=False):
        who = subject or "the flows"
        found.append(
            {
                "severity": "low",
                "title": f"{who} made {int(row.Flows)} outbound flows to {row.RemoteIP} on "
                f"uncommon port {int(row.Port)}",
                "text": "Outside the ports ordinary hosts use to reach the internet "
                f"({', '.join(map(str, sorted(COMMON_OUTBOUND_PORTS)))}).",
                "section": section,
                "result": result,
                "count": 1,  # evidence rows: this row of `result`
                "key": f"port:{row.RemoteIP}:{int(row.Port)}",
            }
        )
    return found


SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2, "info": 3}
FINDING_COLUMNS = ["severity", "title", "text", "section", "result", "count", "key"]


def ranked(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings most severe first, then by count (largest first); duplicate keys once.

    Example:
        >>> [f["key"] for f in ranked([{"severity": "low", "key": "a", "count": 1},
        ...                            {"severity": "high", "key": "b", "count": 1}])]
        ['b', 'a']
    """
    seen: set[str] = set()
    unique = []
    for finding in findings:
        key = str(finding.get("key", ""))
        if key and key in seen:
            continue
        seen.add(key)
        unique.append(finding)
    return sorted(
        unique,
        key=lambda f: (SEVERITY_RANK.get(str(f.get("severity")), 4), -int(f.get("count") or 0)),
    )


def findings_table(findings: list[dict[str, Any]]):
    """The findings as a titled table for the notebook (a note when there are none).

    Example:
        >>> findings_table([]).messages()
        ['info: no findings: nothing in these flows stood out by the checks above']
    """
    from nbcatalog.nblib.findings import Finding

    table = Finding("Findings", pd.DataFrame(findings, columns=FINDING_COLUMNS))
    table.columns = ["severity", "title", "count", "section", "key"]
    if not findings:
        table.note("info", "no findings: nothing in these flows stood out by the checks above")
    return table
