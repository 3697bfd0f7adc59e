"""A process with the default kernel pool exits promptly, even with a kernel being taken back.

Regression: a run's kernel is given back in a release thread, which may still be
working when the process exits. atexit removed the private folder holding the kernels'
socket files before the pool's shutdown (registered first, so run last), and a reset
that connected after the removal never got an answer: the shutdown waited
RESET_TIMEOUT (30 s) for it, in about one exit in four.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow

# The release thread is made to start its work late, as on a loaded machine: after
# the atexit handlers that follow it have run (the removal of the private folder).
CHILD = """
import atexit, sys, time
import nbcatalog.pool as pools

pool = pools.get_default_pool()
kernel = pool.checkout()
print("PID", kernel.pid, flush=True)
original = pools.KernelPool._check_in

def late_check_in(self, *args, **kwargs):
    time.sleep(1.0)
    return original(self, *args, **kwargs)

pools.KernelPool._check_in = late_check_in
# As a run's end does: the kernel goes back in a thread while the caller carries on.
atexit.register(pool.release, kernel, None, wait=False)
print("END", time.time(), flush=True)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited: its parent (gone) cannot reap it yet.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_exit_with_a_kernel_being_taken_back_is_prompt_and_stops_the_kernel():
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120
    )
    finished = time.time()
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    exit_seconds = finished - float(lines["END"])
    # A reset that lost its sockets waits 30 s; a prompt exit is about 1.5 s here.
    assert exit_seconds < 15, f"exit took {exit_seconds:.1f} s"
    pid = int(lines["PID"])
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), f"kernel {pid} outlived its process"
