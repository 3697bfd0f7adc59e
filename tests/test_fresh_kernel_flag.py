"""`--fresh-kernel` on the long-lived commands reaches `nbcatalog.run` (no kernels needed).

The run callable is replaced by a recorder: these tests check the plumbing from the
command line (and `run_many`) to the run call, not the kernels themselves (the
pool and fresh-kernel runs have their own tests).
"""

from __future__ import annotations

from click.testing import CliRunner
from nbcatalog.cli.main import main
from schedule_fakes import FakeRunner

import nbcatalog
from nbcatalog import batch as batchlib
from nbcatalog import runner


class RecordingRun:
    """Stands in for nbcatalog.runner.run: records its keywords, then fails the run."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, name, **kwargs):
        self.calls.append(kwargs)
        raise RuntimeError("recorded, not run")


def test_run_entity_passes_fresh_kernel(monkeypatch):
    recorder = RecordingRun()
    monkeypatch.setattr(runner, "run", recorder)
    common = {"output_dir": "unused", "html": False, "timeout": None, "retries": 0, "labels": {}}
    first = batchlib.run_entity("host_summary", 0, {"host": "a"}, {}, **common)
    second = batchlib.run_entity("host_summary", 1, {"host": "b"}, {}, fresh_kernel=True, **common)
    assert first.status == second.status == "failed"
    assert "recorded, not run" in second.error
    assert [c["fresh_kernel"] for c in recorder.calls] == [False, True]


def test_batch_cli_fresh_kernel_reaches_every_run(monkeypatch, tmp_path):
    recorder = RecordingRun()
    monkeypatch.setattr(runner, "run", recorder)
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("WKSTN-001\nWKSTN-002\nWIN-DC01\n")
    result = CliRunner().invoke(
        main,
        ["batch", "host_summary", "--host-file", str(hosts), "--fresh-kernel", "--workers", "2",
         "--retries", "0", "--quiet", "--output", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # every run "failed" in the recorder
    assert "0 of 3 run(s) ok" in result.output
    assert sorted(c["host"] for c in recorder.calls) == ["WIN-DC01", "WKSTN-001", "WKSTN-002"]
    assert all(c["fresh_kernel"] is True and c["pool"] is None for c in recorder.calls)


def test_batch_help_lists_fresh_kernel():
    result = CliRunner().invoke(main, ["batch", "host_summary", "--help"])
    assert result.exit_code == 0 and "--fresh-kernel" in result.output


SCHEDULE = """
jobs:
  - name: tick
    notebooklet: host_summary
    parameters: {host: WKSTN-042}
    cron: "0 6 * * *"
"""


def test_schedule_run_and_run_due_pass_fresh_kernel_only_when_asked(monkeypatch, tmp_path):
    fake = FakeRunner()
    monkeypatch.setattr(nbcatalog, "run", fake)
    spec = tmp_path / "s.yaml"
    spec.write_text(SCHEDULE)
    out = tmp_path / "out"

    def invoke(*args: str) -> None:
        result = CliRunner().invoke(
            main, ["schedule", *args, "--file", str(spec), "--output", str(out)]
        )
        assert result.exit_code == 0, result.output

    invoke("run", "tick", "--fresh-kernel")
    invoke("run", "tick")
    invoke("run-due", "--now", "2026-01-02T05:00:00Z")  # first sight of the job: nothing due
    invoke("run-due", "--now", "2026-01-02T07:00:00Z", "--fresh-kernel")  # 06:00 is due
    assert [c["params"].get("fresh_kernel") for c in fake.calls] == [True, None, True]
    assert all(c["params"]["host"] == "WKSTN-042" for c in fake.calls)


def test_schedule_serve_help_and_run_help_explain_kernels():
    serve = CliRunner().invoke(main, ["schedule", "serve", "--help"])
    assert "--fresh-kernel" in serve.output
    run_help = CliRunner().invoke(main, ["run", "--help"])
    assert "fresh kernel" in run_help.output and "nbcatalog batch" in run_help.output
