"""Drill-downs: what an analyst can do next with a run's Results.

msticnb offers methods after ``run()`` (browse alerts, pick an account, expand
events, ...). Here a template declares them in its metadata, key ``drilldowns``::

    "drilldowns": {
      "browse_alerts": {"description": "browse the related alerts one at a time",
                        "function": "nbcatalog.nblib.browse:browse_alerts",
                        "result": "related_alerts"},
      "pick_ip": {"description": "summarise one of the addresses (ip_summary)",
                  "template": "ip_summary", "result": "ip_summary",
                  "parameters": {"ip": "row:IpAddress"}},
      "expand_events": {"description": "EventData of chosen event IDs as columns",
                        "template": "win_host_events",
                        "parameters": {"host": "result:host_entity.HostName"},
                        "set": {"options": ["+expand_events"]}, "pass": ["event_ids"]}
    }

Two kinds:

- ``function`` ("module:callable"): called as ``callable(results, **kwargs)`` on the
  harvested data, nothing re-run (``result`` names the result it needs).
- ``template``: runs a companion template. ``parameters`` maps its parameters to
  values: ``row:Column`` (from a row picked in ``result``, optionally filtered by
  ``where`` {column: value}), ``result:name`` or ``result:name.key`` (a glued value),
  ``param:name`` (this run's parameter) or a literal. The time range and data source
  are carried over (every parameter when the companion is the same template);
  ``set`` adds fixed values and ``pass`` names the keyword arguments callers may give.

On Results: ``res.drilldown()`` lists them, ``res.drilldown("pick_ip", row=0)`` or
``res.pick_ip("203.0.113.77")`` runs one (in a notebook, with no row, a picker is
shown), and ``res.pick("account_id")`` is the template's picker. From a shell, each
template drill-down is a plain run: `shell_command` gives it.

Example:
    >>> res = nbcatalog.run("account_summary", account="bob")        # doctest: +SKIP
    >>> res.drilldown()                                               # doctest: +SKIP
    >>> res.drilldown("pick_ip", row="203.0.113.77").status           # doctest: +SKIP
    'ok'
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbcatalog.errors import UsageError

STANDARD_CARRIED = ("start", "end", "data_source")
REDACTED = "<redacted>"
_SOURCES = ("row", "result", "param")


@dataclass(frozen=True)
class DrilldownSpec:
    """One declared drill-down (see the module docstring for the keys)."""

    name: str
    description: str = ""
    function: str | None = None
    template: str | None = None
    result: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    where: Mapping[str, Any] = field(default_factory=dict)
    set: Mapping[str, Any] = field(default_factory=dict)
    passed: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "function" if self.function else "template"

    @property
    def row_columns(self) -> dict[str, str]:
        """Companion parameter -> column of the picked row."""
        return {
            p: str(v)[4:]
            for p, v in self.parameters.items()
            if isinstance(v, str) and v.startswith("row:")
        }


def check_drilldowns(metadata: Mapping[str, Any]) -> list[str]:
    """Problems with a template's ``drilldowns`` metadata (empty when fine).

    Example:
        >>> check_drilldowns({"drilldowns": {"x": {"description": "d"}}})
        ["drilldown 'x': give either 'function' (module:callable) or 'template'"]
    """
    problems = []
    declared = metadata.get("drilldowns") or {}
    if not isinstance(declared, Mapping):
        return ["metadata drilldowns must be a dict: name -> {description, function|template}"]
    for name, raw in declared.items():
        where = f"drilldown {name!r}"
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: must be a dict")
            continue
        known = {"description", "function", "template", "result", "parameters", "where", "set"}
        known.add("pass")
        unknown = set(raw) - known
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)} (accepted: {sorted(known)})")
        if bool(raw.get("function")) == bool(raw.get("template")):
            problems.append(f"{where}: give either 'function' (module:callable) or 'template'")
        if raw.get("function") and ":" not in str(raw["function"]):
            problems.append(f"{where}: function {raw['function']!r} must read 'module:callable'")
        params = raw.get("parameters") or {}
        if not isinstance(params, Mapping):
            problems.append(f"{where}: parameters must be a dict")
            continue
        uses_row = any(isinstance(v, str) and v.startswith("row:") for v in params.values())
        if (uses_row or raw.get("where")) and not raw.get("result"):
            problems.append(f"{where}: row: values need 'result' (the result to pick a row from)")
        for key in ("set", "where"):
            if key in raw and not isinstance(raw[key], Mapping):
                problems.append(f"{where}: {key} must be a dict")
        if "pass" in raw and not isinstance(raw["pass"], list):
            problems.append(f"{where}: pass must be a list of keyword names")
    return problems


def drilldown_specs(metadata: Mapping[str, Any]) -> dict[str, DrilldownSpec]:
    """The drill-downs a template's metadata declares, by name (UsageError if malformed).

    Example:
        >>> specs = drilldown_specs({"drilldowns": {"pick_ip": {"template": "ip_summary",
        ...     "result": "ips", "parameters": {"ip": "row:IpAddress"}}}})
        >>> specs["pick_ip"].kind, specs["pick_ip"].row_columns
        ('template', {'ip': 'IpAddress'})
    """
    problems = check_drilldowns(metadata)
    if problems:
        raise UsageError("; ".join(problems))
    return {
        str(name): DrilldownSpec(
            name=str(name),
            description=str(raw.get("description", "")),
            function=raw.get("function") or None,
            template=raw.get("template") or None,
            result=raw.get("result") or None,
            parameters=dict(raw.get("parameters") or {}),
            where=dict(raw.get("where") or {}),
            set=dict(raw.get("set") or {}),
            passed=tuple(str(p) for p in raw.get("pass") or ()),
        )
        for name, raw in (metadata.get("drilldowns") or {}).items()
    }


def results_metadata(results: Any) -> dict[str, Any]:
    """The template metadata of a run: from its executed notebook, else the catalogue."""
    notebook = getattr(results, "notebook", None)
    meta = None
    if notebook is not None:
        meta = notebook.get("metadata", {}).get("nbcatalog")
    if not meta:
        try:
            from nbcatalog.catalog import get_template

            meta = get_template(results.template).metadata
        except Exception:  # noqa: BLE001 - a run of a file outside the catalogue has none
            meta = {}
    return dict(meta or {})


def specs_for(results: Any) -> dict[str, DrilldownSpec]:
    """The drill-downs offered on `results` (empty when the template declares none)."""
    return drilldown_specs(results_metadata(results))


def _spec(results: Any, name: str) -> DrilldownSpec:
    specs = specs_for(results)
    if name not in specs:
        raise UsageError(
            f"{results.template} has no drill-down {name!r}; drill-downs: "
            f"{', '.join(specs) or 'none'}"
        )
    return specs[name]


# ----------------------------------------------------------------- rows and values


def choices(results: Any, spec: DrilldownSpec) -> pd.DataFrame:
    """The rows a template drill-down can be run for (its `result`, filtered by `where`)."""
    if not spec.result:
        return pd.DataFrame()
    if spec.result not in results.data:
        raise UsageError(
            f"this {results.template} run has no result {spec.result!r} for drill-down "
            f"{spec.name!r} (was its option off?)"
        )
    frame = results.data[spec.result]
    if not isinstance(frame, pd.DataFrame):
        raise UsageError(f"result {spec.result!r} is not a table; drill-down {spec.name!r}")
    for column, value in spec.where.items():
        if column in frame.columns:
            frame = frame[frame[column].astype(str) == str(value)]
    needed = set(spec.row_columns.values())
    frame = frame.dropna(subset=[c for c in needed if c in frame.columns])
    return frame.drop_duplicates(subset=sorted(needed & set(frame.columns)) or None).reset_index(
        drop=True
    )


def pick_row(results: Any, spec: DrilldownSpec, row: Any) -> dict[str, Any]:
    """The row `row` selects: a position, a dict / Series, or a value of the first
    row column (e.g. the IP address itself)."""
    rows = choices(results, spec)
    columns = list(dict.fromkeys(spec.row_columns.values()))
    if isinstance(row, pd.Series):
        return row.to_dict()
    if isinstance(row, Mapping):
        return dict(row)
    if isinstance(row, int) and not isinstance(row, bool):
        if not -len(rows) <= row < len(rows):
            raise UsageError(
                f"row {row} is out of range: {spec.result} has {len(rows)} row(s) to pick from"
            )
        return rows.iloc[row].to_dict()
    if row is None:
        if len(rows) == 1:
            return rows.iloc[0].to_dict()
        raise UsageError(_choose_message(spec, rows, columns))
    column = columns[0] if columns else None
    if column is None or column not in rows.columns:
        raise UsageError(f"drill-down {spec.name!r} takes no row")
    match = rows[rows[column].astype(str).str.casefold() == str(row).casefold()]
    if match.empty:
        raise UsageError(_choose_message(spec, rows, columns, wanted=row))
    return match.iloc[0].to_dict()


def _choose_message(spec: DrilldownSpec, rows: pd.DataFrame, columns: list[str], wanted=None):
    column = columns[0] if columns else ""
    values = [str(v) for v in rows[column]][:20] if column in rows.columns else []
    head = f"no row with {column} {wanted!r}" if wanted is not None else "choose a row"
    more = " …" if len(rows) > 20 else ""
    return (
        f"drill-down {spec.name!r}: {head} of {spec.result} (row=<position> or a {column} "
        f"value); {len(rows)} to choose from: {', '.join(values) or 'none'}{more}"
    )


def _value(results: Any, source: Any, row: Mapping[str, Any] | None) -> Any:
    if not isinstance(source, str) or source.partition(":")[0] not in _SOURCES:
        return source  # a literal
    kind, _, path = source.partition(":")
    if kind == "row":
        if row is None or path not in row:
            raise UsageError(f"the picked row has no column {path!r}")
        return row[path]
    if kind == "param":
        return (results.parameters or {}).get(path)
    name, _, key = path.partition(".")
    if name not in results.data:
        raise UsageError(f"this run has no result {name!r} to take a parameter from")
    value = results.data[name]
    if key:
        value = value.get(key) if isinstance(value, Mapping) else None
        if value in (None, ""):
            raise UsageError(f"result {name!r} has no {key!r} (no single entity was found?)")
    return value


def _plain(value: Any) -> Any:
    """A numpy / pandas scalar as a plain Python value for the parameter resolver."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        try:
            return value.item()
        except (TypeError, ValueError):
            return value
    return value


