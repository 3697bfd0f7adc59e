"""`nbcatalog data import`: exit codes, atomicity, re-import dedup, format detection."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import duckdb
import pytest
from click.testing import CliRunner
from helpers.evtx_writer import EvtxEvent, evtx_bytes
from nbcatalog.cli.main import main

from nbcatalog.data.importers import detect_format, import_paths
from nbcatalog.data.schema import TABLES

AUTH = (
    "Nov 27 10:00:01 lnx-web01 sshd[42]: Failed password for root from 198.51.100.23 port 1 ssh2\n"
    "Nov 27 10:00:01 lnx-web01 sshd[42]: Failed password for root from 198.51.100.23 port 1 ssh2\n"
    "Nov 27 10:00:09 lnx-web01 sshd[42]: Accepted password for deploy from 198.51.100.23\n"
)


def count(db, name: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608


def run(*args: str):
    return CliRunner().invoke(main, ["data", "import", *map(str, args)])


@pytest.fixture
def auth_log(tmp_path):
    path = tmp_path / "auth.log"
    path.write_text(AUTH)
    when = datetime(2026, 11, 28, tzinfo=timezone.utc).timestamp()
    os.utime(path, (when, when))
    return path


def test_import_twice_adds_nothing_and_a_grown_log_adds_only_new_lines(tmp_path, auth_log):
    db = tmp_path / "s.duckdb"
    first = run(auth_log, "--db", db)
    assert first.exit_code == 0, first.output
    assert "read 3, stored 3 (Syslog 3), rejected 0, duplicates 0" in first.output
    assert count(db, "Syslog") == 3  # the two identical lines are two events

    again = run(auth_log, "--db", db)
    assert again.exit_code == 0 and "already imported" in again.output
    assert count(db, "Syslog") == 3

    grown = tmp_path / "auth.log.copy"
    grown.write_text(AUTH + "Nov 27 10:00:20 lnx-web01 sshd[43]: Disconnected from user deploy\n")
    more = run(grown, "--db", db, "--format", "syslog")
    assert "read 4, stored 1 (Syslog 1), rejected 0, duplicates 3" in more.output
    assert count(db, "Syslog") == 4


def test_unknown_format_exits_2_lists_formats_and_leaves_store_unchanged(tmp_path, auth_log):
    db = tmp_path / "s.duckdb"
    assert run(auth_log, "--db", db).exit_code == 0
    before = db.read_bytes()
    mystery = tmp_path / "notes.txt"
    mystery.write_text("just some notes\nnothing to see\n")
    result = run(auth_log.with_name("x.log"), mystery, "--db", db)  # x.log missing too
    assert result.exit_code == 1 and "x.log" in result.output  # unreadable first
    result = run(mystery, "--db", db)
    assert result.exit_code == 2
    assert "cannot tell the format" in result.output
    for name in ("sentinel-csv", "evtx", "windows-json", "syslog", "zeek"):
        assert name in result.output
    assert "store is unchanged" in result.output
    assert db.read_bytes() == before

    bad_format = run(auth_log, "--db", db, "--format", "xml")
    assert bad_format.exit_code == 2 and "unknown format 'xml'" in bad_format.output
    bad_table = run(auth_log, "--db", db, "--table", "Nope")
    assert bad_table.exit_code == 2 and "SecurityEvent" in bad_table.output


def test_failure_later_in_the_call_rolls_back_earlier_files(tmp_path, auth_log):
    db = tmp_path / "s.duckdb"
    assert run(auth_log, "--db", db).exit_code == 0
    events = [EvtxEvent(4624, datetime(2026, 11, 27, 10, tzinfo=timezone.utc), "WKSTN-042")]
    good = tmp_path / "good.evtx"
    good.write_bytes(evtx_bytes(events))
    broken = tmp_path / "broken.evtx"
    broken.write_bytes(b"ElfFile\x00" + b"\x00" * 100)  # header cut short
    result = run(good, broken, "--db", db)
    assert result.exit_code == 1, result.output
    assert "truncated EVTX file" in result.output
    assert count(db, "SecurityEvent") == 0 and count(db, "Syslog") == 3
    with duckdb.connect(str(db), read_only=True) as con:  # the ledger rolled back too
        assert con.execute("SELECT count(*) FROM _nbcatalog_import.files").fetchone()[0] == 1
        main_tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
    assert main_tables == set(TABLES)  # the ledger stays out of table listings


def test_directory_import_and_help(tmp_path, auth_log):
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "auth.log").write_text(AUTH)
    (folder / "Security.evtx").write_bytes(
        evtx_bytes([EvtxEvent(4625, datetime(2026, 11, 27, tzinfo=timezone.utc), "WKSTN-042")])
    )
    (folder / ".hidden").write_text("ignored")
    db = tmp_path / "s.duckdb"
    result = run(folder, "--db", db)
    assert result.exit_code == 0, result.output
    assert count(db, "SecurityEvent") == 1 and count(db, "Syslog") == 3

    help_text = CliRunner().invoke(main, ["data", "import", "--help"]).output
    assert "Exit codes" in help_text and "1  a file or the store is missing" in help_text
    assert "2  bad usage" in help_text and "zeek" in help_text and "winlogbeat" in help_text


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("x.bin", b"ElfFile\x00rest", "evtx"),
        ("x.bin", b"PAR1....", "sentinel-parquet"),
        ("x.bin", b"\x80\x05\x95", "sentinel-pickle"),
        ("x.log", b"#separator \\x09\n#fields\tts", "zeek"),
        ("x.log", b'{"ts": 1.0, "id.orig_h": "10.0.0.1", "id.resp_h": "10.0.0.2"}', "zeek"),
        ("x.log", b'{"@timestamp": "x", "winlog": {"channel": "Security"}}', "windows-json"),
        ("x.json", b'{"TimeGenerated": "2026-11-27T10:00:00Z", "Computer": "h"}', "sentinel-json"),
        ("x.json", b'[{"TimeGenerated": "2026-11-27"}]', "sentinel-json"),
        ("x.txt", b"<34>1 2026-11-27T10:00:00Z host app - - - msg", "syslog"),
        ("x.txt", "TimeGenerated,Computer\n".encode("utf-16"), "sentinel-csv"),
        ("x.txt", b"hello world", None),
    ],
)
def test_detect_format(name, head, expected):
    assert detect_format(name, head) == expected


def test_python_api_matches_cli(tmp_path, auth_log):
    report = import_paths([auth_log], db=tmp_path / "api.duckdb")
    assert report.rows_read == report.rows_stored + report.rows_rejected + report.rows_duplicate
    assert report.files[0].tables == {"Syslog": 3}


@pytest.mark.parametrize(
    ("name", "content"),
    [("Security.evtx", b""), ("export.csv", b""), ("auth.log", b"\n\r\n  \n"),
     ("beats.json", b"\xff\xfe"), ("conn.log", b"")],
)  # fmt: skip
def test_empty_files_import_nothing_with_a_warning(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    report = import_paths([path], db=tmp_path / "s.duckdb")
    f = report.files[0]
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (0, 0, 0)
    assert f.warnings == ["empty file: nothing to import"]


def test_zero_rows_stored_fails_leaves_store_unchanged_and_a_retry_works(tmp_path, auth_log):
    db = tmp_path / "s.duckdb"
    assert run(auth_log, "--db", db).exit_code == 0
    before = db.read_bytes()
    other = tmp_path / "web-auth.log"
    other.write_text(AUTH.replace("lnx-web01", "lnx-web02"))
    lines = len(other.read_text().splitlines())

    wrong = run(other, "--db", db, "--format", "zeek")  # an auth.log is no conn.log

    assert wrong.exit_code == 1, wrong.output
    assert f"nothing stored: all {lines} rows were rejected" in wrong.output
    assert f"{other}:1: " in wrong.output  # the first reasons, with file and line
    assert "not recorded as imported" in wrong.output
    assert "store is unchanged" in wrong.output
    assert db.read_bytes() == before
    with duckdb.connect(str(db), read_only=True) as con:
        recorded = con.execute("SELECT path FROM _nbcatalog_import.files").fetchall()
    assert recorded == [(str(auth_log),)]

    retry = run(other, "--db", db)  # the format detected this time
    assert retry.exit_code == 0, retry.output
    assert f"read {lines}, stored {lines} (Syslog {lines})" in retry.output
    assert count(db, "Syslog") == 3 + lines


def test_missing_key_columns_exit_1_naming_them(tmp_path):
    db = tmp_path / "s.duckdb"
    alerts = tmp_path / "alerts.csv"
    alerts.write_text("TimeGenerated,Title,Sev\n2026-11-27T10:00:00Z,RDP brute force,High\n")
    result = run(alerts, "--db", db, "--table", "SecurityAlert")
    assert result.exit_code == 1, result.output
    assert "AlertSeverity (not in the file)" in result.output
    assert "Dropped as not in SecurityAlert: Title, Sev" in result.output
    assert not db.exists()

    alerts.write_text(
        "TimeGenerated,AlertName,AlertSeverity\n2026-11-27T10:00:00Z,RDP brute force,High\n"
    )
    fixed = run(alerts, "--db", db)
    assert fixed.exit_code == 0 and count(db, "SecurityAlert") == 1
