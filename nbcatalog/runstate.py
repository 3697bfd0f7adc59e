"""The words a run ends in, and how a ``no_data`` run explains itself everywhere.

A run ends ``ok`` (it ran, and the data it needs was there), ``no_data`` (it ran,
but the entity matched nothing or the tables it needs are absent), ``failed``,
``interrupted`` or ``abandoned``. The same word is in run.json, the history, the
index page, ``--json``, `Results.status` and the CLI's last line. This module holds
what those places share about ``no_data``: the reason record, the one-line text and
the loud HTML banner. Light on imports: the runner, reports and index use it.

Example:
    >>> info = no_data_info({"status": "no_data", "reasons": ["no host named 'WKSTN-999'"]})
    >>> status_line("host_summary", "no_data", 1.23, info["reason"])
    "host_summary: no_data in 1.2 s - no host named 'WKSTN-999'"
"""

from __future__ import annotations

import html
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

OK = "ok"
NO_DATA = "no_data"
FAILED = "failed"
INTERRUPTED = "interrupted"
ABANDONED = "abandoned"
RUNNING = "running"
STATES = (OK, NO_DATA, FAILED, INTERRUPTED, ABANDONED, RUNNING)
# Exit code of a run stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it.
INTERRUPTED_EXIT = 130
# Exit code of `run --strict`, `batch --strict` and strict schedules for a no_data run.
NO_DATA_EXIT = 3


def no_data_info(outcome: Mapping[str, Any] | None) -> dict[str, Any]:
    """What run.json, ``--json`` and history say of a ``no_data`` run: why, and the hints.

    Example:
        >>> no_data_info({"status": "no_data", "reasons": ["no host named 'X'"]})["reason"]
        "no host named 'X'"
    """
    outcome = dict(outcome or {})
    reasons = [str(r) for r in outcome.get("reasons") or []]
    return {
        "reason": str(outcome.get("reason") or "; ".join(reasons) or "no data"),
        "reasons": reasons or [str(outcome.get("reason") or "no data")],
        "entity": outcome.get("entity"),
        "closest": [str(n) for n in outcome.get("closest") or []],
        "candidates": [str(n) for n in outcome.get("candidates") or []],
        "missing_tables": [str(n) for n in outcome.get("missing_tables") or []],
        "missing_queries": [str(n) for n in outcome.get("missing_queries") or []],
    }


def status_line(template: str, status: str, duration: float | None, reason: str = "") -> str:
    """The CLI's last line: ``host_summary: no_data in 1.2 s - why``.

    Example:
        >>> status_line("ip_summary", "ok", 3.04)
        'ip_summary: ok in 3.0 s'
    """
    took = f" in {duration:.1f} s" if duration is not None else ""
    return f"{template}: {status}{took}" + (f" - {reason}" if reason else "")


def banner_html(info: Mapping[str, Any] | None) -> str:
    """A loud, escaped box saying the run found no data and why ("" for other states).

    `info` is an outcome or a `no_data_info` record (``status`` may be left out).

    Example:
        >>> "&lt;b&gt;" in banner_html({"status": "no_data", "reasons": ["no host '<b>'"]})
        True
    """
    if not info or info.get("status", NO_DATA) != NO_DATA:
        return ""
    reasons = info.get("reasons") or [info.get("reason") or "no data"]
    items = "".join(f"<li>{html.escape(str(r))}</li>" for r in reasons)
    missing = [str(t) for t in info.get("missing_tables") or []]
    absent = ""
    if missing:
        tables = html.escape(", ".join(missing))
        absent = f'<p style="margin:4px 0">Absent from this data source: {tables}</p>'
    return (
        '<div class="nbcatalog-no-data" role="alert" style="border:3px solid #b35900;'
        'background:#fff3e0;color:#5c2e00;padding:10px 14px;margin:8px 0;font-size:15px">'
        "<b>NO DATA: this run found nothing to report on. That is not the same as all "
        f'clear.</b><ul style="margin:6px 0">{items}</ul>{absent}</div>'
    )


# ------------------------------------------------------------- abandoned runs


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return None


def process_start(pid: int) -> str | None:
    """When process `pid` started, as an opaque text (None when it does not exist).

    On Linux: the boot id and the start time in clock ticks from ``/proc/PID/stat``,
    so a pid reused after the runner died (or after a reboot) never matches.

    Example:
        >>> process_start(os.getpid()) == process_start(os.getpid())
        True
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        stat = None
    if stat is not None:
        # Field 22 (starttime); the command name before it may hold spaces and ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        return f"{_boot_id()}:{fields[19]}" if len(fields) > 19 else None
    try:
        import psutil  # other systems: distributed brings it
    except ImportError:
        return None
    try:
        return f"psutil:{psutil.Process(pid).create_time()}"
    except (psutil.Error, ValueError):
        return None


def runner_identity() -> dict[str, Any]:
    """What run.json records of the process running it: pid, host and start time.

    Example:
        >>> runner_identity()["pid"] == os.getpid()
        True
    """
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "process_start": process_start(pid)}


def runner_gone(info: Mapping[str, Any]) -> bool:
    """True when a ``running`` run's runner process no longer exists on this host.

    False when it is alive, when run.json names no runner (an older run), or when
    the runner was on another host (this host cannot tell: left ``running``).

    Example:
        >>> runner_gone({"status": "running", "runner": runner_identity()})
        False
    """
    runner = info.get("runner")
    if info.get("status") != RUNNING or not isinstance(runner, Mapping):
        return False
    pid, started = runner.get("pid"), runner.get("process_start")
    if runner.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    now = process_start(pid)
    if now is None:
        return not _pid_exists(pid)
    # The same pid started at another time is another process: the runner is gone.
    return started is not None and now != started


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True
