"""Background Windows Security events: everyday logon sessions and what runs in them.

The unit is a logon session: a 4624 when it starts, the processes (4688) started in
it with its logon id, and a 4634 when it ends. Session kinds follow what a small
Windows domain really logs: people unlocking and logging on at their own
workstation in office hours, Kerberos network logons to the file server and the
domain controller, SYSTEM service logons around the clock, admins' RDP sessions on
the servers, a batch account's scheduled reports, and now and then an honest
mistyped password (4625) just before a successful logon.

Everything is generated column-wise with numpy, one chunk of sessions at a time, so
memory stays bounded however large `scale` is.

Example:
    >>> import pandas as pd
    >>> from nbcatalog.data.demo.timeline import Window
    >>> w = Window.ending(pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> frames = list(security_chunks(seed=1, window=w, scale=0.05))
    >>> sorted({int(e) for f in frames for e in f["EventID"]})[:3]
    [4624, 4625, 4634]
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from nbcatalog.data.demo.estate import ADMINS, DOMAIN, HOSTS_BY_NAME, USERS, WINDOWS_HOSTS
from nbcatalog.data.demo.timeline import Window, hex_ids, sample_times, stream, uuids
from nbcatalog.data.demo.winevents import security_frame

SESSIONS_PER_SCALE = 24_000  # sessions in the 7-day window at scale 1 (~100k rows)
CHUNK_SESSIONS = 60_000

SYSTEM_SID = "S-1-5-18"
BATCH_ACCOUNT = "svc_reports"
BATCH_SID = "S-1-5-21-3623811015-3361044348-30300820-2105"

# kind: (share of sessions, logon type, time profile, mean processes)
KINDS = {
    "interactive": (0.05, 2, "office", 12.0),
    "unlock": (0.30, 7, "office", 3.0),
    "network": (0.37, 3, "office", 0.0),
    "service": (0.22, 5, "flat", 1.5),
    "batch": (0.03, 4, "flat", 1.0),
    "rdp_admin": (0.03, 10, "office", 6.0),
}
KIND_NAMES = list(KINDS)

_SYS32 = "C:\\Windows\\System32\\"
_PS = _SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe"
_OFFICE = "C:\\Program Files\\Microsoft Office\\root\\Office16\\"
_CHROME = "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"
_EDGE = "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe"
# (parent image, new image, command line before the user name, after it or None)
USER_PROCS = [
    (_SYS32 + "userinit.exe", "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE", None),
    ("C:\\Windows\\explorer.exe", _CHROME, f'"{_CHROME}"', None),
    (_CHROME, _CHROME, f'"{_CHROME}" --type=renderer --lang=en-US --num-raster-threads=4', None),
    (_CHROME, _CHROME, f'"{_CHROME}" --type=utility --utility-sub-type=network.mojom', None),
    (
        "C:\\Windows\\explorer.exe",
        _EDGE,
        f'"{_EDGE}" --single-argument https://intranet.contoso.com/',
        None,
    ),
    ("C:\\Windows\\explorer.exe", _OFFICE + "OUTLOOK.EXE", f'"{_OFFICE}OUTLOOK.EXE" ', None),
    (
        "C:\\Windows\\explorer.exe",
        _OFFICE + "WINWORD.EXE",
        f'"{_OFFICE}WINWORD.EXE" /n "C:\\Users\\',
        '\\Documents\\Quarterly review.docx" /o ""',
    ),
    (
        "C:\\Windows\\explorer.exe",
        _OFFICE + "EXCEL.EXE",
        f'"{_OFFICE}EXCEL.EXE" "\\\\WIN-FS01\\Finance\\Budget 2026.xlsx"',
        None,
    ),
    (
        "C:\\Windows\\explorer.exe",
        _SYS32 + "notepad.exe",
        f'"{_SYS32}notepad.exe" C:\\Users\\',
        "\\Desktop\\notes.txt",
    ),
    (
        _SYS32 + "svchost.exe",
        _SYS32 + "RuntimeBroker.exe",
        f"{_SYS32}RuntimeBroker.exe -Embedding",
        None,
    ),
    (
        _SYS32 + "svchost.exe",
        _SYS32 + "taskhostw.exe",
        "taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}",
        None,
    ),
    (
        "C:\\Windows\\explorer.exe",
        "C:\\Program Files\\WindowsApps\\MSTeams_24004.1403.2634.2418_x64__8wekyb3d8bbwe"
        "\\ms-teams.exe",
        '"ms-teams.exe" --system-initiated',
        None,
    ),
    ("C:\\Windows\\explorer.exe", _SYS32 + "cmd.exe", f'"{_SYS32}cmd.exe" ', None),
    (_SYS32 + "cmd.exe", _SYS32 + "ipconfig.exe", "ipconfig  /all", None),
    (_SYS32 + "cmd.exe", _SYS32 + "PING.EXE", "ping  win-fs01.contoso.com", None),
    (
        _SYS32 + "cmd.exe",
        _SYS32 + "conhost.exe",
        "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
        None,
    ),
    (
        "C:\\Windows\\explorer.exe",
        _SYS32 + "SnippingTool.exe",
        f'"{_SYS32}SnippingTool.exe" ',
        None,
    ),
]
SYSTEM_PROCS = [
    (
        "C:\\Windows\\System32\\services.exe",
        _SYS32 + "svchost.exe",
        f"{_SYS32}svchost.exe -k netsvcs -p -s Schedule",
        None,
    ),
    (
        "C:\\Windows\\System32\\services.exe",
        _SYS32 + "svchost.exe",
        f"{_SYS32}svchost.exe -k LocalService -p -s BthAvctpSvc",
        None,
    ),
    (
        _SYS32 + "svchost.exe",
        "C:\\Program Files\\Windows Defender\\MpCmdRun.exe",
        '"C:\\Program Files\\Windows Defender\\MpCmdRun.exe" -SignatureUpdate -ScheduleJob',
        None,
    ),
    (
        _SYS32 + "svchost.exe",
        _SYS32 + "wbem\\WmiPrvSE.exe",
        f"{_SYS32}wbem\\wmiprvse.exe -secured -Embedding",
        None,
    ),
    (
        _SYS32 + "svchost.exe",
        _SYS32 + "wuauclt.exe",
        f'"{_SYS32}wuauclt.exe" /RunHandlerComServer',
        None,
    ),
    (
        "C:\\Windows\\System32\\services.exe",
        "C:\\Windows\\servicing\\TrustedInstaller.exe",
        "C:\\Windows\\servicing\\TrustedInstaller.exe",
        None,
    ),
    (
        _SYS32 + "svchost.exe",
        _SYS32 + "CompatTelRunner.exe",
        f"{_SYS32}CompatTelRunner.exe -m:appraiser.dll -f:DoScheduledTelemetryRun",
        None,
    ),
    (_SYS32 + "svchost.exe", _SYS32 + "gpupdate.exe", "gpupdate.exe /target:computer", None),
]
ADMIN_PROCS = [
    ("C:\\Windows\\explorer.exe", _SYS32 + "mmc.exe", f'"{_SYS32}mmc.exe" "{_SYS32}dsa.msc"', None),
    (
        "C:\\Windows\\explorer.exe",
        _SYS32 + "ServerManager.exe",
        f'"{_SYS32}ServerManager.exe" ',
        None,
    ),
    (
        "C:\\Windows\\explorer.exe",
        _PS,
        f'"{_PS}" -NoExit -Command "Get-ADUser -Filter * | Measure-Object"',
        None,
    ),
    ("C:\\Windows\\explorer.exe", _SYS32 + "cmd.exe", f'"{_SYS32}cmd.exe" ', None),
    (_SYS32 + "cmd.exe", _SYS32 + "repadmin.exe", "repadmin  /replsummary", None),
    (_SYS32 + "cmd.exe", _SYS32 + "dcdiag.exe", "dcdiag  /q", None),
    ("C:\\Windows\\explorer.exe", _SYS32 + "eventvwr.exe", f'"{_SYS32}eventvwr.exe" ', None),
]
BATCH_PROCS = [
    (
        _SYS32 + "svchost.exe",
        _PS,
        f'"{_PS}" -NoProfile -ExecutionPolicy Bypass -File D:\\Scripts\\Export-WeeklyReports.ps1',
        None,
    ),
]
_LABEL = {"user": "S-1-16-8192", "admin": "S-1-16-12288", "system": "S-1-16-16384"}


def _owners() -> list:
    return [u for u in USERS if u.workstation]


def _pick(rng: np.random.Generator, options: list, n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def _sessions(rng: np.random.Generator, n: int, window: Window) -> pd.DataFrame:
    """One row per logon session: kind, host, account, times, source address."""
    shares = np.array([k[0] for k in KINDS.values()])
    kind = rng.choice(len(KINDS), size=n, p=shares / shares.sum())
    start = np.empty(n, dtype="int64")
    for k, (_, _, profile, _) in enumerate(KINDS.values()):
        mask = kind == k
        start[mask] = sample_times(rng, int(mask.sum()), window, profile).asi8
    owners = _owners()
    admins = [u for u in owners if u.name in ADMINS]
    servers = ["WIN-DC01", "WIN-FS01"]
    win_hosts = [h.name for h in WINDOWS_HOSTS]

    user_idx = rng.integers(0, len(owners), n)
    user = np.array([owners[i].name for i in user_idx], dtype=object)
    user_sid = np.array([owners[i].sid for i in user_idx], dtype=object)
    own_ws = np.array([owners[i].workstation for i in user_idx], dtype=object)
    host = own_ws.copy()
    src_host = np.full(n, "-", dtype=object)

    names = np.array(KIND_NAMES, dtype=object)[kind]
    net = names == "network"
    host[net] = _pick(rng, servers, int(net.sum()))
    src_host[net] = own_ws[net]

    svc = names == "service"
    host[svc] = _pick(rng, win_hosts, int(svc.sum()))
    user[svc], user_sid[svc] = "SYSTEM", SYSTEM_SID

    batch = names == "batch"
    host[batch] = _pick(rng, servers, int(batch.sum()))
    user[batch], user_sid[batch] = BATCH_ACCOUNT, BATCH_SID

    rdp = names == "rdp_admin"
    a_idx = rng.integers(0, len(admins), int(rdp.sum()))
    user[rdp] = [admins[i].name for i in a_idx]
    user_sid[rdp] = [admins[i].sid for i in a_idx]
    src_host[rdp] = [admins[i].workstation for i in a_idx]
    host[rdp] = _pick(rng, servers, int(rdp.sum()))

    # Session lengths: hours at a desk, minutes for unlocks and RDP, seconds on the network.
    mean_s = np.select(
        [names == "interactive", names == "unlock", net, rdp],
        [3 * 3600.0, 40 * 60.0, 20.0, 25 * 60.0],
        default=90.0,
    )
    duration = rng.exponential(mean_s) + 1.0
    end = start + (duration * 1e9).astype("int64")
    logon_type = np.array([k[1] for k in KINDS.values()])[kind]
    cached = (names == "interactive") & (rng.random(n) < 0.1)
    logon_type[cached] = 11
    logon_id = rng.integers(0x1000000, 0xFFFFFFF, n)
    logon_id[svc] = 0x3E7
    return pd.DataFrame(
        {
            "kind": names,
            "host": host,
            "user": user,
            "user_sid": user_sid,
            "src_host": src_host,
            "start": start,
            "end": end,
            "logon_type": logon_type,
            "logon_id": hex_ids(logon_id),
        }
    )


def _domain_of(user: np.ndarray) -> np.ndarray:
    return np.where(user == "SYSTEM", "NT AUTHORITY", DOMAIN).astype(object)


def _ip_of(hosts: np.ndarray) -> np.ndarray:
    return np.array([HOSTS_BY_NAME[h].ip if h != "-" else "-" for h in hosts], dtype=object)


def _logon_fields(s: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray | str]:
    """EventData fields shared by 4624 and 4625 for the sessions in `s`."""
    n = len(s)
    kind = s["kind"].to_numpy()
    local = np.isin(kind, ["interactive", "unlock", "service", "batch"])
    net = kind == "network"
    rdp = kind == "rdp_admin"
    host = s["host"].to_numpy()
    proc = np.where(
        kind == "service", _SYS32 + "services.exe", np.where(net, "-", _SYS32 + "svchost.exe")
    ).astype(object)
    ip = np.where(local, "127.0.0.1", _ip_of(s["src_host"].to_numpy())).astype(object)
    ip[np.isin(kind, ["service", "batch"])] = "-"
    port = rng.integers(49152, 65535, n).astype(str).astype(object)
    port[local] = "0"
    port[np.isin(kind, ["service", "batch"])] = "-"
    return {
        "SubjectUserSid": np.where(net, "S-1-0-0", SYSTEM_SID).astype(object),
        "SubjectUserName": np.where(net, "-", host + "$").astype(object),
        "SubjectDomainName": np.where(net, "-", DOMAIN).astype(object),
        "SubjectLogonId": np.where(net, "0x0", "0x3e7").astype(object),
        "TargetUserName": s["user"].to_numpy(),
        "TargetDomainName": _domain_of(s["user"].to_numpy()),
        "LogonType": s["logon_type"].astype(str).to_numpy(),
        "LogonProcessName": np.where(
            net, "Kerberos", np.where(np.isin(kind, ["service", "batch"]), "Advapi  ", "User32 ")
        ).astype(object),
        "AuthenticationPackageName": np.where(net, "Kerberos", "Negotiate").astype(object),
        "WorkstationName": np.where(net, "-", np.where(rdp, s["src_host"], host)).astype(object),
        "LmPackageName": "-",
        "KeyLength": "0",
        "ProcessId": np.where(net, "0x0", np.where(kind == "service", "0x2a8", "0x3c4")).astype(
            object
        ),
        "ProcessName": proc,
        "IpAddress": ip,
        "IpPort": port,
    }


def _logons(s: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    fields = _logon_fields(s, rng)
    admin = np.isin(s["user"].to_numpy(), list(ADMINS) + ["SYSTEM"])
    fields.update(
        {
            "TargetUserSid": s["user_sid"].to_numpy(),
            "TargetLogonId": s["logon_id"].to_numpy(),
            "LogonGuid": np.char.add(np.char.add("{", uuids(rng, len(s)).astype(str)), "}"),
            "TransmittedServices": "-",
            "ImpersonationLevel": "%%1833",
            "RestrictedAdminMode": "-",
            "TargetOutboundUserName": "-",
            "TargetOutboundDomainName": "-",
            "VirtualAccount": "%%1843",
            "TargetLinkedLogonId": "0x0",
            "ElevatedToken": np.where(admin, "%%1842", "%%1843").astype(object),
        }
    )
    return security_frame(4624, pd.to_datetime(s["start"], utc=True), s["host"], fields)


def _typos(s: pd.DataFrame, rng: np.random.Generator, window: Window) -> pd.DataFrame:
    """Honest mistakes: a wrong password a few seconds before some desk logons."""
    fields = _logon_fields(s, rng)
    fields.update(
        {
            "TargetUserSid": "S-1-0-0",
            "Status": "0xc000006d",
            "FailureReason": "%%2313",
            "SubStatus": "0xc000006a",
            "TransmittedServices": "-",
        }
    )
    times = s["start"].to_numpy() - rng.integers(4, 40, len(s)) * 1_000_000_000
    frame = security_frame(4625, pd.to_datetime(times, utc=True), s["host"], fields)
    return frame[times >= window.start.value].reset_index(drop=True)


def _logoffs(s: pd.DataFrame, window: Window) -> pd.DataFrame:
    s = s[s["end"] < window.end.value]
    return security_frame(
        4634,
        pd.to_datetime(s["end"], utc=True),
        s["host"],
        {
            "TargetUserSid": s["user_sid"].to_numpy(),
            "TargetUserName": s["user"].to_numpy(),
            "TargetDomainName": _domain_of(s["user"].to_numpy()),
            "TargetLogonId": s["logon_id"].to_numpy(),
            "LogonType": s["logon_type"].astype(str).to_numpy(),
        },
    )


def _privileges(s: pd.DataFrame) -> pd.DataFrame:
    privs = (
        "SeAssignPrimaryTokenPrivilege\n\t\t\tSeTcbPrivilege\n\t\t\tSeSecurityPrivilege\n\t\t\t"
        "SeBackupPrivilege\n\t\t\tSeRestorePrivilege\n\t\t\tSeDebugPrivilege"
    )
    return security_frame(
        4672,
        pd.to_datetime(s["start"], utc=True),
        s["host"],
        {
            "SubjectUserSid": s["user_sid"].to_numpy(),
            "SubjectUserName": s["user"].to_numpy(),
            "SubjectDomainName": _domain_of(s["user"].to_numpy()),
            "SubjectLogonId": s["logon_id"].to_numpy(),
            "PrivilegeList": privs,
        },
    )


def _processes(s: pd.DataFrame, rng: np.random.Generator, window: Window) -> pd.DataFrame:
    """Processes started inside each session, at random moments of it."""
    kind = s["kind"].to_numpy()
    mean = np.array([KINDS[k][3] for k in kind])
    counts = rng.poisson(mean)
    idx = np.repeat(np.arange(len(s)), counts)
    n = len(idx)
    p = s.iloc[idx].reset_index(drop=True)
    pk = p["kind"].to_numpy()
    frac = rng.random(n)
    times = p["start"].to_numpy() + (frac * (p["end"] - p["start"]).to_numpy()).astype("int64")
    keep = times < window.end.value  # sessions still open at generation time
    p, times, n = p[keep].reset_index(drop=True), times[keep], int(keep.sum())
    pk = p["kind"].to_numpy()

    catalogue = {
        "interactive": USER_PROCS,
        "unlock": USER_PROCS,
        "service": SYSTEM_PROCS,
        "rdp_admin": ADMIN_PROCS,
        "batch": BATCH_PROCS,
    }
    parent = np.empty(n, dtype=object)
    image = np.empty(n, dtype=object)
    cmd = np.empty(n, dtype=object)
    users = p["user"].to_numpy()
    for k, procs in catalogue.items():
        mask = np.flatnonzero(pk == k)
        if not len(mask):
            continue
        choice = rng.integers(0, len(procs), len(mask))
        table = np.asarray(procs, dtype=object)
        parent[mask] = table[choice, 0]
        image[mask] = table[choice, 1]
        before = table[choice, 2]
        after = table[choice, 3]
        has_user = after != None  # noqa: E711 - element-wise on an object array
        line = before.copy()
        line[has_user] = before[has_user] + users[mask][has_user] + after[has_user]
        cmd[mask] = line
    label = np.where(
        pk == "service",
        _LABEL["system"],
        np.where(pk == "rdp_admin", _LABEL["admin"], _LABEL["user"]),
    ).astype(object)
    elevation = np.where(pk == "service", "%%1936", np.where(pk == "rdp_admin", "%%1937", "%%1938"))
    new_pid = rng.integers(0x100, 0x4000, n) * 4
    parent_pid = rng.integers(0x100, 0x4000, n) * 4
    return security_frame(
        4688,
        pd.to_datetime(times, utc=True),
        p["host"],
        {
            "SubjectUserSid": p["user_sid"].to_numpy(),
            "SubjectUserName": users,
            "SubjectDomainName": _domain_of(users),
            "SubjectLogonId": p["logon_id"].to_numpy(),
            "NewProcessId": hex_ids(new_pid),
            "NewProcessName": image,
            "TokenElevationType": elevation.astype(object),
            "ProcessId": hex_ids(parent_pid),
            "CommandLine": cmd,
            "TargetUserSid": "S-1-0-0",
            "TargetUserName": "-",
            "TargetDomainName": "-",
            "TargetLogonId": "0x0",
            "ParentProcessName": parent,
            "MandatoryLabel": label,
        },
    )


def security_chunks(seed: int, window: Window, scale: float = 1.0) -> Iterator[pd.DataFrame]:
    """Background SecurityEvent frames, one per event type per chunk of sessions.

    `scale` multiplies the number of sessions (and so the rows, about 4.3 per session).
    """
    total = max(1, int(round(SESSIONS_PER_SCALE * scale)))
    chunks = math.ceil(total / CHUNK_SESSIONS)
    for c in range(chunks):
        n = min(CHUNK_SESSIONS, total - c * CHUNK_SESSIONS)
        rng = stream(seed, "SecurityEvent", c)
        s = _sessions(rng, n, window)
        yield _logons(s, rng)
        desk = s[s["kind"].isin(["interactive", "unlock"])]
        yield _typos(desk[rng.random(len(desk)) < 0.03], rng, window)
        yield _logoffs(s, window)
        yield _privileges(s[s["kind"].isin(["service", "rdp_admin"])])
        yield _processes(s, rng, window)
