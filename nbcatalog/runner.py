"""`nbcatalog.run`: one call from a name and arguments to a Results object.

The steps, in one direction: find the template, check the parameters (before any
kernel starts), make the run folder, execute, harvest the glued values, write the
HTML report when asked, write ``run.json``, record the run in the history, and in
a notebook show the sections in the caller's cell output.

Example:
    >>> import nbcatalog
    >>> res = nbcatalog.run("host_summary", host="WKSTN-042", last="24h")   # doctest: +SKIP
    >>> res.related_alerts.shape, res.report_path                            # doctest: +SKIP
    ((3, 12), None)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import platform
import sys
import threading
import warnings
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbcatalog.errors import (
    NbcatalogError,
    ParameterError,
    RunError,
    RunFailure,
    RunInterrupted,
)
from nbcatalog.results import Results, json_safe
from nbcatalog.runfolder import REPORT, RUN_JSON, new_run_dir, write_json
from nbcatalog.runstate import NO_DATA, no_data_info, runner_identity
from nbcatalog.template import Template

if TYPE_CHECKING:
    from nbcatalog.pool import KernelPool

VERSIONED_PACKAGES = (
    "nbcatalog",
    "papermill",
    "nbclient",
    "nbconvert",
    "scrapbook",
    "ipykernel",
    "pandas",
    "pyarrow",
    "duckdb",
    "msticpy",
)


def package_versions() -> dict[str, str | None]:
    """Versions of Python and the packages a run depends on (None when absent)."""
    return dict(_package_versions())


@functools.lru_cache(maxsize=1)
def _package_versions() -> dict[str, str | None]:
    # Once per process: each look-up scans the installed distributions (0.05-0.1 s).
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where displays reach a notebook)."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_progress(quiet: bool) -> bool:
    """A progress bar in a terminal or a notebook; none when quiet or not a TTY."""
    if quiet:
        return False
    if in_notebook():
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def find_template(name: str | Path) -> Template:
    """A catalogue name (``host_summary`` / ``host-summary``) or a template file path."""
    text = str(name)
    if text.endswith(".ipynb") and Path(text).expanduser().is_file():
        from nbcatalog.template import load_template

        path = Path(text).expanduser().absolute()
        return load_template(path, origin=str(path.parent))
    from nbcatalog.catalog import get_template

    return get_template(text)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _record_history(run_dir: Path, *, update_index: bool = True) -> None:
    from nbcatalog import history

    try:
        history.record_run(run_dir, update_index=update_index)
    except Exception as exc:  # the run itself is saved; do not lose it over the index
        warnings.warn(f"run saved in {run_dir} but not added to the history: {exc}", stacklevel=3)


# One worker per process writes each run's start record (run.json "running" and its
# history row) while the caller checks out a kernel and executes: both are waits on
# other processes, and the record costs 5-10 ms of a warm small run when done first.
# One long-lived thread, so its history connection stays open (history.shared_connection).
_starter: tuple[int, ThreadPoolExecutor] | None = None
_starter_lock = threading.Lock()


def _start_writer() -> ThreadPoolExecutor:
    global _starter
    with _starter_lock:
        if _starter is None or _starter[0] != os.getpid():  # a forked child has no thread
            _starter = (
                os.getpid(),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="nbcatalog-run-start"),
            )
        return _starter[1]


def _record_start(run_json: Path, info: dict[str, Any], run_dir: Path) -> None:
    write_json(run_json, info)
    # In the history while it runs, so a killed runner leaves a row to mark abandoned.
    _record_history(run_dir, update_index=False)


def _failure_info(failure: RunFailure) -> dict[str, Any]:
    return {
        "kind": failure.kind,
        "cell_index": failure.cell_index,
        "section": failure.section,
        "exception_type": failure.exception_type,
        "message": failure.message,
    }


def run(
    name: str | Path,
    *,
    data_source: str | None = None,
    start: Any = None,
    end: Any = None,
    last: Any = None,
    options: Any = None,
    output_dir: str | Path | None = None,
    html: bool = False,
    timeout: float | None = None,
    silent: bool = False,
    quiet: bool = False,
    labels: Mapping[str, Any] | None = None,
    fresh_kernel: bool = False,
    pool: KernelPool | None = None,
    **params: Any,
) -> Results:
    """Run a notebooklet and return its Results; raise RunError if it fails.

    A run whose entity matched nothing, or whose data is absent from the source,
    still returns Results: ``res.status == "no_data"`` and ``res.no_data["reason"]``
    says what was missing (with the closest names the source knows).

    `name` is a catalogue name (``host_summary`` or ``host-summary``) or the path
    of a template notebook. `params` are the template's own parameters. The time
    range is `start`/`end` or `last` ("24h", "7d"; default 7 days); `options`
    follows msticnb (``["+geo", "-timeline"]``). `timeout` (seconds) bounds the
    run. In a notebook the sections are shown below the cell unless `silent`.
    The run borrows a warm kernel from this process's pool
    (`nbcatalog.pool.get_default_pool`) or from `pool`; ``fresh_kernel=True``
    starts a kernel of its own instead and shuts it down afterwards.

    Example:
        >>> res = run("account-summary", account="bob", last="7d", html=True)  # doctest: +SKIP
        >>> res.report_path.name                                               # doctest: +SKIP
        'report.html'
    """
    from nbcatalog.parameters import parse_timeout, resolve

    template = find_template(name)
    raw: dict[str, Any] = dict(params)
    for key, value in (
        ("data_source", data_source),
        ("start", start),
        ("end", end),
        ("last", last),
        ("options", options),
    ):
        if value is not None:
            raw[key] = value
    resolved = resolve(template, raw)
    timeout = parse_timeout(timeout)
    if labels is not None and not isinstance(labels, Mapping):
        raise ParameterError(f"labels={labels!r}: give a mapping like {{'case': 'INC-42'}}")

    if fresh_kernel:
        pool = None
    elif pool is None:
        from nbcatalog.pool import get_default_pool

        pool = get_default_pool()
    if pool is not None:
        # A first run starts its kernel now, while this process does its own imports.
        pool.warm(wait=False)

    if output_dir is None:
        from nbcatalog.config import default_output_dir

        output_dir = default_output_dir()
    run_dir = new_run_dir(output_dir, template.name)
    info: dict[str, Any] = {
        "run_id": run_dir.name,
        "template": template.name,
        "title": template.title,
        "version": template.version,
        "content_hash": template.content_hash,
        "template_path": str(template.path),
        "origin": template.origin,
        "parameters": json_safe(resolved.redacted),
        "data_source": resolved.data_source,
        "start": resolved.values["start"],
        "end": resolved.values["end"],
        "options": resolved.options,
        "labels": json_safe(dict(labels or {})),
        "status": "running",
        "started": _now(),
        "finished": None,
        "duration": None,
        "error": None,
        "notebook": None,
        "report": None,
        "results": None,
        "no_data": None,
        "outcome": None,
        "versions": package_versions(),
        # Who runs it: a run whose runner is gone is shown as abandoned, not running.
        "runner": runner_identity(),
    }
    run_json = run_dir / RUN_JSON
    # Written by the start writer while the kernel runs (a snapshot: `info` changes);
    # every later write of run.json or history waits for it first (`started.result()`).
    started = _start_writer().submit(_record_start, run_json, dict(info), run_dir)
    try:
        results = _execute_and_collect(
            template,
            resolved,
            info,
            run_dir,
            html=html,
            timeout=timeout,
            quiet=quiet,
            pool=pool,
            started=started,
        )
    except BaseException as exc:
        with contextlib.suppress(Exception):  # its error, if any, is being handled here
            started.result()
        # Whatever stopped the run, run.json must not stay at "running".
        if info["status"] == "running":
            interrupted = not isinstance(exc, Exception)
            failure = RunFailure(
                "interrupted" if interrupted else "runner",
                None,
                None,
                type(exc).__name__,
                str(exc) or type(exc).__name__,
            )
            if isinstance(exc, RunInterrupted):  # Ctrl-C in a cell: which one, and the notebook
                failure = exc.failure
                info["notebook"] = str(exc.notebook_path) if exc.notebook_path else None
            info.update(
                status="interrupted" if interrupted else "failed",
                finished=_now(),
                error=_failure_info(failure),
            )
            write_json(run_json, info)
            _record_history(run_dir)
            if not interrupted and not isinstance(exc, NbcatalogError):
                # A template problem the runner did not foresee: a clear RunError, not a
                # bare traceback (the cause stays attached for debugging).
                notebook = Path(info["notebook"]) if info["notebook"] else None
                raise RunError(template.name, failure, notebook) from exc
        raise
    if not silent and in_notebook():
        results.show()
    return results


def _execute_and_collect(
    template: Template,
    resolved: Any,
    info: dict[str, Any],
    run_dir: Path,
    *,
    html: bool,
    timeout: float | None,
    quiet: bool,
    pool: KernelPool | None,
    started: Future[None] | None = None,
) -> Results:
    """Execute, harvest and report; keep `info` (run.json) up to date; RunError on failure.

    `started` is the pending start record (`_record_start`): awaited, and its error
    raised, before run.json is written again.
    """
    run_json = run_dir / RUN_JSON
    from nbcatalog.execution import execute

    lazy_charts = not html and pool is not None
    execution = execute(
        template,
        resolved.values,
        run_dir=run_dir,
        secrets=resolved.secrets,
        redacted=resolved.redacted,
        timeout=timeout,
        progress=show_progress(quiet),
        pool=pool,
        # Charts cost most of a small warm run: drawn when shown (never, for a run nobody
        # looks at), unless a report needs them now or the kernel is a fresh one (the CLI
        # run, whose notebook.ipynb is what it hands over).
        lazy_charts=lazy_charts,
    )
    if started is not None:
        started.result()  # the "running" record is on disk before any later state
    info["notebook"] = str(execution.notebook_path)
    failure = execution.failure
    harvested = None
    report_path = None
    if failure is None:
        from nbcatalog.harvest import harvest

        try:
            harvested = harvest(execution.notebook_path, lazy=True, nb=execution.notebook)
        except Exception as exc:  # a scrap that cannot be decoded: the run failed
            failure = RunFailure("harvest", None, None, type(exc).__name__, str(exc))
    status = harvested.status if harvested is not None else "failed"
    outcome = harvested.outcome if harvested is not None else None
    state: dict[str, Any] = {
        "status": status,
        "no_data": no_data_info(outcome) if status == NO_DATA else None,
    }
    if harvested is not None and harvested.findings is not None:
        # The template's findings: the report's verdict, the index and diffs read them.
        state["findings"] = harvested.findings
    if failure is None and html:
        from nbcatalog.reports import write_report

        try:
            # The report's header says no_data (and why) before run.json does.
            report_path = write_report(execution.notebook_path, run_dir / REPORT, {**info, **state})
        except Exception as exc:  # nbconvert failed: the asked-for report is missing
            failure = RunFailure("report", None, None, type(exc).__name__, str(exc))

    info.update(finished=_now(), duration=round(execution.duration, 3))
    if failure is not None:
        # Written before `info` changes: if the write fails, the caller still finalises.
        write_json(run_json, {**info, "status": "failed", "error": _failure_info(failure)})
        info.update(status="failed", error=_failure_info(failure))
        _record_history(run_dir)
        raise RunError(template.name, failure, execution.notebook_path)

    assert harvested is not None
    results = Results(
        template=template.name,
        data=harvested.data,
        displays=harvested.displays,
        sections={s.id: s.title for s in template.sections},
        notebook=execution.notebook,
        parameters=resolved.redacted,
        run_dir=run_dir,
        notebook_path=execution.notebook_path,
        report_path=report_path,
        status=status,
        duration=execution.duration,
        run_info=info,
        outcome=outcome,
        findings=harvested.findings,
    )
    final = {
        **state,
        "outcome": json_safe(outcome),
        "report": str(report_path) if report_path else None,
        "results": results.to_json_summary()["results"],
    }
    write_json(run_json, {**info, **final})
    info.update(final)
    _record_history(run_dir)
    return results
