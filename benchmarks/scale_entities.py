"""Does a notebooklet's cost follow its entity or the whole store? (issue 14)

Builds (or reuses) demo stores at scales 1, 4 and 16 in a cache folder outside the
repository, then runs every notebooklet warm on a fixed entity and on the busiest
entity of its kind at each scale, and prints per notebooklet and scale: the warm
run time, the kernel's peak resident memory, the ratio scale16/scale1 and the
ratio of the entity's own rows. Not a test: run it by hand and record the output
in benchmarks/README.md with the machine load.

Two kinds of store, because `--scale` multiplies every host's activity:
- the fixed entity runs on "grow-others" stores (`grow4`, `grow16`): WKSTN-042,
  bob, 203.0.113.77 and malicious.example keep exactly their scale-1 rows while
  the rest of the estate grows, so its time should not move;
- the busiest entity runs on the plain scaled stores, where it grows with the
  scale: its time should grow no faster than its own rows.

    .venv/bin/python benchmarks/scale_entities.py                 # all notebooklets
    .venv/bin/python benchmarks/scale_entities.py --only host_summary --scales 1 16

Each (scale, notebooklet, entity) runs in a new process with its own warm kernel:
one untimed run starts the kernel, then `--repeat` timed runs (median
printed). Peak memory is the kernel's (the benchmark process's children), sampled
every 20 ms while that entity's runs go.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

NOW = "2026-12-01T12:00:00Z"
START = "2026-11-24T12:00:00Z"
CACHE = Path(os.environ.get("NBCATALOG_BENCH_CACHE", "~/.cache/nbcatalog-bench")).expanduser()

# Notebooklet -> (parameter, fixed entity, SQL giving (busiest entity, its rows)).
# The busiest query counts the rows of the table the notebooklet mostly reads.
_BUSIEST_HOST = (
    'SELECT Computer, count(*) AS n FROM "SecurityEvent" GROUP BY 1 ORDER BY n DESC LIMIT 1'
)
NOTEBOOKLETS: dict[str, tuple[str, str, str]] = {
    "host_summary": ("host", "WKSTN-042", _BUSIEST_HOST),
    "host_logons_summary": ("host", "WKSTN-042", _BUSIEST_HOST),
    "win_host_events": ("host", "WKSTN-042", _BUSIEST_HOST),
    "logon_session_rarity": ("host", "WKSTN-042", _BUSIEST_HOST),
    "network_flow_summary": (
        "host",
        "WKSTN-042",
        "SELECT split_part(VM_s, '/', -1), count(*) AS n FROM \"AzureNetworkAnalytics_CL\" "
        "WHERE VM_s <> '' "
        "GROUP BY 1 ORDER BY n DESC LIMIT 1",
    ),
    "host_network_summary": (
        "host",
        "WKSTN-042",
        "SELECT split_part(VM_s, '/', -1), count(*) AS n FROM \"AzureNetworkAnalytics_CL\" "
        "WHERE VM_s <> '' "
        "GROUP BY 1 ORDER BY n DESC LIMIT 1",
    ),
    "account_summary": (
        "account",
        "bob",
        'SELECT TargetUserName, count(*) AS n FROM "SecurityEvent" '
        "WHERE EventID IN (4624, 4625) AND TargetUserName NOT IN ('', 'SYSTEM', 'ANONYMOUS LOGON') "
        "AND NOT ends_with(TargetUserName, '$') GROUP BY 1 "
        "ORDER BY n DESC LIMIT 1",
    ),
    "ip_summary": (
        "ip",
        "203.0.113.77",
        'SELECT IpAddress, count(*) AS n FROM "SecurityEvent" '
        "WHERE IpAddress NOT IN ('', '-', '::1', '127.0.0.1') GROUP BY 1 "
        "ORDER BY n DESC LIMIT 1",
    ),
    "url_summary": (
        "url",
        "http://malicious.example/payload.ps1",
        "SELECT 'http://malicious.example/payload.ps1', 1",
    ),
    "alert_ti_enrich": (
        "entity",
        "WKSTN-042",
        'SELECT CompromisedEntity, count(*) AS n FROM "SecurityAlert" '
        "GROUP BY 1 ORDER BY n DESC LIMIT 1",
    ),
}

# Runs inside the child process: one kernel, warm-up, then timed runs per entity.
CHILD = r"""
import json, statistics, sys, threading, time
import psutil
import nbcatalog
name, param, source, start, end, out, repeat, entities = sys.argv[1:]
repeat = int(repeat)
me = psutil.Process()
peak = [0]
stop = threading.Event()
def sample():
    while not stop.is_set():
        rss = 0
        for p in me.children(recursive=True):
            try:
                rss += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        peak[0] = max(peak[0], rss)
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
def once(value):
    t = time.perf_counter()
    res = nbcatalog.run(name, data_source=source, start=start, end=end, output_dir=out,
                        quiet=True, silent=True, **{param: value})
    return time.perf_counter() - t, res.status
