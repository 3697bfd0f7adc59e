"""Run what is due: each job's fire times since it was last decided, per its catch-up policy.

For each job, in one SQLite write transaction (see claims.py): read its
watermark (the newest fire time already decided), list the fire times in
``(watermark, now]``, pick those to run per the catch-up policy, claim each
(fire time, parameter set) and move the watermark. Then run each won claim
through ``nbcatalog.run`` with ``start = fire time - covers`` and ``end = fire
time`` and labels naming the job, fire time, trigger and attempt, retrying
with back-off. One job failing never stops the others.

A run that ends ``no_data`` (its host matched nothing, its tables are absent) is
not retried: it ran, and running it again at once would find the same nothing.
For a ``strict`` job (the default) it counts as a failure: `exit_code` is 3 when
no run failed but a strict job's run ended ``no_data``, and the index shows it red.

Catch-up policies, for fire times missed while nothing called run-due:

- ``skip``: run the newest fire time only if it is at most `misfire_grace` old;
- ``latest``: run the newest fire time, however late;
- ``all``: run every missed fire time, oldest first, at most `catch_up_cap`
  (the newest ones).

A job seen for the first time starts `misfire_grace` before now: adding a job
never runs its history.

Example:
    >>> from nbcatalog.schedules.spec import load_schedule
    >>> outcomes = run_due(load_schedule(), now=datetime.now(timezone.utc))  # doctest: +SKIP
    >>> [(o.job, o.status) for o in outcomes]                                # doctest: +SKIP
    [('dc-daily', 'ok')]
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nbcatalog import history
from nbcatalog.errors import RunError, UsageError
from nbcatalog.schedules import claims as claimlib
from nbcatalog.schedules.firetimes import fire_times_between
from nbcatalog.schedules.spec import Job, ParameterSet, Schedule

log = logging.getLogger(__name__)

RunFunction = Callable[..., Any]  # nbcatalog.run's signature


@dataclass
class Outcome:
    """What happened to one (job, fire time, parameter set)."""

    job: str
    fire_time: datetime | None
    parameters: dict[str, Any]
    status: str  # ok, no_data, failed, released (stopped before finishing), error
    trigger: str = "schedule"
    attempts: int = 0
    run_dir: str | None = None  # relative to the output root
    error: str | None = None
    run_dirs: list[str] = field(default_factory=list)  # every attempt's folder
    reason: str | None = None  # a no_data run: what was missing
    strict: bool = False  # the job counts no_data as a failure
    diff: dict[str, Any] | None = None  # since the job's previous ok run (run.json ``diff``)

    def __post_init__(self) -> None:
        # Printed and in --json (a cron mail): a secret from the schedule file stays out.
        from nbcatalog.parameters import REDACTED
        from nbcatalog.template import SECRET_NAME

        self.parameters = {
            k: REDACTED if SECRET_NAME.search(str(k)) and v not in (None, "") else v
            for k, v in self.parameters.items()
        }

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json`` output."""
        return {
            "job": self.job,
            "fire_time": history.utc_text(self.fire_time),
            "parameters": self.parameters,
            "status": self.status,
            "trigger": self.trigger,
            "attempts": self.attempts,
            "run_dir": self.run_dir,
            "run_dirs": self.run_dirs,
            "error": self.error,
            "reason": self.reason,
            "strict": self.strict,
            "diff": self.diff,
        }


def exit_code(outcomes: list[Outcome]) -> int:
    """1 when a run failed, 3 when a strict job's run ended no_data, else 0.

    Example:
        >>> exit_code([Outcome("dc", None, {}, "no_data", strict=True)])
        3
    """
    from nbcatalog.runstate import NO_DATA, NO_DATA_EXIT

    if any(o.status in ("failed", "error") for o in outcomes):
        return 1
    if any(o.status == NO_DATA and o.strict for o in outcomes):
        return NO_DATA_EXIT
    return 0


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError(f"now={now!r} has no time zone; give an aware datetime")
    return now.astimezone(timezone.utc)


def decide(job: Job, now: datetime, mark: datetime | None) -> tuple[list[datetime], datetime]:
    """The fire times of `job` to run at `now`, and the new watermark.

    Example:
        >>> from nbcatalog.schedules.spec import parse_schedule
        >>> job = parse_schedule({"jobs": [{"name": "j", "notebooklet": "n",
        ...     "cron": "0 * * * *", "catch_up": "all"}]}).jobs[0]
        >>> t = lambda h: datetime(2026, 1, 1, h, tzinfo=timezone.utc)
        >>> [x.hour for x in decide(job, t(5), t(2))[0]]
        [3, 4, 5]
    """
    now = _utc(now)
    since = mark if mark is not None else now - job.misfire_grace
    limit = job.catch_up_cap if job.catch_up == "all" else 1
    times = fire_times_between(job.cron, job.timezone, since, now, limit=limit)
    new_mark = max(times[-1], since) if times else since
    if not job.enabled:
        return [], new_mark
    if job.catch_up == "skip":
        times = [t for t in times if now - t <= job.misfire_grace]
    return times, new_mark


