"""One Windows event -> one row of SecurityEvent (Security channel) or Event (the others).

All three Windows readers (.evtx, winlogbeat, nxlog) produce a `WinEvent`; this
module alone decides the Sentinel columns, so the same event lands with the same
values whichever of them shipped it:

- EventData fields whose names are SecurityEvent columns (TargetUserName,
  IpAddress, LogonType, …) become those columns; every field also stays in the
  `EventData` XML column, as Sentinel keeps it, so nothing is lost. Fields can
  never overwrite the system columns (Computer, EventID, TimeGenerated, …).
- `EventData` lists the fields by name (param1, param2, … in number order):
  winlogbeat sorts them and nxlog pipelines shuffle them, so the order Windows
  wrote cannot be known for every source, and one order makes one text.
- `Channel` / `EventLog` use Windows' spelling of the well-known channels
  (`Security`, even when a shipper lower-cased it), so `Channel == "Security"`
  finds every Security event.
- SecurityEvent `Level` is Sentinel's: "8" for an audit success, "16" for an
  audit failure (the event's keywords), else the event's level number.

Example:
    >>> import pandas as pd
    >>> data = {"TargetUserName": "bob", "TargetDomainName": "CONTOSO", "LogonType": "10"}
    >>> ev = WinEvent(pd.Timestamp("2026-11-27T10:00:00Z"), "WKSTN-042", "Security",
    ...               "Microsoft-Windows-Security-Auditing", 4625, data=data)
    >>> table, row = to_row(ev)
    >>> table, row["Account"], row["LogonTypeName"]
    ('SecurityEvent', 'CONTOSO\\\\bob', '10 - RemoteInteractive')
"""

from __future__ import annotations

import ntpath
import re
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from nbcatalog.data.logontypes import logon_type_name
from nbcatalog.data.schema import TABLES

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
LEVEL_NAMES = {
    0: "Information",
    1: "Critical",
    2: "Error",
    3: "Warning",
    4: "Information",
    5: "Verbose",
}
# Activity text as Sentinel shows it, for the events templates look at most.
ACTIVITIES = {
    1102: "The audit log was cleared.",
    4624: "An account was successfully logged on.",
    4625: "An account failed to log on.",
    4634: "An account was logged off.",
    4647: "User initiated logoff.",
    4648: "A logon was attempted using explicit credentials.",
    4672: "Special privileges assigned to new logon.",
    4688: "A new process has been created.",
    4697: "A service was installed in the system.",
    4698: "A scheduled task was created.",
    4720: "A user account was created.",
    4722: "A user account was enabled.",
    4724: "An attempt was made to reset an account's password.",
    4726: "A user account was deleted.",
    4728: "A member was added to a security-enabled global group.",
    4732: "A member was added to a security-enabled local group.",
    4740: "A user account was locked out.",
    4756: "A member was added to a security-enabled universal group.",
    4768: "A Kerberos authentication ticket (TGT) was requested.",
    4769: "A Kerberos service ticket was requested.",
    4776: "The computer attempted to validate the credentials for an account.",
}
# Windows' spelling of channels shippers are known to re-case; others are kept as written.
KNOWN_CHANNELS = {
    name.lower(): name
    for name in (
        "Security",
        "System",
        "Application",
        "Setup",
        "ForwardedEvents",
        "Windows PowerShell",
        "Directory Service",
        "DNS Server",
        "Microsoft-Windows-Sysmon/Operational",
        "Microsoft-Windows-PowerShell/Operational",
        "Microsoft-Windows-TaskScheduler/Operational",
        "Microsoft-Windows-WMI-Activity/Operational",
        "Microsoft-Windows-Windows Defender/Operational",
        "Microsoft-Windows-Bits-Client/Operational",
        "Microsoft-Windows-DNS-Client/Operational",
        "Microsoft-Windows-NTLM/Operational",
        "Microsoft-Windows-SMBServer/Security",
        "Microsoft-Windows-WinRM/Operational",
        "Microsoft-Windows-CodeIntegrity/Operational",
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
        "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational",
        "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",
    )
}
# Keyword bits of an audit event's outcome, and the level Sentinel stores for each
# (Windows' legacy event types EVENTLOG_AUDIT_SUCCESS / _FAILURE).
AUDIT_SUCCESS = 0x0020000000000000
AUDIT_FAILURE = 0x0010000000000000
SENTINEL_AUDIT_LEVEL = {AUDIT_FAILURE: "16", AUDIT_SUCCESS: "8"}
# Columns that come from the event's System part; EventData may not set them.
_SYSTEM = {
    "TenantId",
    "TimeGenerated",
    "SourceSystem",
    "Account",
    "AccountType",
    "Computer",
    "EventSourceName",
    "Channel",
    "Task",
    "Level",
    "EventID",
    "Activity",
    "SourceComputerId",
    "EventOriginId",
    "EventData",
    "SubjectAccount",
    "TargetAccount",
    "LogonTypeName",
    "Process",
}
_DATA_COLUMNS = set(TABLES["SecurityEvent"].column_names) - _SYSTEM


