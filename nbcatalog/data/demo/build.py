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
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from nbcatalog.data.demo import background, planted
from nbcatalog.data.demo.planted import Incident
from nbcatalog.data.demo.timeline import Window
from nbcatalog.data.schema import TABLES
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
    fixed_entities: tuple[str, ...] = ()
    fixed_scale: float = 1.0

    def as_text(self) -> str:
        """A short human-readable account (what `nbcatalog data demo` prints)."""
        lines = [
            f"demo store: {self.path}",
            f"seed {self.seed}, scale {self.scale:g}, events from {self.start:%Y-%m-%d %H:%M} "
            f"to {self.end:%Y-%m-%d %H:%M} UTC, built in {self.seconds:.1f} s",
        ]
        if self.fixed_entities:
            lines.append(
                f"rows of {', '.join(self.fixed_entities)} as at scale {self.fixed_scale:g}; "
                f"the rest of the estate at scale {self.scale:g}"
            )
        lines += [
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


# Tables whose background does not grow with the scale (one heartbeat per host every
# few minutes): a grow-others build does not add a second copy of them.
UNSCALED = frozenset({"Heartbeat"})


def _extra_frames(seed: int, window: Window, scale: float) -> Iterator[tuple[str, pd.DataFrame]]:
    """More background from another seed: the growth of a grow-others build."""
    for table, frame in background.generate(seed, window, scale):
        if table not in UNSCALED:
            yield table, frame


def mention_pattern(entities: Sequence[str]) -> str:
    """A case-insensitive RE2 pattern matching any of `entities` as a whole word.

    A name counts as mentioned when no letter or digit touches it, so `bob` matches
    `CONTOSO\\bob`, `bob@contoso.com` and `bob_contoso_com` but not `bobby.jones`.

    Example:
        >>> import re
        >>> bool(re.search(mention_pattern(["bob"]), "CONTOSO\\Bob"))
        True
        >>> bool(re.search(mention_pattern(["bob"]), "bobby.jones@contoso.com"))
        False
    """
    names = "|".join(re.escape(e.lower()) for e in entities)
    return f"(?i)(^|[^a-z0-9])({names})([^a-z0-9]|$)"


def drop_mentions(store: Store, entities: Sequence[str]) -> dict[str, int]:
    """Delete every row of `store` whose text columns mention one of `entities`.

    Returns the rows deleted per table. Column and table names come from the
    schema; the pattern is a bound parameter (entity names are data).

    Example:
        >>> with Store.open("/tmp/extra.duckdb") as store:     # doctest: +SKIP
        ...     drop_mentions(store, ["WKSTN-042"])["SecurityEvent"]
        5123
    """
    pattern = mention_pattern(entities)
    dropped = {}
    for name, table in TABLES.items():
        text = [c for c, typ in table.columns if typ == "VARCHAR"]
        if not text:
            continue
        where = " OR ".join(f'regexp_matches("{c}", $1)' for c in text)
        before = store.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
        store.con.execute(f'DELETE FROM "{name}" WHERE {where}', [pattern])  # noqa: S608
        after = store.con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
        dropped[name] = before - after
    return dropped


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
    fixed_entities: Sequence[str] = (),
    fixed_scale: float = 1.0,
) -> DemoSummary:
    """Build the demo estate into the DuckDB store at `path` (replacing it atomically).

    Events cover the 7 days before `now` (default: the current UTC time); the planted
    incidents lie in its last 48 hours. The same `seed`, `scale` and `now` give
    identical rows; `scale` multiplies the background activity only.

    With `fixed_entities` (host names, account names, addresses), the store is a
    "grow-others" build: the background of a build at `fixed_scale` (same seed),
    plus `scale - fixed_scale` more from another seed with every row that mentions
    a fixed entity removed. The fixed entities keep exactly the rows of the
    `fixed_scale` build while the rest of the estate grows to `scale`, so a
    benchmark can ask whether looking up one entity gets slower as the store grows.

    Example:
        >>> s = build_demo("/tmp/demo.duckdb", seed=7, now="2026-01-10T12:00:00Z")
        >>> s.incidents[0].name
        'rdp-bruteforce'
    """
    if not scale > 0:
        raise UsageError(f"scale must be a positive number, got {scale!r}")
    fixed_entities = tuple(fixed_entities)
    if fixed_entities and not 0 < fixed_scale <= scale:
        raise UsageError(
            f"fixed_scale must be positive and at most scale ({scale:g}), got {fixed_scale!r}"
        )
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
        extra = tmp.with_name(tmp.name + ".extra")
        grow = fixed_entities and scale > fixed_scale
        steps = (extra, stage, tmp) if grow else (stage, tmp)
        for path in steps:
            with Store.open(path) as store:
                store.con.execute("SET enable_progress_bar = false")  # keep the CLI output clean
                # Bounded memory however large the scale (the build needs little cache).
                store.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
                if path == extra:
                    # The growth: another seed, without a row naming a fixed entity.
                    _write(store, _extra_frames(seed + 1, window, scale - fixed_scale))
                    drop_mentions(store, fixed_entities)
                elif path == stage:
                    base = fixed_scale if fixed_entities else scale
                    _write(store, _frames(seed, window, base))
                    if grow:
                        store.append_store(extra)
                else:
                    store.copy_sorted(stage)
                store.con.execute("CHECKPOINT")
        # A stale write-ahead log next to the target would be replayed into the new file.
        target.with_name(target.name + ".wal").unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        for suffix in (
            *("", ".wal", ".tmp"),
            *(".stage", ".stage.wal", ".stage.tmp"),
            *(".extra", ".extra.wal", ".extra.tmp"),
        ):
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
        fixed_entities=fixed_entities,
        fixed_scale=fixed_scale if fixed_entities else scale,
    )
