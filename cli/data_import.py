"""Placeholder: being written."""

import click


@click.command("import")
def import_() -> None:
    """Not written yet."""
    raise click.ClickException("not written yet")
