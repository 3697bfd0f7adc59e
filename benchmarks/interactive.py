"""Benchmark: how close a warm `nbcatalog.run` comes to calling the code in-process.

Three figures for one template (default host_logons_summary on the demo store):

1. first run in a new process: a child Python imports nbcatalog and calls
   `nbcatalog.run` once; the kernel pool starts inside that call (time to results,
   and the child's whole wall time including interpreter start and shutdown);
2. warm: the median of `--repeat` `nbcatalog.run` calls in this process after a
   first one (kernel pool started, modules imported);
3. in-process: the template's code cells executed with the same parameters in a
   fresh namespace in this process (no kernel, no notebook, no papermill), median
   of `--repeat` after a first one; the way msticnb runs a notebooklet. Warm runs
   and in-process runs alternate, so a busy machine slows both alike.

Targets (issue 6): warm median at most 2x in-process; first run at most 5 s.

Usage:
    .venv/bin/python benchmarks/interactive.py [--db demo.duckdb] [--host WKSTN-042]
        [--template host_logons_summary] [--repeat 7]

Without --db a demo store is built in a temporary folder first (not timed).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

FIRST_RUN = """
import time
started = time.perf_counter()
import nbcatalog
res = nbcatalog.run({template!r}, host={host!r}, data_source={source!r},
                    output_dir={output!r}, silent=True, quiet=True)
print(time.perf_counter() - started)
"""


def first_run_in_new_process(
    template: str, host: str, source: str, output: str
) -> tuple[float, float, float]:
    """Seconds to results inside the child, of the child's whole life, and CPU seconds.

    The CPU time covers the child and its kernel (both waited for), so on a busy
    machine it says what the run costs apart from waiting for a core.
    """
    code = FIRST_RUN.format(template=template, host=host, source=source, output=output)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(proc.stdout.strip().splitlines()[-1]), wall, cpu


def in_process_runner(template_name: str, raw: dict[str, Any], run_dir: Path):
    """A function running the template's code cells in a fresh namespace, no kernel."""
    import nbformat

    from nbcatalog.catalog import get_template
    from nbcatalog.parameters import resolve
    from nbcatalog.scraps import RUN_DIR_ENV

    template = get_template(template_name)
    values = resolve(template, raw).values
    nb = nbformat.read(template.path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    parameters = next(c for c in cells if "parameters" in c.metadata.get("tags", []))
    code = [compile(c.source, f"<cell {i}>", "exec") for i, c in enumerate(cells)]
    os.environ[RUN_DIR_ENV] = str(run_dir)  # big frames go to sidecars, as in a run

    def run_once() -> dict[str, Any]:
        namespace: dict[str, Any] = {"__name__": "__main__"}
        # glue() shows displays through IPython; outside a kernel that prints text,
        # and scrapbook skips recording (with a warning): the in-process figure does
        # less work than a run, which only makes the ratio stricter.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for cell, compiled in zip(cells, code, strict=True):
                exec(compiled, namespace)  # noqa: S102 - the template's own code
                if cell is parameters:
                    namespace.update(values)  # what papermill's injected cell does
        return namespace

    return run_once


def median_time(call, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="DuckDB store (default: build the demo estate)")
    parser.add_argument("--host", default="WKSTN-042")
    parser.add_argument("--template", default="host_logons_summary")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nbcatalog-bench-interactive-"))
    db = args.db
    if db is None:
        from nbcatalog.data.demo import build_demo

        db = str(work / "demo.duckdb")
        build_demo(db)
    source = f"duckdb:{Path(db).absolute()}"
    output = str(work / "output")
    print(f"template {args.template}, host {args.host}, store {db}, {os.cpu_count()} cores")
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f}")
    except OSError:
        pass

    to_results, wall, cpu = first_run_in_new_process(args.template, args.host, source, output)
    print(
        f"first run in a new process (pool start included): {to_results:.2f} s to results, "
        f"{wall:.2f} s process wall (target <= 5 s); CPU {cpu:.2f} s (process + kernel)"
    )

    import nbcatalog

    def warm_run() -> None:
        nbcatalog.run(
            args.template, host=args.host, data_source=source, output_dir=output, silent=True
        )

    started = time.perf_counter()
    warm_run()
    print(f"first run in this process: {time.perf_counter() - started:.2f} s")
    run_once = in_process_runner(
        args.template, {"host": args.host, "data_source": source}, work / "inprocess"
    )
    run_once()  # imports and first-use setup, as the warm kernel has had them
    # Alternate the two, so that both see the same load on a shared machine.
    warm_times, inproc_times = [], []
    for _ in range(args.repeat):
        warm_times.append(median_time(warm_run, 1)[0])
        inproc_times.append(median_time(run_once, 1)[0])
    warm, inproc = statistics.median(warm_times), statistics.median(inproc_times)

    print(f"warm nbcatalog.run: median {warm:.3f} s ({', '.join(f'{t:.2f}' for t in warm_times)})")
    print(
        f"in-process code cells: median {inproc:.3f} s "
        f"({', '.join(f'{t:.2f}' for t in inproc_times)})"
    )
    pairs = statistics.median(w / i for w, i in zip(warm_times, inproc_times, strict=True))
    print(
        f"ratio warm / in-process: {warm / inproc:.2f}x of the medians, "
        f"{pairs:.2f}x median of the alternating pairs (target <= 2x)"
    )
    try:
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    except OSError:
        pass


if __name__ == "__main__":
    main()
