"""Every way a run can end leaves run.json finished, and the CLI a clear message.

Templates written here, each run once through the real CLI (fresh kernel, as a
user would): cells without a ``tags`` entry (Jupyter omits it), a glued value
scrapbook cannot decode (harvest fails), a report that cannot be written (report
fails), and a run interrupted with Ctrl-C while a cell is running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from template_factory import write_template

pytestmark = pytest.mark.slow

NBCATALOG = Path(sys.executable).parent / "nbcatalog"
PARAMETERS = """\
host: str = ""  # host name
start: str = ""  # start of the time range (ISO-8601)
end: str = ""  # end of the time range (ISO-8601)
data_source: str = ""  # data source spec
"""
# A scrap as scrapbook stores it, with an encoder nobody registered.
UNREADABLE_SCRAP = """\
from IPython.display import display
bundle = {"name": "broken", "data": "x", "encoder": "no-such-encoder", "version": 1}
display({"application/scrapbook.scrap.json+json": bundle}, raw=True)
"""
# The run folder's report.html already taken by a folder: nbconvert's output cannot land.
BLOCK_REPORT = """\
import os
os.makedirs(os.path.join(os.environ["NBCATALOG_RUN_DIR"], "report.html"))
from nbcatalog.nblib.glue import glue
glue("answer", 42)
"""

SLOW = """\
import os, time
open(os.path.join(os.environ["NBCATALOG_RUN_DIR"], "started"), "w").close()
time.sleep(120)
"""


def _template(folder: Path, name: str, code: str) -> Path:
    return write_template(
        folder,
        name,
        parameters=PARAMETERS,
        sections=[("main", "## Main", [code])],
        options={},
    )


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(NBCATALOG), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "NBCATALOG_OUTPUT": str(cwd / "output")},
    )


def _run_json(output: Path, name: str) -> dict:
    (path,) = (output / name).glob("*/run.json")
    return json.loads(path.read_text(encoding="utf-8"))


def test_cells_without_tags_run_and_pass_check(tmp_path):
    path = _template(tmp_path, "untagged", 'from nbcatalog.nblib.glue import glue\nglue("n", 7)')
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # as Jupyter saves cells nobody tagged
        if "parameters" not in cell.metadata.get("tags", []):
            cell.metadata.pop("tags", None)
    nbformat.write(nb, path)
    assert sum("tags" in c.metadata for c in nbformat.read(path, as_version=4).cells) == 1

    check = _cli("check", str(path), cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0 problem(s)" in check.stdout

    done = _cli("run", str(path), "--host", "WKSTN-042", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "ok" and summary["results"]["n"] == 7
    assert _run_json(tmp_path / "output", "untagged")["status"] == "ok"


def test_unreadable_glued_value_fails_the_run_cleanly(tmp_path):
    path = _template(tmp_path, "bad_scrap", UNREADABLE_SCRAP)
    done = _cli("run", str(path), "--host", "WKSTN-042", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: bad_scrap: harvest failed:")
    assert "no-such-encoder" in done.stderr
    info = _run_json(tmp_path / "output", "bad_scrap")
    assert info["status"] == "failed" and info["finished"]
    assert info["error"]["kind"] == "harvest"
    assert "no-such-encoder" in info["error"]["message"]
    assert Path(info["notebook"]).is_file()  # the executed notebook is kept


def test_report_that_cannot_be_written_fails_the_run_cleanly(tmp_path):
    path = _template(tmp_path, "no_report", BLOCK_REPORT)
    done = _cli("run", str(path), "--host", "WKSTN-042", "--html", "--json", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "no_report: report failed:" in done.stderr
    shown = json.loads(done.stdout)
    assert shown["status"] == "failed" and shown["error"]["kind"] == "report"
    info = _run_json(tmp_path / "output", "no_report")
    assert info["status"] == "failed" and info["error"]["kind"] == "report"
    assert info["report"] is None


def test_ctrl_c_marks_the_run_interrupted(tmp_path):
    path = _template(tmp_path, "slow", SLOW)
    output = tmp_path / "output"
    proc = subprocess.Popen(
        [str(NBCATALOG), "run", str(path), "--host", "WKSTN-042", "--quiet"],
        cwd=tmp_path,
        env={**os.environ, "NBCATALOG_OUTPUT": str(output)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until the kernel is busy in the slow cell
            if list(output.glob("slow/*/started")):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the slow cell never started")
        proc.send_signal(signal.SIGINT)  # Ctrl-C to the CLI only, as a terminal's would reach it
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert "Traceback" not in stderr
    info = _run_json(output, "slow")
    assert info["status"] == "interrupted" and info["finished"]
    assert info["error"]["exception_type"] == "KeyboardInterrupt"
