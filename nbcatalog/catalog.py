"""Finding templates: built-in ones, user folders and other installed packages.

Where templates come from, highest priority first (a template of the same name
further down the list is hidden, and the winner records what it hides):

1. folders added with `add_path(dir)` in this session (the latest first),
2. folders on ``NBCATALOG_PATH`` (an ``os.pathsep`` list), in order,
3. installed packages that declare an entry point in the group
   ``nbcatalog.templates``; its value names a package (``mypkg.notebooklets``),
   a folder inside one (``mypkg:notebooklets``) or an absolute folder path,
4. the built-in catalogue (package ``nbcatalog.templates``).

A folder holds ``<category>/<name>.ipynb`` files (or ``<name>.ipynb`` directly).
Names work in both spellings: ``host_summary`` and ``host-summary``.

Example:
    >>> import nbcatalog
    >>> [t.name for t in nbcatalog.catalog()]                  # doctest: +SKIP
    ['account_summary', 'host_summary']
    >>> nbcatalog.find("logon linux")[0].name                  # doctest: +SKIP
    'account_summary'
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from nbcatalog.errors import UnknownTemplateError, UsageError
from nbcatalog.template import Template, TemplateError, load_template, normalize_name

ENV_PATH = "NBCATALOG_PATH"
ENTRY_POINT_GROUP = "nbcatalog.templates"
BUILT_IN = "built-in"

_added_paths: list[Path] = []
# (path, mtime_ns, size, origin) -> parsed template, so repeated listing stays cheap
_parsed: dict[tuple[str, int, int, str], Template] = {}


@dataclass(frozen=True)
class TemplateSource:
    """A folder of templates and where it comes from ("built-in", "user: DIR", ...)."""

    origin: str
    root: Path
    error: str | None = None  # why the folder could not be found (a broken plug-in)


@dataclass(frozen=True)
class CatalogProblem:
    """A notebook in a template folder that could not be read as a template."""

    path: Path
    message: str


def add_path(directory: str | os.PathLike) -> Path:
    """Add a folder of templates for this session; its templates win over built-in ones.

    Example:
        >>> import nbcatalog
        >>> nbcatalog.add_path("~/notebooklets")    # doctest: +SKIP
        PosixPath('/home/me/notebooklets')
    """
    path = Path(directory).expanduser().absolute()
    if not path.is_dir():
        raise UsageError(f"add_path: {path} is not a folder")
    if path in _added_paths:
        _added_paths.remove(path)
    _added_paths.insert(0, path)
    return path


def remove_path(directory: str | os.PathLike) -> None:
    """Forget a folder added with `add_path` (no error when it was not added)."""
    path = Path(directory).expanduser().absolute()
    if path in _added_paths:
        _added_paths.remove(path)


# The entry-point scan reads every installed distribution's metadata (about 5 ms, on
# every run and listing, plus 20-40 ms in a new process for importing
# importlib.metadata and the first scan): kept per process, and on disk for the next
# process (`_disk_cache_path`), keyed by the import path and the modification times
# of its folders. Installing or removing a package adds or removes a folder
# (``*.dist-info``, a ``.pth`` file) in site-packages, which changes that folder's
# mtime, so the next look-up scans again; `refresh` forces it (e.g. after editing an
# ``entry_points.txt`` in place, which changes no folder). A scan that met a broken
# plug-in is not written to disk: the next process tries it again.
_ep_cache: tuple[tuple[Any, ...], list[TemplateSource]] | None = None


def _import_path_key() -> tuple[Any, ...]:
    key: list[Any] = []
    for entry in sys.path:
        folder = entry or os.getcwd()  # "" is the working directory
        try:
            key.append((folder, os.stat(folder).st_mtime_ns))
        except OSError:
            key.append((folder, None))
    return tuple(key)


def _disk_cache_path() -> Path:
    """This interpreter's entry-point cache file, in the user's cache folder."""
    import hashlib

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = hashlib.sha256(sys.executable.encode("utf-8", "replace")).hexdigest()[:16]
    return Path(base) / "nbcatalog" / f"entry-points-{digest}.json"


def _read_disk_cache(key: tuple[Any, ...]) -> list[TemplateSource] | None:
    try:
        data = json.loads(_disk_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    # A file anyone with access to the cache folder could have edited: exact shape only.
    if not isinstance(data, dict) or data.get("key") != json.loads(json.dumps(key)):
        return None
    rows = data.get("sources")
    if not isinstance(rows, list):
        return None
    sources = []
    for row in rows:
        if not (
            isinstance(row, dict)
            and isinstance(row.get("origin"), str)
            and isinstance(row.get("root"), str)
        ):
            return None
        sources.append(TemplateSource(row["origin"], Path(row["root"])))
    return sources


def _write_disk_cache(key: tuple[Any, ...], sources: list[TemplateSource]) -> None:
    import tempfile

    path = _disk_cache_path()
    rows = [{"origin": s.origin, "root": str(s.root)} for s in sources]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".entry-points.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"key": key, "sources": rows}, handle)
        os.replace(tmp, path)  # readers see the old file or the new one, never half
    except OSError:
        pass  # no cache folder (read-only home): the next process scans again


def refresh() -> None:
    """Forget the cached scan of installed packages' entry points; the next look-up rescans.

    Installing or removing a plug-in package is noticed without it (site-packages'
    modification time changes); call it after changing a package's entry points in place.
    It also removes this interpreter's cache file, so other processes rescan too.

    Example:
        >>> refresh()
    """
    global _ep_cache
    _ep_cache = None
    try:
        _disk_cache_path().unlink(missing_ok=True)
    except OSError:
        pass


def _entry_point_sources() -> list[TemplateSource]:
    global _ep_cache
    key = _import_path_key()
    if _ep_cache is not None and _ep_cache[0] == key:
        return list(_ep_cache[1])
    sources = _read_disk_cache(key)
    if sources is None:
        sources = _scan_entry_points()
        if not any(s.error for s in sources):
            _write_disk_cache(key, sources)
    _ep_cache = (key, sources)
    return list(sources)


def _scan_entry_points() -> list[TemplateSource]:
    from importlib import metadata as importlib_metadata  # 20 ms to import: only to scan

    sources = []
    eps = sorted(importlib_metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    for ep in eps:
        dist = getattr(ep, "dist", None)
        label = f"package: {dist.name}" if dist is not None else f"package: {ep.name}"
        value = ep.value.strip()
        try:
            if os.path.isabs(value):
                root = Path(value)
            else:
                package, _, sub = value.partition(":")
                root = Path(str(resources.files(package.strip())))
                if sub.strip():
                    root = root / sub.strip()
        except (ImportError, TypeError, ValueError) as exc:
            # A broken plug-in must not hide the rest of the catalogue; it is
            # reported by catalog_problems() instead.
            error = f"entry point {ep.name!r} = {value!r}: cannot import it: {exc}"
            sources.append(TemplateSource(label, Path(value), error))
            continue
        sources.append(TemplateSource(label, root))
    return sources


def template_sources() -> list[TemplateSource]:
    """Every folder searched for templates, highest priority first.

    Example:
        >>> template_sources()[-1].origin
        'built-in'
    """
    sources = [TemplateSource(f"user: {p}", p) for p in _added_paths]
    for entry in os.environ.get(ENV_PATH, "").split(os.pathsep):
        if entry.strip():
            path = Path(entry.strip()).expanduser().absolute()
            sources.append(TemplateSource(f"user: {path}", path))
    sources.extend(_entry_point_sources())
    sources.append(TemplateSource(BUILT_IN, Path(str(resources.files("nbcatalog.templates")))))
    return sources


def _notebooks(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    candidates = list(root.glob("*.ipynb")) + list(root.glob("*/*.ipynb"))
    for path in sorted(candidates):
        if not any(part.startswith(".") for part in path.relative_to(root).parts):
            yield path


def _load(path: Path, origin: str) -> Template:
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, origin)
    if key not in _parsed:
        _parsed[key] = load_template(path, origin=origin)
    return _parsed[key]


def _scan() -> tuple[dict[str, Template], list[CatalogProblem]]:
    found: dict[str, Template] = {}
    problems: list[CatalogProblem] = []
    for source in template_sources():
        if source.error:
            problems.append(CatalogProblem(source.root, f"{source.origin}: {source.error}"))
            continue
        if source.origin != BUILT_IN and not source.root.is_dir():
            problems.append(CatalogProblem(source.root, f"{source.origin}: not a folder"))
            continue
        for path in _notebooks(source.root):
            try:
                template = _load(path, source.origin)
            except (TemplateError, OSError) as exc:
                problems.append(CatalogProblem(path, str(exc)))
                continue
            key = normalize_name(template.name)
            if key in found:
                winner = found[key]
                found[key] = replace(winner, shadows=(*winner.shadows, source.origin))
            else:
                found[key] = template
    return found, problems


def catalog() -> list[Template]:
    """Every template, one per name (the highest-priority one), sorted by category and name.

    Example:
        >>> import nbcatalog
        >>> {t.category for t in nbcatalog.catalog()} >= {"host"}   # doctest: +SKIP
        True
    """
    found, _ = _scan()
    return sorted(found.values(), key=lambda t: (t.category, t.name))


def catalog_problems() -> list[CatalogProblem]:
    """Notebooks in template folders that are not valid templates (and unreadable folders)."""
    return _scan()[1]


def get_template(name: str) -> Template:
    """The template called `name` (``host_summary`` or ``host-summary``), or a path to one.

    Raises UnknownTemplateError naming the closest names.

    Example:
        >>> get_template("host-summary").name      # doctest: +SKIP
        'host_summary'
    """
    if not isinstance(name, str) or not name.strip():
        raise UnknownTemplateError(f"template name must be non-empty text, not {name!r}")
    if name.endswith(".ipynb"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise UnknownTemplateError(f"no template file {path}")
        try:
            return load_template(path, origin=f"file: {path.absolute()}")
        except TemplateError as exc:
            raise UsageError(f"template file {path} is not a valid template: {exc}") from exc
    found, problems = _scan()
    key = normalize_name(name)
    if key in found:
        return found[key]
    for problem in problems:
        if normalize_name(problem.path.stem) == key:
            raise UnknownTemplateError(
                f"template {name!r} at {problem.path} is broken: {problem.message}"
            )
    import difflib  # only for this message: 5 ms of every CLI start otherwise

    close = difflib.get_close_matches(key, list(found), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    listed = ", ".join(sorted(found)) or "none found"
    raise UnknownTemplateError(f"no template named {name!r}{hint} (available: {listed})")


# ------------------------------------------------------------------------ find

# Where a search word matched, and how much that counts.
_FIELD_WEIGHTS = (
    ("name", 6),
    ("title", 4),
    ("keywords", 3),
    ("entity_types", 3),
    ("category", 3),
    ("description", 1),
)


def _fields(template: Template) -> dict[str, str]:
    return {
        "name": template.name.replace("_", " "),
        "title": template.title,
        "keywords": " ".join(template.keywords),
        "entity_types": " ".join(template.entity_types),
        "category": template.category,
        "description": template.description,
    }


# Words too common to say anything about what a template does.
_STOP_WORDS = {"a", "an", "and", "at", "by", "for", "in", "is", "of", "on", "or", "the", "to"}


def _matches(word: str, text: str) -> bool:
    tokens = re.findall(r"\w+", text.lower())
    if len(word) <= 2:  # "ip" must not match "ipsum" or "zip"
        return word in tokens
    # "logons" finds "logon" and "logon" finds "logons": compare word stems.
    stems = {word, word[:-1] if len(word) > 3 and word.endswith("s") else word}
    return any(
        tok.startswith(stem) or (len(tok) > 3 and stem.startswith(tok))
        for stem in stems
        for tok in tokens
    )


class TemplateList(list):
    """Templates as `find` returns them: a list that shows as a short table.

    One row per template (name, category, entities, title): in a notebook an HTML
    table, in a terminal aligned text; every value escaped.

    Example:
        >>> TemplateList([])
        (no notebooklets)
    """

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(name, category, entities, title) per template."""
        return [(t.name, t.category, ", ".join(t.entity_types), t.title) for t in self]

    def __repr__(self) -> str:
        rows = self.rows()
        if not rows:
            return "(no notebooklets)"
        head = ("name", "category", "entities", "title")
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
        return "\n".join(
            "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in [head, *rows]
        )

    def _repr_html_(self) -> str:
        import html

        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in self.rows()
        )
        return (
            '<table class="nbcatalog-find"><thead><tr><th>name</th><th>category</th>'
            f"<th>entities</th><th>title</th></tr></thead><tbody>{body}</tbody></table>"
            "<p><small><code>nbcatalog.run(name, ...)</code> runs one; "
            "<code>nbcatalog.show_help(name)</code> describes it.</small></p>"
        )


