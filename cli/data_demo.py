"""`nbcatalog data demo`: build the demo estate with its planted incidents."""

from __future__ import annotations

import click

from nbcatalog.errors import NbcatalogError


def _positive(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not value > 0:
        raise click.BadParameter(f"must be a positive number (e.g. 1, 0.5, 50), got {value:g}")
    return value


@click.command(
    "demo",
    epilog=(
        "\b\nExit codes: 0 built; 2 bad usage, or the target is open in another process "
        "or is not a DuckDB store. The old store is replaced only once the new one is "
        "complete, so an interrupted build leaves it as it was."
    ),
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=str),
    help="Store file to (re)build (default: $NBCATALOG_DB, else the user data directory).",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed.")
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    callback=_positive,
    help="Multiplier of background activity (about 100k SecurityEvent rows per unit); "
    "the planted incidents stay the same.",
)
@click.option(
    "--now",
    metavar="ISO-TIME",
    help="Generation time, e.g. 2026-01-10T12:00:00Z (default: now). Events cover the "
    "7 days before it.",
)
def demo(db: str | None, seed: int, scale: float, now: str | None) -> None:
    """Build a realistic, deterministic demo store with planted incidents.

    About 55 hosts and 60 users over the last 7 days (logons, processes, syslog,
    heartbeats, flows, sign-ins, Microsoft 365 and Azure activity, alerts, TI),
    plus incidents to find: an RDP brute force on WKSTN-042, an SSH spray on
    LNX-WEB01, bob's account misused in the cloud, and command-and-control flows.
    The same --seed, --scale and --now give identical rows.
    """
    from nbcatalog.data.demo import build_demo
    from nbcatalog.data.store import default_db_path

    path = db or str(default_db_path())
    try:
        summary = build_demo(path, seed=seed, scale=scale, now=now)
    except NbcatalogError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(exc.exit_code) from None
    click.echo(summary.as_text())
