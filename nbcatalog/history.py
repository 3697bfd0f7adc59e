"""Run history: every run (scheduled, manual, API, CLI) in SQLite, queryable.

The database lives at ``<output root>/history.sqlite`` next to the run folders
it describes (``<root>/<template>/<stamp>-<id>/``), so a run written with
``output_dir=X`` lands in X's history. Rows are built from each folder's
``run.json``, which the runner has already redacted, so no secret reaches here.
Statuses are run.json's own: ``ok``, ``no_data``, ``failed``, ``running``,
``interrupted``, ``abandoned``; a ``no_data`` row keeps what was missing in ``reason``.
A run is recorded when it starts (``running``); `mark_abandoned` turns a running
run whose runner process is gone (killed, out of memory, a reboot) into
``abandoned``, in run.json and here.

Example:
    >>> from nbcatalog import history
    >>> history.record_run(res.run_dir)                       # doctest: +SKIP
    >>> [r.status for r in history.list_runs(job="dc-daily")]  # doctest: +SKIP
    ['ok', 'failed']
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

DB_NAME = "history.sqlite"
RUN_FILE = "run.json"
# Files a run folder may hold, by the name the index links them under.
KNOWN_FILES = {"report": "report.html", "notebook": "notebook.ipynb", "run_json": RUN_FILE}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_dir     TEXT PRIMARY KEY,   -- relative to the output root, '/'-separated
    template    TEXT NOT NULL,
    version     TEXT,
    job         TEXT,
    param_set   TEXT,
    fire_time   TEXT,
    trigger     TEXT,
    attempt     INTEGER,
    parameters  TEXT NOT NULL,      -- JSON, secrets already redacted by the runner
    data_source TEXT,
    started     TEXT,
    ended       TEXT,
    range_start TEXT,
    range_end   TEXT,
    status      TEXT NOT NULL,
    error       TEXT,
    paths       TEXT NOT NULL,      -- JSON name -> path relative to the output root
    labels      TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    reason      TEXT                -- a no_data run: what was missing
);
CREATE INDEX IF NOT EXISTS runs_job ON runs (job, started);
CREATE INDEX IF NOT EXISTS runs_template ON runs (template, started);
CREATE TABLE IF NOT EXISTS deliveries (  -- notifications of scheduled runs (nbcatalog.notify)
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_dir     TEXT NOT NULL,
    job         TEXT,
    channel     TEXT NOT NULL,      -- email | webhook
    target      TEXT NOT NULL,      -- recipients or the webhook's name, never its URL
    status      TEXT NOT NULL,      -- sent | failed
    attempts    INTEGER NOT NULL,
    error       TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_run ON deliveries (run_dir);
"""


def output_root() -> Path:
    """The default output root: nbcatalog.config's choice (``NBCATALOG_OUTPUT``, ./output).

    Example:
        >>> output_root().name      # doctest: +SKIP
        'output'
    """
    try:
        from nbcatalog.config import default_output_dir
    except ImportError:  # config not installed yet: same rule, read directly
        return Path(os.environ.get("NBCATALOG_OUTPUT") or "output")
    return Path(default_output_dir())


def history_path(root: str | os.PathLike | None = None) -> Path:
    """The history database of an output root.

    Example:
        >>> history_path("/srv/reports").as_posix()
        '/srv/reports/history.sqlite'
    """
    return Path(root if root is not None else output_root()) / DB_NAME


