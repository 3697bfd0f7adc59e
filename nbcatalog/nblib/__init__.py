"""Reusable steps for notebooklet templates, so a template reads like an investigation.

Each step takes an `Investigation` (data source, time range, options) and returns a
`Finding`: a table plus notes saying what was missing, never an exception for
missing data. Findings render as escaped HTML when they end a cell.

Example (in a template):
    >>> from nbcatalog import nblib                                          # doctest: +SKIP
    >>> inv = nblib.Investigation.open(data_source, start, end, options)    # doctest: +SKIP
    >>> alerts = nblib.alerts.related_alerts(inv, host="WKSTN-042")         # doctest: +SKIP
"""

from nbcatalog.nblib import (
    accounts,
    alerts,
    bookmarks,
    entities,
    findings,
    hosts,
    pickers,
    plots,
    processes,
    queries,
    tables,
)
from nbcatalog.nblib.findings import Finding, Note, summarize
from nbcatalog.nblib.investigation import Investigation, time_range

__all__ = [
    "Finding",
    "Investigation",
    "Note",
    "accounts",
    "alerts",
    "bookmarks",
    "entities",
    "findings",
    "hosts",
    "pickers",
    "plots",
    "processes",
    "queries",
    "summarize",
    "tables",
    "time_range",
]
