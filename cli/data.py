"""`nbcatalog data …`: build, import into and inspect the embedded store."""

from __future__ import annotations

import click
from nbcatalog.cli.data_demo import demo
from nbcatalog.cli.data_import import import_
from nbcatalog.cli.data_tables import tables


@click.group()
def data() -> None:
    """The embedded DuckDB data store."""


data.add_command(demo)
data.add_command(import_)
data.add_command(tables)
