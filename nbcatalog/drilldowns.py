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
  harvested data, nothing re-run (``result`` names the result it needs). Only the
  functions in `BUILT_IN_FUNCTIONS` and those marked with
  `nbcatalog.drilldown_registry.drilldown_function` are called; a name is checked
  before anything is imported.
- ``template``: runs a companion catalogue template (a name, never a path).
  ``parameters`` maps its parameters to values: ``row:Column`` (from a row picked in
  ``result``, optionally filtered by ``where`` {column: value}), ``result:name`` or
  ``result:name.key`` (a glued value), ``param:name`` (this run's parameter) or a
  literal. The time range and data source are carried over (every parameter when
  the companion is the same template); ``set`` adds fixed values and ``pass`` names
  the keyword arguments callers may give.

Where the declarations come from: always the *installed* catalogue template of the
run's name (the normal lookup: `add_path`, NBCATALOG_PATH, entry points, built-in),
never the run's own notebook. A run folder may come from anyone (a shared case
folder, an attachment): it supplies values and rows, never what to execute. Before a
drill-down runs, the installed template's content hash must equal the one the run
recorded; when the template changed since, `TemplateChangedError` says so, and
``allow_changed=True`` (shell: ``--allow-changed``) uses the installed declarations
on the old rows anyway.

On Results: ``res.drilldown()`` lists them, ``res.drilldown("pick_ip", row=0)`` or
``res.pick_ip("203.0.113.77")`` runs one (in a notebook, a drill-down that needs a
row or a value and gets none shows a picker; elsewhere a UsageError lists the
accepted values), and ``res.pick("account_id")`` is the template's picker. From a
shell, each template drill-down is a plain run: `shell_command` gives it.

Example:
    >>> res = nbcatalog.run("account_summary", account="bob")        # doctest: +SKIP
    >>> res.drilldown()                                               # doctest: +SKIP
    >>> res.drilldown("pick_ip", row="203.0.113.77").status           # doctest: +SKIP
    'ok'
"""

from __future__ import annotations

import importlib
import inspect
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbcatalog.drilldown_registry import RegisteredFunction, registered
from nbcatalog.drilldown_registry import drilldown_function as drilldown_function
from nbcatalog.errors import UnknownTemplateError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from nbcatalog.template import Template

STANDARD_CARRIED = ("start", "end", "data_source")
REDACTED = "<redacted>"
_SOURCES = ("row", "result", "param")

# nbcatalog's own drill-down functions, by the text templates name them with, and for
# each keyword the function needs, the column of the drill-down's `result` that lists
# the values it accepts. Checked before any import: a name not here (nor registered
# with @drilldown_function) is never imported.
BUILT_IN_FUNCTIONS: Mapping[str, Mapping[str, str]] = {
    "nbcatalog.nblib.browse:browse_alerts": {"alert": "SystemAlertId"},
    "nbcatalog.nblib.browse:browse_bookmarks": {},
    "nbcatalog.nblib.browse:browse_ti_results": {"indicator": "Ioc"},
    "nbcatalog.nblib.alerttimeline:display_alert_timeline": {},
    "nbcatalog.nblib.accountdetail:events_for_asn": {"asn": "AsnOrg"},
}

# What a template name may look like: a catalogue name, never a path.
TEMPLATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
_FUNCTION_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
SHOWN_LIMIT = 200  # characters of a value echoed in a message
LISTED_MOST = 20  # accepted values listed in a message


class TemplateChangedError(UsageError):
    """The installed template is not the one the run was made with (content hash)."""


def shown(value: Any, limit: int = SHOWN_LIMIT) -> str:
    """`value` quoted for a message: non-printable characters escaped, cut at `limit`.

    Values come from logs and run folders: a terminal escape or a megabyte of text
    must not reach the analyst's screen as it is.

    Example:
        >>> shown("a\\x1b[2Jb")
        "'a\\\\x1b[2Jb'"
        >>> shown("x" * 500)[-18:]
        '… (500 characters)'
    """
    text = str(value)
    out = repr(text[:limit])
    return out + f"… ({len(text)} characters)" if len(text) > limit else out


def listed(values: Iterable[Any], most: int = LISTED_MOST, limit: int = 80) -> str:
    """Up to `most` values for a message, each escaped and cut at `limit` characters.

    Example:
        >>> listed(["a", "b", "c"], most=2)
        'a, b … and 1 more'
    """
    values = list(values)
    parts = []
    for value in values[:most]:
        text = repr(str(value))[1:-1]
        parts.append(text if len(text) <= limit else text[: limit - 1] + "…")
    more = f" … and {len(values) - most} more" if len(values) > most else ""
    return (", ".join(parts) or "none") + more


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
        if raw.get("function") and not _FUNCTION_PATH.fullmatch(str(raw["function"])):
            problems.append(
                f"{where}: function {shown(raw['function'])} must read 'module:callable'"
            )
        if raw.get("template") and not TEMPLATE_NAME.fullmatch(str(raw["template"])):
            problems.append(
                f"{where}: template {shown(raw['template'])} must be a catalogue name "
                "(letters, digits, _ and -), not a path"
            )
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


# ------------------------------------------------- which template declares them


def catalogue_template(name: Any) -> Template:
    """The installed catalogue template called `name`, looked up by name only.

    A path (or anything else that is not a plain name) is refused before the lookup,
    since the catalogue's lookup would load a notebook from a path.

    Example:
        >>> catalogue_template("ip-summary").name
        'ip_summary'
        >>> catalogue_template("/tmp/x.ipynb")
        Traceback (most recent call last):
        nbcatalog.errors.UsageError: '/tmp/x.ipynb' is not a template name ...
    """
    if not isinstance(name, str) or not TEMPLATE_NAME.fullmatch(name):
        raise UsageError(
            f"{shown(name)} is not a template name (letters, digits, _ and -): drill-downs "
            "come from installed catalogue templates, never from a path"
        )
    from nbcatalog.catalog import get_template

    return get_template(name)


def _installed(results: Any) -> Template:
    """The installed template of the run's name (its content not checked yet)."""
    name = getattr(results, "template", None)
    try:
        return catalogue_template(name)
    except UnknownTemplateError as exc:
        raise UsageError(
            f"this run's template {shown(name)} is not installed, so it offers no drill-downs "
            f"({exc}); drill-downs come from the installed catalogue: add the template's "
            "folder with NBCATALOG_PATH or nbcatalog.add_path()"
        ) from exc


