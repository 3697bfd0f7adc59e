"""Background detections: the ordinary, mostly benign alerts a SOC sees every week,
and threat-intelligence indicators for addresses and domains of the wider internet.

None of them concerns alice (the benign baseline) or the planted attacker addresses.

Example:
    >>> import pandas as pd
    >>> from nbcatalog.data.demo.timeline import Window
    >>> w = Window.ending(pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> a = alert_frame(1, w, 1.0)
    >>> "alice" in " ".join(a["Entities"])
    False
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nbcatalog.data.demo.alertrows import account, alert_row, file, host, indicator_row, ip
from nbcatalog.data.demo.estate import USERS_BY_NAME, noise_ips
from nbcatalog.data.demo.timeline import Window, sample_times, stream, uuids

ALERTS_PER_SCALE = 8
INDICATORS_PER_SCALE = 40
EICAR = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"


def alert_frame(seed: int, window: Window, scale: float = 1.0) -> pd.DataFrame:
    """Background SecurityAlert rows."""
    rng = stream(seed, "SecurityAlert")
    n = max(1, int(ALERTS_PER_SCALE * scale))
    times = sample_times(rng, n, window, "office")
    ids = uuids(rng, n)
    scanners = noise_ips()
    rows = []
    for i in range(n):
        kind = i % 4
        t = times[i]
        if kind == 0:
            ws = f"WKSTN-{int(rng.integers(10, 40)):03d}"
            user = "carol" if ws != "WKSTN-007" else "frank"
            rows.append(
                alert_row(
                    t,
                    "Antimalware Action Taken",
                    "Informational",
                    "Microsoft Defender Antivirus quarantined the EICAR test file.",
                    [
                        host(ws),
                        account(user),
                        file("eicar.com", f"C:\\Users\\{user}\\Downloads", EICAR),
                    ],
                    alert_id=ids[i],
                    tactics="Execution",
                    techniques=["T1204"],
                    compromised=ws,
                    product="Microsoft Defender Advanced Threat Protection",
                    provider="MDATP",
                    status="Resolved",
                    duration=pd.Timedelta(minutes=1),
                )
            )
        elif kind == 1:
            src = scanners[int(rng.integers(0, len(scanners)))]
            rows.append(
                alert_row(
                    t,
                    "Possible port scan detected",
                    "Low",
                    f"{src} probed many ports on LNX-WEB01.",
                    [host("LNX-WEB01"), ip(src)],
                    alert_id=ids[i],
                    tactics="Discovery",
                    techniques=["T1046"],
                    compromised="LNX-WEB01",
                    status="Dismissed",
                )
            )
        elif kind == 2:
            user = USERS_BY_NAME[["frank", "grace", "heidi"][int(rng.integers(0, 3))]]
            rows.append(
                alert_row(
                    t,
                    "Unfamiliar sign-in properties",
                    "Low",
                    f"{user.upn} signed in from an address not seen before for this user.",
                    [account(user.name, cloud=True), ip(user.home_ip)],
                    alert_id=ids[i],
                    tactics="InitialAccess",
                    techniques=["T1078"],
                    compromised=user.upn,
                    product="Azure Active Directory Identity Protection",
                    provider="IPC",
                    status="Resolved",
                )
            )
        else:
            admin = ["dave", "walter"][int(rng.integers(0, 2))]
            rows.append(
                alert_row(
                    t,
                    "Rare RDP connection to a domain controller",
                    "Informational",
                    f"{admin} connected to WIN-DC01 over RDP outside the usual pattern.",
                    [host("WIN-DC01"), account(admin)],
                    alert_id=ids[i],
                    tactics="LateralMovement",
                    techniques=["T1021.001"],
                    compromised="WIN-DC01",
                    status="Resolved",
                )
            )
    return pd.DataFrame(rows)


def indicator_frame(seed: int, window: Window, scale: float = 1.0) -> pd.DataFrame:
    """Background ThreatIntelligenceIndicator rows (scanners, phishing domains, malware)."""
    rng = stream(seed, "ThreatIntelligenceIndicator")
    n = max(4, int(INDICATORS_PER_SCALE * scale))
    times = sample_times(rng, n, window, "flat")
    ids = uuids(rng, n)
    scanners = noise_ips()
    rows = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            rows.append(
                indicator_row(
                    times[i],
                    ids[i],
                    "ip",
                    scanners[i % len(scanners)],
                    "Scanner",
                    "Mass internet scanning.",
                    confidence=60,
                    severity=2,
                    provider="AlienVault OTX",
                )
            )
        elif kind == 1:
            domain = f"login-m1crosoft-{i:03d}.example.net"
            rows.append(
                indicator_row(
                    times[i],
                    ids[i],
                    "domain",
                    domain,
                    "Phishing",
                    "Credential phishing kit.",
                    confidence=75,
                    severity=3,
                )
            )
        elif kind == 2:
            rows.append(
                indicator_row(
                    times[i],
                    ids[i],
                    "url",
                    f"https://cdn-{i:03d}.example.org/invoice.zip",
                    "MaliciousUrl",
                    "Malware download.",
                    confidence=70,
                )
            )
        else:
            digest = bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex()
            rows.append(
                indicator_row(
                    times[i],
                    ids[i],
                    "sha256",
                    digest,
                    "Malware",
                    "Commodity loader.",
                    confidence=65,
                    file_name="invoice.exe",
                )
            )
    return pd.DataFrame(rows)
