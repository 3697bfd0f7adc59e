"""The context a notebooklet works in: data source, time range and options.

A template opens one `Investigation` right after its parameters cell and passes it
to every nblib step, so steps never repeat the time range or the data source:

    inv = nblib.Investigation.open(data_source, start, end, options)
    alerts = nblib.alerts.related_alerts(inv, host="WKSTN-042")

It also keeps the run's data state (`nblib.outcome`): ``inv.require_entity(found)``
and ``inv.require(finding, "logon attempts on WKSTN-042")`` say what the notebooklet
needs; when it is not there the run ends ``no_data`` with the reason.

Example:
    >>> inv = Investigation.open("duckdb:/tmp/demo.duckdb", "2024-05-01", "2024-05-08",
    ...                          ["alerts"], connect=lambda spec: None)
    >>> inv.wants("alerts"), inv.wants("timeline"), str(inv.start)
    (True, False, '2024-05-01 00:00:00+00:00')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbcatalog.nblib.findings import Finding, skipped
from nbcatalog.nblib.outcome import (
    NO_DATA,
    OUTCOME_SCRAP,
    Outcome,
    closest_known,
    entity_state,
    evidence_of,
    pieces,
)
from nbcatalog.nblib.queries import run_query

DEFAULT_DAYS = 7


def time_range(start: Any = "", end: Any = "", days: int = DEFAULT_DAYS):
    """(start, end) as UTC timestamps; empty `end` is now, empty `start` is `days` before end.

    Example:
        >>> s, e = time_range("", "2024-05-08T00:00:00Z")
        >>> str(s), str(e)
        ('2024-05-01 00:00:00+00:00', '2024-05-08 00:00:00+00:00')
    """
    end_ts = _utc(end) if end not in (None, "") else pd.Timestamp.now(tz="UTC")
    start_ts = _utc(start) if start not in (None, "") else end_ts - pd.Timedelta(days=days)
    if end_ts < start_ts:
        raise ValueError(f"end {end_ts} is before start {start_ts}")
    return start_ts, end_ts


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


@dataclass
class Investigation:
    """Data source, time range and enabled options of one notebooklet run."""

    source: Any
    start: pd.Timestamp
    end: pd.Timestamp
    options: frozenset[str] | None = None  # None: the template has no options
    data_source: str = ""
    outcome: Outcome = field(default_factory=Outcome)

    @classmethod
    def open(
        cls,
        data_source: str = "",
        start: Any = "",
        end: Any = "",
        options: Iterable[str] | None = None,
        *,
        connect: Callable[[str], Any] | None = None,
    ) -> Investigation:
        """Connect to `data_source` (empty: the default store) for the time range."""
        if connect is None:
            # Imported here so nblib's pure helpers load without the data layer.
            from nbcatalog.data import connect
        start_ts, end_ts = time_range(start, end)
        opts = None if options is None else frozenset(str(o) for o in options)
        return cls(connect(data_source or None), start_ts, end_ts, opts, data_source or "")

    def wants(self, option: str) -> bool:
        """True when `option` is on (always true for a template without options)."""
        return self.options is None or option in self.options

    def skipped(self, title: str, option: str) -> Finding:
        """The Finding of a step whose option is off."""
        return skipped(title, option)

    def query(self, name: str, title: str = "", **params: Any) -> Finding:
        """Run a named query over the investigation's time range (see `queries.run_query`)."""
        params.setdefault("start", self.start)
        params.setdefault("end", self.end)
        return run_query(self.source, name, title=title or name, **params)

    @property
    def period(self) -> str:
        """The time range as text, for headings and notes."""
        return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"

    # --------------------------------------------------------- data state

    def require_entity(self, found: Any, kind: str | None = None, given: str | None = None) -> bool:
        """Require that the entity the analyst named matched one thing; False if not.

        `found` is a look-up result (`hosts.find_host`, `flows.resolve_subject`,
        `accounts.find_accounts`). No match (the reason names the closest names the
        source knows) or several matches (it lists them) ends the run ``no_data``.

        Example (in a template):
            found = nblib.hosts.find_host(inv, host)
            inv.require_entity(found)
        """
        state = entity_state(found, kind, given)
        self.outcome.entity = {"kind": state.kind, "value": state.given or state.described}
        self.outcome.checks.append(
            {"what": f"{state.kind} {state.given or state.described}", "rows": int(state.matched)}
        )
        failed_before = self.outcome.status == NO_DATA
        if not state.matched:
            self.outcome.add_missing(state.notes)
            if len(state.candidates) > 1:
                shown = ", ".join(state.candidates[:10]) + (
                    ", ..." if len(state.candidates) > 10 else ""
                )
                self.outcome.fail(
                    f"{len(state.candidates)} {state.kind}s match {state.given!r}: {shown}; "
                    "give one of them",
                    candidates=state.candidates,
                )
            elif not state.given:
                self.outcome.fail(f"no {state.kind} given")
            else:
                near = list(state.closest) or closest_known(self, state.kind, state.given)
                reason = f"no {state.kind} named {state.given!r} in {state.where}"
                if state.in_period:
                    reason += f" in {self.period}"
                if self.outcome.missing_tables and not near:
                    reason += f" ({', '.join(self.outcome.missing_tables)} absent from it)"
                self.outcome.fail(reason, closest=near)
        self._declare(announce=self.outcome.status == NO_DATA and not failed_before)
        return state.matched

    def require(self, evidence: Any, what: str, *, entity: tuple[str, str] | None = None) -> bool:
        """Require rows of what the notebooklet is about; False (run ``no_data``) if none.

        `evidence`: a Finding, a DataFrame, a count, or a list / dict of them (any one
        with rows is enough). Parts whose option is off do not count either way. The
        reason names the tables absent from the source, else the empty time range.
        `entity` (kind, value) adds the closest names the source knows to the reason.

        Example (in a template):
            inv.require(sessions, f"logon attempts on {found.name}")
        """
        parts = [evidence_of(p) for p in pieces(evidence)]
        looked = [p for p in parts if not p.skipped]
        rows = sum(p.rows for p in looked)
        self.outcome.checks.append({"what": what, "rows": rows, "checked": bool(looked)})
        if entity is not None and self.outcome.entity is None:
            self.outcome.entity = {"kind": entity[0], "value": entity[1]}
        if rows or not looked or self.outcome.status == NO_DATA:
            # Found, not looked at (options off), or already no_data for its first cause.
            self._declare(announce=False)
            return bool(rows) or not looked
        notes = [n for p in looked for n in p.notes]
        self.outcome.add_missing(notes)
        tables = self.outcome.missing_tables
        all_missing = all(any(getattr(n, "kind", "") == "missing" for n in p.notes) for p in looked)
        if tables and all_missing:
            reason = f"no {what}: {', '.join(tables)} absent from this data source"
        else:
            reason = f"no {what} in {self.period}"
        near = closest_known(self, *entity) if entity else []
        self.outcome.fail(reason, closest=near)
        self._declare(announce=True)
        return False

    def _declare(self, *, announce: bool) -> None:
        """Glue the outcome (the last glued one is the run's), and show a new no_data."""
        try:
            from IPython import get_ipython
        except ImportError:  # no IPython: nothing to glue into
            return
        if get_ipython() is None:
            return  # plain Python (a test, a script): the outcome stays on `inv.outcome`
        from nbcatalog.nblib.glue import glue

        glue(OUTCOME_SCRAP, self.outcome.to_json())
        if announce:
            from IPython.display import HTML, display

            display(HTML(self.outcome._repr_html_()))
