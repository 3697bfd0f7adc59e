"""msticpy's names for Sentinel columns, and the way back to the tables' own names.

msticpy's Sentinel queries rename some columns, so a frame saved from one carries
names the store's tables do not have:

- alerts (``kql_sent_alert.yaml``): ``project-rename StartTimeUtc = StartTime,
  EndTimeUtc = EndTime, AlertDisplayName = DisplayName, Severity = AlertSeverity``;
  msticpy's Alert entity (``datamodel/entities/alert.py``, the Sentinel / Defender
  alert API's names) adds ProviderAlertId, AlertUri and Intent;
- network flows (``kql_sent_net.yaml``, ``kql_sent_az_network.yaml``): the
  AzureNetworkAnalytics_CL columns without their type suffix (``SrcIP = SrcIP_s``,
  ``DestPort = DestPort_d``, ...), ``VM_s`` split into ResourceGroup and VMName,
  ``PublicIPs_s`` reduced to a list of addresses, and one row per external address
  (``mv-expand AllExtIPs``);
- the Windows and Linux queries add ``TimeCreatedUtc = TimeGenerated``.

`RENAMES` is that knowledge as data (msticpy name -> table column, per table);
`to_sentinel` applies it to a frame being imported, `with_both_names` to a frame
passed to a notebooklet as ``data=``.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"AlertDisplayName": ["RDP brute force"], "Severity": ["High"]})
    >>> mapped = to_sentinel(frame, "SecurityAlert")
    >>> list(mapped.frame.columns)
    ['DisplayName', 'AlertSeverity']
    >>> mapped.renamed
    {'AlertDisplayName': 'DisplayName', 'Severity': 'AlertSeverity'}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Renames every msticpy query of any table may carry.
COMMON: dict[str, str] = {"TimeCreatedUtc": "TimeGenerated"}

FLOWS = "AzureNetworkAnalytics_CL"
RENAMES: dict[str, dict[str, str]] = {
    "SecurityAlert": {
        "AlertDisplayName": "DisplayName",
        "Severity": "AlertSeverity",
        "StartTimeUtc": "StartTime",
        "EndTimeUtc": "EndTime",
        # msticpy's Alert entity (the alert API's names), not its queries:
        "ProviderAlertId": "VendorOriginalId",
        "AlertUri": "AlertLink",
        "Intent": "Tactics",
    },
    FLOWS: {
        "FlowStartTime": "FlowStartTime_t",
        "FlowEndTime": "FlowEndTime_t",
        "FlowIntervalEndTime": "FlowIntervalEndTime_t",
        "FlowType": "FlowType_s",
        "VMIPAddress": "VMIP_s",
        "SrcIP": "SrcIP_s",
        "DestIP": "DestIP_s",
        "L4Protocol": "L4Protocol_s",
        "L7Protocol": "L7Protocol_s",
        "DestPort": "DestPort_d",
        "FlowDirection": "FlowDirection_s",
        "AllowedOutFlows": "AllowedOutFlows_d",
        "AllowedInFlows": "AllowedInFlows_d",
        "DeniedInFlows": "DeniedInFlows_d",
        "DeniedOutFlows": "DeniedOutFlows_d",
        "RemoteRegion": "AzureRegion_s",
        "VMRegion": "Region_s",
        # get_ips_for_host / get_host_for_ip (network interface rows)
        "PrivateIPAddresses": "PrivateIPAddresses_s",
        "PublicIPAddresses": "PublicIPAddresses_s",
        "VirtualMachine": "VirtualMachine_s",
    },
}
# Names no msticpy query returns (so a notebooklet never reads them).
ENTITY_ONLY = {"ProviderAlertId", "AlertUri", "Intent"}
# msticpy columns that are rebuilt into a table column rather than renamed.
DERIVED_FROM: dict[str, tuple[str, ...]] = {FLOWS: ("ResourceGroup", "VMName", "PublicIPs")}
# The expansion column of msticpy's flow queries: one row per external address.
EXPANDED = {FLOWS: "AllExtIPs"}


def msticpy_names(table: str) -> set[str]:
    """Column names msticpy's queries of `table` use instead of the table's own.

    >>> sorted(msticpy_names("SecurityAlert"))[:3]
    ['AlertDisplayName', 'AlertUri', 'EndTimeUtc']
    """
    return (
        set(RENAMES.get(table, {}))
        | set(DERIVED_FROM.get(table, ()))
        | ({EXPANDED[table]} if table in EXPANDED else set())
    )


@dataclass
class Mapped:
    """A frame in a table's own column names, and what it took to get there.

    `renamed`: msticpy name -> table column; `derived`: table column -> how it was
    rebuilt (a sentence for the report); `repeats`: positions (in the input frame)
    of rows that only repeated an earlier row (msticpy's mv-expand), left out.
    """

    frame: pd.DataFrame
    renamed: dict[str, str] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)
    repeats: list[int] = field(default_factory=list)


def to_sentinel(frame: pd.DataFrame, table: str) -> Mapped:
    """`frame` with msticpy's column names turned back into `table`'s own.

    A msticpy name is renamed only when the frame lacks the table's name for it
    (a frame holding both keeps its own column; the msticpy one is then extra).
    For flows, VM_s, PublicIPs_s and SubType_s are rebuilt, and the rows msticpy
    repeated once per external address are collapsed into one.
    """
    present = set(frame.columns)
    renames: dict[str, str] = {}
    for source, target in {**COMMON, **RENAMES.get(table, {})}.items():
        if source in present and target not in present and target not in renames.values():
            renames[source] = target
    out = Mapped(frame.rename(columns=renames) if renames else frame, renamed=renames)
    if table == FLOWS:
        _rebuild_flow_columns(out)
    return out


def _rebuild_flow_columns(mapped: Mapped) -> None:
    frame = mapped.frame
    flow_renames = set(mapped.renamed) - set(COMMON)
    if not flow_renames and not set(DERIVED_FROM[FLOWS]) & set(frame.columns):
        return  # the table's own layout: nothing to rebuild
    frame = frame.copy()
    if "VM_s" not in frame and "VMName" in frame:
        # msticpy: ResourceGroup = split(VM_s, "/")[0], VMName = split(VM_s, "/")[1]
        groups = frame["ResourceGroup"] if "ResourceGroup" in frame else pd.Series("", frame.index)
        frame["VM_s"] = [
            f"{_text(g)}/{_text(v)}" if _text(v) else None
            for g, v in zip(groups, frame["VMName"], strict=True)
        ]
        used = [c for c in ("ResourceGroup", "VMName") if c in frame]
        mapped.derived["VM_s"] = f"VM_s rebuilt as ResourceGroup/VMName from {' and '.join(used)}"
        frame = frame.drop(columns=used)
    if "PublicIPs_s" not in frame and "PublicIPs" in frame:
        # Azure writes "address|flow counts..."; msticpy kept the addresses only.
        frame["PublicIPs_s"] = [_public_ips(v) for v in frame["PublicIPs"]]
        mapped.derived["PublicIPs_s"] = "PublicIPs_s rebuilt from PublicIPs (flow counts unknown)"
        frame = frame.drop(columns=["PublicIPs"])
    if "SubType_s" not in frame:
        frame["SubType_s"] = "FlowLog"  # msticpy's flow queries read FlowLog rows only
        mapped.derived["SubType_s"] = "SubType_s set to FlowLog (msticpy reads FlowLog rows only)"
    if "AllExtIPs" in frame:
        frame = frame.drop(columns=["AllExtIPs"])
        repeated = frame.astype(str).duplicated().to_numpy()
        mapped.repeats = np.flatnonzero(repeated).tolist()
        frame = frame[~repeated]
    mapped.frame = frame


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _public_ips(value: Any) -> str | None:
    """msticpy's list of public addresses back into Azure's "address|counts" text."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                return text or None
        else:
            return text or None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        return None
    # The flow counts are unknown here: left empty, as "address|||||||".
    addresses = [_text(v) for v in value if _text(v)]
    return " ".join(f"{a}|||||||" for a in addresses) or None


def with_both_names(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame passed as ``data=``, with each mapped column under both of its names.

    Notebooklets read the names the store's queries return (msticpy's, e.g. SrcIP,
    AlertDisplayName) or the table's own (TimeGenerated); a frame may come with
    either. For every table whose mapped columns the frame has (two or more), a
    column present under one name only is copied to the other; TimeCreatedUtc
    gives TimeGenerated when that is missing. Nothing is removed or renamed.

    >>> f = pd.DataFrame({"SrcIP_s": ["10.0.0.5"], "DestIP_s": ["192.0.2.66"]})
    >>> list(with_both_names(f).columns)
    ['SrcIP_s', 'DestIP_s', 'SrcIP', 'DestIP']
    """
    present = set(frame.columns)
    copies: dict[str, str] = {}  # new column -> existing column
    for source, target in COMMON.items():
        if source in present and target not in present:
            copies[target] = source
    for pairs in RENAMES.values():
        seen = [(m, s) for m, s in pairs.items() if m in present or s in present]
        if len(seen) < 2:
            continue
        for msticpy, sentinel in seen:
            if msticpy in present and sentinel not in present:
                copies.setdefault(sentinel, msticpy)
            elif sentinel in present and msticpy not in present and msticpy not in ENTITY_ONLY:
                copies.setdefault(msticpy, sentinel)
    if not copies:
        return frame
    return frame.assign(**{new: frame[old] for new, old in copies.items()})
