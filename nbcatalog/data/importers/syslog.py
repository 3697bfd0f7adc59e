"""Linux syslog and auth.log text: RFC 3164, RFC 5424 and rsyslog's RFC 3339 file lines.

An RFC 3164 timestamp has no year and no zone. The year is inferred from the
file's modification time: a line dated after that moment (plus a day of slack)
belongs to the year before, which also handles a file spanning New Year. Times
are taken as UTC; the report says so. Without a ``<PRI>`` (the usual on-disk
form) the facility comes from the file name (``auth.log``/``secure`` -> auth,
``kern.log`` -> kern, …) and the report says that too.

Example:
    >>> parse_line("Nov 27 10:00:01 web01 sshd[42]: Accepted password for bob", 2026)["ProcessName"]
    'sshd'
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from nbcatalog.data.importers.batch import Batch
from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.textio import iter_lines

FACILITIES = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "audit",
    "alert",
    "clock",
] + [f"local{i}" for i in range(8)]
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
FILE_FACILITY = {
    "auth": "auth",
    "secure": "auth",
    "kern": "kern",
    "mail": "mail",
    "maillog": "mail",
    "cron": "cron",
    "daemon": "daemon",
    "user": "user",
}
MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        start=1,
    )
}

_PRI = r"(?:<(?P<pri>\d{1,3})>)?"
RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>(?P<version>\d{1,2}) (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) "
    r"(?P<pid>\S+) (?P<msgid>\S+) (?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?P<msg>.*))?$"
)
RFC3164 = re.compile(
    _PRI + r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d) "
    r"(?P<host>\S+) (?P<rest>.*)$"
)
RFC3339_FILE = re.compile(
    _PRI + r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)?) "
    r"(?P<host>\S+) (?P<rest>.*)$"
)
TAG = re.compile(r"^(?P<tag>[^\s:\[\]]{1,64})(?:\[(?P<pid>\d{1,10})\])?: ?(?P<msg>.*)$", re.S)


def read_syslog(path: Path, report: FileReport, table: str | None = None) -> list[Batch]:
    """Read a syslog / auth.log file into a Syslog batch."""
    reference = datetime.fromtimestamp(os.stat(path).st_mtime, tz=timezone.utc)
    file_facility = _facility_from_name(path)
    records: list[dict[str, Any]] = []
    lines: list[int | None] = []
    saw_3164 = saw_no_pri = False
    for number, text in iter_lines(path, report):
        if not text.strip():
            continue
        try:
            row = parse_line(text, reference.year, reference)
        except ValueError as exc:
            report.reject(number, str(exc))
            continue
        no_year = row.pop("_no_year")
        saw_3164 = saw_3164 or no_year
        if row["Facility"] is None:
            saw_no_pri = True
            row["Facility"] = file_facility
        records.append(row)
        lines.append(number)
    if saw_3164:
        report.warn(
            f"RFC 3164 timestamps carry no year or zone: year inferred from the file's "
            f"modification time ({reference:%Y-%m-%d}), times taken as UTC"
        )
    if saw_no_pri:
        report.warn(
            f"lines without <PRI>: Facility set to {file_facility!r} from the file name"
            if file_facility
            else "lines without <PRI>: Facility left empty (not known from the file name)"
        )
    return [Batch.from_records("Syslog", records, lines)] if records else []


def parse_line(text: str, year: int, reference: datetime | None = None) -> dict[str, Any]:
    """One syslog line as a Syslog row; ValueError says why a line is not syslog."""
    match = RFC5424.match(text)
    if match:
        ts = match["ts"]
        app, pid = match["app"], match["pid"]
        msg = (match["msg"] or "").lstrip("\ufeff")
        row = _row(match["pri"], None if ts == "-" else ts, match["host"], msg)
        row["ProcessName"] = None if app == "-" else app
        row["ProcessID"] = None if pid == "-" else pid
        return row
    match = RFC3339_FILE.match(text)
    if match:
        return _with_tag(_row(match["pri"], match["ts"], match["host"], ""), match["rest"])
    match = RFC3164.match(text)
    if match:
        stamp = _rfc3164_time(match["mon"], int(match["day"]), match["time"], year, reference)
        row = _with_tag(_row(match["pri"], stamp, match["host"], ""), match["rest"])
        row["_no_year"] = True
        return row
    raise ValueError("not a syslog line (expected RFC 3164, RFC 5424 or RFC 3339-stamped syslog)")


def _row(pri: str | None, when: Any, host: str, message: str) -> dict[str, Any]:
    facility = severity = None
    if pri is not None:
        value = int(pri)
        if value > 191:
            raise ValueError(f"syslog priority <{value}> is out of range (0-191)")
        facility, severity = FACILITIES[value >> 3], SEVERITIES[value & 7]
    host = None if host == "-" else host
    return {
        "TimeGenerated": when,
        "EventTime": when,
        "Computer": host,
        "HostName": host,
        "Facility": facility,
        "SeverityLevel": severity,
        "SyslogMessage": message,
        "ProcessName": None,
        "ProcessID": None,
        "_no_year": False,
    }


def _with_tag(row: dict[str, Any], rest: str) -> dict[str, Any]:
    match = TAG.match(rest)
    if match:
        row.update(ProcessName=match["tag"], ProcessID=match["pid"], SyslogMessage=match["msg"])
    else:
        row["SyslogMessage"] = rest
    return row


def _rfc3164_time(
    mon: str, day: int, clock: str, year: int, reference: datetime | None
) -> datetime:
    if mon not in MONTHS:
        raise ValueError(f"unknown month {mon!r}")
    hour, minute, second = (int(x) for x in clock.split(":"))
    for candidate in (year, year - 1):
        try:
            stamp = datetime(candidate, MONTHS[mon], day, hour, minute, second, tzinfo=timezone.utc)
        except ValueError:
            continue  # 29 Feb in a non-leap year: try the year before
        if reference is None or stamp <= reference + timedelta(days=1) or candidate != year:
            return stamp
    raise ValueError(f"invalid date {mon} {day} {clock}")


def _facility_from_name(path: Path) -> str | None:
    stem = path.name.lower().split(".")[0]
    return FILE_FACILITY.get(stem)
