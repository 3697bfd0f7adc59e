"""Whether a notebooklet found what it is about: the run's `ok` or `no_data`, and why.

"Found nothing" must never read as "all clear". A template states, through its
`Investigation`, what it needs: ``inv.require_entity(found)`` (the host, account
or subject the analyst named matched exactly one thing) and ``inv.require(finding,
"logon attempts on WKSTN-042")`` (the rows the notebooklet is about are there).
Each call updates one `Outcome` and glues it as the scrap ``nbcatalog_outcome``
(a plain JSON dict); the runner reads it and ends the run ``no_data`` with the
reasons: no such entity (with the closest names the source knows), several
matches, tables absent from the source, or no rows of that kind in the period.
A template that never calls them stays ``ok`` (``nbcatalog check`` warns).

Example:
    >>> out = Outcome()
    >>> out.fail("no host named 'WKSTN-999' in this data source", closest=["WKSTN-042"])
    >>> out.status, out.reason
    ('no_data', "no host named 'WKSTN-999' in this data source (closest: WKSTN-042)")
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbcatalog.nblib.entities import closest as closest_names
from nbcatalog.runstate import NO_DATA, OK
from nbcatalog.scraps import OUTCOME_SCRAP

__all__ = ["NO_DATA", "OK", "OUTCOME_SCRAP", "Outcome", "entity_state", "evidence_of"]

# How nblib.queries and nblib.hosts word a table or query that is not there.
_MISSING_TABLE = (
    re.compile(r"\bno ([A-Za-z_][\w]*) table in this data source"),
    re.compile(r"\bthe ([A-Za-z_][\w]*) table is missing"),
    re.compile(r"\bno ((?:[A-Za-z_][\w]*)(?: or [A-Za-z_][\w]*)+) table in this data source"),
)
_MISSING_QUERY = re.compile(r"\bhas no query ([\w.]+)")
_CLOSEST_NOTE = re.compile(r"closest names?: ([^.;]+)")


@dataclass
class Outcome:
    """The data state of one run: status, the reasons for ``no_data``, and the hints.

    `entity` is what the analyst named ({"kind": "host", "value": "WKSTN-999"}),
    `closest` the names the source knows that look most like it, `candidates` the
    matches when a partial name matched several, `missing_tables` / `missing_queries`
    what the source lacks, and `checks` each requirement with the rows found.
    """

    status: str = OK
    reasons: list[str] = field(default_factory=list)
    entity: dict[str, str] | None = None
    closest: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)
    missing_queries: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """The reasons as one line (empty when ok)."""
        return "; ".join(self.reasons)

    def fail(
        self,
        reason: str,
        *,
        closest: Iterable[str] = (),
        candidates: Iterable[str] = (),
    ) -> None:
        """Record that the run has no data, and why (the closest names join the reason)."""
        near = [str(n) for n in closest if str(n)]
        self.status = NO_DATA
        self.closest = list(dict.fromkeys([*self.closest, *near]))
        self.candidates = list(dict.fromkeys([*self.candidates, *map(str, candidates)]))
        if near:
            reason += f" (closest: {', '.join(near)})"
        if reason not in self.reasons:
            self.reasons.append(reason)

    def add_missing(self, notes: Iterable[Any]) -> None:
        """Collect the tables and queries that `notes` (of a Finding) say are absent."""
        tables, queries = missing_from_notes(notes)
        self.missing_tables = list(dict.fromkeys([*self.missing_tables, *tables]))
        self.missing_queries = list(dict.fromkeys([*self.missing_queries, *queries]))

    def to_json(self) -> dict[str, Any]:
        """The scrap the runner reads: plain JSON types only."""
        return {
            "status": self.status,
            "reason": self.reason,
            "reasons": list(self.reasons),
            "entity": dict(self.entity) if self.entity else None,
            "closest": list(self.closest),
            "candidates": list(self.candidates),
            "missing_tables": list(self.missing_tables),
            "missing_queries": list(self.missing_queries),
            "checks": [dict(c) for c in self.checks],
        }

    def _repr_html_(self) -> str:
        from nbcatalog.runstate import banner_html

        return banner_html(self.to_json())


def missing_from_notes(notes: Iterable[Any]) -> tuple[list[str], list[str]]:
    """(tables, queries) that 'missing' notes say the data source lacks.

    Example:
        >>> from nbcatalog.nblib.findings import Note
        >>> missing_from_notes([Note("missing", "no Syslog table in this data source, so "
        ...                          "LinuxSyslog.all_syslog returned nothing")])
        (['Syslog'], [])
    """
    tables: list[str] = []
    queries: list[str] = []
    for note in notes:
        if getattr(note, "kind", "") != "missing":
            continue
        text = str(getattr(note, "text", ""))
        for pattern in _MISSING_TABLE:
            for match in pattern.finditer(text):
                tables += [t.strip() for t in match.group(1).split(" or ")]
        queries += _MISSING_QUERY.findall(text)
    return list(dict.fromkeys(tables)), list(dict.fromkeys(q.rstrip(".") for q in queries))


# ------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class Evidence:
    """How much of what a notebooklet needs one piece of evidence holds."""

    rows: int
    skipped: bool  # its option was off: it says nothing about the data
    notes: tuple[Any, ...] = ()


def evidence_of(value: Any) -> Evidence:
    """Rows held by a Finding, a DataFrame, a count or a flag.

    Example:
        >>> evidence_of(pd.DataFrame({"a": [1, 2]})).rows, evidence_of(0).rows
        (2, 0)
    """
    if value is None:
        return Evidence(0, False)
    if isinstance(value, bool):
        return Evidence(int(value), False)
    if isinstance(value, (int, float)):
        return Evidence(int(value), False)
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return Evidence(len(value), False)
    notes = tuple(getattr(value, "notes", ()) or ())
    data = getattr(value, "data", None)
    rows = len(data) if isinstance(data, (pd.DataFrame, pd.Series)) else 0
    skipped = rows == 0 and any(getattr(n, "kind", "") == "skipped" for n in notes)
    return Evidence(rows, skipped and not _option_unrelated(notes), notes)


def _option_unrelated(notes: Iterable[Any]) -> bool:
    # "skipped" also marks steps that had no host to work on; only an option that is
    # off means "not looked at".
    return not any("option" in str(getattr(n, "text", "")) for n in notes)


def pieces(evidence: Any) -> list[Any]:
    """The pieces of evidence in `evidence`: one value, a list of them, or a mapping."""
    if isinstance(evidence, Mapping):
        return list(evidence.values())
    if isinstance(evidence, (list, tuple)):
        return list(evidence)
    return [evidence]


# ---------------------------------------------------------------- entities


@dataclass(frozen=True)
class EntityState:
    """What an entity look-up came to: matched or not, and the names around it."""

    kind: str
    given: str
    matched: bool
    described: str  # what was matched, e.g. "WKSTN-042" or "the 12 rows passed as data"
    candidates: tuple[str, ...] = ()
    closest: tuple[str, ...] = ()
    notes: tuple[Any, ...] = ()
    in_period: bool = False  # looked for in the time range only (accounts), not in all data
    where: str = "this data source"


def closest_from_notes(notes: Iterable[Any]) -> list[str]:
    """Names a note lists as "closest names: a, b" (for look-ups that only say it in text).

    Example:
        >>> from nbcatalog.nblib.findings import Note
        >>> closest_from_notes([Note("warning", "no account named 'bbo'; closest names: bob")])
        ['bob']
    """
    found: list[str] = []
    for note in notes:
        match = _CLOSEST_NOTE.search(str(getattr(note, "text", "")))
        if match:
            found += [n.strip() for n in match.group(1).split(",") if n.strip()]
    return list(dict.fromkeys(found))


def entity_state(found: Any, kind: str | None = None, given: str | None = None) -> EntityState:
    """Read a look-up result (`hosts.HostMatch`, `flows.Subject`, `accounts.AccountMatches`).

    Results that carry `matched`, `kind`, `given`, `candidates` and `closest` are read
    as they are; others are matched when they hold rows, with the closest names taken
    from their notes.
    """
    notes = tuple(getattr(found, "notes", ()) or ())
    kind = kind or getattr(found, "kind", None) or "entity"
    given = given if given is not None else str(getattr(found, "given", "") or "")
    if not given:
        given = str(getattr(found, "wanted", "") or "")
    matched = getattr(found, "matched", None)
    if matched is None:
        data = getattr(found, "data", None)
        matched = isinstance(data, pd.DataFrame) and not data.empty
    described = str(getattr(found, "described", "") or getattr(found, "name", "") or given)
    near = list(getattr(found, "closest", None) or closest_from_notes(notes))
    candidates = list(getattr(found, "candidates", None) or [])
    # Look-ups that say whether they matched (hosts, flow subjects) search all the data;
    # the others (accounts) search the events of the time range.
    in_period = getattr(found, "matched", None) is None
    where = str(getattr(found, "where", "") or "this data source")
    return EntityState(
        kind,
        given,
        bool(matched),
        described,
        tuple(candidates),
        tuple(near),
        notes,
        in_period,
        where,
    )


def known_names(inv: Any, kind: str) -> list[str]:
    """Names of `kind` the data source knows, for "closest" hints (DuckDB stores only).

    Example:
        >>> known_names(object(), "ip")      # a source that cannot list values
        []
    """
    from nbcatalog.nblib.queries import known_values

    source = getattr(inv, "source", None)
    columns = {
        "host": [("Heartbeat", "Computer"), ("SecurityEvent", "Computer"), ("Syslog", "Computer")],
        "ip": [
            ("Heartbeat", "ComputerIP"),
            ("AzureNetworkAnalytics_CL", "VMIP_s"),
            ("ThreatIntelligenceIndicator", "NetworkIP"),
        ],
        "account": [
            ("SigninLogs", "UserPrincipalName"),
            ("SecurityEvent", "TargetUserName"),
            ("SecurityEvent", "Account"),
        ],
        "url": [("ThreatIntelligenceIndicator", "Url")],
        "domain": [("ThreatIntelligenceIndicator", "DomainName")],
        # alert_ti_enrich's entity: anything an alert may name.
        "entity": [
            ("SecurityAlert", "CompromisedEntity"),
            ("Heartbeat", "Computer"),
            ("Heartbeat", "ComputerIP"),
            ("ThreatIntelligenceIndicator", "NetworkIP"),
            ("ThreatIntelligenceIndicator", "DomainName"),
            ("ThreatIntelligenceIndicator", "Url"),
        ],
    }.get(kind, [])
    names: list[str] = []
    for table, column in columns:
        names += known_values(source, table, column) or []
    return list(dict.fromkeys(names))


def closest_known(inv: Any, kind: str, value: str, n: int = 5) -> list[str]:
    """Up to `n` names of `kind` the source knows that look most like `value`.

    Example:
        >>> closest_known(object(), "host", "WKSTN-999")
        []
    """
    value = str(value or "").strip()
    if not value:
        return []
    near = closest_names(value, known_names(inv, kind), n=n)
    if kind == "url" and len(near) < n:  # a URL that nothing lists: its domain may be
        from urllib.parse import urlsplit

        host = urlsplit(value).hostname or ""
        near += [d for d in closest_names(host, known_names(inv, "domain"), n=n) if d not in near]
    return near[:n]
