"""Network flow rows in the Azure NSG flow-analytics layout (AzureNetworkAnalytics_CL).

Every machine of the estate is an Azure VM (workstations are Azure Virtual Desktop
hosts), so each flow is seen from one VM's network security group: `VM_s` is
"<resource group>/<vm name>", `FlowDirection_s` is "I" (inbound) or "O" (outbound),
`L4Protocol_s` "T" or "U", and flows are counted per 10-minute interval.

Example:
    >>> import pandas as pd
    >>> f = flow_frame(pd.to_datetime(["2026-01-01T10:00:00Z"]), ["WKSTN-042"], "I",
    ...     ["203.0.113.77"], ["10.10.1.52"], [3389], "T", [12])
    >>> f.loc[0, "VM_s"], float(f.loc[0, "AllowedInFlows_d"])
    ('contoso-rg/WKSTN-042', 12.0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nbcatalog.data.demo.estate import HOSTS_BY_NAME, TENANT_ID
from nbcatalog.data.demo.textcols import cat, column

RESOURCE_GROUP = "contoso-rg"
REGION = "westus2"
L7 = {
    22: "ssh",
    53: "dns",
    80: "http",
    88: "kerberos",
    389: "ldap",
    443: "https",
    445: "smb",
    3389: "rdp",
    5432: "postgresql",
}
_SUBNETS = {"workstation": "workstations", "web": "dmz", "jump": "dmz", "database": "data"}


def flow_frame(
    interval_start: object,
    vm: object,
    direction: str | np.ndarray,
    src: object,
    dest: object,
    dest_port: object,
    protocol: str | np.ndarray,
    flows: object,
    *,
    flow_type: str | np.ndarray | None = None,
    bytes_per_flow: float = 4_000.0,
) -> pd.DataFrame:
    """Flow rows, one per (interval, VM, direction, source, destination, port)."""
    start = pd.DatetimeIndex(pd.to_datetime(interval_start, utc=True))
    n = len(start)
    vm = np.asarray(vm, dtype=object)
    src, dest = np.asarray(src, dtype=object), np.asarray(dest, dtype=object)
    direction = np.broadcast_to(np.asarray(direction, dtype=object), (n,))
    protocol = np.broadcast_to(np.asarray(protocol, dtype=object), (n,))
    port = np.asarray(dest_port, dtype="float64")
    count = np.asarray(flows, dtype="float64")
    inbound = direction == "I"
    external = np.where(inbound, src, dest)
    # Anything outside the estate's 10/8 is "public" to the NSG, documentation ranges too.
    public = ~np.char.startswith(external.astype(str), "10.")
    if flow_type is None:
        flow_type = np.where(public, "ExternalPublic", "IntraVNet").astype(object)
    hosts = [HOSTS_BY_NAME[v] for v in vm]
    public_ips = np.asarray(cat(external, "|", count.astype("int64"), "|0|0|0|0|0"), dtype=object)
    vm_ip = np.array([h.ip for h in hosts], dtype=object)
    subnet = np.array(
        [f"{RESOURCE_GROUP}/contoso-vnet/{_SUBNETS.get(h.role, 'servers')}" for h in hosts],
        dtype=object,
    )
    zero = np.zeros(n)
    return pd.DataFrame(
        {
            "TenantId": TENANT_ID,
            "TimeGenerated": start + pd.Timedelta(minutes=14),
            "SourceSystem": "Azure",
            "FlowType_s": flow_type if isinstance(flow_type, str) else column(flow_type),
            "FlowStartTime_t": start,
            "FlowEndTime_t": start + pd.Timedelta(minutes=9, seconds=59),
            "FlowDirection_s": column(direction),
            "FlowStatus_s": "A",
            "SrcIP_s": column(src),
            "DestIP_s": column(dest),
            "DestPort_d": port,
            "L4Protocol_s": column(protocol),
            "L7Protocol_s": column(
                np.array([L7.get(int(p), "unknown") for p in port], dtype=object)
            ),
            "VM_s": column(cat(f"{RESOURCE_GROUP}/", vm)),
            "VMIP_s": column(vm_ip),
            "Subnet_s": column(subnet),
            "PublicIPs_s": column(np.where(public, public_ips, None)),
            "SrcPublicIPs_s": column(np.where(public & inbound, public_ips, None)),
            "DestPublicIPs_s": column(np.where(public & ~inbound, public_ips, None)),
            "AllowedInFlows_d": np.where(inbound, count, zero),
            "DeniedInFlows_d": zero,
            "AllowedOutFlows_d": np.where(inbound, zero, count),
            "DeniedOutFlows_d": zero,
            "InboundBytes_d": np.round(count * bytes_per_flow * np.where(inbound, 1.0, 0.2)),
            "OutboundBytes_d": np.round(count * bytes_per_flow * np.where(inbound, 0.2, 1.0)),
            "InboundPackets_d": np.round(count * 12),
            "OutboundPackets_d": np.round(count * 10),
            "NSGRule_s": column(
                np.where(
                    inbound,
                    cat(
                        "userdefined_allow-",
                        np.array([L7.get(int(p), "any") for p in port]),
                        "-inbound",
                    ),
                    np.where(
                        public,
                        "defaultsecurityrules_allowinternetoutbound",
                        "defaultsecurityrules_allowvnetoutbound",
                    ),
                )
            ),
            "Country_s": None,
            "Region_s": REGION,
        },
        index=range(n),
    )
