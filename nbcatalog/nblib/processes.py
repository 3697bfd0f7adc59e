"""Notable activity on a host: suspicious process command lines and rare Windows events.

`suspicious_reasons` is a small, readable rule list (encoded PowerShell, download
cradles, living-off-the-land binaries, markup in a command line, account and
persistence changes). Each rule says why it fired, so the analyst sees the reason
next to the command line, which is always shown as text.

Example:
    >>> suspicious_reasons('powershell -enc SQBFAFgA')
    ['encoded PowerShell']
    >>> suspicious_reasons('cmd /c echo <script>alert(1)</script>')
    ['HTML or script markup in a command line']
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.hosts import defender_only_note, device_rows
from nbcatalog.nblib.values import hex_id

RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.IGNORECASE))
    for reason, pattern in (
        ("encoded PowerShell", r"-e(nc(odedcommand)?)?\s+[A-Za-z0-9+/=]{8,}|frombase64string"),
        (
            "download cradle",
            r"downloadstring|downloadfile|invoke-webrequest|\biwr\b|\bwget\b|\bcurl\b.+https?:|"
            r"bitsadmin\s+/transfer|certutil.+-urlcache",
        ),
        ("script or LOLBin launcher", r"\bmshta(\.exe)?\b|regsvr32.+/i:|rundll32.+javascript:"),
        ("HTML or script markup in a command line", r"<\s*/?\s*(script|iframe|img|svg)\b"),
        ("account added or changed", r"\bnet1?(\.exe)?\s+(user|localgroup|group)\b.+/add"),
        ("scheduled task or service created", r"schtasks(\.exe)?\s+/create|\bsc(\.exe)?\s+create"),
        ("shadow copies deleted", r"vssadmin.+delete\s+shadows|wmic.+shadowcopy\s+delete"),
        ("credential dumping", r"mimikatz|sekurlsa|procdump.+lsass|comsvcs.+minidump"),
        ("remote process creation", r"wmic.+process\s+call\s+create|psexec"),
        ("hidden or bypassed PowerShell", r"-w(indowstyle)?\s+hidden|-exec(utionpolicy)?\s+bypass"),
        ("runs from a temporary folder", r"(^|[\s\"'=])(/tmp|/var/tmp|/dev/shm)/\S+"),
        ("reverse shell", r"/dev/tcp/|\bnc(at)?\b.*\s-e\s|\bbash\s+-i\b"),
        ("decodes base64 into a shell", r"base64\s+(-d|--decode).*\|\s*(ba)?sh\b"),
    )
)

PROCESS_COLUMNS = [
    "TimeGenerated",
    "Account",
    "NewProcessName",
    "CommandLine",
    "ParentProcessName",
    "Reasons",
]
# What notable_processes shows: the decoded -EncodedCommand text beside the command line,
# and the log each row came from.
SHOWN_COLUMNS = [*PROCESS_COLUMNS[:4], "DecodedCommand", *PROCESS_COLUMNS[4:], "Log"]

# Where a process row came from (the Log column): Windows Security 4688 or Defender.
LOG_4688 = "SecurityEvent 4688"
LOG_DEFENDER = "DeviceProcessEvents"
DEFENDER_PROCESS_QUERY = "M365D.list_host_processes"
# The columns of WindowsSecurity.list_host_processes (msticpy's 4688 projection), which
# Defender's process events are given so every process section reads both alike.
WIN_PROCESS_COLUMNS = [
    "TenantId",
    "Account",
    "EventID",
    "TimeGenerated",
    "Computer",
    "SubjectUserSid",
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectLogonId",
    "NewProcessId",
    "NewProcessName",
    "TokenElevationType",
    "ProcessId",
    "CommandLine",
    "ParentProcessName",
    "TargetLogonId",
    "SourceComputerId",
    "TimeCreatedUtc",
]


def _image_path(folders: pd.Series, names: pd.Series) -> pd.Series:
    """The full image path: FolderPath when it already ends with the file name, else joined.

    Defender writes the process's full path in FolderPath ("C:\\Windows\\cmd.exe");
    an export that projected only the folder, or only FileName, still gives a path.
    """
    out = []
    for folder, name in zip(folders.tolist(), names.tolist(), strict=True):
        folder = (
            "" if folder is None or (isinstance(folder, float) and pd.isna(folder)) else str(folder)
        )
        name = "" if name is None or (isinstance(name, float) and pd.isna(name)) else str(name)
        if not folder or not name or folder.casefold().endswith(name.casefold()):
            out.append(folder or name or None)
        else:
            out.append(folder.rstrip("\\/") + ("/" if "/" in folder else "\\") + name)
    return pd.Series(out, index=folders.index, dtype=object)


def defender_process_rows(events: pd.DataFrame) -> pd.DataFrame:
    """DeviceProcessEvents rows in the 4688 shape (WIN_PROCESS_COLUMNS) plus ``Log``.

    NewProcessName <- FolderPath, CommandLine <- ProcessCommandLine, ParentProcessName
    <- InitiatingProcessFolderPath (or its FileName), Account <- AccountDomain\\AccountName,
    NewProcessId / ProcessId <- ProcessId / InitiatingProcessId (as hex, the way 4688
    writes them, so process trees link), SubjectLogonId / TargetLogonId <-
    InitiatingProcessLogonId / LogonId, TimeGenerated <- TimeGenerated else Timestamp
    (Defender's own APIs have no TimeGenerated). Values are copied, never interpreted.

    Example:
        >>> rows = defender_process_rows(pd.DataFrame({
        ...     "Timestamp": ["2026-11-30T08:00:00Z"], "DeviceName": ["wkstn-7.contoso.com"],
        ...     "FileName": ["cmd.exe"], "FolderPath": ["C:\\\\Windows\\\\System32\\\\cmd.exe"],
        ...     "ProcessId": [4660], "ProcessCommandLine": ["cmd /c whoami"],
        ...     "AccountDomain": ["contoso"], "AccountName": ["bob"],
        ...     "InitiatingProcessFileName": ["explorer.exe"], "InitiatingProcessId": [812]}))
        >>> rows.loc[0, ["Account", "NewProcessId", "ProcessId", "ParentProcessName"]].tolist()
        ['contoso\\\\bob', '0x1234', '0x32c', 'explorer.exe']
        >>> rows.loc[0, "Log"]
        'DeviceProcessEvents'
    """
    if events is None or events.empty:
        return pd.DataFrame(columns=[*WIN_PROCESS_COLUMNS, "Log"])

    def col(name: str) -> pd.Series:
        return events[name] if name in events.columns else pd.Series(None, index=events.index)

    def text(name: str) -> pd.Series:
        return col(name).map(
            lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip()
        )

    times = col("TimeGenerated")
    if times.isna().all():
        times = col("Timestamp")
    times = pd.to_datetime(times, utc=True, errors="coerce")
    domain, name = text("AccountDomain"), text("AccountName")
    account = [f"{d}\\{n}" if d and n else n or None for d, n in zip(domain, name, strict=True)]
    rows = pd.DataFrame(
        {
            "TenantId": col("TenantId"),
            "Account": account,
            "EventID": pd.Series(pd.NA, index=events.index, dtype="Int64"),
            "TimeGenerated": times,
            "Computer": col("DeviceName"),
            "SubjectUserSid": col("AccountSid"),
            "SubjectUserName": col("AccountName"),
            "SubjectDomainName": col("AccountDomain"),
            "SubjectLogonId": col("InitiatingProcessLogonId").map(hex_id),
            "NewProcessId": col("ProcessId").map(hex_id),
            "NewProcessName": _image_path(col("FolderPath"), col("FileName")),
            "TokenElevationType": col("ProcessTokenElevation"),
            "ProcessId": col("InitiatingProcessId").map(hex_id),
            "CommandLine": col("ProcessCommandLine"),
            "ParentProcessName": _image_path(
                col("InitiatingProcessFolderPath"), col("InitiatingProcessFileName")
            ),
            "TargetLogonId": col("LogonId").map(hex_id),
            "SourceComputerId": col("DeviceId"),
            "TimeCreatedUtc": times,
            "Log": LOG_DEFENDER,
        }
    )
    return rows.reset_index(drop=True)


def device_processes(inv: Any, host: str, title: str = "Defender process events") -> Finding:
    """The DeviceProcessEvents rows of `host` in the 4688 shape (`defender_process_rows`).

    Asked through `M365D.list_host_processes` (msticpy's name: the embedded store and
    msticpy's Defender / Sentinel providers answer it) with the host's short name, then
    kept to the rows whose DeviceName is the host (WKSTN-042, wkstn-042.contoso.com).
    A source without the table or the query gives no rows and a "missing" note that
    callers keep to themselves: most estates have either 4688 or Defender, so its
    absence is no news; `.missing` tells a caller which tables its own note names.

    Example (in an nblib step):
        defender = device_processes(inv, "WKSTN-042").data   # Log == "DeviceProcessEvents"
    """
    finding = Finding(title, pd.DataFrame(columns=[*WIN_PROCESS_COLUMNS, "Log"]))
    rows = device_rows(inv, DEFENDER_PROCESS_QUERY, host, title)
    finding.notes += rows.notes
    if not rows.empty:
        finding.data = defender_process_rows(rows.data)
    return finding


def with_log(processes: pd.DataFrame, log: str) -> pd.DataFrame:
    """`processes` with a ``Log`` column naming where its rows came from (kept if present).

    Example:
        >>> with_log(pd.DataFrame({"CommandLine": ["x"]}), LOG_4688)["Log"].tolist()
        ['SecurityEvent 4688']
    """
    if processes is None or processes.empty or "Log" in processes.columns:
        return processes
    return processes.assign(Log=log)


def join_processes(*frames: pd.DataFrame) -> pd.DataFrame:
    """Process rows of several logs as one frame, ordered by time (empty frames skipped).

    Example:
        >>> a = pd.DataFrame({"TimeGenerated": [2], "Log": ["SecurityEvent 4688"]})
        >>> b = pd.DataFrame({"TimeGenerated": [1], "Log": ["DeviceProcessEvents"]})
        >>> join_processes(a, b)["Log"].tolist()
        ['DeviceProcessEvents', 'SecurityEvent 4688']
    """
    kept = [f for f in frames if f is not None and not f.empty]
    if not kept:
        return pd.DataFrame()
    if len(kept) == 1:
        return kept[0].reset_index(drop=True)
    data = pd.concat(kept, ignore_index=True)
    if "TimeGenerated" in data.columns:
        # One time type for the logs alike (a source may give naive UTC times).
        data["TimeGenerated"] = pd.to_datetime(data["TimeGenerated"], utc=True, errors="coerce")
        data = data.sort_values("TimeGenerated", kind="stable")
    return data.reset_index(drop=True)


def decoded_command(command_line: Any) -> str:
    """The text of a command line's PowerShell ``-EncodedCommand`` arguments ("" if none).

    Decoding only reads the base64 text: nothing is run.

    Example:
        >>> decoded_command("powershell -enc ZQBjAGgAbwAgAGgAaQA=")
        'echo hi'
    """
    if not isinstance(command_line, str) or not command_line:
        return ""
    from nbcatalog.enrich.iocs import decode_powershell

    return "\n".join(decode_powershell(command_line))


def suspicious_reasons(command_line: Any) -> list[str]:
    """The reasons (rule names) a command line looks suspicious; empty when none."""
    if not isinstance(command_line, str) or not command_line:
        return []
    return [reason for reason, rx in RULES if rx.search(command_line)]


def reasons_per_row(command_lines: pd.Series) -> pd.Series:
    """`suspicious_reasons` of each row, the rules run once per distinct command line.

    A busy host repeats the same few thousand commands, so the cost follows the
    distinct lines, not the rows.

    Example:
        >>> reasons_per_row(pd.Series(["ls", "bash -i", "ls"])).map(bool).tolist()
        [False, True, False]
    """
    codes, distinct = pd.factorize(command_lines, use_na_sentinel=False)
    per_line = [suspicious_reasons(line) for line in distinct]
    return pd.Series([per_line[c] for c in codes], index=command_lines.index, dtype=object)


# The tables notable_processes reads, as its note names them.
_READ_TABLES = "SecurityEvent, Syslog or DeviceProcessEvents"


def notable_processes(inv: Any, host: str | None, os_family: str | None = None) -> Finding:
    """Commands run on `host` whose command lines match a rule, with the reasons.

    Windows: process creations (event 4688, `WindowsSecurity.list_host_processes`);
    Linux: commands that sudo and shells logged to syslog (`LinuxSyslog.all_syslog`).
    An unknown OS family tries both. Any OS: Microsoft Defender for Endpoint's
    process events (`M365D.list_host_processes`) when the source has them. The Log
    column says which log each row came from.
    """
    title = "Processes with suspicious command lines"
    finding = Finding(title, columns=SHOWN_COLUMNS)
    if not host:
        finding.note("skipped", "no single host selected")
        return finding
    families = [os_family] if os_family in ("Windows", "Linux") else ["Windows", "Linux"]
    frames = []
    for family in families:
        if family == "Windows":
            result = inv.query("WindowsSecurity.list_host_processes", title=title, host_name=host)
            data = result.data if "CommandLine" in result.data.columns else pd.DataFrame()
            data = with_log(data, LOG_4688)
        else:
            result = inv.query("LinuxSyslog.all_syslog", title=title, host_name=host)
            data = with_log(linux_commands(result.data), "Syslog")
        if os_family is not None:  # for an unknown OS, a missing table is expected
            finding.notes += result.notes
        if not data.empty:
            frames.append(data)
    # Defender for Endpoint's process events (Windows, Linux and macOS alike), when the
    # source has them: an MDE estate often has no 4688 at all.
    defender = device_processes(inv, host, title)
    frames.append(defender.data)
    data = join_processes(*frames)
    if data.empty:
        tables = "SecurityEvent or Syslog" if defender.missing else _READ_TABLES
        if not finding.notes:
            finding.note(
                "info",
                defender_only_note(inv, host, tables)
                or f"no process creations or logged commands for {host} in {inv.period}",
            )
        finding.data = pd.DataFrame(columns=SHOWN_COLUMNS)
        return finding
    total = len(data)
    reasons = reasons_per_row(data["CommandLine"])
    data = data.assign(Reasons=reasons.map(", ".join))[reasons.map(bool)]
    data = data.assign(DecodedCommand=data["CommandLine"].map(decoded_command))
    if "TimeGenerated" in data.columns:
        data = data.sort_values("TimeGenerated")
    finding.data = data.reset_index(drop=True)
    if finding.empty:
        finding.note("info", f"none of {total} commands run on {host} matched a rule")
    else:
        finding.note("finding", f"{len(data)} of {total} commands run on {host} look suspicious")
    return finding


def encoded_powershell(processes: pd.DataFrame) -> pd.DataFrame:
    """The rows of `processes` (from `notable_processes`) whose encoded PowerShell decodes.

    Example:
        >>> rows = encoded_powershell(pd.DataFrame({"CommandLine": ["x", "y"],
        ...     "DecodedCommand": ["", "echo hi"]}))
        >>> rows["DecodedCommand"].tolist()
        ['echo hi']
    """
    if processes is None or processes.empty or "DecodedCommand" not in processes.columns:
        return pd.DataFrame(columns=SHOWN_COLUMNS)
    found = processes["DecodedCommand"].fillna("").astype(str) != ""
    return processes[found].reset_index(drop=True)


# sudo: "  deploy : TTY=pts/1 ; PWD=/home/deploy ; USER=root ; COMMAND=/bin/bash"
_SUDO = re.compile(r"^\s*(?P<user>[^\s:]+)\s*:.*?COMMAND=(?P<cmd>.*)$")
# a shell's audit line: "deploy: curl -fsSL http://..."
_SHELL = re.compile(r"^\s*(?P<user>[\w.@-]+):\s+(?P<cmd>.+)$")
_SHELLS = ("bash", "sh", "zsh", "dash")


def linux_commands(syslog: pd.DataFrame) -> pd.DataFrame:
    """Commands in syslog lines from sudo and shells, as process-like rows.

    Example:
        >>> rows = linux_commands(pd.DataFrame({"TimeGenerated": [1, 2],
        ...     "ProcessName": ["bash", "sshd"],
        ...     "SyslogMessage": ["deploy: curl -fsSL http://x/p", "Accepted password"]}))
        >>> rows[["Account", "CommandLine"]].values.tolist()
        [['deploy', 'curl -fsSL http://x/p']]
    """
    rows = []
    if syslog is None or syslog.empty or "SyslogMessage" not in syslog.columns:
        return pd.DataFrame(columns=PROCESS_COLUMNS)
    for rec in syslog.to_dict("records"):
        process = str(rec.get("ProcessName") or "")
        if process == "sudo":
            match = _SUDO.match(str(rec.get("SyslogMessage") or ""))
        elif process in _SHELLS:
            match = _SHELL.match(str(rec.get("SyslogMessage") or ""))
        else:
            continue
        if match:
            rows.append(
                {
                    "TimeGenerated": rec.get("TimeGenerated"),
                    "Account": match["user"],
                    "NewProcessName": process,
                    "CommandLine": match["cmd"].strip(),
                    "ParentProcessName": None,
                }
            )
    return pd.DataFrame(rows, columns=PROCESS_COLUMNS[:-1])


def notable_events(inv: Any, host: str | None, os_family: str | None = None) -> Finding:
    """Rare or security-relevant events on `host`.

    Windows: msticpy's `WindowsSecurity.notable_events` (rare event IDs, audit log
    cleared, registry changes); Linux: `LinuxSyslog.notable_events` (alert and crit
    syslog messages). An unknown OS family tries both.
    """
    title = "Notable events"
    if not host:
        finding = Finding(title)
        finding.note("skipped", "no single host selected")
        return finding
    families = [os_family] if os_family in ("Windows", "Linux") else ["Windows", "Linux"]
    finding = Finding(title, columns=NOTABLE_COLUMNS)
    frames = []
    for family in families:
        query = (
            "WindowsSecurity.notable_events"
            if family == "Windows"
            else "LinuxSyslog.notable_events"
        )
        result = inv.query(query, title=title, host_name=host)
        if os_family is not None:  # for an unknown OS, a missing table is expected
            finding.notes += result.notes
        if not result.empty:
            frames.append(_notable_rows(result.data, family))
    finding.data = (
        pd.concat(frames, ignore_index=True).sort_values("TimeGenerated").reset_index(drop=True)
        if frames
        else pd.DataFrame(columns=NOTABLE_COLUMNS)
    )
    if finding.empty and not finding.notes:
        finding.note(
            "info",
            defender_only_note(inv, host, "SecurityEvent, Syslog or Event")
            or f"no notable events for {host} in {inv.period}",
        )
    return finding


NOTABLE_COLUMNS = ["TimeGenerated", "Source", "Event", "Account", "Description"]


def _notable_rows(data: pd.DataFrame, family: str) -> pd.DataFrame:
    def col(name: str) -> pd.Series:
        return data[name] if name in data.columns else pd.Series(None, index=data.index)

    if family == "Windows":
        return pd.DataFrame(
            {
                "TimeGenerated": col("TimeGenerated"),
                "Source": "Windows Security",
                "Event": col("EventID").astype("string"),
                "Account": col("Account"),
                "Description": col("Activity"),
            }
        )
    return pd.DataFrame(
        {
            "TimeGenerated": col("TimeGenerated"),
            "Source": "Syslog " + col("SeverityLevel").fillna("").astype(str),
            "Event": col("ProcessName"),
            "Account": None,
            "Description": col("SyslogMessage"),
        }
    )
