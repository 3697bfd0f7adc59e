"""The top of a report: links, the verdict block and the table of contents.

The verdict comes from run.json: ``verdict`` (``{"text", "counts"}``) and
``findings`` (severity, title, text, section, result, count) when the template
recorded them; otherwise from the run's status alone. Every value is escaped:
finding texts quote log fields.

Example:
    >>> "Nothing found" in verdict_html({"status": "ok", "findings": []})
    True
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from nbcatalog.runstate import NO_DATA, banner_html

SEVERITIES = ("high", "medium", "low", "info")
TOP_FINDINGS = 5
_FAILED_STATES = ("failed", "interrupted", "abandoned")


@dataclass(frozen=True)
class Section:
    """A template section as the report shows it: id, heading and its anchor."""

    id: str
    title: str

    @property
    def anchor(self) -> str:
        return section_anchor(self.id)


@dataclass
class Links:
    """Files the report links to, relative to the report (None: not linked)."""

    index: str | None = None
    notebook: str | None = None
    run_json: str | None = None
    data: list[Any] = field(default_factory=list)  # report_data.DataFile


def section_anchor(section_id: str) -> str:
    """The element id a section's heading carries in the report.

    Example:
        >>> section_anchor("alerts 2")
        'sec-alerts-2'
    """
    return "sec-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", str(section_id)).strip("-") or "x")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _href(path: str) -> str:
    return _e(quote(path))


def _findings(run_info: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    found = run_info.get("findings")
    if not isinstance(found, list):
        return None
    return [f for f in found if isinstance(f, Mapping)]


def _severity(finding: Mapping[str, Any]) -> str:
    value = str(finding.get("severity") or "info").lower()
    return value if value in SEVERITIES else "info"


def ranked(findings: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Findings, most severe first, then the largest counts (a stable order otherwise).

    Example:
        >>> [f["title"] for f in ranked([{"severity": "low", "title": "a"},
        ...                              {"severity": "high", "title": "b"}])]
        ['b', 'a']
    """

    def key(item: tuple[int, Mapping[str, Any]]) -> tuple:
        index, finding = item
        count = finding.get("count")
        return (
            SEVERITIES.index(_severity(finding)),
            -(count if isinstance(count, int) else 0),
            index,
        )

    return [f for _, f in sorted(enumerate(findings), key=key)]


def severity_counts(run_info: Mapping[str, Any]) -> dict[str, int]:
    """Findings by severity: the verdict's own counts, else counted from the findings.

    Example:
        >>> severity_counts({"findings": [{"severity": "high"}, {"severity": "high"}]})
        {'high': 2}
    """
    verdict = run_info.get("verdict")
    counts = verdict.get("counts") if isinstance(verdict, Mapping) else None
    if isinstance(counts, Mapping):
        return {
            s: int(counts[s]) for s in SEVERITIES if isinstance(counts.get(s), int) and counts[s]
        }
    tally = Counter(_severity(f) for f in _findings(run_info) or [])
    return {s: tally[s] for s in SEVERITIES if tally[s]}


def verdict_level(run_info: Mapping[str, Any]) -> str:
    """The verdict's colour: a failure or no_data state, else the worst severity, else ok.

    Example:
        >>> verdict_level({"status": "ok", "findings": [{"severity": "medium"}]})
        'medium'
    """
    status = str(run_info.get("status") or "ok")
    if status in _FAILED_STATES or status == NO_DATA:
        return status
    counts = severity_counts(run_info)
    return next((s for s in SEVERITIES if counts.get(s)), "ok")


def verdict_text(run_info: Mapping[str, Any]) -> str:
    """One sentence: the template's verdict, or what the status alone says.

    Example:
        >>> verdict_text({"status": "no_data", "no_data": {"reason": "no host named 'X'"}})
        "No data: no host named 'X'"
    """
    status = str(run_info.get("status") or "ok")
    if status == NO_DATA:
        reason = (run_info.get("no_data") or {}).get("reason") or "the data this needs is absent"
        return f"No data: {reason}"
    if status in _FAILED_STATES:
        error = run_info.get("error")
        message = error.get("message") if isinstance(error, Mapping) else error
        return f"The run {status}" + (f": {message}" if message else "")
    verdict = run_info.get("verdict")
    if isinstance(verdict, Mapping) and verdict.get("text"):
        return str(verdict["text"])
    findings = _findings(run_info)
    if findings is None:
        return "Ran to completion; this run recorded no findings list: read the sections below."
    if not findings:
        return "Nothing found: no section recorded a finding."
    counts = severity_counts(run_info)
    parts = ", ".join(f"{n} {s}" for s, n in counts.items())
    return f"{len(findings)} finding(s): {parts}."