def run_template(results: Any, *, allow_changed: bool = False) -> Template:
    """The installed template `results` was made with: same name, same content hash.

    `TemplateChangedError` when the installed template differs from the one recorded
    in the run (run.json ``content_hash``), unless `allow_changed`.

    Example:
        >>> run_template(res).name                              # doctest: +SKIP
        'account_summary'
    """
    template = _installed(results)
    recorded = (getattr(results, "run_info", None) or {}).get("content_hash")
    if recorded == template.content_hash or allow_changed:
        return template
    again = (
        "rerun it, or pass allow_changed=True (from a shell: --allow-changed) to use the "
        "installed template's drill-downs on this run's rows anyway"
    )
    if not recorded:
        raise TemplateChangedError(
            f"this run records no content hash of its template {template.name} (run.json "
            f"content_hash), so it cannot be matched to the installed one: {again}"
        )
    raise TemplateChangedError(
        f"{template.name} changed since this run (the run was made with content hash "
        f"{shown(recorded, 16)}, the installed {template.path} has "
        f"'{template.content_hash[:16]}…'): {again}"
    )


def results_metadata(results: Any) -> dict[str, Any]:
    """The metadata of the installed template of the run's name (UsageError if none).

    Never the run's own notebook metadata: a run folder does not say what to execute.
    """
    return dict(_installed(results).metadata)


def specs_for(results: Any) -> dict[str, DrilldownSpec]:
    """The drill-downs the installed template of the run's name offers (by name).

    For listing; running one (`run_drilldown`) also checks the content hash.
    """
    return drilldown_specs(results_metadata(results))


def _spec(results: Any, name: Any, *, allow_changed: bool = False) -> DrilldownSpec:
    """Drill-down `name` of the installed template, once the run is matched to it."""
    specs = specs_for(results)
    if not isinstance(name, str) or name not in specs:
        raise UsageError(
            f"{results.template} has no drill-down {shown(name)}; drill-downs: "
            f"{', '.join(specs) or 'none'}"
        )
    run_template(results, allow_changed=allow_changed)
    return specs[name]


# ----------------------------------------------------------------- rows and values


