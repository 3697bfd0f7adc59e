"""Benchmark: a template that returns a 1-million-row DataFrame.

Runs benchmarks/templates/benchmark/million_rows.ipynb through `nbcatalog.run`
(warm kernel pool, HTML report on) and prints the executed notebook's size, the
parquet sidecar's and the report's size, and the time to load the result:
``res.events`` (the sidecar is read on first access) and, from the run folder
alone, `nbcatalog.harvest.harvest` plus the read.

Targets (issue 6): notebook under 1 MiB, result loaded in under 0.5 s.

Usage:
    .venv/bin/python benchmarks/results.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).parent / "templates" / "benchmark" / "million_rows.ipynb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs to take medians over")
    args = parser.parse_args()

    import nbcatalog
    from nbcatalog.harvest import harvest

    output = Path(tempfile.mkdtemp(prefix="nbcatalog-bench-results-"))
    run_times, access_times, harvest_times = [], [], []
    res = None
    for _ in range(args.repeat):
        started = time.perf_counter()
        res = nbcatalog.run(
            str(TEMPLATE), rows=args.rows, output_dir=output, html=True, silent=True, quiet=True
        )
        run_times.append(time.perf_counter() - started)

        started = time.perf_counter()
        frame = res.events  # first access reads the sidecar
        access_times.append(time.perf_counter() - started)
        assert len(frame) == args.rows, len(frame)

        started = time.perf_counter()
        again = harvest(res.notebook_path)  # decodes every scrap, sidecar included
        assert len(again.data["events"]) == args.rows
        harvest_times.append(time.perf_counter() - started)

    assert res is not None
    notebook = res.notebook_path.stat().st_size
    sidecar = (res.run_dir / "data" / "events.parquet").stat().st_size
    print(f"rows: {args.rows:,}; runs: {args.repeat} (first one starts the kernel pool)")
    print(f"run wall time: {', '.join(f'{t:.2f}' for t in run_times)} s")
    print(f"executed notebook: {notebook / 1024:.1f} KiB (target < 1024 KiB)")
    print(f"parquet sidecar data/events.parquet: {sidecar / 1024 / 1024:.1f} MiB")
    report = res.report_path.read_text(encoding="utf-8")
    styles = sum(len(m) for m in re.findall(r"<style.*?</style>", report, flags=re.S))
    print(
        f"report.html: {len(report) / 1024:.1f} KiB, of which {styles / 1024:.1f} KiB "
        "nbconvert's stylesheets"
    )
    print(
        f"load res.events (lazy sidecar read): median {statistics.median(access_times):.3f} s "
        f"(target < 0.5 s)"
    )
    print(
        f"harvest(notebook) from the run folder + read: median "
        f"{statistics.median(harvest_times):.3f} s"
    )


if __name__ == "__main__":
    main()
