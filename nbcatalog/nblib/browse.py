"""Browse a run's alerts, bookmarks or TI results one at a time: drill-downs on harvested data.

`browse_alerts(res)`, `browse_bookmarks(res)` and `browse_ti_results(res)` work on
the tables a run glued (nothing is queried or re-run). With no item chosen they
return an ipywidgets box: a dropdown of the items and, below it, the chosen one's
details (an alert's fields and entities, an indicator's result from each TI
provider). Naming the item (``alert=`` a SystemAlertId or a position, ``indicator=``
the indicator) returns a `Browsed`: HTML in a notebook, text tables in a shell.
From a shell (``nbcatalog drill RUN_DIR browse_alerts``) the box's `table` is
printed and the command exits 2 naming the values ``--param alert=`` accepts.
Every value is shown as escaped text.

Example (in a caller's notebook):
    >>> res = nbcatalog.run("ip_summary", ip="203.0.113.77")      # doctest: +SKIP
    >>> res.browse_alerts()                                      # doctest: +SKIP
    >>> res.browse_ti_results(indicator="203.0.113.77")          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
ALERT_LIST_COLUMNS = ["TimeGenerated", "AlertSeverity", "AlertDisplayName", "SystemAlertId"]
TI_LIST_COLUMNS = ["Ioc", "IocType", "Matched", "Severity", "Providers", "Alerts"]
TI_PROVIDER_COLUMNS = [
    "Provider",
    "Result",
    "Severity",
    "ThreatType",
    "Confidence",
    "Details",
    "Reference",
    "Status",
]
_SEVERITY_RANK = {"high": 3, "warning": 2, "information": 1}
_TEXT_WIDTH = 80  # characters of a cell in a shell table


def _printable(value: Any) -> str:
    """`value` as one line of text for a terminal: control characters escaped, cut."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= _TEXT_WIDTH else text[: _TEXT_WIDTH - 1] + "…"


def text_table(frame: pd.DataFrame, columns: list[str] | None = None, max_rows: int = 200) -> str:
    """`frame` as a plain-text table safe to print: every cell one escaped line.

    Example:
        >>> text_table(pd.DataFrame({"a": ["x\\x1b[2J"]})).split()
        ['a', 'x\\\\x1b[2J']
    """
    if columns:
        frame = frame[[c for c in columns if c in frame.columns]]
    shown = frame.head(max_rows).astype(object).map(_printable)
    text = shown.to_string(index=False)
    if len(frame) > len(shown):
        text += f"\n… {len(frame) - len(shown)} more row(s)"
    return text