def choices(results: Any, spec: DrilldownSpec) -> pd.DataFrame:
    """The rows a template drill-down can be run for (its `result`, filtered by `where`)."""
    import pandas as pd  # lazy: `nbcatalog show` reads help_lines without pandas

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
    import pandas as pd  # lazy: `nbcatalog show` reads help_lines without pandas

    rows = choices(results, spec)
    columns = list(dict.fromkeys(spec.row_columns.values()))
    if isinstance(row, pd.Series):
        return row.to_dict()
    if isinstance(row, Mapping):
        return dict(row)
    if isinstance(row, int) and not isinstance(row, bool):
        if not -len(rows) <= row < len(rows):
            raise UsageError(
                f"row {shown(row, 40)} is out of range: {spec.result} has {len(rows)} row(s) "
                "to pick from"
            )
        return rows.iloc[row].to_dict()
    if row is None:
        if len(rows) == 1:
            return rows.iloc[0].to_dict()
        raise UsageError(_choose_message(spec, rows, columns))
    column = columns[0] if columns else None
    if column is None or column not in rows.columns:
        raise UsageError(f"drill-down {spec.name!r} takes no row (given {shown(row)})")
    match = rows[rows[column].astype(str).str.casefold() == str(row).casefold()]
    if match.empty:
        raise UsageError(_choose_message(spec, rows, columns, wanted=row))
    return match.iloc[0].to_dict()


def _choose_message(
    spec: DrilldownSpec, rows: pd.DataFrame, columns: list[str], wanted: Any = None
) -> str:
    column = columns[0] if columns else ""
    values = rows[column].tolist() if column in rows.columns else []
    head = f"no row with {column} {shown(wanted)}" if wanted is not None else "choose a row"
    return (
        f"drill-down {spec.name!r}: {head} of {spec.result} (a position or a value of {column}: "
        f"row=... in Python, --row ... in a shell); {len(rows)} to choose from: {listed(values)}"
    )


def _value(results: Any, source: Any, row: Mapping[str, Any] | None) -> Any:
    if not isinstance(source, str) or source.partition(":")[0] not in _SOURCES:
        return source  # a literal
    kind, _, path = source.partition(":")
    if kind == "row":
        if row is None or path not in row:
            raise UsageError(f"the picked row has no column {shown(path)}")
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
    from nbcatalog.template import normalize_name

    if spec.template is None:
        raise UsageError(f"drill-down {spec.name!r} runs a function, not a template")
    _check_passed(spec, kwargs)
    companion = catalogue_template(spec.template)
    same = normalize_name(companion.name) == normalize_name(str(results.template))
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


def _check_passed(
    spec: DrilldownSpec, kwargs: Mapping[str, Any], also: tuple[str, ...] = ()
) -> None:
    """UsageError for a keyword the drill-down does not declare in ``pass`` (nor `also`)."""
    accepted = list(dict.fromkeys([*spec.passed, *also]))
    extra = sorted(set(kwargs) - set(accepted))
    if extra:
        raise UsageError(
            f"drill-down {spec.name!r} takes no {listed(extra, most=5, limit=40)}; accepted: "
            f"{', '.join(accepted) or 'none'}"
        )


def shell_command(
    results: Any, name: str, row: Any = None, *, allow_changed: bool = False, **kwargs: Any
) -> str:
    """The same drill-down as a command line (a plain `nbcatalog run`).

    The template name is written the shell's way (``ip-summary``) and so are option
    names (``--event-ids``); values, paths included, are kept as they are, quoted.

    Example:
        >>> shell_command(res, "pick_ip", row="203.0.113.77")               # doctest: +SKIP
        'nbcatalog run ip-summary --start ... --end ... --source ... --ip 203.0.113.77'
    """
    spec = _spec(results, name, allow_changed=allow_changed)
    if spec.kind == "function":
        raise UsageError(
            f"drill-down {name!r} works on this run's data in Python: "
            f"res.drilldown({name!r}) (from a shell: nbcatalog drill RUN_DIR {name} without "
            "--print)"
        )
    picked = pick_row(results, spec, row) if spec.row_columns else None
    params = companion_parameters(results, spec, picked, kwargs)
    companion = catalogue_template(spec.template)
    parts = ["nbcatalog", "run", companion.name.replace("_", "-")]
    for key, value in params.items():
        flag = "--source" if key == "data_source" else "--" + str(key).replace("_", "-")
        if key == "options":
            for option in value:
                parts += ["--option", _shell_word(flag, str(option))]
            continue
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        parts += [flag, _shell_word(flag, text)]
    return " ".join(parts)


