"""Writing a new template skeleton, and checking templates against the contract.

`new_template("dns_summary", category="network")` writes a notebook that follows
the contract and runs on the demo store; `check_template(path)` lists every way a
template breaks the contract, each naming the cell (index) and why.

Example:
    >>> from nbcatalog.scaffold import new_template, check_template
    >>> path = new_template("my_hunt", category="host", directory="/tmp/nbl")  # doctest: +SKIP
    >>> check_template(path)                                                   # doctest: +SKIP
    []
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from nbcatalog.errors import UsageError
from nbcatalog.template import (
    GLUE_CALL,
    META_KEY,
    SECTION_TAG,
    TemplateError,
    parse_parameters_cell,
)

REQUIRED_META = {
    "name": str,
    "title": str,
    "category": str,
    "description": str,
    "entity_types": list,
    "keywords": list,
    "version": (str, int, float),
}
OPTIONAL_META = {
    "options": dict,
    "tables": list,
    "secrets": list,
    "entity_kinds": dict,
    "required": list,
    "example": dict,
    "results": dict,
    "pickers": dict,  # parameter -> {result, column, ...}: choose one of several matches
    "drilldowns": dict,  # name -> {description, function | template, ...}: see nbcatalog.drilldowns
    "diff_keys": dict,  # result -> key columns: how nbcatalog.rundiff matches rows between runs
}
STANDARD_PARAMS = ("start", "end", "data_source")
KNOWN_TYPES = {"str", "int", "float", "bool", "list", "dict", "DataFrame"}
ENTITY_KIND_NAMES = ("host", "ip", "account", "url", "domain", "account_id")
# Names the run command and nbcatalog.run() use for themselves.
RESERVED_NAMES = {
    "name", "last", "output", "output_dir", "timeout", "html", "json", "quiet", "silent",
    "labels", "source", "option", "help",
}  # fmt: skip
_NAME = re.compile(r"[a-z][a-z0-9_]*")


# ----------------------------------------------------------------- the skeleton

# category -> (parameter name, entity kind, help comment)
_ENTITY_BY_CATEGORY = {
    "host": ("host", "host", "host name, or the start of one"),
    "account": ("account", "account", "account name: bob, CONTOSO\\bob or bob@contoso.com"),
    "network": ("ip", "ip", "IP address to investigate"),
    "ip": ("ip", "ip", "IP address to investigate"),
    "url": ("url", "url", "URL to investigate"),
    "domain": ("domain", "domain", "domain name to investigate"),
}


# entity kind -> an example value for the skeleton's metadata (shown in help).
_EXAMPLES = {
    "host": "WKSTN-042",
    "account": "bob",
    "ip": "203.0.113.77",
    "url": "http://malicious.example/payload.ps1",
    "domain": "malicious.example",
}


def _cell(kind: str, source: str, tags: Iterable[str] = ()) -> nbformat.NotebookNode:
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    # Every cell gets a tags list, as Jupyter writes it; papermill expects one.
    cell.metadata["tags"] = list(tags)
    return cell


def build_notebook(
    metadata: dict[str, Any],
    parameters_source: str,
    sections: Iterable[tuple[str, str, list[str]]] = (),
    setup_source: str = "",
) -> nbformat.NotebookNode:
    """A template notebook from its parts: metadata, parameters cell, setup, sections.

    `sections` holds (id, heading text, [code cell sources]); each becomes a
    tagged markdown heading plus its tagged code cells.

    Example:
        >>> nb = build_notebook({"name": "t"}, 'host: str = ""  # host name')
        >>> nb.cells[1].metadata["tags"]
        ['parameters']
    """
    title = metadata.get("title", metadata.get("name", "Notebooklet"))
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata[META_KEY] = metadata
    nb.cells.append(_cell("markdown", f"# {title}\n\n{metadata.get('description', '')}"))
    nb.cells.append(_cell("code", parameters_source, ["parameters"]))
    if setup_source:
        nb.cells.append(_cell("code", setup_source))
    for sid, heading, codes in sections:
        nb.cells.append(_cell("markdown", heading, [SECTION_TAG + sid]))
        nb.cells.extend(_cell("code", code, [SECTION_TAG + sid]) for code in codes)
    return nb


def skeleton(name: str, category: str) -> nbformat.NotebookNode:
    """The notebook `nbcatalog new` writes: alerts that mention one entity.

    It follows the whole contract: the entity parameter is required (with an
    example), and the run ends ``no_data`` when no alert mentions the entity.

    Example:
        >>> skeleton("dns_hunt", "network").metadata["nbcatalog"]["entity_kinds"]
        {'ip': 'ip'}
    """
    param, kind, help_text = _ENTITY_BY_CATEGORY.get(
        category, ("entity", None, "text to look for in alerts")
    )
    title = name.replace("_", " ").title()
    metadata: dict[str, Any] = {
        "name": name,
        "title": title,
        "category": category,
        "description": f"Alerts in the time range that mention the {param} (edit this text).",
        "entity_types": [kind or category],
        "keywords": [category, "alerts"],
        "options": {
            "default": [],
            "other": ["details"],
            "descriptions": {"details": "alert counts by name"},
        },
        "tables": ["SecurityAlert"],
        "version": "0.1",
        "example": {},
        "results": {
            "alert_count": "how many alerts mention the entity",
            "alerts": "the alerts (DataFrame)",
            "alerts_by_name": "alert counts by name (DataFrame; with the details option)",
        },
    }
    if kind:
        metadata["entity_kinds"] = {param: kind}
        metadata["required"] = [param]  # missing: exit 2 before any kernel starts
        metadata["example"] = {param: _EXAMPLES.get(kind, "")}
    parameters = "\n".join(
        [
            f'{param}: str = ""  # {help_text}',
            'start: str = ""  # start of the time range, ISO-8601 (the runner fills it)',
            'end: str = ""  # end of the time range, ISO-8601 (the runner fills it)',
            'data_source: str = ""  # data source spec, e.g. duckdb:PATH (empty: the default)',
            "options: list = []  # extra parts to show: details",
        ]
    )
    setup = "\n".join(
        [
            "import pandas as pd",
            "from IPython.display import display",
            "",
            "from nbcatalog import nblib",
            "from nbcatalog.nblib.glue import glue  # keeps types; big frames go to sidecars",
            "",
            "inv = nblib.Investigation.open(data_source, start, end, options)",
        ]
    )
    summary = "\n".join(
        [
            'found = inv.query("SecurityAlert.list_alerts", title="Alerts")',
            "alerts = found.data",
            f"if {param} and not alerts.empty:",
            "    # Any column that mentions the entity; plain text match, not a regex.",
            "    text = alerts.astype(str)",
            "    mentions = text.apply(",
            f"        lambda col: col.str.contains({param}, case=False, regex=False)",
            "    ).any(axis=1)",
            "    alerts = alerts[mentions]",
            "# No alert mentions it: the run ends no_data, saying so, instead of a silent ok.",
            "inv.require(",
            "    nblib.Finding(found.title, alerts, found.notes),",
            f'    f"alerts that mention {{{param}}}" if {param} else "alerts",',
            f'    entity=("{kind or "entity"}", {param}) if {param} else None,',
            ")",
            'glue("alert_count", len(alerts))',
            'glue("alerts", alerts.reset_index(drop=True))',
            "display(alerts.head(20))",
        ]
    )
    details = "\n".join(
        [
            'if "details" in options and "AlertName" in alerts.columns:',
            '    by_name = alerts["AlertName"].value_counts().rename_axis("AlertName")',
            '    by_name = by_name.reset_index(name="Count")',
            "else:",
            '    by_name = pd.DataFrame({"AlertName": pd.Series(dtype=str), "Count": pd.Series(dtype=int)})',  # noqa: E501
            'glue("alerts_by_name", by_name)',
            "display(by_name)",
        ]
    )
    sections = [
        ("summary", f"## Alerts\n\nAlerts that mention the {param}.", [summary]),
        ("details", "## Alert counts\n\nShown with the `details` option.", [details]),
    ]
    return build_notebook(metadata, parameters, sections, setup)


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write `nb` to `path` atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            nbformat.write(nb, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def new_template(
    name: str, category: str, directory: str | os.PathLike | None = None, *, force: bool = False
) -> Path:
    """Write a template skeleton to ``<directory>/<category>/<name>.ipynb``.

    `directory` defaults to the first folder on NBCATALOG_PATH, else the current
    folder. An existing file is kept unless `force`.

    Example:
        >>> new_template("beacon_hunt", "network", "/tmp/nbl")   # doctest: +SKIP
        PosixPath('/tmp/nbl/network/beacon_hunt.ipynb')
    """
    from nbcatalog.catalog import ENV_PATH

    name = name.strip().replace("-", "_")
    category = category.strip().replace("-", "_")
    for what, value in (("name", name), ("category", category)):
        if not _NAME.fullmatch(value) or keyword.iskeyword(value):
            raise UsageError(
                f"template {what} {value!r}: use lower-case letters, digits and '_', "
                "starting with a letter (like host_summary)"
            )
    if directory is None:
        first = os.environ.get(ENV_PATH, "").split(os.pathsep)[0].strip()
        directory = first or "."
    path = Path(directory).expanduser() / category / f"{name}.ipynb"
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; choose another name or pass --force")
    write_notebook(skeleton(name, category), path)
    return path


# ---------------------------------------------------------------------- check


@dataclass(frozen=True)
class Problem:
    """One way a template breaks the contract."""

    path: Path
    cell: int | None
    message: str

    def __str__(self) -> str:
        where = f"cell {self.cell}: " if self.cell is not None else ""
        return f"{self.path}: {where}{self.message}"


def _check_metadata(meta: Any, path: Path) -> list[str]:
    if not isinstance(meta, dict):
        return [f"notebook metadata has no '{META_KEY}' table (name, title, category, ...)"]
    msgs = []
    for key, kind in REQUIRED_META.items():
        if key not in meta:
            msgs.append(f"metadata {META_KEY}.{key} is missing")
        elif not isinstance(meta[key], kind) or meta[key] in ("", None):
            msgs.append(f"metadata {META_KEY}.{key} has the wrong type or is empty")
    for key, kind in OPTIONAL_META.items():
        if key in meta and not isinstance(meta[key], kind):
            msgs.append(f"metadata {META_KEY}.{key} must be a {kind.__name__}")
    if isinstance(meta.get("drilldowns"), dict):
        from nbcatalog.drilldowns import check_drilldowns

        msgs += [f"metadata {META_KEY}.drilldowns: {m}" for m in check_drilldowns(meta)]
    unknown = set(meta) - set(REQUIRED_META) - set(OPTIONAL_META)
    if unknown:
        accepted = ", ".join(sorted({*REQUIRED_META, *OPTIONAL_META}))
        msgs.append(
            f"metadata {META_KEY} has unknown keys {sorted(unknown)} (accepted: {accepted})"
        )  # noqa: E501
    name = meta.get("name")
    if isinstance(name, str) and name and name != path.stem:
        msgs.append(f"metadata {META_KEY}.name {name!r} differs from the file name {path.stem!r}")
    if isinstance(name, str) and name and not _NAME.fullmatch(name.replace("-", "_")):
        msgs.append(f"metadata {META_KEY}.name {name!r}: use lower-case letters, digits and '_'")
    options = meta.get("options")
    if isinstance(options, dict):
        extra = set(options) - {"default", "other", "descriptions"}
        if extra:
            msgs.append(f"metadata options has unknown keys {sorted(extra)} "
                        "(accepted: default, other, descriptions)")  # fmt: skip
        for part in ("default", "other"):
            value = options.get(part, [])
            if not isinstance(value, list) or not all(isinstance(o, str) for o in value):
                msgs.append(f"metadata options.{part} must be a list of option names")
        both = set(options.get("default", []) or []) & set(options.get("other", []) or [])
        if both:
            msgs.append(f"metadata options {sorted(both)} are both default and other")
    return msgs


def _check_parameters(cell_source: str, meta: dict, index: int) -> tuple[list[str], list]:
    msgs: list[str] = []
    try:
        specs = parse_parameters_cell(cell_source, meta)
    except TemplateError as exc:
        return [str(exc)], []
    tree = ast.parse(cell_source)
    assigns = [n for n in tree.body if isinstance(n, ast.AnnAssign)]
    lines = {node.target.id: node.lineno for node in assigns}  # type: ignore[attr-defined]
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    for node in assigns:
        # The cell runs as written, so an unquoted `pd.DataFrame` needs its import first.
        root = node.annotation
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and isinstance(node.annotation, ast.Attribute):
            if root.id not in imported:
                msgs.append(f"parameter {node.target.id!r} (line {node.lineno}): annotation "  # type: ignore[attr-defined]
                            f"{ast.unparse(node.annotation)!r} is evaluated when the cell runs, "
                            f"and {root.id!r} is not imported there (import it above, e.g. "
                            "`import pandas as pd`, or quote the annotation)")  # fmt: skip
    for spec in specs:
        line = lines[spec.name]
        if not spec.help:
            msgs.append(f"parameter {spec.name!r} (line {line}) has no help comment "
                        f'(write `{spec.name}: {spec.type} = ...  # what it is`)')  # fmt: skip
        if spec.type not in KNOWN_TYPES:
            msgs.append(f"parameter {spec.name!r} (line {line}) has an annotation nbcatalog "
                        f"cannot check (use one of {', '.join(sorted(KNOWN_TYPES))})")  # fmt: skip
        if spec.name in RESERVED_NAMES:
            msgs.append(f"parameter {spec.name!r} clashes with an option of `nbcatalog run`; "
                        "rename it")  # fmt: skip
    names = {s.name: s for s in specs}
    for std in STANDARD_PARAMS:
        if std not in names:
            msgs.append(f'standard parameter {std!r} is missing (add `{std}: str = ""  # ...`)')
        elif names[std].type != "str":
            msgs.append(f"standard parameter {std!r} must be annotated str")
    options = meta.get("options") if isinstance(meta.get("options"), dict) else None
    if options and (options.get("default") or options.get("other")):
        if "options" not in names:
            msgs.append("metadata declares options but the cell has no "
                        "`options: list = [...]  # ...`")  # fmt: skip
        elif names["options"].type != "list":
            msgs.append("parameter 'options' must be annotated list")
        elif list(names["options"].default or []) != list(options.get("default", [])):
            msgs.append(f"options default {names['options'].default!r} differs from metadata "
                        f"options.default {options.get('default', [])!r}")  # fmt: skip
    for field in ("entity_kinds", "example", "pickers"):
        mapping = meta.get(field) if isinstance(meta.get(field), dict) else {}
        for pname in mapping:
            if pname not in names:
                msgs.append(f"metadata {field} names {pname!r}, which is not a parameter")
    kinds = meta.get("entity_kinds") if isinstance(meta.get("entity_kinds"), dict) else {}
    for pname, kind in kinds.items():
        if kind not in ENTITY_KIND_NAMES:
            msgs.append(f"metadata entity_kinds[{pname!r}] = {kind!r}: accepted kinds are "
                        f"{', '.join(ENTITY_KIND_NAMES)}")  # fmt: skip
    listed = meta.get("secrets") if isinstance(meta.get("secrets"), list) else []
    for pname in listed:
        if pname not in names:
            msgs.append(f"metadata secrets names {pname!r}, which is not a parameter")
    required = meta.get("required") if isinstance(meta.get("required"), list) else []
    for entry in required:
        # A name, or a list of alternatives of which one must be given.
        group = entry if isinstance(entry, list) else [entry]
        if not group or not all(isinstance(n, str) and n for n in group):
            msgs.append(
                f"metadata required entry {entry!r}: give a parameter name or a list of "
                'names one of which is needed: "host" or ["host", "data"]'
            )
            continue
        for pname in group:
            if pname not in names:
                msgs.append(f"metadata required names {pname!r}, which is not a parameter")
    return msgs, specs


def check_template(path: str | os.PathLike) -> list[Problem]:
    """Every way the notebook at `path` breaks the template contract (empty: all good).

    Example:
        >>> [str(p) for p in check_template("bad.ipynb")]     # doctest: +SKIP
        ['bad.ipynb: cell 1: the first code cell must be tagged parameters']
    """
    path = Path(path)
    problems: list[Problem] = []

    def add(cell: int | None, message: str) -> None:
        problems.append(Problem(path, cell, message))

    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception as exc:  # nbformat raises several types for bad JSON
        add(None, f"not a readable notebook: {exc}")
        return problems
    meta = nb.metadata.get(META_KEY)
    for msg in _check_metadata(meta, path):
        add(None, msg)
    meta = meta if isinstance(meta, dict) else {}

    code_indexes = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if not code_indexes:
        add(None, "the notebook has no code cells; the first must be the parameters cell")
    else:
        first = code_indexes[0]
        if first not in tagged:
            add(first, "the first code cell must be tagged 'parameters' and hold the parameters")
        else:
            msgs, _ = _check_parameters(nb.cells[first].source, meta, first)
            for msg in msgs:
                add(first, msg)
        for index in tagged:
            if index != first:
                add(index, "only the first code cell may be tagged 'parameters'")

    # Sections: each starts with a markdown heading cell, and its cells are adjacent.
    seen: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        tags = [t for t in cell.metadata.get("tags", []) if t.startswith(SECTION_TAG)]
        if len(tags) > 1:
            add(index, f"a cell belongs to one section only; it has tags {tags}")
        for tag in tags:
            sid = tag[len(SECTION_TAG) :]
            if not re.fullmatch(r"[A-Za-z][\w-]*", sid):
                add(index, f"section id {sid!r}: use letters, digits, '_' or '-'")
            if sid not in seen:
                is_heading = cell.cell_type == "markdown" and any(
                    ln.lstrip().startswith("#") for ln in cell.source.splitlines()
                )
                if not is_heading:
                    add(index, f"section {sid!r} must start with a markdown heading cell "
                               f"(like '## {sid.title()}') tagged {tag!r}")  # fmt: skip
            elif seen[sid][-1] != index - 1:
                add(index, f"section {sid!r} continues after other cells (its cells "
                           f"{seen[sid]} and {index} are not adjacent)")  # fmt: skip
            seen.setdefault(sid, []).append(index)

    # Glue names: one cell per name, so each result has one meaning.
    glued_at: dict[str, int] = {}
    for index in code_indexes:
        names = GLUE_CALL.findall(nb.cells[index].source)
        for name in names:
            if name in glued_at:
                where = "this cell" if glued_at[name] == index else f"cell {glued_at[name]}"
                add(index, f"glue name {name!r} is already used in {where}; names must be unique")
            else:
                glued_at[name] = index
    pickers = meta.get("pickers") if isinstance(meta.get("pickers"), dict) else {}
    for pname, picker in pickers.items():
        result = picker.get("result") if isinstance(picker, dict) else None
        if result is not None and result not in glued_at:
            add(None, f"metadata pickers[{pname!r}] reads result {result!r}, which no cell glues")
    described = meta.get("results") if isinstance(meta.get("results"), dict) else {}
    for name in described:
        if name not in glued_at:
            add(None, f"metadata results names {name!r}, which no cell glues")
    return problems


# A template states its data state (nblib.outcome) through its Investigation.
OUTCOME_CALL = re.compile(r"\.require(?:_entity)?\(")


def declares_outcome(nb: nbformat.NotebookNode) -> bool:
    """True when a code cell calls ``inv.require_entity(...)`` or ``inv.require(...)``.

    Example:
        >>> declares_outcome(skeleton("probe", "host"))
        True
    """
    return any(c.cell_type == "code" and OUTCOME_CALL.search(c.source) for c in nb.cells)


def check_warnings(path: str | os.PathLike) -> list[Problem]:
    """What a template may do but should not: today, never saying when it found nothing.

    A template that never calls ``inv.require_entity`` / ``inv.require`` always ends
    ``ok``, even when its entity matched nothing: a scheduled report of a mistyped
    host would stay green. Built-in templates must declare it (a test checks).

    Example:
        >>> [str(w) for w in check_warnings("my_hunt.ipynb")]      # doctest: +SKIP
        ['my_hunt.ipynb: never states whether it found its data: call inv.require(...)']
    """
    path = Path(path)
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception:  # unreadable: check_template reports it
        return []
    if declares_outcome(nb):
        return []
    return [
        Problem(
            path,
            None,
            "never states whether it found its data, so a run whose entity matched "
            "nothing ends ok: call inv.require_entity(found) and/or inv.require(finding, "
            '"what it is about") (see docs/authoring.md, "No silent empties")',
        )
    ]


def check_paths(
    paths: Iterable[str | os.PathLike], warnings: list[Problem] | None = None
) -> tuple[list[Path], list[Problem]]:
    """Check notebooks and folders of notebooks; returns (checked files, problems).

    Given a `warnings` list, `check_warnings` of each file is appended to it.

    Example:
        >>> files, problems = check_paths(["templates"])      # doctest: +SKIP
    """
    files: list[Path] = []
    problems: list[Problem] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(path, None, "no such file or folder"))
    for file in files:
        problems.extend(check_template(file))
        if warnings is not None:
            warnings.extend(check_warnings(file))
    return files, problems
