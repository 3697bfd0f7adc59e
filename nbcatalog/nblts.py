"""A tab-completable tree of notebooklets: ``nbcatalog.nblts.<category>.<name>``.

Each leaf is a `Notebooklet` whose ``run(...)`` carries the template's own
parameters in its real signature, so IPython's completion and ``?`` show them::

    >>> import nbcatalog
    >>> nbl = nbcatalog.nblts.host.host_summary                 # doctest: +SKIP
    >>> res = nbl.run(host="WKSTN-042", last="24h")             # doctest: +SKIP
    >>> nbl.show_help()                                         # doctest: +SKIP

The tree is read from the catalogue on every access, so folders added with
`nbcatalog.add_path` appear at once.
"""

from __future__ import annotations

import difflib
import html
import inspect
from typing import Any

from nbcatalog import catalog as _catalog
from nbcatalog.template import Template, normalize_name

OTHER = "other"  # category of templates that declare none

_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
    "DataFrame": "pandas.DataFrame",
    "Any": Any,
}
_STANDARD = ("start", "end", "data_source", "options")

# The keyword arguments nbcatalog.run takes besides a template's own parameters,
# with their defaults, in case the runner cannot be imported to read them.
_RUN_KEYWORDS: tuple[tuple[str, Any, Any], ...] = (
    ("data_source", None, "str | None"),
    ("start", None, "str | datetime | None"),
    ("end", None, "str | datetime | None"),
    ("last", None, "str | None"),
    ("options", None, "list[str] | None"),
    ("output_dir", None, "str | Path | None"),
    ("html", False, bool),
    ("timeout", None, "float | None"),
    ("silent", False, bool),
    ("quiet", False, bool),
    ("labels", None, "dict | None"),
)


def _runner_keywords() -> list[inspect.Parameter]:
    kw = inspect.Parameter.KEYWORD_ONLY
    try:
        from nbcatalog.runner import run

        params = inspect.signature(run).parameters.values()
        positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
        found = [
            p.replace(kind=kw)
            for p in params
            if p.kind == kw or (p.name != "name" and p.kind == positional)
        ]
        if found:
            return found
    except Exception:  # noqa: BLE001 - the signature is a convenience; fall back to the agreed one
        pass
    return [inspect.Parameter(n, kw, default=d, annotation=a) for n, d, a in _RUN_KEYWORDS]


def run_signature(template: Template) -> inspect.Signature:
    """The signature of ``Notebooklet.run``: the template's parameters, then the run's.

    Example:
        >>> list(run_signature(get_template("host_summary")).parameters)[:2]  # doctest: +SKIP
        ['host', 'start']
    """
    kw = inspect.Parameter.KEYWORD_ONLY
    run_keywords = {p.name: p for p in _runner_keywords()}
    params: dict[str, inspect.Parameter] = {}
    for spec in template.parameters:
        if spec.name in _STANDARD and spec.name in run_keywords:
            params[spec.name] = run_keywords[spec.name]  # the run's own default and type
            continue
        default = None if spec.secret and spec.default else spec.default
        params[spec.name] = inspect.Parameter(
            spec.name, kw, default=default, annotation=_TYPES.get(spec.type, Any)
        )
    for param in run_keywords.values():
        if param.name in params:
            continue
        if param.name == "options" and not template.has_options:
            continue
        params[param.name] = param
    return inspect.Signature(list(params.values()))


