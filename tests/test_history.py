"""Run history: record_run from run.json, idempotent, queried; retention and the index."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from schedule_fakes import FakeRunner

from nbcatalog import history
from nbcatalog.schedules.index import write_index
from nbcatalog.schedules.retention import apply_retention
from nbcatalog.schedules.rundue import run_due
from nbcatalog.schedules.spec import parse_schedule

UTC = timezone.utc
PLANTED = '<script>alert("nbcatalog")</script>'


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_record_run_is_idempotent_and_queryable(tmp_path):
    fake = FakeRunner(fail=lambda name, params, labels: name == "broken")
    ok = fake(
        "host_summary", output_dir=tmp_path, html=True, host="WKSTN-042", api_key="<redacted>"
    )
    try:
        fake("broken", output_dir=tmp_path, labels={"job": "j", "trigger": "manual"})
    except Exception as exc:  # noqa: BLE001
        assert "planted failure" in str(exc)
    history.record_run(ok.run_dir)
    history.record_run(ok.run_dir)
    runs = history.list_runs(tmp_path)
    assert len(runs) == 2
    good = history.list_runs(tmp_path, template="host_summary")[0]
    assert good.status == "ok" and good.trigger == "direct"
    assert good.parameters["host"] == "WKSTN-042" and good.parameters["api_key"] == "<redacted>"
    assert set(good.paths) == {"notebook", "run_json", "report"}
    assert all(not p.startswith("/") for p in good.paths.values())
    assert good.started.endswith("Z") and good.ended >= good.started
    (bad,) = history.list_runs(tmp_path, status="failed")
    assert (bad.job, bad.trigger, bad.template) == ("j", "manual", "broken")
    assert "ValueError: planted failure" in bad.error and "section 'alerts'" in bad.error
    assert history.list_runs(tmp_path, job="j") == [bad]
    assert history.list_runs(tmp_path / "elsewhere") == []


def test_index_escapes_everything_and_links_runs(tmp_path):
    fake = FakeRunner(fail=lambda name, params, labels: params.get("host") == "bad")
    fake("host_summary", output_dir=tmp_path, html=True, host=PLANTED)
    try:
        fake("host_summary", output_dir=tmp_path, host="bad", labels={"job": PLANTED})
    except Exception:  # noqa: BLE001
        pass
    page = write_index(tmp_path).read_text()
    # One script, the filter's own, allowed by its hash; the planted one is text.
    assert PLANTED not in page and page.count("<script") == 1
    assert "script-src 'sha256-" in page and "unsafe-eval" not in page
    assert "&lt;script&gt;alert(&quot;nbcatalog&quot;)&lt;/script&gt;" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched
    hrefs = re.findall(r'href="([^"#]+)"', page)
    assert hrefs and all((tmp_path / h).exists() for h in hrefs)
    assert "partial notebook" in page and 'id="by-job"' in page and 'id="by-notebooklet"' in page


def test_retention_removes_folders_rows_and_index_entries_together(tmp_path):
    schedule = parse_schedule(
        {
            "jobs": [
                {
                    "name": "daily",
                    "notebooklet": "host_summary",
                    "parameters": [{"host": "A"}, {"host": "B"}],
                    "cron": "0 6 * * *",
                    "retention": {"keep": 2},
                },
                {
                    "name": "weekly",
                    "notebooklet": "account_summary",
                    "cron": "0 7 * * *",
                    "retention": {"days": 3},
                },
            ]
        }
    )
    fake = FakeRunner()
    run_due(schedule, now=at("2026-05-01T05:55"), output_dir=tmp_path, run=fake)
    for day in range(1, 6):
        run_due(schedule, now=at(f"2026-05-0{day}T07:00"), output_dir=tmp_path, run=fake)
    daily = history.list_runs(tmp_path, job="daily")
    assert sorted((r.parameters["host"], r.fire_time) for r in daily) == [
        (h, f"2026-05-0{d}T06:00:00Z") for h in "AB" for d in (4, 5)
    ]
    weekly = history.list_runs(tmp_path, job="weekly")
    assert sorted(r.fire_time for r in weekly) == [f"2026-05-0{d}T07:00:00Z" for d in (2, 3, 4, 5)]
    # The folders on disk are exactly those in the history; the index links only them.
    on_disk = {p.parent.relative_to(tmp_path).as_posix() for p in tmp_path.glob("*/*/run.json")}
    assert on_disk == {r.run_dir for r in history.list_runs(tmp_path)}
    page = (tmp_path / "index.html").read_text()
    # 15 runs made, 8 kept; each listed once by job and once by notebooklet.
    assert len(fake.calls) == 15 and page.count("run.json</a>") == 2 * 8
    assert not (tmp_path / ".trash").exists() or not any((tmp_path / ".trash").iterdir())


def test_retention_drops_rows_of_vanished_folders(tmp_path):
    schedule = parse_schedule(
        {"jobs": [{"name": "d", "notebooklet": "n", "cron": "@daily", "retention": {"keep": 5}}]}
    )
    fake = FakeRunner()
    run_due(schedule, now=at("2026-05-01T00:00"), output_dir=tmp_path, run=fake)
    (run,) = history.list_runs(tmp_path)
    for f in (tmp_path / run.run_dir).iterdir():
        f.unlink()
    (tmp_path / run.run_dir).rmdir()
    apply_retention(tmp_path, schedule.jobs[0], now=at("2026-05-01T00:01"))
    assert history.list_runs(tmp_path) == []


def test_history_reads_runner_style_run_json(tmp_path):
    """Keys as nbcatalog.runner writes them: start/end the covered range, started/finished
    the execution, notebook/report paths at the top level, error as a mapping."""
    run_dir = tmp_path / "account_summary" / "20260101T000000Z-abc123"
    run_dir.mkdir(parents=True)
    (run_dir / "notebook.ipynb").write_text("{}")
    info = {
        "template": "account_summary",
        "version": 2,
        "parameters": {"account": "bob", "start": "2025-12-31T01:00:00+01:00"},
        "start": "2025-12-31T00:00:00+00:00",
        "end": "2026-01-01T00:00:00+00:00",
        "started": "2026-01-01T00:00:01+00:00",
        "finished": "2026-01-01T00:00:09+00:00",
        "status": "failed",
        "error": {
            "kind": "exception",
            "cell_index": 4,
            "section": "activity",
            "exception_type": "KeyError",
            "message": "'x'",
        },
        "labels": {"job": "bob", "fire_time": "2026-01-01T00:00:00+00:00", "attempt": "2"},
        "notebook": str(run_dir / "notebook.ipynb"),
        "report": None,
    }
    (run_dir / "run.json").write_text(json.dumps(info))
    history.record_run(run_dir)
    (rec,) = history.list_runs(tmp_path)
    assert (rec.range_start, rec.range_end) == ("2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z")
    assert (rec.started, rec.ended) == ("2026-01-01T00:00:01Z", "2026-01-01T00:00:09Z")
    assert rec.fire_time == "2026-01-01T00:00:00Z" and rec.attempt == 2 and rec.version == "2"
    assert rec.error == "cell 4 (section 'activity'): exception: KeyError: 'x'"
    assert rec.paths == {
        "notebook": "account_summary/20260101T000000Z-abc123/notebook.ipynb",
        "run_json": "account_summary/20260101T000000Z-abc123/run.json",
    }
    assert (tmp_path / "index.html").exists()


def _runner_style_run(root, name: str, status: str = "ok", **extra):
    run_dir = root / "host_summary" / name
    run_dir.mkdir(parents=True, exist_ok=True)
    info = {
        "template": "host_summary",
        "parameters": {"host": "WKSTN-042"},
        "started": "2026-01-01T00:00:01+00:00",
        "status": status,
        **extra,
    }
    (run_dir / "run.json").write_text(json.dumps(info))
    return run_dir


def test_history_survives_its_database_being_deleted_and_created_again(tmp_path):
    """The per-thread connection must not keep writing into a deleted file."""
    history.record_run(_runner_style_run(tmp_path, "20260101T000000Z-aaaaaa"), update_index=False)
    assert [r.run_dir for r in history.list_runs(tmp_path)] == [
        "host_summary/20260101T000000Z-aaaaaa"
    ]
    for suffix in ("", "-wal", "-shm"):  # as `rm history.sqlite*` or a restored backup
        (tmp_path / f"history.sqlite{suffix}").unlink(missing_ok=True)
    history.record_run(_runner_style_run(tmp_path, "20260102T000000Z-bbbbbb"), update_index=False)
    # A fresh process sees what this one wrote: it reached the new file on disk.
    import sqlite3

    with sqlite3.connect(tmp_path / "history.sqlite") as other:
        rows = [r[0] for r in other.execute("SELECT run_dir FROM runs")]
    assert rows == ["host_summary/20260102T000000Z-bbbbbb"]


def test_index_follows_each_change_of_a_runs_run_json(tmp_path):
    """Rows drawn from remembered run.json versions still change when run.json does."""
    run_dir = _runner_style_run(tmp_path, "20260101T000000Z-cccccc", findings=[])
    history.record_run(run_dir)
    page = (tmp_path / "index.html").read_text()
    assert "Brute force from 203.0.113.7" not in page
    # The same status and a run.json of the same size class: only the findings differ.
    _runner_style_run(
        tmp_path,
        "20260101T000000Z-cccccc",
        findings=[{"severity": "high", "title": "Brute force from 203.0.113.7"}],
    )
    history.record_run(run_dir)
    page = (tmp_path / "index.html").read_text()
    assert "Brute force from 203.0.113.7" in page and "level-high" in page
    _runner_style_run(tmp_path, "20260101T000000Z-cccccc", status="no_data")
    history.record_run(run_dir)
    page = (tmp_path / "index.html").read_text()
    assert "Brute force from 203.0.113.7" not in page and "status-no_data" in page
