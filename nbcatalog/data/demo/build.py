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

import difflib
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from nbcatalog.data.demo import background, planted
from nbcatalog.data.demo.estate import HOSTS, USERS
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
    fixed_rows: dict[str, int] = field(default_factory=dict)

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
        if self.fixed_rows:
            kept = ", ".join(f"{e} {n:,}" for e, n in self.fixed_rows.items())
            lines.append(f"rows mentioning each kept entity: {kept}")
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


def count_mentions(store: Store, entities: Sequence[str]) -> dict[str, int]:
    """Rows of `store` mentioning each of `entities` (as `drop_mentions` matches them).

    One pass per table, one filtered count per entity; names are bound parameters.

    Example:
        >>> with Store.open("/tmp/demo.duckdb", read_only=True) as store:  # doctest: +SKIP
        ...     count_mentions(store, ["WKSTN-042", "WKSTN-42"])
        {'WKSTN-042': 14211, 'WKSTN-42': 0}
    """
    totals = dict.fromkeys(entities, 0)
    patterns = [mention_pattern([e]) for e in entities]
    for name, table in TABLES.items():
        text = [c for c, typ in table.columns if typ == "VARCHAR"]
        if not text:
            continue
        counts = ", ".join(
            "count(*) FILTER (WHERE "
            + " OR ".join(f'regexp_matches("{c}", ${i})' for c in text)
            + ")"
            for i in range(1, len(patterns) + 1)
        )
        # Column and table names come from the schema; the patterns are bound.
        row = store.con.execute(f'SELECT {counts} FROM "{name}"', patterns).fetchone()  # noqa: S608
        for entity, n in zip(entities, row, strict=True):
            totals[entity] += n
    return totals


def estate_names() -> list[str]:
    """The names an entity of the estate goes by: hosts, their addresses, users, UPNs.

    >>> "WKSTN-042" in estate_names() and "bob@contoso.com" in estate_names()
    True
    """
    names = [h.name for h in HOSTS] + [h.ip for h in HOSTS]
    names += [h.public_ip for h in HOSTS if h.public_ip]
    names += [u.name for u in USERS] + [u.upn for u in USERS]
    return names


def _unmatched_error(missing: list[str], scale: float, seed: int) -> UsageError:
    known = {n.lower(): n for n in estate_names()}
    hints = []
    for entity in missing:
        close = difflib.get_close_matches(entity.lower(), list(known), n=3, cutoff=0.6)
        hint = f" (closest estate names: {', '.join(known[c] for c in close)})" if close else ""
        hints.append(f"{entity!r}{hint}")
    which = "entity" if len(missing) == 1 else "entities"
    verb = "matches" if len(missing) == 1 else "match"
    return UsageError(
        f"kept {which} {'; '.join(hints)} {verb} no row of the estate at scale {scale:g} "
        f"(seed {seed}): a name counts when it appears, in any case, as a whole word in a "
        "text column. Nothing was built; the target is as it was"
    )


COMMIT_ROWS = 500_000
MEMORY_LIMIT = "1GB"


@contextmanager
def _building(path: Path) -> Iterator[Store]:
    """A build file open for writing: no progress bar, bounded memory, checkpointed."""
    with Store.open(path) as store:
        store.con.execute("SET enable_progress_bar = false")  # keep the CLI output clean
        # Bounded memory however large the scale (the build needs little cache).
        store.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        yield store
        store.con.execute("CHECKPOINT")


def _missing_dirs(folder: Path) -> list[Path]:
    """The folders `mkdir(parents=True)` would create for `folder`, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty, or already gone: leave it


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
    A fixed entity that no row of the `fixed_scale` build mentions (a misspelt name)
    is a UsageError naming the closest estate names, raised before the growth is
    generated; the target is left as it was. The summary's `fixed_rows` gives the
    rows mentioning each fixed entity.

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
    made = _missing_dirs(target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(target)
    tmp = target.with_name(f".{target.name}.building-{os.getpid()}")
    fixed_rows: dict[str, int] = {}
    built = False
    try:
        # Rows are generated in no useful order: write them to a staging file, then
        # copy them into the store sorted by entity and time (zone maps prune by host).
        stage = tmp.with_name(tmp.name + ".stage")
        extra = tmp.with_name(tmp.name + ".extra")
        grow = fixed_entities and scale > fixed_scale
        with _building(stage) as store:
            base = fixed_scale if fixed_entities else scale
            _write(store, _frames(seed, window, base))
            if fixed_entities:
                # Before the growth (the long part): a misspelt name would be "kept"
                # with no rows at all, and the benchmark would measure nothing.
                fixed_rows = count_mentions(store, fixed_entities)
                missing = [e for e, n in fixed_rows.items() if n == 0]
                if missing:
                    raise _unmatched_error(missing, base, seed)
        if grow:
            with _building(extra) as store:
                # The growth: another seed, without a row naming a fixed entity.
                _write(store, _extra_frames(seed + 1, window, scale - fixed_scale))
                drop_mentions(store, fixed_entities)
            with _building(stage) as store:
                store.append_store(extra)
        with _building(tmp) as store:
            store.copy_sorted(stage)
        # A stale write-ahead log next to the target would be replayed into the new file.
        target.with_name(target.name + ".wal").unlink(missing_ok=True)
        os.replace(tmp, target)
        built = True
    finally:
        for suffix in (
            *("", ".wal", ".tmp"),
            *(".stage", ".stage.wal", ".stage.tmp"),
            *(".extra", ".extra.wal", ".extra.tmp"),
        ):
            _remove(tmp.with_name(tmp.name + suffix))
        if not built:
            for folder in made:  # the folders this build created, deepest first
                _rmdir_if_empty(folder)
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
        fixed_rows=fixed_rows,
    )