def companion_parameters(
    results: Any, spec: DrilldownSpec, row: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """The parameters of the companion run (before the runner resolves them)."""
    from nbcatalog.catalog import get_template

    if spec.template is None:
        raise UsageError(f"drill-down {spec.name!r} runs a function, not a template")
    extra = set(kwargs) - set(spec.passed)
    if extra:
        accepted = ", ".join(spec.passed) or "none"
        raise UsageError(
            f"drill-down {spec.name!r} takes no {', '.join(sorted(extra))}; accepted: {accepted}"
        )
    companion = get_template(spec.template)
    own = results_metadata(results).get("name") or results.template
    same = companion.name == own
    declared = {p.name for p in companion.parameters}
    carried = (
        (results.parameters or {})
        if same
        else {k: v for k, v in (results.parameters or {}).items() if k in STANDARD_CARRIED}
    )
    params = {k: v for k, v in carried.items() if k in declared and v != REDACTED and v is not None}
    for name, source in spec.parameters.items():
        params[name] = _plain(_value(results, source, row))
    params.update(spec.set)
    params.update(kwargs)
    return params


def shell_command(results: Any, name: str, row: Any = None, **kwargs: Any) -> str:
    """The same drill-down as a command line (a plain `nbcatalog run`).

    Example:
        >>> shell_command(res, "pick_ip", row="203.0.113.77")               # doctest: +SKIP
        'nbcatalog run ip-summary --ip 203.0.113.77 --start ... --end ... --source ...'
    """
    spec = _spec(results, name)
    if spec.kind == "function":
        raise UsageError(
            f"drill-down {name!r} works on this run's data in Python: "
            f"res.drilldown({name!r}) (from a shell, read the run's notebook or JSON)"
        )
    picked = pick_row(results, spec, row) if spec.row_columns else None
    params = companion_parameters(results, spec, picked, kwargs)
    parts = ["nbcatalog", "run", spec.template.replace("_", "-")]
    for key, value in params.items():
        flag = "--source" if key == "data_source" else "--" + key.replace("_", "-")
        if key == "options":
            for option in value:
                parts += ["--option", shlex.quote(str(option))]
            continue
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        parts += [flag, shlex.quote(text)]
    return " ".join(parts)


# ------------------------------------------------------------------- running


def drilldown_function(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a function outside nbcatalog as usable in a template's ``drilldowns``.

    Metadata names a function by text, and the drill-down runs in the caller's own
    process: only nbcatalog's functions and functions marked with this decorator
    are called, so a template cannot point it at an arbitrary callable.

    Example:
        >>> @drilldown_function
        ... def count_alerts(results):
        ...     return len(results["related_alerts"])
        >>> count_alerts.__nbcatalog_drilldown__
        True
    """
    func.__nbcatalog_drilldown__ = True  # type: ignore[attr-defined]
    return func


def load_function(path: str) -> Callable[..., Any]:
    """The callable a ``module:callable`` path names (UsageError when it is not there,
    or when it is outside nbcatalog and not marked with `drilldown_function`).

    Example:
        >>> load_function("nbcatalog.nblib.browse:browse_alerts").__name__
        'browse_alerts'
    """
    module_name, _, attr = path.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"drill-down function {path!r} cannot be loaded: {exc}") from exc
    if not callable(target):
        raise UsageError(f"drill-down function {path!r} is not callable")
    own = module_name == "nbcatalog" or module_name.startswith("nbcatalog.")
    if not own and not getattr(target, "__nbcatalog_drilldown__", False):
        raise UsageError(
            f"drill-down function {path!r} is not marked with "
            "nbcatalog.drilldowns.drilldown_function, so it is not called"
        )
    return target


def listing(results: Any) -> pd.DataFrame:
    """The drill-downs of a run as a table: Name, Kind, Description, Call.

    Example:
        >>> listing(res)["Name"].tolist()          # doctest: +SKIP
        ['browse_alerts', 'browse_bookmarks', 'pick_account', 'pick_ip', ...]
    """
    rows = []
    for spec in specs_for(results).values():
        args = ", ".join(
            [*(["row=…"] if spec.row_columns else []), *[f"{p}=…" for p in spec.passed]]
        )
        call = f"res.{spec.name}({args})"
        target = spec.template or spec.function
        rows.append(
            {
                "Name": spec.name,
                "Kind": spec.kind,
                "Runs": target,
                "Description": spec.description,
                "Call": call,
            }
        )
    return pd.DataFrame(rows, columns=["Name", "Kind", "Runs", "Description", "Call"])


def run_drilldown(
    results: Any,
    name: str | None = None,
    row: Any = None,
    *,
    run: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Run drill-down `name` of `results` (with no name: the listing table).

    A function drill-down returns what its function returns; a template one returns
    the companion run's Results. In a notebook, a template drill-down that needs a
    row and was given none returns a picker instead.
    """
    if name is None:
        return listing(results)
    spec = _spec(results, name)
    if spec.kind == "function":
        if spec.result and spec.result not in results.data:
            raise UsageError(
                f"this {results.template} run has no result {spec.result!r} for drill-down "
                f"{name!r} (was its option off?)"
            )
        if spec.passed:
            extra = set(kwargs) - set(spec.passed)
            if extra:
                raise UsageError(
                    f"drill-down {name!r} takes no {', '.join(sorted(extra))}; accepted: "
                    f"{', '.join(spec.passed)}"
                )
        return load_function(spec.function)(results, **kwargs)
    if spec.row_columns and row is None and _in_notebook() and len(choices(results, spec)) != 1:
        return picker(results, name, run=run, **kwargs)
    picked = pick_row(results, spec, row) if spec.row_columns else None
    params = companion_parameters(results, spec, picked, kwargs)
    runner = run or _default_run()
    return runner(spec.template, silent=True, **params)


def _default_run() -> Callable[..., Any]:
    import nbcatalog

    return nbcatalog.run


def _in_notebook() -> bool:
    from nbcatalog.catalog import in_notebook

    return in_notebook()


def picker(results: Any, name: str, *, run: Callable[..., Any] | None = None, **kwargs: Any):
    """An ipywidgets box: choose a row of the drill-down's result and run it.

    The box has `.dropdown`, `.pick()` (what the button does) and `.last_results`.
    """
    import ipywidgets as widgets
    from IPython.display import display

    spec = _spec(results, name)
    rows = choices(results, spec)
    columns = list(dict.fromkeys(spec.row_columns.values()))
    labels = [
        " ".join(str(r.get(c, "")) for c in columns) or str(i)
        for i, r in enumerate(rows.to_dict("records"))
    ]
    dropdown = widgets.Dropdown(
        options=list(zip(labels, range(len(rows)), strict=True)),
        description=name,
        layout={"width": "60%"},
    )
    button = widgets.Button(description="Run", button_style="primary", disabled=rows.empty)
    output = widgets.Output()
    import html

    header = widgets.HTML(f"<b>{html.escape(spec.description or name)}</b>")
    box = widgets.VBox([header, widgets.HBox([dropdown, button]), output])
    box.last_results = None

    def on_click(_: Any = None) -> None:
        with output:
            output.clear_output()
            res = run_drilldown(results, name, int(dropdown.value), run=run, **kwargs)
            box.last_results = res
            show = getattr(res, "show", None)
            show() if show is not None else display(res)

    button.on_click(on_click)
    box.pick = on_click
    box.dropdown = dropdown
    return box


def pick(results: Any, parameter: str, value: Any = None, *, run: Callable[..., Any] | None = None):
    """The template's picker for `parameter` (metadata ``pickers``): with `value`,
    re-run at once with it; without, the picker widget.

    Example:
        >>> res.pick("account_id", "linux:bob").selected_accounts     # doctest: +SKIP
        ['linux:bob']
    """
    from nbcatalog.nblib.pickers import choices as picker_choices
    from nbcatalog.nblib.pickers import picker as picker_widget
    from nbcatalog.nblib.pickers import picker_specs, rerun_parameters

    specs = picker_specs(results_metadata(results))
    if parameter not in specs:
        raise UsageError(
            f"{results.template} has no picker for {parameter!r}; pickers: "
            f"{', '.join(specs) or 'none'}"
        )
    spec = specs[parameter]
    if value is None:
        return picker_widget(results, parameter, run=run)
    allowed = [v for _, v in picker_choices(results.data.get(spec.result), spec)]
    if str(value) not in allowed:
        raise UsageError(
            f"{parameter}={value!r} is not among the choices of this run: {', '.join(allowed)}"
        )
    params = {k: v for k, v in rerun_parameters(results, spec, str(value)).items() if v != REDACTED}
    return (run or _default_run())(results.template, silent=True, **params)


def help_lines(metadata: Mapping[str, Any]) -> list[str]:
    """Lines for `nbcatalog show`: one per drill-down, with how to reach it.

    Example:
        >>> help_lines({"drilldowns": {"pick_ip": {"template": "ip_summary",
        ...     "result": "ips", "parameters": {"ip": "row:IpAddress"},
        ...     "description": "summarise an address"}}})[0]
        'pick_ip: summarise an address'
    """
    try:
        specs = drilldown_specs(metadata)
    except UsageError as exc:
        return [f"(drill-downs not usable: {exc})"]
    out = []
    for spec in specs.values():
        out.append(f"{spec.name}: {spec.description}" if spec.description else spec.name)
        if spec.kind == "template":
            out.append(f"    runs {spec.template}; from a shell: {_shell_hint(spec)}")
        else:
            out.append(f"    on this run's data: res.{spec.name}(...)")
    return out


def _shell_hint(spec: DrilldownSpec) -> str:
    """The companion run as a command line with placeholders for the picked values."""
    parts = ["nbcatalog run", str(spec.template).replace("_", "-")]
    for name, source in spec.parameters.items():
        shown = source.split(":", 1)[1] if isinstance(source, str) and ":" in source else source
        parts.append(f"--{name.replace('_', '-')} <{shown}>")
    for name, value in spec.set.items():
        if name == "options":
            parts += [f"--option {o}" for o in value]
        else:
            parts.append(f"--{name.replace('_', '-')} {value}")
    parts += [f"[--{p.replace('_', '-')} ...]" for p in spec.passed]
    return " ".join(parts) + " --start/--end/--source as this run"