@dataclass
class WinEvent:
    """The parts of a Windows event the store keeps, whatever wrote it."""

    time: pd.Timestamp
    computer: str | None
    channel: str | None
    provider: str | None
    event_id: int | None
    level: int | None = None
    task: int | None = None
    data: dict[str, str] = field(default_factory=dict)
    event_data_xml: str | None = None
    message: str | None = None
    keywords: int | None = None  # the System Keywords bit mask (audit success / failure)


def to_row(ev: WinEvent) -> tuple[str, dict[str, Any]]:
    """The table and the row (Sentinel column -> value) for one event."""
    if canonical_channel(ev.channel) == "Security":
        return "SecurityEvent", _security_row(ev)
    return "Event", _event_row(ev)


def canonical_channel(channel: str | None) -> str | None:
    """A channel name as Windows spells it, when it is a well-known one.

    >>> canonical_channel("security"), canonical_channel("Custom/Log")
    ('Security', 'Custom/Log')
    """
    if channel is None:
        return None
    name = str(channel).strip()
    return KNOWN_CHANNELS.get(name.lower(), name)


def event_data_xml(data: dict[str, str]) -> str:
    """EventData as Windows renders it, fields by name: `<EventData><Data Name="...">…`.

    >>> event_data_xml({"b": "2", "a": "<x>"}).split(">", 1)[1]
    '<Data Name="a">&lt;x&gt;</Data><Data Name="b">2</Data></EventData>'
    """
    items = "".join(
        f"<Data Name={quoteattr(str(k))}>{escape(str(data[k]))}</Data>"
        for k in _field_order(data)
        if data[k] is not None
    )
    return f'<EventData xmlns="{EVENT_NS}">{items}</EventData>'


def _field_order(data: dict[str, Any]) -> list[str]:
    """Field names by name, numbers within names by value (param2 before param10)."""
    return sorted(
        data, key=lambda k: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(k))]
    )


def _security_level(ev: WinEvent) -> str | None:
    if ev.keywords is not None:
        for bit, level in SENTINEL_AUDIT_LEVEL.items():
            if ev.keywords & bit:
                return level
    return None if ev.level is None else str(ev.level)


def _account(domain: str | None, user: str | None) -> str | None:
    if not user or user == "-":
        return None
    if domain and domain != "-":
        return f"{domain}\\{user}"
    return user


def _security_row(ev: WinEvent) -> dict[str, Any]:
    data = ev.data
    row: dict[str, Any] = {k: v for k, v in data.items() if k in _DATA_COLUMNS}
    subject = _account(data.get("SubjectDomainName"), data.get("SubjectUserName"))
    target = _account(data.get("TargetDomainName"), data.get("TargetUserName"))
    account = target or subject
    logon_type = _int(data.get("LogonType"))
    process = data.get("NewProcessName") or data.get("ProcessName")
    row.update(
        TimeGenerated=ev.time,
        Computer=ev.computer,
        Channel=canonical_channel(ev.channel),
        EventSourceName=ev.provider,
        EventID=ev.event_id,
        Task=ev.task,
        Level=_security_level(ev),
        Activity=_activity(ev.event_id),
        EventData=ev.event_data_xml or event_data_xml(data),
        SubjectAccount=subject,
        TargetAccount=target,
        Account=account,
        AccountType=None if account is None else ("Machine" if account.endswith("$") else "User"),
        LogonTypeName=logon_type_name(logon_type),
        Process=ntpath.basename(process) if process and process != "-" else None,
    )
    return row


def _event_row(ev: WinEvent) -> dict[str, Any]:
    params = "".join(
        f"<Param>{escape(str(ev.data[k]))}</Param>"
        for k in _field_order(ev.data)
        if ev.data[k] is not None
    )
    return {
        "TimeGenerated": ev.time,
        "Source": ev.provider,
        "EventLog": canonical_channel(ev.channel),
        "Computer": ev.computer,
        "EventLevel": ev.level,
        "EventLevelName": LEVEL_NAMES.get(_int(ev.level)),
        "EventID": ev.event_id,
        "EventCategory": ev.task,
        "ParameterXml": params or None,
        "EventData": ev.event_data_xml or (event_data_xml(ev.data) if ev.data else None),
        "RenderedDescription": ev.message,
        "UserName": ev.data.get("User"),
    }


def _activity(event_id: Any) -> str | None:
    number = _int(event_id)
    if number is None:
        return None
    text = ACTIVITIES.get(number)
    return f"{number} - {text}" if text else str(number)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
