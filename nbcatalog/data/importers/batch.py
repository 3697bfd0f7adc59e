"""The hand-off between a format reader and the store: rows for one table.

Example:
    >>> b = Batch.from_records("Syslog", [{"SyslogMessage": "hi"}], [7])
    >>> b.frame.columns.tolist(), b.lines
    (['SyslogMessage'], [7])
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class Batch:
    """Raw rows for `table`: columns are the table's column names; `lines` locates each row."""

    table: str
    frame: pd.DataFrame
    lines: list[int | None]

    @classmethod
    def from_records(cls, table: str, records: list[dict], lines: list[int | None]) -> Batch:
        """Build a batch from row dicts (keys must be columns of `table`)."""
        return cls(table, pd.DataFrame.from_records(records), list(lines))
