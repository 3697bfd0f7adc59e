"""Windows events as JSON lines, as winlogbeat (6.x to 8.x) or nxlog (im_msvistalog) write them.

Each line is read on its own and recognised by its keys, so a file mixing the
two shippers still imports. Every event is stored at its UTC time:

- winlogbeat's ``@timestamp`` is the event's time in UTC (``event.created`` and
  ``event.ingested`` are when Beats and Elasticsearch saw it, not event times).
- nxlog's ``EventTime`` (and ``EventReceivedTime``) are the collector's local
  time, usually without a zone. In order: a zone written in ``EventTime`` wins;
  else the collector's UTC offset found in the record itself, from
  ``EventReceivedTime`` (local) against the ``@timestamp`` a pipeline such as
  Logstash adds on receipt (UTC), rounded to the quarter hour, or from a zone in
  ``EventReceivedTime``; else the event's own UTC field (Sysmon's ``UtcTime``);
  else ``EventTime`` is taken as UTC and the report says so loudly. The report
  says which rule placed how many events, and the offsets found.

The computer is the event's host (nxlog ``Hostname``, winlogbeat
``winlog.computer_name``), never the collector a pipeline names in ``host``.
Keys that shippers and pipelines add (``@version``, ``tags``, ``port``, …) are
not EventData.

Example:
    >>> ev = winlogbeat_event({"@timestamp": "2026-11-27T10:00:00Z", "winlog": {
    ...     "channel": "Security", "event_id": 4624, "computer_name": "WKSTN-042",
    ...     "event_data": {"TargetUserName": "bob"}}})
    >>> ev.channel, ev.event_id, ev.data["TargetUserName"]
    ('Security', 4624, 'bob')
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nbcatalog.data.importers.batch import Batch
from nbcatalog.data.importers.detect import is_windows_json
from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.textio import iter_json_lines
from nbcatalog.data.importers.winevents import AUDIT_FAILURE, AUDIT_SUCCESS, WinEvent, to_row

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
    "ExecutionProcessID",
    "ExecutionThreadID",
    "TaskValue",
    "EventTypeOrignal",  # sic: where the research datasets' Logstash pipeline moves EventType
    "EventTypeOriginal",
}
# Keys a Logstash input between nxlog and the file adds (besides @timestamp, @version):
# the collector's address and port, the source file, tags. Not EventData.
PIPELINE_KEYS = {"host", "port", "tags", "type", "path"}
AUDIT_KEYWORDS = {"audit success": AUDIT_SUCCESS, "audit failure": AUDIT_FAILURE}
NXLOG_AUDIT = {"AUDIT_SUCCESS": AUDIT_SUCCESS, "AUDIT_FAILURE": AUDIT_FAILURE}
# winlogbeat writes an event's task by name; the Security auditing subcategories by number,
# as .evtx, nxlog and Sentinel store them.
SECURITY_TASKS = {
    "security state change": 12288,
    "security system extension": 12289,
    "system integrity": 12290,
    "logon": 12544,
    "logoff": 12545,
    "account lockout": 12546,
    "special logon": 12548,
    "other logon/logoff events": 12551,
    "file system": 12800,
    "registry": 12801,
    "other object access events": 12804,
    "file share": 12808,
    "filtering platform packet drop": 12809,
    "filtering platform connection": 12810,
    "detailed file share": 12811,
    "sensitive privilege use": 13056,
    "process creation": 13312,
    "process termination": 13313,
    "audit policy change": 13568,
    "user account management": 13824,
    "computer account management": 13825,
    "security group management": 13826,
    "credential validation": 14336,
    "kerberos service ticket operations": 14337,
    "kerberos authentication service": 14339,
    "directory service access": 14080,
    "directory service changes": 14081,
}
SECURITY_PROVIDER = "Microsoft-Windows-Security-Auditing"
SYSMON_PROVIDER = "Microsoft-Windows-Sysmon"
# Sysmon and some other providers write the event's UTC time among its data.
UTC_FIELDS = ("UtcTime",)
MAX_OFFSET = pd.Timedelta(hours=14)  # the widest UTC offset in use (UTC+14)
QUARTER_HOUR = "15min"  # every UTC offset in use is a whole number of quarter hours

# How an nxlog event's UTC time was found: rule -> what the report says.
RULES = {
    "zone": "EventTime carries its own zone",
    "record-offset": (
        "EventTime is the collector's local time; converted with the collector's UTC "
        "offset {offset} found in the record ({source})"
    ),
    "utc-field": (
        "EventTime has no time zone and the record does not give the collector's offset; "
        "the event's own UTC time (UtcTime) used"
    ),
    "assumed-utc": (
        "EventTime has no time zone and nothing in the record tells it (no EventReceivedTime "
        "with @timestamp, no UtcTime): TAKEN AS UTC, so these times may be hours off"
    ),
}


@dataclass(frozen=True)
class EventClock:
    """An nxlog event's UTC time, and which rule found it (a key of RULES)."""

    time: pd.Timestamp | None
    rule: str
    offset: pd.Timedelta | None = None  # collector's local time minus UTC
    source: str = ""  # what the offset came from


