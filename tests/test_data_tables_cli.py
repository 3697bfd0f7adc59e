"""`nbcatalog data tables`: row counts and time ranges of a real store file."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
from click.testing import CliRunner
from nbcatalog.cli.main import main

from nbcatalog.data.schema import TABLES
from nbcatalog.data.store import Store


def _store(path):
    with Store.open(path) as store:
        store.append(
            "SecurityEvent",
            pd.DataFrame(
                {
                    "TimeGenerated": ["2024-05-01T10:00:00Z", "2024-05-03T11:30:00+02:00"],
                    "Computer": ["WKSTN-001", "WKSTN-002"],
                    "EventID": [4624, 4625],
                }
            ),
        )
        store.append(
            "Syslog",
            pd.DataFrame({"TimeGenerated": ["2024-05-02T00:00:00Z"], "SyslogMessage": ["x"]}),
        )
    return path


def test_tables_json(tmp_path):
    db = _store(tmp_path / "s.duckdb")
    result = CliRunner().invoke(main, ["data", "tables", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    by_name = {r["table"]: r for r in doc["tables"]}
    assert set(by_name) == set(TABLES)
    assert by_name["SecurityEvent"] == {
        "table": "SecurityEvent",
        "rows": 2,
        "first": "2024-05-01T10:00:00+00:00",
        "last": "2024-05-03T09:30:00+00:00",
    }
    assert by_name["Syslog"]["rows"] == 1
    assert by_name["Heartbeat"] == {"table": "Heartbeat", "rows": 0, "first": None, "last": None}


def test_tables_text(tmp_path):
    db = _store(tmp_path / "s.duckdb")
    result = CliRunner().invoke(main, ["data", "tables", "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Store: {db}"
    assert lines[1].split() == ["TABLE", "ROWS", "FIRST", "(UTC)", "LAST", "(UTC)"]
    row = next(line for line in lines if line.startswith("SecurityEvent "))
    assert row.split() == ["SecurityEvent", "2", "2024-05-01", "10:00:00", "2024-05-03", "09:30:00"]
    empty = next(line for line in lines if line.startswith("Heartbeat "))
    assert empty.split() == ["Heartbeat", "0", "-", "-"]


def test_tables_default_db_from_env(tmp_path, monkeypatch):
    db = _store(tmp_path / "env.duckdb")
    monkeypatch.setenv("NBCATALOG_DB", str(db))
    result = CliRunner().invoke(main, ["data", "tables", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["db"] == str(db)


def test_missing_store_is_a_usage_error(tmp_path):
    missing = tmp_path / "none.duckdb"
    result = CliRunner().invoke(main, ["data", "tables", "--db", str(missing)])
    assert result.exit_code == 2
    assert "nbcatalog data demo" in result.output and "nbcatalog data import" in result.output
    assert not missing.exists()  # looking does not create a store


def test_tables_through_the_installed_command(tmp_path):
    """The real entry point, as a user runs it."""
    db = _store(tmp_path / "s.duckdb")
    out = subprocess.run(
        [sys.executable, "-m", "nbcatalog.cli.main", "data", "tables", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert {r["table"]: r["rows"] for r in json.loads(out.stdout)["tables"]}["SecurityEvent"] == 2
