"""``nbcatalog schedule serve``: run due jobs, sleep until the next fire time, repeat.

On start it catches up (the same run-due as cron would call), so fire times
missed while it was down follow each job's catch-up policy instead of being
lost. The schedule file is re-read on every wake-up; a file that became invalid
is reported and the last good one kept.

SIGTERM or SIGINT sets a stop flag: the run in progress finishes (its folder is
written atomically by the runner), no new run starts, claims not yet started are
handed back for the next caller, pending retries are dropped, and `serve`
returns 0.

Example:
    >>> serve("schedules.yaml")          # doctest: +SKIP
    0
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from nbcatalog.schedules.rundue import Outcome, RunFunction, next_wakeup, run_due
from nbcatalog.schedules.spec import Schedule, ScheduleError, load_schedule

MAX_SLEEP = 60.0  # wake at least this often: clock jumps, edited schedule files


class Clock:
    """Wall-clock time, optionally shifted so that it read `start` when created.

    The shift lets a test (or ``serve --now``) start just before a fire time
    while time then passes at the normal rate.

    Example:
        >>> c = Clock(datetime(2026, 1, 1, 5, 59, 58, tzinfo=timezone.utc))
        >>> c.now() < datetime(2026, 1, 1, 6, 0, 1, tzinfo=timezone.utc)
        True
    """

    def __init__(self, start: datetime | None = None):
        self._offset = (start - datetime.now(timezone.utc)) if start else timedelta(0)

    def now(self) -> datetime:
        """The (shifted) current time, aware UTC."""
        return datetime.now(timezone.utc) + self._offset


def serve(
    schedule_file: str | Path | None = None,
    *,
    output_dir: str | Path | None = None,
    clock: Clock | None = None,
    run: RunFunction | None = None,
    stop: threading.Event | None = None,
    on_outcome: Callable[[Outcome], Any] = lambda outcome: None,
    on_message: Callable[[str], Any] = lambda text: None,
    handle_signals: bool = True,
) -> int:
    """Serve the schedule until SIGTERM/SIGINT (or `stop` is set); return the exit code 0.

    Example:
        >>> serve("schedules.yaml", output_dir="/srv/reports")     # doctest: +SKIP
        0
    """
    clock = clock or Clock()
    stop = stop or threading.Event()
    previous: dict[int, Any] = {}
    if handle_signals:

        def on_signal(signum: int, frame: Any) -> None:
            on_message(f"{signal.Signals(signum).name}: finishing the current run, then stopping")
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
    schedule: Schedule | None = None
    try:
        while not stop.is_set():
            try:
                schedule = load_schedule(schedule_file)
            except ScheduleError as exc:
                if schedule is None:
                    raise
                on_message(f"schedule file not reloaded, keeping the last good one: {exc}")
            for outcome in run_due(
                schedule,
                now=clock.now(),
                output_dir=output_dir,
                run=run,
                sleep=stop.wait,
                should_stop=stop.is_set,
            ):
                on_outcome(outcome)
            if stop.is_set():
                break
            wake = next_wakeup(schedule, clock.now())
            wait = MAX_SLEEP if wake is None else (wake - clock.now()).total_seconds()
            if wake is not None:
                on_message(f"next fire time {wake.isoformat()}")
            # A short extra pause so that the wake-up lands after the fire time.
            stop.wait(min(MAX_SLEEP, max(0.0, wait) + 0.05))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    on_message("stopped")
    return 0
