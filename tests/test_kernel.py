"""The template kernel is this project's Python, on IPC sockets, whatever PATH says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from run_helpers import fixture_path

from nbcatalog.kernel import KERNEL_NAME, ProjectKernelManager, kernel_argv, kernelspec_dir

NBCATALOG = Path(sys.executable).parent / "nbcatalog"


def test_kernelspec_is_built_from_sys_executable():
    spec = json.loads((kernelspec_dir() / KERNEL_NAME / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    assert spec["argv"] == kernel_argv()
    km = ProjectKernelManager()
    assert km.kernel_spec.argv[0] == sys.executable


def test_kernel_manager_uses_ipc_in_a_private_folder():
    km = ProjectKernelManager()
    assert km.transport == "ipc"
    assert os.path.isabs(km.ip)  # socket files never land in the working directory
    assert Path(km.ip).parent == Path(km.connection_file).parent
    assert len(km.ip) < 90  # Unix socket paths are limited to ~100 bytes


@pytest.mark.slow
def test_cli_runs_templates_on_its_own_python_when_another_is_first_on_path(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("python", "python3"):
        fake = fake_bin / name
        fake.write_text("#!/bin/sh\necho 'wrong python' >&2\nexit 97\n")
        fake.chmod(0o755)
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin"
    env["NBCATALOG_SECRET_LEFTOVER"] = "must not reach the kernel"
    proc = subprocess.run(
        [str(NBCATALOG), "run", fixture_path("fixture_env"), "--json", "--output", "out"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert Path(results["executable"]).resolve() == Path(sys.executable).resolve()
    assert results["prefix"] == sys.prefix
    assert results["cwd"] == str(workdir)
    # The kernel started and stopped without leaving socket or connection files behind.
    assert sorted(p.name for p in workdir.iterdir()) == ["out"]
    assert "wrong python" not in proc.stderr
