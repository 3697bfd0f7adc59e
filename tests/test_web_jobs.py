"""The web job queue: at most `workers` runs at once, the rest wait in order.

The runner here is a stand-in with `nbcatalog.run`'s shape that waits on a gate
and leaves a run folder, so the order of events is the test's to decide (the
browser test runs the real thing on warm kernels).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace

from nbcatalog.errors import RunError, RunFailure
from nbcatalog.web.jobs import JobQueue


class GatedRunner:
    """Blocks each call until released; writes run.json with `status` like the runner."""

    def __init__(self, root: Path, status: str = "ok", fail: bool = False) -> None:
        self.root = root
        self.status = status
        self.fail = fail
        self.calls: list[tuple[str, dict]] = []
        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, name: str, **kwargs):
        with self._lock:
            self.calls.append((name, dict(kwargs)))
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            number = len(self.calls)
        self.started.release()
        assert self.release.wait(30)
        run_dir = self.root / name / f"20260101T00000{number}Z-abcdef"
        run_dir.mkdir(parents=True)
        (run_dir / "run.json").write_text(json.dumps({"status": self.status}), encoding="utf-8")
        with self._lock:
            self.running -= 1
        if self.fail:
            failure = RunFailure("exception", 3, "alerts", "KeyError", "'HostName'")
            raise RunError(name, failure, run_dir / "notebook.ipynb")
        return SimpleNamespace(status="ok", run_dir=run_dir)


def _wait_done(queue: JobQueue, jobs, seconds: float = 30) -> None:
    import time

    deadline = time.monotonic() + seconds
    while any(queue.get(j.id).state != "done" for j in jobs):
        assert time.monotonic() < deadline, [queue.get(j.id) for j in jobs]
        time.sleep(0.02)


def test_one_worker_runs_one_at_a_time_and_the_rest_queue_in_order(tmp_path):
    runner = GatedRunner(tmp_path, status="no_data")
    queue = JobQueue(tmp_path, workers=1, runner=runner, data_source="duckdb:/srv/x.duckdb")
    queue.start()
    secret = {"host": "WKSTN-1", "api_token": "s3cret"}
    shown = {"host": "WKSTN-1", "api_token": "<redacted>"}
    first = queue.submit("host_summary", secret, shown, user="ann")
    assert runner.started.acquire(timeout=10)
    second = queue.submit("host_summary", {"host": "WKSTN-2"}, {"host": "WKSTN-2"}, user="bob")
    third = queue.submit(
        "host_summary", {"host": "WKSTN-3"}, {"host": "WKSTN-3"}, user="ann", rerun_of="a/b"
    )
    assert [queue.get(j.id).state for j in (first, second, third)] == [
        "running",
        "queued",
        "queued",
    ]
    assert queue.ahead_of(second) == 0 and queue.ahead_of(third) == 1
    assert [j.id for j in queue.active()] == [first.id, second.id, third.id]
    runner.release.set()
    _wait_done(queue, (first, second, third))
    assert runner.most_at_once == 1
    assert [kw["host"] for _, kw in runner.calls] == ["WKSTN-1", "WKSTN-2", "WKSTN-3"]
    name, kwargs = runner.calls[0]
    assert name == "host_summary" and kwargs["api_token"] == "s3cret"
    assert kwargs["output_dir"] == tmp_path and kwargs["html"] is True
    assert kwargs["data_source"] == "duckdb:/srv/x.duckdb"
    assert kwargs["labels"] == {"trigger": "web", "user": "ann"}
    assert runner.calls[2][1]["labels"] == {"trigger": "web", "user": "ann", "rerun_of": "a/b"}
    done = queue.get(first.id)
    assert done.status == "no_data"  # the word run.json holds, not the runner's object
    assert done.run_dir == "host_summary/20260101T000001Z-abcdef"
    assert "s3cret" not in json.dumps(done.__dict__)
    assert queue.active() == []
    queue.shutdown()


def test_two_workers_run_two_at_once(tmp_path):
    runner = GatedRunner(tmp_path)
    queue = JobQueue(tmp_path, workers=2, runner=runner)
    jobs = [queue.submit("host_summary", {"host": f"H{i}"}, {}, user="u") for i in range(3)]
    assert runner.started.acquire(timeout=10) and runner.started.acquire(timeout=10)
    assert sorted(queue.get(j.id).state for j in jobs) == ["queued", "running", "running"]
    runner.release.set()
    _wait_done(queue, jobs)
    assert runner.most_at_once == 2
    queue.shutdown()


def test_a_failed_run_keeps_its_folder_and_message(tmp_path):
    runner = GatedRunner(tmp_path, status="failed", fail=True)
    runner.release.set()
    queue = JobQueue(tmp_path, workers=1, runner=runner)
    job = queue.submit("host_summary", {}, {}, user="u")
    _wait_done(queue, [job])
    done = queue.get(job.id)
    assert done.status == "failed"
    assert done.run_dir == "host_summary/20260101T000001Z-abcdef"
    assert "exception in cell 3 (section 'alerts'): KeyError" in done.error
    queue.shutdown()


def test_shutdown_lets_the_running_run_finish_and_cancels_the_queue(tmp_path):
    runner = GatedRunner(tmp_path)
    queue = JobQueue(tmp_path, workers=1, runner=runner)
    running = queue.submit("host_summary", {}, {}, user="u")
    assert runner.started.acquire(timeout=10)
    waiting = queue.submit("host_summary", {}, {}, user="u")
    threading.Timer(0.3, runner.release.set).start()
    queue.shutdown(wait=True)
    assert queue.get(running.id).status == "ok"
    assert queue.get(waiting.id).status == "cancelled"
    assert len(runner.calls) == 1
