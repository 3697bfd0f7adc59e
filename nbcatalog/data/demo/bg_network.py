"""Background network view: agent heartbeats and everyday flows.

Heartbeats come every 5 minutes from every host with its private address (so
`Network.get_heartbeat_for_ip` and `get_host_for_ip` resolve the address plan).
Flows: workstations talk to the domain controller and the file server and browse
the web; the web server serves the internet and queries the database; admins reach
the Linux hosts through the jump host; scanners knock on the exposed hosts from
ordinary public addresses, so a GeoIP map of inbound traffic has real points.

Example:
    >>> import pandas as pd
    >>> from nbcatalog.data.demo.timeline import Window
    >>> w = Window.ending(pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> hb = heartbeat_frame(1, w)
    >>> hb.loc[hb["Computer"] == "WKSTN-042", "ComputerIP"].unique().tolist()
    ['10.10.1.52']
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pandas as pd

from nbcatalog.data.demo.estate import (
    ADMINS,
    HOSTS,
    HOSTS_BY_NAME,
    OFFICE_CITY,
    SUBSCRIPTION_ID,
    TENANT_ID,
    USERS_BY_NAME,
    WORKSTATIONS,
    noise_ips,
)
from nbcatalog.data.demo.flows import RESOURCE_GROUP, flow_frame
from nbcatalog.data.demo.textcols import pick
from nbcatalog.data.demo.timeline import Window, sample_times, stream, uuids

HEARTBEAT_MINUTES = 5
FLOWS_PER_SCALE = 30_000
WEB_SERVICES = ["13.107.42.14", "142.250.72.196", "151.101.1.69", "104.16.132.229", "52.96.165.18"]


def heartbeat_frame(seed: int, window: Window) -> pd.DataFrame:
    """One Heartbeat row per host every few minutes over the window."""
    rng = stream(seed, "Heartbeat")
    ticks = pd.date_range(window.start.ceil("5min"), window.end, freq=f"{HEARTBEAT_MINUTES}min")
    frames = []
    vm_ids = uuids(stream(0, "vmuuid"), len(HOSTS))  # fixed per host, whatever the seed
    for host, vm_id in zip(HOSTS, vm_ids, strict=True):
        jitter = pd.to_timedelta(rng.integers(0, 60, len(ticks)), unit="s")
        times = ticks + jitter
        times = times[times < window.end]
        windows = host.os == "Windows"
        frames.append(
            pd.DataFrame(
                {
                    "TenantId": TENANT_ID,
                    "TimeGenerated": times,
                    "SourceSystem": "OpsManager" if windows else "Linux",
                    "Computer": host.name,
                    "ComputerIP": host.ip,
                    "ComputerPrivateIPs": json.dumps([host.ip]),
                    "Category": "Azure Monitor Agent",
                    "OSType": host.os,
                    "OSName": host.os_name,
                    "OSMajorVersion": host.os_version.split(".")[0],
                    "OSMinorVersion": (host.os_version.split(".") + ["0"])[1],
                    "Version": "1.28.2" if windows else "1.29.4",
                    "SCAgentChannel": "Direct",
                    "IsGatewayInstalled": False,
                    "RemoteIPLongitude": OFFICE_CITY[4],
                    "RemoteIPLatitude": OFFICE_CITY[3],
                    "RemoteIPCountry": "United States",
                    "SubscriptionId": SUBSCRIPTION_ID,
                    "ResourceGroup": RESOURCE_GROUP,
                    "ResourceProvider": "Microsoft.Compute",
                    "Resource": host.name.lower(),
                    "ResourceId": (
                        f"/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/{RESOURCE_GROUP}"
                        f"/providers/microsoft.compute/virtualmachines/{host.name.lower()}"
                    ),
                    "ResourceType": "virtualMachines",
                    "ComputerEnvironment": "Azure",
                    "Solutions": '"security", "changeTracking", "updates"',
                    "VMUUID": vm_id,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _intervals(rng: np.random.Generator, n: int, window: Window, profile: str) -> pd.DatetimeIndex:
    # Flow analytics land about 15 minutes after their 10-minute interval starts.
    reported = Window(window.start.ceil("10min"), window.end - pd.Timedelta(minutes=15))
    return sample_times(rng, n, reported, profile).floor("10min")


def flow_frames(seed: int, window: Window, scale: float = 1.0) -> Iterator[pd.DataFrame]:
    """Background AzureNetworkAnalytics_CL rows, one kind of traffic at a time."""
    rng = stream(seed, "AzureNetworkAnalytics_CL")
    total = max(10, int(FLOWS_PER_SCALE * scale))
    ws = np.array([h.name for h in WORKSTATIONS], dtype=object)
    dc, fs = HOSTS_BY_NAME["WIN-DC01"].ip, HOSTS_BY_NAME["WIN-FS01"].ip
    web, db, jump = (HOSTS_BY_NAME[h].ip for h in ("LNX-WEB01", "LNX-DB01", "LNX-JUMP01"))

    # Workstations to the domain controller and file server (seen outbound).
    n = int(total * 0.45)
    src_host = pick(rng, list(ws), n)
    service = rng.integers(0, 5, n)
    dest = np.where(service < 3, dc, fs).astype(object)
    port = np.array([88, 389, 53, 445, 445])[service]
    yield (
        flow_frame(
            _intervals(rng, n, window, "office"),
            src_host,
            "O",
            [HOSTS_BY_NAME[h].ip for h in src_host],
            dest,
            port,
            np.where(port == 53, "U", "T"),
            rng.integers(1, 40, n),
        )
    )
    # Workstations browsing the web.
    n = int(total * 0.25)
    src_host = pick(rng, list(ws), n)
    yield (
        flow_frame(
            _intervals(rng, n, window, "office"),
            src_host,
            "O",
            [HOSTS_BY_NAME[h].ip for h in src_host],
            pick(rng, WEB_SERVICES, n),
            np.full(n, 443),
            "T",
            rng.integers(1, 80, n),
            bytes_per_flow=60_000.0,
        )
    )
    # Visitors and scanners on the web server; scanners on the jump host and WKSTN-042.
    n = int(total * 0.15)
    vm = pick(rng, ["LNX-WEB01"] * 6 + ["LNX-JUMP01", "WKSTN-042"], n)
    port = np.where(vm == "LNX-WEB01", pick(rng, [443, 443, 443, 80], n), 0).astype(int)
    port[vm == "LNX-JUMP01"] = 22
    port[vm == "WKSTN-042"] = 3389
    yield (
        flow_frame(
            _intervals(rng, n, window, "flat"),
            vm,
            "I",
            pick(rng, noise_ips(), n),
            [HOSTS_BY_NAME[h].ip for h in vm],
            port,
            "T",
            rng.integers(1, 12, n),
        )
    )
    # Web server to database, admins' SSH through the jump host (and from home to it).
    n = int(total * 0.12)
    yield (
        flow_frame(
            _intervals(rng, n, window, "flat"),
            np.full(n, "LNX-WEB01", dtype=object),
            "O",
            np.full(n, web, dtype=object),
            np.full(n, db, dtype=object),
            np.full(n, 5432),
            "T",
            rng.integers(5, 200, n),
        )
    )
    n = max(1, int(total * 0.03))
    admins = pick(rng, list(ADMINS), n)
    from_home = rng.random(n) < 0.3
    src = np.array(
        [
            USERS_BY_NAME[a].home_ip if h else HOSTS_BY_NAME[USERS_BY_NAME[a].workstation].ip
            for a, h in zip(admins, from_home, strict=True)
        ],
        dtype=object,
    )
    yield (
        flow_frame(
            _intervals(rng, n, window, "office"),
            np.full(n, "LNX-JUMP01", dtype=object),
            "I",
            src,
            np.full(n, jump, dtype=object),
            np.full(n, 22),
            "T",
            rng.integers(1, 3, n),
        )
    )
