"""A scheduled job whose host is mistyped must not stay green for ever.

A run that ends no_data is recorded as no_data (history keeps the true word), is not
retried, and for a strict job (the default) makes `schedule run-due` exit 3 and shows red
on the index page with what was missing; `strict: false` keeps the job green but still
says no_data. The first tests use FakeRunner (real folders, history and index); the last
runs `nbcatalog schedule run-due` with real kernels on the demo store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from nbcatalog.cli.main import main
from schedule_fakes import FakeRunner

from nbcatalog import history
from nbcatalog.schedules import claims as claimlib
from nbcatalog.schedules.rundue import exit_code, run_due
from nbcatalog.schedules.spec import ScheduleError, parse_schedule

UTC = timezone.utc
NOW = datetime(2026, 3, 2, 6, 1, tzinfo=UTC)


def schedule(strict: bool | None = None, retries: int = 2):
    job = {
        "name": "crown-jewels",
        "notebooklet": "host_summary",
        "parameters": [{"host": "WIN-DC01"}, {"host": "WIN-DCO1"}],  # the second: a typo
        "cron": "0 6 * * *",
        "retries": {"count": retries, "backoff": "1s"},
    }
    if strict is not None:
        job["strict"] = strict
    return parse_schedule({"jobs": [job]})


def typo(name, params, labels) -> bool:
    return params.get("host") == "WIN-DCO1"


def run(tmp_path: Path, spec) -> tuple[list, FakeRunner]:
    fake = FakeRunner(no_data=typo)
    first = run_due(spec, now=NOW - timedelta(minutes=2), output_dir=tmp_path, run=fake)
    assert first == []  # a new job never runs its past
    return run_due(spec, now=NOW, output_dir=tmp_path, run=fake, sleep=lambda s: None), fake


def test_strict_is_the_default_and_must_be_true_or_false():
    assert schedule().jobs[0].strict is True
    assert schedule(strict=False).jobs[0].strict is False
    with pytest.raises(ScheduleError, match="field 'strict': 'yes' must be true or false"):
        parse_schedule(
            {"jobs": [{"name": "j", "notebooklet": "n", "cron": "@daily", "strict": "yes"}]}
        )


def test_a_mistyped_host_ends_no_data_is_not_retried_and_fails_a_strict_job(tmp_path):
    outcomes, fake = run(tmp_path, schedule())
    status = {o.parameters["host"]: o.status for o in outcomes}
    assert status == {"WIN-DC01": "ok", "WIN-DCO1": "no_data"}
    empty = next(o for o in outcomes if o.status == "no_data")
    assert empty.attempts == 1 and len(fake.calls) == 2  # retries: 2, none used on no_data
    assert empty.reason.startswith("no host named 'WIN-DCO1'") and empty.strict
    assert exit_code(outcomes) == 3
    # The history keeps the true word; the claim is finished, not left to be retried.
    (row,) = history.list_runs(tmp_path, status="no_data")
    assert row.reason == empty.reason and row.labels["strict"] is True
    conn = history.connect(tmp_path)
    try:
        states = {json.loads(r["params"])["host"]: r["state"] for r in claimlib.claim_rows(conn)}
    finally:
        conn.close()
    assert states == {"WIN-DC01": "ok", "WIN-DCO1": "no_data"}
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<span class="status status-no_data strict"' in page  # red, like a failure
    assert "no_data (strict)</span>" in page
    assert "no data: no host named &#x27;WIN-DCO1&#x27; in this data source" in page
    assert "1 ok, 1 no_data" in page


def test_strict_false_keeps_the_job_green_but_still_says_no_data(tmp_path):
    outcomes, _ = run(tmp_path, schedule(strict=False))
    assert sorted(o.status for o in outcomes) == ["no_data", "ok"]
    assert exit_code(outcomes) == 0
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<span class="status status-no_data">no_data</span>' in page  # amber, not red
    assert "status-no_data strict" not in page
    assert '<div class="reason">no data: no host named' in page


def test_a_failure_still_wins_over_no_data():
    from nbcatalog.schedules.rundue import Outcome

    both = [Outcome("a", None, {}, "no_data", strict=True), Outcome("b", None, {}, "failed")]
    assert exit_code(both) == 1
    assert exit_code([Outcome("a", None, {}, "no_data", strict=False)]) == 0


def test_history_and_run_due_print_what_was_missing(tmp_path):
    run(tmp_path, schedule())
    listed = CliRunner().invoke(main, ["history", "--output", str(tmp_path), "--status", "no_data"])
    assert listed.exit_code == 0
    assert "no_data" in listed.output and "no data: no host named 'WIN-DCO1'" in listed.output


# ------------------------------------------------------------ with real kernels


@pytest.mark.slow
def test_schedule_run_due_with_a_mistyped_host_exits_3(demo_db, tmp_path):
    env = {
        **os.environ,
        "NBCATALOG_SOURCE": f"duckdb:{demo_db}",
        "NBCATALOG_OUTPUT": str(tmp_path / "output"),
        "NBCATALOG_SCHEDULES": str(tmp_path / "schedules.yaml"),
        "NBCATALOG_CONFIG": str(tmp_path / "no-config.toml"),
    }
    (tmp_path / "schedules.yaml").write_text(
        "jobs:\n"
        "  - name: typo\n"
        "    notebooklet: host_logons_summary\n"
        "    parameters: {host: WKSTN-42x}\n"
        "    cron: '0 6 * * *'\n"
        "    covers: 7d\n"
        "    formats: [html]\n"
        "  - name: typo-lenient\n"
        "    notebooklet: host_logons_summary\n"
        "    parameters: {host: WKSTN-42y}\n"
        "    cron: '0 6 * * *'\n"
        "    covers: 7d\n"
        "    strict: false\n",
        encoding="utf-8",
    )
    midnight = datetime.combine(datetime.now(UTC).date(), datetime.min.time(), UTC)

    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "nbcatalog.cli.main", *args]
        return subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
        )

    assert cli("schedule", "run-due", "--now", (midnight + timedelta(hours=5)).isoformat())
    due = cli(
        "schedule", "run-due", "--now", (midnight + timedelta(hours=6, minutes=1)).isoformat()
    )
    assert due.returncode == 3, due.stdout + due.stderr
    assert "typo [host=WKSTN-42x]" in due.stdout and ": no_data" in due.stdout
    assert "no data: no host named 'WKSTN-42x' in this data source (closest: WKSTN-042" in (
        due.stdout
    )
    assert "(strict job: counted as a failure)" in due.stdout
    assert "(strict: false)" in due.stdout
    page = (tmp_path / "output" / "index.html").read_text(encoding="utf-8")
    # Each run is listed by job and by notebooklet: the strict one red twice, the other amber.
    assert page.count('class="status status-no_data strict"') == 2
    assert page.count('class="status status-no_data"') == 2
    rows = {r.job: r for r in history.list_runs(tmp_path / "output")}
    assert rows["typo"].status == rows["typo-lenient"].status == "no_data"
    report = Path(tmp_path / "output" / rows["typo"].paths["report"]).read_text(encoding="utf-8")
    assert "NO DATA" in report
    lenient = cli("schedule", "run", "typo-lenient")
    assert lenient.returncode == 0 and ": no_data" in lenient.stdout
