"""`nbcatalog.browse()`: an ipywidgets browser of the catalogue for notebooks.

A search box, the list of notebooklets, the selected one's help, an example
call, and a button that puts the call into the next cell (IPython's
``set_next_input``).

Example:
    >>> import nbcatalog
    >>> nbcatalog.browse()            # doctest: +SKIP
    >>> nbcatalog.browse("logon")     # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from nbcatalog import catalog as _catalog
from nbcatalog.template import Template


def _label(template: Template) -> str:
    where = "" if template.origin == _catalog.BUILT_IN else f"  [{template.origin}]"
    return f"{template.category or '-'} / {template.name}: {template.title}{where}"


def example_cell(template: Template) -> str:
    """The code the browser inserts for `template`.

    Example:
        >>> print(example_cell(get_template("host_summary")))   # doctest: +SKIP
        import nbcatalog
        res = nbcatalog.run("host_summary", host="WKSTN-042", last="7d")
        res
    """
    return f"import nbcatalog\nres = {_catalog.example_call(template)}\nres"


class NotebookletBrowser(widgets.VBox):
    """The browser widget; its parts are attributes so they can be driven from code."""

    def __init__(self, text: str = ""):
        self.search = widgets.Text(
            value=text, placeholder="search: logon, linux, ip, ...", description="Find"
        )
        self.select = widgets.Select(options=[], rows=10, layout=widgets.Layout(width="100%"))
        self.help = widgets.HTML()
        self.example = widgets.Textarea(layout=widgets.Layout(width="100%", height="5em"))
        self.insert_button = widgets.Button(
            description="Insert into next cell", icon="plus", button_style="primary"
        )
        self.status = widgets.HTML()
        super().__init__(
            [
                self.search,
                self.select,
                self.help,
                widgets.HTML("<b>Example call</b>"),
                self.example,
                widgets.HBox([self.insert_button, self.status]),
            ]
        )
        self.search.observe(self._refresh, names="value")
        self.select.observe(self._selected, names="value")
        self.insert_button.on_click(self._insert)
        self._refresh()

    def _refresh(self, _change: Any = None) -> None:
        text = self.search.value.strip()
        templates = _catalog.find(text) if text else _catalog.catalog()
        self.select.options = [(_label(t), t.name) for t in templates]
        if templates:
            self.select.value = templates[0].name
        else:
            self.help.value = "<p>No notebooklet matches.</p>"
            self.example.value = ""

    def _selected(self, change: Any) -> None:
        name = change["new"] if isinstance(change, dict) else change.new
        if not name:
            return
        template = _catalog.get_template(name)
        self.help.value = _catalog.help_html(template)
        self.example.value = example_cell(template)
        self.status.value = ""

    def _insert(self, _button: Any = None) -> None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython ships with ipykernel
            get_ipython = None  # noqa: N806
        shell = get_ipython() if get_ipython else None
        if shell is None or not self.example.value:
            self.status.value = "Copy the example above into a cell (no IPython shell here)."
            return
        shell.set_next_input(self.example.value, replace=False)
        self.status.value = "Inserted into the next cell."


def browse(text: str = "") -> NotebookletBrowser:
    """An interactive browser of the catalogue; `text` pre-fills the search.

    Example:
        >>> import nbcatalog
        >>> nbcatalog.browse("account")      # doctest: +SKIP
    """
    return NotebookletBrowser(text)
