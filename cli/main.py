"""Entry point of the `nbcatalog` command: composes the command groups.

Each group lives in its own module; this file only wires them together.
Exit codes: 0 success, 1 a run failed, 2 bad usage or parameters, 3 no data
under --strict, 130 interrupted by Ctrl-C.
"""

from __future__ import annotations

import click
from nbcatalog.cli import (
    batch_cmd,
    catalog_cmds,
    data,
    diff_cmd,
    drill_cmd,
    run_cmd,
    schedule_cmd,
    web_cmd,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nbcatalog")
def main() -> None:
    """A catalogue of security-investigation notebooks."""


main.add_command(data.data)
for command in (
    catalog_cmds.COMMANDS
    + run_cmd.COMMANDS
    + drill_cmd.COMMANDS
    + batch_cmd.COMMANDS
    + schedule_cmd.COMMANDS
    + web_cmd.COMMANDS
    + diff_cmd.COMMANDS
):
    main.add_command(command)


if __name__ == "__main__":
    main()