def read_windows_json(path: Path, report: FileReport, table: str | None = None) -> list[Batch]:
    """Read winlogbeat / nxlog JSON lines into SecurityEvent / Event batches."""
    rows: dict[str, tuple[list[dict], list[int | None]]] = {}
    clocks: Counter[tuple[str, pd.Timedelta | None, str]] = Counter()
    for number, obj in iter_json_lines(path, report):
        if not isinstance(obj, dict) or not is_windows_json(obj):
            report.reject(number, "not a winlogbeat or nxlog Windows event")
            continue
        if "EventID" in obj:
            clock = nxlog_clock(obj)
            event = nxlog_event(obj, clock.time)
            if clock.time is not None:
                clocks[clock.rule, clock.offset, clock.source] += 1
        else:
            event = winlogbeat_event(obj)
        if event.time is None:
            report.reject(number, "event has no readable time (@timestamp / EventTime)")
            continue
        name, row = to_row(event)
        rows.setdefault(name, ([], []))
        rows[name][0].append(row)
        rows[name][1].append(number)
    _report_clocks(clocks, report)
    return [Batch.from_records(name, recs, lines) for name, (recs, lines) in rows.items()]


def _report_clocks(clocks: Counter, report: FileReport) -> None:
    """One line per (rule, offset): how many nxlog events it placed in UTC."""
    for (rule, offset, source), count in sorted(clocks.items(), key=lambda c: -c[1]):
        text = RULES[rule].format(offset=_utc_offset(offset), source=source)
        # Only a guess is a warning; a time converted by a rule is a note on how it was read.
        tell = report.warn if rule == "assumed-utc" else report.note
        tell(f"time: {count} nxlog event(s): {text}")


def _utc_offset(offset: pd.Timedelta | None) -> str:
    """'UTC-04:00' for a collector four hours behind UTC."""
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


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
    provider = w.get("provider_name") or obj.get("source_name")
    event_id = w.get("event_id") or obj.get("event_id") or event.get("code")
    return WinEvent(
        time=obj.get("@timestamp"),  # UTC; event.created / event.ingested are not event times
        computer=w.get("computer_name") or obj.get("computer_name") or host.get("name"),
        channel=w.get("channel") or obj.get("log_name"),
        provider=provider,
        event_id=event_id,
        level=WINLOGBEAT_LEVELS.get(level_text),
        task=_winlogbeat_task(w.get("task", obj.get("task")), provider, event_id),
        data=_strings(data),
        message=obj.get("message") if isinstance(obj.get("message"), str) else None,
        keywords=_winlogbeat_keywords(w.get("keywords", obj.get("keywords")), event),
    )


def _winlogbeat_task(task: Any, provider: Any, event_id: Any) -> int | None:
    """The task number for winlogbeat's task name, where the provider's numbering is known."""
    if isinstance(task, int) and not isinstance(task, bool):
        return task
    if provider == SECURITY_PROVIDER:
        return SECURITY_TASKS.get(str(task or "").strip().lower())
    if provider == SYSMON_PROVIDER:  # Sysmon numbers each task as its event
        try:
            return int(str(event_id))
        except ValueError:
            return None
    return None


def _winlogbeat_keywords(names: Any, event: dict) -> int | None:
    """The audit bits of winlogbeat's keyword names (["Audit Failure"]), else of event.outcome."""
    if isinstance(names, list):
        bits = [AUDIT_KEYWORDS.get(str(n).strip().lower(), 0) for n in names]
        if any(bits):
            return sum(set(bits))
    outcome = str(event.get("outcome") or "").lower()  # set from the keywords by winlogbeat
    return {"success": AUDIT_SUCCESS, "failure": AUDIT_FAILURE}.get(outcome)