def find(text: str) -> list[Template]:
    """Templates matching any word of `text`, best first.

    Searches names, titles, keywords, entity types, categories and descriptions;
    ranks by how many words matched, then by where they matched.

    Example:
        >>> [t.name for t in find("logon linux")]   # doctest: +SKIP
        ['account_summary', 'host_summary']
    """
    words = [w for w in re.findall(r"\w+", text.lower()) if w not in _STOP_WORDS]
    if not words:
        return TemplateList(catalog())
    ranked = []
    for template in catalog():
        fields = _fields(template)
        hit_words, score = 0, 0
        for word in words:
            weights = [w for field, w in _FIELD_WEIGHTS if _matches(word, fields[field])]
            if weights:
                hit_words += 1
                score += sum(weights)
        if hit_words:
            ranked.append((-hit_words, -score, template.name, template))
    return TemplateList(entry[-1] for entry in sorted(ranked, key=lambda e: e[:3]))


# ------------------------------------------------------------------------ help


def _example_value(template: Template, name: str) -> Any:
    placeholders = {
        "host": "WKSTN-042",
        "ip": "203.0.113.77",
        "account": "bob",
        "url": "http://example.com/",
        "domain": "example.com",
    }
    if name in template.example:
        return template.example[name]
    spec = template.parameter(name)
    if spec.default not in (None, "", [], {}):
        return spec.default
    return placeholders.get(spec.entity_kind or "", f"<{name}>")


