"""A DuckDB file lacking some Sentinel tables (written by another tool, or an older
store) can still be queried: queries on the tables it has work, queries on a missing
table raise a DataSourceError naming it, and nblib turns that into a note."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb
import pandas as pd
import pytest

from nbcatalog.data import connect
from nbcatalog.data.schema import TABLES
from nbcatalog.data.source import macro_tables, tables_read
from nbcatalog.errors import DataSourceError
from nbcatalog.nblib.queries import run_query

WINDOW = {"start": "2026-11-27T00:00:00Z", "end": "2026-11-28T00:00:00Z"}
WHEN = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def partial_db(tmp_path_factory):
    """Only Syslog and Heartbeat, created directly with DuckDB (not through Store)."""
    path = tmp_path_factory.mktemp("foreign") / "other-tool.duckdb"
    with duckdb.connect(str(path)) as con:
        for name in ("Syslog", "Heartbeat"):
            con.execute(TABLES[name].ddl())
        con.execute(
            'INSERT INTO "Syslog" (TimeGenerated, Computer, HostName, Facility, ProcessName, '
            "SyslogMessage) VALUES (?, 'lnx-web01', 'lnx-web01', 'auth', 'sshd', ?)",
            [WHEN, "Accepted password for deploy from 198.51.100.23 port 2222 ssh2"],
        )
        con.execute(
            'INSERT INTO "Heartbeat" (TimeGenerated, Computer, ComputerIP) '
            "VALUES (?, 'lnx-web01', '10.0.0.5')",
            [WHEN],
        )
    return path


def test_queries_on_present_tables_work(partial_db):
    src = connect(f"duckdb:{partial_db}")
    assert src.tables() == ["Heartbeat", "Syslog"]
    logons = src.query("LinuxSyslog.list_logons_for_host", host_name="lnx-web01", **WINDOW)
    assert logons[["LogonResult", "SourceIP"]].values.tolist() == [["Success", "198.51.100.23"]]
    beats = src.query("Network.get_heartbeat_for_host", host_name="lnx-web01", **WINDOW)
    assert beats["ComputerIP"].tolist() == ["10.0.0.5"]
    # sql() still has the macros that need no missing table
    assert src.sql("SELECT kql_has('a failed b', 'FAILED') AS x")["x"].tolist() == [True]


@pytest.mark.parametrize(
    ("query", "params", "table"),
    [
        ("WindowsSecurity.list_host_logons", {"host_name": "WKSTN-042"}, "SecurityEvent"),
        ("SecurityAlert.list_alerts", {}, "SecurityAlert"),
        (
            "Network.list_azure_network_flows_by_host",
            {"host_name": "lnx-web01"},
            "AzureNetworkAnalytics_CL",
        ),
    ],
)
def test_query_on_a_missing_table_names_it(partial_db, query, params, table):
    src = connect(f"duckdb:{partial_db}")
    with pytest.raises(DataSourceError) as err:
        src.query(query, **params, **WINDOW)
    text = str(err.value)
    assert f"Table with name {table} does not exist" in text
    assert "the store has: Heartbeat, Syslog" in text
    # in a session too: the missing macros do not break the shared connection
    with src.session():
        with pytest.raises(DataSourceError, match=table):
            src.query(query, **params, **WINDOW)
        assert len(src.query("LinuxSyslog.all_syslog", **WINDOW)) == 1


def test_sql_using_a_left_out_macro_names_the_table(partial_db):
    src = connect(f"duckdb:{partial_db}")
    with pytest.raises(DataSourceError, match="Table with name SecurityEvent does not exist"):
        src.sql("SELECT count(*) FROM win_logon_events()")


def test_nblib_turns_the_error_into_a_missing_note(partial_db):
    """Also when the query's main table exists but another one it reads does not."""

    class NoTableList:  # a source that cannot list tables: nblib has to try the query
        def __init__(self, inner):
            self.inner = inner

        def tables(self):
            raise RuntimeError("cannot list")

        def query(self, name, **params):
            return self.inner.query(name, **params)

    src = NoTableList(connect(f"duckdb:{partial_db}"))
    finding = run_query(src, "WindowsSecurity.list_host_logons", host_name="x", **WINDOW)
    assert isinstance(finding.data, pd.DataFrame) and finding.data.empty
    assert [n.kind for n in finding.notes] == ["missing"]
    assert "SecurityEvent table is missing" in finding.notes[0].text


def test_macro_tables_follow_macros_that_call_macros():
    found = macro_tables(
        [
            'CREATE OR REPLACE TEMP MACRO a() AS TABLE SELECT * FROM "SecurityEvent"',
            "CREATE OR REPLACE TEMP MACRO f(x) AS lower(x)",
            'CREATE OR REPLACE TEMP MACRO b() AS TABLE SELECT f(x) FROM a() JOIN "Heartbeat" h',
        ]
    )
    assert found == {
        "a": {"SecurityEvent"},
        "f": frozenset(),
        "b": {"SecurityEvent", "Heartbeat"},
    }
    assert tables_read("SELECT * FROM b()", found) == {"SecurityEvent", "Heartbeat"}
    assert tables_read("SELECT * FROM ab()", found) == frozenset()
