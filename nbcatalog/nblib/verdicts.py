"""What a notebooklet concludes: its findings, stated as data in one place.

A template collects its findings with a `Verdicts` builder (one per run) and glues
them once as the scrap ``findings`` (`nbcatalog.findings_model`): each finding has a
severity (high, medium, low, info), one plain sentence, the section holding the
evidence, the glued frame with the evidence rows and how many there are, and a
stable key so that two runs can be compared. The runner copies the list into
run.json, `Results.findings`, ``--json`` and the CLI's last lines; the report's
verdict block is made from it.

(`nblib.findings.Finding` is something else: the table and notes one step returns.)

Example (in a template):
    >>> import pandas as pd
    >>> verdict = Verdicts()
    >>> alerts = pd.DataFrame({"AlertName": ["Encoded PowerShell"], "AlertSeverity": ["High"]})
    >>> verdict.evidence("high", "1 high-severity alert names WKSTN-042", alerts,
    ...              section="alerts", result="high_alerts", key=key("alerts", "WKSTN-042"))
    True
    >>> [(f["severity"], f["count"], f["key"]) for f in verdict.records()]
    [('high', 1, 'alerts:WKSTN-042')]
    >>> # glue("findings", verdict.records())   then show `verdict` as the cell's last line
"""

from __future__ import annotations

import html
from typing import Any

from nbcatalog.findings_model import (
    FINDINGS_SCRAP,
    SEVERITIES,
    check_finding,
    counts_text,
    ranked,
)

__all__ = ["FINDINGS_SCRAP", "SEVERITIES", "Verdicts", "alert_severity", "key"]

# SecurityAlert's AlertSeverity (and msticpy's Severity) words, as finding severities.
_ALERT_SEVERITY = {
    "high": "high",
    "critical": "high",
    "medium": "medium",
    "low": "low",
    "informational": "info",
    "information": "info",
    "info": "info",
}
_COLOURS = {"high": "#b71c1c", "medium": "#e67e00", "low": "#2a6ebb", "info": "#778"}


def alert_severity(value: Any) -> str:
    """A finding severity for an alert's severity word (unknown words: medium).

    Example:
        >>> alert_severity("High"), alert_severity("Informational"), alert_severity(None)
        ('high', 'info', 'medium')
    """
    return _ALERT_SEVERITY.get(str(value or "").strip().lower(), "medium")


def key(kind: str, *parts: Any) -> str:
    """A stable finding key, ``kind:part:part`` (for run-to-run diffs).

    Example:
        >>> key("beacon", "192.0.2.66", 4444)
        'beacon:192.0.2.66:4444'
    """
    return ":".join([str(kind), *(" ".join(str(p).split()) for p in parts)])


def _row_count(rows: Any) -> int:
    if rows is None:
        return 0
    if hasattr(rows, "shape"):
        return int(rows.shape[0])
    return len(rows)


