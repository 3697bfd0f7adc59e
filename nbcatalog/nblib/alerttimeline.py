"""`display_alert_timeline`: the run's alerts on an interactive time axis.

msticnb's ``display_alert_timeline`` draws a Bokeh timeline of a notebooklet's
alerts. Here it is a drill-down on the harvested alerts (nothing re-run): one lane
per severity, hover showing each alert's name, severity and compromised entity,
zoom and pan along time. It is offline like the HTML reports: BokehJS is inlined
(`nbcatalog.report_assets.bokeh_scripts`) and a Content-Security-Policy allows
only those scripts, so a page opens from disk or a mail attachment with nothing
fetched. The static fallback is the PNG of the same chart (shown where no script
runs: an untrusted notebook, print) and, in a shell, the alerts as text lines.

Example (in a caller's notebook):
    >>> res = nbcatalog.run("ip_summary", ip="203.0.113.77")        # doctest: +SKIP
    >>> res.display_alert_timeline()                               # doctest: +SKIP
    >>> res.display_alert_timeline(output="alerts.html")           # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nbcatalog.nblib.findings import Note
from nbcatalog.nblib.plots import Chart, timeline

HOVER = ["AlertDisplayName", "CompromisedEntity", "SystemAlertId"]
TEXT_COLUMNS = ["TimeGenerated", "AlertSeverity", "AlertDisplayName", "CompromisedEntity"]


@dataclass
class AlertTimeline:
    """The alert timeline: `chart` (PNG + Bokeh twin, or a Note when nothing to draw)
    and the `alerts` drawn.

    In a notebook it renders the Bokeh chart in a sandboxed frame, with the PNG as the
    fallback a viewer shows when it runs no script; `str()` is the text fallback for a
    shell; `page()` the standalone offline HTML page; `save(path)` writes it.
    """

    title: str
    alerts: pd.DataFrame
    chart: Chart | Note

    @property
    def interactive(self) -> bool:
        """True when the Bokeh version could be drawn (else the PNG alone)."""
        return isinstance(self.chart, Chart) and bool(self.chart.bokeh_item)

    def page(self) -> str:
        """A standalone HTML page: the Bokeh chart (inlined BokehJS, CSP-hashed
        scripts, nothing fetched) over its PNG, and the alerts as an escaped table."""
        from nbcatalog import report_assets as assets
        from nbcatalog.nblib.tables import html_table

        body = [f"<h1>{html.escape(self.title)}</h1>"]
        scripts: list[str] = []
        if isinstance(self.chart, Chart):
            png = base64.b64encode(self.chart.data).decode("ascii")
            body.append(
                '<div class="nbc-chart" data-chart="nbc-chart-0">'
                '<div class="nbc-chart-live" id="nbc-chart-live-0"></div>'
                f'<img class="nbc-chart-static" alt="{html.escape(self.title)}" '
                f'src="data:image/png;base64,{png}"></div>'
            )
            if self.interactive:
                body.append(assets.json_script("nbc-chart-0", self.chart.bokeh_item))
                scripts = [*assets.bokeh_scripts(), assets.CHART_SCRIPT]
        else:
            body.append(self.chart._repr_html_())
        columns = [c for c in TEXT_COLUMNS + ["SystemAlertId"] if c in self.alerts.columns]
        body.append(html_table(self.alerts, columns, max_rows=500))
        style = (
            "<style>body{font-family:system-ui,sans-serif;margin:1em}"
            ".nbc-chart.nbc-enhanced .nbc-chart-static{display:none}"
            "@media print{.nbc-chart-live{display:none}"
            ".nbc-chart .nbc-chart-static{display:block!important}}</style>"
        )
        code = "".join(f"<script>{s}</script>" for s in scripts)
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            f"{assets.csp_meta(scripts)}<title>{html.escape(self.title)}</title>{style}"
            f"</head><body>{''.join(body)}{code}</body></html>"
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write `page()` to `path` (an .html file) whole or not at all: a temporary
        file beside it, renamed over it once written.

        Example:
            >>> timeline_of(res).save("alerts.html")                # doctest: +SKIP
        """
        from nbcatalog.errors import UsageError

        target = Path(path).expanduser()
        if target.suffix.lower() not in (".html", ".htm"):
            raise UsageError(f"output {str(path)[:200]!r} must be an .html file")
        if not target.parent.is_dir():
            raise UsageError(f"output folder {str(target.parent)[:200]!r} does not exist")
        handle, temp = tempfile.mkstemp(prefix=".alert-timeline-", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(self.page())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return target

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if not isinstance(self.chart, Chart):
            return {"text/html": self.chart._repr_html_(), "text/plain": str(self)}
        png = base64.b64encode(self.chart.data).decode("ascii")
        bundle: dict[str, Any] = {"image/png": png, "text/plain": str(self)}
        if self.interactive:
            # A sandboxed frame (scripts, no same origin): the page's own CSP applies and
            # nothing in it can reach the notebook.
            bundle["text/html"] = (
                f'<iframe sandbox="allow-scripts" style="width:100%;height:'
                f'{120 + 30 * max(1, self.alerts["AlertSeverity"].nunique())}px;border:0" '
                f'srcdoc="{html.escape(self.page(), quote=True)}"></iframe>'
            )
        return bundle

    def __str__(self) -> str:
        from nbcatalog.nblib.browse import text_table

        head = f"{self.title}: {len(self.alerts)} alert(s)"
        if self.alerts.empty:
            return head
        columns = [c for c in TEXT_COLUMNS if c in self.alerts.columns]
        return f"{head}\n{text_table(self.alerts, columns)}"

    def records(self) -> list[dict[str, Any]]:
        """The alerts drawn, as plain rows (for ``--json``)."""
        columns = [c for c in TEXT_COLUMNS + ["SystemAlertId"] if c in self.alerts.columns]
        return json.loads(self.alerts[columns].to_json(orient="records", date_format="iso"))


def timeline_of(alerts: pd.DataFrame, title: str = "Alert timeline") -> AlertTimeline:
    """The alerts of `alerts` on a time axis, one lane per severity, oldest first.

    Example:
        >>> a = pd.DataFrame({"TimeGenerated": pd.to_datetime(["2024-05-01"], utc=True),
        ...     "AlertSeverity": ["High"], "AlertDisplayName": ["<b>x</b>"]})
        >>> t = timeline_of(a)
        >>> t.interactive, "&lt;b&gt;x&lt;/b&gt;" in t.page()
        (True, True)
    """
    frame = alerts.copy() if alerts is not None else pd.DataFrame()
    if "TimeGenerated" in frame.columns:
        frame["TimeGenerated"] = pd.to_datetime(frame["TimeGenerated"], utc=True, errors="coerce")
        frame = frame.sort_values("TimeGenerated", kind="stable").reset_index(drop=True)
    if "AlertSeverity" not in frame.columns:
        frame["AlertSeverity"] = ""
    chart = timeline(
        frame, group="AlertSeverity", colour_by="AlertSeverity", title=title, hover=HOVER
    )
    return AlertTimeline(title, frame, chart)


def display_alert_timeline(
    results: Any, output: str | None = None, *, result: str | None = None
) -> AlertTimeline:
    """The run's alerts (`result`, default ``related_alerts``) on an interactive
    timeline; with `output`, also written as a standalone offline HTML page.

    Example:
        >>> res.display_alert_timeline(output="alerts.html").interactive   # doctest: +SKIP
        True
    """
    from nbcatalog.errors import UsageError

    name = result or "related_alerts"
    alerts = results.data.get(name)
    if not isinstance(alerts, pd.DataFrame):
        raise UsageError(f"this {results.template} run has no table {name!r} of alerts")
    params = getattr(results, "parameters", None) or {}
    subject = next((params[k] for k in ("ip", "url", "host", "entity") if params.get(k)), "")
    title = f"Alerts of {results.template}" + (f" for {subject}" if subject else "")
    shown = timeline_of(alerts, title=title)
    if output:
        shown.save(output)
    return shown