@dataclass
class Browsed:
    """One browsed item: its Findings (fields, entities, provider results).

    Shown as escaped HTML in a notebook (`_repr_html_`) and as text tables in a
    shell (`str`); `records()` gives the same for ``--json``.

    Example:
        >>> b = Browsed("Alert x", [Finding("Fields", pd.DataFrame({"Field": ["a"]}))])
        >>> str(b).splitlines()[:2]
        ['Alert x', '']
    """

    title: str
    findings: list[Finding] = field(default_factory=list)

    def _repr_html_(self) -> str:
        return "".join(f._repr_html_() for f in self.findings)

    def __str__(self) -> str:
        lines = [_printable(self.title)]
        for finding in self.findings:
            lines += ["", f"== {_printable(finding.title)} ({len(finding.data)} rows)"]
            lines += [f"{n.kind}: {_printable(n.text)}" for n in finding.notes]
            if not finding.empty:
                lines.append(text_table(finding.data, finding.columns))
        return "\n".join(lines)

    def records(self) -> list[dict[str, Any]]:
        """The findings as plain data: title, notes and rows of each."""
        return [
            {
                "title": f.title,
                "notes": f.messages(),
                "rows": [] if f.empty else f.data.to_dict("records"),
            }
            for f in self.findings
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


def _browser(
    frame: pd.DataFrame,
    labels: list[str],
    details: Callable[[pd.DataFrame, int], list[Finding]],
    title: str,
    *,
    table: pd.DataFrame | None = None,
    needs: str = "",
):
    """The dropdown + details box. `table` (what a shell prints instead) and `needs`
    (the message naming the accepted values) ride along for `nbcatalog drill`."""
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
    box.table = table if table is not None else frame
    box.needs = needs
    return box


def _result_frame(results: Any, result: str) -> pd.DataFrame:
    from nbcatalog.errors import UsageError

    frame = results.data.get(result) if hasattr(results, "data") else results[result]
    if not isinstance(frame, pd.DataFrame):
        raise UsageError(f"this {results.template} run has no table {result!r} to browse")
    return frame


def _position(wanted: Any, keys: list[str], what: str, keyword: str) -> int:
    """The position of `wanted` among `keys` (a key, case-insensitive, or a position);
    a UsageError listing the accepted keys otherwise."""
    from nbcatalog.drilldowns import listed, shown
    from nbcatalog.errors import UsageError

    text = str(wanted).strip()
    for i, key in enumerate(keys):
        if key.casefold() == text.casefold():
            return i
    if text.lstrip("-").isdigit() and -len(keys) <= int(text) < len(keys):
        return int(text) % len(keys)
    raise UsageError(
        f"no {what} {shown(wanted)} in this run ({keyword}= takes one of these or a position "
        f"0..{len(keys) - 1}); {len(keys)} to choose from: {listed(keys)}"
    )


def _needs(name: str, keyword: str, keys: list[str], what: str) -> str:
    from nbcatalog.drilldowns import listed

    if not keys:
        return f"{name}: this run has no {what}s to browse"
    return (
        f"{name}: choose one of the {len(keys)} {what}(s) above with --param {keyword}=VALUE "
        f"(Python: res.{name}({keyword}=...)); accepted: {listed(keys)}"
    )


def browse_alerts(results: Any, alert: Any = None, *, result: str | None = None):
    """The run's alerts, most recent first: a dropdown showing the chosen one (no
    `alert`), or that alert's fields and entities (`alert`: a SystemAlertId or a position).

    Example:
        >>> res.browse_alerts(alert=0).findings[0].title           # doctest: +SKIP
        'RDP brute force'
    """
    alerts = _result_frame(results, result or "related_alerts")
    if "TimeGenerated" in alerts.columns:
        alerts = alerts.sort_values("TimeGenerated", ascending=False, kind="stable")
    alerts = alerts.reset_index(drop=True)
    records = alerts.to_dict("records")
    keys = [str(r.get("SystemAlertId", i)) for i, r in enumerate(records)]
    if alert is not None:
        index = _position(alert, keys, "alert", "alert")
        findings = alert_details(alerts, index)
        return Browsed(findings[0].title, findings)
    labels = [
        f"{r.get('TimeGenerated', '')}  [{r.get('AlertSeverity', '')}] "
        f"{r.get('AlertDisplayName', '')}"
        for r in records
    ]
    table = alerts[[c for c in ALERT_LIST_COLUMNS if c in alerts.columns]]
    needs = _needs("browse_alerts", "alert", keys, "alert")
    return _browser(alerts, labels, alert_details, "alert", table=table, needs=needs)


def browse_bookmarks(results: Any, result: str = "related_bookmarks"):
    """A dropdown of the run's hunting bookmarks showing the chosen one."""
    bookmarks = _result_frame(results, result).reset_index(drop=True)
    labels = [
        f"{r.get('EventTime', '')}  {r.get('BookmarkName', '')}"
        for r in bookmarks.to_dict("records")
    ]
    return _browser(bookmarks, labels, bookmark_details, "bookmark")


def _rank(severity: Any) -> int:
    return _SEVERITY_RANK.get(str(severity).strip().lower(), 0)


def _matched(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value) and not pd.isna(value)


def ti_indicators(ti: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator of TI results, worst first: Ioc, IocType, Matched (some
    provider lists it), Severity (the worst), Providers, Alerts (their SystemAlertIds).

    Example:
        >>> ti = pd.DataFrame({"Ioc": ["1.2.3.4", "1.2.3.4", "5.6.7.8"],
        ...     "IocType": ["ipv4"] * 3, "Provider": ["OTX", "Local", "OTX"],
        ...     "Result": [True, False, False],
        ...     "Severity": ["high", "information", "information"]})
        >>> ti_indicators(ti)[["Ioc", "Matched", "Severity", "Providers"]].values.tolist()
        [['1.2.3.4', True, 'high', 'OTX, Local'], ['5.6.7.8', False, 'information', 'OTX']]
    """
    if ti is None or ti.empty or "Ioc" not in ti.columns:
        return pd.DataFrame(columns=TI_LIST_COLUMNS)
    rows = []
    for ioc, group in ti.groupby(ti["Ioc"].astype(str), sort=False):
        listed = [_matched(v) for v in _column(group, "Result")]
        # The worst severity among the providers that list it (else among all).
        severities = [s for s, hit in zip(_column(group, "Severity"), listed, strict=True) if hit]
        worst = max(severities or _column(group, "Severity"), key=_rank, default="")
        rows.append(
            {
                "Ioc": ioc,
                "IocType": str(_column(group, "IocType")[0] or ""),
                "Matched": any(listed),
                "Severity": "" if worst is None else str(worst),
                "Providers": _distinct(_column(group, "Provider")),
                "Alerts": _distinct(_column(group, "SystemAlertId")),
            }
        )
    table = pd.DataFrame(rows, columns=TI_LIST_COLUMNS)
    rank = [(m, _rank(s)) for m, s in zip(table["Matched"], table["Severity"], strict=True)]
    order = sorted(range(len(table)), key=lambda i: rank[i], reverse=True)  # stable
    return table.iloc[order].reset_index(drop=True)


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    """The values of `name` (None for each row when the frame lacks it)."""
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def _distinct(values: list[Any]) -> str:
    return ", ".join(dict.fromkeys(str(v) for v in values if v is not None and str(v) != ""))


def ti_details(ti: pd.DataFrame, ioc: str) -> list[Finding]:
    """What each TI provider says of indicator `ioc` (one row per provider, matches first).

    Example:
        >>> ti = pd.DataFrame({"Ioc": ["1.2.3.4"], "Provider": ["OTX"], "Result": [True],
        ...     "Severity": ["high"], "Details": ["C2 server"]})
        >>> ti_details(ti, "1.2.3.4")[0].data[["Provider", "Details"]].values.tolist()
        [['OTX', 'C2 server']]
    """
    rows = ti[ti["Ioc"].astype(str) == ioc]
    keys = [c for c in ("Provider", "Result", "Severity", "Details") if c in rows.columns]
    per_provider = rows.drop_duplicates(subset=keys or None)
    order = sorted(
        range(len(per_provider)),
        key=lambda i: (
            not _matched(_column(per_provider, "Result")[i]),
            -_rank(_column(per_provider, "Severity")[i]),
        ),
    )
    per_provider = per_provider.iloc[order].reset_index(drop=True)
    finding = Finding(f"TI results for {ioc}", per_provider)
    finding.columns = [c for c in TI_PROVIDER_COLUMNS if c in per_provider.columns]
    listed_by = [
        str(p)
        for p, r in zip(
            _column(per_provider, "Provider"), _column(per_provider, "Result"), strict=True
        )
        if _matched(r)
    ]
    if listed_by:
        finding.note("finding", f"listed by {', '.join(dict.fromkeys(listed_by))}")
    else:
        finding.note("info", "no provider lists this indicator")
    out = [finding]
    if "SystemAlertId" in rows.columns:
        alerts = rows[[c for c in ("SystemAlertId", "AlertDisplayName") if c in rows.columns]]
        out.append(Finding("Alerts holding it", alerts.drop_duplicates().reset_index(drop=True)))
    return out


def browse_ti_results(results: Any, indicator: Any = None, *, result: str | None = None):
    """TI results per indicator: a dropdown of the indicators (listed ones first)
    showing each provider's answer (no `indicator`), or one indicator's provider
    details (`indicator`: the indicator or a position).

    Example:
        >>> res.browse_ti_results(indicator="203.0.113.77")       # doctest: +SKIP
    """
    ti = _result_frame(results, result or "ti_results")
    table = ti_indicators(ti)
    keys = table["Ioc"].astype(str).tolist()
    if indicator is not None:
        ioc = keys[_position(indicator, keys, "indicator", "indicator")]
        findings = ti_details(ti, ioc)
        return Browsed(findings[0].title, findings)
    labels = [
        f"{r['Ioc']}  [{r['Severity'] if r['Matched'] else 'not listed'}] {r['IocType']}"
        for r in table.to_dict("records")
    ]

    def details(frame: pd.DataFrame, index: int) -> list[Finding]:
        return ti_details(frame, keys[index])

    needs = _needs("browse_ti_results", "indicator", keys, "indicator")
    return _browser(ti, labels, details, "indicator", table=table, needs=needs)