class Notebooklet:
    """One template as an object: ``run(...)``, ``show_help()``, ``metadata``.

    Example:
        >>> nbl = Notebooklet(get_template("host_summary"))          # doctest: +SKIP
        >>> nbl.run(host="WKSTN-042").related_alerts                  # doctest: +SKIP
    """

    def __init__(self, template: Template):
        self.template = template
        self.name = template.name
        self.metadata = dict(template.metadata)
        self.__doc__ = f"{template.title}: {template.description}"
        self.run = self._make_run()

    def _make_run(self) -> Any:
        name = self.template.name

        def run(**params: Any) -> Any:
            from nbcatalog.runner import run as run_template

            return run_template(name, **params)

        # A fresh function per notebooklet, so each has its own signature and doc.
        run.__signature__ = run_signature(self.template)  # type: ignore[attr-defined]
        run.__name__ = "run"
        run.__qualname__ = f"{name}.run"
        run.__doc__ = (
            f"Run the {name!r} notebooklet and return its Results.\n\n"
            + _catalog.help_text(self.template)
        )
        return run

    def show_help(self) -> None:
        """Show this notebooklet's help (HTML in a notebook, text in a terminal)."""
        _catalog.show_help(self.template)

    def __repr__(self) -> str:
        return f"<Notebooklet {self.name}: {self.template.title} ({self.template.origin})>"

    def _repr_html_(self) -> str:
        return _catalog.help_html(self.template)


def _category_of(template: Template) -> str:
    return normalize_name(template.category) if template.category else OTHER


def _by_category() -> dict[str, dict[str, Template]]:
    tree: dict[str, dict[str, Template]] = {}
    for template in _catalog.catalog():
        tree.setdefault(_category_of(template), {})[normalize_name(template.name)] = template
    return tree


def _missing(kind: str, wanted: str, known: list[str]) -> AttributeError:
    close = difflib.get_close_matches(wanted, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return AttributeError(f"no {kind} {wanted!r}{hint} (available: {', '.join(known) or 'none'})")


class Category:
    """The notebooklets of one category, as attributes."""

    def __init__(self, name: str):
        self._name = name

    def _templates(self) -> dict[str, Template]:
        return _by_category().get(self._name, {})

    def __getattr__(self, attr: str) -> Notebooklet:
        if attr.startswith("_"):
            raise AttributeError(attr)
        templates = self._templates()
        template = templates.get(normalize_name(attr))
        if template is None:
            raise _missing(f"notebooklet in {self._name!r}", attr, sorted(templates))
        return Notebooklet(template)

    def __dir__(self) -> list[str]:
        return sorted(self._templates())

    def __repr__(self) -> str:
        return f"<nblts.{self._name}: {', '.join(sorted(self._templates())) or 'empty'}>"

    def _repr_html_(self) -> str:
        """This category's notebooklets as a short table (name, entities, title)."""
        return _catalog.TemplateList(self._templates().values())._repr_html_()


def categories() -> list[str]:
    """The category names in the tree.

    Example:
        >>> "host" in categories()     # doctest: +SKIP
        True
    """
    return sorted(_by_category())


def __getattr__(name: str) -> Category:
    if name.startswith("_"):
        raise AttributeError(name)
    known = categories()
    key = normalize_name(name)
    if key not in known:
        raise _missing("notebooklet category", name, known)
    return Category(key)


def _repr_html_() -> str:
    """The whole tree as a short table, so ``nbcatalog.nblts`` alone shows what is there.

    IPython calls a module's own ``_repr_html_`` like an object's.
    """
    rows = "".join(
        f"<tr><td><code>nblts.{html.escape(cat)}.{html.escape(name)}</code></td>"
        f"<td>{html.escape(', '.join(t.entity_types))}</td><td>{html.escape(t.title)}</td></tr>"
        for cat, templates in sorted(_by_category().items())
        for name, t in sorted(templates.items())
    )
    return (
        '<table class="nbcatalog-nblts"><thead><tr><th>notebooklet</th><th>entities</th>'
        f"<th>title</th></tr></thead><tbody>{rows}</tbody></table>"
        "<p><small><code>nblts.host.host_summary.run?</code> shows its parameters.</small></p>"
    )


def __dir__() -> list[str]:
    own = ["Category", "Notebooklet", "categories", "run_signature"]
    return sorted(set(own) | set(categories()))
