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

Example (in a caller's notebook):
    >>> res = nbcatalog.run("account_summary", account="bob")        # doctest: +SKIP
    >>> nblib.pickers.picker(res, "account_id")                        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd


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


def choices(frame: pd.DataFrame, spec: PickerSpec) -> list[tuple[str, str]]:
    """(label, value) pairs for the dropdown: one per distinct value of the column.

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
        if value in seen:
            continue
        seen.add(value)
        extra = ", ".join(str(rec[c]) for c in spec.describe if c in rec and c != spec.column)
        out.append((f"{value}  ({extra})" if extra else value, value))
    return out


def rerun_parameters(results: Any, spec: PickerSpec, value: str) -> dict[str, Any]:
    """The parameters of `results`' run with `spec.parameter` set to `value`."""
    params = dict(getattr(results, "parameters", {}) or {})
    params[spec.parameter] = value
    return params


def picker(results: Any, parameter: str, *, run: Callable[..., Any] | None = None):
    """An ipywidgets box to pick a value of `parameter` from `results` and re-run.

    `run` defaults to `nbcatalog.run`; it is called as
    `run(results.template, silent=True, **parameters)` and the new run's sections are
    shown in the box. The new Results is kept on the returned box as `.last_results`.
    """
    import ipywidgets as widgets
    from IPython.display import display

    from nbcatalog.catalog import get_template

    template = get_template(results.template)
    specs = picker_specs(template.metadata)
    if parameter not in specs:
        known = ", ".join(specs) or "none"
        raise ValueError(f"{results.template} has no picker for {parameter!r}; pickers: {known}")
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
            res = runner(results.template, silent=True, **params)
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
