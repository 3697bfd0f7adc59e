"""Browse a run's alerts or bookmarks one at a time: drill-downs on harvested data.

`browse_alerts(res)` and `browse_bookmarks(res)` work on the tables a run glued
(nothing is queried or re-run) and return an ipywidgets box: a dropdown of the
items and, below it, the chosen one's fields and (for alerts) its entities. Every
value is shown as escaped text. `alert_details` / `bookmark_details` give the same
as Findings, for scripts and tests.

Example (in a caller's notebook):
    >>> res = nbcatalog.run("host_summary", host="WKSTN-042")   # doctest: +SKIP
    >>> res.browse_alerts()                                      # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nbcatalog.nblib.findings import Finding

ALERT_FIELDS = [
    "TimeGenerated",
    "AlertDisplayName",
    "AlertSeverity",
    "Description",
    "ProviderName",
    "CompromisedEntity",
    "Tactics",
    "SystemAlertId",
]
BOOKMARK_FIELDS = [
    "EventTime",
    "BookmarkName",
    "CreatedBy",
    "Notes",
    "Tags",
    "QueryResultRow",
    "BookmarkId",
]


def _fields(record: dict[str, Any], wanted: list[str]) -> pd.DataFrame:
    names = [f for f in wanted if f in record] or list(record)
    return pd.DataFrame({"Field": names, "Value": [record.get(f) for f in names]})


def alert_details(alerts: pd.DataFrame, index: int) -> list[Finding]:
    """The alert at position `index`: its main fields and its entities.

    Example:
        >>> a = pd.DataFrame({"AlertDisplayName": ["RDP brute force"], "SystemAlertId": ["a1"],
        ...     "Entities": ['[{"Type": "ip", "Address": "203.0.113.77"}]']})
        >>> [f.data.values.tolist() for f in alert_details(a, 0)][1]
        [['ip', '203.0.113.77']]
    """
    from nbcatalog.nblib.alerts import alert_entities

    record = alerts.iloc[index].to_dict()
    name = record.get("AlertDisplayName") or record.get("AlertName") or "Alert"
    entities = alert_entities(alerts.iloc[[index]])[["Type", "Value"]].reset_index(drop=True)
    return [Finding(str(name), _fields(record, ALERT_FIELDS)), Finding("Entities", entities)]


def bookmark_details(bookmarks: pd.DataFrame, index: int) -> list[Finding]:
    """The bookmark at position `index`: its fields."""
    record = bookmarks.iloc[index].to_dict()
    return [
        Finding(str(record.get("BookmarkName") or "Bookmark"), _fields(record, BOOKMARK_FIELDS))
    ]


def _browser(frame: pd.DataFrame, labels: list[str], details, title: str):
    import ipywidgets as widgets
    from IPython.display import display

    dropdown = widgets.Dropdown(
        options=list(zip(labels, range(len(labels)), strict=True)),
        description=title,
        layout={"width": "80%"},
    )
    output = widgets.Output()

    def show(_: Any = None) -> None:
        with output:
            output.clear_output()
            if dropdown.value is None:
                display(Finding(title, notes=[]))
                return
            for finding in details(frame, int(dropdown.value)):
                display(finding)

    dropdown.observe(show, names="value")
    from nbcatalog.catalog import in_notebook

    if in_notebook():  # outside a kernel an Output widget would print to the terminal
        show()
    box = widgets.VBox([dropdown, output])
    box.dropdown = dropdown
    box.show_selected = show
    box.details = lambda index=None: details(frame, int(dropdown.value if index is None else index))
    return box


def browse_alerts(results: Any, result: str = "related_alerts"):
    """A dropdown of the run's alerts (most recent first) showing the chosen one."""
    alerts = results[result]
    if "TimeGenerated" in alerts.columns:
        alerts = alerts.sort_values("TimeGenerated", ascending=False, kind="stable")
    alerts = alerts.reset_index(drop=True)
    labels = [
        f"{r.get('TimeGenerated', '')}  [{r.get('AlertSeverity', '')}] "
        f"{r.get('AlertDisplayName', '')}"
        for r in alerts.to_dict("records")
    ]
    return _browser(alerts, labels, alert_details, "alert")


def browse_bookmarks(results: Any, result: str = "related_bookmarks"):
    """A dropdown of the run's hunting bookmarks showing the chosen one."""
    bookmarks = results[result].reset_index(drop=True)
    labels = [
        f"{r.get('EventTime', '')}  {r.get('BookmarkName', '')}"
        for r in bookmarks.to_dict("records")
    ]
    return _browser(bookmarks, labels, bookmark_details, "bookmark")
