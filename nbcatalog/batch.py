"""`nbcatalog.run_many`: one notebooklet over many parameter sets, locally or on Dask.

Every parameter set becomes an ordinary run (its own run folder, run.json and
history row, labelled ``{"batch": <id>, "trigger": "batch", "attempt": n}``), so
the report index, retention and `nbcatalog history` see batch runs like any
other. A failed run is tried again up to `retries` times; a run that still
fails is reported in the summary table and never stops the others. A run that
ends ``no_data`` (its entity matched nothing) is not retried: the table says
``no_data`` and why. Parameters
are checked for every set before anything runs, and the time range is fixed
once for the whole batch, so every entity covers the same window.

Executors:

- ``local`` (default): `workers` threads in this process, each calling
  `nbcatalog.run` (on the warm kernel pool when there is one);
- ``dask``: tasks on a Dask cluster, either an existing scheduler
  (``scheduler="tcp://host:8786"`` or the path of a scheduler file) or a
  LocalCluster of ``dask_local`` worker processes on 127.0.0.1. Workers write
  their run folders to the shared output folder; the client re-creates Results
  from those folders, so the outcome is the same whichever executor ran it.

At the end the batch writes ``<output>/batches/<batch id>/batch.json`` and an
HTML summary ``index.html`` next to it (see `nbcatalog.batch_index`).

Example:
    >>> import nbcatalog
    >>> batch = nbcatalog.run_many("host_summary",
    ...                            [{"host": "WKSTN-001"}, {"host": "WKSTN-042"}],
    ...                            workers=2, last="24h")          # doctest: +SKIP
    >>> batch.table[["host", "status", "duration"]]                # doctest: +SKIP
    >>> batch.result(1).related_alerts                             # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nbcatalog.errors import ParameterError, RunError, UsageError
from nbcatalog.results import Results, json_safe
from nbcatalog.runstate import FAILED, NO_DATA, OK

log = logging.getLogger(__name__)

EXECUTORS = ("local", "dask")
BATCHES_DIR = "batches"
BATCH_JSON = "batch.json"
# Keys of a parameter set that belong to the run, not to the template's cell.
_RUN_KEYS = ("last",)


@dataclass
class RunOutcome:
    """What one parameter set came to, after its retries (plain values: crosses processes)."""

    index: int
    key: str
    params: dict[str, Any]
    status: str  # "ok", "no_data" or "failed"
    attempts: int
    duration: float  # seconds, all attempts
    run_dir: str | None
    report: str | None
    error: str | None
    worker: str | None = None
    reason: str | None = None  # a no_data run: what was missing


def param_key(params: Mapping[str, Any], secrets: Iterable[str] = ()) -> str:
    """A short label for a parameter set: ``host=WKSTN-042`` (``a=1, b=2`` for several).

    The values of `secrets` (parameter names) show as ``<redacted>``: the label goes
    into error messages, run labels, the batch table and its index page.

    Example:
        >>> param_key({"host": "WKSTN-042", "min_failures": 5})
        'host=WKSTN-042, min_failures=5'
        >>> param_key({"host": "h", "api_key": "s3cret"}, secrets={"api_key"})
        'host=h, api_key=<redacted>'
    """
    shown = redact(params, secrets)
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "(defaults)"


def redact(params: Mapping[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
    """`params` with the value of every parameter named in `secrets` replaced.

    Example:
        >>> redact({"host": "h", "api_key": "s3cret"}, ["api_key"])
        {'host': 'h', 'api_key': '<redacted>'}
    """
    from nbcatalog.parameters import REDACTED

    names = {str(n).replace("-", "_") for n in secrets}
    return {
        k: REDACTED if str(k).replace("-", "_") in names and v not in (None, "") else v
        for k, v in params.items()
    }


def _secret_names(template: Any) -> frozenset[str]:
    return frozenset(p.name for p in template.parameters if p.secret)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def run_entity(
    template: str,
    index: int,
    params: dict[str, Any],
    common: dict[str, Any],
    *,
    output_dir: str,
    html: bool,
    timeout: float | None,
    retries: int,
    labels: dict[str, Any],
    pool: Any = None,
    fresh_kernel: bool = False,
    secrets: Iterable[str] = (),
) -> RunOutcome:
    """Run one parameter set with retries; never raises for a failed run.

    This is the task a batch executor runs (in a thread or a Dask worker), so
    it takes and returns plain picklable values. Kernels come from `pool` (a
    `nbcatalog.pool.KernelPool`), else from this process's default pool; with
    `fresh_kernel` every attempt starts its own kernel. The parameters named in
    `secrets` are redacted in the outcome (its key, params and error).

    Example:
        >>> run_entity("host_summary", 0, {"host": "WKSTN-042"}, {}, output_dir="output",
        ...            html=False, timeout=None, retries=1, labels={"batch": "b1"})
        ...                                                        # doctest: +SKIP
    """
    from nbcatalog.runner import run

    key = param_key(params, secrets)
    shown_params = redact(params, secrets)
    started = time.monotonic()

    def outcome(
        status: str,
        run_dir: str | None,
        report: str | None,
        error: str | None,
        reason: str | None = None,
    ):
        return RunOutcome(
            index=index,
            key=key,
            params=shown_params,
            status=status,
            attempts=attempt,
            duration=time.monotonic() - started,
            run_dir=run_dir,
            report=report,
            error=error,
            worker=_worker_name(),
            reason=reason,
        )

    run_dir: str | None = None
    error: str | None = None
    attempt = 0
    for attempt in range(1, retries + 2):
        run_labels = {**labels, "attempt": attempt, "param_set": key}
        try:
            res = run(
                template,
                output_dir=output_dir,
                html=html,
                timeout=timeout,
                quiet=True,
                silent=True,
                labels=run_labels,
                pool=pool,
                fresh_kernel=fresh_kernel,
                **common,
                **params,
            )
        except UsageError as exc:  # bad parameters do not get better on a retry
            return outcome("failed", None, None, f"{type(exc).__name__}: {exc}")
        except RunError as exc:
            run_dir = str(exc.notebook_path.parent) if exc.notebook_path else None
            error = _first_line(str(exc))
        except Exception as exc:  # a kernel that would not start, a full disk, ...
            run_dir, error = None, f"{type(exc).__name__}: {_first_line(str(exc))}"
        else:  # ok or no_data: either way the run is done (no_data is not retried)
            report = str(res.report_path) if res.report_path else None
            reason = getattr(res, "reason", "") or None
            return outcome(str(res.status), str(res.run_dir), report, None, reason)
    return outcome("failed", run_dir, None, error)


def _run_task(task: dict[str, Any]) -> RunOutcome:
    """`run_entity` with its arguments in one mapping (what a Dask task carries)."""
    return run_entity(**task)


def _worker_name() -> str:
    """Where a run ran: the Dask worker's address, else this host and process."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"{os.uname().nodename}:{os.getpid()}"