def _finding_item(finding: Mapping[str, Any], sections: Mapping[str, Section], links: Links) -> str:
    severity = _severity(finding)
    title = _e(finding.get("title") or finding.get("text") or "finding")
    section = sections.get(str(finding.get("section")))
    if section is not None:
        title = f'<a href="#{section.anchor}">{title}</a>'
    parts = [f'<span class="nbc-sev nbc-sev-{severity}">{_e(severity)}</span>{title}']
    if finding.get("text") and finding.get("title"):
        parts.append(f" — {_e(finding['text'])}")
    count = finding.get("count")
    files = {d.name: d for d in links.data}
    evidence = files.get(str(finding.get("result")))
    if isinstance(count, int):
        parts.append(f" ({count} row{'s' if count != 1 else ''}")
        if evidence is not None and evidence.csv:
            parts.append(f', <a href="{_href(evidence.csv)}">evidence CSV</a>')
        parts.append(")")
    return f"<li>{''.join(parts)}</li>"


def verdict_html(
    run_info: Mapping[str, Any],
    sections: Sequence[Section] = (),
    links: Links | None = None,
) -> str:
    """The verdict block: status, one sentence, counts by severity, the top findings.

    Example:
        >>> "level-high" in verdict_html({"status": "ok", "findings": [
        ...     {"severity": "high", "title": "Brute force", "text": "<b>x</b>"}]})
        True
    """
    links = links or Links()
    by_id = {s.id: s for s in sections}
    level = verdict_level(run_info)
    status = str(run_info.get("status") or "ok")
    parts = [
        f'<section class="nbc-verdict level-{_e(level)}" id="verdict" aria-label="Verdict">',
        f"<h2>Verdict: {_e(verdict_text(run_info))}</h2>",
    ]
    counts = severity_counts(run_info)
    if counts:
        shown = " · ".join(f"{n} {s}" for s, n in counts.items())
        parts.append(f'<p class="nbc-counts">Findings: {_e(shown)}</p>')
    else:
        parts.append(f'<p class="nbc-counts">Status: {_e(status)}</p>')
    if status == NO_DATA:
        parts.append(banner_html(run_info.get("no_data") or {}))
    findings = ranked(_findings(run_info) or [])
    if findings:
        top = [_finding_item(f, by_id, links) for f in findings[:TOP_FINDINGS]]
        parts.append(f'<ol class="nbc-top-findings">{"".join(top)}</ol>')
        rest = [_finding_item(f, by_id, links) for f in findings[TOP_FINDINGS:]]
        if rest:
            parts.append(
                f"<details><summary>{len(rest)} more finding(s)</summary>"
                f'<ol start="{TOP_FINDINGS + 1}">{"".join(rest)}</ol></details>'
            )
    parts.append(since_html(run_info.get("diff")))
    parts.append("</section>")
    return "".join(parts)


def toc_html(run_info: Mapping[str, Any], sections: Sequence[Section]) -> str:
    """The table of contents: one link per section, with its finding count.

    Example:
        >>> 'href="#sec-alerts"' in toc_html({}, [Section("alerts", "Related alerts")])
        True
    """
    if not sections:
        return ""
    tally = Counter(str(f.get("section")) for f in _findings(run_info) or [])
    known = _findings(run_info) is not None
    items = []
    for section in sections:
        n = tally.get(section.id, 0)
        if n:
            count = f' <span class="nbc-count">{n} finding{"s" if n != 1 else ""}</span>'
        else:
            count = ' <span class="nbc-none">no findings</span>' if known else ""
        items.append(f'<li><a href="#{section.anchor}">{_e(section.title)}</a>{count}</li>')
    return (
        '<nav class="nbc-toc" aria-label="Contents"><h2>Contents</h2>'
        f"<ol>{''.join(items)}</ol></nav>"
    )


def links_html(links: Links) -> str:
    """The link bar: back to the index, the notebook, run.json, the data files.

    Example:
        >>> 'href="../../index.html"' in links_html(Links(index="../../index.html"))
        True
    """
    parts = []
    if links.index:
        parts.append(f'<a class="nbc-link-index" href="{_href(links.index)}">← All reports</a>')
    if links.notebook:
        parts.append(f'<a class="nbc-link-notebook" href="{_href(links.notebook)}">Notebook</a>')
    if links.run_json:
        parts.append(f'<a class="nbc-link-run" href="{_href(links.run_json)}">run.json</a>')
    if links.data:
        files = []
        for item in links.data:
            formats = [
                f'<a href="{_href(path)}">{_e(path.rsplit(".", 1)[-1])}</a>'
                for path in (item.csv, item.parquet)
                if path
            ]
            files.append(f"{_e(item.name)} ({item.rows} rows) {' '.join(formats)}")
        parts.append(
            f"<details><summary>Data files ({len(links.data)})</summary>"
            f"{'<br>'.join(files)}</details>"
        )
    if not parts:
        return ""
    return f'<nav class="nbc-links" aria-label="Run files">{"".join(parts)}</nav>'


