"""Cron fire times across daylight-saving changes, in Europe/London and America/New_York."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from schedule_fakes import FakeRunner

from nbcatalog.schedules.firetimes import (
    fire_times_between,
    is_valid_cron,
    latest_fire_time,
    next_fire_time,
)
from nbcatalog.schedules.rundue import run_due
from nbcatalog.schedules.spec import parse_schedule

UTC = timezone.utc


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(times: list[datetime], tz: str) -> list[str]:
    return [t.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M %Z") for t in times]


@pytest.mark.parametrize(
    "tz, after, until, expected",
    [
        # London springs forward 29 March 2026 01:00 GMT -> 02:00 BST: 01:30 does not
        # exist, so the daily 01:30 job fires once, at 02:30 BST.
        (
            "Europe/London",
            "2026-03-27T12:00",
            "2026-03-30T12:00",
            ["03-28 01:30 GMT", "03-29 02:30 BST", "03-30 01:30 BST"],
        ),
        # London falls back 25 October 2026 02:00 BST -> 01:00 GMT: 01:30 happens
        # twice; a daily job fires once, at the first.
        (
            "Europe/London",
            "2026-10-24T12:00",
            "2026-10-26T12:00",
            ["10-25 01:30 BST", "10-26 01:30 GMT"],
        ),
        # New York springs forward 8 March 2026 02:00 EST -> 03:00 EDT.
        (
            "America/New_York",
            "2026-03-07T12:00",
            "2026-03-09T12:00",
            ["03-08 01:30 EST", "03-09 01:30 EDT"],
        ),
        # ... and falls back 1 November 2026 02:00 EDT -> 01:00 EST.
        (
            "America/New_York",
            "2026-10-31T12:00",
            "2026-11-02T12:00",
            ["11-01 01:30 EDT", "11-02 01:30 EST"],
        ),
    ],
)
def test_daily_job_fires_once_a_day_across_dst(tz, after, until, expected):
    assert local(fire_times_between("30 1 * * *", tz, utc(after), utc(until)), tz) == expected


def test_daily_job_in_the_new_york_gap_shifts_forward():
    times = fire_times_between(
        "30 2 * * *", "America/New_York", utc("2026-03-07T12:00"), utc("2026-03-09T12:00")
    )
    assert local(times, "America/New_York") == ["03-08 03:30 EDT", "03-09 02:30 EDT"]


@pytest.mark.parametrize(
    "tz, after, until, hours",
    [
        ("Europe/London", "2026-03-28T22:00", "2026-03-29T04:00", 6),  # 23 h day
        ("Europe/London", "2026-10-24T22:00", "2026-10-25T04:00", 6),  # 25 h day
        ("America/New_York", "2026-03-08T04:00", "2026-03-08T10:00", 6),
        ("America/New_York", "2026-11-01T03:00", "2026-11-01T09:00", 6),
    ],
)
def test_hourly_job_fires_every_real_hour_across_dst(tz, after, until, hours):
    times = fire_times_between("0 * * * *", tz, utc(after), utc(until))
    # Exactly one run per elapsed hour: none lost in the gap, the repeated hour runs twice.
    assert len(times) == hours
    assert all((b - a).total_seconds() == 3600 for a, b in zip(times, times[1:], strict=False))


def test_repeated_hour_runs_twice_for_hourly_job():
    times = fire_times_between(
        "15 * * * *", "America/New_York", utc("2026-11-01T04:00"), utc("2026-11-01T07:00")
    )
    assert local(times, "America/New_York") == [
        "11-01 00:15 EDT",
        "11-01 01:15 EDT",
        "11-01 01:15 EST",
    ]


def test_next_and_latest_fire_time():
    assert next_fire_time("0 6 * * *", "Europe/London", utc("2026-03-28T06:00")) == utc(
        "2026-03-29T05:00"
    )  # 06:00 BST
    assert latest_fire_time("0 6 * * *", "Europe/London", utc("2026-03-29T04:59")) == utc(
        "2026-03-28T06:00"
    )
    assert next_fire_time("30 1 * * *", "Europe/London", utc("2026-10-25T00:30")) == utc(
        "2026-10-26T01:30"
    )  # the second 01:30 of the 25th is not a new fire time


def test_limit_keeps_the_newest_and_stays_cheap():
    times = fire_times_between(
        "* * * * *", "UTC", utc("2025-01-01T00:00"), utc("2026-01-01T00:00"), limit=3
    )
    assert times == [utc("2025-12-31T23:58"), utc("2025-12-31T23:59"), utc("2026-01-01T00:00")]


def test_cron_validation():
    assert is_valid_cron("*/5 9-17 * * mon-fri") and is_valid_cron("@daily")
    assert not is_valid_cron("0 6 * *") and not is_valid_cron("0 0 6 * * *")
    assert not is_valid_cron("61 * * * *") and not is_valid_cron("every day")


def test_run_due_through_the_london_spring_forward_night(tmp_path):
    """run-due called every 20 minutes through the night runs 01:30 once, at 02:30 BST."""
    schedule = parse_schedule(
        {
            "jobs": [
                {
                    "name": "night",
                    "notebooklet": "host_summary",
                    "cron": "30 1 * * *",
                    "timezone": "Europe/London",
                    "catch_up": "skip",
                }
            ]
        }
    )
    fake = FakeRunner()
    start = utc("2026-03-28T23:00").timestamp()
    for minute in range(0, 5 * 60 + 1, 20):
        now = datetime.fromtimestamp(start + minute * 60, UTC)
        run_due(schedule, now=now, output_dir=tmp_path, run=fake)
    assert [r[1] for r in fake.runs()] == ["2026-03-29T01:30:00Z"]


def test_run_due_through_the_new_york_fall_back_night(tmp_path):
    """Called every 30 minutes, an hourly job runs in both copies of the repeated hour."""
    schedule = parse_schedule(
        {
            "jobs": [
                {
                    "name": "hourly",
                    "notebooklet": "alert_triage",
                    "cron": "0 * * * *",
                    "timezone": "America/New_York",
                    "catch_up": "skip",
                }
            ]
        }
    )
    fake = FakeRunner()
    for minute in range(0, 6 * 60 + 1, 30):
        now = utc("2026-11-01T03:35").timestamp() + minute * 60
        run_due(schedule, now=datetime.fromtimestamp(now, UTC), output_dir=tmp_path, run=fake)
    fired = [datetime.fromisoformat(r[1].replace("Z", "+00:00")) for r in fake.runs()]
    assert local(fired, "America/New_York") == [
        "11-01 00:00 EDT",
        "11-01 01:00 EDT",
        "11-01 01:00 EST",
        "11-01 02:00 EST",
        "11-01 03:00 EST",
        "11-01 04:00 EST",
    ]
