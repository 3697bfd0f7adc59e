"""Read what an import wrote: a SQL query on a store file, read-only, as a DataFrame.

Example:
    >>> table(db, "SELECT count(*) AS n FROM SecurityEvent").n[0]     # doctest: +SKIP
    3
    >>> count(db, 'SELECT count(*) FROM "Syslog" WHERE Computer = ?', ["h"])  # doctest: +SKIP
    3
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pandas as pd

Params = Sequence[Any] | Mapping[str, Any] | None


def table(db: str | os.PathLike, sql: str, params: Params = None) -> pd.DataFrame:
    """The result of `sql` on the DuckDB store file `db` (opened read-only, then closed).

    `params` are bound (`?` with a list, `$name` with a dict), never pasted into `sql`.
    """
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params if params is not None else []).df()


def count(db: str | os.PathLike, sql: str, params: Params = None) -> int:
    """The single number a `SELECT count(*) ...` (or `sum`) gives on the store file `db`."""
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute(sql, params if params is not None else []).fetchone()[0])
