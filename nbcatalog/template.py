"""What a template notebook declares: metadata, parameters and sections.

This module only reads a template; finding templates is `catalog.py`, checking
values is `parameters.py`, running them is `execution.py`.

The contract (see docs/authoring.md):

- notebook metadata key ``nbcatalog``: name, title, category, description,
  entity_types, keywords, options {"default": [...], "other": [...],
  "descriptions": {option: text}}, tables, version, and optionally ``secrets``
  (parameter names), ``entity_kinds`` (parameter name -> host | ip | account |
  url | domain), ``required`` (parameters that must be given: a name, or a
  list of names of which at least one must be given, e.g. ``[["host", "data"]]``) and
  ``example`` (parameter name -> value, used for example calls in help) and
  ``results`` (glue name -> description, shown in help).
- the first code cell is tagged ``parameters`` and holds annotated assignments
  with a help comment: ``host: str = ""  # host name, or the start of one``.
- sections: a markdown heading cell plus the code cells under it, all tagged
  ``section:<id>``.

Example:
    >>> from nbcatalog.template import load_template
    >>> t = load_template("templates/host/host_summary.ipynb")   # doctest: +SKIP
    >>> [p.name for p in t.parameters][:2]                         # doctest: +SKIP
    ['host', 'start']
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

META_KEY = "nbcatalog"
SECTION_TAG = "section:"


class TemplateError(ValueError):
    """A template notebook that breaks the contract; the message names the cell."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a template, read from its parameters cell."""

    name: str
    type: str  # "str", "int", "float", "bool", "list", "dict", "DataFrame" or "Any"
    default: Any
    help: str = ""
    secret: bool = False
    entity_kind: str | None = None  # host, ip, account, url


@dataclass(frozen=True)
class Section:
    """A titled part of a template whose outputs can be shown on their own."""

    id: str
    title: str
    cell_indexes: tuple[int, ...]


@dataclass(frozen=True)
class Template:
    """A parsed template notebook."""

    name: str
    path: Path
    metadata: dict[str, Any]
    parameters: tuple[ParamSpec, ...]
    sections: tuple[Section, ...]
    content_hash: str
    origin: str = "built-in"  # built-in, user folder path, or entry point name
    glue_names: tuple[str, ...] = field(default=())
    shadows: tuple[str, ...] = field(default=())  # origins of same-name templates it hides

    @property
    def title(self) -> str:
        return self.metadata.get("title", self.name)

    @property
    def category(self) -> str:
        return self.metadata.get("category", "")

    @property
    def description(self) -> str:
        return self.metadata.get("description", "")

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "0"))

    @property
    def entity_types(self) -> list[str]:
        return [str(e) for e in self.metadata.get("entity_types", [])]

    @property
    def keywords(self) -> list[str]:
        return [str(k) for k in self.metadata.get("keywords", [])]

    @property
    def required_groups(self) -> list[tuple[str, ...]]:
        """What must be given: each group names parameters of which one at least is needed.

        Metadata ``"required": ["ip", ["host", "data"]]`` means ip, and host or data.
        """
        groups = []
        for entry in self.metadata.get("required", []):
            names = entry if isinstance(entry, (list, tuple)) else [entry]
            group = tuple(dict.fromkeys(str(n) for n in names if str(n)))
            if group:
                groups.append(group)
        return groups

    @property
    def required(self) -> list[str]:
        """Parameters that must be given on their own (not one of several alternatives)."""
        return [group[0] for group in self.required_groups if len(group) == 1]

    @property
    def example(self) -> dict[str, Any]:
        return dict(self.metadata.get("example", {}))

    @property
    def option_descriptions(self) -> dict[str, str]:
        """Option name -> description, for every option (empty text when undescribed)."""
        described = self.metadata.get("options", {}).get("descriptions", {})
        return {o: str(described.get(o, "")) for o in self.all_options}

    @property
    def results(self) -> dict[str, str]:
        """Result (glue) name -> description, glued names first, in cell order."""
        described = self.metadata.get("results", {})
        names = list(self.glue_names) + [n for n in described if n not in self.glue_names]
        return {n: str(described.get(n, "")) for n in names}

    @property
    def has_options(self) -> bool:
        return bool(self.all_options) or any(p.name == "options" for p in self.parameters)

    def _cell_options(self) -> list[str]:
        # Without metadata options, the options cell's own default is the whole list.
        spec = next((p for p in self.parameters if p.name == "options"), None)
        default = spec.default if spec is not None else None
        return [str(o) for o in default] if isinstance(default, list) else []

    @property
    def default_options(self) -> list[str]:
        if not self.metadata.get("options"):
            return self._cell_options()
        return list(self.metadata.get("options", {}).get("default", []))

    @property
    def all_options(self) -> list[str]:
        if not self.metadata.get("options"):
            return self._cell_options()
        opts = self.metadata.get("options", {})
        return list(opts.get("default", [])) + list(opts.get("other", []))

    def parameter(self, name: str) -> ParamSpec:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)


SECRET_NAME = re.compile(r"password|secret|token|key", re.IGNORECASE)

_TYPE_NAMES = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "list": "list",
    "List": "list",
    "tuple": "list",
    "dict": "dict",
    "Dict": "dict",
    "DataFrame": "DataFrame",
    "pd.DataFrame": "DataFrame",
    "pandas.DataFrame": "DataFrame",
}


