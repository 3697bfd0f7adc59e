"""A click group that imports a subcommand's module only when that subcommand runs.

`nbcatalog --help`, `list` and `show` must start fast: importing every command
module would import pandas, DuckDB and papermill for commands that need none of
them. The group knows each subcommand by name, by the ``module:attribute`` it lives
in and by its one-line help (for the group's ``--help``, which must not import
anything); tests/test_cli_start.py checks that each line equals the command's own.

Example:
    >>> group = LazyGroup("demo", lazy_commands={
    ...     "list": LazyCommand("nbcatalog.cli.catalog_cmds:list_cmd", "List notebooklets.")})
    >>> group.list_commands(None)
    ['list']
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class LazyCommand:
    """Where a subcommand lives (``module:attribute``) and its one-line help."""

    target: str
    short_help: str

    def load(self) -> click.Command:
        """Import the module and return the command object.

        Example:
            >>> LazyCommand("nbcatalog.cli.catalog_cmds:show_cmd", "").load().name
            'show'
        """
        module_name, _, attr = self.target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (see the module docstring)."""

    def __init__(self, *args: Any, lazy_commands: dict[str, LazyCommand], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context | None) -> list[str]:
        return sorted(set(self.lazy_commands) | set(self.commands))

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is None:
            return None
        command = lazy.load()
        self.commands[cmd_name] = command
        return command

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        """Subcommand names (with their stored help) and the group's own options."""
        from click.shell_completion import CompletionItem

        items = [
            CompletionItem(name, help=self.lazy_commands[name].short_help)
            for name in self.list_commands(ctx)
            if name.startswith(incomplete) and name in self.lazy_commands
        ]
        # Options of the group itself (--help, --version), as click.Command offers them.
        items.extend(click.Command.shell_complete(self, ctx, incomplete))
        return items

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the stored one-line helps, importing nothing."""
        rows = []
        limit = formatter.width - 6 - max((len(n) for n in self.list_commands(ctx)), default=0)
        for name in self.list_commands(ctx):
            if name in self.commands:
                text = self.commands[name].get_short_help_str(limit)
            else:
                short = self.lazy_commands[name].short_help
                text = click.utils.make_default_short_help(short, limit)
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
