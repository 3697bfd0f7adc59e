"""`nbcatalog data import PATH...`: load log files into the embedded store."""

from __future__ import annotations

import click

from nbcatalog.data.importers.detect import FORMATS
from nbcatalog.errors import NbcatalogError

_FORMATS_HELP = "\n".join(f"  {name:17} {text}" for name, text in FORMATS.items())


@click.command(
    "import",
    epilog=(
        "\b\nFormats (detected from the content when --format is not given):\n"
        f"{_FORMATS_HELP}\n\n"
        "\b\nExit codes: 0 imported (rejected rows are listed, not fatal); "
        "1 a file is missing, unreadable or too damaged to read; "
        "2 bad usage: unknown format or table, or a table that cannot be inferred.\n"
        "On exit 1 or 2 the store is left exactly as it was."
    ),
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "fmt", metavar="F", help="Format of every PATH (default: detect).")
@click.option(
    "--table",
    metavar="T",
    help="Table for Sentinel exports whose columns do not name it (e.g. SecurityEvent).",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=str),
    help="Store file (default: $NBCATALOG_DB, else the user data directory).",
)
@click.option("--show", default=5, show_default=True, help="Rejected rows shown per file.")
def import_(paths: tuple[str, ...], fmt: str | None, table: str | None, db: str | None, show: int):
    """Import log files (or folders of them) into the store, in one transaction.

    Reports rows read, stored, rejected (file:line and reason) and duplicates;
    importing the same file again adds nothing.
    """
    from nbcatalog.data.importers import import_paths

    try:
        report = import_paths(paths, db=db, format=fmt, table=table)
    except NbcatalogError as exc:
        click.echo(f"Error: {exc}", err=True)
        click.echo("Nothing was imported; the store is unchanged.", err=True)
        raise SystemExit(exc.exit_code) from None
    click.echo(report.summary(shown=show))
