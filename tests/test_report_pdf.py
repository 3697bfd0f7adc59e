"""``--pdf`` from the shell: a real CLI subprocess, a real kernel, Debian's Chromium printing.

Without Chromium the command stops before running anything, exit 2, saying what
to install. With it, ``report.pdf`` lands beside ``report.html`` and the last line
is still the run's state.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from run_helpers import fixture_path


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nbcatalog.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, "NBCATALOG_CONFIG": str(tmp_path / "none.toml"), **env},
    )


def test_pdf_without_chromium_is_a_usage_error_before_any_run(tmp_path):
    out = tmp_path / "output"
    done = _cli(
        tmp_path,
        "run",
        fixture_path("fixture_big_table"),
        "--output",
        str(out),
        "--pdf",
        NBCATALOG_CHROMIUM=str(tmp_path / "no-such-chromium"),
    )
    assert done.returncode == 2, done.stderr
    assert "no-such-chromium" in done.stderr and "apt-get install chromium" in done.stderr
    assert not out.exists() or not list(out.rglob("run.json"))  # nothing ran


@pytest.mark.slow
def test_report_pdf_prints_beside_the_report(tmp_path):
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("Debian's chromium is needed: run scripts/install-browser.sh")
        pytest.skip("Debian's chromium is needed: run scripts/install-browser.sh")
    out = tmp_path / "output"
    done = _cli(
        tmp_path, "report", fixture_path("fixture_big_table"), "--output", str(out), "--pdf"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1].startswith("fixture_big_table: ok")
    pdf = Path(next(line for line in lines if line.startswith("pdf: "))[5:])
    assert pdf.name == "report.pdf" and (pdf.parent / "report.html").exists()
    payload = pdf.read_bytes()
    assert payload.startswith(b"%PDF-") and payload.count(b"/Type /Page") >= 2