def _default_run() -> RunFunction:
    import nbcatalog

    return nbcatalog.run


def _relative_run_dir(root: Path, path: Any) -> str | None:
    if not path:
        return None
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _attach_diff(root: Path, run_dir: Path) -> dict[str, Any] | None:
    from nbcatalog.schedules.since import attach_diff

    try:
        return attach_diff(root, run_dir)
    except Exception as exc:  # noqa: BLE001 - a diff that cannot be made never fails the run
        log.warning("%s: no diff against the previous run: %r", run_dir, exc)
        return None


def _failed_run_dir(exc: BaseException) -> Path | None:
    notebook = getattr(exc, "notebook_path", None)
    return Path(notebook).parent if notebook else None


class Executor:
    """Runs claimed (job, fire time, parameter set) triples with retries and back-off."""

    def __init__(
        self,
        root: Path,
        *,
        run: RunFunction | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
        heartbeat_every: float = claimlib.HEARTBEAT_EVERY,
    ):
        self.root = Path(root)
        self.run = run or _default_run()
        self.sleep = sleep
        self.should_stop = should_stop
        self.heartbeat_every = heartbeat_every

    def _attempt(self, job: Job, fire: datetime, pset: ParameterSet, trigger: str, n: int):
        labels = {
            "job": job.name,
            "fire_time": history.utc_text(fire),
            "trigger": trigger,
            "attempt": n,
            "param_set": pset.key,
            "strict": job.strict,
        }
        result = self.run(
            job.notebooklet,
            output_dir=self.root,
            html="html" in job.formats or "pdf" in job.formats,  # the PDF prints the report
            start=fire - job.covers,
            end=fire,
            timeout=job.timeout,
            quiet=True,
            silent=True,
            labels=labels,
            **pset.values,
        )
        run_dir = Path(result.run_dir)
        diff = _attach_diff(self.root, run_dir)  # before the PDF prints the report
        if "pdf" in job.formats:
            from nbcatalog.pdf import print_pdf

            print_pdf(run_dir / "report.html")  # PdfError (a UsageError): not retried
        if "notebook" not in job.formats:
            from nbcatalog.reports import drop_notebook_link

            # The notebook was only the means to the report; failed runs keep theirs.
            (run_dir / "notebook.ipynb").unlink(missing_ok=True)
            drop_notebook_link(run_dir / "report.html")
        status = str(getattr(result, "status", "ok"))
        return run_dir, status, getattr(result, "reason", "") or None, diff

    def execute(
        self,
        job: Job,
        fire: datetime,
        pset: ParameterSet,
        *,
        trigger: str = "schedule",
        claim: claimlib.Claim | None = None,
        conn=None,
    ) -> Outcome:
        """Run one (job, fire time, parameter set) until it succeeds or retries run out.

        With a `claim` (and its connection), progress is written to the claim table
        and a heartbeat is kept while each attempt runs.
        """
        outcome = Outcome(
            job.name, fire, dict(pset.values), "failed", trigger=trigger, strict=job.strict
        )
        first = (claim.attempts if claim else 0) + 1
        # A claim taken over from a dead process gets one more try than the budget.
        last = job.retries + 1 + (1 if claim is not None and claim.recovered else 0)
        if first > last:
            outcome.error = f"gave up after {claim.attempts} attempts (the runner kept dying)"
        for n in range(first, last + 1):
            if claim is not None:
                claimlib.note_attempt(conn, claim, n)
            outcome.attempts = n
            run_dir: Path | None = None
            try:
                if claim is not None:
                    with claimlib.Heartbeat(
                        history.history_path(self.root), claim, self.heartbeat_every
                    ):
                        run_dir, status, reason, diff = self._attempt(job, fire, pset, trigger, n)
                else:
                    run_dir, status, reason, diff = self._attempt(job, fire, pset, trigger, n)
                # no_data is an answer, not a failure: it is not retried.
                outcome.status, outcome.error, outcome.reason = status, None, reason
                outcome.diff = diff
            except UsageError as exc:  # bad parameters: retrying cannot help
                outcome.error = str(exc)
                self._record(outcome, _failed_run_dir(exc))
                break
            except Exception as exc:  # noqa: BLE001 - one job must not stop the others
                outcome.error = str(exc) if isinstance(exc, RunError) else repr(exc)
                run_dir = _failed_run_dir(exc)
                log.warning("%s %s attempt %d failed: %s", job.name, fire, n, outcome.error)
            self._record(outcome, run_dir)
            if outcome.status != "failed":
                break
            if n < last:
                if self.should_stop():
                    break
                self.sleep(job.retry_backoff.total_seconds() * 2 ** (n - first))
                if self.should_stop():
                    break
        if claim is not None:
            if outcome.status == "failed" and self.should_stop():
                # Stopping (the failure may be the interrupt itself): hand the claim back
                # so the next call finishes it, with one more attempt at most.
                claimlib.release(conn, claim)
                outcome.status = "released"
            else:
                claimlib.finish(
                    conn,
                    claim,
                    outcome.status,
                    run_dir=outcome.run_dir,
                    error=outcome.error or outcome.reason,
                )
        if job.notify is not None and outcome.status != "released":
            self._notify(job, outcome)
        return outcome

    def _notify(self, job: Job, outcome: Outcome) -> None:
        from nbcatalog.notify.deliver import notify_run

        try:
            notify_run(
                self.root,
                job.name,
                job.notify,
                run_dir=outcome.run_dir,
                status=outcome.status,
                strict=job.strict,
                error=outcome.error,
                fallback={"template": job.notebooklet, "parameters": outcome.parameters},
                sleep=self.sleep,
            )
        except Exception as exc:  # noqa: BLE001 - a notification never fails the run
            log.error("%s: notification failed: %r", job.name, exc)

    def _record(self, outcome: Outcome, run_dir: Path | None) -> None:
        if run_dir is None or not (run_dir / history.RUN_FILE).exists():
            return
        history.record_run(run_dir, update_index=False)  # the runner did too; idempotent
        outcome.run_dir = _relative_run_dir(self.root, run_dir)
        outcome.run_dirs.append(outcome.run_dir)


