"""Planted flows: the brute force and spray arriving, and the implant calling home.

Inbound RDP (3389) from 203.0.113.77 to WKSTN-042 during the brute force and bob's
session; inbound SSH from 198.51.100.23 to LNX-WEB01 during the spray; WKSTN-042
fetching http://malicious.example/payload.ps1 (192.0.2.66:80); then LNX-WEB01
beaconing out to 192.0.2.66:4444 every 10 minutes until the generation time.

Example:
    >>> import pandas as pd
    >>> a = {"rdp": pd.Timestamp("2026-01-09T06:00:00Z"),
    ...      "ssh": pd.Timestamp("2026-01-09T16:00:00Z")}
    >>> f = network_incident(a, pd.Timestamp("2026-01-10T12:00:00Z"))["AzureNetworkAnalytics_CL"]
    >>> sorted(f["DestPort_d"].astype(int).unique().tolist())
    [22, 80, 3389, 4444]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nbcatalog.data.demo.estate import (
    ATTACKER_RDP_IP,
    ATTACKER_SSH_IP,
    C2_IP,
    C2_PORT,
    HOSTS_BY_NAME,
)
from nbcatalog.data.demo.flows import flow_frame
from nbcatalog.data.demo.planted_linux import SPRAY_MINUTES
from nbcatalog.data.demo.planted_windows import BRUTE_MINUTES


def _inbound(
    start: pd.Timestamp, minutes: int, vm: str, src: str, port: int, total: int
) -> pd.DataFrame:
    intervals = pd.date_range(
        start.floor("10min"), start + pd.Timedelta(minutes=minutes), freq="10min"
    )
    per = np.full(len(intervals), total // len(intervals))
    per[0] += total - per.sum()
    return flow_frame(
        intervals,
        [vm] * len(intervals),
        "I",
        [src] * len(intervals),
        [HOSTS_BY_NAME[vm].ip] * len(intervals),
        [port] * len(intervals),
        "T",
        per,
    )


def beacon_times(ssh: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """The 10-minute intervals in which LNX-WEB01's implant calls 192.0.2.66:4444.

    From just after the spray that let the intruder in until the generation time;
    shared with the Defender and firewall views of the same beacon.
    """
    return pd.date_range(
        (ssh + pd.Timedelta(minutes=SPRAY_MINUTES + 4)).ceil("10min"),
        end - pd.Timedelta(minutes=25),
        freq="10min",
    )


def network_incident(
    anchors: dict[str, pd.Timestamp], end: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """Flow rows of the planted incidents (anchors as in `planted.anchors`)."""
    rdp, ssh = anchors["rdp"], anchors["ssh"]
    ws, web = HOSTS_BY_NAME["WKSTN-042"], HOSTS_BY_NAME["LNX-WEB01"]
    frames = [
        # Every failed attempt is a connection; then bob's 30-minute session.
        _inbound(rdp, BRUTE_MINUTES, ws.name, ATTACKER_RDP_IP, 3389, 320),
        _inbound(
            rdp + pd.Timedelta(minutes=BRUTE_MINUTES + 1), 30, ws.name, ATTACKER_RDP_IP, 3389, 4
        ),
        _inbound(ssh, SPRAY_MINUTES, web.name, ATTACKER_SSH_IP, 22, 240),
        _inbound(
            ssh + pd.Timedelta(minutes=SPRAY_MINUTES + 1), 30, web.name, ATTACKER_SSH_IP, 22, 1
        ),
        flow_frame(
            [(rdp + pd.Timedelta(minutes=BRUTE_MINUTES + 9)).floor("10min")],
            [ws.name],
            "O",
            [ws.ip],
            [C2_IP],
            [80],
            "T",
            [1],
            flow_type="MaliciousFlow",
            bytes_per_flow=48_000.0,
        ),
    ]
    beacons = beacon_times(ssh, end)
    frames.append(
        flow_frame(
            beacons,
            [web.name] * len(beacons),
            "O",
            [web.ip] * len(beacons),
            [C2_IP] * len(beacons),
            [C2_PORT] * len(beacons),
            "T",
            [2] * len(beacons),
            flow_type="MaliciousFlow",
            bytes_per_flow=900.0,
        )
    )
    return {"AzureNetworkAnalytics_CL": pd.concat(frames, ignore_index=True)}
