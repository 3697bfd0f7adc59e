"""Linux syslog text into the Syslog table: auth.log, secure, messages, journalctl exports.

One line is one row (the line grammar is in `syslog_line`). What a line does not
say is settled here, and the file's import report says how:

- Year: RFC 3164 lines carry none. It is the year of the file's modification time,
  and a line dated after that moment (plus a day of slack) belongs to the year
  before, which also handles a file spanning New Year. The report names the year,
  the modification time and how many lines went to the year before.
- Zone: times with a zone are converted to UTC; times without one (RFC 3164,
  journalctl ``short-precise``) are taken as UTC, and the report says so.
- Facility: a ``<PRI>`` always wins; without one (the usual on-disk form) it comes
  from the program (`syslog_facility`), then from the file's name; the report lists
  the programs and the facility each was given, and the programs left without one.
- sysklogd's untagged ``last message repeated N times`` keeps its text as the
  message, no ProcessName, and the facility and severity of the line before it
  (syslogd wrote it to the same file for the same reason).
- A line starting with a blank right after an accepted line is the continuation
  of a multi-line message (journalctl indents them so): it is appended to that
  message after a newline. Anywhere else it is rejected with the reason.
- journalctl's marker lines (``-- Reboot --``, ``-- Logs begin at ... --``) are
  not entries: they are skipped and counted in a warning.

Example:
    >>> from nbcatalog.data.importers.report import FileReport
    >>> p = Path("/tmp/nbcatalog-syslog-example.txt")
    >>> _ = p.write_text("Dec  1 10:00:01 web01 sshd[42]: Accepted password for bob\\n")
    >>> rows = read_syslog(p, FileReport(str(p), "syslog"))[0].frame
    >>> rows[["Facility", "ProcessName", "ProcessID"]].values.tolist()
    [['auth', 'sshd', '42']]
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from nbcatalog.data.importers.batch import Batch
from nbcatalog.data.importers.coerce import MAX_FIELD_CHARS
from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.syslog_facility import (
    PAM,
    facility_from_file_name,
    facility_of_pri,
    facility_of_tag,
    is_pam_message,
    program_name,
)
from nbcatalog.data.importers.syslog_line import (
    SyslogLine,
    YearlessTime,
    is_journal_marker,
    parse_syslog_line,
)
from nbcatalog.data.importers.textio import iter_lines

# sysklogd / busybox syslogd, untagged: "last message repeated 3 times"
REPEATED = re.compile(r"^last message repeated \d+ times?$")
SHOWN_PROGRAMS = 8
# A line dated up to this long after the file's modification time is still taken as
# that year (clocks drift, and a file can be copied before its last line is flushed).
YEAR_SLACK = timedelta(days=1)


def read_syslog(path: Path, report: FileReport, table: str | None = None) -> list[Batch]:
    """Read a syslog / auth.log / journalctl export file into a Syslog batch.

    `table` is unused: syslog always goes to Syslog.
    """
    reference = datetime.fromtimestamp(os.stat(path).st_mtime, tz=timezone.utc)
    reader = _Reader(YearRule(reference), facility_from_file_name(path))
    for number, text in iter_lines(path, report):
        reader.feed(number, text, report)
    reader.finish(report)
    return [Batch.from_records("Syslog", reader.records, reader.lines)] if reader.records else []


@dataclass
class YearRule:
    """Puts yearless RFC 3164 times in a year, from the file's modification time.

    >>> rule = YearRule(datetime(2027, 1, 1, 6, tzinfo=timezone.utc))
    >>> rule.place(YearlessTime(12, 31, 23, 59, 58, 0)).year, rule.moved_back
    (2026, 1)
    """

    reference: datetime
    placed: int = 0
    moved_back: int = 0  # lines dated after the reference, put in the year before
    leap_days: Counter[int] = field(default_factory=Counter)  # 29 Feb put in an older year

    def place(self, clock: YearlessTime) -> datetime:
        """The moment `clock` stands for; ValueError when no recent year has that date."""
        latest = self.reference + YEAR_SLACK
        # 29 February may be up to 4 years back; any other date is this year or the last.
        for year in range(self.reference.year, self.reference.year - 5, -1):
            try:
                stamp = clock.in_year(year)
            except ValueError:
                continue
            if stamp <= latest:
                self.placed += 1
                if year != self.reference.year:
                    if (clock.month, clock.day) == (2, 29):
                        self.leap_days[year] += 1
                    else:
                        self.moved_back += 1
                return stamp
        raise ValueError(f"invalid date {clock.month:02d}-{clock.day:02d} for any recent year")

    def statement(self) -> str:
        """What the report says about the year it chose, and why."""
        year = self.reference.year
        parts = [
            f"RFC 3164 timestamps carry no year: year {year} taken from the file's "
            f"modification time ({self.reference:%Y-%m-%d %H:%M} UTC)"
        ]
        if self.moved_back:
            parts.append(
                f"{self.moved_back} line(s) dated after that moment were put in {year - 1}"
            )
        parts += [
            f"{count} line(s) dated 29 February were put in {leap}, the last leap year"
            for leap, count in sorted(self.leap_days.items())
        ]
        if not self.moved_back:
            parts.append("no line is dated after it")
        return "; ".join(parts)


@dataclass
class _Reader:
    """Turns the lines of one file into Syslog rows, counting what the report must say."""

    years: YearRule
    file_facility: str | None
    records: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    open_row: dict[str, Any] | None = None  # the row a continuation line would extend
    inferred: Counter[tuple[str, str]] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)
    repeated: int = 0
    zoneless: int = 0
    continued: int = 0
    markers: int = 0

    def feed(self, number: int, text: str, report: FileReport) -> None:
        """Take one line of the file (blank lines and journalctl markers make no row)."""
        if not text.strip():
            return
        if text[0] in " \t":
            self._continue(number, text, report)
            return
        if is_journal_marker(text):
            self.markers += 1
            self.open_row = None
            return
        try:
            line = parse_syslog_line(text)
            row = self._row(line)
        except ValueError as exc:
            report.reject(number, str(exc))
            self.open_row = None
            return
        self.records.append(row)
        self.lines.append(number)
        self.open_row = row

    def finish(self, report: FileReport) -> None:
        """Write what the report must say about years, zones and facilities."""
        if self.years.placed:
            report.note(self.years.statement())
        if self.zoneless:
            report.warn(f"{self.zoneless} line(s) carry no time zone: their times are taken as UTC")
        if self.inferred:
            shown = ", ".join(
                f"{program} -> {facility} {count}"
                for (program, facility), count in self.inferred.most_common(SHOWN_PROGRAMS)
            )
            more = len(self.inferred) - SHOWN_PROGRAMS
            total = sum(self.inferred.values())
            report.note(
                f"Facility inferred from the program for {total} line(s) without <PRI> "
                f"({shown}{f', and {more} more' if more > 0 else ''})"
            )
        if self.unknown:
            report.warn(self._unknown_statement())
        if self.repeated:
            report.note(
                f"{self.repeated} 'last message repeated' line(s) kept with the facility "
                "of the line before them"
            )
        if self.continued:
            report.note(
                f"{self.continued} indented continuation line(s) appended to the message "
                "of the line above them (multi-line messages)"
            )
        if self.markers:
            report.note(f"{self.markers} journalctl marker line(s) ('-- ... --') skipped")

    def _row(self, line: SyslogLine) -> dict[str, Any]:
        when = line.when
        if isinstance(when, YearlessTime):
            when = self.years.place(when)
        if when is not None and not line.zoned:
            self.zoneless += 1
        facility, severity = self._facility(line)
        return {
            "TimeGenerated": when,
            "EventTime": when,
            "Computer": line.host,
            "HostName": line.host,
            "Facility": facility,
            "SeverityLevel": severity,
            "SyslogMessage": line.message,
            "ProcessName": line.tag,
            "ProcessID": line.pid,
        }

    def _facility(self, line: SyslogLine) -> tuple[str | None, str | None]:
        if line.pri is not None:
            return facility_of_pri(line.pri)
        if line.tag is None and REPEATED.match(line.message) and self.records:
            self.repeated += 1
            previous = self.records[-1]
            return previous["Facility"], previous["SeverityLevel"]
        if is_pam_message(line.tag, line.message):
            self.inferred[(PAM, "authpriv")] += 1
            return "authpriv", None
        facility = None if line.tag is None else facility_of_tag(line.tag)
        if facility is not None:
            self.inferred[(program_name(line.tag), facility)] += 1
            return facility, None
        self.unknown[program_name(line.tag) if line.tag else "(no tag)"] += 1
        return self.file_facility, None

    def _continue(self, number: int, text: str, report: FileReport) -> None:
        row = self.open_row
        if row is None:
            report.reject(
                number,
                "indented line with no accepted syslog line above it (a continuation "
                "line extends the message of the line before it)",
            )
            return
        added = text.strip()
        if len(row["SyslogMessage"]) + 1 + len(added) > MAX_FIELD_CHARS:
            report.reject(
                number, f"continuation would make the message longer than {MAX_FIELD_CHARS} chars"
            )
            return
        row["SyslogMessage"] += "\n" + added
        self.continued += 1

    def _unknown_statement(self) -> str:
        total = sum(self.unknown.values())
        names = [name for name, _ in self.unknown.most_common(SHOWN_PROGRAMS)]
        more = len(self.unknown) - len(names)
        listed = ", ".join(names) + (f", and {more} more" if more > 0 else "")
        where = (
            f"set to {self.file_facility!r} from the file name"
            if self.file_facility
            else "left empty"
        )
        return (
            f"{total} line(s) without <PRI> from programs with no known facility, "
            f"Facility {where}: {listed}"
        )
