"""When a cron expression fires, as UTC instants, in a job's own time zone.

Cron expressions describe wall-clock times, so they are stepped through with
croniter on naive local times and each wall time is then placed on the real
time line with zoneinfo. Daylight-saving changes follow what cron users expect:

- a wall time that does not exist (spring forward) fires once, shifted forward
  by the size of the gap (01:30 in London on the March change fires at 02:30 BST);
  an instant is never fired twice;
- a wall time that happens twice (fall back) fires once, at its first occurrence,
  unless the expression fires in every hour (an hourly job), which then fires
  in both copies of the repeated hour.

Example:
    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> t1 = datetime(2026, 1, 3, tzinfo=timezone.utc)
    >>> [t.isoformat() for t in fire_times_between("0 6 * * *", "Europe/London", t0, t1)]
    ['2026-01-01T06:00:00+00:00', '2026-01-02T06:00:00+00:00']
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from croniter import croniter

# Wider than any DST shift, so that stepping wall times from this far outside a
# range never misses an instant inside it.
_MARGIN = timedelta(hours=3)
MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def is_valid_cron(expression: str) -> bool:
    """True for a standard five-field cron expression or a macro such as ``@daily``.

    Example:
        >>> is_valid_cron("0 6 * * 1-5"), is_valid_cron("0 6 * *")
        (True, False)
    """
    text = expression.strip()
    if text in MACROS:
        return True
    return len(text.split()) == 5 and croniter.is_valid(text)


def _fires_every_hour(expression: str) -> bool:
    hours = croniter(expression, datetime(2000, 1, 1)).expanded[1]
    return hours == ["*"] or len(hours) == 24


def _instants(wall: datetime, zone: ZoneInfo, every_hour: bool) -> list[datetime]:
    """The UTC instants at which a naive wall time happens in `zone`."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(timezone.utc)
    if second == first:
        return [first]
    # fold differs: either a repeated wall time (second is later) or one that
    # does not exist (fold=0 then lands after the gap, which is what we want).
    if second > first and every_hour:
        return [first, second]
    return [first]


def _to_wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"time {value!r} has no time zone; give an aware datetime")
    return value.astimezone(timezone.utc)


def fire_times_between(
    expression: str, tz: str, after: datetime, until: datetime, *, limit: int | None = None
) -> list[datetime]:
    """Fire times t with ``after < t <= until``, oldest first, as aware UTC datetimes.

    With `limit`, only the newest `limit` of them (walking back from `until`, so a
    long outage with a once-a-minute job stays cheap).

    Example:
        >>> from datetime import datetime, timezone
        >>> a = datetime(2026, 3, 1, tzinfo=timezone.utc)
        >>> b = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> len(fire_times_between("*/15 * * * *", "UTC", a, b, limit=2))
        2
    """
    after, until = _utc(after), _utc(until)
    if until <= after:
        return []
    zone = ZoneInfo(tz)
    every_hour = _fires_every_hour(expression)
    found: set[datetime] = set()
    stop_wall = _to_wall(after - _MARGIN, zone)
    it = croniter(expression, _to_wall(until + _MARGIN, zone))
    while True:
        wall = it.get_prev(datetime)
        if wall < stop_wall:
            break
        found.update(t for t in _instants(wall, zone, every_hour) if after < t <= until)
        if limit is not None and len(found) >= limit:
            # Instants are nearly, not strictly, ordered like wall times around a
            # DST change: keep going a margin past the limit-th newest one.
            floor = sorted(found)[-limit]
            if wall < _to_wall(floor - _MARGIN, zone):
                break
    times = sorted(found)
    return times[-limit:] if limit is not None else times


def next_fire_time(expression: str, tz: str, after: datetime) -> datetime:
    """The first fire time strictly after `after` (aware UTC).

    Example:
        >>> from datetime import datetime, timezone
        >>> next_fire_time("0 6 * * *", "America/New_York",
        ...                datetime(2026, 7, 1, tzinfo=timezone.utc)).isoformat()
        '2026-07-01T10:00:00+00:00'
    """
    after = _utc(after)
    zone = ZoneInfo(tz)
    every_hour = _fires_every_hour(expression)
    it = croniter(expression, _to_wall(after - _MARGIN, zone))
    best: datetime | None = None
    while True:
        wall = it.get_next(datetime)
        if best is not None and wall > _to_wall(best + _MARGIN, zone):
            return best
        for t in _instants(wall, zone, every_hour):
            if t > after and (best is None or t < best):
                best = t


def latest_fire_time(expression: str, tz: str, at_or_before: datetime) -> datetime | None:
    """The newest fire time not after `at_or_before`, or None when there is none.

    Example:
        >>> from datetime import datetime, timezone
        >>> latest_fire_time("0 6 * * *", "UTC",
        ...                  datetime(2026, 7, 1, 6, tzinfo=timezone.utc)).isoformat()
        '2026-07-01T06:00:00+00:00'
    """
    at = _utc(at_or_before)
    # A year back covers any five-field expression that ever fires.
    times = fire_times_between(expression, tz, at - timedelta(days=367), at, limit=1)
    return times[-1] if times else None
