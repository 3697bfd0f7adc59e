"""The scheduler with the real runner: `nbcatalog schedule …` as a user runs it.

Real kernels, the demo store, real HTML reports; two overlapping run-due
processes; serve in a subprocess stopped with SIGTERM in the middle of a run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from run_helpers import fixture_path

from nbcatalog.history import utc_text

pytestmark = pytest.mark.slow

NBCATALOG = [sys.executable, "-m", "nbcatalog.cli.main"]
UTC = timezone.utc


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cli(*args: str, env: dict, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [*NBCATALOG, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    if check and proc.returncode not in (0, 1):
        raise AssertionError(f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def env(demo_db: Path, tmp_path: Path) -> dict:
    values = dict(os.environ)
    values.update(
        NBCATALOG_SOURCE=f"duckdb:{demo_db}",
        NBCATALOG_OUTPUT=str(tmp_path / "output"),
        NBCATALOG_SCHEDULES=str(tmp_path / "schedules.yaml"),
        NBCATALOG_CONFIG=str(tmp_path / "no-config.toml"),
    )
    return values


def write_schedule(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_run_due_produces_real_reports_once_even_with_overlapping_calls(env, tmp_path):
    write_schedule(
        tmp_path / "schedules.yaml",
        f"""
jobs:
  - name: crown-jewels
    notebooklet: host-summary
    parameters: [{{host: WKSTN-042}}, {{host: WIN-DC01}}]
    cron: "0 6 * * *"
    timezone: Europe/London
    covers: 7d
  - name: bob
    notebooklet: account_summary
    parameters: {{account: bob}}
    cron: "0 * * * *"
    covers: 7d
    formats: [html]
  - name: broken
    notebooklet: {fixture_path("fixture_raises")}
    cron: "0 6 * * *"
    retries: {{count: 1, backoff: 1s}}
""",
    )
    check = cli("schedule", "check", env=env, cwd=tmp_path)
    assert check.returncode == 0 and "3 job(s) OK" in check.stdout, check.stderr
    # Today 04:30 UTC first (jobs start), then 07:01 UTC: every job has one due fire time.
    midnight = datetime.combine(datetime.now(timezone.utc).date(), datetime.min.time(), UTC)
    first = midnight + timedelta(hours=4, minutes=30)
    later = midnight + timedelta(hours=7, minutes=1)
    out = cli("schedule", "run-due", "--now", first.isoformat(), env=env, cwd=tmp_path)
    assert out.returncode == 0 and "nothing due" in out.stdout
    # Two overlapping calls at the same moment: every (job, fire time, host) runs once.
    procs = [
        subprocess.Popen(
            [*NBCATALOG, "schedule", "run-due", "--now", later.isoformat(), "--json"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    # Exit 1 from the call that ran the failing job, 0 from the other (or both 1).
    assert 1 in {p.returncode for p in procs} and {p.returncode for p in procs} <= {0, 1}
    outcomes = [o for stdout, _ in results for o in json.loads(stdout)]
    ran = sorted(
        (o["job"], o["fire_time"], json.dumps(o["parameters"], sort_keys=True), o["status"])
        for o in outcomes
    )
    london_six = datetime.combine(midnight.date(), datetime.min.time().replace(hour=6))
    six = utc_text(london_six.replace(tzinfo=ZoneInfo("Europe/London")))
    assert ran == sorted(
        [
            ("bob", utc_text(midnight + timedelta(hours=7)), '{"account": "bob"}', "ok"),
            ("broken", utc_text(midnight + timedelta(hours=6)), "{}", "failed"),
            ("crown-jewels", six, '{"host": "WIN-DC01"}', "ok"),
            ("crown-jewels", six, '{"host": "WKSTN-042"}', "ok"),
        ]
    )

    root = tmp_path / "output"
    history = json.loads(cli("history", "--json", env=env, cwd=tmp_path).stdout)
    assert sorted((r["job"], r["status"], r["attempt"]) for r in history) == [
        ("bob", "ok", 1),
        ("broken", "failed", 1),
        ("broken", "failed", 2),
        ("crown-jewels", "ok", 1),
        ("crown-jewels", "ok", 1),
    ]
    for record in history:
        # The notebook got the fire time and the covered range as its start/end.
        assert record["range_end"] == record["fire_time"]
        span = timedelta(days=1 if record["job"] == "broken" else 7)  # covers: default 24h
        assert record["range_start"] == utc_text(parse(record["fire_time"]) - span)
        if record["status"] == "ok":
            report = (root / record["paths"]["report"]).read_text(encoding="utf-8")
            assert "<script>alert(" not in report
            if record["job"] == "crown-jewels":
                assert record["parameters"]["host"] in report
            if record["job"] == "bob":
                assert "notebook" not in record["paths"]  # formats: [html]
        else:
            assert "report" not in record["paths"]
            assert (root / record["paths"]["notebook"]).exists()
    failed = json.loads(
        cli(
            "history", "--job", "broken", "--status", "failed", "--json", env=env, cwd=tmp_path
        ).stdout
    )
    assert len(failed) == 2 and all(r["error"] for r in failed)
    index = (root / "index.html").read_text(encoding="utf-8")
    assert index.count("partial notebook") == 2 * 2  # by job and by notebooklet
    # Nothing more is due a minute later.
    next_minute = (later + timedelta(minutes=1)).isoformat()
    again = cli("schedule", "run-due", "--now", next_minute, env=env, cwd=tmp_path)
    assert again.returncode == 0 and "nothing due" in again.stdout


def test_schedule_run_job_is_recorded_as_manual(env, tmp_path):
    write_schedule(
        tmp_path / "schedules.yaml",
        """
