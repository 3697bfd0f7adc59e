"""What a notification says: subject, plain text, HTML body and JSON payload of a run.

Built from run.json (status, verdict, findings, ``diff``) and the report's link.
Every value that came from logs or parameters is escaped in the HTML body, and
line breaks are taken out of the subject so a log field cannot add mail headers.

Example:
    >>> m = build_message({"template": "host_summary", "status": "ok", "findings": [
    ...     {"severity": "high", "title": "<img src=x onerror=alert(1)>"}]}, job="dc-daily",
    ...     run_dir="host_summary/X", link=None)
    >>> "<img" in m.html, "&lt;img" in m.html
    (False, True)
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbcatalog.report_layout import ranked, since_html, verdict_level, verdict_text

SUBJECT_CHARS = 180
TOP = 10


@dataclass
class Message:
    """One notification, ready for any channel."""

    subject: str
    text: str
    html: str
    payload: dict[str, Any]
    attachments: list[Path] = field(default_factory=list)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _one_line(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()[:SUBJECT_CHARS]


def _params(info: Mapping[str, Any]) -> str:
    shown = {
        k: v
        for k, v in dict(info.get("parameters") or {}).items()
        if k not in ("start", "end", "data_source", "options")
    }
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "(defaults)"


def build_message(
    info: Mapping[str, Any],
    *,
    job: str,
    run_dir: str,
    link: str | None,
    diff: Mapping[str, Any] | None = None,
) -> Message:
    """The notification of the run described by run.json `info`.

    `link` is the report's address (None: the path under the output root is named).
    """
    diff = diff if diff is not None else info.get("diff")
    status = str(info.get("status") or "failed")
    level = verdict_level(info)
    verdict = verdict_text(info)
    template = str(info.get("template") or "")
    summary = (diff or {}).get("summary") if isinstance(diff, Mapping) else None
    subject = _one_line(
        f"[nbcatalog] {job} {_params(info)}: {status}"
        + (f" - {summary}" if summary else f" - {verdict}")
    )
    findings = ranked([f for f in info.get("findings") or [] if isinstance(f, Mapping)])
    where = link or f"{run_dir}/report.html (under the output root)"
    lines = [
        f"Job: {job}",
        f"Notebooklet: {template}",
        f"Parameters: {_params(info)}",
        f"Time range: {info.get('start')} to {info.get('end')}",
        f"Status: {status}",
        f"Verdict: {verdict}",
    ]
    if summary:
        lines.append(f"Since last run: {summary}")
    lines += [f"- [{f.get('severity', 'info')}] {f.get('title', '')}" for f in findings[:TOP]]
    lines.append(f"Report: {where}")
    text = "\n".join(_one_line(str(line)) for line in lines) + "\n"

    items = "".join(
        f"<li><b>{_e(f.get('severity', 'info'))}</b> "
        f"{_e(f.get('title') or f.get('text') or '')}</li>"
        for f in findings[:TOP]
    )
    report = (
        f'<p><a href="{_e(link)}">Open the report</a></p>'
        if link
        else f"<p>Report: <code>{_e(where)}</code></p>"
    )
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f"<h2>{_e(job)}: {_e(template)}</h2>"
        f"<p>{_e(_params(info))} · {_e(info.get('start'))} to {_e(info.get('end'))}</p>"
        f'<p class="verdict level-{_e(level)}"><b>Verdict ({_e(status)}):</b> {_e(verdict)}</p>'
        + (f"<ol>{items}</ol>" if items else "")
        + (since_html(diff) if isinstance(diff, Mapping) else "")
        + report
        + "</body></html>"
    )
    payload = {
        "job": job,
        "notebooklet": template,
        "run_id": info.get("run_id"),
        "run_dir": run_dir,
        "parameters": info.get("parameters") or {},
        "start": info.get("start"),
        "end": info.get("end"),
        "status": status,
        "level": level,
        "verdict": verdict,
        "findings": findings,
        "diff": diff,
        "report_url": link,
    }
    return Message(subject=subject, text=text, html=body, payload=payload)
