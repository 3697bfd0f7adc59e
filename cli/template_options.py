"""Click options generated from a template's parameters, for `nbcatalog run NAME`.

One option per parameter of the template's cell (``host`` -> ``--host``,
``account_id`` -> ``--account-id``), plus the standard ``--start``, ``--end``,
``--last``, ``--source`` and, when the template has options, a repeatable
``--option``. Values stay text: `nbcatalog.parameters.resolve` coerces and checks
them, so the shell and Python give the same errors. Secret parameters can also be
given through an environment variable (``NBCATALOG_<NAME>``) to keep them out of
shell history.

Example:
    >>> import click
    >>> from nbcatalog.catalog import get_template
    >>> t = get_template("host_summary")                           # doctest: +SKIP
    >>> cmd = click.Command("run", params=cli_options(t), callback=lambda **kw: kw)
    ...                                                            # doctest: +SKIP
    >>> raw = raw_from_cli(t, cmd.main(["--host", "WKSTN-042"], standalone_mode=False))
    ...                                                            # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from nbcatalog.parameters import STANDARD, split_list
from nbcatalog.template import ParamSpec, Template

_METAVARS = {"int": "INTEGER", "float": "NUMBER", "bool": "BOOLEAN", "dict": "JSON"}


def option_flag(name: str) -> str:
    """The command-line flag of a parameter: ``account_id`` -> ``--account-id``."""
    return "--" + name.replace("_", "-")


def secret_envvar(name: str) -> str:
    """The environment variable a secret parameter can be read from."""
    return "NBCATALOG_" + name.upper()


def _parameter_option(spec: ParamSpec) -> click.Option:
    shown = not spec.secret and spec.default not in (None, "", [], {})
    default = f" [default: {spec.default!r}]" if shown else ""
    help_text = (spec.help or spec.name) + default
    if spec.entity_kind:
        help_text += f" ({spec.entity_kind})"
    flag = option_flag(spec.name)
    if spec.type == "bool":
        return click.Option([f"{flag}/--no-{flag[2:]}", spec.name], default=None, help=help_text)
    if spec.type == "list":
        return click.Option(
            [flag, spec.name],
            multiple=True,
            metavar="TEXT",
            help=help_text + " (repeat, or separate with commas)",
        )
    extra: dict[str, Any] = {}
    if spec.secret:
        extra = {"envvar": secret_envvar(spec.name), "show_envvar": True}
        help_text += " (secret; prefer the environment variable)"
    metavar = (spec.entity_kind or _METAVARS.get(spec.type, "TEXT")).upper()
    return click.Option([flag, spec.name], metavar=metavar, help=help_text, **extra)


def cli_options(template: Template) -> list[click.Option]:
    """Click options for running `template`: its own parameters, then the standard ones.

    Parameters typed DataFrame are left out (they are accepted from Python only).

    Example:
        >>> [o.name for o in cli_options(template)]               # doctest: +SKIP
        ['host', 'start', 'end', 'last', 'data_source', 'options']
    """
    options = [
        _parameter_option(spec)
        for spec in template.parameters
        if spec.name not in STANDARD and spec.name != "options" and spec.type != "DataFrame"
    ]
    standard = (
        ("--start", "start", "TIME", "start of the time range (ISO-8601)"),
        ("--end", "end", "TIME", "end of the time range (ISO-8601) [default: now]"),
        ("--last", "last", "SPAN", "time range back from --end: 90m, 24h, 7d, 2w [default: 7d]"),
        ("--source", "data_source", "SPEC", "data source: duckdb:PATH or msticpy:ENVIRONMENT"),
    )
    options += [
        click.Option([flag, dest], metavar=mv, help=text) for flag, dest, mv, text in standard
    ]
    if template.has_options:
        described = [
            f"{name}{' (default)' if name in template.default_options else ''}"
            for name in template.all_options
        ]
        options.append(
            click.Option(
                ["--option", "options"],
                multiple=True,
                metavar="[+|-]NAME",
                help="+name adds to the default options, -name removes one, plain names "
                f"replace them; options: {', '.join(described) or 'none'}",
            )
        )
    return options


def raw_from_cli(template: Template, values: Mapping[str, Any]) -> dict[str, Any]:
    """The raw parameters for `resolve` from the values click parsed for `cli_options`.

    Options not given are left out; repeated and comma-separated list values are
    flattened. Keys click passes that are not template options are ignored.

    Example:
        >>> raw_from_cli(template, {"host": "WKSTN-042", "last": None, "options": ("+geo",)})
        ...                                                         # doctest: +SKIP
        {'host': 'WKSTN-042', 'options': ['+geo']}
    """
    names = {o.name for o in cli_options(template)}
    raw: dict[str, Any] = {}
    for key, value in values.items():
        if key not in names or value is None:
            continue
        if isinstance(value, tuple):
            if not value:
                continue
            value = [item for text in value for item in split_list(str(text))]
        raw[key] = value
    return raw


class Seconds(click.ParamType):
    """A timeout in seconds: a finite number above 0 (``nan`` and ``inf`` are refused)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        from nbcatalog.errors import ParameterError
        from nbcatalog.parameters import parse_timeout, shown

        if isinstance(value, float):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            self.fail(f"{shown(value)} is not a number of seconds (like 600)", param, ctx)
        try:
            return parse_timeout(number)
        except ParameterError:
            self.fail(
                f"{shown(value)}: give a number of seconds greater than 0 (like 600)", param, ctx
            )


SECONDS = Seconds()


def output_options(*, timeout_help: str) -> list[click.Option]:
    """`--output`, `--timeout`, `--json` and `--quiet`, as `run`, `report` and `batch` take them.

    Example:
        >>> [o.name for o in output_options(timeout_help="fail a run after this")]
        ['output', 'timeout', 'json_out', 'quiet']
    """
    return [
        click.Option(
            ["--output", "output"],
            metavar="DIR",
            help="folder for run folders [default: $NBCATALOG_OUTPUT or ./output]",
        ),
        click.Option(
            ["--timeout", "timeout"],
            type=SECONDS,
            metavar="SECONDS",
            help=timeout_help,
        ),
        click.Option(["--json", "json_out"], is_flag=True, help="print a machine-readable summary"),
        click.Option(["--quiet", "-q", "quiet"], is_flag=True, help="no progress bar"),
    ]
