"""The schedule file: which notebooklets run when, for which parameters, kept how long.

A YAML file (default ``./schedules.yaml``; ``--file`` or ``NBCATALOG_SCHEDULES``)::

    timezone: Europe/London          # default for every job
    jobs:
      - name: crown-jewels
        notebooklet: host_summary
        parameters:                  # one mapping, or a list: one run per set
          - {host: WIN-DC01}
          - {host: WIN-FS01}
        cron: "0 6 * * *"
        timezone: Europe/London      # IANA name
        covers: 24h                  # each run covers the 24 h before its fire time
        formats: [html, notebook]   # and pdf (printed by headless Chromium)
        retention: {keep: 30}        # or {days: 14}, or both
        catch_up: latest             # skip | latest | all
        catch_up_cap: 10             # most missed times `all` runs in one go
        misfire_grace: 10m           # how late a fire time may still run
        retries: {count: 2, backoff: 1m}
        strict: true                 # a no_data run (host matched nothing) fails the job

Loading checks every field and reports every problem at once, each naming the
job and the field. Whether the notebooklet and its parameters exist is checked
against the catalogue by `check_against_catalog`.

Example:
    >>> spec = parse_schedule({"jobs": [{"name": "dc", "notebooklet": "host_summary",
    ...     "parameters": {"host": "WIN-DC01"}, "cron": "0 6 * * *"}]})
    >>> spec.jobs[0].covers, spec.jobs[0].catch_up
    (datetime.timedelta(days=1), 'latest')
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from nbcatalog.errors import UsageError
from nbcatalog.notify.spec import NotifySpec, parse_notify
from nbcatalog.parameters import shown
from nbcatalog.schedules.firetimes import is_valid_cron

DEFAULT_FILE = "schedules.yaml"
ENV_FILE = "NBCATALOG_SCHEDULES"
CATCH_UP_POLICIES = ("skip", "latest", "all")
FORMATS = ("html", "notebook", "pdf")
DEFAULT_FORMATS = ("html", "notebook")  # pdf needs Chromium: only when asked for
# The covered range and the fire time are the scheduler's to set.
RESERVED_PARAMETERS = ("start", "end", "last")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DURATION_RE = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

JOB_FIELDS = (
    "name",
    "notebooklet",
    "parameters",
    "cron",
    "timezone",
    "covers",
    "formats",
    "retention",
    "catch_up",
    "catch_up_cap",
    "misfire_grace",
    "retries",
    "timeout",
    "enabled",
    "strict",
    "notify",
)
TOP_FIELDS = ("timezone", "jobs")


class ScheduleError(UsageError):
    """A schedule file that cannot be used; `problems` lists each one."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(problems))


