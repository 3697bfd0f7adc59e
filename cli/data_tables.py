"""Placeholder: being written."""

import click


@click.command("tables")
def tables() -> None:
    """Not written yet."""
    raise click.ClickException("not written yet")
