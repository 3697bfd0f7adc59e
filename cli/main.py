"""Entry point of the `nbcatalog` command: names the command groups, imports none.

Each command lives in its own module, imported only when that command runs (see
`nbcatalog.cli.lazy`), so `nbcatalog --help`, `list` and `show` start without
pandas, DuckDB, papermill or msticpy.
Exit codes: 0 success, 1 a run failed, 2 bad usage or parameters, 3 no data
under --strict, 130 interrupted by Ctrl-C.

Example:
    $ nbcatalog --help
"""

from __future__ import annotations

import click
from nbcatalog.cli.lazy import LazyCommand, LazyGroup

_CMDS = "nbcatalog.cli."
# name -> where it lives and its one-line help (checked against the command's own
# by tests/test_cli_start.py, so `nbcatalog --help` stays true).
COMMANDS: dict[str, LazyCommand] = {
    "batch": LazyCommand(
        _CMDS + "batch_cmd:batch_command",
        "Run the notebooklet NAME once per entity listed in a file; "
        "`nbcatalog batch NAME --help` lists its options.",
    ),
    "check": LazyCommand(
        _CMDS + "catalog_cmds:check_cmd",
        "Check templates against the contract (default: every template in the catalogue).",
    ),
    "data": LazyCommand(_CMDS + "data:data", "The embedded DuckDB data store."),
    "diff": LazyCommand(
        _CMDS + "diff_cmd:diff_command",
        "Show what changed from RUN_A (earlier) to RUN_B: findings and key-table rows.",
    ),
    "draw": LazyCommand(
        _CMDS + "draw_cmd:draw_command",
        "Draw the charts a run left undrawn (a silent or batch run) into its notebook.ipynb.",
    ),
    "drill": LazyCommand(
        _CMDS + "drill_cmd:drill_command", "List or run the drill-downs of the run in RUN_DIR."
    ),
    "find": LazyCommand(
        _CMDS + "catalog_cmds:find_cmd",
        "Search names, titles, descriptions, keywords and entity types (best first).",
    ),
    "history": LazyCommand(
        _CMDS + "schedule_cmd:history",
        "List runs (scheduled, manual, API, CLI), newest first.",
    ),
    "list": LazyCommand(
        _CMDS + "catalog_cmds:list_cmd", "List every notebooklet and where it comes from."
    ),
    "new": LazyCommand(
        _CMDS + "catalog_cmds:new_cmd",
        "Write a template skeleton that follows the contract and runs on the demo store.",
    ),
    "report": LazyCommand(
        _CMDS + "run_cmd:report_command",
        "Write an HTML report of the notebooklet NAME; "
        "`nbcatalog report NAME --help` lists its parameters.",
    ),
    "run": LazyCommand(
        _CMDS + "run_cmd:run_command",
        "Run the notebooklet NAME; `nbcatalog run NAME --help` lists its parameters.",
    ),
    "schedule": LazyCommand(
        _CMDS + "schedule_cmd:schedule",
        "Scheduled HTML reports: check the schedule file, run what is due, serve.",
    ),
    "show": LazyCommand(
        _CMDS + "catalog_cmds:show_cmd",
        "Show a notebooklet's description, parameters, options, sections and results.",
    ),
    "web": LazyCommand(
        _CMDS + "web_cmd:web",
        "Serve the catalogue in a browser: run forms, history, reports, reruns.",
    ),
}


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="nbcatalog")
def main() -> None:
    """A catalogue of security-investigation notebooks."""


if __name__ == "__main__":
    main()
