"""`nbcatalog data localdata DIR`: the store as msticpy LocalData pickles (msticnb layout)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("localdata")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=str),
    help="Store file (default: $NBCATALOG_DB, else the user data directory).",
)
def localdata(folder: Path, db: str | None) -> None:
    """Write the store's tables as msticpy LocalData pickles (msticnb's file names).

    Then point msticpyconfig.yaml at FOLDER (``DataProviders: LocalData: data_paths:
    [FOLDER]``; a top-level ``LocalData: data_paths:`` works too) and run notebooklets
    with --source msticpy:LocalData.
    """
    from nbcatalog.data.localdata import export_localdata
    from nbcatalog.data.store import default_db_path
    from nbcatalog.errors import NbcatalogError

    path = Path(db) if db else default_db_path()
    if not path.is_file():
        click.echo(
            f"error: no data store at {path}; build one with `nbcatalog data demo`", err=True
        )
        raise SystemExit(2)
    try:
        written = export_localdata(path, folder)
    except NbcatalogError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(exc.exit_code) from None
    for name, rows in written.items():
        click.echo(f"{folder / name}  {rows:,} rows")
