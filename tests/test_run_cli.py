"""`nbcatalog run` / `nbcatalog report` from a shell: options, JSON, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from nbcatalog.cli.main import main
from run_helpers import fixture_path

NBCATALOG = Path(sys.executable).parent / "nbcatalog"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_help_lists_the_templates_own_parameters():
    result = invoke("run", fixture_path("fixture_ok"), "--help")
    assert result.exit_code == 0
    for flag in (
        "--host",
        "--count",
        "--api-token",
        "--last",
        "--start",
        "--end",
        "--source",
        "--option",
        "--output",
        "--timeout",
        "--html",
        "--json",
        "--quiet",
    ):
        assert flag in result.output, flag
    assert "host name [default: 'WKSTN-001']" in result.output
    assert "Fixture: everything works" in result.output
    assert result.output.startswith("Usage: ") and " run " in result.output.splitlines()[0]


def test_help_without_a_name_explains_usage():
    result = invoke("run", "--help")
    assert result.exit_code == 0
    assert "nbcatalog run NAME --help" in result.output.replace("`", "")


def test_report_command_has_no_html_flag_it_always_writes_one():
    result = invoke("report", fixture_path("fixture_ok"), "--help")
    assert result.exit_code == 0
    assert "--html" not in result.output and "--host" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hots", "x"], "No such option '--hots'"),
        (["--count", "many"], "'count': 'many' is not a whole number"),
        (["--start", "2024-05-02", "--end", "2024-05-01"], "must be after start"),
        (["--last", "yesterday"], "is not a time span"),
        (["--option", "+nope"], "unknown option 'nope'"),
        (["--source", "mysql:foo"], "is not a data source"),
        (["--timeout", "0"], "--timeout"),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message(args, message, tmp_path):
    result = invoke("run", fixture_path("fixture_ok"), "--output", str(tmp_path), *args)
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []  # nothing ran


def test_unknown_template_exits_2():
    result = invoke("run", "no-such-notebooklet", "--json")
    assert result.exit_code == 2
    assert "no-such-notebooklet" in result.output


@pytest.mark.slow
def test_report_json_summary_from_the_installed_command(tmp_path):
    proc = subprocess.run(
        [
            str(NBCATALOG),
            "report",
            fixture_path("fixture_ok"),
            "--host",
            "WKSTN-042",
            "--last",
            "24h",
            "--option",
            "+extra",
            "--output",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["status"] == "ok"
    assert Path(summary["report"]).is_file()
    assert Path(summary["run_dir"]).parent == tmp_path / "fixture_ok"
    assert summary["results"]["host_name"] == "WKSTN-042"
    assert summary["results"]["lines"] == {
        "type": "DataFrame",
        "rows": 2,
        "columns": ["TimeGenerated", "CommandLine", "Count"],
    }
    assert summary["parameters"]["options"] == ["facts", "extra"]
    assert "Executing" not in proc.stderr  # --json implies no progress bar


@pytest.mark.slow
def test_failed_run_exits_1_naming_cell_section_and_notebook(tmp_path):
    result = invoke("run", fixture_path("fixture_raises"), "--output", str(tmp_path), "--json")
    assert result.exit_code == 1
    assert "fixture_raises: exception in cell 5 (section 'boom')" in result.output
    payload = json.loads(result.output[result.output.index("{") :])
    assert payload["status"] == "failed"
    assert payload["error"]["exception_type"] == "ValueError"
    assert Path(payload["notebook"]).is_file()


@pytest.mark.slow
def test_timeout_exits_1(tmp_path):
    result = invoke(
        "run", fixture_path("fixture_sleeps"), "--output", str(tmp_path), "--timeout", "2"
    )
    assert result.exit_code == 1
    assert "timeout in cell 3 (section 'slow')" in result.output


@pytest.mark.slow
def test_dead_kernel_exits_1(tmp_path):
    result = invoke("run", fixture_path("fixture_dies"), "--output", str(tmp_path))
    assert result.exit_code == 1
    assert "dead-kernel in cell 3 (section 'die'): DeadKernelError" in result.output