def run_due(
    schedule: Schedule,
    *,
    now: datetime,
    output_dir: str | os.PathLike | None = None,
    run: RunFunction | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
    stale_after: float = claimlib.DEFAULT_STALE_AFTER,
    heartbeat_every: float = claimlib.HEARTBEAT_EVERY,
) -> list[Outcome]:
    """Claim and run every job's due fire times at `now`; return what happened to each.

    `run` replaces ``nbcatalog.run`` (tests); `sleep` waits between retries;
    `should_stop` is polled between runs (``serve`` sets it on SIGTERM).

    Example:
        >>> run_due(load_schedule(), now=datetime.now(timezone.utc))   # doctest: +SKIP
    """
    from nbcatalog.schedules.index import write_index
    from nbcatalog.schedules.retention import apply_retention

    now = _utc(now)
    root = Path(output_dir) if output_dir is not None else history.output_root()
    history.mark_abandoned(root)  # runs whose runner was killed: abandoned, not running
    executor = Executor(
        root, run=run, sleep=sleep, should_stop=should_stop, heartbeat_every=heartbeat_every
    )
    owner = claimlib.new_owner()
    outcomes: list[Outcome] = []
    conn = history.connect(root)
    try:
        for job in schedule.jobs:
            try:
                won = claimlib.reclaim_stale(conn, job.name, owner=owner, stale_after=stale_after)
                won += claimlib.claim_due(
                    conn,
                    job.name,
                    lambda mark, job=job: decide(job, now, mark),
                    job.parameter_sets,
                    owner=owner,
                )
            except Exception as exc:  # noqa: BLE001 - a broken job must not stop the others
                log.error("%s: could not decide what is due: %r", job.name, exc)
                outcomes.append(Outcome(job.name, None, {}, "error", error=repr(exc)))
                continue
            for claim in sorted(won, key=lambda c: c.fire_time):
                if should_stop():
                    claimlib.release(conn, claim)
                    outcomes.append(
                        Outcome(job.name, claim.fire_time, claim.param_set.values, "released")
                    )
                    continue
                outcomes.append(
                    executor.execute(job, claim.fire_time, claim.param_set, claim=claim, conn=conn)
                )
        for job in schedule.jobs:
            try:
                apply_retention(root, job, now=now, conn=conn)
            except Exception as exc:  # noqa: BLE001
                log.error("%s: retention failed: %r", job.name, exc)
    finally:
        conn.close()
    write_index(root)
    return outcomes


def run_job_now(
    schedule: Schedule,
    job_name: str,
    *,
    now: datetime | None = None,
    output_dir: str | os.PathLike | None = None,
    run: RunFunction | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> list[Outcome]:
    """Run every parameter set of one job now, recorded as ``manual`` (no claim needed).

    Example:
        >>> run_job_now(load_schedule(), "dc-daily")      # doctest: +SKIP
    """
    from nbcatalog.schedules.index import write_index
    from nbcatalog.schedules.retention import apply_retention

    job = schedule.job(job_name)
    fire = _utc(now or datetime.now(timezone.utc)).replace(microsecond=0)
    root = Path(output_dir) if output_dir is not None else history.output_root()
    history.mark_abandoned(root)  # runs whose runner was killed: abandoned, not running
    executor = Executor(root, run=run, sleep=sleep)
    outcomes = [executor.execute(job, fire, pset, trigger="manual") for pset in job.parameter_sets]
    apply_retention(root, job, now=fire)
    write_index(root)
    return outcomes


def next_wakeup(schedule: Schedule, after: datetime) -> datetime | None:
    """The earliest next fire time over all enabled jobs (for ``serve``).

    Example:
        >>> next_wakeup(load_schedule(), datetime.now(timezone.utc))   # doctest: +SKIP
    """
    from nbcatalog.schedules.firetimes import next_fire_time

    times = [next_fire_time(j.cron, j.timezone, after) for j in schedule.jobs if j.enabled]
    return min(times) if times else None
