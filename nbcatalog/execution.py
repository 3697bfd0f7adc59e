"""Execute one template with papermill on the project's kernel, and classify failures.

`execute` injects the parameters, runs the notebook with a deadline for the whole
run, and always leaves ``notebook.ipynb`` in the run folder (the partial notebook
when it failed). It does not raise for a failed template: it returns an
`Execution` whose `failure` says what happened, where (cell index in the template
and its section) and why, for the three ways a run fails:

- a cell raised (papermill's ``PapermillExecutionError``),
- the run went past its timeout (nbclient's ``CellTimeoutError``),
- the kernel died (nbclient's ``DeadKernelError``).

The last two leave no error in the notebook, so one is added: an error output on
the cell that was running and a banner cell at the top.

Secrets are never written into the notebook: the injected cell reads them from the
kernel's environment (and removes them from it).

Example:
    >>> from nbcatalog.execution import execute                          # doctest: +SKIP
    >>> ex = execute(template, {"host": "WKSTN-042", ...}, run_dir=d)    # doctest: +SKIP
    >>> ex.failure is None, ex.notebook_path.name                        # doctest: +SKIP
    (True, 'notebook.ipynb')
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from nbformat import NotebookNode

from nbcatalog.errors import RunFailure, RunInterrupted
from nbcatalog.kernel import KERNEL_NAME, ProjectKernelManager
from nbcatalog.lazycharts import LAZY_ENV
from nbcatalog.runfolder import NOTEBOOK, write_notebook
from nbcatalog.scraps import RUN_DIR_ENV
from nbcatalog.template import SECTION_TAG, Template

if TYPE_CHECKING:
    from nbcatalog.pool import KernelPool

PARTIAL = ".notebook.partial.ipynb"
INJECTED_TAG = "injected-parameters"
ERROR_MARKER_TAGS = ("papermill-error-cell-tag", "nbcatalog-error")
SECRET_ENV_PREFIX = "NBCATALOG_SECRET_"
START_TIMEOUT = 60  # seconds for the kernel to come up

# nbclient logs a timeout or a dead kernel through papermill's logger; without a
# handler Python prints that to stderr. We report failures ourselves.
if not logging.getLogger("papermill").handlers:
    logging.getLogger("papermill").addHandler(logging.NullHandler())


@dataclass
class Execution:
    """What `execute` produced: the saved notebook, its node, duration and failure."""

    notebook_path: Path
    notebook: NotebookNode
    duration: float
    failure: RunFailure | None


def _is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")


def normalize_cell_metadata(nb: NotebookNode) -> NotebookNode:
    """Give every cell a ``tags`` list (papermill reads ``cell.metadata.tags`` as an attribute).

    Jupyter omits ``tags`` from a cell that never had one, and nbformat does not add it.

    Example:
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
        >>> normalize_cell_metadata(nb).cells[0].metadata.tags
        []
    """
    for cell in nb.cells:
        tags = cell.metadata.get("tags")
        cell.metadata["tags"] = list(tags) if isinstance(tags, (list, tuple)) else []
    return nb


def _template_notebook(path: Path) -> NotebookNode:
    """A fresh copy of the template notebook at `path`, parsed once per file version.

    Reading and validating the template was a tenth of a warm small run; a copy of
    the parsed node costs a few ms. The key changes when the file is edited.
    """
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    parsed = _parsed_templates.get(key)
    if parsed is None:
        parsed = normalize_cell_metadata(nbformat.read(path, as_version=4))
        _parsed_templates.clear()  # one at a time is enough for the hot path
        _parsed_templates[key] = parsed
    return copy.deepcopy(parsed)


_parsed_templates: dict[tuple[str, int, int], NotebookNode] = {}


def _inject(
    template: Template, values: Mapping[str, Any], secrets: frozenset[str], run_dir: Path
) -> tuple[NotebookNode, dict[str, str]]:
    """The template with its injected-parameters cell, and env vars for the kernel."""
    from papermill.parameterize import parameterize_notebook

    nb = _template_notebook(Path(template.path))
    nb.metadata["papermill"] = {}
    plain: dict[str, Any] = {}
    extra_lines: list[str] = []
    env: dict[str, str] = {}
    for name, value in values.items():
        if name in secrets and value not in (None, ""):
            var = SECRET_ENV_PREFIX + name.upper()
            env[var] = json.dumps(value)
            extra_lines.append(
                f'{name} = __import__("json").loads(__import__("os").environ.pop({var!r}))'
            )
        elif _is_dataframe(value):
            # A frame cannot be written as a literal: hand it over as a parquet file.
            path = run_dir / "data" / f"param_{name}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            from nbcatalog.data.columnmap import with_both_names  # pandas: only when needed

            # msticpy's and Sentinel's names both present, whichever the frame came with.
            with_both_names(value).to_parquet(path, engine="pyarrow")
            extra_lines.append(f'{name} = __import__("pandas").read_parquet({str(path)!r})')
        else:
            plain[name] = value
    nb = parameterize_notebook(nb, plain, kernel_name=KERNEL_NAME, language="python")
    injected = next(c for c in nb.cells if INJECTED_TAG in c.metadata.get("tags", []))
    if extra_lines:
        injected.source = injected.source.rstrip("\n") + "\n" + "\n".join(extra_lines) + "\n"
    return nb, env


def _template_index(nb: NotebookNode, index: int) -> int:
    """Index in the template of executed cell `index` (skipping cells we added)."""
    added = (INJECTED_TAG, *ERROR_MARKER_TAGS)
    return sum(
        1
        for cell in nb.cells[:index]
        if not any(tag in added for tag in cell.metadata.get("tags", []))
    )


def cell_section(cell: NotebookNode) -> str | None:
    """The section id a cell belongs to (its ``section:<id>`` tag), if any."""
    for tag in cell.metadata.get("tags", []):
        if tag.startswith(SECTION_TAG):
            return tag[len(SECTION_TAG) :]
    return None


def _last_started(nb: NotebookNode) -> int | None:
    started = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.metadata.get("papermill", {}).get("start_time")
    ]
    return started[-1] if started else None


def _failed_cell(nb: NotebookNode) -> int | None:
    for i, cell in enumerate(nb.cells):
        if cell.metadata.get("papermill", {}).get("status") == "failed":
            return i
    return None


def _mark_failure(nb: NotebookNode, index: int | None, ename: str, evalue: str) -> None:
    """Give a timeout or dead kernel the visible error a raised exception gets."""
    if index is not None:
        nb.cells[index].outputs.append(
            nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])
        )
    what = "was interrupted (Ctrl-C)" if ename == "KeyboardInterrupt" else f"failed: {ename}"
    banner = nbformat.v4.new_markdown_cell(
        f"**This run {what}** (see the cell marked with the error below)."
    )
    banner.metadata["tags"] = ["nbcatalog-error"]
    nb.cells.insert(0, banner)


def _classify(nb: NotebookNode, exc: BaseException, timeout: float | None) -> RunFailure:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        index = _failed_cell(nb)
        if index is None:
            index = exc.cell_index
        kind, ename, evalue = "exception", exc.ename, exc.evalue
    elif isinstance(exc, CellTimeoutError):
        index = _last_started(nb)
        limit = f"the run timeout of {timeout:g} s" if timeout is not None else "the timeout"
        kind, ename, evalue = "timeout", "CellTimeoutError", f"cell still running after {limit}"
    elif isinstance(exc, DeadKernelError):
        index = _last_started(nb)
        kind, ename, evalue = "dead-kernel", "DeadKernelError", str(exc) or "the kernel died"
    elif isinstance(exc, KeyboardInterrupt):
        index = _last_started(nb)
        kind, ename, evalue = "interrupted", "KeyboardInterrupt", "stopped by Ctrl-C (SIGINT)"
    else:
        index = _last_started(nb)
        kind, ename, evalue = "kernel-error", type(exc).__name__, str(exc)
    if kind != "exception":
        _mark_failure(nb, index, ename, evalue)
        if index is not None:
            index += 1  # the banner went in at the top
    cell = nb.cells[index] if index is not None and index < len(nb.cells) else None
    return RunFailure(
        kind=kind,
        cell_index=_template_index(nb, index) if index is not None else None,
        section=cell_section(cell) if cell is not None else None,
        exception_type=ename,
        message=evalue,
    )


def _execute_notebook(nb: NotebookNode, *, engine_name: str, **engine_kwargs: Any) -> None:
    """``papermill.execute_notebook(nb, None, ...)`` without its two whole-notebook copies.

    For a notebook given in memory, papermill serialises it to JSON text and parses
    it back (its copy of the input), and with no output path it still serialises the
    executed notebook for a writer that drops it: three passes of nbformat's
    writer/reader and schema check, several ms of a warm small run. `nb` is already
    a fresh copy (`_template_notebook`), and `execute` writes the result once. The
    rest are papermill's own steps in its order: the metadata it expects on the
    notebook and each cell (as ``load_notebook_node``), error markers removed, the
    engine, then its error check (which raises ``PapermillExecutionError``).
    """
    from papermill import __version__ as papermill_version
    from papermill.engines import papermill_engines
    from papermill.execute import raise_for_execution_errors, remove_error_markers
    from papermill.iorw import local_file_io_cwd

    if "papermill" not in nb.metadata:
        nb.metadata["papermill"] = {
            "default_parameters": {},
            "parameters": {},
            "environment_variables": {},
            "version": papermill_version,
        }
    for cell in nb.cells:
        if "tags" not in cell.metadata:
            cell.metadata["tags"] = []
        if "papermill" not in cell.metadata:
            cell.metadata["papermill"] = {}
    nb.metadata.papermill["output_path"] = None
    nb = remove_error_markers(nb)
    kernel_name = papermill_engines.nb_kernel_name(
        engine_name=engine_name, nb=nb, name=engine_kwargs.pop("kernel_name", None)
    )
    engine_kwargs.pop("language", None)  # papermill reads it only to inject parameters
    with local_file_io_cwd():
        nb = papermill_engines.execute_notebook_with_engine(
            engine_name,
            nb,
            input_path=nb.metadata.papermill.get("input_path"),
            output_path=None,
            kernel_name=kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            **engine_kwargs,
        )
    raise_for_execution_errors(nb, None)


def _run_papermill(
    nb: NotebookNode, sink: list[Any], pool: KernelPool | None, **kwargs: Any
) -> None:
    """papermill on a fresh kernel, or on a kernel lent by `pool` (given back after).

    papermill gets no output path (it would rewrite the file in place); the engine
    saves the running notebook to ``partial_path`` atomically and appends its
    notebook manager to `sink`, whose ``.nb`` is the executed notebook.
    """
    from nbcatalog.papermill_engine import ENGINE

    env = kwargs.pop("env")
    if pool is None:
        from traitlets.config import Config

        _execute_notebook(
            nb,
            kernel_manager_class=ProjectKernelManager,
            config=Config({"ProjectKernelManager": {"extra_env": env}}),
            shutdown_kernel="immediate",
            engine_name=ENGINE,
            notebook_sink=sink,
            **kwargs,
        )
        return
    kernel = pool.checkout(env=env)
    outcome = None
    try:
        _execute_notebook(nb, engine_name=ENGINE, km=kernel.km, notebook_sink=sink, **kwargs)
    except BaseException as exc:
        outcome = _failure_kind(exc)
        raise
    finally:
        # The reset runs while the caller reads the results; the next run waits for it.
        pool.release(kernel, outcome, wait=False)


def _failure_kind(exc: BaseException) -> str:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if isinstance(exc, CellTimeoutError):
        return "timeout"
    if isinstance(exc, DeadKernelError):
        return "dead-kernel"
    if isinstance(exc, Exception):
        return "exception"
    return "interrupted"  # KeyboardInterrupt: the kernel may still be busy, treat as timeout


def execute(
    template: Template,
    values: Mapping[str, Any],
    *,
    run_dir: Path,
    secrets: frozenset[str] = frozenset(),
    redacted: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    progress: bool = False,
    pool: KernelPool | None = None,
    lazy_charts: bool = False,
) -> Execution:
    """Run `template` with `values` in `run_dir`; return the saved notebook and any failure.

    `timeout` (seconds) bounds the whole run: the cell running when it is reached
    fails with a timeout. `redacted` is what the notebook's metadata records as the
    parameters (secrets and frames never go into the notebook). With a `pool` the
    run borrows one of its warm kernels; without, it starts a fresh kernel. With
    `lazy_charts` nblib's charts are recorded undrawn (`nbcatalog.lazycharts`).

    Example:
        >>> ex = execute(t, resolved.values, run_dir=d, secrets=resolved.secrets,
        ...              redacted=resolved.redacted, timeout=600)   # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    started = time.monotonic()
    nb, env = _inject(template, values, secrets, run_dir)
    shown = redacted if redacted is not None else values
    nb.metadata.setdefault("papermill", {})["parameters"] = {
        k: (f"<DataFrame {v.shape[0]}x{v.shape[1]}>" if _is_dataframe(v) else v)
        for k, v in shown.items()
    }
    env[RUN_DIR_ENV] = str(run_dir)
    if lazy_charts:
        env[LAZY_ENV] = "1"  # drawn by the caller when shown (lazycharts)

    def cell_timeout(cell: NotebookNode) -> float | None:
        if timeout is None:
            return None
        # nbclient reads 0 as "no timeout": never hand it less than a moment.
        return max(timeout - (time.monotonic() - started), 0.05)

    partial = run_dir / PARTIAL
    failure = None
    error: BaseException | None = None
    sink: list[Any] = []
    try:
        _run_papermill(
            nb,
            sink,
            pool,
            partial_path=str(partial),
            env=env,
            kernel_name=KERNEL_NAME,
            language="python",
            progress_bar=progress,
            start_timeout=START_TIMEOUT,
            timeout_func=cell_timeout,
        )
    except (Exception, KeyboardInterrupt) as exc:  # classified below; partial notebook kept
        error = exc
    # The notebook in memory, not the partial file: that one is only a progress view.
    executed = sink[0].nb if sink else nb
    executed.metadata.setdefault("papermill", {})["input_path"] = str(template.path)
    executed.metadata["papermill"]["output_path"] = str(run_dir / NOTEBOOK)
    if error is not None:
        failure = _classify(executed, error, timeout)
    notebook_path = write_notebook(run_dir / NOTEBOOK, executed)
    partial.unlink(missing_ok=True)
    if isinstance(error, KeyboardInterrupt):
        assert failure is not None
        raise RunInterrupted(template.name, failure, notebook_path) from None
    return Execution(notebook_path, executed, time.monotonic() - started, failure)
