"""The run form of a notebooklet, made from its parameters as the CLI makes its options.

One field per parameter of the template's cell (the parameters `nbcatalog run NAME
--help` lists: DataFrame parameters are left out, they come from Python only), the
time range (start, end, or last), and one checkbox per option. Values stay text:
`raw_from_form` hands them to `nbcatalog.parameters.resolve` exactly as the CLI
does, so the web and the shell accept the same values and say the same errors.
An empty field is "not given" (the template's default), as an option left off.

Secret parameters are password fields: never filled in from a submission or a
past run (the run kept only ``<redacted>``), so they must be typed again.

Example:
    >>> from nbcatalog.catalog import get_template
    >>> form = run_form(get_template("host_summary"))          # doctest: +SKIP
    >>> [f.name for f in form.fields]                            # doctest: +SKIP
    ['host']
    >>> raw_from_form(get_template("host_summary"), {"host": "WKSTN-042", "last": ""})
    ...                                                          # doctest: +SKIP
    {'host': 'WKSTN-042'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nbcatalog.parameters import ENTITY_KINDS, REDACTED, STANDARD
from nbcatalog.template import ParamSpec, Template

OPTION_FIELD = "option"
OPTIONS_SHOWN = "options_shown"  # tells "no option ticked" from "options not on the form"
TIME_FIELDS = ("start", "end", "last")
_KINDS = {"int": "number", "float": "number", "bool": "bool", "dict": "json"}


@dataclass(frozen=True)
class Field:
    """One input of the run form."""

    name: str
    kind: str  # text, number, password, bool, json
    help: str
    value: str
    placeholder: str
    required: str  # "" (optional), "required", or "one of host, ip" for an either-or group
    reenter: bool = False  # a secret the past run had: it must be typed again


@dataclass(frozen=True)
class Choice:
    """One option checkbox."""

    name: str
    description: str
    checked: bool


@dataclass(frozen=True)
class RunForm:
    """What the run page shows: fields, time range and options, filled in or not."""

    template: str
    fields: tuple[Field, ...]
    start: str = ""
    end: str = ""
    last: str = ""
    options: tuple[Choice, ...] = ()
    has_options: bool = False
    rerun_of: str | None = None


def form_parameters(template: Template) -> list[ParamSpec]:
    """The parameters the form asks for (those of `nbcatalog run NAME --help`).

    Example:
        >>> [p.name for p in form_parameters(get_template("host_summary"))]  # doctest: +SKIP
        ['host']
    """
    return [
        p
        for p in template.parameters
        if p.name not in STANDARD and p.name != "options" and p.type != "DataFrame"
    ]


def as_text(value: Any) -> str:
    """A parameter value as the text a user would type for it.

    Example:
        >>> as_text(["geo", "timeline"]), as_text(True), as_text(None), as_text({"a": 1})
        ('geo, timeline', 'true', '', '{"a": 1}')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(as_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def required_note(name: str, template: Template) -> str:
    """How the form marks a parameter: "required", "one of host, ip", or "" (optional).

    Alternatives the form cannot take (a DataFrame, given from Python only) are left out,
    so ``host`` of a host-or-data group is plainly required here.

    Example:
        >>> required_note("host", get_template("host_summary"))    # doctest: +SKIP
        'required'
    """
    on_form = {p.name for p in form_parameters(template)}
    for group in template.required_groups:
        if name in group:
            shown = [n for n in group if n in on_form]
            return "required" if len(shown) <= 1 else "one of " + ", ".join(shown)
    return ""


def _field(spec: ParamSpec, template: Template, value: Any, reenter: bool) -> Field:
    help_text = spec.help or spec.name
    if spec.entity_kind in ENTITY_KINDS:
        help_text += f"; {ENTITY_KINDS[spec.entity_kind]}"
    if spec.type == "list":
        help_text += " (separate with commas)"
    if spec.type == "dict":
        help_text += " (a JSON object)"
    shown_default = not spec.secret and spec.default not in (None, "", [], {})
    kind = "password" if spec.secret else _KINDS.get(spec.type, "text")
    return Field(
        name=spec.name,
        kind=kind,
        help=help_text,
        value="" if spec.secret else as_text(value),
        placeholder=f"default: {as_text(spec.default)}" if shown_default else "",
        required=required_note(spec.name, template),
        reenter=reenter,
    )


def run_form(
    template: Template,
    values: Mapping[str, Any] | None = None,
    *,
    start: str = "",
    end: str = "",
    last: str = "",
    options: list[str] | None = None,
    rerun_of: str | None = None,
    reenter: frozenset[str] = frozenset(),
) -> RunForm:
    """The run form of `template`, its fields filled with `values` (secrets never).

    `options` are the ticked options (default: the template's defaults); `reenter`
    names secrets a past run had, flagged to be typed again.

    Example:
        >>> run_form(template, {"host": "WKSTN-042"}).fields[0].value   # doctest: +SKIP
        'WKSTN-042'
    """
    values = values or {}
    fields = tuple(
        _field(spec, template, values.get(spec.name), spec.name in reenter)
        for spec in form_parameters(template)
    )
    ticked = template.default_options if options is None else options
    choices = tuple(
        Choice(name, description, name in ticked)
        for name, description in template.option_descriptions.items()
    )
    return RunForm(
        template=template.name,
        fields=fields,
        start=start,
        end=end,
        last=last,
        options=choices,
        has_options=template.has_options and bool(choices),
        rerun_of=rerun_of,
    )


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _ticked(form: Any) -> list[str]:
    getlist = getattr(form, "getlist", None)
    items = getlist(OPTION_FIELD) if getlist else form.get(OPTION_FIELD, [])
    items = [items] if isinstance(items, str) else list(items)
    return [item for item in items if isinstance(item, str)]


def raw_from_form(template: Template, form: Mapping[str, Any]) -> dict[str, Any]:
    """The raw parameters for `resolve` from a submitted run form (empty = not given).

    Example:
        >>> raw_from_form(template, {"host": "WKSTN-042", "last": "24h", "start": ""})
        ...                                                          # doctest: +SKIP
        {'host': 'WKSTN-042', 'last': '24h'}
    """
    raw: dict[str, Any] = {}
    for spec in form_parameters(template):
        text = _text(form, spec.name)
        if text != "":
            raw[spec.name] = text
    for name in TIME_FIELDS:
        text = _text(form, name).strip()
        if text:
            raw[name] = text
    if template.has_options and _text(form, OPTIONS_SHOWN):
        raw["options"] = _ticked(form)
    return raw


def form_from_submission(
    template: Template, form: Mapping[str, Any], rerun_of: str | None = None
) -> RunForm:
    """The form again as submitted (to show it with its error), secrets left empty.

    Example:
        >>> form_from_submission(template, {"host": "bad host!"}).fields[0].value
        ...                                                          # doctest: +SKIP
        'bad host!'
    """
    values = {spec.name: _text(form, spec.name) for spec in form_parameters(template)}
    ticked = _ticked(form) if _text(form, OPTIONS_SHOWN) else None
    return run_form(
        template,
        values,
        start=_text(form, "start"),
        end=_text(form, "end"),
        last=_text(form, "last"),
        options=ticked,
        rerun_of=rerun_of,
    )


def form_from_run(template: Template, info: Mapping[str, Any], rerun_of: str) -> RunForm:
    """A form filled from a past run's run.json: its parameters, time range and options.

    Secrets the run had (kept as ``<redacted>``) are flagged to be typed again.

    Example:
        >>> form_from_run(template, run_info, "host_summary/2026…").start   # doctest: +SKIP
        '2026-11-29T03:04:22Z'
    """
    params = info.get("parameters") if isinstance(info.get("parameters"), Mapping) else {}
    specs = {spec.name: spec for spec in form_parameters(template)}
    values = {name: params[name] for name in specs if name in params}
    reenter = frozenset(
        name for name, spec in specs.items() if spec.secret and params.get(name) == REDACTED
    )
    options = info.get("options")
    ticked = [str(o) for o in options] if isinstance(options, list) else None
    return run_form(
        template,
        values,
        start=as_text(info.get("start") or params.get("start")),
        end=as_text(info.get("end") or params.get("end")),
        options=ticked,
        rerun_of=rerun_of,
        reenter=reenter,
    )
