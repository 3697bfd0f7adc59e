"""`nbcatalog data demo`: build the demo estate with its planted incidents."""

from __future__ import annotations

import click

from nbcatalog.errors import NbcatalogError


def _positive(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not value > 0:
        raise click.BadParameter(f"must be a positive number (e.g. 1, 0.5, 50), got {value:g}")
    return value


def _kept_entities(
    ctx: click.Context, names: tuple[str, ...], keep_scale: float, scale: float
) -> tuple[str, ...]:
    """The --keep-entity names, refused unless the estate really grows around them.

    Example:
        >>> ctx = click.Context(demo)
        >>> _kept_entities(ctx, (" bob ", "WKSTN-042"), 1.0, 4.0)
        ('bob', 'WKSTN-042')
    """
    keep = tuple(n.strip() for n in names)
    if "" in keep:  # an empty name would match the text around every word
        raise click.UsageError("--keep-entity needs a name, got an empty one", ctx)
    explicit = ctx.get_parameter_source("keep_scale") is not click.core.ParameterSource.DEFAULT
    if not keep:
        if explicit:
            raise click.UsageError("--keep-scale applies only with --keep-entity NAME", ctx)
        return keep
    if not 0 < keep_scale <= scale:
        given = f"{keep_scale:g}" if explicit else f"{keep_scale:g} (the default)"
        raise click.UsageError(
            f"--keep-scale must be above 0 and at most --scale ({scale:g}), got {given}", ctx
        )
    if keep_scale == scale:
        raise click.UsageError(
            f"--keep-entity keeps rows while the estate grows, but --scale {scale:g} is no "
            f"larger than --keep-scale {keep_scale:g}: give a larger --scale",
            ctx,
        )
    return keep


@click.command(
    "demo",
    epilog=(
        "\b\nExit codes: 0 built; 2 bad usage (including a --keep-entity name that no "
        "row of the --keep-scale build mentions, found before the estate is grown), or the "
        "target is open in another process or is not a DuckDB store. The old store is "
        "replaced only once the new one is complete, so an interrupted build leaves it as it "
        "was."
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
@click.option(
    "--keep-entity",
    "keep_entities",
    metavar="NAME",
    multiple=True,
    help="A host, account or address whose rows stay as in a --keep-scale build while "
    "the rest of the estate grows to --scale (repeatable; for scale benchmarks). A name "
    "no row mentions is refused (exit 2) with the closest estate names.",
)
@click.option(
    "--keep-scale",
    type=float,
    default=1.0,
    show_default=True,
    metavar="N",
    help="The scale the --keep-entity rows are kept at: above 0, below --scale.",
)
@click.pass_context
def demo(
    ctx: click.Context,
    db: str | None,
    seed: int,
    scale: float,
    now: str | None,
    keep_entities: tuple[str, ...],
    keep_scale: float,
) -> None:
    """Build a realistic, deterministic demo store with planted incidents.

    About 55 hosts and 60 users over the last 7 days (logons, processes, syslog,
    heartbeats, flows, sign-ins, Microsoft 365 and Azure activity, alerts, TI),
    plus incidents to find: an RDP brute force on WKSTN-042, an SSH spray on
    LNX-WEB01, bob's account misused in the cloud, and command-and-control flows.
    The same --seed, --scale and --now give identical rows. An entity named with
    --keep-entity keeps exactly its rows of a --keep-scale build while every other
    host and account grows to --scale.
    """
    keep = _kept_entities(ctx, keep_entities, keep_scale, scale)
    # Checked before the heavy imports and before any file is touched.
    from nbcatalog.data.demo import build_demo
    from nbcatalog.data.store import default_db_path

    path = db or str(default_db_path())
    try:
        summary = build_demo(
            path, seed=seed, scale=scale, now=now, fixed_entities=keep, fixed_scale=keep_scale
        )
    except NbcatalogError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(exc.exit_code) from None
    click.echo(summary.as_text())
