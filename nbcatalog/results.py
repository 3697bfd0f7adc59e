"""What a run gives back: glued values, sections and the run's files.

`Results` reads like the notebook it came from: ``res.related_alerts`` or
``res["related_alerts"]`` is the DataFrame the template glued (dtypes kept),
``res.sections`` maps section ids to titles, and ``res.show("timeline")``
re-publishes that section's original rich outputs (HTML tables, images, plots and
the scripts they need) in the caller's notebook.

Example:
    >>> import nbcatalog
    >>> res = nbcatalog.run("host_summary", host="WKSTN-042", silent=True)  # doctest: +SKIP
    >>> list(res.sections)                                                   # doctest: +SKIP
    ['host', 'alerts', 'bookmarks', 'activity']
    >>> res.show("alerts")                                                   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from nbcatalog.errors import UsageError
from nbcatalog.runstate import NO_DATA, banner_html, no_data_info
from nbcatalog.scraps import SidecarFrame
from nbcatalog.template import SECTION_TAG

SCRAP_MIME_PREFIX = "application/scrapbook.scrap."
# Outputs that other outputs need in order to render (plot libraries' loaders).
LOADER_MIMES = ("application/vnd.bokehjs_load.v0+json", "application/javascript")


def _cell_sections(cell: NotebookNode) -> list[str]:
    return [
        t[len(SECTION_TAG) :] for t in cell.metadata.get("tags", []) if t.startswith(SECTION_TAG)
    ]


def displayable(output: NotebookNode) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (data, metadata) bundle to show again for one saved output, or None.

    Scrapbook's data payloads and stderr (warnings) are left out.
    """
    kind = output.get("output_type")
    if kind == "stream":
        if output.get("name") != "stdout":
            return None
        return {"text/plain": output.get("text", "")}, {}
    if kind == "error":
        return {"text/plain": f"{output.get('ename')}: {output.get('evalue')}"}, {}
    if kind not in ("display_data", "execute_result"):
        return None
    data = {k: v for k, v in output.get("data", {}).items() if not k.startswith(SCRAP_MIME_PREFIX)}
    if not data:
        return None
    metadata = {k: v for k, v in output.get("metadata", {}).items() if k != "scrapbook"}
    return data, metadata


def json_safe(value: Any) -> Any:
    """A glued value as plain JSON: dates as ISO text, NaN as null, frames summarised.

    Example:
        >>> json_safe({"n": float("nan"), "when": dt.date(2024, 5, 1)})
        {'n': None, 'when': '2024-05-01'}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, SidecarFrame):  # summarised from its reference, file left unread
        if value.kind == "series":
            return {"type": "Series", "rows": value.rows, "name": str(value.columns[0])}
        return {"type": "DataFrame", "rows": value.rows, "columns": value.columns}
    if hasattr(value, "shape") and hasattr(value, "columns"):
        return {
            "type": "DataFrame",
            "rows": int(value.shape[0]),
            "columns": [str(c) for c in value.columns],
        }
    if type(value).__name__ == "Series":
        return {"type": "Series", "rows": int(len(value)), "name": str(value.name)}
    if hasattr(value, "item") and callable(value.item) and not hasattr(value, "__len__"):
        try:
            value = value.item()  # numpy scalar
        except (TypeError, ValueError):
            pass
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        try:
            return value.isoformat()
        except ValueError:  # pandas NaT
            return None
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    text = str(value)
    return None if text in ("NaT", "nan") else text


class ResultData(Mapping):
    """The glued values by name; frames kept in sidecar files are read on first access.

    Behaves as a read-only dict: ``res.data["big"]`` is the DataFrame.

    Example:
        >>> data = ResultData({"n": 3})
        >>> data["n"], list(data), len(data)
        (3, ['n'], 1)
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        value = self._values[name]
        if isinstance(value, SidecarFrame):
            value = self._values[name] = value.load()
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return name in self._values  # without reading anything

    def stored(self, name: str) -> Any:
        """The value without reading a sidecar (a `SidecarFrame` if not yet read)."""
        return self._values[name]

    def __repr__(self) -> str:
        return f"ResultData({self._values!r})"


