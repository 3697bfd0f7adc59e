"""What a finding is, shared by the template side (`nblib.verdicts`) and the runner.

A template states its findings by gluing one scrap named ``findings``: a list of
dicts ``{"severity", "title", "text", "section", "result", "count", "key"}``
(issue 11's contract). The runner checks the scrap with `check_findings` and copies
it into run.json ``findings``, `Results.findings` and ``--json``; reports, the index,
notifications and run diffs read that same list. `headline_lines` are the lines the
CLI prints before its status line. Light on imports: the runner and CLI load it.

Example:
    >>> check_findings([{"severity": "high", "title": "Encoded PowerShell ran",
    ...     "section": "notable", "result": "decoded_powershell", "count": 1}])[0]["key"]
    'notable:Encoded PowerShell ran'
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

FINDINGS_SCRAP = "findings"
SEVERITIES = ("high", "medium", "low", "info")
FIELDS = ("severity", "title", "text", "section", "result", "count", "key")
TOP_LINES = 5
_MAX_TITLE = 300
_MAX_TEXT = 4000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class FindingsError(ValueError):
    """A findings scrap (or one finding) that does not follow the contract."""


def _text(value: Any, field: str, where: str, *, required: bool, limit: int) -> str:
    if value is None or value == "":
        if required:
            raise FindingsError(f"{where}: {field!r} is required (one plain sentence)")
        return ""
    if not isinstance(value, str):
        raise FindingsError(f"{where}: {field!r} must be text, got {type(value).__name__}")
    text = " ".join(value.split())  # one line: a title is a sentence, not a block
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_finding(item: Any, where: str = "finding") -> dict[str, Any]:
    """One finding as the contract stores it, or FindingsError naming what is wrong.

    Severity is one of high, medium, low, info (any case); title is required;
    count is a whole number >= 0 or None; key defaults to ``section:title``.

    Example:
        >>> check_finding({"severity": "HIGH", "title": "x"})["severity"]
        'high'
    """
    if not isinstance(item, Mapping):
        raise FindingsError(f"{where}: must be a dict with severity and title, got {item!r:.60}")
    unknown = sorted(set(map(str, item)) - set(FIELDS))
    if unknown:
        raise FindingsError(
            f"{where}: unknown field(s) {', '.join(unknown)}; accepted: {', '.join(FIELDS)}"
        )
    severity = str(item.get("severity") or "").strip().lower()
    if severity not in SEVERITIES:
        raise FindingsError(
            f"{where}: severity {item.get('severity')!r} is not one of {', '.join(SEVERITIES)}"
        )
    title = _text(item.get("title"), "title", where, required=True, limit=_MAX_TITLE)
    count = item.get("count")
    if count is not None:
        if hasattr(count, "item") and not isinstance(count, bool):
            count = count.item()  # a numpy integer from len() of a frame's column
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise FindingsError(f"{where}: count {count!r} must be a whole number >= 0")
    section = _text(item.get("section"), "section", where, required=False, limit=200)
    result = _text(item.get("result"), "result", where, required=False, limit=200)
    key = _text(item.get("key"), "key", where, required=False, limit=_MAX_TITLE)
    return {
        "severity": severity,
        "title": title,
        "text": _text(item.get("text"), "text", where, required=False, limit=_MAX_TEXT),
        "section": section or None,
        "result": result or None,
        "count": count,
        "key": key or f"{section or 'run'}:{title}",
    }


def check_findings(value: Any) -> list[dict[str, Any]]:
    """The ``findings`` scrap checked item by item (FindingsError names the bad one).

    Example:
        >>> check_findings("x")
        Traceback (most recent call last):
        ...
        nbcatalog.findings_model.FindingsError: scrap 'findings' must be a list of dicts, got str
    """
    if not isinstance(value, (list, tuple)):
        raise FindingsError(
            f"scrap {FINDINGS_SCRAP!r} must be a list of dicts, got {type(value).__name__}"
        )
    return [check_finding(v, f"{FINDINGS_SCRAP}[{i}]") for i, v in enumerate(value)]


def ranked(findings: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Most severe first, then the largest counts; otherwise in the template's order.

    Example:
        >>> [f["title"] for f in ranked([{"severity": "low", "title": "a"},
        ...                              {"severity": "high", "title": "b"}])]
        ['b', 'a']
    """

    def order(pair: tuple[int, Mapping[str, Any]]) -> tuple[int, int, int]:
        index, finding = pair
        severity = str(finding.get("severity") or "info")
        count = finding.get("count")
        return (
            SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES),
            -(count if isinstance(count, int) else 0),
            index,
        )

    return [f for _, f in sorted(enumerate(findings), key=order)]


def counts_text(findings: Sequence[Mapping[str, Any]]) -> str:
    """``2 high, 1 medium`` ("" for none).

    Example:
        >>> counts_text([{"severity": "high"}, {"severity": "low"}, {"severity": "high"}])
        '2 high, 1 low'
    """
    tally = Counter(str(f.get("severity")) for f in findings)
    return ", ".join(f"{tally[s]} {s}" for s in SEVERITIES if tally[s])


def terminal_text(value: Any) -> str:
    """Text safe to print on a terminal: control and bidi characters shown as ``?``.

    Finding titles quote log fields; an escape sequence in an account name must not
    recolour or rewrite the analyst's terminal.

    Example:
        >>> terminal_text("bob\\x1b[2Jx")
        'bob?[2Jx'
    """
    text = unicodedata.normalize("NFC", str(value))
    return _CONTROL.sub("?", text)


def headline_lines(
    findings: Sequence[Mapping[str, Any]] | None, status: str, top: int = TOP_LINES
) -> list[str]:
    """What the CLI prints before its status line: the count, then the top findings.

    Nothing for a run that recorded no findings list; "no findings" only for an
    ``ok`` run (a ``no_data`` run found nothing to judge, its status line says why).

    Example:
        >>> headline_lines([{"severity": "high", "title": "Brute force",
        ...                  "section": "findings", "count": 40}], "ok")
        ['1 finding (1 high):', '  [high] Brute force (40 rows, section findings)']
    """
    if findings is None:
        return []
    if not findings:
        return (
            ["findings: none (the data was there and nothing stood out)"] if status == "ok" else []
        )
    n = len(findings)
    lines = [f"{n} finding{'s' if n != 1 else ''} ({counts_text(findings)}):"]
    shown = ranked(findings)[:top]
    for finding in shown:
        where = []
        if isinstance(finding.get("count"), int):
            c = finding["count"]
            where.append(f"{c} row{'s' if c != 1 else ''}")
        if finding.get("section"):
            where.append(f"section {finding['section']}")
        tail = f" ({', '.join(where)})" if where else ""
        lines.append(terminal_text(f"  [{finding.get('severity')}] {finding.get('title')}{tail}"))
    if n > len(shown):
        lines.append(f"  … {n - len(shown)} more in run.json and the report")
    return lines
