"""`nbcatalog schedule check` reports every problem of every job in one pass.

A bad cron in one job used to stop the check before the catalogue was consulted,
hiding an unknown notebooklet or parameter in the others (issue 10, finding 7).
"""

from __future__ import annotations

import textwrap

from click.testing import CliRunner
from nbcatalog.cli.main import main

SCHEDULE = textwrap.dedent(
    """\
    jobs:
      - name: bad-cron
        notebooklet: host_summary
        parameters: {host: WIN-DC01, hots: typo-in-bad-job}
        cron: "0 6 * *"
      - name: unknown-notebooklet
        notebooklet: hots_summary
        cron: "0 6 * * *"
      - name: unknown-parameter
        notebooklet: host_summary
        parameters:
          - {host: WIN-DC01}
          - {host: WIN-FS01, colour: red}
        cron: "0 7 * * *"
      - name: huge-covers
        notebooklet: host_summary
        parameters: {host: WIN-DC01}
        cron: "0 8 * * *"
        covers: 99999999999d
      - name: fine
        notebooklet: host_summary
        parameters: {host: WIN-DC01}
        cron: "0 9 * * *"
    """
)


def test_check_lists_every_problem_of_every_job(tmp_path):
    path = tmp_path / "schedules.yaml"
    path.write_text(SCHEDULE, encoding="utf-8")
    result = CliRunner().invoke(main, ["schedule", "check", "--file", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    expected = [
        ("job 'bad-cron': field 'cron'", "'0 6 * *'"),
        ("job 'bad-cron': field 'parameters'", "'hots'"),
        ("job 'unknown-notebooklet': field 'notebooklet'", "hots_summary"),
        ("job 'unknown-parameter': field 'parameters': set #2", "'colour'"),
        ("job 'huge-covers': field 'covers'", "too long"),
    ]
    for where, what in expected:
        assert any(line.startswith(where) and what in line for line in lines), (where, lines)
    assert f"{len(expected)} problem(s)" in lines[0]
    assert "fine" not in result.output and "Traceback" not in result.output


def test_a_clean_file_still_lists_its_jobs(tmp_path):
    path = tmp_path / "schedules.yaml"
    path.write_text(
        SCHEDULE.split("  - name: fine")[0].split("jobs:")[0]
        + "jobs:\n  - name: fine"
        + SCHEDULE.split("  - name: fine")[1],
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["schedule", "check", "--file", str(path), "--now", "2026-03-02T00:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    assert "1 job(s) OK" in result.output and "fine: host_summary x1" in result.output
