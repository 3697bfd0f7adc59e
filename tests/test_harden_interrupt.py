"""Ctrl-C and a killed runner, with a real CLI process, a real kernel and real signals.

- SIGINT (Ctrl-C) to the CLI's process group: exit 130, the message names the cell
  that was running and the partial notebook, no traceback; run.json says
  ``interrupted``.
- SIGKILL of the CLI: run.json is left ``running``; ``nbcatalog history``, the
  index page and ``schedule run-due`` mark the run ``abandoned`` because the
  recorded runner (pid, host, process start time) is gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from template_factory import write_template

pytestmark = pytest.mark.slow

# The cell says it started with a file in the run folder (the partial notebook is saved
# only between cells), then sleeps well past the test's wait.
SLEEP_CELL = (
    "import os, time, pathlib\n"
    "pathlib.Path(os.environ['NBCATALOG_RUN_DIR'], 'sleeping').touch()\n"
    "for _ in range(600):\n    time.sleep(0.1)"
)
SECTIONS = [
    ("summary", "## Summary", ['import scrapbook as sb\nsb.glue("summary", {"host": host})']),
    ("waiting", "## Waiting", [SLEEP_CELL]),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_template(tmp_path_factory.mktemp("slow"), "slow_probe", sections=SECTIONS)


def _start(template: Path, output: Path) -> subprocess.Popen:
    env = {**os.environ, "NBCATALOG_OUTPUT": str(output), "PYTHONUNBUFFERED": "1"}
    code = "from nbcatalog.cli.main import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "run", str(template), "--host", "WKSTN-1", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell job has
    )


def _wait_for_sleep_cell(output: Path, proc: subprocess.Popen) -> Path:
    """The run folder, once the kernel is inside the sleeping cell."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for marker in output.glob("slow_probe/*/sleeping"):
            time.sleep(0.3)
            return marker.parent
        time.sleep(0.1)
    raise AssertionError("the run never reached the sleeping cell")


def _run_json(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))


def test_ctrl_c_exits_130_naming_the_cell_and_the_partial_notebook(template, tmp_path):
    output = tmp_path / "out"
    proc = _start(template, output)
    try:
        run_dir = _wait_for_sleep_cell(output, proc)
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert "interrupted" in err
    info = _run_json(run_dir)
    assert info["status"] == "interrupted"
    cell = info["error"]["cell_index"]
    assert cell is not None and f"cell {cell}" in err and "'waiting'" in err
    notebook = run_dir / "notebook.ipynb"
    assert f"partial notebook: {notebook}" in err and notebook.is_file()
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    assert "interrupted" in "".join(nb["cells"][0]["source"]).lower()


def test_a_killed_runner_is_marked_abandoned_everywhere(template, tmp_path):
    from click.testing import CliRunner
    from nbcatalog.cli.main import main

    from nbcatalog.history import list_runs

    output = tmp_path / "out"
    proc = _start(template, output)
    try:
        run_dir = _wait_for_sleep_cell(output, proc)
        os.killpg(proc.pid, signal.SIGKILL)  # no handler runs: as an OOM kill or a reboot
    finally:
        proc.wait()
    info = _run_json(run_dir)
    assert info["status"] == "running" and info["runner"]["pid"] == proc.pid
    assert [r.status for r in list_runs(output)] == ["running"]  # recorded when it started

    result = CliRunner().invoke(main, ["history", "--output", str(output), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["status"] for r in rows] == ["abandoned"]
    assert str(proc.pid) in rows[0]["error"]
    info = _run_json(run_dir)
    assert info["status"] == "abandoned" and info["template"] == "slow_probe"
    assert info["parameters"]["host"] == "WKSTN-1"  # the rest of run.json is kept
    index = (output / "index.html").read_text(encoding="utf-8")
    assert ">abandoned<" in index and ">running<" not in index
