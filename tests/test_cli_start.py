"""`nbcatalog --help`, `list` and `show` start without the heavy libraries.

Each check runs the real command line in a fresh interpreter of the venv and looks at
what ended up in sys.modules (not at a clock: the machine is shared). Speed figures
are printed by benchmarks/cli_start.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

HEAVY = ("pandas", "duckdb", "papermill", "msticpy", "nbformat", "nbconvert", "numpy")

_PROBE = """
import json, sys
from nbcatalog.cli.main import main
code = 0
try:
    main(sys.argv[1:], prog_name="nbcatalog")
except SystemExit as exc:
    code = exc.code or 0
print("\\n@@" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _probe(*args: str) -> tuple[str, int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120
    )
    out, _, tail = done.stdout.rpartition("\n@@")
    info = json.loads(tail)
    return out, info["code"], set(info["modules"])


@pytest.mark.parametrize(
    "args",
    [("--help",), ("list",), ("list", "--json"), ("show", "host-summary"), ("data", "--help")],
)
def test_light_commands_import_no_heavy_library(args):
    out, code, modules = _probe(*args)
    assert code == 0
    assert out.strip(), "the command printed nothing"
    loaded = [m for m in HEAVY if m in modules]
    assert loaded == [], f"`nbcatalog {' '.join(args)}` imported {loaded}"


def test_show_still_prints_the_template_and_its_drilldowns():
    out, code, _ = _probe("show", "host_summary")
    assert code == 0
    assert "host_summary" in out and "Drill-downs" in out and "Parameters:" in out


def test_group_help_lists_every_command_with_its_own_one_line_help():
    from nbcatalog.cli.main import COMMANDS, main

    out, code, _ = _probe("--help")
    assert code == 0
    for name, lazy in COMMANDS.items():
        command = lazy.load()
        # The stored line is what `--help` shows without importing the command.
        assert lazy.short_help == command.get_short_help_str(limit=500), name
        assert f"  {name} " in out
    ctx = click.Context(main)
    assert sorted(COMMANDS) == main.list_commands(ctx)


def test_data_group_help_lines_match_its_commands():
    from nbcatalog.cli.data import COMMANDS

    for name, lazy in COMMANDS.items():
        assert lazy.short_help == lazy.load().get_short_help_str(limit=500), name


def test_unknown_command_is_a_usage_error():
    out, code, modules = _probe("lsit")
    assert code == 2
    assert "pandas" not in modules