@dataclass(frozen=True)
class ParameterSet:
    """One set of parameters of a job; `key` identifies it in claims and history."""

    values: dict[str, Any]

    @property
    def key(self) -> str:
        """A short stable id of the values (same values, same key)."""
        text = json.dumps(self.values, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        """Human-readable form, e.g. ``host=WIN-DC01``."""
        return ", ".join(f"{k}={v}" for k, v in sorted(self.values.items())) or "(defaults)"


@dataclass(frozen=True)
class Retention:
    """Keep at most `keep` runs and/or runs younger than `days`, per parameter set."""

    keep: int | None = None
    days: float | None = None


@dataclass(frozen=True)
class Job:
    """One scheduled notebooklet."""

    name: str
    notebooklet: str
    parameter_sets: tuple[ParameterSet, ...]
    cron: str
    timezone: str = "UTC"
    covers: timedelta = timedelta(hours=24)
    formats: tuple[str, ...] = ("html", "notebook")
    retention: Retention = field(default_factory=Retention)
    catch_up: str = "latest"
    catch_up_cap: int = 10
    misfire_grace: timedelta = timedelta(minutes=10)
    retries: int = 0
    retry_backoff: timedelta = timedelta(minutes=1)
    timeout: float | None = None
    enabled: bool = True
    strict: bool = True  # a no_data run counts as a failure of the job (exit 3, red index)
    notify: NotifySpec | None = None  # email / webhook after each run (nbcatalog.notify)


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule file."""

    jobs: tuple[Job, ...]
    source: str = "<schedule>"

    def job(self, name: str) -> Job:
        """The job called `name`; a clear error naming the known jobs otherwise."""
        for job in self.jobs:
            if job.name == name:
                return job
        names = [j.name for j in self.jobs]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ScheduleError(
            self.source, [f"no job named {name!r}{hint} (jobs: {', '.join(names) or 'none'})"]
        )


def schedule_path(path: str | os.PathLike | None = None) -> Path:
    """Where the schedule file is: `path`, else ``$NBCATALOG_SCHEDULES``, else ./schedules.yaml.

    Example:
        >>> schedule_path("ops.yaml").name
        'ops.yaml'
    """
    if path:
        return Path(path)
    return Path(os.environ.get(ENV_FILE) or DEFAULT_FILE)


def parse_duration(text: Any) -> timedelta:
    """``"24h"``, ``"7d"``, ``"90m"``, ``"30s"``, ``"2w"`` as a timedelta.

    Example:
        >>> parse_duration("36h")
        datetime.timedelta(days=1, seconds=43200)
    """
    match = _DURATION_RE.match(str(text))
    if not match or isinstance(text, bool):
        raise ValueError(
            f"{shown(text)} is not a duration; use a number and a unit s, m, h, d or w, e.g. 24h"
        )
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except (OverflowError, ValueError):  # past timedelta's 999,999,999 days
        raise ValueError(f"{shown(text)} is too long; give at most 999999999d") from None


def load_schedule(path: str | os.PathLike | None = None) -> Schedule:
    """Read and check a schedule file; raises `ScheduleError` listing every problem.

    Example:
        >>> load_schedule("schedules.yaml").jobs    # doctest: +SKIP
    """
    file = schedule_path(path)
    return parse_schedule(_read_yaml(file), source=str(file))


def _read_yaml(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScheduleError(
            str(file),
            [f"no schedule file at {file} (give --file PATH or set {ENV_FILE})"],
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError(str(file), [f"cannot read the file: {exc}"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScheduleError(str(file), [f"not valid YAML: {exc}"]) from None


def check_schedule(path: str | os.PathLike | None = None) -> tuple[Schedule | None, list[str]]:
    """Every problem of every job in one pass: the file's fields, then the catalogue's.

    A job whose cron or covers is wrong still has its notebooklet and parameters
    checked against the catalogue, so one run of ``schedule check`` lists them all.
    Returns the schedule (None when it has problems) and the problems.

    Example:
        >>> schedule, problems = check_schedule("schedules.yaml")   # doctest: +SKIP
        >>> problems                                                # doctest: +SKIP
        ["job 'dc': field 'cron': '0 6 * *' is not a cron expression; ...",
         "job 'web': field 'notebooklet': no notebooklet named 'hots_summary' ..."]
    """
    file = schedule_path(path)
    try:
        data = _read_yaml(file)
    except ScheduleError as exc:
        return None, list(exc.problems)
    problems = _Problems()
    try:
        schedule = _parse(data, str(file), problems)
    except ScheduleError as exc:  # not even a mapping: nothing more to check
        return None, list(exc.problems)
    found = problems.items + _catalog_problems(problems.probes)
    return (None if found else schedule), found


def _closest(name: str, accepted: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, accepted, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}accepted: {', '.join(accepted)}"


class _Problems:
    """Collects messages that name the job and field they are about.

    `probes` keeps each job's (label, notebooklet, parameter sets, sets given as a list)
    even when the job has other problems, for the catalogue check.
    """

    def __init__(self) -> None:
        self.items: list[str] = []
        self.probes: list[tuple[str, str, tuple[ParameterSet, ...], bool]] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


def parse_schedule(data: Any, *, source: str = "<schedule>") -> Schedule:
    """Check an already-loaded YAML document and build a `Schedule`.

    Example:
        >>> parse_schedule({"jobs": []}).jobs
        ()
    """
    problems = _Problems()
    schedule = _parse(data, source, problems)
    if problems.items:
        raise ScheduleError(source, problems.items)
    return schedule


def _parse(data: Any, source: str, problems: _Problems) -> Schedule:
    """The jobs of `data` that have no problem; every problem goes to `problems`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScheduleError(source, ["the file must be a mapping with a 'jobs' list"])
    for key in data:
        if key not in TOP_FIELDS:
            problems.add(f"field {key!r}", f"unknown top-level field; {_closest(key, TOP_FIELDS)}")
    default_tz = data.get("timezone", "UTC")
    if not _valid_zone(default_tz):
        problems.add("field 'timezone'", f"{default_tz!r} is not an IANA time zone name")
        default_tz = "UTC"
    raw_jobs = data.get("jobs", [])
    if not isinstance(raw_jobs, list):
        problems.add("field 'jobs'", "must be a list of jobs (each a mapping with a name)")
        raw_jobs = []
    jobs: list[Job] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_jobs):
        job = _parse_job(raw, index, default_tz, problems)
        if job is None:
            continue
        if job.name in seen:
            problems.add(f"job {job.name!r}: field 'name'", "used by more than one job")
        seen.add(job.name)
        jobs.append(job)
    return Schedule(jobs=tuple(jobs), source=source)


