"""HTML tables for notebooklet output, with every value escaped.

Log fields are written by attackers: a command line can hold `<script>`. Every
cell and column name goes through `html.escape`, so the text shows as text in the
notebook, in the caller's notebook and in the HTML report.

Example:
    >>> import pandas as pd
    >>> "&lt;script&gt;" in html_table(pd.DataFrame({"CommandLine": ["<script>"]}))
    True
"""

from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd

_STYLE = (
    "border-collapse:collapse;font-size:12px;margin:4px 0 10px 0;"
    "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"
)
_BASE = "border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;"
# Long command lines and base64 blobs wrap anywhere instead of widening the page;
# short values (times, names, addresses) stay on one line.
_WRAP = _BASE + "overflow-wrap:anywhere;max-width:48em;"
_NOWRAP = _BASE + "white-space:nowrap;"
_HEAD = _NOWRAP + "background:#f3f3f3;"
_SHORT = 24
_LONG = 80
_MAX_CELL_CHARS = 400


def format_value(value: Any) -> str:
    """Plain text for one cell: empty for missing values, ISO-like times, joined lists.

    Example:
        >>> format_value(pd.Timestamp("2024-05-01 10:00", tz="UTC")), format_value(None)
        ('2024-05-01 10:00:00', '')
    """
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy arrays
        listed = value.tolist()
        if isinstance(listed, list):
            return format_value(listed)
        value = listed
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cell(value: Any) -> str:
    text = format_value(value)
    if len(text) > _MAX_CELL_CHARS:
        text = text[:_MAX_CELL_CHARS] + " …"
    style = _NOWRAP if len(text) <= _SHORT else _WRAP
    # A report keeps long text columns readable by this class (report_assets' CSS).
    long = ' class="nbc-long"' if len(text) > _LONG else ""
    return f'<td{long} style="{style}">{html.escape(text, quote=True)}</td>'


def html_table(
    data: pd.DataFrame,
    columns: list[str] | None = None,
    max_rows: int = 50,
    caption: str | None = None,
) -> str:
    """An escaped HTML table of `data` (the given `columns` that exist, first `max_rows` rows).

    Example:
        >>> html_table(pd.DataFrame({"a": [1]}), caption="One row").count("<tr>")
        2
    """
    if columns:
        data = data[[c for c in columns if c in data.columns]]
    shown = data.head(max_rows)
    parts = [f'<table class="nbcatalog-table" style="{_STYLE}">']
    if caption:
        parts.append(f'<caption style="text-align:left">{html.escape(caption)}</caption>')
    head = "".join(f'<th style="{_HEAD}">{html.escape(str(c))}</th>' for c in shown.columns)
    parts.append(f"<thead><tr>{head}</tr></thead><tbody>")
    for row in shown.itertuples(index=False, name=None):
        cells = "".join(_cell(v) for v in row)
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</tbody></table>")
    if len(data) > len(shown):
        parts.append(
            f'<p style="font-size:11px;color:#666">showing the first {len(shown)} of '
            f"{len(data)} rows; the full table is in the results</p>"
        )
    return "".join(parts)
