"""Retention: remove a job's old run folders together with their history and index entries.

Per job and parameter set, runs are grouped by fire time (a fire time's retries
belong together); ``keep: N`` keeps the newest N fire times, ``days: D`` keeps
those less than D days before `now`. A folder is first renamed into
``<root>/.trash/`` (atomic), then its history row is deleted, then the folder
removed, so a crash at any point never leaves the index linking a half-deleted
run; rows whose folder has vanished are dropped on the next pass.

Example:
    >>> apply_retention(Path("output"), job, now=datetime.now(timezone.utc))  # doctest: +SKIP
    ['host_summary/20260101T060000Z-ab12cd']
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from nbcatalog import history
from nbcatalog.schedules.spec import Job

TRASH = ".trash"


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def runs_to_remove(job: Job, records: list[history.RunRecord], now: datetime) -> list[str]:
    """Run folders (relative) of `job` that its retention no longer keeps.

    Example:
        >>> runs_to_remove(job, history.list_runs(job=job.name), now)   # doctest: +SKIP
    """
    keep, days = job.retention.keep, job.retention.days
    if keep is None and days is None:
        return []
    groups: dict[str | None, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for rec in records:
        moment = rec.fire_time or rec.started or rec.recorded_at or ""
        groups[rec.param_set][moment].append(rec.run_dir)
    doomed: list[str] = []
    for by_time in groups.values():
        moments = sorted(by_time, reverse=True)  # newest first; UTC text sorts as time
        for rank, moment in enumerate(moments):
            old = keep is not None and rank >= keep
            when = _parse(moment)
            if days is not None and when is not None:
                old = old or now - when > timedelta(days=days)
            if old:
                doomed.extend(by_time[moment])
    return sorted(doomed)


def remove_runs(root: Path, run_dirs: list[str], conn: sqlite3.Connection) -> None:
    """Delete run folders and their history rows, crash-safely (see module doc).

    Example:
        >>> remove_runs(Path("output"), ["host_summary/2026…"], conn)   # doctest: +SKIP
    """
    trash = root / TRASH
    moved: list[Path] = []
    for rel in run_dirs:
        folder = root / rel
        if folder.resolve().parent.parent != root.resolve():
            continue  # never delete outside the output root, whatever a row says
        if folder.exists():
            trash.mkdir(exist_ok=True)
            target = trash / f"{folder.name}-{uuid.uuid4().hex[:8]}"
            folder.rename(target)
            moved.append(target)
    with history.transaction(conn):
        history.forget_runs(conn, run_dirs)
    for target in moved:
        shutil.rmtree(target, ignore_errors=True)


def apply_retention(
    root: Path, job: Job, *, now: datetime, conn: sqlite3.Connection | None = None
) -> list[str]:
    """Apply `job`'s retention in output root `root`; return the removed run folders.

    Example:
        >>> apply_retention(Path("output"), job, now=now)   # doctest: +SKIP
    """
    root = Path(root)
    own = conn is None
    conn = conn or history.connect(root)
    try:
        records = history.list_runs(root, job=job.name)
        vanished = [r.run_dir for r in records if not (root / r.run_dir).exists()]
        doomed = runs_to_remove(job, [r for r in records if r.run_dir not in vanished], now)
        if doomed or vanished:
            remove_runs(root, sorted(set(doomed) | set(vanished)), conn)
        # Left over by a crash between rename and delete.
        if (root / TRASH).exists():
            for leftover in (root / TRASH).iterdir():
                shutil.rmtree(leftover, ignore_errors=True)
        return doomed
    finally:
        if own:
            conn.close()
