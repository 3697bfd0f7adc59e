"""Build a demo store with about 10 million SecurityEvent rows and time it.

Prints the build time, the file size, and the time of a per-host logon-count
aggregation run inside DuckDB (the kind of query a host template sends). Not a
test: run it by hand and record the output in benchmarks/README.md.

    .venv/bin/python benchmarks/build_store.py                 # 10 million rows
    .venv/bin/python benchmarks/build_store.py --rows 2000000  # a quicker look
    .venv/bin/python benchmarks/build_store.py --db /tmp/big.duckdb --keep

The scale is derived from a small calibration build (rows per unit of --scale), so
the target row count holds whatever the generator's mix of events.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from nbcatalog.data.demo import build_demo

CALIBRATION_SCALE = 0.5
PER_HOST_LOGONS = """
    SELECT Computer, count(*) AS logons,
           count(DISTINCT TargetUserName) AS accounts,
           count(*) FILTER (WHERE LogonType = 10) AS rdp
    FROM SecurityEvent
    WHERE EventID = 4624 AND TimeGenerated >= ? AND TimeGenerated < ?
    GROUP BY Computer
    ORDER BY logons DESC
"""


def security_rows(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM SecurityEvent").fetchone()[0]


def calibrate(workdir: Path, now: str) -> float:
    """SecurityEvent rows per unit of scale (planted rows are a constant, left out)."""
    small = workdir / "calibrate.duckdb"
    build_demo(small, scale=CALIBRATION_SCALE, now=now)
    tiny = workdir / "tiny.duckdb"
    build_demo(tiny, scale=CALIBRATION_SCALE / 10, now=now)
    per_unit = (security_rows(small) - security_rows(tiny)) / (CALIBRATION_SCALE * 0.9)
    small.unlink()
    tiny.unlink()
    return per_unit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="SecurityEvent rows wanted")
    parser.add_argument("--db", type=Path, help="store to build (default: a temp file)")
    parser.add_argument("--keep", action="store_true", help="keep the store afterwards")
    parser.add_argument("--now", default="2026-01-10T12:00:00Z", help="generation time")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="nbcatalog-bench-"))
    target = args.db or workdir / "bench.duckdb"
    per_unit = calibrate(workdir, args.now)
    scale = args.rows / per_unit

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}")
    print(f"python {platform.python_version()}, duckdb {duckdb.__version__}")
    print(f"scale {scale:.2f} (calibrated {per_unit:,.0f} SecurityEvent rows per unit)")
    started = time.perf_counter()
    summary = build_demo(target, scale=scale, now=args.now)
    build_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"build: {build_s:.1f} s, peak RSS {peak_mb:,.0f} MB")
    for table, count in summary.rows.items():
        print(f"  {table:<28} {count:>12,}")
    print(f"file size: {target.stat().st_size / 1e6:,.1f} MB ({target})")

    with duckdb.connect(str(target), read_only=True) as con:
        window = [summary.start.to_pydatetime(), summary.end.to_pydatetime()]
        timings = []
        for _ in range(3):  # first run reads from disk, later ones from DuckDB's cache
            t = time.perf_counter()
            hosts = con.execute(PER_HOST_LOGONS, window).fetchall()
            timings.append(time.perf_counter() - t)
    print(
        f"per-host logon count ({len(hosts)} hosts, {sum(h[1] for h in hosts):,} logons): "
        f"first {timings[0] * 1000:.0f} ms, then {min(timings[1:]) * 1000:.0f} ms"
    )
    print(f"busiest: {hosts[0][0]} with {hosts[0][1]:,} logons")
    if not args.keep and args.db is None:
        target.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