def _example_names(template: Template) -> list[str]:
    names = [n for n in template.example if any(p.name == n for p in template.parameters)]
    for p in template.parameters:
        if (p.name in template.required or p.entity_kind) and p.name not in names:
            names.append(p.name)
    return names


def example_call(template: Template) -> str:
    """A Python call that runs `template`, with example values for its key parameters.

    Example:
        >>> example_call(get_template("host_summary"))       # doctest: +SKIP
        'nbcatalog.run("host_summary", host="WKSTN-042", last="7d")'
    """
    # JSON text of a string, number, bool or list is also valid Python (bar true/false).
    args = [json.dumps(template.name)]
    for name in _example_names(template):
        value = _example_value(template, name)
        text = repr(value) if isinstance(value, bool) or value is None else json.dumps(value)
        args.append(f"{name}={text}")
    args.append('last="7d"')
    return f"nbcatalog.run({', '.join(args)})"


def example_command(template: Template) -> str:
    """The same run as a shell command.

    Example:
        >>> example_command(get_template("host_summary"))    # doctest: +SKIP
        'nbcatalog run host-summary --host WKSTN-042 --last 7d'
    """
    import shlex

    parts = ["nbcatalog", "run", template.name.replace("_", "-")]
    for name in _example_names(template):
        value = _example_value(template, name)
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        parts += [f"--{name.replace('_', '-')}", shlex.quote(text)]
    return " ".join(parts + ["--last", "7d"])


