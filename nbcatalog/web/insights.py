"""What a run found and how it differs from the run before: the place pages show both.

`run_insights(info)` reads a run.json mapping. When it carries ``findings`` (a
list of ``{"severity", "text", "section"}``) and/or ``diff`` (a summary of what
changed since the previous run), it returns them as plain text ready for a page:
findings most severe first, a verdict ("2 high, 1 medium"), the diff as lines.
Runs made before findings and diffs existed simply have none. Every value is
treated as hostile text: nothing here is markup, and the templates escape it.

Example:
    >>> ins = run_insights({"findings": [{"severity": "High", "text": "RDP brute force",
    ...                                   "section": "logons"}]})
    >>> ins.verdict, ins.findings[0].severity_class
    ('1 high', 'high')
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Most severe first; anything else sorts after these and is styled plainly.
SEVERITIES = ("critical", "high", "medium", "low", "informational", "info")
MAX_TEXT = 2000  # characters of one hostile value shown on a page
TOP_FINDINGS = 20


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


@dataclass(frozen=True)
class Finding:
    """One finding as a page shows it; `severity_class` is one of SEVERITIES or 'other'."""

    severity: str
    severity_class: str
    text: str  # the finding's one-line title (`text` for runs that recorded only that)
    section: str
    detail: str = ""  # the finding's longer text, shown under the title


@dataclass(frozen=True)
class Insights:
    """A run's findings (top ones), verdict, how many more, and the diff summary lines."""

    findings: tuple[Finding, ...] = ()
    more: int = 0
    verdict: str = ""
    diff: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.findings and not self.diff


def _finding(item: Any) -> Finding:
    if not isinstance(item, Mapping):
        return Finding("", "other", _text(item), "")
    severity = "" if item.get("severity") is None else _text(item.get("severity")).strip()
    lowered = severity.lower()
    title = "" if item.get("title") is None else _text(item.get("title"))
    text = "" if item.get("text") is None else _text(item.get("text"))
    return Finding(
        severity=severity,
        severity_class=lowered if lowered in SEVERITIES else "other",
        text=title or text,
        section="" if item.get("section") is None else _text(item.get("section")),
        detail=text if title and text != title else "",
    )


def _rank(finding: Finding) -> int:
    cls = finding.severity_class
    return SEVERITIES.index(cls) if cls in SEVERITIES else len(SEVERITIES)


_DIFF_KINDS = ("new", "gone", "changed")


def _count(value: Any) -> int:
    """A count from run.json: a list's length or a whole number; anything else is 0."""
    if isinstance(value, list):
        return len(value)
    if isinstance(value, bool):  # JSON true is not a count
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


def _counts_text(counts: Mapping[str, int]) -> str:
    """``2 new, 1 changed`` (kinds with none left out), or ``no change``."""
    return ", ".join(f"{counts[k]} {k}" for k in _DIFF_KINDS if counts[k]) or "no change"


def _diff_lines(diff: Any) -> tuple[str, ...]:
    """run.json's ``diff`` as a few readable lines: its summary, then the counts.

    A structured diff (`nbcatalog.rundiff.RunDiff.to_json`) holds the changed findings
    and table rows themselves; a page lists only how many, the rows are in the report.

    Example:
        >>> _diff_lines({"summary": "1 new finding", "previous": "r1", "new": [{"title": "x"}],
        ...              "tables": {"alerts": {"counts": {"new": 2, "gone": 0}}}})
        ('1 new finding', 'findings: 1 new', 'alerts rows: 2 new')
    """
    if diff in (None, "", [], {}):
        return ()
    if isinstance(diff, Mapping):
        lines = []
        summary = diff.get("summary")
        if summary not in (None, ""):
            lines.append(_text(summary))
        if "previous" in diff and not diff.get("previous"):
            return tuple(lines)  # a first run: nothing was compared, no counts to give
        if any(k in diff for k in _DIFF_KINDS):
            findings = {k: _count(diff.get(k)) for k in _DIFF_KINDS}
            if diff.get("findings_compared") is False and not any(findings.values()):
                # One of the two runs recorded no findings list: "no change" would be a guess.
                lines.append("findings: not compared (a run recorded none)")
            else:
                lines.append(f"findings: {_counts_text(findings)}")
        tables = diff.get("tables")
        for name, table in tables.items() if isinstance(tables, Mapping) else ():
            if not isinstance(table, Mapping):
                continue
            raw = table.get("counts")
            counts = (
                {k: _count(raw.get(k)) for k in _DIFF_KINDS} if isinstance(raw, Mapping) else None
            )
            if counts is None or (table.get("note") and not any(counts.values())):
                note = table.get("note")
                lines.append(f"{_text(name)}: not compared ({_text(note or 'no counts')})")
            else:
                lines.append(f"{_text(name)} rows: {_counts_text(counts)}")
        return tuple(lines)
    if isinstance(diff, list):
        return tuple(_text(item) for item in diff)
    return (_text(diff),)


def run_insights(info: Mapping[str, Any]) -> Insights:
    """The findings, verdict and diff summary of a run.json mapping (empty when none).

    Example:
        >>> run_insights({"status": "ok"}).empty
        True
        >>> run_insights({"diff": {"summary": "2 new alerts"}}).diff
        ('2 new alerts',)
    """
    raw = info.get("findings") if isinstance(info, Mapping) else None
    items = raw if isinstance(raw, list) else []
    findings = sorted((_finding(item) for item in items), key=_rank)
    counts = Counter(f.severity_class for f in findings)
    order = [s for s in SEVERITIES if counts[s]] + (["other"] if counts["other"] else [])
    verdict = ", ".join(f"{counts[s]} {s}" for s in order)
    diff = info.get("diff") if isinstance(info, Mapping) else None
    return Insights(
        findings=tuple(findings[:TOP_FINDINGS]),
        more=max(0, len(findings) - TOP_FINDINGS),
        verdict=verdict,
        diff=_diff_lines(diff),
    )