def connect(root: str | os.PathLike | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the history database of `root`.

    Autocommit mode: callers open their own ``BEGIN IMMEDIATE`` transactions, so
    that two processes writing at once queue on SQLite's lock instead of failing.

    Example:
        >>> with closing(connect(tmp)) as db: ...     # doctest: +SKIP
    """
    path = history_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(_SCHEMA)
    _add_missing_columns(conn)
    return conn


# One open connection per (thread, database) for the runner's own writes and reads:
# opening one (WAL pragma, schema script) and closing it (a checkpoint, fsyncs) cost
# more than the insert itself, twice per run. sqlite3 connections are per thread.
_SHARED_MAX = 8  # databases kept open per thread (tests make many output roots)
_shared = threading.local()


def shared_connection(root: str | os.PathLike | None = None) -> sqlite3.Connection:
    """This thread's open connection to `root`'s history, reopened when the file changed.

    Callers must not close it. It is replaced when the database file was deleted or
    replaced (another inode), in a forked child, and when it is one of more than
    `_SHARED_MAX` kept open. Writes still take ``BEGIN IMMEDIATE`` (`transaction`),
    so other processes writing the same history queue on SQLite's lock as before.

    Example:
        >>> conn = shared_connection(tmp)                           # doctest: +SKIP
        >>> conn is shared_connection(tmp)                          # doctest: +SKIP
        True
    """
    path = os.path.abspath(history_path(root))
    cache: dict[str, tuple[sqlite3.Connection, int, tuple[int, int, int]]]
    cache = getattr(_shared, "cache", None) or {}
    _shared.cache = cache
    try:
        stat = os.stat(path)
        # ctime too: a file deleted and created anew can get the same inode number.
        identity: tuple[int, int, int] | None = (stat.st_dev, stat.st_ino, stat.st_ctime_ns)
    except OSError:
        identity = None  # not created yet, or deleted since: open (and create) anew
    held = cache.pop(path, None)
    if held is not None:
        conn, pid, known = held
        if pid == os.getpid() and identity == known:
            cache[path] = held  # most recently used last
            return conn
        if pid == os.getpid():
            conn.close()  # a deleted or replaced file: this handle writes nowhere useful
    conn = connect(root)
    stat = os.stat(path)
    cache[path] = (conn, os.getpid(), (stat.st_dev, stat.st_ino, stat.st_ctime_ns))
    while len(cache) > _SHARED_MAX:
        oldest = next(iter(cache))
        old, pid, _ = cache.pop(oldest)
        if pid == os.getpid():
            old.close()
    return conn


def close_shared() -> None:
    """Close this thread's shared history connections (e.g. before deleting an output root).

    Example:
        >>> close_shared()
    """
    cache = getattr(_shared, "cache", None) or {}
    for conn, pid, _ in cache.values():
        if pid == os.getpid():
            conn.close()
    cache.clear()


# Columns added after the first release: (name, SQL type), added to older databases.
_ADDED_COLUMNS = (("reason", "TEXT"),)


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    have = {row["name"] for row in conn.execute("PRAGMA table_info(runs)")}
    for name, kind in _ADDED_COLUMNS:
        if name in have:
            continue
        try:
            conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
        except sqlite3.OperationalError as exc:  # another process added it first
            if "duplicate column" not in str(exc).lower():
                raise


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error): takes the write lock up front.

    Example:
        >>> with transaction(conn): conn.execute("DELETE FROM runs WHERE 0")  # doctest: +SKIP
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@dataclass
class RunRecord:
    """One row of the run history; paths are relative to the output root."""

    run_dir: str
    template: str
    status: str
    version: str | None = None
    job: str | None = None
    param_set: str | None = None
    fire_time: str | None = None
    trigger: str | None = None
    attempt: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    data_source: str | None = None
    started: str | None = None
    ended: str | None = None
    range_start: str | None = None
    range_end: str | None = None
    error: str | None = None
    paths: dict[str, str] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    recorded_at: str | None = None
    reason: str | None = None  # a no_data run: what was missing (and the closest names)

    @property
    def strict(self) -> bool:
        """Made under a strict policy (`run --strict`, a strict job): no_data counts as failure."""
        return bool(self.labels.get("strict"))

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json`` output."""
        return asdict(self)


def utc_text(value: Any) -> str | None:
    """An ISO-8601 time (text or datetime) as ``YYYY-MM-DDTHH:MM:SSZ`` UTC; None stays None.

    Text that is not a time is kept as given rather than lost.

    Example:
        >>> utc_text("2026-03-29T02:30:00+01:00")
        '2026-03-29T01:30:00Z'
    """
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error_text(error: Any) -> str | None:
    if error in (None, "", {}):
        return None
    if isinstance(error, dict):
        parts = [str(error.get(k)) for k in ("kind", "exception_type", "message") if error.get(k)]
        where = error.get("cell_index")
        text = ": ".join(parts) or json.dumps(error, default=str)
        if where is not None:
            section = f" (section {error['section']!r})" if error.get("section") else ""
            text = f"cell {where}{section}: {text}"
        return text
    return str(error)


def _reason_text(info: dict[str, Any]) -> str | None:
    if info.get("status") != "no_data":
        return None
    no_data = info.get("no_data") or {}
    return str(no_data.get("reason") or "no data") if isinstance(no_data, dict) else str(no_data)


def _relative(root: Path, run_dir: Path, value: Any) -> str | None:
    if not value:
        return None
    path = Path(str(value))
    if not path.is_absolute():
        # The runner may give paths relative to the run folder or to the root.
        path = (run_dir / path) if (run_dir / path).exists() else (root / path)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None  # outside the output root: not something the index can link


def read_run(run_dir: str | os.PathLike) -> RunRecord:
    """Build a history row from a run folder's run.json (without storing it).

    Example:
        >>> read_run("output/host_summary/20260101T060000Z-ab12").status   # doctest: +SKIP
        'ok'
    """
    folder = Path(run_dir)
    root = folder.resolve().parent.parent
    info = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    labels = info.get("labels") or {}
    params = info.get("parameters") or {}
    paths: dict[str, str] = {}
    named = dict(info.get("paths") or {})
    for key in ("notebook", "report"):  # the runner names these at the top level
        if isinstance(info.get(key), str):
            named.setdefault(key, info[key])
    for name, value in named.items():
        rel = _relative(root, folder, value)
        if rel and (root / rel).exists():
            paths[str(name)] = rel
    for name, file in KNOWN_FILES.items():  # files present but not named in run.json
        if (folder / file).exists() and file not in {Path(p).name for p in paths.values()}:
            paths[name] = (folder.resolve().relative_to(root)).joinpath(file).as_posix()
    attempt = labels.get("attempt")
    return RunRecord(
        run_dir=folder.resolve().relative_to(root).as_posix(),
        template=str(info.get("template") or folder.resolve().parent.name),
        version=None if info.get("version") is None else str(info.get("version")),
        status=str(info.get("status") or "unknown"),
        job=labels.get("job"),
        param_set=labels.get("param_set"),
        fire_time=utc_text(labels.get("fire_time")),
        trigger=labels.get("trigger") or "direct",  # API or CLI, outside any schedule
        attempt=int(attempt) if attempt not in (None, "") else None,
        parameters=params,
        data_source=info.get("data_source"),
        started=utc_text(info.get("started")),
        ended=utc_text(info.get("finished") or info.get("ended")),
        # run.json's start/end are the covered time range, as the notebook got it.
        range_start=utc_text(info.get("start") or params.get("start")),
        range_end=utc_text(info.get("end") or params.get("end")),
        error=_error_text(info.get("error")),
        paths=paths,
        labels=labels,
        recorded_at=utc_text(datetime.now(timezone.utc)),
        reason=_reason_text(info),
    )


def record_run(run_dir: str | os.PathLike, *, update_index: bool = True) -> None:
    """Add (or refresh) the history row of a run folder from its run.json.

    Idempotent: recording the same folder again replaces its row. The history
    database is the one of the folder's output root (two levels up), and the
    report index there is regenerated unless `update_index` is False.

    Example:
        >>> record_run(res.run_dir)      # doctest: +SKIP
    """
    record = read_run(run_dir)
    root = Path(run_dir).resolve().parent.parent
    row = record.to_json()
    for key in ("parameters", "paths", "labels"):
        row[key] = json.dumps(row[key], sort_keys=True, default=str)
    columns = list(row)
    conn = shared_connection(root)
    with transaction(conn):
        conn.execute(
            f"INSERT OR REPLACE INTO runs ({', '.join(columns)}) "  # noqa: S608 (fixed names)
            f"VALUES ({', '.join('?' for _ in columns)})",
            [row[c] for c in columns],
        )
    if update_index:
        from nbcatalog.schedules.index import write_index

        write_index(root)


def _to_record(row: sqlite3.Row) -> RunRecord:
    values = dict(row)
    for key in ("parameters", "paths", "labels"):
        values[key] = json.loads(values[key] or "{}")
    return RunRecord(**values)


def list_runs(
    root: str | os.PathLike | None = None,
    *,
    job: str | None = None,
    status: str | None = None,
    template: str | None = None,
    limit: int | None = None,
) -> list[RunRecord]:
    """Runs of an output root, newest first, optionally filtered.

    Example:
        >>> [r.run_dir for r in list_runs(job="dc-daily", status="failed")]   # doctest: +SKIP
    """
    if not history_path(root).exists():
        return []
    where, args = [], []
    for column, value in (("job", job), ("status", status), ("template", template)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    sql = "SELECT * FROM runs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY COALESCE(started, fire_time, recorded_at) DESC, run_dir DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [_to_record(r) for r in shared_connection(root).execute(sql, args)]


def forget_runs(conn: sqlite3.Connection, run_dirs: list[str]) -> None:
    """Delete history rows (inside the caller's transaction); used by retention.

    Example:
        >>> with transaction(conn): forget_runs(conn, ["host_summary/2026…"])   # doctest: +SKIP
    """
    conn.executemany("DELETE FROM runs WHERE run_dir = ?", [(d,) for d in run_dirs])
    conn.executemany("DELETE FROM deliveries WHERE run_dir = ?", [(d,) for d in run_dirs])


def mark_abandoned(root: str | os.PathLike | None = None) -> list[str]:
    """Mark ``abandoned`` every ``running`` run of `root` whose runner process is gone.

    run.json records the runner's pid, host and process start time; a run whose
    runner no longer exists on this host (a reused pid does not count as alive)
    gets ``status: abandoned`` and an error saying so, in run.json (rewritten
    atomically, every other field kept) and in the history. Runs of other hosts
    and older runs naming no runner are left as they are. Returns the run folders
    marked, relative to `root`.

    Example:
        >>> mark_abandoned("output")       # doctest: +SKIP
        ['host_summary/20260101T060000Z-ab12cd']
    """
    from nbcatalog.runfolder import write_json
    from nbcatalog.runstate import ABANDONED, runner_gone

    root = Path(root if root is not None else output_root())
    if not history_path(root).exists():
        return []
    conn = shared_connection(root)
    rows = conn.execute("SELECT run_dir FROM runs WHERE status = ?", ("running",))
    running = [r["run_dir"] for r in rows]
    marked: list[str] = []
    for rel in running:
        folder = root / rel
        try:
            info = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # deleted or unreadable: retention or the next record fixes the row
        if not isinstance(info, dict) or not runner_gone(info):
            continue
        runner = info.get("runner") or {}
        info["status"] = ABANDONED
        info["error"] = {
            "kind": ABANDONED,
            "cell_index": None,
            "section": None,
            "exception_type": "RunnerGone",
            "message": f"the process running it (pid {runner.get('pid')} on "
            f"{runner.get('host')}) ended without finishing the run: killed, out of "
            "memory or a reboot",
        }
        write_json(folder / RUN_FILE, info)
        record_run(folder, update_index=False)
        marked.append(rel)
    return marked


@dataclass
class Delivery:
    """One notification of a run: channel, target (never a URL or secret), outcome."""

    run_dir: str
    job: str | None
    channel: str
    target: str
    status: str
    attempts: int
    error: str | None = None
    at: str | None = None
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json`` output."""
        return asdict(self)


def record_delivery(root: str | os.PathLike | None, delivery: Delivery) -> None:
    """Store one delivery (sent or failed) in the history's ``deliveries`` table.

    Example:
        >>> record_delivery("output", Delivery("host_summary/X", "dc", "email",
        ...     "soc@example.org", "sent", 1))                          # doctest: +SKIP
    """
    row = delivery.to_json()
    row.pop("id")
    row["at"] = row["at"] or utc_text(datetime.now(timezone.utc))
    conn = connect(root)
    try:
        with transaction(conn):
            conn.execute(
                f"INSERT INTO deliveries ({', '.join(row)}) "  # noqa: S608 (fixed names)
                f"VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )
    finally:
        conn.close()


def list_deliveries(
    root: str | os.PathLike | None = None, *, run_dir: str | None = None
) -> list[Delivery]:
    """Deliveries of an output root (of one run when `run_dir` is given), oldest first.

    Example:
        >>> [d.status for d in list_deliveries("output")]      # doctest: +SKIP
        ['sent']
    """
    if not history_path(root).exists():
        return []
    sql, args = "SELECT * FROM deliveries", []
    if run_dir is not None:
        sql += " WHERE run_dir = ?"
        args.append(run_dir)
    conn = connect(root)
    try:
        return [Delivery(**dict(r)) for r in conn.execute(sql + " ORDER BY id", args)]
    finally:
        conn.close()