class Results:
    """The outcome of one finished run (``ok`` or ``no_data``): glued data, sections, files.

    Values are reachable as attributes and keys: ``res.alerts``, ``res["alerts"]``.
    """

    def __init__(
        self,
        *,
        template: str,
        data: Mapping[str, Any],
        displays: dict[str, dict[str, Any]],
        sections: dict[str, str],
        notebook: NotebookNode,
        parameters: dict[str, Any],
        run_dir: Path,
        notebook_path: Path,
        report_path: Path | None,
        status: str,
        duration: float,
        run_info: dict[str, Any] | None = None,
        outcome: Mapping[str, Any] | None = None,
        findings: list[dict[str, Any]] | None = None,
    ) -> None:
        self.template = template
        self.data = data if isinstance(data, ResultData) else ResultData(data)
        self._displays = displays
        self.sections = sections
        self._notebook = notebook
        self._drawn = False
        self.parameters = parameters
        self.run_dir = run_dir
        self._notebook_path = notebook_path
        self.report_path = report_path
        self.status = status
        self.duration = duration
        self.run_info = run_info or {}
        self.outcome = dict(outcome) if outcome else None
        self._findings = [dict(f) for f in findings] if findings is not None else None

    # ------------------------------------------------- notebook and displays

    @property
    def notebook(self) -> NotebookNode:
        """The executed notebook; charts a run left undrawn are drawn on first access."""
        if not self._drawn:
            self._drawn = True
            from nbcatalog.lazycharts import drawn_displays, ensure_drawn

            if ensure_drawn(self._notebook_path, self._notebook):
                drawn = drawn_displays(self._notebook)
                self._displays.update({k: v for k, v in drawn.items() if k in self._displays})
        return self._notebook

    @property
    def notebook_path(self) -> Path:
        """The saved notebook, its charts drawn (whoever asks for the file gets them)."""
        self.notebook  # noqa: B018 - draws the charts the file still lacks
        return self._notebook_path

    @property
    def displays(self) -> dict[str, dict[str, Any]]:
        """Glued displays by name ({"data", "metadata"}), charts drawn."""
        self.notebook  # noqa: B018 - draws the charts the displays show
        return self._displays

    # ------------------------------------------------------------ data state

    @property
    def no_data(self) -> dict[str, Any] | None:
        """Why the run found nothing (``status == "no_data"``), else None.

        Keys: reason, reasons, entity, closest, candidates, missing_tables,
        missing_queries. Example:
            >>> res.no_data["reason"]                   # doctest: +SKIP
            "no host named 'WKSTN-999' in this data source (closest: WKSTN-049)"
        """
        if self.status != NO_DATA:
            return None
        return no_data_info(self.outcome)

    @property
    def findings(self) -> list[dict[str, Any]] | None:
        """What the run concluded: the template's findings, most severe first.

        Each is a dict: ``severity`` (high, medium, low or info), ``title`` (one
        plain sentence), ``text`` (detail, may be ""), ``section`` (the section
        holding the evidence), ``result`` (the name of the glued frame with the
        evidence rows: ``res[f["result"]]``), ``count`` (how many rows) and ``key``
        (stable from run to run). An empty list: the data was there and nothing
        stood out; None: the template records no findings. A ``no_data`` run found
        nothing to judge whatever this holds: check `status` first.

        Example:
            >>> [(f["severity"], f["title"]) for f in res.findings][:1]   # doctest: +SKIP
            [('high', 'Encoded PowerShell ran on WKSTN-042: it downloads and runs ...')]
            >>> res[res.findings[0]["result"]]                            # doctest: +SKIP
        """
        if self._findings is None:
            return None
        from nbcatalog.findings_model import ranked

        return [dict(f) for f in ranked(self._findings)]

    @property
    def reason(self) -> str:
        """One line: why the run is no_data ("" for an ok run)."""
        info = self.no_data
        return info["reason"] if info else ""

    def _banner_html(self) -> str:
        info = self.no_data
        return banner_html(info) if info is not None else ""

    # ------------------------------------------------------------- access

    def __getitem__(self, name: str) -> Any:
        try:
            return self.data[name]
        except KeyError:
            raise KeyError(
                f"{self.template} has no result {name!r}; results: {', '.join(self.data) or 'none'}"
            ) from None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "data":
            raise AttributeError(name)
        data = self.__dict__.get("data", {})
        if name in data:
            return data[name]
        action = self._drilldown_action(name)  # glued results win over drill-downs
        if action is not None:
            return action
        raise AttributeError(
            f"{self.__dict__.get('template', 'Results')!r} has no result {name!r}; "
            f"results: {', '.join(data) or 'none'}"
        )

    def __contains__(self, name: object) -> bool:
        return name in self.data

    def diff(self, other: Results | str | Path) -> Any:
        """What changed in this run since `other` (an earlier run: Results or its folder).

        Findings are matched by their ``key`` and the key tables by the template's
        ``diff_keys``; see `nbcatalog.rundiff`. Shows as a "since last run" block.

        Example:
            >>> today.diff(yesterday).summary                      # doctest: +SKIP
            '1 new related_alerts row since 06:00 UTC'
            >>> today.diff("output/host_summary/20260101T060000Z-ab12cd").new  # doctest: +SKIP
        """
        from nbcatalog.rundiff import diff_snapshots, folder_snapshot, template_diff_keys

        if isinstance(other, Results):
            if other.template != self.template:
                raise UsageError(
                    f"cannot diff {self.template} against {other.template}: "
                    "a diff compares two runs of the same notebooklet"
                )
            before = other._snapshot()
        else:
            try:
                before = folder_snapshot(other)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            if before.template and before.template != self.template:
                raise UsageError(
                    f"{other} is a {before.template} run; this is {self.template}: "
                    "a diff compares two runs of the same notebooklet"
                )
        return diff_snapshots(before, self._snapshot(), template_diff_keys(self.template))

    def _snapshot(self) -> Any:
        from nbcatalog.report_data import as_frame
        from nbcatalog.rundiff import Snapshot, run_when

        findings = self.run_info.get("findings")
        if not isinstance(findings, list) and isinstance(self.data.get("findings"), list):
            findings = self.data.get("findings")
        return Snapshot(
            run_id=str(self.run_info.get("run_id") or Path(self.run_dir).name),
            when=run_when(self.run_info),
            findings=[dict(f) for f in findings if isinstance(f, Mapping)]
            if isinstance(findings, list)
            else None,
            load_table=lambda name: as_frame(self.data.get(name)),
            template=self.template,
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.data) | set(self._drilldown_names()))

    # --------------------------------------------------------- drill-downs

    def _drilldown_names(self) -> list[str]:
        from nbcatalog.drilldowns import specs_for

        try:
            return list(specs_for(self))
        except UsageError:
            return []

    def _drilldown_action(self, name: str) -> Any:
        if "template" not in self.__dict__ or name not in self._drilldown_names():
            return None
        return functools.partial(self.drilldown, name)

    def drilldown(self, name: str | None = None, row: Any = None, **kwargs: Any) -> Any:
        """Run a drill-down the template declares (no name: the table of them).

        Example:
            >>> res.drilldown("pick_ip", row="203.0.113.77")    # doctest: +SKIP
        """
        from nbcatalog.drilldowns import run_drilldown

        return run_drilldown(self, name, row, **kwargs)

    def pick(self, parameter: str, value: Any = None, **kwargs: Any) -> Any:
        """Re-run with a picker parameter set from this run's rows (no value: a picker).

        Example:
            >>> res.pick("account_id", "linux:bob")              # doctest: +SKIP
        """
        from nbcatalog.drilldowns import pick

        return pick(self, parameter, value, **kwargs)

    def keys(self) -> list[str]:
        """The names of the glued results."""
        return list(self.data)

    def __repr__(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        if self._findings:
            from nbcatalog.findings_model import counts_text

            why += f" [findings: {counts_text(self._findings)}]"
        return (
            f"<Results {self.template} {self.status}{why} in {self.duration:.1f}s: "
            f"{', '.join(self.data)}; run folder {self.run_dir}>"
        )

    # ----------------------------------------------------------- sections

    def _section_ids(self, section: str | None) -> list[str]:
        if section is None:
            return list(self.sections)
        if section not in self.sections:
            raise UsageError(
                f"{self.template} has no section {section!r}; "
                f"sections: {', '.join(self.sections) or 'none'}"
            )
        return [section]

    def section_cells(self, section: str) -> list[NotebookNode]:
        """The executed cells of one section, in order."""
        return [c for c in self.notebook.cells if section in _cell_sections(c)]

    def _loader_outputs(self, wanted: set[int]) -> list[tuple[dict, dict]]:
        """Outputs outside the shown cells that shown outputs need (e.g. BokehJS)."""
        bundles = []
        for index, cell in enumerate(self.notebook.cells):
            if index in wanted:
                continue
            for output in cell.get("outputs", []):
                if any(m in output.get("data", {}) for m in LOADER_MIMES):
                    shown = displayable(output)
                    if shown:
                        bundles.append(shown)
        return bundles

    def section_bundles(self, section: str | None = None) -> list[tuple[dict, dict]]:
        """The (data, metadata) bundles `show` publishes, loaders first.

        Markdown cells come as ``text/markdown``; outputs as they were saved.
        """
        ids = self._section_ids(section)
        shown_cells = {
            i for i, c in enumerate(self.notebook.cells) if set(_cell_sections(c)) & set(ids)
        }
        bundles: list[tuple[dict, dict]] = []
        needs_loader = False
        for sid in ids:
            for cell in self.section_cells(sid):
                if cell.cell_type == "markdown":
                    bundles.append(({"text/markdown": cell.source, "text/plain": cell.source}, {}))
                    continue
                for output in cell.get("outputs", []):
                    shown = displayable(output)
                    if shown:
                        bundles.append(shown)
                        needs_loader |= any(
                            "bokeh" in m or "javascript" in m for m in shown[0]
                        ) or "<script" in str(shown[0].get("text/html", ""))
        if needs_loader:
            bundles = self._loader_outputs(shown_cells) + bundles
        return bundles

    def show(self, section: str | None = None) -> None:
        """Display all sections (or one) with their original rich outputs.

        Example:
            >>> res.show()             # doctest: +SKIP
            >>> res.show("timeline")   # doctest: +SKIP
        """
        from IPython.display import publish_display_data

        banner = self._banner_html()
        if banner:  # found nothing: say so before any (empty) section
            publish_display_data({"text/html": banner, "text/plain": f"NO DATA: {self.reason}"})
        for data, metadata in self.section_bundles(section):
            publish_display_data(data, metadata=metadata)
        offered = self._drilldown_html() if section is None else ""
        if offered:  # what the analyst can do next with this run
            publish_display_data({"text/html": offered, "text/plain": "drill-downs"})

    # ------------------------------------------------------------ summaries

    def to_json_summary(self) -> dict[str, Any]:
        """A JSON-ready summary: status, folders and each result (frames summarised).

        Example:
            >>> res.to_json_summary()["results"]["related_alerts"]   # doctest: +SKIP
            {'type': 'DataFrame', 'rows': 3, 'columns': ['TimeGenerated', ...]}
        """
        return {
            "status": self.status,
            "template": self.template,
            "run_dir": str(self.run_dir),
            "notebook": str(self._notebook_path),  # named, not drawn (notebook_path draws)
            "report": str(self.report_path) if self.report_path else None,
            "duration": round(self.duration, 3),
            "parameters": json_safe(self.parameters),
            "no_data": json_safe(self.no_data),
            "findings": json_safe(self.findings),
            "results": {name: json_safe(self.data.stored(name)) for name in self.data},
        }

    def _result_rows(self) -> str:
        rows = []
        for name in self.data:
            shown = json_safe(self.data.stored(name))
            if isinstance(shown, dict) and shown.get("type") in ("DataFrame", "Series"):
                what = f"{shown['type']}, {shown['rows']} rows"
            else:
                text = repr(shown)
                what = text if len(text) <= 120 else text[:117] + "..."
            rows.append(
                f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(what)}</td></tr>"
            )
        return "".join(rows)

    def _drilldown_html(self) -> str:
        from nbcatalog.drilldowns import listing

        try:
            table = listing(self)
        except UsageError:
            return ""
        rows = "".join(
            f"<tr><td><code>{html.escape(r.Call)}</code></td><td>{html.escape(r.Description)}</td>"
            "</tr>"
            for r in table.itertuples()
        )
        return f"<p>drill-downs:</p><table>{rows}</table>" if rows else ""

    def _run_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"status": self.status, "no_data": self.no_data}
        if self._findings is not None:
            info["findings"] = self._findings
        return info

    def _findings_html(self) -> str:
        from nbcatalog.report_layout import verdict_level, verdict_text

        colours = {"high": "#b71c1c", "medium": "#e67e00", "low": "#2a6ebb", "info": "#778"}
        info = self._run_info()
        level = verdict_level(info)
        border = colours.get(level, "#b35900" if level == NO_DATA else "#2e7d32")
        items = []
        for f in self.findings or []:
            colour = colours.get(f["severity"], "#778")
            where = []
            if f.get("count") is not None:
                where.append(f"{f['count']} row{'s' if f['count'] != 1 else ''}")
            if f.get("result"):
                where.append(f'<code>res["{html.escape(f["result"])}"]</code>')
            if f.get("section") in self.sections:
                where.append(f'<code>res.show("{html.escape(f["section"])}")</code>')
            items.append(
                f'<li><b style="color:{colour}">{html.escape(f["severity"].upper())}</b> '
                f"{html.escape(f['title'])}"
                + (f" <small>({', '.join(where)})</small>" if where else "")
                + "</li>"
            )
        listed = f"<ol style='margin:4px 0'>{''.join(items)}</ol>" if items else ""
        return (
            f'<div class="nbcatalog-verdict" style="border-left:6px solid {border};'
            'padding:6px 12px;margin:6px 0">'
            f"<b>Verdict: {html.escape(verdict_text(info))}</b>{listed}</div>"
        )

    def _sections_html(self) -> str:
        tally: dict[str, int] = {}
        for f in self._findings or []:
            tally[str(f.get("section"))] = tally.get(str(f.get("section")), 0) + 1
        rows = "".join(
            f"<tr><td><code>res.show(&quot;{html.escape(sid)}&quot;)</code></td>"
            f"<td>{html.escape(title)}</td>"
            f"<td style='text-align:right'>{tally.get(sid, '')}</td></tr>"
            for sid, title in self.sections.items()
        )
        if not rows:
            return ""
        return (
            "<table><thead><tr><th>section</th><th>title</th><th>findings</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )

    def _repr_html_(self) -> str:
        """The verdict, the findings and the sections: `show()` displays the sections."""
        params = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return (
            "<div class='nbcatalog-results'>"
            f"<h3>{html.escape(self.template)}: {html.escape(self.status)}</h3>"
            + self._banner_html()
            + self._findings_html()
            + f"<p><small>{html.escape(params)}; ran in {self.duration:.1f} s; run folder "
            f"<code>{html.escape(str(self.run_dir))}</code></small></p>"
            + self._sections_html()
            + "<details><summary>results</summary>"
            f"<table><tr><th>result</th><th>value</th></tr>{self._result_rows()}</table>"
            "</details>" + self._drilldown_html() + "</div>"
        )
