"""Drill-down pickers: choose one row of a result and run the notebooklet again for it.

A template declares a picker in its metadata, e.g. account_summary:

    "pickers": {"account_id": {"result": "accounts", "column": "AccountId",
                               "describe": ["Account", "Source", "Events"],
                               "title": "Look at one account"}}

meaning "parameter `account_id` can be chosen from column `AccountId` of result
`accounts`". `picker(results, "account_id")` builds an ipywidgets dropdown of those
rows and a button that re-runs the same template with the same parameters plus the
chosen value, showing the new run's sections below. From a shell the same choice is
a parameter: `nbcatalog run account-summary --account bob --account-id linux:bob`.

Only values that select something are offered: rows that nblib groups under a
label for "no value" (``(private)``, ``(unknown)``: the AS owner of a private
address) are left out, since re-running with that label would select nothing.
The picker and the re-run are those of the installed catalogue template of the
run's name, matched to the run by content hash (see `nbcatalog.drilldowns`).

Example (in a caller's notebook):
    >>> res = nbcatalog.run("account_summary", account="bob")        # doctest: +SKIP
    >>> nblib.pickers.picker(res, "account_id")                        # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

# Texts that stand for a missing value rather than being one: "(private)" groups the
# addresses that have no AS owner; "nan" / "None" are how a missing cell reads as text.
REDACTED = "<redacted>"  # how run.json and Results.parameters record a secret
_PLACEHOLDER = re.compile(r"\(.*\)|nan|none|<na>|nat|", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class PickerSpec:
    """Which parameter a picker sets, and from which result column."""

    parameter: str
    result: str
    column: str
    describe: tuple[str, ...] = ()
    title: str = ""


def picker_specs(metadata: dict[str, Any]) -> dict[str, PickerSpec]:
    """The pickers a template's `nbcatalog` metadata declares, by parameter name.

    Example:
        >>> picker_specs({"pickers": {"account_id": {"result": "accounts",
        ...     "column": "AccountId"}}})["account_id"].result
        'accounts'
    """
    specs = {}
    for parameter, spec in (metadata.get("pickers") or {}).items():
        specs[parameter] = PickerSpec(
            parameter=parameter,
            result=str(spec["result"]),
            column=str(spec["column"]),
            describe=tuple(spec.get("describe", ())),
            title=str(spec.get("title", "")),
        )
    return specs


def is_placeholder(value: Any) -> bool:
    """True for a label that stands for "no value" and so selects nothing when chosen.

    Example:
        >>> [is_placeholder(v) for v in ("(private)", "", None, "GOOGLE", "AS (x) y")]
        [True, True, True, False, False]
    """
    return value is None or bool(_PLACEHOLDER.fullmatch(str(value).strip()))


def choices(frame: pd.DataFrame, spec: PickerSpec) -> list[tuple[str, str]]:
    """(label, value) pairs for the dropdown: one per distinct value of the column,
    except placeholders such as ``(private)`` (see `is_placeholder`).

    Example:
        >>> df = pd.DataFrame({"AccountId": ["linux:bob"], "Source": ["Linux logons"]})
        >>> choices(df, PickerSpec("account_id", "accounts", "AccountId", ("Source",)))
        [('linux:bob  (Linux logons)', 'linux:bob')]
    """
    out = []
    if frame is None or spec.column not in frame.columns:
        return out
    seen = set()
    for rec in frame.to_dict("records"):
        value = str(rec[spec.column])
        if value in seen or is_placeholder(rec[spec.column]):
            continue
        seen.add(value)
        extra = ", ".join(str(rec[c]) for c in spec.describe if c in rec and c != spec.column)
        out.append((f"{value}  ({extra})" if extra else value, value))
    return out


def rerun_parameters(results: Any, spec: PickerSpec, value: str) -> dict[str, Any]:
    """The parameters of `results`' run with `spec.parameter` set to `value`.

    Secrets were redacted in the run's record: they are left out (the runner's
    defaults apply), never re-sent as the literal ``<redacted>``.
    """
    params = {k: v for k, v in (getattr(results, "parameters", {}) or {}).items() if v != REDACTED}
    params[spec.parameter] = value
    return params


def picker(
    results: Any,
    parameter: str,
    *,
    run: Callable[..., Any] | None = None,
    allow_changed: bool = False,
):
    """An ipywidgets box to pick a value of `parameter` from `results` and re-run.

    `run` defaults to `nbcatalog.run`; it is called as
    `run(template name, silent=True, **parameters)` and the new run's sections are
    shown in the box. The new Results is kept on the returned box as `.last_results`.
    The template is the installed one of the run's name, matched by content hash
    (`allow_changed` skips that check); never a path the run names.
    """
    import ipywidgets as widgets
    from IPython.display import display

    from nbcatalog.drilldowns import results_metadata, run_template, shown

    specs = picker_specs(results_metadata(results))
    if parameter not in specs:
        known = ", ".join(specs) or "none"
        raise ValueError(
            f"{results.template} has no picker for {shown(parameter)}; pickers: {known}"
        )
    template = run_template(results, allow_changed=allow_changed)
    spec = specs[parameter]
    frame = results.data.get(spec.result)
    options = choices(frame, spec)
    dropdown = widgets.Dropdown(
        options=options, description=spec.parameter, layout={"width": "60%"}
    )
    button = widgets.Button(description="Show", button_style="primary", disabled=not options)
    output = widgets.Output()
    header = widgets.HTML(f"<b>{_escape(spec.title or f'Choose {spec.parameter}')}</b>")
    box = widgets.VBox([header, widgets.HBox([dropdown, button]), output])
    box.last_results = None

    def on_click(_: Any = None) -> None:
        runner = run
        if runner is None:
            import nbcatalog

            runner = nbcatalog.run
        params = rerun_parameters(results, spec, dropdown.value)
        with output:
            output.clear_output()
            res = runner(template.name, silent=True, **params)
            box.last_results = res
            show = getattr(res, "show", None)
            if show is not None:
                show()
            else:
                display(res)

    button.on_click(on_click)
    box.pick = on_click  # for scripts and tests: same as pressing the button
    box.dropdown = dropdown
    return box


def _escape(text: str) -> str:
    import html

    return html.escape(text)
