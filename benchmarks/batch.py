"""Batch benchmark: `nbcatalog batch host_summary --workers 2` vs a loop of plain papermill.

Both sides run the host_summary template with the same parameters (the same
hosts, time range and demo store). The batch side is one `nbcatalog batch`
command for all `--runs` hosts, timed from the shell, so it pays for its own
process start and warm-kernel start. The papermill side runs the `papermill`
command once per host with a fresh kernel each time, as a shell loop would; a
full loop of 100 takes many minutes here, so `--papermill-runs` of them are
timed and the loop time is extrapolated from their mean (printed as such).
Not a test: run it by hand and record the output in benchmarks/README.md.

    .venv/bin/python benchmarks/batch.py                        # 100 vs 10 measured
    .venv/bin/python benchmarks/batch.py --runs 20 --papermill-runs 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TEMPLATE = "host_summary"


def demo_hosts() -> list[str]:
    """The demo estate's hosts, Windows and Linux."""
    return [f"WKSTN-{i:03d}" for i in range(1, 51)] + [
        "WIN-DC01",
        "WIN-FS01",
        "LNX-WEB01",
        "LNX-DB01",
        "LNX-JUMP01",
    ]


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="runs in the batch")
    parser.add_argument("--papermill-runs", type=int, default=10, help="papermill runs timed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", type=Path, help="demo store to use (default: build one)")
    args = parser.parse_args()

    from nbcatalog.catalog import get_template
    from nbcatalog.data.demo import build_demo

    work = Path(tempfile.mkdtemp(prefix="nbcatalog-bench-batch-"))
    db = args.db or work / "demo.duckdb"
    if args.db is None:
        build_demo(db)
    end = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    start = end - dt.timedelta(days=7)
    hosts = (demo_hosts() * (args.runs // len(demo_hosts()) + 1))[: args.runs]
    host_file = work / "hosts.txt"
    host_file.write_text("\n".join(hosts) + "\n", encoding="utf-8")
    common = ["--start", start.isoformat(), "--end", end.isoformat()]
    source = f"duckdb:{db}"

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}")
    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; load before: {load()}")

    t = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "nbcatalog"), "batch", TEMPLATE, "--host-file", str(host_file),
         *common, "--source", source, "--workers", str(args.workers),
         "--retries", "0", "--quiet", "--output", str(work / "batch")],
        capture_output=True, text=True,
    )  # fmt: skip
    batch_s = time.perf_counter() - t
    print(done.stdout.strip() or done.stderr)
    if done.returncode not in (0, 1):  # 1: some runs failed (printed above), still timed
        raise SystemExit(f"batch could not run ({done.returncode}): {done.stderr[-2000:]}")
    print(
        f"nbcatalog batch --workers {args.workers}: {args.runs} runs in {batch_s:.1f} s "
        f"({batch_s / args.runs:.2f} s per run, including process and pool start)"
    )

    template = str(get_template(TEMPLATE).path)
    times = []
    for i, host in enumerate(hosts[: args.papermill_runs]):
        t = time.perf_counter()
        subprocess.run(
            [str(BIN / "papermill"), template, str(work / f"pm-{i}.ipynb"), "-p", "host", host,
             "-p", "start", start.isoformat(), "-p", "end", end.isoformat(),
             "-p", "data_source", source, "--no-progress-bar"],
            check=True, capture_output=True,
        )  # fmt: skip
        times.append(time.perf_counter() - t)
    mean = statistics.mean(times)
    loop_s = mean * args.runs
    measured = "measured" if args.papermill_runs >= args.runs else "extrapolated"
    print(
        f"papermill CLI loop: {len(times)} runs measured, mean {mean:.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}); {args.runs} runs: "
        f"{loop_s:.0f} s ({measured})"
    )
    print(f"speed-up: {loop_s / batch_s:.1f}x (target >= 8x); load after: {load()}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
