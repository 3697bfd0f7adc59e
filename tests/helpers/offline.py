"""Start kernels (and CLI processes) with the internet refused, and see what tried.

Python imports `sitecustomize` from PYTHONPATH when a process starts, so a kernel or
an `nbcatalog` command started while `network_blocked` is active refuses every
internet socket and name look-up, and appends one line per attempt to a log file.
Local sockets (the kernel's own IPC / loopback channels use AF_UNIX or are opened by
ZeroMQ in C) keep working. An empty log after a run proves it stayed offline.

Example (a module fixture):
    @pytest.fixture(scope="module")
    def offline(tmp_path_factory):
        with network_blocked(tmp_path_factory.mktemp("offline")) as log:
            yield log

A test module can take that fixture, and `offline_pool` (a kernel pool started
inside the block), from tests/helpers/offline_plugin.py:
`pytest_plugins = ["helpers.offline_plugin"]`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

LOG_ENV = "NBCATALOG_TEST_NETLOG"

SITECUSTOMIZE = f'''
"""Test only (tests/helpers/offline.py): refuse internet access, log each attempt."""
import os
import socket

_LOG = os.environ.get("{LOG_ENV}")


def _refusing(what):
    def refuse(*args, **kwargs):
        # What was asked for: a socket method's address is its last argument, a
        # look-up's host (or create_connection's address) its first.
        asked = args[-1:] if what.startswith("connect") else args[:1]
        if _LOG:
            with open(_LOG, "a", encoding="utf-8") as log:
                log.write(what + " " + repr(asked) + "\\n")
        raise OSError("internet access refused in this test: " + what)

    return refuse


_plain_connect = socket.socket.connect


def _connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        return _refusing("connect")(self, address)
    return _plain_connect(self, address)


socket.socket.connect = _connect
socket.socket.connect_ex = _refusing("connect_ex")
socket.create_connection = _refusing("create_connection")
socket.getaddrinfo = _refusing("getaddrinfo")
socket.gethostbyname = _refusing("gethostbyname")
'''


@contextlib.contextmanager
def network_blocked(folder: Path) -> Iterator[Path]:
    """Processes started inside this block have no internet; yields the attempts log."""
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = folder / "network-attempts.log"
    log.write_text("", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        paths = [str(folder), os.environ.get("PYTHONPATH", "")]
        mp.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
        mp.setenv(LOG_ENV, str(log))
        # Nothing online may be configured for these runs (no user config file).
        mp.setenv("NBCATALOG_CONFIG", str(folder / "no-config.toml"))
        yield log


def attempts(log: Path) -> str:
    """What processes tried to reach since the block started ("" when nothing)."""
    return log.read_text(encoding="utf-8")