def _valid_zone(name: Any) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _parse_job(raw: Any, index: int, default_tz: str, problems: _Problems) -> Job | None:
    if not isinstance(raw, dict):
        problems.add(f"job #{index + 1}", "must be a mapping with name, notebooklet and cron")
        return None
    name = raw.get("name")
    label = f"job {name!r}" if isinstance(name, str) and name else f"job #{index + 1}"
    before = len(problems.items)

    def bad(field_name: str, message: str) -> None:
        problems.add(f"{label}: field {field_name!r}", message)

    for key in raw:
        if key not in JOB_FIELDS:
            bad(key, f"unknown field; {_closest(str(key), JOB_FIELDS)}")
    for required in ("name", "notebooklet", "cron"):
        if raw.get(required) in (None, ""):
            bad(required, "is required")
    if name is not None and (not isinstance(name, str) or not NAME_RE.match(name)):
        bad("name", f"{name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    notebooklet = raw.get("notebooklet")
    if notebooklet is not None and not isinstance(notebooklet, str):
        bad("notebooklet", f"{notebooklet!r} must be a notebooklet name such as host_summary")

    cron = raw.get("cron")
    if cron is not None and (not isinstance(cron, str) or not is_valid_cron(cron)):
        bad(
            "cron",
            f"{cron!r} is not a cron expression; use five fields "
            '(minute hour day-of-month month day-of-week), e.g. "0 6 * * *", or @daily',
        )
    tz = raw.get("timezone", default_tz)
    if not _valid_zone(tz):
        bad("timezone", f"{tz!r} is not an IANA time zone name such as Europe/London")

    sets = _parameter_sets(raw.get("parameters", {}), bad)
    if isinstance(notebooklet, str) and notebooklet:
        problems.probes.append(
            (label, notebooklet, sets, isinstance(raw.get("parameters"), list) and len(sets) > 1)
        )
    covers = _duration_field(raw, "covers", "24h", bad)
    grace = _duration_field(raw, "misfire_grace", "10m", bad)

    formats = raw.get("formats", list(DEFAULT_FORMATS))
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or not formats:
        bad("formats", f"must be a non-empty list drawn from {list(FORMATS)}")
        formats = list(FORMATS)
    for fmt in formats:
        if fmt not in FORMATS:
            bad("formats", f"unknown format {fmt!r}; {_closest(str(fmt), FORMATS)}")

    retention = _retention(raw.get("retention"), bad)
    policy, cap = _catch_up(raw, bad)
    retries, backoff = _retries(raw.get("retries", 0), bad)

    timeout = raw.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
    ):
        bad("timeout", f"{timeout!r} must be a number of seconds greater than 0")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        bad("enabled", f"{enabled!r} must be true or false")
    strict = raw.get("strict", True)
    if not isinstance(strict, bool):
        bad("strict", f"{strict!r} must be true or false (true: a no_data run fails the job)")

    notify_problems: list[str] = []
    notify = parse_notify(raw.get("notify"), notify_problems)
    for message in notify_problems:
        bad("notify", message)
    if notify is not None and notify.pdf and "pdf" not in formats:
        bad("notify", "pdf: true attaches report.pdf: add pdf to the job's formats")

    if len(problems.items) > before:
        return None
    return Job(
        name=name,
        notebooklet=notebooklet,
        parameter_sets=sets,
        cron=cron.strip(),
        timezone=tz,
        covers=covers,
        formats=tuple(dict.fromkeys(formats)),
        retention=retention,
        catch_up=policy,
        catch_up_cap=cap,
        misfire_grace=grace,
        retries=retries,
        retry_backoff=backoff,
        timeout=float(timeout) if timeout is not None else None,
        enabled=enabled,
        strict=strict,
        notify=notify,
    )


def _duration_field(raw: dict, name: str, default: str, bad) -> timedelta:
    value = raw.get(name, default)
    try:
        result = parse_duration(value)
    except ValueError as exc:
        bad(name, str(exc))
        return parse_duration(default)
    if result <= timedelta(0):
        bad(name, f"{value!r} must be longer than zero")
    return result