def _param_rows(template: Template) -> list[tuple[str, str, str, str]]:
    rows = []
    for p in template.parameters:
        notes = []
        if p.entity_kind:
            notes.append(f"{p.entity_kind} entity")
        if p.name in template.required:
            notes.append("required")
        if p.secret:
            notes.append("secret, redacted in saved output")
        help_text = p.help + (f" [{'; '.join(notes)}]" if notes else "")
        default = "<redacted>" if p.secret and p.default else repr(p.default)
        rows.append((p.name, p.type, default, help_text))
    rows.append(("last", "str", "None", "instead of start: a span back from end, like 24h or 7d"))
    return rows


def help_text(template: Template) -> str:
    """Plain-text help for a template (what `nbcatalog show NAME` prints).

    Example:
        >>> print(help_text(get_template("host_summary")))    # doctest: +SKIP
    """
    out = [f"{template.title}  ({template.name})", "=" * 60]
    out.append(f"category: {template.category or '-'}    version: {template.version}")
    out.append(f"from: {template.origin}  ({template.path})")
    if template.shadows:
        out.append(f"overrides: {', '.join(template.shadows)}")
    if template.entity_types:
        out.append(f"entities: {', '.join(template.entity_types)}")
    if template.description:
        out += ["", template.description]
    out += ["", "Parameters:"]
    for name, kind, default, text in _param_rows(template):
        out.append(f"  {name} ({kind}, default {default})")
        if text:
            out.append(f"      {text}")
    if template.all_options:
        out += ["", "Options (options=['+name', '-name'] changes the defaults):"]
        for option, desc in template.option_descriptions.items():
            mark = "*" if option in template.default_options else " "
            out.append(f"  {mark} {option}" + (f": {desc}" if desc else ""))
        out.append("  (* = on by default)")
    if template.sections:
        out += ["", "Sections:"]
        out += [f"  {s.id}: {s.title}" for s in template.sections]
    if template.results:
        out += ["", "Results (res.NAME):"]
        out += [f"  {n}" + (f": {d}" if d else "") for n, d in template.results.items()]
    if template.metadata.get("drilldowns"):
        from nbcatalog.drilldowns import help_lines

        out += ["", "Drill-downs (res.NAME(...) or res.drilldown(NAME, ...)):"]
        out += [f"  {line}" for line in help_lines(template.metadata)]
    out += ["", "Example:", f"  {example_call(template)}", f"  {example_command(template)}"]
    return "\n".join(out)


