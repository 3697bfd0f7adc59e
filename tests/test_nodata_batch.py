"""`nbcatalog batch` with a mistyped host among good ones: the summary says which run found
no data and why, the run is not retried, and `--strict` makes the batch exit 3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NBCATALOG = Path(sys.executable).parent / "nbcatalog"


def batch(tmp_path: Path, demo_db: Path, hosts: list[str], *extra: str):
    listing = tmp_path / f"hosts-{len(hosts)}-{len(extra)}.txt"
    listing.write_text("\n".join(hosts) + "\n", encoding="utf-8")
    command = [
        str(NBCATALOG),
        "batch",
        "host-logons-summary",
        "--host-file",
        str(listing),
        "--option",
        "matrix",
        "--source",
        f"duckdb:{demo_db}",
        "--output",
        str(tmp_path / "out"),
        "--workers",
        "1",
        "--retries",
        "2",
        *extra,
    ]
    env = {**os.environ, "NBCATALOG_CONFIG": str(tmp_path / "no-config.toml")}
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)


def test_batch_reports_no_data_and_strict_exits_3(demo_db, tmp_path):
    done = batch(tmp_path, demo_db, ["LNX-WEB01", "LNX-WEB9"])
    assert done.returncode == 0, done.stderr  # a no_data run is not a failed run
    assert "NO DATA host=LNX-WEB9: no host named 'LNX-WEB9' in this data source" in done.stdout
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("host_logons_summary: 1 of 2 run(s) ok, 1 no_data, 0 failed")
    (saved,) = (tmp_path / "out" / "batches").glob("*/batch.json")
    summary = json.loads(saved.read_text(encoding="utf-8"))
    assert summary["status"] == "no_data" and summary["no_data"] == 1
    typo = next(r for r in summary["results"] if r["params"]["host"] == "LNX-WEB9")
    assert typo["status"] == "no_data" and typo["attempts"] == 1  # not retried
    assert "LNX-WEB01" in typo["reason"]  # the closest name
    page = (saved.parent / "index.html").read_text(encoding="utf-8")
    assert "1 of 2 run(s) ok, 1 no_data, 0 failed" in page
    assert "no data: no host named &#x27;LNX-WEB9&#x27;" in page

    strict = batch(tmp_path, demo_db, ["LNX-WEB9"], "--strict", "--json")
    assert strict.returncode == 3, strict.stderr
    assert json.loads(strict.stdout)["no_data"] == 1
