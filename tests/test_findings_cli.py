"""Findings from a shell: ``--json`` lists them, the human output ends with them.

Real installed command, real kernel, the demo store: host_summary on WKSTN-042 must
name the planted encoded PowerShell, decoded, in both outputs, and the status line
stays last.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from run_helpers import NBCATALOG

pytestmark = pytest.mark.slow


def _script() -> str:
    from nbcatalog.data.demo.planted_windows import encoded_command

    return base64.b64decode(encoded_command()).decode("utf-16-le")


def _run(demo_db: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    args = ["run", "host-summary", "--host", "WKSTN-042", "--source", f"duckdb:{demo_db}"]
    return subprocess.run(
        [str(NBCATALOG), *args, "--output", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_json_lists_the_findings_with_the_decoded_powershell(demo_db, tmp_path):
    proc = _run(demo_db, tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    findings = summary["findings"]
    decoded = [f for f in findings if _script() in f["title"]]
    assert len(decoded) == 1 and decoded[0]["severity"] == "high"
    assert decoded[0]["result"] == "decoded_powershell"
    assert summary["results"]["decoded_powershell"]["rows"] == decoded[0]["count"]
    assert "findings" not in summary["results"]
    run_json = json.loads((Path(summary["run_dir"]) / "run.json").read_text())
    assert run_json["findings"] == findings


def test_human_output_ends_with_the_findings_then_the_status_line(demo_db, tmp_path):
    proc = _run(demo_db, tmp_path, "--quiet")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("host_summary: ok in ")
    head = next(i for i, line in enumerate(lines) if " finding" in line and "high" in line)
    n = int(lines[head].split()[0])
    listed = lines[head + 1 : -1]
    assert listed and all(line.startswith("  [") or line.startswith("  …") for line in listed)
    assert listed[0].startswith("  [high] ")
    assert any(_script() in line and "section notable" in line for line in listed)
    run_json = json.loads(next(tmp_path.rglob("run.json")).read_text())
    assert n == len(run_json["findings"])
