"""`nbcatalog data tables`: each table of the store with its row count and time range."""

from __future__ import annotations

import json

import click
import duckdb

from nbcatalog.data.store import DB_ENV, Store, TableStats, default_db_path
from nbcatalog.errors import DataSourceError


def _iso(ts) -> str | None:
    return ts.isoformat() if ts is not None else None


def stats_rows(stats: dict[str, TableStats]) -> list[dict]:
    """JSON-serialisable rows: table, rows, first, last (ISO-8601 UTC or null)."""
    return [
        {"table": s.table, "rows": s.rows, "first": _iso(s.first), "last": _iso(s.last)}
        for s in sorted(stats.values(), key=lambda s: s.table)
    ]


def render_text(rows: list[dict]) -> str:
    """An aligned text table; times shown to the second, in UTC."""
    header = ("TABLE", "ROWS", "FIRST (UTC)", "LAST (UTC)")
    body = [
        (
            r["table"],
            f"{r['rows']:,}",
            (r["first"] or "-")[:19].replace("T", " "),
            (r["last"] or "-")[:19].replace("T", " "),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(4)]
    lines = []
    for line in [header, *body]:
        cells = [
            line[0].ljust(widths[0]),
            line[1].rjust(widths[1]),
            line[2].ljust(widths[2]),
            line[3].ljust(widths[3]),
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


@click.command("tables")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=str),
    help=f"Store file (default: ${DB_ENV}, else the user data directory).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def tables(db: str | None, as_json: bool) -> None:
    """Show each table of the store with its row count and time range.

    Exit codes: 0 shown; 2 no store at that path (build one with `nbcatalog data demo`
    or `nbcatalog data import`) or the store cannot be opened.
    """
    path = db or str(default_db_path())
    try:
        try:
            store = Store.open(path, read_only=True)
        except FileNotFoundError as exc:
            raise DataSourceError(str(exc)) from None
        except duckdb.Error as exc:
            raise DataSourceError(f"cannot open the store {path}: {exc}") from None
        with store:
            rows = stats_rows(store.table_stats())
    except DataSourceError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(exc.exit_code) from None
    if as_json:
        click.echo(json.dumps({"db": path, "tables": rows}, indent=2))
    else:
        click.echo(f"Store: {path}")
        click.echo(render_text(rows))
