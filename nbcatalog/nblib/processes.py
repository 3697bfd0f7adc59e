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


def suspicious_reasons(command_line: Any) -> list[str]:
    """The reasons (rule names) a command line looks suspicious; empty when none."""
    if not isinstance(command_line, str) or not command_line:
        return []
    return [reason for reason, rx in RULES if rx.search(command_line)]


def notable_processes(inv: Any, host: str | None) -> Finding:
    """Process creations on `host` whose command lines match a rule, with the reasons."""
    title = "Processes with suspicious command lines"
    if not host:
        finding = Finding(title)
        finding.note("skipped", "no single host selected")
        return finding
    finding = inv.query("WindowsSecurity.list_host_processes", title=title, host_name=host)
    finding.columns = PROCESS_COLUMNS
    data = finding.data
    if data.empty or "CommandLine" not in data.columns:
        if not finding.notes:
            finding.note("info", f"no process creation events for {host} in {inv.period}")
        finding.data = pd.DataFrame(columns=PROCESS_COLUMNS)
        return finding
    total = len(data)
    reasons = data["CommandLine"].map(suspicious_reasons)
    data = data.assign(Reasons=reasons.map(", ".join))[reasons.map(bool)]
    if "TimeGenerated" in data.columns:
        data = data.sort_values("TimeGenerated")
    finding.data = data.reset_index(drop=True)
    if finding.empty:
        finding.note("info", f"none of {total} process creations on {host} matched a rule")
    else:
        finding.note(
            "finding", f"{len(data)} of {total} process creations on {host} look suspicious"
        )
    return finding


def notable_events(inv: Any, host: str | None) -> Finding:
    """Rare or security-relevant Windows events on `host` (msticpy's `notable_events`)."""
    title = "Notable Windows events"
    if not host:
        finding = Finding(title)
        finding.note("skipped", "no single host selected")
        return finding
    finding = inv.query("WindowsSecurity.notable_events", title=title, host_name=host)
    finding.columns = ["TimeGenerated", "EventID", "Activity", "Account", "Computer"]
    if finding.empty and not finding.notes:
        finding.note("info", f"no notable Windows events for {host} in {inv.period}")
    return finding
