"""`nbcatalog data import PATH...`: load log files into the embedded store."""

from __future__ import annotations

import click

from nbcatalog.data.importers.detect import ALIASES, FORMATS
from nbcatalog.data.schema import TABLES
from nbcatalog.errors import NbcatalogError

_FORMATS_HELP = "\n".join(f"  {name:17} {text}" for name, text in FORMATS.items())


@click.command(
    "import",
    epilog=(
        "\b\nFormats (detected from the content when --format is not given):\n"
        f"{_FORMATS_HELP}\n"
        f"  (also accepted: {', '.join(sorted(ALIASES))})\n\n"
        "\b\nExit codes:\n"
        "  0  imported (rejected rows are listed and counted, not fatal)\n"
        "  1  a file or the store is missing, unreadable or too damaged to read;\n"
        "     or a file gave nothing to store: every row rejected, or its rows\n"
        "     lack a column their table needs (e.g. AlertSeverity)\n"
        "  2  bad usage: unknown format or table, or a table that cannot be inferred\n"
        "On exit 1 or 2 the store is left exactly as it was and no file is\n"
        "recorded as imported: import it again after the fix."
    ),
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "fmt", metavar="F", help="Format of every PATH (default: detect).")
@click.option(
    "--table",
    metavar="T",
    help=(
        "Table for Sentinel or Defender advanced hunting exports whose columns do not "
        f"name it: {', '.join(TABLES)}."
    ),
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=str),
    help="Store file (default: $NBCATALOG_DB, else the user data directory).",
)
@click.option("--show", default=5, show_default=True, help="Rejected rows shown per file.")
def import_(paths: tuple[str, ...], fmt: str | None, table: str | None, db: str | None, show: int):
    """Import log files (or folders of them) into the store, in one transaction.

    Reports rows read, stored, rejected (file:line and reason) and duplicates,
    msticpy column names mapped to the table's, and columns dropped; importing
    the same file again adds nothing.
    """
    from nbcatalog.data.importers import import_paths

    try:
        report = import_paths(paths, db=db, format=fmt, table=table)
    except NbcatalogError as exc:
        click.echo(f"Error: {exc}", err=True)
        click.echo("Nothing was imported; the store is unchanged.", err=True)
        raise SystemExit(exc.exit_code) from None
    click.echo(report.summary(shown=show))
