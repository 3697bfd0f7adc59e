"""One Windows event -> one row of SecurityEvent (Security channel) or Event (the others).

All three Windows readers (.evtx, winlogbeat, nxlog) produce a `WinEvent`; this
module alone decides the Sentinel columns, so the three agree. EventData fields
whose names are SecurityEvent columns (TargetUserName, IpAddress, LogonType, …)
become those columns; every field also stays in the `EventData` XML column, as
Sentinel keeps it, so nothing is lost. Fields can never overwrite the system
columns (Computer, EventID, TimeGenerated, …): their names come from the data.

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


def to_row(ev: WinEvent) -> tuple[str, dict[str, Any]]:
    """The table and the row (Sentinel column -> value) for one event."""
    if (ev.channel or "").strip().lower() == "security":
        return "SecurityEvent", _security_row(ev)
    return "Event", _event_row(ev)


def event_data_xml(data: dict[str, str]) -> str:
    """EventData as Windows renders it: `<EventData><Data Name="...">value</Data>…`."""
    items = "".join(
        f"<Data Name={quoteattr(str(k))}>{escape(str(v))}</Data>"
        for k, v in data.items()
        if v is not None
    )
    return f'<EventData xmlns="{EVENT_NS}">{items}</EventData>'


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
        Channel=ev.channel,
        EventSourceName=ev.provider,
        EventID=ev.event_id,
        Task=ev.task,
        Level=None if ev.level is None else str(ev.level),
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
    params = "".join(f"<Param>{escape(str(v))}</Param>" for v in ev.data.values() if v is not None)
    return {
        "TimeGenerated": ev.time,
        "Source": ev.provider,
        "EventLog": ev.channel,
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