def nxlog_event(obj: dict, time: pd.Timestamp | None) -> WinEvent:
    """An nxlog im_msvistalog event as a WinEvent at `time` (UTC, see `nxlog_clock`).

    EventData fields are the top-level keys nxlog does not add itself.
    """
    data = {
        k: v
        for k, v in obj.items()
        if k not in NXLOG_KEYS and k not in PIPELINE_KEYS and not k.startswith("@")
    }
    task = obj.get("Task")
    return WinEvent(
        time=time,
        computer=obj.get("Hostname"),
        channel=obj.get("Channel"),
        provider=obj.get("SourceName"),
        event_id=obj.get("EventID"),
        level=_nxlog_level(obj),
        task=task if isinstance(task, int) else None,
        data=_strings(data),
        message=obj.get("Message") if isinstance(obj.get("Message"), str) else None,
        keywords=_nxlog_keywords(obj),
    )


def _nxlog_level(obj: dict) -> int | None:
    # A pipeline may have moved nxlog's EventType away; Severity says the same.
    for key in ("EventType", "EventTypeOrignal", "EventTypeOriginal", "Severity"):
        level = NXLOG_LEVELS.get(str(obj.get(key) or "").strip().upper())
        if level is not None:
            return level
    return None


def _nxlog_keywords(obj: dict) -> int | None:
    keywords = obj.get("Keywords")
    if isinstance(keywords, int) and not isinstance(keywords, bool):
        return keywords  # nxlog writes the 64-bit mask signed; the audit bits read the same
    if isinstance(keywords, str):
        try:
            return int(keywords, 0)
        except ValueError:
            pass
    return NXLOG_AUDIT.get(str(obj.get("EventType") or "").strip().upper())


def nxlog_clock(obj: dict) -> EventClock:
    """The UTC time of an nxlog event, by the first rule that applies (see the module doc).

    Example:
        >>> c = nxlog_clock({"EventTime": "2020-09-22 14:53:01",
        ...                  "EventReceivedTime": "2020-09-22 14:53:04",
        ...                  "@timestamp": "2020-09-22T18:53:04.182Z"})
        >>> str(c.time), c.rule, str(c.offset)
        ('2020-09-22 18:53:01+00:00', 'record-offset', '-1 days +20:00:00')
    """
    local = _time(obj.get("EventTime"))
    if local is None:
        return EventClock(None, "assumed-utc")
    if local.tzinfo is not None:
        return EventClock(local.tz_convert("UTC"), "zone")
    found = _collector_offset(obj)
    if found is not None:
        offset, source = found
        return EventClock((local - offset).tz_localize("UTC"), "record-offset", offset, source)
    for key in UTC_FIELDS:
        utc = _time(obj.get(key))
        if utc is not None:
            return EventClock(utc.tz_localize("UTC") if utc.tzinfo is None else utc, "utc-field")
    return EventClock(local.tz_localize("UTC"), "assumed-utc")


def _collector_offset(obj: dict) -> tuple[pd.Timedelta, str] | None:
    """The collector's UTC offset (local minus UTC) and where it came from, if the record says."""
    received = _time(obj.get("EventReceivedTime"))
    if received is None:
        return None
    if received.tzinfo is not None:
        offset = received.utcoffset()
        return pd.Timedelta(offset), "the zone of EventReceivedTime"
    stamped = _time(obj.get("@timestamp"))
    if stamped is None or stamped.tzinfo is None:
        return None
    # The pipeline stamps @timestamp a moment after nxlog's EventReceivedTime: the
    # difference is the offset plus that delay, which rounding to the quarter hour drops.
    offset = (received - stamped.tz_convert("UTC").tz_localize(None)).round(QUARTER_HOUR)
    if abs(offset) > MAX_OFFSET:
        return None
    return offset, "EventReceivedTime against the pipeline's UTC @timestamp"


def _time(value: Any) -> pd.Timestamp | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        stamp = pd.Timestamp(value.strip())
    except (ValueError, TypeError, OverflowError):
        return None
    return None if pd.isna(stamp) else stamp