def normalize_name(name: str) -> str:
    """The canonical spelling of a template name: `Host-Summary` -> `host_summary`."""
    return name.strip().lower().replace("-", "_")


def _annotation_name(node: ast.expr) -> str:
    # `X | None` and `Optional[X]` are X; `list[str]` is list; unknown names are Any.
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _annotation_name(node.left), _annotation_name(node.right)
        return left if left != "Any" else right
    if isinstance(node, ast.Subscript):
        outer = ast.unparse(node.value)
        if outer in ("Optional", "typing.Optional"):
            return _annotation_name(node.slice)
        node = node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _TYPE_NAMES.get(node.value, "Any")
    text = ast.unparse(node)
    return _TYPE_NAMES.get(text, "Any")


def _help_comments(source: str) -> dict[int, str]:
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            # A trailing linter directive (noqa, e.g. on a quoted annotation) is not help.
            text = re.sub(r"\s*#\s*noqa\b.*$", "", tok.string, flags=re.IGNORECASE)
            comments[tok.start[0]] = text.lstrip("#").strip()
    return comments


def parse_parameters_cell(source: str, metadata: dict[str, Any]) -> tuple[ParamSpec, ...]:
    """Read annotated assignments (and their help comments) from a parameters cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise TemplateError(f"parameters cell does not parse: {exc}") from exc
    comments = _help_comments(source)
    secrets = set(metadata.get("secrets", []))
    kinds = dict(metadata.get("entity_kinds", {}))
    specs = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue  # e.g. `import pandas as pd` for a `data: pd.DataFrame = None` annotation
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            raise TemplateError(
                f"parameters cell line {node.lineno}: only annotated assignments "
                'like `host: str = ""  # help` (and the imports their annotations need) '
                "belong here"
            )
        name = node.target.id
        try:
            default = ast.literal_eval(node.value) if node.value is not None else None
        except ValueError as exc:
            raise TemplateError(
                f"parameters cell line {node.lineno}: default of {name!r} must be a literal"
            ) from exc
        specs.append(
            ParamSpec(
                name=name,
                type=_annotation_name(node.annotation),
                default=default,
                help=comments.get(node.lineno, ""),
                secret=name in secrets or bool(SECRET_NAME.search(name)),
                entity_kind=kinds.get(name),
            )
        )
    return tuple(specs)


def _sections(nb: Any) -> tuple[Section, ...]:
    order: list[str] = []
    cells: dict[str, list[int]] = {}
    titles: dict[str, str] = {}
    for index, cell in enumerate(nb.cells):
        for tag in cell.get("metadata", {}).get("tags", []):
            if not tag.startswith(SECTION_TAG):
                continue
            sid = tag[len(SECTION_TAG) :]
            if sid not in cells:
                order.append(sid)
                cells[sid] = []
            cells[sid].append(index)
            if cell.cell_type == "markdown" and sid not in titles:
                heading = next(
                    (ln for ln in cell.source.splitlines() if ln.lstrip().startswith("#")), ""
                )
                titles[sid] = heading.lstrip("#").strip()
    return tuple(Section(s, titles.get(s, s), tuple(cells[s])) for s in order)


class _Cell(SimpleNamespace):
    """A notebook cell read as plain JSON: `cell.source` and `cell.get("metadata")` work."""

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


def _read_notebook(text: str) -> Any:
    """The notebook's metadata and cells, without importing nbformat for nbformat 4 files.

    Listing the catalogue reads every template; nbformat (and its JSON schema) costs
    ~0.4 s to import, which `nbcatalog list` and `show` should not pay. Older formats
    still go through nbformat's converter.
    """
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        import nbformat

        return nbformat.reads(text, as_version=4)
    cells = []
    for raw in data.get("cells") or []:
        if not isinstance(raw, dict) or "cell_type" not in raw:
            raise ValueError("a cell without cell_type")
        source = raw.get("source", "")
        cells.append(
            _Cell(
                cell_type=raw["cell_type"],
                source="".join(source) if isinstance(source, list) else str(source),
                metadata=raw.get("metadata") or {},
            )
        )
    return SimpleNamespace(metadata=data.get("metadata") or {}, cells=cells)


GLUE_CALL = re.compile(r"""\bglue\(\s*["']([A-Za-z_][\w]*)["']""")


def load_template(path: str | Path, origin: str = "built-in") -> Template:
    """Parse the template notebook at `path`; TemplateError says what is wrong."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        nb = _read_notebook(raw.decode("utf-8"))
    except Exception as exc:  # nbformat raises several types for bad JSON
        raise TemplateError(f"{path}: not a readable notebook: {exc}") from exc
    meta = dict(nb.metadata.get(META_KEY, {}))
    if not meta.get("name"):
        raise TemplateError(f"{path}: notebook metadata has no {META_KEY}.name")
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if not code_cells or "parameters" not in code_cells[0].get("metadata", {}).get("tags", []):
        raise TemplateError(f"{path}: the first code cell must be tagged 'parameters'")
    params = parse_parameters_cell(code_cells[0].source, meta)
    glue_names = tuple(dict.fromkeys(m for c in code_cells for m in GLUE_CALL.findall(c.source)))
    return Template(
        name=meta["name"],
        path=path,
        metadata=meta,
        parameters=params,
        sections=_sections(nb),
        content_hash=hashlib.sha256(raw).hexdigest(),
        origin=origin,
        glue_names=glue_names,
    )
