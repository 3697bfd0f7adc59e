"""Build the demo store: background activity plus planted incidents, written atomically.

The store is built into a temporary file next to the target and renamed over it
only when complete, so an interrupted build never leaves a half store; a target
that another process holds open is refused before any work is done.

Example:
    >>> import tempfile, pathlib
    >>> from nbcatalog.data.demo import build_demo
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> summary = build_demo(path, scale=0.1)
    >>> summary.rows["SecurityEvent"] > 1000
    True
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from nbcatalog.data.demo import background, planted
from nbcatalog.data.demo.planted import Incident
from nbcatalog.data.demo.timeline import Window
from nbcatalog.data.store import Store
from nbcatalog.errors import DataSourceError, UsageError


@dataclass
class DemoSummary:
    """What `build_demo` wrote: the file, its period, row counts and planted incidents."""

    path: Path
    seed: int
    scale: float
    start: pd.Timestamp
    end: pd.Timestamp
    rows: dict[str, int] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)
    seconds: float = 0.0

    def as_text(self) -> str:
        """A short human-readable account (what `nbcatalog data demo` prints)."""
        lines = [
            f"demo store: {self.path}",
            f"seed {self.seed}, scale {self.scale:g}, events from {self.start:%Y-%m-%d %H:%M} "
            f"to {self.end:%Y-%m-%d %H:%M} UTC, built in {self.seconds:.1f} s",
            "",
            "rows per table:",
        ]
        width = max(len(t) for t in self.rows) if self.rows else 0
        lines += [f"  {t:<{width}}  {n:>10,}" for t, n in self.rows.items()]
        lines += ["", "planted incidents:"]
        lines += [f"  {i.start:%Y-%m-%d %H:%M} UTC  {i.description}" for i in self.incidents]
        return "\n".join(lines)


def _check_target(path: Path) -> None:
    """Refuse a target that is a directory or that another process holds open."""
    if path.is_dir():
        raise UsageError(f"{path} is a directory; give the path of a .duckdb file")
    if not path.exists():
        return
    try:
        duckdb.connect(str(path)).close()
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise DataSourceError(
                f"cannot replace {path}: another process has it open ({exc}). "
                "Close the notebook or program using it, or choose another --db path."
            ) from None
        raise DataSourceError(
            f"{path} exists but is not a DuckDB store ({exc}); "
            "refusing to overwrite it. Choose another --db path."
        ) from None


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _remove_abandoned_builds(target: Path) -> None:
    """Delete the temp files (and DuckDB's .wal/.tmp) of killed builds of `target`."""
    for tmp in target.parent.glob(f".{target.name}.building-*"):
        pid = tmp.name.rsplit("-", 1)[-1].split(".")[0]
        if pid.isdigit() and (int(pid) == os.getpid() or not _running(int(pid))):
            _remove(tmp)


def _as_now(now: datetime | str | None) -> pd.Timestamp:
    if now is None:
        return pd.Timestamp.now(tz="UTC")
    try:
        ts = pd.Timestamp(now)
    except (ValueError, TypeError):
        raise UsageError(
            f"now={now!r} is not a time; give ISO-8601 UTC such as '2026-01-10T12:00:00Z'"
        ) from None
    if ts.tzinfo is None:
        raise UsageError(
            f"now={now!r} has no time zone; give a UTC time such as '2026-01-10T12:00Z'"
        )
    return ts.tz_convert("UTC")


def _frames(seed: int, window: Window, scale: float) -> Iterator[tuple[str, pd.DataFrame]]:
    yield from background.generate(seed, window, scale)
    yield from planted.generate(window.end).items()


COMMIT_ROWS = 500_000
MEMORY_LIMIT = "1GB"


def _write(store: Store, frames: Iterable[tuple[str, pd.DataFrame]]) -> None:
    """Append every frame, committing every ~500k rows.

    DuckDB keeps a transaction's uncommitted rows in memory, so one transaction for
    a 10-million-row build would grow without bound. Committing in batches is safe
    here because the file being written is private until it is renamed into place.
    """
    frames = iter(frames)
    done = False
    while not done:
        written = 0
        with store.transaction():
            for table, frame in frames:
                written += store.append(table, frame)
                if written >= COMMIT_ROWS:
                    break
            else:
                done = True


def build_demo(
    path: str | os.PathLike,
    *,
    seed: int = 42,
    scale: float = 1.0,
    now: datetime | str | None = None,
) -> DemoSummary:
    """Build the demo estate into the DuckDB store at `path` (replacing it atomically).

    Events cover the 7 days before `now` (default: the current UTC time); the planted
    incidents lie in its last 48 hours. The same `seed`, `scale` and `now` give
    identical rows; `scale` multiplies the background activity only.

    Example:
        >>> s = build_demo("/tmp/demo.duckdb", seed=7, now="2026-01-10T12:00:00Z")
        >>> s.incidents[0].name
        'rdp-bruteforce'
    """
    if not scale > 0:
        raise UsageError(f"scale must be a positive number, got {scale!r}")
    target = Path(path).expanduser()
    _check_target(target)
    started = time.perf_counter()
    window = Window.ending(_as_now(now))
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(target)
    tmp = target.with_name(f".{target.name}.building-{os.getpid()}")
    try:
        # Rows are generated in no useful order: write them to a staging file, then
        # copy them into the store sorted by entity and time (zone maps prune by host).
        stage = tmp.with_name(tmp.name + ".stage")
        for path in (stage, tmp):
            with Store.open(path) as store:
                store.con.execute("SET enable_progress_bar = false")  # keep the CLI output clean
                # Bounded memory however large the scale (the build needs little cache).
                store.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
                if path == stage:
                    _write(store, _frames(seed, window, scale))
                else:
                    store.copy_sorted(stage)
                store.con.execute("CHECKPOINT")
        # A stale write-ahead log next to the target would be replayed into the new file.
        target.with_name(target.name + ".wal").unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        for suffix in ("", ".wal", ".tmp", ".stage", ".stage.wal", ".stage.tmp"):
            _remove(tmp.with_name(tmp.name + suffix))
    with Store.open(target, read_only=True) as store:
        counts = {name: s.rows for name, s in store.table_stats().items()}
    return DemoSummary(
        path=target,
        seed=seed,
        scale=scale,
        start=window.start,
        end=window.end,
        rows=counts,
        incidents=planted.incidents(window.end),
        seconds=time.perf_counter() - started,
    )
