"""Planted detections: the alerts the incidents raised, two analyst bookmarks, and the
threat-intelligence indicators that match the attacker's infrastructure.

Example:
    >>> import pandas as pd
    >>> a = {"rdp": pd.Timestamp("2026-01-09T06:00:00Z"),
    ...      "ssh": pd.Timestamp("2026-01-09T16:00:00Z")}
    >>> f = detections(a, pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> len(f["SecurityAlert"]) >= 5, len(f["HuntingBookmark"])
    (True, 2)
"""

from __future__ import annotations

import json

import pandas as pd

from nbcatalog.data.demo.alertrows import (
    account,
    alert_row,
    entities_json,
    file,
    host,
    indicator_row,
    ip,
    process,
    url,
)
from nbcatalog.data.demo.estate import (
    ATTACKER_RDP_IP,
    ATTACKER_SSH_IP,
    C2_IP,
    MALICIOUS_DOMAIN,
    MALICIOUS_URL,
    PAYLOAD_SHA256,
    TENANT_ID,
    USERS_BY_NAME,
)
from nbcatalog.data.demo.planted_windows import BRUTE_MINUTES, FAILURES, encoded_command
from nbcatalog.data.demo.timeline import stream, uuids

_PS = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"


def _alerts(rdp: pd.Timestamp, ssh: pd.Timestamp, ids: list[str]) -> list[dict]:
    success = rdp + pd.Timedelta(minutes=BRUTE_MINUTES + 1)
    ps_image = file("powershell.exe", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0")
    m = pd.Timedelta(minutes=1)
    return [
        alert_row(
            success,
            "RDP brute force followed by successful logon",
            "Medium",
            f"{FAILURES} failed RDP logons (logon type 10) for many accounts on WKSTN-042 "
            f"from {ATTACKER_RDP_IP}, followed by a successful logon as CONTOSO\\bob.",
            [host("WKSTN-042"), account("bob"), ip(ATTACKER_RDP_IP)],
            alert_id=ids[0],
            tactics="CredentialAccess,InitialAccess",
            techniques=["T1110", "T1133"],
            compromised="WKSTN-042",
        ),
        alert_row(
            success + 5 * m,
            "New local administrator account created",
            "High",
            "bob created the local account svc_backup on WKSTN-042 and added it to Administrators.",
            [host("WKSTN-042"), account("bob"), account("svc_backup", domain="WKSTN-042")],
            alert_id=ids[1],
            tactics="Persistence,PrivilegeEscalation",
            techniques=["T1136.001", "T1098"],
            compromised="WKSTN-042",
            duration=2 * m,
        ),
        alert_row(
            success + 8 * m,
            "Encoded PowerShell download cradle",
            "High",
            "PowerShell ran a base64-encoded command that downloads and runs a script from "
            f"{MALICIOUS_URL}.",
            [
                host("WKSTN-042"),
                account("bob"),
                process(
                    "0x2234",
                    f"powershell.exe  -nop -w hidden -enc {encoded_command()}",
                    ps_image,
                    success + 8 * m,
                ),
                url(MALICIOUS_URL),
                ip(C2_IP),
                file("payload.ps1", "C:\\Users\\bob\\AppData\\Local\\Temp", PAYLOAD_SHA256),
            ],
            alert_id=ids[2],
            tactics="Execution,CommandAndControl",
            techniques=["T1059.001", "T1105"],
            compromised="WKSTN-042",
            product="Microsoft Defender Advanced Threat Protection",
            provider="MDATP",
            duration=m,
        ),
        alert_row(
            success + 40 * m,
            "Sign-in from an unfamiliar location",
            "Medium",
            f"bob@contoso.com signed in from {ATTACKER_RDP_IP} (Amsterdam, NL) 2 hours after "
            "a sign-in from Seattle, US.",
            [account("bob", cloud=True), ip(ATTACKER_RDP_IP)],
            alert_id=ids[3],
            tactics="InitialAccess",
            techniques=["T1078.004"],
            compromised="bob@contoso.com",
            product="Azure Active Directory Identity Protection",
            provider="IPC",
            duration=m,
        ),
        alert_row(
            success + 56 * m,
            "Mass download by a single user",
            "Low",
            f"bob@contoso.com downloaded 60 files from SharePoint and OneDrive in 10 minutes "
            f"from {ATTACKER_RDP_IP}.",
            [account("bob", cloud=True), ip(ATTACKER_RDP_IP)],
            alert_id=ids[4],
            tactics="Exfiltration,Collection",
            techniques=["T1530"],
            compromised="bob@contoso.com",
            product="Microsoft Cloud App Security",
            provider="MCAS",
            duration=10 * m,
        ),
        alert_row(
            ssh + 26 * m,
            "SSH brute force followed by successful logon",
            "High",
            f"240 failed SSH password attempts for 40 user names on LNX-WEB01 from "
            f"{ATTACKER_SSH_IP}, then 'Accepted password for deploy'.",
            [host("LNX-WEB01"), account("deploy", domain=None), ip(ATTACKER_SSH_IP)],
            alert_id=ids[5],
            tactics="CredentialAccess,InitialAccess",
            techniques=["T1110.003"],
            compromised="LNX-WEB01",
            duration=26 * m,
        ),
        alert_row(
            ssh + 45 * m,
            "Outbound connection to a known command-and-control server",
            "High",
            f"LNX-WEB01 connects to {C2_IP}:4444 every 10 minutes; the address is a known "
            "command-and-control server.",
            [host("LNX-WEB01"), ip(C2_IP), file("kworkerd", "/tmp/.cache")],
            alert_id=ids[6],
            tactics="CommandAndControl",
            techniques=["T1071", "T1571"],
            compromised="LNX-WEB01",
            duration=15 * m,
        ),
    ]


def _bookmarks(rdp: pd.Timestamp, end: pd.Timestamp, ids: list[str]) -> list[dict]:
    analyst = USERS_BY_NAME["erin"]
    created_by = json.dumps(
        {"ObjectId": analyst.object_id, "Email": analyst.upn, "Name": analyst.display_name}
    )
    success = rdp + pd.Timedelta(minutes=BRUTE_MINUTES + 1)
    common = {
        "TenantId": TENANT_ID,
        "SourceSystem": "Azure",
        "CreatedBy": created_by,
        "UpdatedBy": created_by,
        "SoftDeleted": False,
        "BookmarkType": "Bookmark",
        "IncidentInfo": "{}",
        "QueryStartTime": rdp - pd.Timedelta(hours=1),
        "QueryEndTime": rdp + pd.Timedelta(hours=2),
    }
    first = end - pd.Timedelta(hours=3)
    second = end - pd.Timedelta(hours=2, minutes=20)
    return [
        {
            **common,
            "TimeGenerated": first,
            "BookmarkId": ids[0],
            "BookmarkName": "bob logged on to WKSTN-042 over RDP from 203.0.113.77",
            "CreatedTime": first,
            "UpdatedTime": first,
            "LastUpdatedTime": first,
            "EventTime": success,
            "Notes": "Right after ~320 failures from the same address. bob says it was not him.",
            "Tags": json.dumps(["rdp", "bruteforce", "bob"]),
            "QueryText": (
                'SecurityEvent | where EventID == 4624 and Account has "bob" '
                f'| where IpAddress == "{ATTACKER_RDP_IP}"'
            ),
            "QueryResultRow": json.dumps(
                {
                    "Account": "CONTOSO\\bob",
                    "Computer": "WKSTN-042",
                    "IpAddress": ATTACKER_RDP_IP,
                    "LogonType": 10,
                }
            ),
            "Entities": entities_json([account("bob"), ip(ATTACKER_RDP_IP)]),
        },
        {
            **common,
            "TimeGenerated": second,
            "BookmarkId": ids[1],
            "BookmarkName": "svc_backup created and made local admin on WKSTN-042",
            "CreatedTime": second,
            "UpdatedTime": second,
            "LastUpdatedTime": second,
            "EventTime": success + pd.Timedelta(minutes=4),
            "Notes": "Persistence: new local admin, scheduled task and service on WKSTN-042.",
            "Tags": json.dumps(["persistence", "WKSTN-042"]),
            "QueryText": (
                'SecurityEvent | where Computer has "WKSTN-042" | where EventID in (4720, 4732)'
            ),
            "QueryResultRow": json.dumps(
                {"Computer": "WKSTN-042", "TargetUserName": "svc_backup", "EventID": 4720}
            ),
            "Entities": entities_json(
                [host("WKSTN-042"), account("svc_backup", domain="WKSTN-042")]
            ),
        },
    ]


def _indicators(rdp: pd.Timestamp, ids: list[str]) -> list[dict]:
    t = rdp - pd.Timedelta(days=3)
    return [
        indicator_row(
            t,
            ids[0],
            "ip",
            ATTACKER_RDP_IP,
            "BruteForce",
            "Address seen brute-forcing RDP across many organisations.",
            confidence=85,
        ),
        indicator_row(
            t,
            ids[1],
            "ip",
            C2_IP,
            "C2",
            "Command-and-control server of a Linux backdoor (port 4444).",
            confidence=95,
            severity=5,
        ),
        indicator_row(
            t,
            ids[2],
            "url",
            MALICIOUS_URL,
            "MaliciousUrl",
            "Serves a PowerShell stager.",
            confidence=90,
            severity=5,
        ),
        indicator_row(
            t,
            ids[3],
            "domain",
            MALICIOUS_DOMAIN,
            "C2",
            "Domain hosting PowerShell stagers.",
            confidence=90,
            severity=5,
        ),
        indicator_row(
            t,
            ids[4],
            "sha256",
            PAYLOAD_SHA256,
            "Malware",
            "PowerShell stager payload.ps1.",
            confidence=90,
            severity=5,
            file_name="payload.ps1",
        ),
    ]


def detections(anchors: dict[str, pd.Timestamp], end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """SecurityAlert, HuntingBookmark and ThreatIntelligenceIndicator rows of the incidents."""
    ids = list(uuids(stream(0, "planted-detections"), 14))
    return {
        "SecurityAlert": pd.DataFrame(_alerts(anchors["rdp"], anchors["ssh"], ids[:7])),
        "HuntingBookmark": pd.DataFrame(_bookmarks(anchors["rdp"], end, ids[7:9])),
        "ThreatIntelligenceIndicator": pd.DataFrame(_indicators(anchors["rdp"], ids[9:14])),
    }
