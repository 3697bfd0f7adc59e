"""Placeholder: being written."""

import click

COMMANDS: list[click.Command] = []
