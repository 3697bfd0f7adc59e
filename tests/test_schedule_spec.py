"""The schedule file: parsing, defaults, and check messages naming the job and field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nbcatalog.errors import UsageError
from nbcatalog.schedules.spec import (
    ScheduleError,
    load_schedule,
    parse_duration,
    parse_schedule,
    schedule_path,
)

GOOD = """
timezone: Europe/London
jobs:
  - name: crown-jewels
    notebooklet: host-summary
    parameters:
      - {host: WIN-DC01}
      - {host: WIN-FS01}
    cron: "0 6 * * *"
    covers: 24h
    formats: [html]
    retention: {keep: 30, days: 14}
    catch_up: {policy: all, cap: 4}
    retries: {count: 2, backoff: 5m}
    timeout: 600
  - name: bob
    notebooklet: account_summary
    parameters: {account: bob}
    cron: "@hourly"
    timezone: America/New_York
    catch_up: skip
"""


def test_a_good_file_loads_with_defaults(tmp_path):
    path = tmp_path / "schedules.yaml"
    path.write_text(GOOD)
    schedule = load_schedule(path)
    jewels, bob = schedule.jobs
    assert [p.values for p in jewels.parameter_sets] == [{"host": "WIN-DC01"}, {"host": "WIN-FS01"}]
    assert jewels.timezone == "Europe/London" and bob.timezone == "America/New_York"
    assert (jewels.catch_up, jewels.catch_up_cap, jewels.retries) == ("all", 4, 2)
    assert jewels.retry_backoff == timedelta(minutes=5) and jewels.formats == ("html",)
    assert (jewels.retention.keep, jewels.retention.days) == (30, 14.0)
    assert bob.formats == ("html", "notebook") and bob.covers == timedelta(hours=24)
    assert bob.catch_up == "skip" and bob.misfire_grace == timedelta(minutes=10)
    assert schedule.job("bob") is bob
    # Parameter-set keys are stable and distinct: they identify claims.
    assert jewels.parameter_sets[0].key != jewels.parameter_sets[1].key
    assert (
        jewels.parameter_sets[0].key
        == parse_schedule(
            {
                "jobs": [
                    {
                        "name": "x",
                        "notebooklet": "y",
                        "cron": "@daily",
                        "parameters": {"host": "WIN-DC01"},
                    }
                ]
            }
        )
        .jobs[0]
        .parameter_sets[0]
        .key
    )


def problems_of(doc) -> list[str]:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(doc, source="s.yaml")
    assert isinstance(info.value, UsageError) and info.value.exit_code == 2
    return info.value.problems


def test_every_problem_is_reported_naming_job_and_field():
    problems = problems_of(
        {
            "jobs": [
                {
                    "name": "dc",
                    "notebooklet": "host_summary",
                    "cron": "0 6 * *",
                    "timezone": "Europe/Lundon",
                    "catchup": "all",
                    "covers": "a day",
                    "formats": ["docx"],
                    "retention": {"keep": 0},
                    "retries": {"count": -1},
                    "parameters": [{"host": "A", "start": "2026-01-01"}],
                },
                {"name": "dc", "notebooklet": "x", "cron": "@daily", "catch_up": "sometimes"},
                {"notebooklet": "x"},
            ]
        }
    )
    text = "\n".join(problems)
    for expected in (
        "job 'dc': field 'cron': '0 6 * *' is not a cron expression",
        "job 'dc': field 'timezone': 'Europe/Lundon' is not an IANA time zone",
        "job 'dc': field 'catchup': unknown field; did you mean 'catch_up'?",
        "job 'dc': field 'covers': 'a day' is not a duration",
        "job 'dc': field 'formats': unknown format 'docx'",
        "job 'dc': field 'retention': keep 0",
        "job 'dc': field 'retries': count -1",
        "job 'dc': field 'parameters': set #1 sets 'start'",
        "job 'dc': field 'catch_up': unknown policy 'sometimes'; accepted: skip, latest, all",
        "job #3: field 'name': is required",
        "job #3: field 'cron': is required",
    ):
        assert expected in text, expected
    assert len(problems) == 11


def test_duplicate_names_and_bad_top_level():
    job = {"name": "a", "notebooklet": "x", "cron": "@daily"}
    assert problems_of({"jobs": [job, job]}) == ["job 'a': field 'name': used by more than one job"]
    assert "unknown top-level field" in problems_of({"job": [job]})[0]
    assert "must be a list" in problems_of({"jobs": {"a": job}})[0]


def test_missing_file_and_bad_yaml(tmp_path, monkeypatch):
    with pytest.raises(ScheduleError, match="no schedule file at .*nope.yaml"):
        load_schedule(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("jobs: [\n")
    with pytest.raises(ScheduleError, match="not valid YAML"):
        load_schedule(bad)
    monkeypatch.setenv("NBCATALOG_SCHEDULES", str(bad))
    assert schedule_path() == bad and schedule_path("x.yaml").name == "x.yaml"
    monkeypatch.delenv("NBCATALOG_SCHEDULES")
    assert schedule_path().name == "schedules.yaml"


def test_unknown_job_names_the_closest():
    schedule = parse_schedule(
        {"jobs": [{"name": "crown-jewels", "notebooklet": "x", "cron": "@daily"}]}
    )
    with pytest.raises(ScheduleError, match="did you mean 'crown-jewels'"):
        schedule.job("crown-jewel")


def test_durations():
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("2w") == timedelta(days=14)
    for bad in ("", "24", "h", "1.5h", "-1h", True):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)


def test_the_readme_example_schedule_is_valid():
    import re
    from pathlib import Path

    from nbcatalog.schedules.spec import check_against_catalog

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Scheduled HTML reports.*?```yaml\n(.*?)```", readme, re.S)
    assert block, "README lost its example schedule file"
    import yaml

    schedule = parse_schedule(yaml.safe_load(block.group(1)), source="README.md")
    assert [j.name for j in schedule.jobs] == ["crown-jewels", "bob-activity"]
    assert check_against_catalog(schedule) == []
