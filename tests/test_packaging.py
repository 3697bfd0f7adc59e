"""A wheel built from the repo, installed into a fresh environment outside it, works.

The fresh environment gets the wheel with --no-deps and reuses this environment's
installed dependencies through a .pth line (no network), so what is tested is the
wheel's own content: the package, the templates, the `nbcatalog` command, and a
kernel that is the fresh environment's Python even with another `python` on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from run_helpers import fixture_path

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def _sh(*args: str | Path, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _source_tree(dest: Path) -> Path:
    """The repo's tracked and not-ignored files, copied (so no build litter lands in it)."""
    listed = _sh("git", "ls-files", "-co", "--exclude-standard", "-z", cwd=REPO).stdout
    for rel in filter(None, listed.split("\0")):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("packaging")
    src = _source_tree(base / "src")
    _sh(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-q",
        "-w",
        base / "dist",
        src,
    )
    wheels = list((base / "dist").glob("nbcatalog-*.whl"))
    assert len(wheels) == 1
    venv = base / "venv"
    _sh(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(
        _sh(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).stdout.strip()
    )
    (site / "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _sh(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "-q",
        wheels[0],
    )
    return {"venv": venv, "python": python, "nbcatalog": venv / "bin" / "nbcatalog", "base": base}


def test_wheel_holds_package_cli_and_every_template(installed):
    code = (
        "import json, pathlib, nbcatalog, nbcatalog.templates, nbcatalog.cli.main\n"
        "root = pathlib.Path(nbcatalog.templates.__file__).parent\n"
        "print(json.dumps({'file': nbcatalog.__file__,"
        " 'templates': sorted(str(p.relative_to(root)) for p in root.glob('*/*.ipynb'))}))"
    )
    found = json.loads(_sh(installed["python"], "-c", code, cwd=installed["base"]).stdout)
    assert Path(found["file"]).is_relative_to(installed["venv"])  # not the repo's copy
    in_repo = sorted(
        str(p.relative_to(REPO / "templates")) for p in REPO.glob("templates/*/*.ipynb")
    )
    assert found["templates"] == in_repo


def test_installed_command_works(installed):
    out = _sh(installed["nbcatalog"], "--help", cwd=installed["base"]).stdout
    for command in ("run", "report", "list"):
        assert f"  {command}" in out


def test_installed_command_runs_on_its_own_python(installed, tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("python", "python3"):
        (fake_bin / name).write_text("#!/bin/sh\nexit 97\n")
        (fake_bin / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin"
    proc = _sh(
        installed["nbcatalog"],
        "run",
        fixture_path("fixture_env"),
        "--json",
        "--output",
        tmp_path / "out",
        cwd=tmp_path,
        env=env,
    )
    results = json.loads(proc.stdout)["results"]
    assert results["executable"] == str(installed["python"])
    assert Path(results["nbcatalog_file"]).is_relative_to(installed["venv"])


def test_installed_builtin_template_runs_on_demo_store(installed, demo_db, tmp_path):
    proc = _sh(
        installed["nbcatalog"],
        "report",
        "host-summary",
        "--host",
        "WKSTN-042",
        "--source",
        f"duckdb:{demo_db}",
        "--output",
        tmp_path / "out",
        "--json",
        cwd=tmp_path,
    )
    summary = json.loads(proc.stdout)
    assert summary["status"] == "ok"
    assert Path(summary["report"]).is_file()
    assert summary["results"]["related_alerts"]["rows"] > 0
