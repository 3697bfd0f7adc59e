"""Shell completion: template names, each template's own options and their values.

click generates the shell side (``eval "$(_NBCATALOG_COMPLETE=bash_source nbcatalog)"``);
this module answers its questions from the catalogue, reading template files only
(no pandas, no kernel), and never raises: a broken template completes to nothing.

- ``nbcatalog run|report|batch|show <TAB>``: template names (``host-summary``, or
  ``host_summary`` once an underscore is typed), each with its title;
- ``nbcatalog run host-summary --<TAB>``: that template's options (``--host``,
  ``--last``, ``--option``, ``--html``, ...) with their help;
- ``nbcatalog run host-summary --option <TAB>``: its option names (``+geo``, ``-ti``
  after a sign); ``--source <TAB>``: the spec forms.

Example:
    >>> [i.value for i in complete_template_name(None, None, "host-s")]   # doctest: +SKIP
    ['host-summary']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from click.shell_completion import CompletionItem


def _catalogue() -> list[Any]:
    from nbcatalog.catalog import catalog

    try:
        return catalog()
    except Exception:  # completion must not print a traceback into the shell
        return []


def complete_template_name(
    ctx: click.Context | None, param: click.Parameter | None, incomplete: str
) -> list[CompletionItem]:
    """Template names starting with `incomplete`, spelled as the user spells them.

    Example:
        >>> [i.value for i in complete_template_name(None, None, "ip")]    # doctest: +SKIP
        ['ip-summary']
    """
    underscore = "_" in incomplete
    wanted = incomplete.lower().replace("-", "_")
    items = []
    for template in _catalogue():
        if not template.name.lower().startswith(wanted):
            continue
        value = template.name if underscore else template.name.replace("_", "-")
        items.append(CompletionItem(value, help=template.title))
    return items


def _template(name: str | None) -> Any:
    if not name:
        return None
    from nbcatalog.catalog import get_template

    try:
        return get_template(name)
    except Exception:  # unknown or broken: nothing to complete
        return None


def _option_values(option: click.Option, template: Any, incomplete: str) -> list[CompletionItem]:
    if option.name == "options" and template is not None:
        sign = incomplete[:1] if incomplete[:1] in "+-" else ""
        described = template.option_descriptions
        return [
            CompletionItem(sign + name, help=described.get(name, ""))
            for name in template.all_options
            if (sign + name).startswith(incomplete)
        ]
    if option.name == "data_source":
        forms = ["duckdb:", "msticpy:MSSentinel", "msticpy:LocalData"]
        return [CompletionItem(f) for f in forms if f.startswith(incomplete)]
    return [CompletionItem(incomplete, type="file")] if option.name == "output" else []


class TemplateDispatch(click.Command):
    """A command taking NAME then that template's own options (run, report, batch).

    `build(template)` makes the template's full command; completion after NAME is
    answered from it, so the shell offers exactly the options the run will accept.
    """

    def __init__(self, *args: Any, build: Callable[[Any], click.Command], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.build = build

    def template_command(self, ctx: click.Context) -> click.Command | None:
        """The command of the template named on the line so far (None when unknown)."""
        template = _template(ctx.params.get("name"))
        if template is None:
            return None
        try:
            return self.build(template)
        except Exception:  # a template whose options cannot be made: complete nothing
            return None

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        command = self.template_command(ctx)
        if command is None or not incomplete.startswith("-"):
            return super().shell_complete(ctx, incomplete)
        values = _value_completions(ctx, command, incomplete)
        if values is not None:  # `--option -ti`: a value that starts like a flag
            return values
        given = set(ctx.params.get("args") or ())
        items = []
        for param in command.get_params(ctx):
            if not isinstance(param, click.Option) or param.hidden:
                continue
            for flag in param.opts + param.secondary_opts:
                if flag.startswith(incomplete) and (param.multiple or flag not in given):
                    items.append(CompletionItem(flag, help=param.help))
        return items


def complete_template_args(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Values after NAME: the value of the option just typed (``--option <TAB>``).

    Example:
        >>> # nbcatalog run host-summary --option <TAB>  ->  heartbeat, flows, ...
    """
    command = ctx.command
    if not isinstance(command, TemplateDispatch):
        return []
    full = command.template_command(ctx)
    if full is None:
        return []
    return _value_completions(ctx, full, incomplete) or []


def _value_completions(
    ctx: click.Context, full: click.Command, incomplete: str
) -> list[CompletionItem] | None:
    """Completions for the value of the option last on the line; None if it takes none."""
    args = list(ctx.params.get("args") or ())
    if not args:
        return None
    for option in full.get_params(ctx):
        if isinstance(option, click.Option) and args[-1] in option.opts and not option.is_flag:
            return _option_values(option, _template(ctx.params.get("name")), incomplete)
    return None