jobs:
  - name: dc
    notebooklet: host_summary
    parameters: {host: WIN-DC01}
    cron: "0 6 * * *"
""",
    )
    out = cli("schedule", "run", "dc", "--json", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (outcome,) = json.loads(out.stdout)
    assert outcome["status"] == "ok" and outcome["trigger"] == "manual"
    (record,) = json.loads(cli("history", "--job", "dc", "--json", env=env, cwd=tmp_path).stdout)
    assert record["trigger"] == "manual" and record["paths"]["report"].endswith("report.html")
    unknown = cli("schedule", "run", "dcc", env=env, cwd=tmp_path, check=False)
    assert unknown.returncode == 2 and "did you mean 'dc'" in unknown.stderr


def test_serve_runs_a_once_a_minute_job_and_stops_cleanly_on_sigterm(env, tmp_path):
    write_schedule(
        tmp_path / "schedules.yaml",
        """
jobs:
  - name: every-minute
    notebooklet: host_summary
    parameters: {host: WKSTN-042}
    cron: "* * * * *"
    covers: 7d
    catch_up: skip
    misfire_grace: 1s
""",
    )
    # Start the clock 3 seconds before a minute boundary so the test need not wait for one.
    real = datetime.now(timezone.utc)
    start = real.replace(second=57, microsecond=0)
    started = time.monotonic()
    proc = subprocess.Popen(
        [*NBCATALOG, "schedule", "serve", "--now", start.isoformat()],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    root = tmp_path / "output"
    try:
        # Wait until a run is under way, then ask serve to stop in the middle of it.
        deadline = time.monotonic() + 60
        while not list(root.glob("host_summary/*/run.json")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "serve started no run"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert time.monotonic() - started < 110
    assert "SIGTERM" in stderr and "stopped" in stderr
    (run_json,) = root.glob("host_summary/*/run.json")
    info = json.loads(run_json.read_text())
    # The run in progress was finished, not cut: complete folder, report, history row.
    assert info["status"] == "ok" and (run_json.parent / "report.html").exists()
    assert info["labels"]["job"] == "every-minute"
    fire = datetime.fromisoformat(info["labels"]["fire_time"].replace("Z", "+00:00"))
    assert fire.second == 0 and fire > start
    assert info["end"].startswith(fire.strftime("%Y-%m-%dT%H:%M"))
    assert "every-minute" in stdout and ": ok" in stdout
    history = json.loads(cli("history", "--json", env=env, cwd=tmp_path).stdout)
    assert [r["status"] for r in history] == ["ok"]
    assert "report.html" in (root / "index.html").read_text()
    assert not list(root.glob("host_summary/*/*.tmp*"))