def _shell_word(flag: str, text: str) -> str:
    """`text` quoted for a shell; refused when it holds control characters, which would
    act on the terminal when printed (a run folder's values may be hostile)."""
    if not text.isprintable():
        raise UsageError(
            f"the value for {flag} holds control characters, so it is not printed as a "
            f"command: {shown(text)}"
        )
    return shlex.quote(text)


# ---------------------------------------------------------- function drill-downs


def allowed_function(path: str) -> RegisteredFunction:
    """The drill-down function `path` (``module:callable``) names, if nbcatalog allows it.

    Checked *before* anything is imported: `path` must be one of `BUILT_IN_FUNCTIONS`
    (nbcatalog's own, imported then) or registered by
    `nbcatalog.drilldown_registry.drilldown_function` in a module the caller already
    imported (taken from the registry, nothing imported). Anything else is a
    UsageError, and its module is never imported, so its import side effects never run.

    Example:
        >>> allowed_function("nbcatalog.nblib.accountdetail:events_for_asn").choices
        {'asn': 'AsnOrg'}
        >>> allowed_function("os:system")
        Traceback (most recent call last):
        nbcatalog.errors.UsageError: drill-down function 'os:system' is not one nbcatalog ...
    """
    if path in BUILT_IN_FUNCTIONS:
        module_name, _, attr = path.partition(":")
        try:
            target = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise UsageError(f"drill-down function {path!r} cannot be loaded: {exc}") from exc
        return RegisteredFunction(path, target, dict(BUILT_IN_FUNCTIONS[path]))
    marked = registered(str(path))
    if marked is None:
        raise UsageError(
            f"drill-down function {shown(path)} is not one nbcatalog calls (nothing was "
            f"imported): nbcatalog's own are {', '.join(BUILT_IN_FUNCTIONS)}; yours must be "
            "marked with @nbcatalog.drilldown_registry.drilldown_function in a module you "
            "have imported"
        )
    return marked


def load_function(path: str) -> Callable[..., Any]:
    """The callable of an allowed drill-down function (see `allowed_function`).

    Example:
        >>> load_function("nbcatalog.nblib.browse:browse_alerts").__name__
        'browse_alerts'
    """
    return allowed_function(path).function


