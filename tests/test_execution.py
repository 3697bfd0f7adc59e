"""Execution on real kernels: run folders, parameters, secrets and the three failures."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from helpers.execution import NO_SPACE, no_space_left, run_fixture_ok
from run_helpers import SECRET, failed_run, fixture_path, ok_run, output_root

import nbcatalog
from nbcatalog.errors import ParameterError, RunError
from nbcatalog.runfolder import new_run_dir, write_json

pytestmark = pytest.mark.slow


def test_run_folder_holds_notebook_and_run_json():
    res = ok_run()
    assert res.run_dir.parent == output_root() / "fixture_ok"
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", res.run_dir.name)
    names = sorted(p.name for p in res.run_dir.iterdir())
    assert names == ["data", "notebook.ipynb", "report.html", "run.json"]
    info = json.loads((res.run_dir / "run.json").read_text())
    assert info["status"] == "ok"
    assert info["template"] == "fixture_ok"
    assert info["version"] == "1"
    template_bytes = Path(fixture_path("fixture_ok")).read_bytes()
    assert info["content_hash"] == hashlib.sha256(template_bytes).hexdigest()
    assert info["start"] == "2024-05-01T00:00:00Z" and info["end"] == "2024-05-02T00:00:00Z"
    assert info["data_source"].startswith("duckdb:")
    assert info["labels"] == {"case": "INC-1"}
    assert info["parameters"]["host"] == "WKSTN-042"
    assert info["parameters"]["count"] == 5
    assert info["versions"]["papermill"] and info["versions"]["python"]
    assert info["results"]["lines"] == {
        "type": "DataFrame",
        "rows": 2,
        "columns": ["TimeGenerated", "CommandLine", "Count"],
    }
    assert info["error"] is None


def test_parameters_are_injected_into_the_kernel():
    res = ok_run()
    assert res.host_name == "WKSTN-042"
    assert res.count == 5  # "5" was coerced to an int before injection
    assert res.window["start"] == "2024-05-01T00:00:00Z"
    assert res.window["source"] == res.parameters["data_source"]


def test_secret_reaches_the_kernel_but_is_never_saved():
    res = ok_run()
    assert res.token_sha == hashlib.sha256(SECRET.encode()).hexdigest()
    assert res.parameters["api_token"] == "<redacted>"
    for path in res.run_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    nb = nbformat.read(res.notebook_path, as_version=4)
    assert nb.metadata.papermill.parameters["api_token"] == "<redacted>"


def test_every_run_lands_in_the_history():
    from nbcatalog import history

    res = ok_run()
    raised = failed_run("fixture_raises")
    runs = {r.run_dir: r for r in history.list_runs(output_root())}
    ok_row = runs[f"fixture_ok/{res.run_dir.name}"]
    assert ok_row.status == "ok" and ok_row.labels == {"case": "INC-1"}
    assert ok_row.parameters["api_token"] == "<redacted>"
    failed_row = runs[f"fixture_raises/{raised.notebook_path.parent.name}"]
    assert failed_row.status == "failed" and "planted failure" in failed_row.error


def test_no_temporary_files_left_in_run_folder():
    res = ok_run()
    leftovers = [p.name for p in res.run_dir.rglob(".*")]
    assert leftovers == []


def test_bad_parameter_fails_before_any_kernel_or_folder(tmp_path):
    with pytest.raises(ParameterError, match=r"'count'.*whole number"):
        nbcatalog.run(fixture_path("fixture_ok"), count="many", output_dir=tmp_path)
    with pytest.raises(ParameterError, match=r"unknown parameter 'hots'.*'host'"):
        nbcatalog.run(fixture_path("fixture_ok"), hots="x", output_dir=tmp_path)
    with pytest.raises(ParameterError, match="end .* must be after start"):
        nbcatalog.run(
            fixture_path("fixture_ok"), start="2024-05-02", end="2024-05-01", output_dir=tmp_path
        )
    with pytest.raises(ParameterError, match="timeout"):
        nbcatalog.run(fixture_path("fixture_ok"), timeout=-1, output_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def _run_json(exc: RunError) -> dict:
    return json.loads((exc.notebook_path.parent / "run.json").read_text())


def test_cell_that_raises():
    exc = failed_run("fixture_raises")
    assert exc.failure.kind == "exception"
    assert exc.failure.cell_index == 5  # the code cell of section "boom" in the template
    assert exc.failure.section == "boom"
    assert exc.failure.exception_type == "ValueError"
    text = str(exc)
    for part in ("fixture_raises", "cell 5", "'boom'", "ValueError", "planted failure"):
        assert part in text
    assert str(exc.notebook_path) in text
    info = _run_json(exc)
    assert info["status"] == "failed"
    assert info["error"]["section"] == "boom" and info["error"]["cell_index"] == 5
    nb = nbformat.read(exc.notebook_path, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any(o.output_type == "stream" and "setup done" in o.text for o in outputs)
    assert any(o.output_type == "error" and o.ename == "ValueError" for o in outputs)
    assert not any("never runs" in str(o) for o in outputs)


def test_cell_that_times_out():
    started = time.monotonic()
    exc = failed_run("fixture_sleeps", timeout=3)
    assert time.monotonic() - started < 30  # the template would sleep 120 s
    assert exc.failure.kind == "timeout"
    assert exc.failure.section == "slow"
    assert exc.failure.cell_index == 3
    assert exc.failure.exception_type == "CellTimeoutError"
    assert "3 s" in exc.failure.message
    assert _run_json(exc)["error"]["kind"] == "timeout"
    nb = nbformat.read(exc.notebook_path, as_version=4)
    assert "nbcatalog-error" in nb.cells[0].metadata.tags  # a visible banner
    sleeping = next(c for c in nb.cells if "time.sleep" in c.source)
    assert any(o.output_type == "error" for o in sleeping.outputs)


def test_kernel_that_dies():
    exc = failed_run("fixture_dies")
    assert exc.failure.kind == "dead-kernel"
    assert exc.failure.section == "die"
    assert exc.failure.exception_type == "DeadKernelError"
    assert "dead-kernel" in str(exc) and "'die'" in str(exc)
    assert exc.notebook_path.is_file()
    info = _run_json(exc)
    assert info["status"] == "failed" and info["error"]["kind"] == "dead-kernel"
    nb = nbformat.read(exc.notebook_path, as_version=4)
    dying = next(c for c in nb.cells if "SIGKILL" in c.source)
    assert dying.outputs[-1].output_type == "error"


def test_run_folders_never_collide(tmp_path):
    import datetime as dt

    moment = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    dirs = {new_run_dir(tmp_path, "x", now=moment) for _ in range(50)}
    assert len(dirs) == 50
    assert all(d.name.startswith("20240501T000000Z-") for d in dirs)


def test_atomic_write_keeps_old_file_when_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "run.json"
    write_json(target, {"status": "ok"})

    no_space_left(monkeypatch, os, "replace")
    with pytest.raises(OSError, match=NO_SPACE):
        write_json(target, {"status": "overwritten"})
    assert json.loads(target.read_text()) == {"status": "ok"}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_progress_bar_only_for_a_terminal_and_never_when_quiet(monkeypatch):
    import io
    import sys

    from nbcatalog.runner import show_progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    assert show_progress(quiet=False) is True
    assert show_progress(quiet=True) is False
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # piped: no bar
    assert show_progress(quiet=False) is False


def test_the_index_lists_every_run_of_its_root_when_run_returns():
    first = ok_run()
    root = first.run_dir.parent.parent
    second = run_fixture_ok(root, host="SRV-<b>9</b>")
    page = (root / "index.html").read_text(encoding="utf-8")  # no wait, no flush call
    rows = re.findall(r"<tr data-job.*?</tr>", page)
    for res in (first, second):
        (row,) = [r for r in rows if f"fixture_ok/{res.run_dir.name}/run.json" in r]
        assert 'data-status="ok"' in row
    assert "SRV-&lt;b&gt;9&lt;/b&gt;" in page and "<b>9</b>" not in page


def test_a_start_record_that_cannot_be_written_fails_the_run_and_says_why(monkeypatch):
    """The start record is written while the kernel runs: its error still ends the run."""
    from nbcatalog import runner

    no_space_left(monkeypatch, runner, "_record_start")
    root = output_root()  # shared by the module's tests: find this run's folder by difference
    before = set(root.glob("fixture_ok/*/run.json"))
    with pytest.raises(RunError, match=NO_SPACE):
        run_fixture_ok(root)
    (run_json,) = set(root.glob("fixture_ok/*/run.json")) - before
    info = json.loads(run_json.read_text())
    assert info["status"] == "failed" and info["error"]["exception_type"] == "OSError"
