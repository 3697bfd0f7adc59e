"""Runs asked for from the web: queued, run on warm kernels a few at a time, then recorded.

`JobQueue.submit` takes a notebooklet name and parameters already checked by
`nbcatalog.parameters.resolve`, and returns at once with a `Job` the pages can
show ("queued", "running", then the run's own status). At most `workers` runs go
at once, each on a kernel of the queue's own `KernelPool` (warm, reset between
runs); the others wait in order. A run goes through `nbcatalog.run`, so its run
folder, run.json and history row are exactly those of a run from the CLI or a
schedule, labelled ``trigger=web`` and with the user's name.

Secret values live only in the closure of the queued call: a `Job` keeps the
redacted parameters, and nothing keeps the raw ones once the run has started.

Example:
    >>> queue = JobQueue(output_root=Path("output"), workers=1)          # doctest: +SKIP
    >>> job = queue.submit("host_summary", {"host": "WKSTN-042"}, {"host": "WKSTN-042"},
    ...                    user="alice")                                  # doctest: +SKIP
    >>> queue.get(job.id).state                                           # doctest: +SKIP
    'queued'
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbcatalog.errors import NbcatalogError, RunError

MAX_KEPT_JOBS = 500  # finished jobs remembered for their pages; history keeps the runs


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Job:
    """One run asked for from the web, as its page shows it.

    `state` is the queue's: queued, running, done. `status` is the run's own word
    once it is done (ok, no_data, failed, ...). `run_dir` is relative to the
    output root (``host_summary/20261206T030422Z-778a6a``) once there is one.
    """

    id: str
    template: str
    parameters: dict[str, Any]
    user: str
    submitted: str
    rerun_of: str | None = None
    state: str = "queued"
    status: str | None = None
    run_dir: str | None = None
    error: str | None = None
    started: str | None = None
    finished: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)


class JobQueue:
    """A bounded set of workers running notebooklets on a pool of warm kernels.

    `runner` is `nbcatalog.run` (tests may pass another callable of its shape).
    """

    def __init__(
        self,
        output_root: Path,
        *,
        workers: int = 1,
        data_source: str | None = None,
        run_timeout: float | None = None,
        runner: Callable[..., Any] | None = None,
        warm: bool = True,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers={workers!r}: at least one run must be able to go")
        self.output_root = output_root
        self.workers = workers
        self.data_source = data_source
        self.run_timeout = run_timeout
        self._runner = runner
        self._warm = warm
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nbcatalog-web")
        self._pool: Any = None

    def start(self) -> None:
        """Start the warm kernels in the background, so the first run does not wait for them."""
        if self._runner is not None:
            return
        from nbcatalog.pool import KernelPool

        self._pool = KernelPool(size=self.workers)
        if self._warm:
            self._pool.warm(wait=False)

    def submit(
        self,
        template: str,
        params: Mapping[str, Any],
        redacted: Mapping[str, Any],
        *,
        user: str,
        rerun_of: str | None = None,
    ) -> Job:
        """Queue a run of `template` with checked `params`; returns its Job at once.

        `params` are `nbcatalog.run` keywords (the template's parameters, start,
        end, options); `redacted` is the same with secrets replaced, for display.
        """
        labels = {"trigger": "web", "user": user}
        if rerun_of:
            labels["rerun_of"] = rerun_of
        job = Job(
            id=secrets.token_urlsafe(9),
            template=template,
            parameters=dict(redacted),
            user=user,
            submitted=_now(),
            rerun_of=rerun_of,
            labels=labels,
        )
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        self._executor.submit(self._run, job, dict(params))
        return job

    def _forget_old(self) -> None:
        done = [k for k, j in self._jobs.items() if j.state == "done"]
        for key in done[: max(0, len(self._jobs) - MAX_KEPT_JOBS)]:
            del self._jobs[key]

    def _relative(self, path: Path | None) -> str | None:
        if path is None:
            return None
        try:
            return Path(path).resolve().relative_to(self.output_root.resolve()).as_posix()
        except ValueError:
            return None

    def _run(self, job: Job, params: dict[str, Any]) -> None:
        with self._lock:
            job.state, job.started = "running", _now()
        status, run_dir, error = "failed", None, None
        try:
            if self._runner is not None:
                run = self._runner
            else:
                from nbcatalog.runner import run
            result = run(
                job.template,
                output_dir=self.output_root,
                data_source=self.data_source,
                timeout=self.run_timeout,
                html=True,
                quiet=True,
                silent=True,
                labels=job.labels,
                pool=self._pool,
                **params,
            )
            status = str(getattr(result, "status", None) or "ok")
            run_dir = self._relative(getattr(result, "run_dir", None))
        except RunError as exc:
            run_dir = self._relative(exc.notebook_path.parent if exc.notebook_path else None)
            error = str(exc)
        except NbcatalogError as exc:
            error = str(exc)
        except Exception as exc:  # a bug must not kill the worker thread silently
            error = f"{type(exc).__name__}: {exc}"
        finally:
            params.clear()  # the secrets go with the call
        if run_dir is not None:
            status = self._recorded_status(run_dir, status)
        with self._lock:
            job.state, job.status, job.run_dir = "done", status, run_dir
            job.error, job.finished = error, _now()

    def _recorded_status(self, run_dir: str, fallback: str) -> str:
        """The status run.json holds (the same word the history shows)."""
        import json

        try:
            info = json.loads((self.output_root / run_dir / "run.json").read_text("utf-8"))
        except (OSError, ValueError):
            return fallback
        status = info.get("status") if isinstance(info, dict) else None
        return str(status) if status else fallback

    def get(self, job_id: str) -> Job | None:
        """The job of this id (None once forgotten or never made)."""
        with self._lock:
            return self._jobs.get(job_id)

    def active(self) -> list[Job]:
        """Jobs queued or running, oldest first."""
        with self._lock:
            return [j for j in self._jobs.values() if j.state != "done"]

    def ahead_of(self, job: Job) -> int:
        """How many queued jobs wait before this one."""
        with self._lock:
            queued = [j.id for j in self._jobs.values() if j.state == "queued"]
        return queued.index(job.id) if job.id in queued else 0

    def shutdown(self, *, wait: bool = True) -> None:
        """Drop queued jobs, let running ones finish (when `wait`), stop the kernels."""
        self._executor.shutdown(wait=wait, cancel_futures=True)
        with self._lock:
            for job in self._jobs.values():
                if job.state == "queued":
                    job.state, job.status, job.error = "done", "cancelled", "the app stopped"
        if self._pool is not None:
            self._pool.shutdown()
