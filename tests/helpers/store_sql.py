"""Read what an import wrote: a SQL query on a store file, read-only, as a DataFrame.

Example:
    >>> table(db, "SELECT count(*) AS n FROM SecurityEvent").n[0]     # doctest: +SKIP
    3
"""

from __future__ import annotations

import os

import duckdb
import pandas as pd


def table(db: str | os.PathLike, sql: str) -> pd.DataFrame:
    """The result of `sql` on the DuckDB store file `db` (opened read-only, then closed)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()
