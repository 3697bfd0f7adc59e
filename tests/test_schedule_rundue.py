"""run-due decides, claims and runs exactly the expected (job, fire time, parameter set)s.

The notebook runner is replaced by FakeRunner (real run folders, real history);
everything else is real: the schedule parser, croniter, SQLite claims.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from schedule_fakes import FakeRunner

from nbcatalog import history
from nbcatalog.schedules import claims as claimlib
from nbcatalog.schedules.rundue import run_due, run_job_now
from nbcatalog.schedules.spec import parse_schedule

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


THREE_JOBS = {
    "timezone": "Europe/London",
    "jobs": [
        {
            "name": "crown-jewels",
            "notebooklet": "host_summary",
            "parameters": [{"host": "WIN-DC01"}, {"host": "WIN-FS01"}, {"host": "LNX-DB01"}],
            "cron": "0 6 * * *",
            "covers": "24h",
            "catch_up": "latest",
        },
        {
            "name": "alert-triage",
            "notebooklet": "alert_triage",
            "parameters": {"severity": "High"},
            "cron": "0 * * * *",
            "timezone": "UTC",
            "covers": "1h",
            "catch_up": "all",
            "catch_up_cap": 3,
        },
        {
            "name": "jump-logons",
            "notebooklet": "host_summary",
            "parameters": {"host": "LNX-JUMP01"},
            "cron": "30 7 * * 1-5",
            "catch_up": "skip",
            "misfire_grace": "10m",
            "formats": ["html"],
        },
    ],
}


HOSTS = ("LNX-DB01", "WIN-DC01", "WIN-FS01")


def jewels(fire: str) -> list:
    """The three crown-jewel runs of one fire time, as FakeRunner.runs() lists them."""
    return [("crown-jewels", fire, (("host", h),)) for h in HOSTS]


def test_three_jobs_over_a_sequence_of_now_times(tmp_path):
    schedule = parse_schedule(THREE_JOBS)
    fake = FakeRunner()

    def call(now):
        before = len(fake.calls)
        run_due(schedule, now=at(now), output_dir=tmp_path, run=fake)
        return sorted(fake.runs()[before:])

    # First sight (Monday 2 March, GMT): jobs start now, nothing of the past runs.
    assert call("2026-03-02T05:55:00") == []
    assert call("2026-03-02T06:00:30") == sorted(
        jewels("2026-03-02T06:00:00Z")
        + [("alert-triage", "2026-03-02T06:00:00Z", (("severity", "High"),))]
    )
    # Calling again at once runs nothing twice.
    assert call("2026-03-02T06:00:40") == []
    assert call("2026-03-02T07:35:00") == [
        ("alert-triage", "2026-03-02T07:00:00Z", (("severity", "High"),)),
        ("jump-logons", "2026-03-02T07:30:00Z", (("host", "LNX-JUMP01"),)),
    ]
    # A day-long outage: latest runs only the newest 06:00, all runs the newest three
    # hours, skip drops 07:30 (2 h 30 late, beyond its 10 minute grace).
    assert call("2026-03-03T10:00:00") == sorted(
        jewels("2026-03-03T06:00:00Z")
        + [
            ("alert-triage", f"2026-03-03T{h:02d}:00:00Z", (("severity", "High"),))
            for h in (8, 9, 10)
        ]
    )
    # Each run covered the range before its fire time, passed as start/end.
    for c in fake.calls:
        fire = datetime.fromisoformat(c["labels"]["fire_time"].replace("Z", "+00:00"))
        span = timedelta(hours=1) if c["labels"]["job"] == "alert-triage" else timedelta(hours=24)
        assert (c["start"], c["end"]) == (fire - span, fire)
        assert c["labels"]["trigger"] == "schedule" and c["labels"]["attempt"] == 1
    # Everything is in the history and the index; html-only jobs keep no notebook.
    runs = history.list_runs(tmp_path)
    assert len(runs) == len(fake.calls) == 12
    jump = history.list_runs(tmp_path, job="jump-logons")[0]
    assert (
        "notebook" not in jump.paths and not (tmp_path / jump.run_dir / "notebook.ipynb").exists()
    )
    index = (tmp_path / "index.html").read_text()
    for r in runs:
        assert r.paths["report"] in index


def test_bst_fire_times_follow_the_wall_clock(tmp_path):
    # In summer 06:00 London is 05:00 UTC.
    schedule = parse_schedule({"jobs": [THREE_JOBS["jobs"][0] | {"timezone": "Europe/London"}]})
    fake = FakeRunner()
    run_due(schedule, now=at("2026-07-01T04:55:00"), output_dir=tmp_path, run=fake)
    run_due(schedule, now=at("2026-07-01T05:00:05"), output_dir=tmp_path, run=fake)
    assert {r[1] for r in fake.runs()} == {"2026-07-01T05:00:00Z"}


def hourly(policy: str, cap: int = 3, grace: str = "10m"):
    return parse_schedule(
        {
            "jobs": [
                {
                    "name": "hourly",
                    "notebooklet": "alert_triage",
                    "cron": "0 * * * *",
                    "catch_up": policy,
                    "catch_up_cap": cap,
                    "misfire_grace": grace,
                }
            ]
        }
    )


@pytest.mark.parametrize(
    "policy, cap, second_call, expected_hours",
    [
        # Missed 01:00..05:00 while nothing called; run-due comes back at 05:02.
        ("skip", 3, "2026-01-01T05:02:00", [5]),  # 05:00 is 2 minutes late: within grace
        ("skip", 3, "2026-01-01T05:30:00", []),  # 30 minutes late: skipped too
        ("latest", 3, "2026-01-01T05:30:00", [5]),
        ("all", 3, "2026-01-01T05:30:00", [3, 4, 5]),
        ("all", 10, "2026-01-01T05:30:00", [1, 2, 3, 4, 5]),
    ],
)
def test_missed_fire_times_per_catch_up_policy(tmp_path, policy, cap, second_call, expected_hours):
    schedule = hourly(policy, cap)
    fake = FakeRunner()
    run_due(schedule, now=at("2026-01-01T00:00:10"), output_dir=tmp_path, run=fake)
    assert [r[1] for r in fake.runs()] == ["2026-01-01T00:00:00Z"]
    fake.calls.clear()
    run_due(schedule, now=at(second_call), output_dir=tmp_path, run=fake)
    assert [r[1] for r in fake.runs()] == [f"2026-01-01T{h:02d}:00:00Z" for h in expected_hours]
    # Whatever was skipped stays skipped: the next call only sees new fire times.
    fake.calls.clear()
    run_due(schedule, now=at("2026-01-01T06:00:00"), output_dir=tmp_path, run=fake)
    assert [r[1] for r in fake.runs()] == ["2026-01-01T06:00:00Z"]


def test_a_new_job_does_not_run_its_past(tmp_path):
    fake = FakeRunner()
    run_due(hourly("all", 10), now=at("2026-01-01T05:30:00"), output_dir=tmp_path, run=fake)
    assert fake.calls == []


def _overlapping_worker(root: str, barrier, now: str) -> None:
    schedule = parse_schedule(THREE_JOBS)
    fake = FakeRunner(delay=0.2)
    barrier.wait()
    run_due(schedule, now=at(now), output_dir=Path(root), run=fake)


def test_overlapping_calls_in_two_processes_run_each_pair_once(tmp_path):
    schedule = parse_schedule(THREE_JOBS)
    run_due(schedule, now=at("2026-03-02T05:55:00"), output_dir=tmp_path, run=FakeRunner())
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_overlapping_worker, args=(str(tmp_path), barrier, now))
        for now in ("2026-03-02T06:00:20", "2026-03-02T06:00:21")
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    runs = history.list_runs(tmp_path)
    keys = sorted((r.job, r.fire_time, json.dumps(r.parameters.get("host"))) for r in runs)
    assert len(keys) == len(set(keys)) == 4  # three hosts + the hourly triage, once each
    conn = history.connect(tmp_path)
    owners = {row["pid"] for row in claimlib.claim_rows(conn)}
    conn.close()
    assert owners <= {p.pid for p in procs}


def test_a_failing_job_does_not_stop_the_others_and_is_not_rerun(tmp_path):
    schedule = parse_schedule(THREE_JOBS)
    fake = FakeRunner(fail=lambda name, params, labels: params.get("host") == "WIN-FS01")
    run_due(schedule, now=at("2026-03-02T05:55:00"), output_dir=tmp_path, run=fake)
    outcomes = run_due(schedule, now=at("2026-03-02T06:00:30"), output_dir=tmp_path, run=fake)
    status = {(o.job, o.parameters.get("host")): o.status for o in outcomes}
    assert status == {
        ("crown-jewels", "WIN-DC01"): "ok",
        ("crown-jewels", "WIN-FS01"): "failed",
        ("crown-jewels", "LNX-DB01"): "ok",
        ("alert-triage", None): "ok",
    }
    failed = history.list_runs(tmp_path, status="failed")
    assert len(failed) == 1 and "planted failure" in failed[0].error
    assert "cell 3" in failed[0].error and failed[0].paths["notebook"].endswith("notebook.ipynb")
    index = (tmp_path / "index.html").read_text()
    assert "partial notebook" in index and "planted failure" in index
    fake.calls.clear()
    run_due(schedule, now=at("2026-03-02T06:05:00"), output_dir=tmp_path, run=fake)
    assert fake.calls == []


def test_retries_back_off_then_succeed(tmp_path):
    spec = {
        "jobs": [
            {
                "name": "flaky",
                "notebooklet": "alert_triage",
                "cron": "0 * * * *",
                "retries": {"count": 3, "backoff": "30s"},
            }
        ]
    }
    schedule = parse_schedule(spec)
    fake = FakeRunner(fail=lambda name, params, labels: labels["attempt"] < 3)
    slept: list[float] = []
    run_due(schedule, now=at("2026-01-01T00:59:00"), output_dir=tmp_path, run=fake)
    (outcome,) = run_due(
        schedule, now=at("2026-01-01T01:00:00"), output_dir=tmp_path, run=fake, sleep=slept.append
    )
    assert (outcome.status, outcome.attempts) == ("ok", 3)
    assert slept == [30.0, 60.0]
    attempts = sorted((r.attempt, r.status) for r in history.list_runs(tmp_path, job="flaky"))
    assert attempts == [(1, "failed"), (2, "failed"), (3, "ok")]


def test_retries_run_out(tmp_path):
    spec = {
        "jobs": [
            {"name": "broken", "notebooklet": "x", "cron": "0 * * * *", "retries": 1},
            {"name": "fine", "notebooklet": "y", "cron": "0 * * * *"},
        ]
    }
    schedule = parse_schedule(spec)
    fake = FakeRunner(fail=lambda name, params, labels: name == "x")
    run_due(schedule, now=at("2026-01-01T00:59:00"), output_dir=tmp_path, run=fake)
    outcomes = run_due(
        schedule, now=at("2026-01-01T01:00:00"), output_dir=tmp_path, run=fake, sleep=lambda s: None
    )
    assert [(o.job, o.status, o.attempts) for o in outcomes] == [
        ("broken", "failed", 2),
        ("fine", "ok", 1),
    ]
    conn = history.connect(tmp_path)
    rows = {r["job"]: r["state"] for r in claimlib.claim_rows(conn)}
    conn.close()
    assert rows == {"broken": "failed", "fine": "ok"}


def test_claim_of_a_crashed_process_is_recovered(tmp_path):
    schedule = hourly("latest")
    fake = FakeRunner()
    run_due(schedule, now=at("2026-01-01T00:59:00"), output_dir=tmp_path, run=fake)
    # A process claims 01:00 and dies before finishing.
    dead = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert dead.returncode == 0
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    ghost = claimlib.Owner(claimlib.new_owner().host, child.pid, "ghost")
    conn = history.connect(tmp_path)
    fire = at("2026-01-01T01:00:00")
    won = claimlib.claim_due(
        conn, "hourly", lambda mark: ([fire], fire), schedule.jobs[0].parameter_sets, owner=ghost
    )
    assert len(won) == 1
    # A live process's fresh claim is left alone.
    live = claimlib.Owner(ghost.host, claimlib.new_owner().pid, "alive")
    fire2 = at("2026-01-01T02:00:00")
    claimlib.claim_due(
        conn, "hourly", lambda mark: ([fire2], fire2), schedule.jobs[0].parameter_sets, owner=live
    )
    conn.close()
    (outcome,) = run_due(schedule, now=at("2026-01-01T02:00:30"), output_dir=tmp_path, run=fake)
    assert (outcome.fire_time, outcome.status) == (fire, "ok")
    assert [r[1] for r in fake.runs()] == ["2026-01-01T01:00:00Z"]


def test_stop_request_releases_claims_for_the_next_call(tmp_path):
    schedule = parse_schedule(THREE_JOBS)
    fake = FakeRunner()
    run_due(schedule, now=at("2026-03-02T05:55:00"), output_dir=tmp_path, run=fake)
    stop = {"now": False}

    def stop_after_first(*args, **kwargs):
        stop["now"] = True
        return fake(*args, **kwargs)

    outcomes = run_due(
        schedule,
        now=at("2026-03-02T06:00:30"),
        output_dir=tmp_path,
        run=stop_after_first,
        should_stop=lambda: stop["now"],
    )
    assert [o.status for o in outcomes] == ["ok", "released", "released", "released"]
    fake.calls.clear()
    outcomes = run_due(schedule, now=at("2026-03-02T06:01:00"), output_dir=tmp_path, run=fake)
    assert sorted(o.status for o in outcomes) == ["ok"] * 3
    assert len(history.list_runs(tmp_path)) == 4


def test_manual_run_of_a_job(tmp_path):
    schedule = parse_schedule(THREE_JOBS)
    fake = FakeRunner()
    outcomes = run_job_now(
        schedule, "crown-jewels", now=at("2026-03-02T09:15:00"), output_dir=tmp_path, run=fake
    )
    assert [o.status for o in outcomes] == ["ok"] * 3
    assert {c["labels"]["trigger"] for c in fake.calls} == {"manual"}
    assert {r.trigger for r in history.list_runs(tmp_path, job="crown-jewels")} == {"manual"}
    # A manual run does not use up the scheduled fire time.
    run_due(schedule, now=at("2026-03-02T05:55:00"), output_dir=tmp_path, run=fake)
    fake.calls.clear()
    run_due(schedule, now=at("2026-03-03T06:00:00"), output_dir=tmp_path, run=fake)
    ran = [r for r in fake.runs() if r[0] == "crown-jewels"]
    assert sorted(ran) == jewels("2026-03-03T06:00:00Z")


def test_heartbeat_keeps_a_claim_alive_and_silence_makes_it_stale(tmp_path):
    schedule = hourly("latest")
    pset = schedule.jobs[0].parameter_sets
    conn = history.connect(tmp_path)
    fire = at("2026-01-01T01:00:00")
    # Claimed by a process on another machine: only its heartbeat says it is alive.
    remote = claimlib.Owner("other-host", 4242, "remote")
    (claim,) = claimlib.claim_due(conn, "hourly", lambda mark: ([fire], fire), pset, owner=remote)
    me = claimlib.new_owner()
    assert claimlib.reclaim_stale(conn, "hourly", owner=me, stale_after=0.5) == []
    with claimlib.Heartbeat(history.history_path(tmp_path), claim, every=0.05):
        time.sleep(0.8)  # longer than stale_after, but the heartbeat keeps it fresh
        assert claimlib.reclaim_stale(conn, "hourly", owner=me, stale_after=0.5) == []
    time.sleep(0.6)  # the heartbeat stopped: the claim goes stale
    (taken,) = claimlib.reclaim_stale(conn, "hourly", owner=me, stale_after=0.5)
    assert taken.recovered and taken.fire_time == fire
    assert claimlib.claim_rows(conn)[0]["owner"] == str(me)
    conn.close()


def test_a_run_failing_while_stopping_is_handed_back_and_rerun_once(tmp_path):
    schedule = hourly("latest")
    stop = {"now": False}

    def interrupted(name, params, labels):
        stop["now"] = True  # as when Ctrl-C reaches the kernel too
        return True

    run_due(schedule, now=at("2026-01-01T00:59:00"), output_dir=tmp_path, run=FakeRunner())
    (first,) = run_due(
        schedule,
        now=at("2026-01-01T01:00:00"),
        output_dir=tmp_path,
        run=FakeRunner(fail=interrupted),
        should_stop=lambda: stop["now"],
    )
    assert first.status == "released"
    fake = FakeRunner()
    (second,) = run_due(schedule, now=at("2026-01-01T01:00:30"), output_dir=tmp_path, run=fake)
    assert (second.status, second.attempts, second.fire_time) == ("ok", 2, at("2026-01-01T01:00"))
    assert [c["labels"]["attempt"] for c in fake.calls] == [2]