def _warm_pool(size: int) -> None:
    """Let this process's warm kernel pool lend `size` kernels at once, and start them.

    Runs in each Dask worker process: `nbcatalog.run` there borrows from the
    process's default pool, and a worker runs `nthreads` tasks at once, so its
    pool grows to that many kernels, kept warm for the worker's next batches.
    """
    from nbcatalog.pool import get_default_pool

    pool = get_default_pool()
    if pool.size < size:
        pool.size = size
    pool.warm(wait=False)


def results_from_run_dir(run_dir: str | os.PathLike) -> Results:
    """Re-create the Results of a finished run (``ok`` or ``no_data``) from its run folder.

    Reads run.json and decodes the glued values of notebook.ipynb (sidecars
    included), as `nbcatalog.run` returned them. Raises UsageError for a run that
    did not finish.

    Example:
        >>> res = results_from_run_dir("output/host_summary/20260101T000000Z-ab12cd")
        ...                                                        # doctest: +SKIP
        >>> res.related_alerts.shape                               # doctest: +SKIP
    """
    import json

    import nbformat

    from nbcatalog.harvest import harvest
    from nbcatalog.runfolder import NOTEBOOK, RUN_JSON
    from nbcatalog.runner import find_template

    folder = Path(run_dir)
    info = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))
    if info.get("status") not in (OK, NO_DATA):
        raise UsageError(f"the run in {folder} has status {info.get('status')!r}, no results")
    template_path = info.get("template_path")
    if template_path and Path(template_path).is_file():
        template = find_template(template_path)
    else:
        template = find_template(info["template"])
    notebook_path = folder / NOTEBOOK
    harvested = harvest(notebook_path)
    report = info.get("report")
    return Results(
        template=info["template"],
        data=harvested.data,
        displays=harvested.displays,
        sections={s.id: s.title for s in template.sections},
        notebook=nbformat.read(notebook_path, as_version=4),
        parameters=info.get("parameters") or {},
        run_dir=folder,
        notebook_path=notebook_path,
        report_path=Path(report) if report else None,
        status=str(info["status"]),
        duration=float(info.get("duration") or 0.0),
        run_info=info,
        outcome=harvested.outcome,
        findings=harvested.findings,
    )


