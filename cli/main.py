"""Entry point of the `nbcatalog` command."""

import click


@click.group()
def main() -> None:
    """A catalogue of security-investigation notebooks."""


if __name__ == "__main__":
    main()
