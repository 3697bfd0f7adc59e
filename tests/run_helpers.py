"""Runs of the fixture templates shared by the runner's test modules.

Real kernels are expensive, so each fixture template runs once per test session
(cached here at module level, because pytest would run a session fixture imported
into several modules once per module).
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "templates" / "test"
SECRET = "s3cr3t-Value-Nobody-Should-See"
NBCATALOG = Path(sys.executable).parent / "nbcatalog"  # the installed command


def fixture_path(name: str) -> str:
    """Path of a fixture template notebook, e.g. fixture_path("fixture_ok")."""
    return str(FIXTURES / f"{name}.ipynb")


@functools.cache
def output_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="nbcatalog-test-runs-"))
    atexit.register(shutil.rmtree, root, True)
    return root


@functools.cache
def ok_run():
    """fixture_ok run once with a secret, an HTML report and labels."""
    import nbcatalog

    return nbcatalog.run(
        fixture_path("fixture_ok"),
        host="WKSTN-042",
        count="5",
        api_token=SECRET,
        start="2024-05-01T00:00:00Z",
        end="2024-05-02T00:00:00+00:00",
        html=True,
        silent=True,
        quiet=True,
        labels={"case": "INC-1"},
        output_dir=output_root(),
    )


@functools.cache
def failed_run(name: str, timeout: float | None = None):
    """The RunError of a failing fixture template, run once."""
    import nbcatalog

    try:
        nbcatalog.run(
            fixture_path(name),
            output_dir=output_root(),
            timeout=timeout,
            quiet=True,
            silent=True,
        )
    except nbcatalog.RunError as exc:
        return exc
    raise AssertionError(f"{name} did not fail")


def outputs_text(res, section: str | None = None) -> str:
    """Every HTML / text output of a run's saved notebook (of one section, if given).

    e.g. `"no alerts name" in outputs_text(res, "alerts")`: what the analyst sees there.
    """
    import nbformat

    nb = nbformat.read(res.notebook_path, as_version=4)
    parts = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if section and f"section:{section}" not in tags:
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            parts.append(data.get("text/html", "") or data.get("text/plain", ""))
            parts.append(out.get("text", ""))
    return "\n".join(parts)


class Recorder:
    """A `run` callable that records what a real run would have been given.

    e.g. `run = Recorder(); res.pick_ip(0, run=run); run.calls == [("ip_summary", {...})]`.
    """

    def __init__(self):
        self.calls = []

    def __call__(self, name, **params):
        self.calls.append((name, params))
        return (name, params)


def cli_json(*args: str, timeout: float) -> dict:
    """Run the installed `nbcatalog` command with `args` (ending in --json) as a shell
    would, assert it exited 0, and return the JSON summary it printed.

    e.g. `cli_json("run", "ip-summary", "--ip", ip, "--json", timeout=300)["status"]`.
    """
    proc = subprocess.run([str(NBCATALOG), *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
