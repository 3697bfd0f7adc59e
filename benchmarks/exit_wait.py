"""Benchmark: how long a Python process takes to exit after one `nbcatalog.run`.

Each trial is a new Python that runs ``host_logons_summary`` ``--runs`` times (silent,
as a batch script does; default once) on a small frame
(the Syslog rows of the realdata tests' Debian 12 auth.log, as in anchor_msticnb.py;
its charts are left undrawn, and since nobody looks at them they stay so) and prints
the clock when its script ends. The parent times the rest: atexit (the pool shut
down, the private folder removed; until 2026-12-06 also the undrawn charts drawn in
the pool's kernel) and the interpreter's own exit. A trial whose exit passes
``--dump-after`` seconds gets a faulthandler dump of every thread on stderr, shown here.

Usage:
    .venv/bin/python benchmarks/exit_wait.py [--trials 12] [--dump-after 10] [--runs 1]

Prints each trial's run and exit seconds, then the median and worst exit, the count
of exits over 5 s, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CHILD = """
import faulthandler, sys, time
import pandas as pd
import nbcatalog
frame = pd.read_pickle(sys.argv[1])
started = time.perf_counter()
for _ in range(int(sys.argv[7])):
    res = nbcatalog.run("host_logons_summary", data=frame,
                        options=["-map"], start=sys.argv[2], end=sys.argv[3],
                        data_source=sys.argv[4], output_dir=sys.argv[5], silent=True, quiet=True)
    assert res.status == "ok", res.status
print("RUN", time.perf_counter() - started)
faulthandler.dump_traceback_later(float(sys.argv[6]), exit=False)
print("END", time.time(), flush=True)
"""


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--dump-after", type=float, default=10.0)
    parser.add_argument(
        "--runs", type=int, default=1, help="silent runs per process (a batch script)"
    )
    args = parser.parse_args()

    import duckdb
    import pandas as pd
    from anchor_msticnb import auth_log_frame, default_log

    work = Path(tempfile.mkdtemp(prefix="nbcatalog-exit-"))
    frame = auth_log_frame(default_log(), 2025)
    pickle = work / "logons.pkl"
    frame.to_pickle(pickle)
    start = (frame["TimeGenerated"].min() - pd.Timedelta(days=1)).isoformat()
    end = (frame["TimeGenerated"].max() + pd.Timedelta(days=1)).isoformat()
    db = work / "store.duckdb"
    duckdb.connect(str(db)).close()
    print(f"frame: {len(frame)} rows; load average before: {load()}", flush=True)

    exits = []
    for trial in range(args.trials):
        argv = [sys.executable, "-c", CHILD, str(pickle), start, end, f"duckdb:{db}"]
        argv += [str(work / "output"), str(args.dump_after), str(args.runs)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        finished = time.time()
        lines = dict(x.split(" ", 1) for x in done.stdout.splitlines() if " " in x)
        if done.returncode != 0 or "END" not in lines:
            print(f"trial {trial}: exit code {done.returncode}\n{done.stderr[-3000:]}")
            continue
        took = finished - float(lines["END"])
        exits.append(took)
        runs = float(lines["RUN"])
        print(f"trial {trial}: {args.runs} run(s) {runs:.2f} s, exit {took:.2f} s", flush=True)
        if took > args.dump_after:
            print(done.stderr[-6000:])
    if exits:
        print(
            f"exit: median {statistics.median(exits):.2f} s, worst {max(exits):.2f} s, "
            f"{sum(t > 5 for t in exits)} of {len(exits)} over 5 s"
        )
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