def _parameter_sets(value: Any, bad) -> tuple[ParameterSet, ...]:
    if value is None:
        value = {}
    raw_sets = value if isinstance(value, list) else [value]
    if not raw_sets:
        bad("parameters", "an empty list runs nothing; give at least one parameter set")
    sets: list[ParameterSet] = []
    for i, item in enumerate(raw_sets):
        where = f"set #{i + 1} " if isinstance(value, list) else ""
        if not isinstance(item, dict):
            bad("parameters", f"{where}must be a mapping of parameter name to value")
            continue
        for key in item:
            if key in RESERVED_PARAMETERS:
                bad(
                    "parameters",
                    f"{where}sets {key!r}, which the scheduler fills from the fire time; "
                    "use 'covers' to choose the time range",
                )
        sets.append(ParameterSet(dict(item)))
    keys = [s.key for s in sets]
    if len(set(keys)) != len(keys):
        bad("parameters", "two parameter sets are identical")
    return tuple(sets)


def _retention(value: Any, bad) -> Retention:
    if value is None:
        return Retention()
    if not isinstance(value, dict):
        bad("retention", f"{value!r} must be a mapping such as {{keep: 30}} or {{days: 14}}")
        return Retention()
    keep, days = value.get("keep"), value.get("days")
    for key in value:
        if key not in ("keep", "days"):
            bad("retention", f"unknown key {key!r}; accepted: keep, days")
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
        bad("retention", f"keep {keep!r} must be a whole number of runs, 1 or more")
        keep = None
    if days is not None and (
        isinstance(days, bool) or not isinstance(days, (int, float)) or days <= 0
    ):
        bad("retention", f"days {days!r} must be a number of days greater than 0")
        days = None
    return Retention(keep=keep, days=float(days) if days is not None else None)


def _catch_up(raw: dict, bad) -> tuple[str, int]:
    value = raw.get("catch_up", "latest")
    cap = raw.get("catch_up_cap", 10)
    if isinstance(value, dict):  # {policy: all, cap: 5}
        cap = value.get("cap", cap)
        value = value.get("policy", "latest")
    if value not in CATCH_UP_POLICIES:
        bad("catch_up", f"unknown policy {value!r}; {_closest(str(value), CATCH_UP_POLICIES)}")
        value = "latest"
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        bad("catch_up_cap", f"{cap!r} must be a whole number, 1 or more")
        cap = 10
    return value, cap


def _retries(value: Any, bad) -> tuple[int, timedelta]:
    backoff: Any = "1m"
    count = value
    if isinstance(value, dict):
        count = value.get("count", 0)
        backoff = value.get("backoff", "1m")
        for key in value:
            if key not in ("count", "backoff"):
                bad("retries", f"unknown key {key!r}; accepted: count, backoff")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        bad("retries", f"count {count!r} must be a whole number, 0 or more")
        count = 0
    try:
        delay = parse_duration(backoff)
    except ValueError as exc:
        bad("retries", f"backoff: {exc}")
        delay = timedelta(minutes=1)
    return count, delay


def check_against_catalog(schedule: Schedule) -> list[str]:
    """Problems found by resolving each job's notebooklet and parameter sets.

    Runs the catalogue's own checks (names, types, options) so that a typo in a
    schedule file shows up in ``schedule check``, not at 06:00 the next day.

    Example:
        >>> check_against_catalog(load_schedule())    # doctest: +SKIP
        []
    """
    return _catalog_problems(
        [
            (f"job {job.name!r}", job.notebooklet, job.parameter_sets, len(job.parameter_sets) > 1)
            for job in schedule.jobs
        ]
    )


def _catalog_problems(probes: list[tuple[str, str, tuple[ParameterSet, ...], bool]]) -> list[str]:
    from nbcatalog.catalog import get_template
    from nbcatalog.parameters import resolve

    problems: list[str] = []
    for label, notebooklet, sets, numbered in probes:
        try:
            template = get_template(notebooklet)
        except UsageError as exc:
            problems.append(f"{label}: field 'notebooklet': {exc}")
            continue
        for i, pset in enumerate(sets):
            where = f"set #{i + 1} " if numbered else ""
            values = {k: v for k, v in pset.values.items() if k not in RESERVED_PARAMETERS}
            try:
                resolve(template, {**values, "last": "1h"})
            except UsageError as exc:
                problems.append(f"{label}: field 'parameters': {where}{exc}")
    return problems
