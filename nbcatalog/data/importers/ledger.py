"""The dedup ledger: which files and which rows have been imported already.

Two levels, both kept in the store itself (so they commit or roll back with the
rows they describe), in their own schema ``_nbcatalog_import`` so that listings
of the store's tables (``information_schema`` schema ``main``) never show them:

* ``_nbcatalog_import.files``: the SHA-256 of every imported file's bytes. The
  same content imported again (under any name) is skipped as a whole and the
  report says when it was imported before. Cheap, and explains itself.
* ``_nbcatalog_import.row_keys``: a 128-bit BLAKE2b key per stored row, computed from
  the table name, the row's stored values, and how many identical rows came
  before it in the same file. This catches what file hashes cannot: a log that
  grew since the last import (``auth.log`` read again tomorrow), or two exports
  with overlapping time ranges. The occurrence count keeps genuinely repeated
  events (two identical syslog lines in one second) instead of collapsing them.

Identity is the stored content rather than a natural key (EventRecordID, Zeek
uid) because only some formats have one, and the same rule then holds for all.

Example:
    >>> import pandas as pd
    >>> keys = row_keys("Syslog", pd.DataFrame({"SyslogMessage": ["a", "a", "b"]}))
    >>> keys[0] != keys[1], len(keys[0])
    (True, 32)
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter

import duckdb
import pandas as pd

SCHEMA = "_nbcatalog_import"
FILES_TABLE = f"{SCHEMA}.files"
ROWS_TABLE = f"{SCHEMA}.row_keys"

_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {FILES_TABLE} (
        content_sha256 VARCHAR, path VARCHAR, format VARCHAR, tables VARCHAR,
        rows_stored BIGINT, rows_rejected BIGINT, imported_at TIMESTAMPTZ)""",
    f"CREATE TABLE IF NOT EXISTS {ROWS_TABLE} (table_name VARCHAR, row_key VARCHAR)",
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ledger tables if the store does not have them yet."""
    for ddl in _DDL:
        con.execute(ddl)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of the file's bytes as stored on disk (compressed or not)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def earlier_import(con: duckdb.DuckDBPyConnection, sha256: str) -> str | None:
    """Describe the earlier import of this content, or None if there was none."""
    row = con.execute(
        f"SELECT path, imported_at FROM {FILES_TABLE} WHERE content_sha256 = ? "  # noqa: S608
        "ORDER BY imported_at LIMIT 1",
        [sha256],
    ).fetchone()
    if row is None:
        return None
    return f"same content as {row[0]}, imported {pd.Timestamp(row[1]).isoformat()}"


def record_file(
    con: duckdb.DuckDBPyConnection,
    sha256: str,
    path: str,
    fmt: str,
    tables: dict[str, int],
    rows_stored: int,
    rows_rejected: int,
) -> None:
    """Remember a file as imported (inside the caller's transaction)."""
    con.execute(
        f"INSERT INTO {FILES_TABLE} VALUES (?, ?, ?, ?, ?, ?, now())",  # noqa: S608
        [sha256, path, fmt, ",".join(sorted(tables)), rows_stored, rows_rejected],
    )


def row_keys(table: str, frame: pd.DataFrame) -> list[str]:
    """One key per row: hash of table, values and the occurrence number of those values."""
    rendered = pd.Series([table] * len(frame), index=frame.index, dtype=object)
    for name in sorted(frame.columns):
        column = frame[name]
        # NULLs and empty strings are left out (Kusto's isempty: CSV cannot tell them
        # apart), so the same rows from CSV and Parquet, or with an extra all-NULL
        # column, get the same keys.
        as_text = column.astype(str)
        text = ("\x1f" + name + "\x1e") + as_text
        rendered = rendered + text.where(column.notna() & (as_text != ""), "")
    seen: Counter[str] = Counter()
    keys = []
    for content in rendered.tolist():
        seen[content] += 1
        data = f"{content}\x1d{seen[content]}".encode("utf-8", "surrogatepass")
        keys.append(hashlib.blake2b(data, digest_size=16).hexdigest())
    return keys


def known_keys(con: duckdb.DuckDBPyConnection, table: str, keys: list[str]) -> set[str]:
    """The subset of `keys` already in the ledger for `table`."""
    if not keys:
        return set()
    con.register("_nbcatalog_keys", pd.DataFrame({"row_key": keys}))
    try:
        rows = con.execute(
            f"SELECT k.row_key FROM _nbcatalog_keys k JOIN {ROWS_TABLE} r "  # noqa: S608
            "ON r.row_key = k.row_key AND r.table_name = ?",
            [table],
        ).fetchall()
    finally:
        con.unregister("_nbcatalog_keys")
    return {r[0] for r in rows}


def record_keys(con: duckdb.DuckDBPyConnection, table: str, keys: list[str]) -> None:
    """Add row keys to the ledger (inside the caller's transaction)."""
    if not keys:
        return
    con.register("_nbcatalog_keys", pd.DataFrame({"row_key": keys}))
    try:
        con.execute(
            f"INSERT INTO {ROWS_TABLE} SELECT ?, row_key FROM _nbcatalog_keys",  # noqa: S608
            [table],
        )
    finally:
        con.unregister("_nbcatalog_keys")