def _missing_keywords(func: Callable[..., Any], given: Mapping[str, Any]) -> list[str]:
    """Keywords `func` needs (no default) after the Results, and that were not given."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [
        p.name
        for p in list(signature.parameters.values())[1:]  # the first receives the Results
        if p.kind in kinds and p.default is inspect.Parameter.empty and p.name not in given
    ]


def accepted_values(results: Any, spec: DrilldownSpec, column: str) -> list[str]:
    """The distinct values of `column` in the drill-down's result, as offered to choose from.

    Labels that stand for "no value" (``(private)``, empty) are left out: choosing
    one would select nothing.

    Example:
        >>> accepted_values(res, specs_for(res)["pick_asn"], "AsnOrg")   # doctest: +SKIP
        ['COMCAST-7922', 'MICROSOFT-CORP-MSN-AS-BLOCK']
    """
    import pandas as pd  # lazy: `nbcatalog show` reads help_lines without pandas

    from nbcatalog.nblib.pickers import is_placeholder

    frame = results.data.get(spec.result) if spec.result and spec.result in results.data else None
    if not isinstance(frame, pd.DataFrame) or column not in frame.columns:
        return []
    values = (str(v) for v in frame[column].dropna())
    return [v for v in dict.fromkeys(values) if not is_placeholder(v)]


def _needs_message(
    results: Any, spec: DrilldownSpec, allowed: RegisteredFunction, missing: list[str]
) -> str:
    wanted = missing[0]
    column = allowed.choices.get(wanted)
    values = accepted_values(results, spec, column) if column else []
    how = f"Python: res.{spec.name}({wanted}=...), shell: --param {wanted}=VALUE"
    head = f"drill-down {spec.name!r} needs {', '.join(missing)} ({how})"
    if not column:
        return head
    return f"{head}; {len(values)} {column} value(s) of {spec.result}: {listed(values)}"


def _run_function(
    results: Any, spec: DrilldownSpec, kwargs: Mapping[str, Any], picker_ok: bool
) -> Any:
    allowed = allowed_function(str(spec.function))  # before any import
    if spec.result and spec.result not in results.data:
        raise UsageError(
            f"this {results.template} run has no result {spec.result!r} for drill-down "
            f"{spec.name!r} (was its option off?)"
        )
    # A keyword the function chooses a value of (its `choices`) is always accepted.
    _check_passed(spec, kwargs, also=tuple(allowed.choices))
    missing = _missing_keywords(allowed.function, kwargs)
    if missing:
        if picker_ok and len(missing) == 1 and missing[0] in allowed.choices and _in_notebook():
            return _function_picker(results, spec, allowed, missing[0], kwargs)
        raise UsageError(_needs_message(results, spec, allowed, missing))
    if spec.result and "result" not in kwargs and _takes_keyword(allowed.function, "result"):
        # The declaration names the table to work on (alerts are `alerts` in one
        # template, `related_alerts` in another): one function serves both.
        kwargs = {**kwargs, "result": spec.result}
    return allowed.function(results, **kwargs)


def _takes_keyword(func: Callable[..., Any], name: str) -> bool:
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters and parameters[name].kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


# ------------------------------------------------------------------- running


def listing(results: Any) -> pd.DataFrame:
    """The drill-downs of a run as a table: Name, Kind, Description, Call.

    Example:
        >>> listing(res)["Name"].tolist()          # doctest: +SKIP
        ['browse_alerts', 'browse_bookmarks', 'pick_account', 'pick_ip', ...]
    """
    import pandas as pd  # lazy: `nbcatalog show` reads help_lines without pandas

    rows = []
    for spec in specs_for(results).values():
        keywords = [*spec.passed, *_choice_keywords(spec)]
        args = ", ".join(
            [*(["row=…"] if spec.row_columns else []), *[f"{p}=…" for p in dict.fromkeys(keywords)]]
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


def _choice_keywords(spec: DrilldownSpec) -> list[str]:
    """The keywords a function drill-down chooses values of (nothing is imported)."""
    if spec.kind != "function":
        return []
    marked = registered(str(spec.function))
    return list(BUILT_IN_FUNCTIONS.get(str(spec.function)) or (marked.choices if marked else {}))


def run_drilldown(
    results: Any,
    name: str | None = None,
    row: Any = None,
    *,
    run: Callable[..., Any] | None = None,
    allow_changed: bool = False,
    silent: bool = True,
    quiet: bool = False,
    **kwargs: Any,
) -> Any:
    """Run drill-down `name` of `results` (with no name: the listing table).

    A template drill-down's run is `silent` by default (its Results is returned;
    ``silent=False`` shows its sections in the notebook too) and `quiet` hides its
    progress bar, as in `nbcatalog.run`.

    The drill-down is the installed template's (see the module docstring), and runs
    only once the run is matched to it by content hash (`allow_changed` skips that).
    A function drill-down returns what its function returns; a template one returns
    the companion run's Results. In a notebook, a drill-down that needs a row or a
    value and was given none returns a picker; elsewhere a UsageError lists the
    accepted values.

    Example:
        >>> run_drilldown(res, "pick_asn", asn="COMCAST-7922")        # doctest: +SKIP
    """
    if name is None:
        return listing(results)
    spec = _spec(results, name, allow_changed=allow_changed)
    if spec.kind == "function":
        return _run_function(results, spec, kwargs, picker_ok=True)
    if spec.row_columns and row is None and _in_notebook() and len(choices(results, spec)) != 1:
        return picker(results, name, run=run, allow_changed=allow_changed, **kwargs)
    picked = pick_row(results, spec, row) if spec.row_columns else None
    params = companion_parameters(results, spec, picked, kwargs)
    runner = run or _default_run()
    return runner(catalogue_template(spec.template).name, **_display(silent, quiet), **params)


def _display(silent: bool, quiet: bool) -> dict[str, bool]:
    """The run's display keywords: silent always, quiet only when asked (the default)."""
    if not isinstance(silent, bool) or not isinstance(quiet, bool):
        raise UsageError(f"silent={silent!r}, quiet={quiet!r}: give True or False")
    return {"silent": silent, **({"quiet": True} if quiet else {})}


def _default_run() -> Callable[..., Any]:
    import nbcatalog

    return nbcatalog.run


