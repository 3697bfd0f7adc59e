"""The report index: ``<output root>/index.html``, listing runs by job and by notebooklet.

Newest first, with status, covered time range and links to each run's report,
notebook and run.json; a failed run shows its error and links its partial
notebook. A ``no_data`` run (its entity matched nothing, its tables are absent)
says what was missing; it is amber, and red like a failure when it was made
under a strict policy (a strict job, `run --strict`), still labelled no_data.
Each run also shows its verdict and top findings (from its run.json, when the
template recorded them) and links its PDF when one was printed. Selects at the
top filter the rows by job, notebooklet and status (a small inline script,
allowed by its hash in the page's Content-Security-Policy; without script every
row shows). Every value comes from run history, which comes from logs and user
input, so all of it is escaped. The page is one self-contained file (inline
styles and script, nothing fetched), written atomically.

Example:
    >>> write_index(Path("output"))     # doctest: +SKIP
    PosixPath('output/index.html')
"""

from __future__ import annotations

import html
import json
import os
import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nbcatalog import history
from nbcatalog.report_assets import csp_meta
from nbcatalog.report_layout import SEVERITIES, ranked, verdict_level, verdict_text
from nbcatalog.runfolder import write_text
from nbcatalog.runstate import NO_DATA

INDEX_NAME = "index.html"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem;
       color: #1d2330; background: #fff; }
