"""At-most-once runs: a (job, fire time, parameter set) is claimed in SQLite before it runs.

Two ``run-due`` calls that overlap both decide that 06:00 is due; only one of
them inserts the claim row (its primary key is the triple), inside a
``BEGIN IMMEDIATE`` transaction that also moves the job's watermark (the newest
fire time already decided), so the other one sees it and moves on.

A process that dies mid-run leaves a ``running`` claim behind. It is stale, and
taken over by the next caller, when its owner process is gone (same machine) or
its heartbeat, refreshed every few seconds while the run goes on, is older than
`stale_after`.

Example:
    >>> conn = history.connect(root)                                      # doctest: +SKIP
    >>> won = claim_due(conn, "dc", lambda wm: ([t], t), [pset], owner=me)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from nbcatalog.history import transaction, utc_text
from nbcatalog.schedules.spec import ParameterSet

DEFAULT_STALE_AFTER = 15 * 60.0  # seconds without a heartbeat
HEARTBEAT_EVERY = 20.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    job          TEXT NOT NULL,
    fire_time    TEXT NOT NULL,      -- UTC, YYYY-MM-DDTHH:MM:SSZ
    param_key    TEXT NOT NULL,
    params       TEXT NOT NULL,
    state        TEXT NOT NULL,      -- running, ok, failed
    owner        TEXT NOT NULL,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    claimed_at   REAL NOT NULL,      -- wall clock (epoch s), not the --now time
    heartbeat_at REAL NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    run_dir      TEXT,
    error        TEXT,
    PRIMARY KEY (job, fire_time, param_key)
);
CREATE TABLE IF NOT EXISTS job_state (
    job       TEXT PRIMARY KEY,
    watermark TEXT NOT NULL          -- newest fire time already decided (run or skipped)
);
"""


@dataclass(frozen=True)
class Owner:
    """Who holds a claim: this machine, this process, this call."""

    host: str
    pid: int
    token: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"


def new_owner() -> Owner:
    """A fresh owner id for one scheduler call in this process.

    Example:
        >>> new_owner().pid == os.getpid()
        True
    """
    return Owner(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:8])