SHOW_FORMAT = 1  # bumped when a field of `describe` changes meaning or goes away


def _parameter_entry(template: Template, spec: Any, groups: list[tuple[str, ...]]) -> dict:
    choices: list[Any] | None = None
    if spec.name == "options" and template.all_options:
        choices = list(template.all_options)
    elif spec.type == "bool":
        choices = [True, False]
    required_with = [list(g) for g in groups if spec.name in g and len(g) > 1]
    return {
        "name": spec.name,
        "type": spec.type,
        "default": "<redacted>" if spec.secret and spec.default else spec.default,
        "required": any(g == (spec.name,) for g in groups),
        # Either-or groups: at least one of the names listed must be given.
        "one_of": required_with[0] if required_with else None,
        "choices": choices,
        "secret": spec.secret,
        "entity_kind": spec.entity_kind,
        "help": spec.help,
        "cli_flag": None if spec.type == "DataFrame" else "--" + spec.name.replace("_", "-"),
        "envvar": "NBCATALOG_" + spec.name.upper() if spec.secret else None,
        "python_only": spec.type == "DataFrame",
    }


def _drilldown_entries(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    declared = metadata.get("drilldowns") or {}
    if not isinstance(declared, dict):
        return []
    entries = []
    for name, raw in declared.items():
        if not isinstance(raw, dict):
            continue
        entries.append(
            {
                "name": str(name),
                "description": str(raw.get("description", "")),
                "kind": "function" if raw.get("function") else "template",
                "template": raw.get("template"),
                "function": raw.get("function"),
                "result": raw.get("result"),
                "parameters": dict(raw.get("parameters") or {}),
                "accepts": [str(p) for p in raw.get("pass") or ()],
            }
        )
    return entries


def describe(template: Template) -> dict[str, Any]:
    """A template's metadata as JSON-ready data: what `nbcatalog show NAME --json` prints.

    Stable: fields are only added; `format` changes when one changes meaning. Secret
    defaults are redacted. Reads only the template file (no kernel, no pandas).

    Example:
        >>> info = describe(get_template("host_summary"))           # doctest: +SKIP
        >>> [p["name"] for p in info["parameters"] if p["required"]]  # doctest: +SKIP
        ['host']
    """
    groups = template.required_groups
    params = [_parameter_entry(template, p, groups) for p in template.parameters]
    params.append(
        {
            "name": "last",
            "type": "str",
            "default": None,
            "required": False,
            "one_of": None,
            "choices": None,
            "secret": False,
            "entity_kind": None,
            "help": "instead of start: a span back from end, like 24h or 7d",
            "cli_flag": "--last",
            "envvar": None,
            "python_only": False,
        }
    )
    tables = template.metadata.get("tables") or []
    return {
        "format": SHOW_FORMAT,
        "name": template.name,
        "title": template.title,
        "category": template.category,
        "description": template.description,
        "version": template.version,
        "content_hash": template.content_hash,
        "entity_types": template.entity_types,
        "keywords": template.keywords,
        "origin": template.origin,
        "path": str(template.path),
        "overrides": list(template.shadows),
        "parameters": params,
        "required": [list(g) for g in groups],
        "options": {
            "default": template.default_options,
            "all": template.all_options,
            "descriptions": template.option_descriptions,
        },
        "sections": [{"id": s.id, "title": s.title} for s in template.sections],
        "results": [{"name": n, "description": d} for n, d in template.results.items()],
        "drilldowns": _drilldown_entries(template.metadata),
        "tables": [str(t) for t in tables] if isinstance(tables, list) else [],
        "example": {"python": example_call(template), "shell": example_command(template)},
    }


def help_html(template: Template) -> str:
    """Rich HTML help for a template; every value is escaped.

    Example:
        >>> "<table" in help_html(get_template("host_summary"))   # doctest: +SKIP
        True
    """
    e = html.escape
    parts = [
        '<div class="nbcatalog-help">',
        f"<h3>{e(template.title)} <code>{e(template.name)}</code></h3>",
        f"<p><b>category</b> {e(template.category or '-')} &middot; <b>version</b> "
        f"{e(template.version)} &middot; <b>from</b> {e(template.origin)}</p>",
    ]
    if template.shadows:
        parts.append(f"<p><b>overrides</b> {e(', '.join(template.shadows))}</p>")
    if template.entity_types:
        parts.append(f"<p><b>entities</b> {e(', '.join(template.entity_types))}</p>")
    if template.description:
        parts.append(f"<p>{e(template.description)}</p>")
    parts.append(
        "<h4>Parameters</h4><table><tr><th>name</th><th>type</th><th>default</th><th>help</th></tr>"
    )
    for row in _param_rows(template):
        parts.append("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>")
    parts.append("</table>")
    if template.all_options:
        parts.append(
            "<h4>Options</h4><table><tr><th>option</th><th>default</th><th>description</th></tr>"
        )
        for option, desc in template.option_descriptions.items():
            on = "on" if option in template.default_options else "off"
            parts.append(f"<tr><td>{e(option)}</td><td>{on}</td><td>{e(desc)}</td></tr>")
        parts.append("</table>")
    if template.sections:
        items = "".join(f"<li><code>{e(s.id)}</code> {e(s.title)}</li>" for s in template.sections)
        parts.append(f"<h4>Sections</h4><ul>{items}</ul>")
    if template.results:
        items = "".join(f"<li><code>{e(n)}</code> {e(d)}</li>" for n, d in template.results.items())
        parts.append(f"<h4>Results</h4><ul>{items}</ul>")
    if template.metadata.get("drilldowns"):
        from nbcatalog.drilldowns import help_lines

        lines = e("\n".join(help_lines(template.metadata)))
        parts.append(f"<h4>Drill-downs</h4><pre>{lines}</pre>")
    parts.append(
        f"<h4>Example</h4><pre>{e(example_call(template))}\n{e(example_command(template))}</pre>"
    )
    parts.append("</div>")
    return "\n".join(parts)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where HTML can be displayed)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def show_help(name: str | Template) -> None:
    """Show a template's help: rich HTML in a notebook, text in a terminal.

    Example:
        >>> import nbcatalog
        >>> nbcatalog.show_help("host-summary")     # doctest: +SKIP
    """
    template = name if isinstance(name, Template) else get_template(name)
    if in_notebook():
        from IPython.display import HTML, display

        display(HTML(help_html(template)))
    else:
        print(help_text(template))


class _CallableModule(types.ModuleType):
    """`nbcatalog.catalog()` lists templates while `nbcatalog.catalog.get_template` works.

    The package attribute `nbcatalog.catalog` is this module once it is imported,
    so the module itself answers the call.
    """

    def __call__(self) -> list[Template]:
        return catalog()


sys.modules[__name__].__class__ = _CallableModule
