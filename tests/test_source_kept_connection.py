"""Inside a notebooklet run, DuckDBSource calls share one connection, closed when idle.

Outside a run every call opens and closes its own connection (unchanged). The
shared connection must never keep a writer out for long: it closes `KEEP_IDLE`
seconds after its last use, and at once when the pool resets the kernel.
"""

from __future__ import annotations

import time

import duckdb
import pandas as pd
import pytest

from nbcatalog.data import source as sourcelib
from nbcatalog.data.source import KEEP_OPEN_ENV, DuckDBSource, close_kept_connections
from nbcatalog.data.store import Store


@pytest.fixture
def small_db(tmp_path):
    path = tmp_path / "small.duckdb"
    with Store.open(path) as store:
        store.append(
            "Heartbeat",
            pd.DataFrame(
                {
                    "TimeGenerated": pd.to_datetime(["2024-05-02T00:00:00Z"] * 3),
                    "Computer": ["WKSTN-001", "WKSTN-002", "WIN-DC01"],
                }
            ),
        )
    yield path
    close_kept_connections()


def _opens(monkeypatch) -> list[str]:
    opened: list[str] = []
    real = Store.open.__func__

    def counting(cls, path=None, *, read_only=False):
        if read_only:  # the sources' connections, not the test's writer
            opened.append(str(path))
        return real(cls, path, read_only=read_only)

    monkeypatch.setattr(Store, "open", classmethod(counting))
    return opened


def _count(src: DuckDBSource) -> int:
    return int(src.sql('SELECT count(*) AS n FROM "Heartbeat"')["n"].iloc[0])


def _writer_can_open(path) -> bool:
    try:
        Store.open(path).close()
    except duckdb.Error:
        return False
    return True


def test_outside_a_run_each_call_opens_its_own_connection(small_db, monkeypatch):
    monkeypatch.delenv(KEEP_OPEN_ENV, raising=False)
    opened = _opens(monkeypatch)
    src = DuckDBSource(small_db)
    assert [_count(src) for _ in range(3)] == [3, 3, 3]
    assert len(opened) == 3
    assert _writer_can_open(small_db)  # nothing left open


def test_in_a_run_sources_share_one_connection_then_close_when_idle(
    small_db, monkeypatch, tmp_path
):
    monkeypatch.setenv(KEEP_OPEN_ENV, str(tmp_path))
    monkeypatch.setattr(sourcelib, "KEEP_IDLE", 0.3)
    opened = _opens(monkeypatch)
    first, second = DuckDBSource(small_db), DuckDBSource(small_db)
    assert [_count(first), _count(second), _count(first)] == [3, 3, 3]
    assert "Heartbeat" in second.tables()
    assert len(opened) == 1  # a second connection would also fail: one config per file
    assert not _writer_can_open(small_db)  # DuckDB: one configuration per file and process
    time.sleep(0.8)
    assert _writer_can_open(small_db)  # closed after being idle
    assert _count(first) == 3 and len(opened) == 2  # and opened again when needed


def test_closing_kept_connections_lets_a_writer_in_at_once(small_db, monkeypatch, tmp_path):
    monkeypatch.setenv(KEEP_OPEN_ENV, str(tmp_path))
    src = DuckDBSource(small_db)
    assert _count(src) == 3
    close_kept_connections()
    with Store.open(small_db) as store:
        store.con.execute("DELETE FROM \"Heartbeat\" WHERE Computer = 'WIN-DC01'")
    assert _count(src) == 2  # a new connection sees the write


def test_a_failing_query_keeps_the_shared_connection_usable(small_db, monkeypatch, tmp_path):
    monkeypatch.setenv(KEEP_OPEN_ENV, str(tmp_path))
    src = DuckDBSource(small_db)
    with pytest.raises(Exception, match="SecurityEvent|not exist|missing"):
        src.sql('SELECT * FROM "NoSuchTable"')
    assert _count(src) == 3
