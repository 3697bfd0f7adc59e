"""`nbcatalog batch --dask-local N` leaves no process of its group behind at exit.

A real CLI process (its own process group, as a shell job), a real LocalCluster
with worker processes and their warm kernels (issue 10, finding 8).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from template_factory import write_template

pytestmark = pytest.mark.slow


def _group_members(pgid: int) -> list[str]:
    """Command lines of the live processes whose process group is `pgid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_dask_local_batch_leaves_no_process_in_its_group(tmp_path):
    folder = tmp_path / "templates"
    sections = [("summary", "## Summary", ['import scrapbook as sb\nsb.glue("seen", host)'])]
    path = write_template(folder, "dask_probe", sections=sections)
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("WKSTN-1\nWKSTN-2\n", encoding="utf-8")
    env = {**os.environ, "NBCATALOG_OUTPUT": str(tmp_path / "out")}
    code = "from nbcatalog.cli.main import main; main()"
    args = ["batch", str(path), "--host-file", str(hosts), "--dask-local", "2", "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (out, err)
        assert "2/2 ok" in out or '"ok": 2' in out or "ok" in out.splitlines()[-1], out
        time.sleep(1.0)  # a process still shutting down would be seen here
        left = _group_members(proc.pid)
        assert left == [], left
    finally:
        for line in _group_members(proc.pid):
            os.kill(int(line.split(":")[0]), 9)


SLEEP_CELL = (
    "import os, time, pathlib\n"
    "pathlib.Path(os.environ['NBCATALOG_RUN_DIR'], 'sleeping').touch()\n"
    "for _ in range(600):\n    time.sleep(0.1)"
)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_during_a_dask_batch_exits_130_and_leaves_no_process(tmp_path):
    path = write_template(
        tmp_path / "templates", "dask_sleep", sections=[("wait", "## Wait", [SLEEP_CELL])]
    )
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("WKSTN-1\nWKSTN-2\n", encoding="utf-8")
    output = tmp_path / "out"
    env = {**os.environ, "NBCATALOG_OUTPUT": str(output)}
    code = "from nbcatalog.cli.main import main; main()"
    args = ["batch", str(path), "--host-file", str(hosts), "--dask-local", "2", "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not list(output.glob("dask_sleep/*/sleeping")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, (out, err[-2000:])
        assert "batch interrupted" in err
        time.sleep(1.0)
        left = _group_members(proc.pid)
        assert left == [], left
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for line in _group_members(proc.pid):
            os.kill(int(line.split(":")[0]), 9)