class BatchResults:
    """The outcome of a batch: a summary table, and each run's Results on demand.

    ``table`` has one row per parameter set, in the order given: the parameters,
    then status (ok, no_data or failed), attempts, duration, run_dir, report,
    error and reason (what a no_data run was missing). ``result(i)`` loads the
    Results of row `i` (or of a key such as ``"host=WKSTN-042"``) from its run
    folder.

    Example:
        >>> batch.ok, len(batch), batch.failed[["host", "error"]]   # doctest: +SKIP
        >>> batch.no_data[["host", "reason"]]                       # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        batch_id: str,
        template: str,
        outcomes: list[RunOutcome],
        batch_dir: Path,
        index_path: Path | None,
        executor: str,
        duration: float,
    ) -> None:
        self.batch_id = batch_id
        self.template = template
        self.outcomes = sorted(outcomes, key=lambda o: o.index)
        self.batch_dir = batch_dir
        self.index_path = index_path
        self.executor = executor
        self.duration = duration
        self._cache: dict[int, Results] = {}

    @property
    def table(self) -> pd.DataFrame:
        """One row per parameter set: its parameters, status, attempts, duration, files, error."""
        names: list[str] = []
        for o in self.outcomes:
            names += [n for n in o.params if n not in names]
        rows = [
            {
                **{n: o.params.get(n) for n in names},
                "status": o.status,
                "attempts": o.attempts,
                "duration": round(o.duration, 3),
                "run_dir": o.run_dir,
                "report": o.report,
                "error": o.error,
                "reason": o.reason,
            }
            for o in self.outcomes
        ]
        columns = names + [
            "status",
            "attempts",
            "duration",
            "run_dir",
            "report",
            "error",
            "reason",
        ]
        return pd.DataFrame(rows, columns=columns)

    @property
    def ok(self) -> bool:
        """True when every run succeeded and found its data (no failed, no no_data run)."""
        return all(o.status == OK for o in self.outcomes)

    @property
    def failed(self) -> pd.DataFrame:
        """The rows of `table` whose run failed."""
        table = self.table
        return table[table["status"] == FAILED]

    @property
    def no_data(self) -> pd.DataFrame:
        """The rows of `table` whose run found no data (the reason says what was missing)."""
        table = self.table
        return table[table["status"] == NO_DATA]

    def count(self, status: str) -> int:
        """How many runs ended in `status` (ok, no_data, failed)."""
        return sum(o.status == status for o in self.outcomes)

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[RunOutcome]:
        return iter(self.outcomes)

    def _outcome(self, which: int | str) -> RunOutcome:
        if isinstance(which, int):
            return self.outcomes[which]
        for o in self.outcomes:
            if o.key == which:
                return o
        keys = ", ".join(o.key for o in self.outcomes[:5])
        raise KeyError(f"no run {which!r} in batch {self.batch_id}; runs: {keys}, ...")

    def result(self, which: int | str) -> Results:
        """The Results of one run (by position, or key like ``"host=WKSTN-042"``).

        Raises RunError-like UsageError for a run that failed.
        """
        outcome = self._outcome(which)
        if outcome.status not in (OK, NO_DATA) or outcome.run_dir is None:
            raise UsageError(f"run {outcome.key!r} failed: {outcome.error}")
        if outcome.index not in self._cache:
            self._cache[outcome.index] = results_from_run_dir(outcome.run_dir)
        return self._cache[outcome.index]

    def results(self) -> Iterator[tuple[str, Results]]:
        """(key, Results) of every finished run (ok or no_data), loaded one at a time."""
        for o in self.outcomes:
            if o.status in (OK, NO_DATA):
                yield o.key, self.result(o.index)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary of the batch (for ``--json``)."""
        return {
            "batch_id": self.batch_id,
            "template": self.template,
            "executor": self.executor,
            "status": FAILED if self.count(FAILED) else NO_DATA if self.count(NO_DATA) else OK,
            "runs": len(self),
            "ok": self.count(OK),
            "no_data": self.count(NO_DATA),
            "failed": self.count(FAILED),
            "duration": round(self.duration, 3),
            "batch_dir": str(self.batch_dir),
            "index": str(self.index_path) if self.index_path else None,
            "results": [json_safe(asdict(o)) for o in self.outcomes],
        }

    def __repr__(self) -> str:
        empty = f", {self.count(NO_DATA)} no_data" if self.count(NO_DATA) else ""
        return (
            f"<BatchResults {self.template} {self.batch_id}: {self.count(OK)}/{len(self)} ok"
            f"{empty} in {self.duration:.1f}s>"
        )

    def _repr_html_(self) -> str:
        return self.table.to_html(escape=True, index=False, na_rep="")


