"""Windows events as JSON lines, as winlogbeat (6.x to 8.x) or nxlog (im_msvistalog) write them.

Each line is read on its own and recognised by its keys, so a file mixing the
two shippers still imports. winlogbeat's ``@timestamp`` is UTC. nxlog's
``EventTime`` carries no zone in its default form; it is taken as UTC and the
report says so.

Example:
    >>> ev = winlogbeat_event({"@timestamp": "2026-11-27T10:00:00Z", "winlog": {
    ...     "channel": "Security", "event_id": 4624, "computer_name": "WKSTN-042",
    ...     "event_data": {"TargetUserName": "bob"}}})
    >>> ev.channel, ev.event_id, ev.data["TargetUserName"]
    ('Security', 4624, 'bob')
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from nbcatalog.data.importers.batch import Batch
from nbcatalog.data.importers.detect import is_windows_json
from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.textio import iter_json_lines
from nbcatalog.data.importers.winevents import WinEvent, to_row

WINLOGBEAT_LEVELS = {
    "critical": 1,
    "error": 2,
    "warning": 3,
    "information": 4,
    "info": 4,
    "verbose": 5,
}
NXLOG_LEVELS = {
    "CRITICAL": 1,
    "ERROR": 2,
    "WARNING": 3,
    "INFO": 4,
    "AUDIT_SUCCESS": 0,
    "AUDIT_FAILURE": 0,
    "VERBOSE": 5,
    "DEBUG": 5,
}
# Keys nxlog adds itself; every other key of an nxlog event is an EventData field.
NXLOG_KEYS = {
    "EventTime",
    "EventReceivedTime",
    "Hostname",
    "Keywords",
    "EventType",
    "SeverityValue",
    "Severity",
    "EventID",
    "SourceName",
    "ProviderGuid",
    "Version",
    "Task",
    "OpcodeValue",
    "RecordNumber",
    "ActivityID",
    "RelatedActivityID",
    "ProcessID",
    "ThreadID",
    "Channel",
    "Message",
    "Category",
    "Opcode",
    "SourceModuleName",
    "SourceModuleType",
    "Domain",
    "AccountName",
    "UserID",
    "AccountType",
    "Qualifiers",
    "ERROR_EVT_UNRESOLVED",
    "EventData",
}
_HAS_ZONE = re.compile(r"(Z|[+-]\d\d:?\d\d)$")


def read_windows_json(path: Path, report: FileReport, table: str | None = None) -> list[Batch]:
    """Read winlogbeat / nxlog JSON lines into SecurityEvent / Event batches."""
    rows: dict[str, tuple[list[dict], list[int | None]]] = {}
    for number, obj in iter_json_lines(path, report):
        if not isinstance(obj, dict) or not is_windows_json(obj):
            report.reject(number, "not a winlogbeat or nxlog Windows event")
            continue
        event = winlogbeat_event(obj) if "EventID" not in obj else nxlog_event(obj, report)
        if event.time is None:
            report.reject(number, "event has no time (@timestamp / EventTime)")
            continue
        name, row = to_row(event)
        rows.setdefault(name, ([], []))
        rows[name][0].append(row)
        rows[name][1].append(number)
    return [Batch.from_records(name, recs, lines) for name, (recs, lines) in rows.items()]


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _strings(data: dict) -> dict[str, str]:
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}


def winlogbeat_event(obj: dict) -> WinEvent:
    """A winlogbeat event (7.x/8.x `winlog.*`, or 6.x top-level fields) as a WinEvent."""
    w = _dict(obj.get("winlog"))
    event = _dict(obj.get("event"))
    log = _dict(obj.get("log"))
    host = _dict(obj.get("host"))
    level_text = str(log.get("level") or obj.get("level") or "").strip().lower()
    data = {
        **_dict(w.get("event_data") or obj.get("event_data")),
        **_dict(w.get("user_data") or obj.get("user_data")),
    }
    task = w.get("task", obj.get("task"))
    return WinEvent(
        time=obj.get("@timestamp"),
        computer=w.get("computer_name") or obj.get("computer_name") or host.get("name"),
        channel=w.get("channel") or obj.get("log_name"),
        provider=w.get("provider_name") or obj.get("source_name"),
        event_id=w.get("event_id") or obj.get("event_id") or event.get("code"),
        level=WINLOGBEAT_LEVELS.get(level_text),
        task=task if isinstance(task, int) else None,  # winlogbeat writes the task *name*
        data=_strings(data),
        message=obj.get("message") if isinstance(obj.get("message"), str) else None,
    )


def nxlog_event(obj: dict, report: FileReport) -> WinEvent:
    """An nxlog im_msvistalog event as a WinEvent (EventData fields are top-level keys)."""
    when = obj.get("EventTime")
    if isinstance(when, str) and not _HAS_ZONE.search(when.strip()):
        report.warn("nxlog EventTime has no time zone; taken as UTC")
    data = {k: v for k, v in obj.items() if k not in NXLOG_KEYS}
    task = obj.get("Task")
    return WinEvent(
        time=when,
        computer=obj.get("Hostname"),
        channel=obj.get("Channel"),
        provider=obj.get("SourceName"),
        event_id=obj.get("EventID"),
        level=NXLOG_LEVELS.get(str(obj.get("EventType") or obj.get("Severity") or "").upper()),
        task=task if isinstance(task, int) else None,
        data=_strings(data),
        message=obj.get("Message") if isinstance(obj.get("Message"), str) else None,
    )
