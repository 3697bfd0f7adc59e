"""`nbcatalog data …`: build, import into and inspect the embedded store.

Its subcommands are imported when they run (`data tables` needs DuckDB, `data
import` the importers), not for `nbcatalog data --help`.
"""

from __future__ import annotations

import click
from nbcatalog.cli.lazy import LazyCommand, LazyGroup

_DATA = "nbcatalog.cli."
COMMANDS: dict[str, LazyCommand] = {
    "demo": LazyCommand(
        _DATA + "data_demo:demo",
        "Build a realistic, deterministic demo store with planted incidents.",
    ),
    "import": LazyCommand(
        _DATA + "data_import:import_",
        "Import log files (or folders of them) into the store, in one transaction.",
    ),
    "localdata": LazyCommand(
        _DATA + "data_localdata:localdata",
        "Write the store's tables as msticpy LocalData pickles (msticnb's file names).",
    ),
    "msticpy-config": LazyCommand(
        _DATA + "data_msticpy:msticpy_config",
        "Print the msticpyconfig.yaml lines that let msticpy load the NBCatalog provider.",
    ),
    "tables": LazyCommand(
        _DATA + "data_tables:tables",
        "Show each table of the store with its row count and time range.",
    ),
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS)
def data() -> None:
    """The embedded DuckDB data store."""
