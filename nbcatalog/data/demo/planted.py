"""The planted incidents, placed at fixed offsets before the generation time.

Each incident lives in its own module; this one places them in time and lists them.
They depend only on the generation time, never on the seed or the scale.

Example:
    >>> import pandas as pd
    >>> [i.name for i in incidents(pd.Timestamp("2026-01-10T12:00:00Z"))][:2]
    ['rdp-bruteforce', 'detections']
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nbcatalog.data.demo import (
    planted_alerts,
    planted_cloud,
    planted_devicenet,
    planted_linux,
    planted_mde,
    planted_network,
    planted_windows,
)

RDP_HOURS_AGO = 30
SSH_HOURS_AGO = 20


@dataclass(frozen=True)
class Incident:
    """One planted incident: what to look for, where and when."""

    name: str
    start: pd.Timestamp
    description: str


def anchors(end: pd.Timestamp) -> dict[str, pd.Timestamp]:
    """Start time of each incident, whole minutes before `end`."""
    return {
        "rdp": (end - pd.Timedelta(hours=RDP_HOURS_AGO)).floor("min"),
        "ssh": (end - pd.Timedelta(hours=SSH_HOURS_AGO)).floor("min"),
    }


def incidents(end: pd.Timestamp) -> list[Incident]:
    """What was planted, in time order (for summaries and the CLI)."""
    a = anchors(end)
    found = [
        Incident(
            "rdp-bruteforce",
            a["rdp"],
            "RDP brute force on WKSTN-042 from 203.0.113.77 (320 failures, 24 accounts), "
            "then logon as CONTOSO\\bob; svc_backup created and made admin, scheduled task, "
            "service, encoded PowerShell; one command line carries "
            '<script>alert("nbcatalog")</script>',
        ),
        Incident(
            "bob-cloud",
            a["rdp"] + pd.Timedelta(minutes=40),
            "bob@contoso.com signs in from 203.0.113.77 (Amsterdam, NL) 2 h after a Seattle "
            "sign-in; 60 SharePoint/OneDrive downloads; Owner role assignment in AzureActivity",
        ),
        Incident(
            "ssh-spray",
            a["ssh"],
            "SSH password spray on LNX-WEB01 from 198.51.100.23 (240 failures, 40 user names), "
            "then 'Accepted password for deploy'",
        ),
        Incident(
            "c2-beacon",
            a["ssh"] + pd.Timedelta(minutes=30),
            "LNX-WEB01 beacons to 192.0.2.66:4444 every 10 minutes; WKSTN-042 fetched "
            "http://malicious.example/payload.ps1",
        ),
        Incident(
            "detections",
            a["rdp"] + pd.Timedelta(minutes=21),
            "7 SecurityAlert rows (Low to High) naming WKSTN-042, bob, 203.0.113.77, LNX-WEB01, "
            "198.51.100.23; 2 HuntingBookmark rows; TI for 203.0.113.77, 192.0.2.66, the URL, "
            "its domain and a SHA256",
        ),
        Incident(
            "mde-laptop",
            (end - pd.Timedelta(hours=planted_mde.HOURS_AGO + 1)).floor("min"),
            f"{planted_mde.HOST}, seen only by Defender for Endpoint: "
            f"{planted_mde.SPRAY_FAILURES} failed network logons from 203.0.113.77, then Word "
            "starts an encoded PowerShell that downloads http://malicious.example/payload.ps1",
        ),
    ]
    return sorted(found, key=lambda i: i.start)


def generate(end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Rows of every planted incident, by table."""
    a = anchors(end)
    out: dict[str, list[pd.DataFrame]] = {}
    parts = (
        planted_windows.rdp_incident(a["rdp"]),
        planted_linux.ssh_incident(a["ssh"]),
        planted_cloud.cloud_incident(a["rdp"]),
        planted_network.network_incident(a, end),
        planted_devicenet.devicenet_incident(a, end),
        planted_alerts.detections(a, end),
        planted_mde.mde_incident(end),
    )
    for part in parts:
        for table, frame in part.items():
            out.setdefault(table, []).append(frame)
    return {t: pd.concat(f, ignore_index=True) for t, f in out.items()}
