"""Benchmark: how long `nbcatalog --help`, `list` and `show NAME` take to start and finish.

Each command runs as a new process (the installed console script), N times; the
script prints the median and range per command, the load average before and after
(the machine is shared: figures under load are not idle figures), and with
``--compare OTHER`` the same for another installation's `nbcatalog` (e.g. the main
checkout's venv), runs alternating so both see the same load.

Target (issue 12): each under 0.25 s on an idle machine.

Usage:
    .venv/bin/python benchmarks/cli_start.py [--runs 15] [--compare /work/main/.venv/bin/nbcatalog]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = (["--help"], ["list"], ["show", "host_summary"], ["show", "host_summary", "--json"])


_CPU: dict[str, list[float]] = {}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(exe: str, args: list[str]) -> float | None:
    """Seconds from start to exit; None when the command failed (e.g. an older version).

    The child's CPU seconds go to _CPU: under load, wall time mostly measures the
    queue for a core, CPU time what the command itself costs.
    """
    cpu = _cpu()
    started = time.perf_counter()
    done = subprocess.run([exe, *args], capture_output=True, timeout=120)
    elapsed = time.perf_counter() - started
    _CPU.setdefault(exe + " " + " ".join(args), []).append(_cpu() - cpu)
    return elapsed if done.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command")
    parser.add_argument("--compare", help="another nbcatalog executable to time alongside")
    args = parser.parse_args()
    ours = str(Path(sys.executable).with_name("nbcatalog"))
    exes = [ours] + ([args.compare] if args.compare else [])
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.runs} runs each")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for exe in exes:  # warm the file cache once, not counted
        for command in COMMANDS:
            _time(exe, command)
    for command in COMMANDS:
        times: dict[str, list[float | None]] = {exe: [] for exe in exes}
        for _ in range(args.runs):
            for exe in exes:
                times[exe].append(_time(exe, command))
        for exe in exes:
            label = "this" if exe == ours else exe
            t = [x for x in times[exe] if x is not None]
            if len(t) < len(times[exe]):
                if exe == ours:
                    raise SystemExit(f"nbcatalog {' '.join(command)} failed")
                print(f"nbcatalog {' '.join(command):<28} {label:<10} (not supported)")
                continue
            print(
                f"nbcatalog {' '.join(command):<28} {label:<10} median {statistics.median(t):.3f} s"
                f" (min {min(t):.3f}, max {max(t):.3f}); CPU median "
                f"{statistics.median(_CPU[exe + ' ' + ' '.join(command)]):.3f} s"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
