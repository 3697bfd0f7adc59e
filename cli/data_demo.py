"""Placeholder: being written."""

import click


@click.command("demo")
def demo() -> None:
    """Not written yet."""
    raise click.ClickException("not written yet")