class Verdicts:
    """Collects a run's findings, each checked when added; `records()` is the scrap.

    `inv` (an `Investigation`, optional) tells whether the run ended ``no_data``:
    then an empty list is shown as "no data", never as "nothing notable".

    Example:
        >>> v = Verdicts()
        >>> v.add("medium", "bob signed in from 2 countries", section="signins",
        ...       result="signin_locations", count=5)
        >>> v.records()[0]["title"], len(v)
        ('bob signed in from 2 countries', 1)
    """

    def __init__(self, inv: Any = None) -> None:
        self._inv = inv
        self._items: list[dict[str, Any]] = []

    def add(
        self,
        severity: str,
        title: str,
        *,
        section: str,
        result: str | None = None,
        count: int | None = None,
        text: str = "",
        key: str | None = None,
    ) -> None:
        """Add one finding; FindingsError (a ValueError) names a bad field at once.

        `section` is the id of the section holding the evidence (its ``section:<id>``
        tag), `result` the glued frame with the evidence rows, `count` how many rows.
        """
        item = {
            "severity": severity,
            "title": title,
            "text": text,
            "section": section,
            "result": result,
            "count": count,
            "key": key,
        }
        self._items.append(check_finding(item, f"finding {len(self._items)} ({title!r:.60})"))

    def extend(self, findings: Any) -> None:
        """Add findings already in the scrap's shape (dicts), each checked as by `add`.

        Example:
            >>> v = Verdicts()
            >>> v.extend([{"severity": "high", "title": "beacon", "section": "beacons"}])
            >>> len(v)
            1
        """
        for item in findings or []:
            self.add(
                item["severity"],
                item["title"],
                section=item["section"],
                result=item.get("result"),
                count=item.get("count"),
                text=item.get("text", ""),
                key=item.get("key"),
            )

    def evidence(
        self,
        severity: str,
        title: str,
        rows: Any,
        *,
        section: str,
        result: str,
        text: str = "",
        key: str | None = None,
    ) -> bool:
        """Add a finding whose evidence is `rows` (glued as `result`), if there are any.

        Returns whether it was added: an empty frame is not a finding.

        Example:
            >>> import pandas as pd
            >>> Verdicts().evidence("low", "x", pd.DataFrame(), section="s", result="r")
            False
        """
        n = _row_count(rows)
        if not n:
            return False
        self.add(severity, title, section=section, result=result, count=n, text=text, key=key)
        return True

    def notes(
        self,
        step: Any,
        severity: str,
        *,
        section: str,
        result: str,
        key_kind: str | None = None,
    ) -> int:
        """Add each ``finding`` note of an nblib step (a `Finding`) as one finding.

        The note is the sentence; the step's rows are the evidence (glued as
        `result`). Returns how many were added.

        Example:
            >>> from nbcatalog.nblib.findings import Finding
            >>> step = Finding("Account changes")
            >>> step.note("finding", "2 account change(s) on WKSTN-042")
            >>> v = Verdicts(); v.notes(step, "medium", section="changes", result="account_changes")
            1
            >>> v.records()[0]["title"]
            '2 account change(s) on WKSTN-042'
        """
        data = getattr(step, "data", None)
        added = 0
        for note in getattr(step, "notes", []):
            if note.kind != "finding":
                continue
            title = note.text[:1].upper() + note.text[1:]
            self.add(
                severity,
                title,
                section=section,
                result=result,
                count=_row_count(data),
                # Stable from run to run: the note's text carries counts that change.
                key=key(key_kind or result, *([added] if added else [])),
            )
            added += 1
        return added

    def alerts(
        self,
        alerts: Any,
        subject: str,
        *,
        section: str,
        result: str,
        severity_column: str = "Severity",
        name_column: str = "AlertDisplayName",
    ) -> int:
        """One finding per alert severity present: how many alerts name `subject`, which.

        Example:
            >>> import pandas as pd
            >>> v = Verdicts()
            >>> v.alerts(pd.DataFrame({"Severity": ["High", "Low", "High"],
            ...     "AlertDisplayName": ["Brute force", "Scan", "Brute force"]}), "WKSTN-042",
            ...     section="alerts", result="related_alerts")
            2
            >>> v.records()[0]["title"]
            '2 high-severity alerts name WKSTN-042: Brute force'
        """
        if alerts is None or _row_count(alerts) == 0:
            return 0
        words = alerts.get(severity_column)
        levels = [alert_severity(w) for w in (words if words is not None else [None] * len(alerts))]
        names = alerts.get(name_column)
        names = list(names) if names is not None else [""] * len(levels)
        added = 0
        for level in SEVERITIES:
            picked = [str(n) for n, lv in zip(names, levels, strict=True) if lv == level]
            if not picked:
                continue
            distinct = list(dict.fromkeys(n for n in picked if n))
            shown = ", ".join(distinct[:5]) + (
                f" and {len(distinct) - 5} more" if len(distinct) > 5 else ""
            )
            n = len(picked)
            self.add(
                level,
                f"{n} {level}-severity alert{'s' if n != 1 else ''} name{'' if n != 1 else 's'} "
                f"{subject}" + (f": {shown}" if shown else ""),
                section=section,
                result=result,
                count=n,
                key=key("alerts", level, subject),
            )
            added += 1
        return added

    def ti(self, hits: Any, where: str = "", *, section: str, result: str) -> int:
        """One finding per indicator threat intelligence lists (rows of a TI result).

        `hits` has lookup_iocs' columns (Ioc, Result, Severity, ThreatType,
        Provider); rows with a false Result are ignored. TI severity ``high`` is a
        high finding, ``warning`` medium, anything else low.

        Example:
            >>> import pandas as pd
            >>> v = Verdicts()
            >>> v.ti(pd.DataFrame({"Ioc": ["203.0.113.77"], "Result": [True],
            ...     "Severity": ["high"], "ThreatType": ["C2"], "Provider": ["local"]}),
            ...     " in a command line", section="ti", result="ti_results")
            1
            >>> v.records()[0]["title"]
            'Threat intelligence lists 203.0.113.77 (high, C2) in a command line'
        """
        if hits is None or _row_count(hits) == 0 or "Ioc" not in hits:
            return 0
        if "Result" in hits:
            hits = hits[hits["Result"].fillna(False).astype(bool)]
        added = 0
        for ioc, rows in hits.groupby("Ioc", sort=False):
            words = [str(w).lower() for w in rows.get("Severity", []) if w is not None]
            level = "high" if "high" in words else "medium" if "warning" in words else "low"
            threats = [str(t) for t in rows.get("ThreatType", []) if t and str(t) != "nan"]
            label = ", ".join(dict.fromkeys([w for w in words if w != "nan"][:1] + threats[:2]))
            providers = ", ".join(dict.fromkeys(str(p) for p in rows.get("Provider", [])))
            self.add(
                level,
                f"Threat intelligence lists {ioc}" + (f" ({label})" if label else "") + where,
                text=f"providers: {providers}" if providers else "",
                section=section,
                result=result,
                count=len(rows),
                key=key("ti", ioc),
            )
            added += 1
        return added

    def records(self) -> list[dict[str, Any]]:
        """The findings as the ``findings`` scrap holds them (copies, in the order added)."""
        return [dict(item) for item in self._items]

    def __len__(self) -> int:
        return len(self._items)

    @property
    def no_data(self) -> bool:
        """True when the run's Investigation ended ``no_data``."""
        outcome = getattr(self._inv, "outcome", None)
        return getattr(outcome, "status", None) == "no_data"

    def summary(self) -> str:
        """One sentence about the findings (or why there are none).

        Example:
            >>> Verdicts().summary()
            'Nothing notable: the data was there and no check found anything.'
        """
        if self.no_data:
            return (
                "No data: this run found nothing to judge, which is not an all-clear "
                f"({getattr(self._inv.outcome, 'reason', '') or 'see above'})."
            )
        if not self._items:
            return "Nothing notable: the data was there and no check found anything."
        n = len(self._items)
        return f"{n} finding{'s' if n != 1 else ''}: {counts_text(self._items)}."

    def _repr_html_(self) -> str:
        rows = []
        for item in ranked(self._items):
            colour = _COLOURS.get(item["severity"], "#778")
            detail = f"<br><small>{html.escape(item['text'])}</small>" if item["text"] else ""
            evidence = item["result"] or ""
            count = "" if item["count"] is None else str(item["count"])
            rows.append(
                "<tr>"
                f'<td style="white-space:nowrap"><b style="color:{colour}">'
                f"{html.escape(item['severity'].upper())}</b></td>"
                f"<td>{html.escape(item['title'])}{detail}</td>"
                f'<td style="white-space:nowrap">{html.escape(item["section"] or "")}</td>'
                f'<td style="white-space:nowrap"><code>{html.escape(evidence)}</code></td>'
                f'<td style="white-space:nowrap;text-align:right">{count}</td>'
                "</tr>"
            )
        table = ""
        if rows:
            head = "".join(
                f'<th style="text-align:left;padding-right:1em">{h}</th>'
                for h in ("severity", "finding", "section", "evidence", "rows")
            )
            table = (
                '<table class="nbcatalog-verdicts" style="border-collapse:collapse;font-size:13px">'
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            )
        return f"<p><b>{html.escape(self.summary())}</b></p>{table}"

    def __repr__(self) -> str:
        lines = [self.summary()]
        lines += [f"[{f['severity']}] {f['title']}" for f in ranked(self._items)]
        return "\n".join(lines)
