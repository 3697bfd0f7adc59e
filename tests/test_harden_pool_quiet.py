"""A kernel that fails while the warm pool takes it back prints nothing to the user.

The take-back runs in a background thread after the run has returned; its
exception used to reach Python's thread excepthook and print a traceback in the
middle of the user's output. It is logged instead, and the kernel is replaced.
"""

from __future__ import annotations

import logging

import pytest
from jupyter_core.utils import run_sync

from nbcatalog.pool import KernelPool

pytestmark = pytest.mark.slow


def test_background_take_back_failure_is_logged_not_printed(capfd, caplog, monkeypatch):
    with KernelPool(size=1, preload=()) as pool:
        kernel = pool.checkout()
        # The kernel dies under the pool (OOM killer, a crash).
        run_sync(kernel.km.shutdown_kernel)(now=True)

        def broken_check_in(kernel, outcome):  # as a zmq socket of a dead kernel fails
            raise RuntimeError("kernel died during reset")

        monkeypatch.setattr(pool, "_check_in", broken_check_in)
        caplog.set_level(logging.INFO, logger="nbcatalog.pool")
        pool.release(kernel, "dead-kernel", wait=False)
        for thread in list(pool._threads):
            thread.join(timeout=30)
        captured = capfd.readouterr()
        assert "Traceback" not in captured.err and "Exception in thread" not in captured.err
        assert any("taken back" in r.getMessage() and r.exc_info for r in caplog.records)
        monkeypatch.undo()
        again = (
            pool.checkout(timeout=120)
            if "timeout" in pool.checkout.__code__.co_varnames
            else pool.checkout()
        )
        assert again.is_alive()  # the pool replaced the dead kernel
        pool.release(again)