# Where a scheduled run's "since last run" block goes when the diff is added after the
# report was written (nbcatalog.schedules.since replaces it).
SINCE_MARKER = "<!--nbc-since-last-run-->"
SINCE_ROWS = 10  # rows shown per table and kind; the counts stay exact
SINCE_COLUMNS = 6  # columns shown per row: the key columns first
# Log Analytics bookkeeping columns: the same on every row, so they tell a reader nothing.
_HOUSEKEEPING = {"TenantId", "SourceSystem", "Type", "MG", "ManagementGroupName", "_ResourceId"}


def _since_finding(kind: str, finding: Mapping[str, Any]) -> str:
    severity = _severity(finding)
    title = _e(finding.get("title") or finding.get("text") or finding.get("key") or "finding")
    moved = finding.get("before") if kind == "changed" else None
    extra = ""
    if isinstance(moved, Mapping) and moved:
        was = ", ".join(f"{name} was {value}" for name, value in moved.items())
        extra = f' <span class="nbc-was">({_e(was)})</span>'
    return (
        f'<li class="nbc-diff-{_e(kind)}"><b>{_e(kind)}</b> '
        f'<span class="nbc-sev nbc-sev-{severity}">{_e(severity)}</span>{title}{extra}</li>'
    )


def _since_rows(kind: str, rows: Sequence[Any], keys: Sequence[str]) -> str:
    if kind == "changed":
        items = []
        for change in rows[:SINCE_ROWS]:
            key = ", ".join(f"{k}={v}" for k, v in dict(change.get("key") or {}).items())
            moved = "; ".join(
                f"{c}: {old} → {new}" for c, (old, new) in dict(change.get("columns") or {}).items()
            )
            items.append(f"<li>{_e(key)}: {_e(moved)}</li>")
        return f"<ul>{''.join(items)}</ul>"
    first = [dict(r) for r in rows[:SINCE_ROWS] if isinstance(r, Mapping)]
    if not first:
        return ""
    columns = list(keys) + [c for c in first[0] if c not in keys and c not in _HOUSEKEEPING]
    columns = columns[:SINCE_COLUMNS]
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(r.get(c))}</td>" for c in columns) + "</tr>" for r in first
    )
    return (
        f'<table class="nbc-diff-rows"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def since_html(diff: Mapping[str, Any] | None) -> str:
    """The "since last run" block of a scheduled run's report (escaped), or its marker.

    Example:
        >>> html_text = since_html({"previous": "20260101T060000Z-ab12cd", "summary": "1 new",
        ...     "new": [{"severity": "high", "title": "<b>x</b>"}], "tables": {}})
        >>> "&lt;b&gt;x" in html_text and "Since last run" in html_text
        True
        >>> since_html(None) == SINCE_MARKER
        True
    """
    if not isinstance(diff, Mapping):
        return SINCE_MARKER
    from nbcatalog.rundiff import summary_text

    summary = diff.get("summary") or summary_text(diff)
    parts = [
        '<div class="nbc-since" id="since-last-run" role="status" aria-label="Since last run" '
        'style="border-left:4px solid #2a6ebb;background:#f3f7fc;padding:6px 12px;margin:8px 0">',
        f"<h3>Since last run: {_e(summary)}</h3>",
    ]
    if diff.get("previous"):
        parts.append(f'<p class="nbc-since-run">Compared with run {_e(diff["previous"])}</p>')
    items = [
        _since_finding(kind, f)
        for kind in ("new", "changed", "gone")
        for f in diff.get(kind) or []
        if isinstance(f, Mapping)
    ]
    if items:
        parts.append(f'<ul class="nbc-since-findings">{"".join(items)}</ul>')
    for name, table in dict(diff.get("tables") or {}).items():
        if not isinstance(table, Mapping):
            continue
        counts = dict(table.get("counts") or {})
        keys = [str(k) for k in table.get("keys") or []]
        if table.get("note"):
            parts.append(f'<p class="nbc-since-note">{_e(name)}: {_e(table["note"])}</p>')
        for kind in ("new", "changed", "gone"):
            n = int(counts.get(kind) or 0)
            if not n:
                continue
            label = f"{name}: {n} {kind} row{'s' if n != 1 else ''}"
            shown = _since_rows(kind, table.get(kind) or [], keys)
            more = f"<p>first {SINCE_ROWS} shown</p>" if n > SINCE_ROWS else ""
            parts.append(
                f'<details class="nbc-diff-{_e(kind)}" open><summary>{_e(label)}</summary>'
                f"{shown}{more}</details>"
            )
    parts.append("</div>")
    return "".join(parts)