h1 { margin-bottom: 0.2rem; } .generated { color: #667; margin-top: 0; }
nav a { margin-right: 1rem; }
h2 { border-bottom: 2px solid #d7dbe3; padding-bottom: 0.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.3rem 0.6rem; border-bottom: 1px solid #e4e7ee;
         vertical-align: top; }
th { background: #f3f5f9; }
.status { font-weight: 600; padding: 0.1rem 0.45rem; border-radius: 0.6rem; }
.status-ok { background: #dff3e4; color: #145c2c; }
.status-failed { background: #fbe1e1; color: #8a1c1c; }
.status-running { background: #fff4d6; color: #7a5600; }
.status-no_data { background: #fff0d9; color: #8a4b00; border: 1px dashed #b35900; }
.status-no_data.strict { background: #fbe1e1; color: #8a1c1c; border: 1px solid #8a1c1c; }
.reason { font-size: 0.8rem; color: #8a4b00; margin: 0.2rem 0 0; }
.reason.strict { color: #8a1c1c; font-weight: 600; }
.error { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 0.8rem;
         color: #8a1c1c; margin: 0.2rem 0 0; }
.params { font-family: ui-monospace, monospace; font-size: 0.8rem; }
.empty { color: #667; }
.filters { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin: 1rem 0;
           padding: 0.5rem 0.8rem; background: #f3f5f9; border-radius: 0.4rem; }
.filters[hidden] { display: none; }
.verdict { font-size: 0.85rem; margin: 0; }
.verdict.level-high, .verdict.level-failed { color: #8a1c1c; font-weight: 600; }
.verdict.level-medium, .verdict.level-no_data { color: #8a4b00; font-weight: 600; }
.since { font-size: 0.85rem; margin: 0; }
.findings { margin: 0.2rem 0 0; padding-left: 1.1rem; font-size: 0.8rem; }
.sev { font-size: 0.7rem; font-weight: 700; text-transform: uppercase; padding: 0 0.3rem;
       border-radius: 0.4rem; color: #fff; background: #778; }
.sev-high { background: #b71c1c; } .sev-medium { background: #e67e00; }
.sev-low { background: #2a6ebb; }
"""

# Shows only the rows (and groups) matching the selects; every row shows without it.
FILTER_SCRIPT = """(function () {
  "use strict";
  var bar = document.getElementById("filters");
  if (!bar) { return; }
  var selects = bar.querySelectorAll("select");
  function apply() {
    var want = {};
    selects.forEach(function (s) { want[s.name] = s.value; });
    document.querySelectorAll("tr[data-status]").forEach(function (row) {
      var show = Object.keys(want).every(function (k) {
        return !want[k] || row.getAttribute("data-" + k) === want[k];
      });
      row.hidden = !show;
    });
    document.querySelectorAll("section.group").forEach(function (group) {
      group.hidden = group.querySelector("tr[data-status]:not([hidden])") === null;
    });
    var shown = document.querySelectorAll("tr[data-status]:not([hidden])").length;
    document.getElementById("filter-count").textContent = shown + " row(s) shown";
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  bar.hidden = false;
  apply();
})();"""

_COLUMNS_JOB = (
    "Fire time",
    "Parameters",
    "Status",
    "Verdict",
    "Since last run",
    "Time range",
    "Attempt",
    "Files",
)
_COLUMNS_NB = ("Started", "Job", "Parameters", "Status", "Verdict", "Time range", "Files")
TOP_FINDINGS = 3


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def _when(text: str | None) -> str:
    return (text or "").replace("T", " ").replace("Z", " UTC") or "—"


def _params(record: history.RunRecord) -> str:
    shown = {k: v for k, v in record.parameters.items() if k not in ("start", "end")}
    text = ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "(defaults)"
    return f'<span class="params">{_e(text)}</span>'


# States whose notebook stopped part-way (a no_data run's notebook is complete).
_PARTIAL = ("failed", "interrupted", "abandoned", "running")


def _status(record: history.RunRecord) -> str:
    cls = _slug(record.status.lower())
    if record.status == NO_DATA and record.strict:  # counts as a failure: looks like one
        title = "no data, and this run's policy is strict: counted as a failure"
        return (
            f'<span class="status status-{cls} strict" title="{_e(title)}">'
            f"{_e(record.status)} (strict)</span>"
        )
    return f'<span class="status status-{cls}">{_e(record.status)}</span>'


def _files(record: history.RunRecord, pdf_exists: bool = False) -> str:
    links = []
    labels = {"report": "report", "notebook": "notebook", "run_json": "run.json"}
    if record.status in _PARTIAL and "notebook" in record.paths:
        labels["notebook"] = "partial notebook"
    for key, label in labels.items():
        path = record.paths.get(key)
        if path:
            links.append(f'<a href="{_e(quote(path))}">{_e(label)}</a>')
        if key == "report" and path and pdf_exists:
            pdf = path.rsplit("/", 1)[0] + "/report.pdf" if "/" in path else "report.pdf"
            links.append(f'<a href="{_e(quote(pdf))}">PDF</a>')
    text = " · ".join(links) or '<span class="empty">no files</span>'
    if record.error:
        text += f'<div class="error">{_e(record.error)}</div>'
    if record.status == NO_DATA:
        strict = " strict" if record.strict else ""
        text += f'<div class="reason{strict}">no data: {_e(record.reason or "no data")}</div>'
    return text


def counts_text(records: list[history.RunRecord]) -> str:
    """``3 run(s): 1 ok, 1 no_data, 1 failed`` (states in a fixed order).

    Example:
        >>> counts_text([])
        '0 run(s)'
    """
    by_status: dict[str, int] = defaultdict(int)
    for rec in records:
        by_status[rec.status] += 1
    order = ["ok", NO_DATA, "failed"] + sorted(set(by_status) - {"ok", NO_DATA, "failed"})
    parts = [f"{by_status[s]} {s}" for s in order if by_status.get(s)]
    return f"{len(records)} run(s)" + (": " + ", ".join(parts) if parts else "")


def _range(record: history.RunRecord) -> str:
    if not (record.range_start or record.range_end):
        return "—"
    return f"{_e(_when(record.range_start))} → {_e(_when(record.range_end))}"


# run.json path -> (its version key, verdict cell, since cell): see RunDetails.cells.
_CELLS: dict[str, tuple[tuple[Any, ...], str, str]] = {}
_CELLS_MAX = 50_000


class RunDetails:
    """What an index row shows beyond the history record: run.json's verdict, a PDF."""

    def __init__(self, root: Path | None):
        self.root = root

    def run_info(self, record: history.RunRecord) -> Mapping[str, Any]:
        """The run's run.json (its status and no_data reason from history), or just those."""
        info: dict[str, Any] = {}
        path = record.paths.get("run_json")
        if self.root is not None and path:
            try:
                loaded = json.loads((self.root / path).read_text(encoding="utf-8"))
                info = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                info = {}
        info["status"] = record.status
        if record.status == NO_DATA:
            info["no_data"] = {"reason": record.reason or "no data"}
        if record.error and not info.get("error"):
            info["error"] = record.error
        return info

    def cells(self, record: history.RunRecord) -> tuple[str, str]:
        """The verdict and since-last-run cells of a row (`verdict_cell`, `since_cell`).

        Remembered per run.json version (its mtime and size) and the record's own
        status, reason and error: rewriting the index after each run then reads only
        the run.json files that changed, not every run's.
        """
        path = record.paths.get("run_json")
        key: tuple[Any, ...] | None = None
        if self.root is not None and path:
            try:
                stat = (self.root / path).stat()
                key = (
                    str(self.root / path),
                    stat.st_ino,  # run.json is replaced by rename: each version a new inode
                    stat.st_mtime_ns,
                    stat.st_size,
                    record.status,
                    record.reason,
                    record.error,
                )
            except OSError:
                key = None  # gone: run_info falls back to the record, uncached
        if key is not None:
            held = _CELLS.get(key[0])
            if held is not None and held[0] == key:
                return held[1], held[2]
        info = self.run_info(record)
        verdict, since = verdict_cell(info), since_cell(info)
        if key is not None:
            if len(_CELLS) >= _CELLS_MAX:
                _CELLS.clear()  # a bound, not an eviction policy: it refills as rows are drawn
            _CELLS[key[0]] = (key, verdict, since)
        return verdict, since

    def has_pdf(self, record: history.RunRecord) -> bool:
        report = record.paths.get("report")
        return bool(self.root and report and (self.root / report).with_name("report.pdf").exists())


def verdict_cell(info: Mapping[str, Any]) -> str:
    """A run's verdict sentence and its top findings, escaped.

    Example:
        >>> "level-high" in verdict_cell({"status": "ok", "findings": [
        ...     {"severity": "high", "title": "Brute force"}]})
        True
    """
    if info.get("status") == "ok" and "findings" not in info and not info.get("verdict"):
        return '<span class="empty">—</span>'  # made before findings were recorded
    level = verdict_level(info)
    parts = [f'<p class="verdict level-{_e(level)}">{_e(verdict_text(info))}</p>']
    findings = info.get("findings")
    if isinstance(findings, list):
        top = ranked([f for f in findings if isinstance(f, Mapping)])[:TOP_FINDINGS]
        items = []
        for finding in top:
            severity = str(finding.get("severity") or "info").lower()
            severity = severity if severity in SEVERITIES else "info"
            items.append(
                f'<li><span class="sev sev-{severity}">{_e(severity)}</span> '
                f"{_e(finding.get('title') or finding.get('text') or '')}</li>"
            )
        if items:
            parts.append(f'<ul class="findings">{"".join(items)}</ul>')
    return "".join(parts)


# A new row's own name, shown after its key so a reader knows what it is.
_ROW_LABELS = ("AlertDisplayName", "DisplayName", "AlertName", "BookmarkName", "Kind", "Activity")


def since_cell(info: Mapping[str, Any]) -> str:
    """A scheduled run's diff against the job's previous run: summary and what is new, escaped.

    Example:
        >>> cell = since_cell({"diff": {"previous": "r1", "summary": "1 new finding",
        ...     "new": [{"severity": "high", "title": "<b>x</b>"}]}})
        >>> "<li>new: &lt;b&gt;x&lt;/b&gt;</li>" in cell
        True
    """
    diff = info.get("diff")
    if not isinstance(diff, Mapping):
        return '<span class="empty">—</span>'
    summary = str(diff.get("summary") or "")
    items = [
        f"new: {_e(f.get('title') or f.get('key') or '')}"
        for f in diff.get("new") or []
        if isinstance(f, Mapping)
    ]
    for name, table in dict(diff.get("tables") or {}).items():
        if not isinstance(table, Mapping):
            continue
        keys = [str(k) for k in table.get("keys") or []]
        for row in table.get("new") or []:
            if isinstance(row, Mapping):
                shown = ", ".join(str(row.get(k)) for k in keys)
                label = next((row[c] for c in _ROW_LABELS if row.get(c)), None)
                shown += f" ({label})" if label else ""
                items.append(f"new {_e(name)}: {_e(shown)}")
    listed = "".join(f"<li>{item}</li>" for item in items[:TOP_FINDINGS])
    more = f"<li>… {len(items) - TOP_FINDINGS} more</li>" if len(items) > TOP_FINDINGS else ""
    text = f'<p class="since">{_e(summary)}</p>'
    return text + (f'<ul class="findings">{listed}{more}</ul>' if listed else "")


def _row_attributes(record: history.RunRecord) -> str:
    return (
        f'data-job="{_e(record.job or "")}" data-notebooklet="{_e(record.template)}" '
        f'data-status="{_e(record.status)}"'
    )


def _table(headers: tuple[str, ...], rows: list[tuple[str, list[str]]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        f"<tr {attributes}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>"
        for attributes, row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _select(name: str, label: str, values: list[str]) -> str:
    options = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)
    return (
        f'<label>{_e(label)} <select name="{_e(name)}" aria-label="Filter by {_e(label)}">'
        f'<option value="">all</option>{options}</select></label>'
    )


def _filters(records: list[history.RunRecord]) -> str:
    jobs = sorted({r.job for r in records if r.job})
    notebooklets = sorted({r.template for r in records})
    states = sorted({r.status for r in records})
    return (
        '<div class="filters" id="filters" hidden>'
        + _select("job", "job", jobs)
        + _select("notebooklet", "notebooklet", notebooklets)
        + _select("status", "status", states)
        + '<span id="filter-count"></span></div>'
    )


def render_index(
    records: list[history.RunRecord],
    *,
    generated: datetime | None = None,
    root: str | os.PathLike | None = None,
) -> str:
    """The index page for `records` (newest first within each group), as HTML text.

    With the output `root`, each run's verdict and findings come from its run.json
    and a printed PDF is linked.

    Example:
        >>> "<h1>" in render_index([])
        True
    """
    generated = generated or datetime.now(timezone.utc)
    details = RunDetails(Path(root) if root is not None else None)
    by_job: dict[str, list[history.RunRecord]] = defaultdict(list)
    by_nb: dict[str, list[history.RunRecord]] = defaultdict(list)
    for rec in records:
        if rec.job:
            by_job[rec.job].append(rec)
        by_nb[rec.template].append(rec)
    cells = {id(r): details.cells(r) for r in records}
    verdicts = {k: v[0] for k, v in cells.items()}
    sinces = {k: v[1] for k, v in cells.items()}
    pdfs = {id(r): details.has_pdf(r) for r in records}

    def newest(rs: list[history.RunRecord], *keys: str) -> list[history.RunRecord]:
        def key(r: history.RunRecord) -> tuple:
            return tuple(getattr(r, k) or "" for k in keys)

        return sorted(rs, key=key, reverse=True)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        csp_meta([FILTER_SCRIPT]),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>nbcatalog reports</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>nbcatalog reports</h1>",
        f'<p class="generated">{_e(counts_text(records))}; generated '
        f"{_e(_when(history.utc_text(generated)))}</p>",
        '<nav><a href="#by-job">By job</a><a href="#by-notebooklet">By notebooklet</a></nav>',
        _filters(records),
        '<h2 id="by-job">By job</h2>',
    ]
    if not by_job:
        parts.append('<p class="empty">No scheduled runs yet.</p>')
    for job in sorted(by_job):
        rows = [
            (
                _row_attributes(r),
                [
                    _e(_when(r.fire_time)),
                    _params(r),
                    _status(r),
                    verdicts[id(r)],
                    sinces[id(r)],
                    _range(r),
                    _e(r.attempt if r.attempt is not None else "—")
                    + (f" ({_e(r.trigger)})" if r.trigger and r.trigger != "schedule" else ""),
                    _files(r, pdfs[id(r)]),
                ],
            )
            for r in newest(by_job[job], "fire_time", "started", "run_dir")
        ]
        parts.append(f'<section class="group"><h3 id="job-{_e(_slug(job))}">{_e(job)}</h3>')
        parts.append(_table(_COLUMNS_JOB, rows) + "</section>")
    parts.append('<h2 id="by-notebooklet">By notebooklet</h2>')
    if not by_nb:
        parts.append('<p class="empty">No runs yet.</p>')
    for name in sorted(by_nb):
        rows = [
            (
                _row_attributes(r),
                [
                    _e(_when(r.started or r.recorded_at)),
                    _e(r.job or r.trigger or "—"),
                    _params(r),
                    _status(r),
                    verdicts[id(r)],
                    _range(r),
                    _files(r, pdfs[id(r)]),
                ],
            )
            for r in newest(by_nb[name], "started", "recorded_at", "run_dir")
        ]
        parts.append(f'<section class="group"><h3 id="nb-{_e(_slug(name))}">{_e(name)}</h3>')
        parts.append(_table(_COLUMNS_NB, rows) + "</section>")
    parts.append(f"<script>{FILTER_SCRIPT}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_index(root: str | os.PathLike | None = None) -> Path:
    """Regenerate ``<root>/index.html`` from the run history, atomically.

    Example:
        >>> write_index("output")     # doctest: +SKIP
        PosixPath('output/index.html')
    """
    root = Path(root) if root is not None else history.output_root()
    root.mkdir(parents=True, exist_ok=True)
    history.mark_abandoned(root)  # a run whose runner was killed shows as abandoned
    text = render_index(history.list_runs(root), root=root)
    return write_text(root / INDEX_NAME, text)