report = []
for value in json.loads(entities):
    once(value)  # warm-up: kernel start, imports, this entity's caches
    peak[0] = 0
    times, status = [], None
    for _ in range(repeat):
        t, status = once(value)
        times.append(t)
    report.append({"entity": value, "times": times, "status": status, "peak": peak[0]})
stop.set()
print(json.dumps(report))
"""


# The fixed entities of every notebooklet: in the "grow-others" stores they keep the
# rows they have at scale 1 while the rest of the estate grows (the URL by its host).
FIXED_ENTITIES = ("WKSTN-042", "bob", "203.0.113.77", "malicious.example")


def store_path(scale: int, *, grow_others: bool = False) -> Path:
    """The cached store for `scale`, built with a fixed seed and `now` when absent.

    `grow_others`: the fixed entities keep their scale-1 rows, everything else is
    at `scale` (at scale 1 that is the plain store itself).
    """
    if grow_others and scale == 1:
        return store_path(1)
    path = CACHE / (f"grow{scale}.duckdb" if grow_others else f"scale{scale}.duckdb")
    if not path.exists():
        from nbcatalog.data.demo import build_demo

        extra = {"fixed_entities": FIXED_ENTITIES, "fixed_scale": 1} if grow_others else {}
        summary = build_demo(path, scale=scale, now=NOW, **extra)
        print(f"built {path} in {summary.seconds:.1f} s", flush=True)
    return path


def busiest(db: Path, sql: str) -> tuple[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        value, rows = con.execute(sql).fetchone()
    return str(value), int(rows)


def entity_rows(db: Path, sql: str, value: str) -> int:
    """Rows of `value` in the table its busiest query counts (same grouping)."""
    inner = sql.split(" ORDER BY")[0]
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(f"SELECT n FROM ({inner}) AS t(e, n) WHERE e = ?", [value]).fetchone()  # noqa: S608
    return int(got[0]) if got else 0


def store_rows(db: Path) -> int:
    """SecurityEvent rows of the store: how big the estate is around the entity."""
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute('SELECT count(*) FROM "SecurityEvent"').fetchone()[0])


def measure(name: str, db: Path, entities: list[str], repeat: int) -> list[dict]:
    param = NOTEBOOKLETS[name][0]
    out = tempfile.mkdtemp(prefix="nbcatalog-bench-entities-")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, name, param, f"duckdb:{db}", START, NOW, out,
         str(repeat), json.dumps(entities)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"{name} on {db} failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--only", nargs="+", choices=sorted(NOTEBOOKLETS))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    names = args.only or list(NOTEBOOKLETS)
    # Busiest entity: the plain scaled store (every host grows). Fixed entity: the
    # grow-others store, where only the rest of the estate grows around it.
    stores = {s: store_path(s) for s in args.scales}
    grown = {s: store_path(s, grow_others=True) for s in args.scales}
    print(f"load average before: {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    header = (
        f"{'notebooklet':<22} {'entity':<28} {'scale':>5} {'rows':>8} {'store rows':>11} "
        f"{'warm s':>7} {'peak MiB':>9}"
    )
    print(header)
    results: dict[tuple[str, str], dict[int, tuple[float, int, int]]] = {}
    for name in names:
        _, fixed, sql = NOTEBOOKLETS[name]
        for scale, db in stores.items():
            top, _ = busiest(db, sql)
            runs = [("fixed", grown[scale], fixed), ("busiest", db, top)]
            for kind, store, value in runs:
                (rep,) = measure(name, store, [value], args.repeat)
                rows = entity_rows(store, sql, value)
                med = statistics.median(rep["times"])
                results.setdefault((name, kind), {})[scale] = (med, rep["peak"], rows)
                print(
                    f"{name:<22} {kind + ' ' + value[:20]:<28} {scale:>5} {rows:>8} "
                    f"{store_rows(store):>11} "
                    f"{med:>7.2f} {rep['peak'] / 2**20:>9.0f}  {rep['status']}",
                    flush=True,
                )
    lo, hi = min(args.scales), max(args.scales)
    print(f"\nratios scale{hi}/scale{lo} (time, entity rows):")
    for (name, kind), per in results.items():
        if lo in per and hi in per:
            t = per[hi][0] / per[lo][0]
            r = per[hi][2] / per[lo][2] if per[lo][2] else float("nan")
            print(f"  {name:<22} {kind:<8} time {t:5.2f}x  rows {r:5.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
