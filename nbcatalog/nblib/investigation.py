"""The context a notebooklet works in: data source, time range and options.

A template opens one `Investigation` right after its parameters cell and passes it
to every nblib step, so steps never repeat the time range or the data source:

    inv = nblib.Investigation.open(data_source, start, end, options)
    alerts = nblib.alerts.related_alerts(inv, host="WKSTN-042")

Example:
    >>> inv = Investigation.open("duckdb:/tmp/demo.duckdb", "2024-05-01", "2024-05-08",
    ...                          ["alerts"], connect=lambda spec: None)
    >>> inv.wants("alerts"), inv.wants("timeline"), str(inv.start)
    (True, False, '2024-05-01 00:00:00+00:00')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nbcatalog.nblib.findings import Finding, skipped
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