@dataclass(frozen=True)
class Claim:
    """A won right to run one (job, fire time, parameter set)."""

    job: str
    fire_time: datetime
    param_set: ParameterSet
    attempts: int = 0  # attempts made before this claim was won (a takeover)
    recovered: bool = False


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the claim tables if missing (idempotent)."""
    conn.executescript(_SCHEMA)


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def watermark(conn: sqlite3.Connection, job: str) -> datetime | None:
    """The newest fire time of `job` already decided, or None for a job never seen.

    Example:
        >>> watermark(conn, "dc-daily")      # doctest: +SKIP
        datetime.datetime(2026, 3, 1, 6, 0, tzinfo=datetime.timezone.utc)
    """
    ensure_schema(conn)
    row = conn.execute("SELECT watermark FROM job_state WHERE job = ?", (job,)).fetchone()
    return _parse_utc(row[0]) if row else None


def claim_due(
    conn: sqlite3.Connection,
    job: str,
    decide: Callable[[datetime | None], tuple[list[datetime], datetime | None]],
    param_sets: Iterable[ParameterSet],
    *,
    owner: Owner,
) -> list[Claim]:
    """Decide and claim a job's due fire times in one write transaction.

    `decide(watermark)` returns the fire times to run and the new watermark
    (the newest fire time now decided, run or skipped). Each (fire time,
    parameter set) is inserted as a ``running`` claim; those another caller
    already holds are left out of the result.

    Example:
        >>> claim_due(conn, "dc", lambda wm: ([t6], t6), [pset], owner=me)  # doctest: +SKIP
        [Claim(job='dc', fire_time=..., ...)]
    """
    ensure_schema(conn)
    sets = list(param_sets)
    won: list[Claim] = []
    with transaction(conn):
        row = conn.execute("SELECT watermark FROM job_state WHERE job = ?", (job,)).fetchone()
        times, new_mark = decide(_parse_utc(row[0]) if row else None)
        now = time.time()
        for fire in sorted(times):
            for pset in sets:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO claims (job, fire_time, param_key, params, state, "
                    "owner, host, pid, claimed_at, heartbeat_at) "
                    "VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)",
                    (
                        job,
                        utc_text(fire),
                        pset.key,
                        json.dumps(pset.values, sort_keys=True, default=str),
                        str(owner),
                        owner.host,
                        owner.pid,
                        now,
                        now,
                    ),
                )
                if cur.rowcount == 1:
                    won.append(Claim(job, fire, pset))
        if new_mark is not None:
            text = utc_text(new_mark)
            conn.execute(
                "INSERT INTO job_state (job, watermark) VALUES (?, ?) "
                "ON CONFLICT(job) DO UPDATE SET watermark = max(watermark, excluded.watermark)",
                (job, text),
            )
    return won


def _process_alive(pid: int) -> bool:
    if pid <= 0:  # a released claim; kill(0 or -1) would address process groups
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reclaim_stale(
    conn: sqlite3.Connection,
    job: str,
    *,
    owner: Owner,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> list[Claim]:
    """Take over `running` claims of `job` left by a process that died.

    Example:
        >>> reclaim_stale(conn, "dc", owner=new_owner())     # doctest: +SKIP
        []
    """
    ensure_schema(conn)
    won: list[Claim] = []
    with transaction(conn):
        rows = conn.execute(
            "SELECT fire_time, param_key, params, owner, host, pid, heartbeat_at, attempts "
            "FROM claims WHERE job = ? AND state = 'running' AND owner != ?",
            (job, str(owner)),
        ).fetchall()
        now = time.time()
        for row in rows:
            dead = row["host"] == owner.host and not _process_alive(row["pid"])
            silent = now - row["heartbeat_at"] > stale_after
            if not (dead or silent):
                continue
            conn.execute(
                "UPDATE claims SET owner = ?, host = ?, pid = ?, claimed_at = ?, "
                "heartbeat_at = ? WHERE job = ? AND fire_time = ? AND param_key = ?",
                (
                    str(owner),
                    owner.host,
                    owner.pid,
                    now,
                    now,
                    job,
                    row["fire_time"],
                    row["param_key"],
                ),
            )
            won.append(
                Claim(
                    job,
                    _parse_utc(row["fire_time"]),
                    ParameterSet(json.loads(row["params"])),
                    attempts=row["attempts"],
                    recovered=True,
                )
            )
    return won


def _where(claim: Claim) -> tuple[str, str, str]:
    return (claim.job, utc_text(claim.fire_time), claim.param_set.key)


def note_attempt(conn: sqlite3.Connection, claim: Claim, attempt: int) -> None:
    """Record that attempt number `attempt` of a claim is starting."""
    with transaction(conn):
        conn.execute(
            "UPDATE claims SET attempts = ?, heartbeat_at = ? "
            "WHERE job = ? AND fire_time = ? AND param_key = ?",
            (attempt, time.time(), *_where(claim)),
        )


def finish(
    conn: sqlite3.Connection,
    claim: Claim,
    state: str,
    *,
    run_dir: str | None = None,
    error: str | None = None,
) -> None:
    """Close a claim as ``ok`` or ``failed``; it is never run again.

    Example:
        >>> finish(conn, claim, "ok", run_dir="host_summary/2026…")   # doctest: +SKIP
    """
    with transaction(conn):
        conn.execute(
            "UPDATE claims SET state = ?, run_dir = ?, error = ?, heartbeat_at = ? "
            "WHERE job = ? AND fire_time = ? AND param_key = ?",
            (state, run_dir, error, time.time(), *_where(claim)),
        )


def claim_rows(conn: sqlite3.Connection, job: str | None = None) -> list[dict]:
    """Every claim (optionally of one job), oldest fire time first; for tests and status.

    Example:
        >>> [r["state"] for r in claim_rows(conn, "dc")]     # doctest: +SKIP
        ['ok']
    """
    ensure_schema(conn)
    sql = "SELECT * FROM claims"
    args: tuple = ()
    if job is not None:
        sql += " WHERE job = ?"
        args = (job,)
    return [dict(r) for r in conn.execute(sql + " ORDER BY fire_time, job, param_key", args)]


class Heartbeat:
    """Refreshes a claim's heartbeat from a background thread while a run goes on.

    Example:
        >>> with Heartbeat(db_path, claim):        # doctest: +SKIP
        ...     run_the_notebook()
    """

    def __init__(self, db_path, claim: Claim, every: float = HEARTBEAT_EVERY):
        self._path = db_path
        self._claim = claim
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="claim-heartbeat")

    def _beat(self) -> None:
        conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        try:
            while not self._stop.wait(self._every):
                try:
                    conn.execute(
                        "UPDATE claims SET heartbeat_at = ? "
                        "WHERE job = ? AND fire_time = ? AND param_key = ?",
                        (time.time(), *_where(self._claim)),
                    )
                except sqlite3.OperationalError:
                    pass  # busy for longer than the timeout: try again next beat
        finally:
            conn.close()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def release(conn: sqlite3.Connection, claim: Claim) -> None:
    """Give a claim back unfinished (on shutdown): the next caller takes it over.

    Example:
        >>> release(conn, claim)     # doctest: +SKIP
    """
    with transaction(conn):
        conn.execute(
            "UPDATE claims SET owner = 'released', pid = -1, heartbeat_at = 0 "
            "WHERE job = ? AND fire_time = ? AND param_key = ? AND state = 'running'",
            _where(claim),
        )