def _in_notebook() -> bool:
    from nbcatalog.catalog import in_notebook

    return in_notebook()


# ------------------------------------------------------------------- pickers


def _picker_box(title: str, description: str, options: list[tuple[str, Any]], action):
    """Header, dropdown and Run button; the button calls `action(value)` and shows what
    it returns below. The box has `.dropdown`, `.pick()` and `.last_results`."""
    import html

    import ipywidgets as widgets
    from IPython.display import display

    dropdown = widgets.Dropdown(options=options, description=description, layout={"width": "60%"})
    button = widgets.Button(description="Run", button_style="primary", disabled=not options)
    output = widgets.Output()
    header = widgets.HTML(f"<b>{html.escape(title)}</b>")
    box = widgets.VBox([header, widgets.HBox([dropdown, button]), output])
    box.last_results = None

    def on_click(_: Any = None) -> None:
        with output:
            output.clear_output()
            res = action(dropdown.value)
            box.last_results = res
            show = getattr(res, "show", None)
            show() if show is not None else display(res)

    button.on_click(on_click)
    box.pick = on_click  # for scripts and tests: same as pressing the button
    box.dropdown = dropdown
    return box


def picker(
    results: Any,
    name: str,
    *,
    run: Callable[..., Any] | None = None,
    allow_changed: bool = False,
    **kwargs: Any,
):
    """An ipywidgets box: choose a row of the drill-down's result and run it.

    The box has `.dropdown`, `.pick()` (what the button does) and `.last_results`.
    """
    spec = _spec(results, name, allow_changed=allow_changed)
    rows = choices(results, spec)
    columns = list(dict.fromkeys(spec.row_columns.values()))
    labels = [
        " ".join(str(r.get(c, "")) for c in columns) or str(i)
        for i, r in enumerate(rows.to_dict("records"))
    ]

    def action(position: int) -> Any:
        return run_drilldown(
            results, name, int(position), run=run, allow_changed=allow_changed, **kwargs
        )

    options = list(zip(labels, range(len(rows)), strict=True))
    return _picker_box(spec.description or name, name, options, action)


def _function_picker(
    results: Any,
    spec: DrilldownSpec,
    allowed: RegisteredFunction,
    keyword: str,
    kwargs: Mapping[str, Any],
):
    """The picker of a function drill-down missing `keyword`: its accepted values."""
    values = accepted_values(results, spec, allowed.choices[keyword])

    def action(value: str) -> Any:
        return _run_function(results, spec, {**kwargs, keyword: value}, picker_ok=False)

    options = [(v, v) for v in values]
    return _picker_box(spec.description or spec.name, keyword, options, action)


def pick(
    results: Any,
    parameter: str,
    value: Any = None,
    *,
    run: Callable[..., Any] | None = None,
    allow_changed: bool = False,
    silent: bool = True,
    quiet: bool = False,
):
    """The template's picker for `parameter` (metadata ``pickers``): with `value`,
    re-run at once with it; without, the picker widget.

    `silent` and `quiet` are `nbcatalog.run`'s (the re-run is silent by default).

    The picker and the re-run are the installed template's, matched to the run by
    content hash like a drill-down.

    Example:
        >>> res.pick("account_id", "linux:bob").selected_accounts     # doctest: +SKIP
        ['linux:bob']
    """
    from nbcatalog.nblib.pickers import choices as picker_choices
    from nbcatalog.nblib.pickers import picker as picker_widget
    from nbcatalog.nblib.pickers import picker_specs, rerun_parameters

    specs = picker_specs(results_metadata(results))
    if not isinstance(parameter, str) or parameter not in specs:
        raise UsageError(
            f"{results.template} has no picker for {shown(parameter)}; pickers: "
            f"{', '.join(specs) or 'none'}"
        )
    spec = specs[parameter]
    if value is None:
        return picker_widget(results, parameter, run=run, allow_changed=allow_changed)
    template = run_template(results, allow_changed=allow_changed)
    allowed = [v for _, v in picker_choices(results.data.get(spec.result), spec)]
    if str(value) not in allowed:
        raise UsageError(
            f"{parameter}={shown(value)} is not among the choices of this run: {listed(allowed)}"
        )
    params = {k: v for k, v in rerun_parameters(results, spec, str(value)).items() if v != REDACTED}
    return (run or _default_run())(template.name, **_display(silent, quiet), **params)


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
