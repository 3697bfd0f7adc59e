"""Scale benchmark: host_logons_summary on a store with about 10 million SecurityEvent rows.

Runs ``nbcatalog run host_logons_summary`` as a user would, in a new process (so
the time includes starting the warm kernel), for the host with the most logon
attempts in the store, and prints: wall time, the peak memory of the runner and
its kernel together (the resident memory of the whole process tree, sampled
every 20 ms), the size of the executed notebook and of the whole run folder.
Targets: under 20 s, under 2 GiB, notebook under 2 MiB.
Not a test: run it by hand and record the output in benchmarks/README.md.

    .venv/bin/nbcatalog data demo --db /tmp/big.duckdb --scale 98   # ~10M SecurityEvent rows
    .venv/bin/python benchmarks/scale.py --db /tmp/big.duckdb
    .venv/bin/python benchmarks/scale.py --db /tmp/big.duckdb --host WKSTN-042
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil

BIN = Path(sys.executable).parent
TEMPLATE = "host_logons_summary"
# Two runs in one process: the first starts the pool's kernel, the second is warm.
WARM_RUNS = """
import json, sys, time
import nbcatalog
name, host, source, start, end, out = sys.argv[1:]
times = []
for _ in range(2):
    t = time.perf_counter()
    res = nbcatalog.run(name, host=host, data_source=source, start=start, end=end,
                        output_dir=out, quiet=True, silent=True)
    times.append(time.perf_counter() - t)
print(json.dumps([*times, res.notebook_path.stat().st_size]))
"""


def busiest_host(db: Path) -> tuple[str, int, int, str, str]:
    """(host, its logon attempts, all SecurityEvent rows, first and last event time)."""
    with duckdb.connect(str(db), read_only=True) as con:
        total, first, last = con.execute(
            'SELECT count(*), min(TimeGenerated), max(TimeGenerated) FROM "SecurityEvent"'
        ).fetchone()
        host, attempts = con.execute(
            'SELECT Computer, count(*) AS n FROM "SecurityEvent" '
            "WHERE EventID IN (4624, 4625) GROUP BY Computer ORDER BY n DESC LIMIT 1"
        ).fetchone()
    return host, attempts, total, first.isoformat(), last.isoformat()


def host_attempts(db: Path, host: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            'SELECT count(*) FROM "SecurityEvent" WHERE EventID IN (4624, 4625) AND Computer = ?',
            [host],
        ).fetchone()[0]


class TreeMemory:
    """Peak resident memory of a process and all its descendants, summed, sampled."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.root = psutil.Process(pid)
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            rss = 0
            for proc in procs:
                try:
                    rss += proc.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak = max(self.peak, rss)
            time.sleep(self.every)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the big store")
    parser.add_argument("--host", help="host to summarise (default: most logon attempts)")
    parser.add_argument(
        "--template", default=TEMPLATE, help="template name or .ipynb path (to compare versions)"
    )
    parser.add_argument("--no-warm", action="store_true", help="skip the long-lived process runs")
    args = parser.parse_args()

    busiest, attempts, total, first, last = busiest_host(args.db)
    host = args.host or busiest
    if args.host:
        attempts = host_attempts(args.db, host)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}")
    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(
        f"store: {args.db} ({args.db.stat().st_size / 2**30:.2f} GiB), "
        f"{total:,} SecurityEvent rows from {first} to {last}"
    )
    print(f"host: {host} with {attempts:,} logon attempts (4624/4625)")
    out = Path(tempfile.mkdtemp(prefix="nbcatalog-bench-scale-"))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "nbcatalog"), "run", args.template, "--host", host,
         "--source", f"duckdb:{args.db}", "--start", first, "--end", last,
         "--output", str(out), "--json", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    memory = TreeMemory(proc.pid)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    peak = memory.stop()
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}): {stderr[-3000:]}\n{stdout[-3000:]}")
    summary = json.loads(stdout)
    notebook = Path(summary["notebook"])
    folder = Path(summary["run_dir"])
    folder_size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    sessions = summary["results"].get("logon_sessions", {})
    print(
        f"wall time: {wall:.1f} s (new process, kernel start included; the run itself "
        f"{summary['duration']:.1f} s)  target < 20 s"
    )
    print(f"peak memory, runner + kernel: {peak / 2**20:,.0f} MiB  target < 2048 MiB")
    print(
        f"executed notebook: {notebook.stat().st_size / 2**20:.2f} MiB  target < 2 MiB; "
        f"run folder {folder_size / 2**20:.2f} MiB"
    )
    print(f"logon_sessions rows kept: {sessions.get('rows')}")
    matrix = summary["results"].get("logon_matrix", {})
    print(f"logon_matrix rows: {matrix.get('rows')}")

    if args.no_warm:
        return
    # The same run in a long-lived process (warm kernel pool), as from a notebook.
    proc = subprocess.Popen(
        [sys.executable, "-c", WARM_RUNS, args.template, host, f"duckdb:{args.db}", first, last,
         str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    memory = TreeMemory(proc.pid)
    stdout, stderr = proc.communicate()
    peak = memory.stop()
    if proc.returncode != 0:
        raise SystemExit(f"warm runs failed ({proc.returncode}): {stderr[-3000:]}")
    first_s, warm_s, size = json.loads(stdout.strip().splitlines()[-1])
    print(
        f"long-lived process (nbcatalog.run, warm pool): first run {first_s:.1f} s "
        f"(pool start included), next run {warm_s:.1f} s; peak memory {peak / 2**20:,.0f} MiB; "
        f"notebook {size / 2**20:.2f} MiB"
    )


if __name__ == "__main__":
    main()