def _param_sets(param_sets: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    sets = []
    for i, item in enumerate(param_sets):
        if not isinstance(item, Mapping):
            raise ParameterError(
                f"parameter set {i + 1} is {type(item).__name__}; give mappings like "
                "{'host': 'WKSTN-042'}"
            )
        sets.append(dict(item))
    if not sets:
        raise ParameterError("no parameter sets to run; give at least one, e.g. [{'host': 'x'}]")
    return sets


def _prepare(template: Any, sets: list[dict[str, Any]], common: dict[str, Any]) -> dict[str, Any]:
    """Check every set and return `common` with one fixed time range and data source."""
    from nbcatalog.parameters import resolve, shorten

    first = None
    secrets = _secret_names(template)
    for i, params in enumerate(sets):
        # Cut: a CSV cell can be as long as the attacker likes.
        label = shorten(param_key(params, secrets), 200)
        clash = sorted(set(params) & set(common))
        if clash:
            raise ParameterError(
                f"parameter set {i + 1} ({label}) sets {', '.join(clash)}, "
                "also given for the whole batch; give each in one place"
            )
        try:
            resolved = resolve(template, {**common, **params})
        except ParameterError as exc:
            raise ParameterError(f"parameter set {i + 1} ({label}): {exc}") from None
        first = first or resolved
    assert first is not None
    fixed = dict(common)
    # One window and one store for all: `last="24h"` would otherwise drift per run,
    # and Dask workers would read their own configuration's default store.
    if not any("start" in p or "end" in p or "last" in p for p in sets):
        fixed = {k: v for k, v in fixed.items() if k not in _RUN_KEYS}
        fixed["start"], fixed["end"] = first.values["start"], first.values["end"]
    if not any("data_source" in p for p in sets):
        fixed["data_source"] = first.data_source
    return fixed


def new_batch_id(template_name: str) -> str:
    """A batch id: ``<template>-<UTC yyyymmddTHHMMSSZ>-<6 hex>``.

    Example:
        >>> new_batch_id("host_summary").startswith("host_summary-")
        True
    """
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{template_name}-{stamp}-{secrets.token_hex(3)}"


def _progress(total: int, desc: str, quiet: bool):
    from tqdm.auto import tqdm

    from nbcatalog.runner import show_progress

    return tqdm(total=total, desc=desc, unit="run", disable=not show_progress(quiet))


def _failed_task(task: dict[str, Any], exc: BaseException) -> RunOutcome:
    error = f"{type(exc).__name__}: {_first_line(str(exc))}"
    secrets = task.get("secrets", ())
    params = redact(task["params"], secrets)
    key = param_key(task["params"], secrets)
    return RunOutcome(task["index"], key, params, "failed", 1, 0.0, None, None, error)


def _run_local(
    tasks: list[dict[str, Any]], workers: int, bar: Any, fresh_kernel: bool = False
) -> list[RunOutcome]:
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from nbcatalog.pool import KernelPool

    # The batch's own warm kernels, one per thread, stopped when the batch ends.
    kernels = None if fresh_kernel else KernelPool(size=workers)
    if kernels is not None:
        kernels.warm(wait=False)
    outcomes: list[RunOutcome] = []
    threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nbcatalog-batch")
    try:
        futures = {threads.submit(run_entity, **t, pool=kernels): t for t in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                outcomes.append(future.result())
            except Exception as exc:  # run_entity catches run failures; this is a bug guard
                outcomes.append(_failed_task(task, exc))
            bar.update(1)
    except BaseException:
        threads.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        threads.shutdown(wait=True)
        if kernels is not None:
            kernels.shutdown()
    return outcomes


def _dask_client(scheduler: str | None, dask_local: int | None, workers: int):
    """A distributed Client (and the LocalCluster it owns, or None)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            if Path(scheduler).is_file():
                return Client(scheduler_file=scheduler, timeout="30s"), None
            return Client(scheduler, timeout="30s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"cannot reach the Dask scheduler {scheduler!r}: {exc}; give its address "
                "(tcp://HOST:PORT) or the path of its scheduler file"
            ) from exc
    cluster = LocalCluster(
        n_workers=dask_local or workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    return Client(cluster), cluster


def _run_dask(
    tasks: list[dict[str, Any]],
    scheduler: str | None,
    dask_local: int | None,
    workers: int,
    bar: Any,
    fresh_kernel: bool = False,
) -> list[RunOutcome]:
    import multiprocessing

    from distributed import as_completed

    # The processes a local cluster starts are children of this process: any still
    # alive after closing (a close that timed out, Ctrl-C during start-up) are ended.
    before = set(multiprocessing.active_children())
    client = cluster = None
    outcomes: list[RunOutcome] = []
    futures: dict[Any, dict[str, Any]] = {}
    try:
        client, cluster = _dask_client(scheduler, dask_local, workers)
        threads = client.nthreads() or {}
        per_worker = max(threads.values(), default=1)
        if not fresh_kernel:
            client.run(_warm_pool, per_worker)
        for t in tasks:
            key = f"{t['labels']['batch']}-{t['index']}"
            # One dict argument: submit() has keywords of its own (retries, workers, ...).
            future = client.submit(_run_task, t, pure=False, key=key)
            futures[future] = t
        for future in as_completed(futures):
            task = futures[future]
            try:
                outcomes.append(future.result())
            except Exception as exc:  # a worker that died under the task, ...
                outcomes.append(_failed_task(task, exc))
            bar.update(1)
    except BaseException:
        if client is not None:
            client.cancel(list(futures))
        raise
    finally:
        _shutdown_dask(client, cluster, None if scheduler else before)
    return outcomes


def _shutdown_dask(client: Any, cluster: Any, before: set[Any] | None) -> None:
    """Close the client and the local cluster, then end its processes still alive.

    `before` is the set of this process's children before the cluster started (None
    for a remote scheduler: its workers are not ours to stop). A worker process
    left running would keep the batch's process group (a cron job, a CI step) alive.
    """
    import multiprocessing

    for part in (client, cluster):
        if part is None:
            continue
        try:
            part.close(timeout=20)
        except Exception as exc:  # noqa: BLE001 - the processes are ended below anyway
            log.debug("closing %s failed: %r", type(part).__name__, exc)
    if before is None:
        return
    left = [c for c in multiprocessing.active_children() if c not in before]
    for child in left:
        child.terminate()
    for child in left:
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join(5)


def run_many(
    name: str | Path,
    param_sets: Iterable[Mapping[str, Any]],
    *,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    dask_local: int | None = None,
    retries: int = 1,
    output_dir: str | Path | None = None,
    html: bool = False,
    timeout: float | None = None,
    quiet: bool = False,
    labels: Mapping[str, Any] | None = None,
    fresh_kernel: bool = False,
    **common: Any,
) -> BatchResults:
    """Run notebooklet `name` once per parameter set; return the batch's BatchResults.

    `param_sets` are mappings of the template's parameters (``{"host": "x"}``);
    `common` are values for every run (``last="24h"``, ``data_source=...``,
    ``options=[...]``). `workers` (default: the number of cores) runs at once on
    the local executor. Giving `scheduler` (address or scheduler-file path) or
    `dask_local` (number of worker processes) selects the Dask executor, as does
    ``executor="dask"`` (then a LocalCluster of `workers` processes). A failed
    run is tried again up to `retries` times. Bad parameters in any set raise
    ParameterError before anything runs. Runs borrow warm kernels (the local
    executor starts `workers` of them, each Dask worker keeps its own);
    ``fresh_kernel=True`` starts a new kernel for every run instead.

    Example:
        >>> batch = run_many("host_summary", [{"host": h} for h in ("WKSTN-001", "WIN-DC01")],
        ...                  workers=2, retries=1, last="7d", html=True)   # doctest: +SKIP
        >>> batch.table[["host", "status"]]                                # doctest: +SKIP
    """
    from nbcatalog.parameters import parse_timeout
    from nbcatalog.runfolder import write_json
    from nbcatalog.runner import find_template

    if executor not in EXECUTORS:
        raise ParameterError(f"executor={executor!r}: accepted: {', '.join(EXECUTORS)}")
    if scheduler and dask_local:
        raise ParameterError("give either scheduler (an existing cluster) or dask_local, not both")
    if scheduler or dask_local:
        executor = "dask"
    for label, value, least in (("workers", workers, 1), ("dask_local", dask_local, 1)):
        if value is not None and (not isinstance(value, int) or value < least):
            raise ParameterError(f"{label}={value!r}: give a whole number of at least {least}")
    if not isinstance(retries, int) or retries < 0:
        raise ParameterError(f"retries={retries!r}: give a whole number, 0 or more")
    timeout = parse_timeout(timeout)
    workers = workers or os.cpu_count() or 1

    template = find_template(name)
    sets = _param_sets(param_sets)
    fixed = _prepare(template, sets, dict(common))
    if output_dir is None:
        from nbcatalog.config import default_output_dir

        output_dir = default_output_dir()
    root = Path(output_dir).expanduser().absolute()
    batch_id = new_batch_id(template.name)
    base_labels = {**json_safe(dict(labels or {})), "batch": batch_id, "trigger": "batch"}
    tasks = [
        {
            "template": str(template.path),
            "index": i,
            "params": params,
            "common": fixed,
            "output_dir": str(root),
            "html": html,
            "timeout": timeout,
            "retries": retries,
            "labels": base_labels,
            "fresh_kernel": fresh_kernel,
            "secrets": sorted(_secret_names(template)),
        }
        for i, params in enumerate(sets)
    ]
    started = time.monotonic()
    with _progress(len(tasks), template.name, quiet) as bar:
        if executor == "local":
            outcomes = _run_local(tasks, workers, bar, fresh_kernel)
        else:
            outcomes = _run_dask(tasks, scheduler, dask_local, workers, bar, fresh_kernel)
    batch = BatchResults(
        batch_id=batch_id,
        template=template.name,
        outcomes=outcomes,
        batch_dir=root / BATCHES_DIR / batch_id,
        index_path=None,
        executor=executor,
        duration=time.monotonic() - started,
    )
    write_json(batch.batch_dir / BATCH_JSON, batch.summary())
    from nbcatalog.batch_index import write_batch_index

    batch.index_path = write_batch_index(batch, root)
    return batch
