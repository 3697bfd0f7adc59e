"""What a notebooklet step returns: a table plus notes saying what was missing.

Every nblib step returns a `Finding` instead of raising when data is missing, so a
template section always renders something an analyst can read: the table, or a
note such as "no SecurityAlert table in this data source". A `Finding` shown as the
last line of a cell renders as escaped HTML (`_repr_html_`).

Example:
    >>> import pandas as pd
    >>> f = Finding("Related alerts", pd.DataFrame())
    >>> f.note("missing", "no SecurityAlert table in this data source")
    >>> f.empty, f.notes[0].kind
    (True, 'missing')
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from nbcatalog.nblib.tables import html_table

# kind -> (label, colour) of the note box
NOTE_KINDS = {
    "info": ("Note", "#31708f"),
    "missing": ("Missing data", "#8a6d3b"),
    "skipped": ("Skipped", "#666666"),
    "warning": ("Warning", "#a94442"),
    "finding": ("Finding", "#a94442"),
}


@dataclass(frozen=True)
class Note:
    """One short message about a step: kind is info, missing, skipped, warning or finding."""

    kind: str
    text: str

    def _repr_html_(self) -> str:
        return note_html(self.kind, self.text)


def note_html(kind: str, text: str) -> str:
    """A small escaped message box.

    Example:
        >>> "&lt;b&gt;" in note_html("info", "<b>")
        True
    """
    label, colour = NOTE_KINDS.get(kind, NOTE_KINDS["info"])
    return (
        f'<div class="nbcatalog-note nbcatalog-{html.escape(kind)}" '
        f'style="border-left:4px solid {colour};padding:4px 8px;margin:4px 0;'
        f'font-size:13px"><b style="color:{colour}">{label}:</b> {html.escape(text)}</div>'
    )


@dataclass
class Finding:
    """A titled table (`data`) and the notes explaining it.

    `columns` picks what the HTML view shows; `data` keeps every column.
    """

    title: str
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[Note] = field(default_factory=list)
    columns: list[str] | None = None
    max_rows: int = 50

    def note(self, kind: str, text: str) -> None:
        """Add a note (kind: info, missing, skipped, warning or finding)."""
        self.notes.append(Note(kind, text))

    @property
    def empty(self) -> bool:
        return self.data is None or self.data.empty

    @property
    def missing(self) -> bool:
        """True when a table or query this step needed was not there."""
        return any(n.kind == "missing" for n in self.notes)

    def messages(self) -> list[str]:
        """The notes as plain text, e.g. for tests or a log."""
        return [f"{n.kind}: {n.text}" for n in self.notes]

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}</h4>"] if self.title else []
        parts += [note_html(n.kind, n.text) for n in self.notes]
        if not self.empty:
            parts.append(html_table(self.data, self.columns, self.max_rows))
        elif not self.notes:
            parts.append(note_html("info", "nothing found in the time range"))
        return "".join(parts)

    def __repr__(self) -> str:
        lines = [f"{self.title}: {len(self.data)} rows"] + self.messages()
        return "\n".join(lines)


def skipped(title: str, option: str) -> Finding:
    """The Finding of a step turned off by its option.

    Example:
        >>> skipped("Related alerts", "alerts").messages()
        ["skipped: option 'alerts' is off; add it with options=['+alerts']"]
    """
    finding = Finding(title)
    finding.note("skipped", f"option {option!r} is off; add it with options=['+{option}']")
    return finding


def summarize(findings: dict[str, Finding]) -> pd.DataFrame:
    """One row per step: Item, Count (rows found) and Note (why it is empty, if it is).

    Example:
        >>> found = Finding("Related alerts", pd.DataFrame({"a": [1, 2]}))
        >>> summarize({"Alerts": found}).values.tolist()
        [['Alerts', 2, '']]
    """
    rows = []
    for item, finding in findings.items():
        note = next((n.text for n in finding.notes if n.kind != "finding"), "")
        rows.append(
            {"Item": item, "Count": len(finding.data), "Note": note if finding.empty else ""}
        )
    return pd.DataFrame(rows, columns=["Item", "Count", "Note"])
