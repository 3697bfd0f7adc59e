"""The grammar of one syslog line, as the daemons and exporters write them to disk.

Accepted headers (an optional ``<PRI>`` may lead all but RFC 5424, which needs one):

- RFC 5424: ``<38>1 2026-12-01T10:00:01.5+01:00 host app 4242 - - msg``
- RFC 3339 file lines (rsyslog's file format, journalctl ``-o short-iso`` and
  ``-o short-iso-precise``): ``2026-12-01T10:00:01.123456+01:00 host tag: msg``;
  the zone may be ``Z``, ``+01:00`` or ``+0100`` (journalctl writes no colon).
- RFC 3164 / BSD (``/var/log/auth.log``, ``secure``, ``messages``, journalctl's
  default ``short`` and ``-o short-precise``): ``Dec  1 10:00:01 host tag: msg``,
  the day padded with a space or a zero, seconds optionally with a fraction, and the
  year some devices add after the day (``Dec  1 2025 10:00:01``) or after the time
  (``Dec  1 10:00:01 2025 host``).

The tag is kept as collectors record it (rsyslog's ``programname``, Sentinel's
``ProcessName``): ``sshd(pam_unix)[1234]:`` gives tag ``sshd(pam_unix)`` and pid
``1234``; ``postfix/smtpd[77]:`` gives ``postfix/smtpd``. A line whose text does not
start with a tag (sysklogd's ``last message repeated 3 times``) has no tag and its
whole text as the message.

Example:
    >>> line = parse_syslog_line("Dec  1 10:00:01 web01 sshd(pam_unix)[42]: session opened")
    >>> line.tag, line.pid, line.message, line.when.day, line.zoned
    ('sshd(pam_unix)', '42', 'session opened', 1, False)
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

MONTHS = {
    name: number
    for number, name in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        start=1,
    )
}
# The most days a month has in any year (29 February is checked against the year later).
_LONGEST_MONTH = {m: d for m, d in enumerate([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], 1)}
NOT_SYSLOG = (
    "not a syslog line (expected RFC 3164 'Mmm dd hh:mm:ss host tag: msg', "
    "RFC 3339 'YYYY-MM-DDThh:mm:ss[.f]+zone host tag: msg' or RFC 5424 '<PRI>1 ...')"
)

_PRI = r"(?:<(?P<pri>\d{1,3})>)?"
_FRACTION = r"(?:[.,](?P<frac>\d{1,9}))?"
RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>(?P<version>\d{1,2}) (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) "
    r"(?P<pid>\S+) (?P<msgid>\S+) (?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?P<msg>.*))?$",
    re.S,
)
RFC3339_STAMP = re.compile(
    r"(?P<date>\d{4}-\d\d-\d\d)T(?P<clock>\d\d:\d\d:\d\d)" + _FRACTION
    + r"(?P<zone>Z|[+-]\d\d:?\d\d)?"
)  # fmt: skip
RFC3339_LINE = re.compile(
    r"^" + _PRI + RFC3339_STAMP.pattern + r" (?P<host>\S+)(?: (?P<rest>.*))?$", re.S
)
BSD_LINE = re.compile(
    r"^" + _PRI + r"(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2})(?: (?P<year>\d{4}))? "
    r"(?P<clock>\d\d:\d\d:\d\d)" + _FRACTION
    + r"(?: (?P<year_after>(?:19|20)\d\d))? (?P<host>\S+)(?: (?P<rest>.*))?$",
    re.S,
)  # fmt: skip
# A tag: at most 64 characters without blanks, colons or brackets, then an optional
# [pid] and a colon. A trailing ']' is allowed: GNOME's session worker logs as
# "gdm-password]:" (its process title "gdm-session-worker [pam/gdm-password]" cut short).
TAG = re.compile(r"^(?P<tag>[^\s:\[\]]{1,64}\]?)(?:\[(?P<pid>\d{1,10})\])?: ?(?P<msg>.*)$", re.S)
# journalctl's own lines between entries: "-- Logs begin at ... --", "-- Boot 1f2e... --",
# "-- Reboot --", "-- No entries --".
JOURNAL_MARKER = re.compile(r"^-- .{1,300} --$")


class YearlessTime(NamedTuple):
    """An RFC 3164 time: no year and no zone; the reader settles the year."""

    month: int
    day: int
    hour: int
    minute: int
    second: int
    microsecond: int

    def in_year(self, year: int) -> datetime:
        """The UTC moment in `year`; ValueError for a date that year lacks (30 Feb)."""
        return datetime(
            year, self.month, self.day, self.hour, self.minute, self.second,
            self.microsecond, tzinfo=timezone.utc,
        )  # fmt: skip


class SyslogLine(NamedTuple):
    """One parsed line. `when` is a UTC datetime, a YearlessTime, or None (RFC 5424 '-')."""

    pri: int | None
    when: datetime | YearlessTime | None
    zoned: bool  # the text carried a zone (so `when` is exact)
    host: str | None
    tag: str | None
    pid: str | None
    message: str


def is_syslog_header(text: str) -> bool:
    """True when `text` starts the way one of the accepted syslog forms does.

    >>> is_syslog_header("2026-12-01T10:00:01+0100 web01 sshd[7]: Accepted publickey for bob")
    True
    >>> is_syslog_header("TimeGenerated,Computer,SyslogMessage")
    False
    """
    return bool(RFC5424.match(text) or RFC3339_LINE.match(text) or BSD_LINE.match(text))


def is_journal_marker(text: str) -> bool:
    """True for journalctl's lines between entries (``-- Reboot --``), which are no entry.

    >>> is_journal_marker("-- Boot 5c3a4e0d2b0f4f0c9a1e2d3c4b5a6978 --")
    True
    """
    return bool(JOURNAL_MARKER.match(text))


def parse_syslog_line(text: str) -> SyslogLine:
    """Parse one line; ValueError says why it is not syslog (or what in it is wrong).

    >>> parse_syslog_line("2026-12-01T10:00:01+0100 web01 sshd[7]: Accepted").when.isoformat()
    '2026-12-01T09:00:01+00:00'
    """
    match = RFC5424.match(text)
    if match:
        when = None if match["ts"] == "-" else _rfc5424_time(match["ts"])
        return SyslogLine(
            pri=_priority(match["pri"]),
            when=when,
            zoned=when is not None,
            host=_dash_none(match["host"]),
            tag=_dash_none(match["app"]),
            pid=_dash_none(match["pid"]),
            message=(match["msg"] or "").lstrip("\ufeff"),
        )
    match = RFC3339_LINE.match(text)
    if match:
        zoned = match["zone"] is not None
        return _with_tag(match["pri"], _rfc3339_time(match), zoned, match["host"], match["rest"])
    match = BSD_LINE.match(text)
    if match:
        return _bsd_line(match)
    raise ValueError(NOT_SYSLOG)


def _bsd_line(match: re.Match[str]) -> SyslogLine:
    host, rest = match["host"], match["rest"]
    year_after = match["year_after"]
    if year_after and host.endswith(":"):
        # "Dec  1 10:00:01 2025 sshd[1]: ..." is a host named 2025, not a year.
        host, rest = year_after, f"{host} {rest}" if rest is not None else host
        year_after = None
    year = match["year"] or year_after
    mon = match["mon"]
    if mon not in MONTHS:
        raise ValueError(f"unknown month {mon!r} (expected Jan ... Dec)")
    clock_text = match["clock"]
    hour, minute, second = int(clock_text[:2]), int(clock_text[3:5]), int(clock_text[6:])
    day = int(match["day"])
    if not (1 <= day <= _LONGEST_MONTH[MONTHS[mon]] and hour < 24 and minute < 60 and second < 60):
        raise ValueError(f"invalid date {mon} {match['day']} {match['clock']}")
    clock = YearlessTime(MONTHS[mon], day, hour, minute, second, _microseconds(match["frac"]))
    when: datetime | YearlessTime = clock
    if year:
        try:
            when = clock.in_year(int(year))
        except ValueError:  # 29 February of a year that has none
            raise ValueError(f"invalid date {mon} {match['day']} {year}") from None
    return _with_tag(match["pri"], when, False, host, rest)


def _with_tag(
    pri: str | None, when: datetime | YearlessTime, zoned: bool, host: str, rest: str | None
) -> SyslogLine:
    if host.endswith(":"):  # no host field: "<13>Dec  1 10:00:01 su: ..." as sent on the wire
        rest = host if rest is None else f"{host} {rest}"
        host = "-"
    rest = rest or ""
    match = TAG.match(rest)
    tag = pid = None
    message = rest
    if match:
        tag, pid, message = match["tag"], match["pid"], match["msg"]
    return SyslogLine(_priority(pri), when, zoned, _dash_none(host), tag, pid, message)


def _priority(pri: str | None) -> int | None:
    if pri is None:
        return None
    value = int(pri)
    if value > 191:
        raise ValueError(f"syslog priority <{value}> is out of range (0-191)")
    return value


def _dash_none(value: str) -> str | None:
    return None if value == "-" else value


def _microseconds(frac: str | None) -> int:
    return int((frac or "0")[:6].ljust(6, "0"))


def _rfc5424_time(stamp: str) -> datetime:
    match = RFC3339_STAMP.fullmatch(stamp)
    if not match:
        raise ValueError(f"RFC 5424 timestamp {stamp!r} is not RFC 3339")
    return _rfc3339_time(match)


def _rfc3339_time(match: re.Match[str]) -> datetime:
    """The UTC moment of an RFC 3339 / ISO 8601 stamp; no zone means UTC."""
    try:
        year, month, day = (int(x) for x in match["date"].split("-"))
        hour, minute, second = (int(x) for x in match["clock"].split(":"))
        local = datetime(year, month, day, hour, minute, second, _microseconds(match["frac"]))
    except ValueError:
        raise ValueError(f"invalid date or time {match['date']}T{match['clock']}") from None
    zone = match["zone"]
    if zone is None or zone == "Z":
        return local.replace(tzinfo=timezone.utc)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"invalid time zone offset {zone!r}")
    offset = timedelta(hours=hours, minutes=minutes) * sign
    try:
        return (local - offset).replace(tzinfo=timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first moment in UTC
        raise ValueError(
            f"date and time out of range in UTC: {match['date']}T{match['clock']}{zone}"
        ) from None
