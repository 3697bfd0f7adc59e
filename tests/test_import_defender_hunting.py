"""Microsoft Defender advanced hunting results import through the real CLI.

Fixtures (tests/fixtures/defender_hunting/, written by make_fixtures.py there) in the
shapes Microsoft documents: the portal's result table saved as CSV (RFC 4180
quoting, a command line holding quotes, commas and a line break), the answer of
``POST /api/advancedqueries/run`` ({"Schema", "Results"}) and Microsoft Graph's
``runHuntingQuery`` ({"@odata.context", "schema", "results"}). Every figure asserted
is counted here from the fixture text with the csv / json modules, never by
nbcatalog's parsers; the store is read back with DuckDB.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from helpers.offline import attempts

pytest_plugins = ["helpers.offline_plugin"]

NBCATALOG = Path(sys.executable).parent / "nbcatalog"
FIXTURES = Path(__file__).parent / "fixtures" / "defender_hunting"
PORTAL = FIXTURES / "DeviceNetworkEvents_portal.csv"
DEFENDER_API = FIXTURES / "advancedqueries_run.json"
GRAPH_API = FIXTURES / "graph_runHuntingQuery.json"
BAD = FIXTURES / "bad_timestamp.csv"
AMBIGUOUS = FIXTURES / "ambiguous.csv"
PS51_ARRAY = FIXTURES / "hunting_rows_ps51.json"
JSON_LINES = FIXTURES / "hunting_rows.jsonl"
# ActionTypes hostnet counts as connections (a listening socket is not one).
CONNECTIONS = {"ConnectionSuccess", "InboundConnectionAccepted"}


def nbcatalog(*args: object, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(NBCATALOG), *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def csv_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def api_rows(path: Path) -> list[dict]:
    answer = json.loads(path.read_text(encoding="utf-8"))
    return answer.get("Results", answer.get("results"))


def parse_time(text: str) -> datetime:
    """ISO 8601 with 7 fractional digits and Z, to the microsecond (the store's unit)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\d?Z", text)
    assert match, text
    when = datetime.strptime(f"{match[1]}.{match[2]}", "%Y-%m-%dT%H:%M:%S.%f")
    return when.replace(tzinfo=timezone.utc)


def stored(db: Path, sql: str, *params):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def import_(db: Path, *files: Path, table: str | None = None) -> subprocess.CompletedProcess:
    extra = ["--table", table] if table else []
    return nbcatalog("data", "import", "--db", db, *files, *extra)


@pytest.fixture(scope="module")
def portal_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("portal") / "x.duckdb"
    proc = import_(db, PORTAL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[defender-csv]" in proc.stdout  # told apart from a Sentinel export by its header
    return db


def test_portal_csv_stores_every_row_with_timegenerated_from_timestamp(portal_db):
    rows = csv_rows(PORTAL)
    count = stored(portal_db, 'SELECT count(*) FROM "DeviceNetworkEvents"')[0][0]
    assert count == len(rows)
    devices = stored(portal_db, 'SELECT count(DISTINCT DeviceName) FROM "DeviceNetworkEvents"')
    assert devices[0][0] == len({r["DeviceName"] for r in rows})
    back = {
        (name, report): (ts, tg)
        for name, report, ts, tg in stored(
            portal_db,
            'SELECT DeviceName, ReportId, Timestamp, TimeGenerated FROM "DeviceNetworkEvents"',
        )
    }
    for r in rows:
        ts, tg = back[(r["DeviceName"], int(r["ReportId"]))]
        assert tg == ts == parse_time(r["Timestamp"]), r["Timestamp"]


def test_hostile_values_are_stored_as_data(portal_db):
    rows = csv_rows(PORTAL)
    hostile = next(r for r in rows if "DROP TABLE" in r["InitiatingProcessCommandLine"])
    (cmd, url), *_ = stored(
        portal_db,
        'SELECT InitiatingProcessCommandLine, RemoteUrl FROM "DeviceNetworkEvents" '
        "WHERE ReportId = ?",
        int(hostile["ReportId"]),
    )
    # The CSV reader ends every physical line with \n, so a CRLF inside a quoted
    # field comes back as LF (the Sentinel CSV reader's behaviour); nothing else changes.
    assert cmd == hostile["InitiatingProcessCommandLine"].replace("\r\n", "\n")
    assert url == hostile["RemoteUrl"]
    assert stored(portal_db, 'SELECT count(*) FROM "DeviceNetworkEvents"')[0][0] == len(rows)


def test_reimport_adds_nothing(portal_db, tmp_path):
    before = stored(portal_db, 'SELECT count(*) FROM "DeviceNetworkEvents"')[0][0]
    again = import_(portal_db, PORTAL)
    assert again.returncode == 0 and "already imported" in again.stdout
    # The same rows in other bytes (the header as Log Analytics writes a UTC column):
    # every row is a duplicate of one already stored.
    text = PORTAL.read_bytes().decode("utf-8-sig")
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(text.replace("Timestamp,", "Timestamp [UTC],", 1), encoding="utf-8")
    proc = import_(portal_db, renamed)
    rows = len(csv_rows(PORTAL))
    assert proc.returncode == 0, proc.stderr
    assert f"read {rows}, stored 0" in proc.stdout and f"duplicates {rows}" in proc.stdout
    assert stored(portal_db, 'SELECT count(*) FROM "DeviceNetworkEvents"')[0][0] == before


@pytest.mark.parametrize("answer", [DEFENDER_API, GRAPH_API], ids=["defender-api", "graph"])
def test_saved_api_answers_import_their_results(tmp_path, answer):
    db = tmp_path / "x.duckdb"
    proc = import_(db, answer)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[defender-json]" in proc.stdout
    rows = api_rows(answer)
    assert stored(db, 'SELECT count(*) FROM "DeviceNetworkEvents"')[0][0] == len(rows)
    devices = stored(db, 'SELECT count(DISTINCT DeviceName) FROM "DeviceNetworkEvents"')[0][0]
    assert devices == len({r["DeviceName"] for r in rows})
    back = dict(stored(db, 'SELECT ReportId, TimeGenerated FROM "DeviceNetworkEvents"'))
    assert back == {r["ReportId"]: parse_time(r["Timestamp"]) for r in rows}
    ports = dict(stored(db, 'SELECT ReportId, RemotePort FROM "DeviceNetworkEvents"'))
    assert ports == {r["ReportId"]: r["RemotePort"] for r in rows}
    assert "already imported" in import_(db, answer).stdout


def test_an_answer_with_stats_first_and_a_bad_row_names_the_record(tmp_path):
    """The Defender XDR API puts Stats before Schema; a bad row is named by its number."""
    answer = json.loads(DEFENDER_API.read_text(encoding="utf-8"))
    answer = {"Stats": {"ExecutionTime": 0.42}, **answer}
    answer["Results"][2]["Timestamp"] = "not a time"
    answer["Results"][4]["Timestamp"] = None  # JSON null: no time at all
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(answer), encoding="utf-8")  # one line: detected by its keys
    db = tmp_path / "x.duckdb"
    proc = import_(db, path)
    assert proc.returncode == 0, proc.stderr
    rows = answer["Results"]
    assert "[defender-json]" in proc.stdout
    assert f"read {len(rows)}, stored {len(rows) - 2} " in proc.stdout
    assert f"{path}:3: Timestamp: cannot read 'not a time'" in proc.stdout
    assert f"{path}:5: no Timestamp" in proc.stdout
    assert stored(db, 'SELECT count(*) FROM "DeviceNetworkEvents"')[0][0] == len(rows) - 2


def test_one_bad_timestamp_rejects_that_row_only_naming_its_line(tmp_path):
    db = tmp_path / "x.duckdb"
    with BAD.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        lines, end = [], 1  # where each record starts (after the header line)
        for r in reader:
            lines.append((end + 1, r))
            end = reader.line_num
    bad = [(line, r) for line, r in lines if not r["Timestamp"].startswith("2026-11")]
    # One bad row, after a two-line record: its line is not its record number + 1.
    assert len(bad) == 1 and bad[0][0] != lines.index(bad[0]) + 2
    proc = import_(db, BAD)
    assert proc.returncode == 0, proc.stderr
    assert f"read {len(lines)}, stored {len(lines) - 1} " in proc.stdout
    assert "rejected 1, duplicates 0" in proc.stdout
    line, row = bad[0]
    assert f"{BAD}:{line}: Timestamp: cannot read {row['Timestamp']!r}" in proc.stdout
    assert stored(db, 'SELECT count(*) FROM "DeviceNetworkEvents"')[0][0] == len(lines) - 1


def test_columns_several_tables_have_need_table(tmp_path):
    db = tmp_path / "x.duckdb"
    proc = import_(db, AMBIGUOUS)
    assert proc.returncode == 2
    assert "--table" in proc.stderr and "DeviceNetworkEvents" in _accepted(proc.stderr)
    assert "DeviceEvents" in proc.stderr  # says which tables the columns fit
    assert not db.exists()  # nothing created
    named = import_(db, AMBIGUOUS, table="DeviceNetworkEvents")
    assert named.returncode == 0, named.stderr
    count = stored(db, 'SELECT count(*) FROM "DeviceNetworkEvents"')[0][0]
    assert count == len(csv_rows(AMBIGUOUS))
    wrong = import_(tmp_path / "y.duckdb", AMBIGUOUS, table="Syslog")
    assert wrong.returncode == 2 and "DeviceNetworkEvents" in _accepted(wrong.stderr)


def _accepted(stderr: str) -> list[str]:
    """The table names an error lists after "accepted tables: " (up to its closing bracket)."""
    listed = re.search(r"accepted tables: ([A-Za-z_, ]+)", stderr)
    assert listed, stderr
    return [name.strip() for name in listed.group(1).split(",")]


def test_another_device_table_is_refused_by_name(tmp_path):
    files = tmp_path / "files.csv"
    files.write_text(
        # ShareName and PreviousFolderPath are DeviceFileEvents' only.
        "Timestamp,DeviceName,ActionType,FileName,FolderPath,PreviousFolderPath,ShareName\n"
        "2026-11-30T08:00:00.1234567Z,wkstn-077.contoso.com,FileRenamed,a.txt,C:\\x,C:\\y,s\n",
        encoding="utf-8",
    )
    proc = import_(tmp_path / "x.duckdb", files)
    assert proc.returncode == 2
    assert "DeviceFileEvents" in proc.stderr and "no table for" in proc.stderr


# ------------------------------------------------- the rows alone, without the answer


def iso_time(value: object) -> bool:
    return isinstance(value, str) and bool(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", value)
    )


def test_a_bare_array_saved_by_powershell_imports_rejecting_bad_records_by_number(tmp_path):
    """`$answer.Results | ConvertTo-Json | Out-File` (Windows PowerShell: UTF-16, BOM)."""
    items = json.loads(PS51_ARRAY.read_text(encoding="utf-16"))
    good = {
        i: r for i, r in enumerate(items, 1) if isinstance(r, dict) and iso_time(r["Timestamp"])
    }
    not_rows = [i for i, r in enumerate(items, 1) if not isinstance(r, dict)]
    bad_times = [(i, r) for i, r in enumerate(items, 1) if isinstance(r, dict) and i not in good]
    assert len(not_rows) == 1 and len(bad_times) == 1 and len(good) > 4  # the fixture's shape
    db = tmp_path / "x.duckdb"
    proc = import_(db, PS51_ARRAY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{PS51_ARRAY} [defender-json]: read {len(items)}, stored {len(good)} " in proc.stdout
    number, row = bad_times[0]
    assert f"{PS51_ARRAY}:{number}: Timestamp: cannot read {row['Timestamp']!r}" in proc.stdout
    assert f"{PS51_ARRAY}:{not_rows[0]}: item is a str, not a JSON object" in proc.stdout
    back = dict(stored(db, 'SELECT ReportId, TimeGenerated FROM "DeviceNetworkEvents"'))
    assert back == {r["ReportId"]: parse_time(r["Timestamp"]) for r in good.values()}
    assert "already imported" in import_(db, PS51_ARRAY).stdout


def test_json_lines_import_rejecting_bad_lines_by_line_number(tmp_path):
    lines = JSON_LINES.read_text(encoding="utf-8").split("\n")
    values = {n: json.loads(t) for n, t in enumerate(lines, 1) if t.strip()}
    good = {n: v for n, v in values.items() if isinstance(v, dict) and iso_time(v["Timestamp"])}
    bad = {n: v for n, v in values.items() if n not in good}
    assert len(bad) == 2 and any(n != i for i, n in enumerate(good, 1))  # lines != records
    db = tmp_path / "x.duckdb"
    proc = import_(db, JSON_LINES)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"[defender-json]: read {len(values)}, stored {len(good)} " in proc.stdout
    for number, value in bad.items():
        if isinstance(value, dict):
            assert f"{JSON_LINES}:{number}: Timestamp: cannot read {value['Timestamp']!r}" in (
                proc.stdout
            )
        else:
            assert f"{JSON_LINES}:{number}: line is a list, not a JSON object" in proc.stdout
    rows = stored(db, 'SELECT ReportId, DeviceName, RemotePort FROM "DeviceNetworkEvents"')
    assert sorted(rows) == sorted(
        (v["ReportId"], v["DeviceName"], v["RemotePort"]) for v in good.values()
    )


def test_one_row_pretty_printed_is_one_row(tmp_path):
    """ConvertTo-Json of a one-row result writes the object, not an array of one."""
    row = api_rows(DEFENDER_API)[0]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(row, indent=4), encoding="utf-8")
    db = tmp_path / "x.duckdb"
    proc = import_(db, path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[defender-json]: read 1, stored 1 " in proc.stdout
    assert stored(db, 'SELECT ReportId, DeviceName FROM "DeviceNetworkEvents"') == [
        (row["ReportId"], row["DeviceName"])
    ]


def test_rows_with_timegenerated_stay_a_sentinel_export(tmp_path):
    """The same rows with TimeGenerated are a Sentinel export of the store's table."""
    rows = [{"TimeGenerated": r["Timestamp"], **r} for r in api_rows(DEFENDER_API)]
    path = tmp_path / "sentinel.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    proc = import_(tmp_path / "x.duckdb", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"[sentinel-json]: read {len(rows)}, stored {len(rows)} " in proc.stdout


@pytest.mark.parametrize(
    ("path", "fmt", "right"),
    [(JSON_LINES, "json", "defender-json"), (AMBIGUOUS, "csv", "defender-csv")],
)
def test_a_sentinel_format_named_by_hand_points_to_the_defender_one(tmp_path, path, fmt, right):
    db = tmp_path / "x.duckdb"
    proc = nbcatalog("data", "import", "--db", db, "--format", fmt, path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{path}: rows with Timestamp" in proc.stderr
    assert f"import them with --format {right}" in proc.stderr
    assert not db.exists()


@pytest.mark.parametrize("zone", ["UTC+02:00", "UTC-05:00", "Local Time"])
def test_a_local_time_header_is_refused_saying_what_to_do_in_defender(tmp_path, zone):
    text = PORTAL.read_bytes().decode("utf-8-sig")
    assert text.startswith("Timestamp,")
    path = tmp_path / "local.csv"
    path.write_text(text.replace("Timestamp,", f"Timestamp [{zone}],", 1), encoding="utf-8")
    db = tmp_path / "x.duckdb"
    proc = import_(db, path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"'Timestamp [{zone}]'" in proc.stderr and "not in UTC" in proc.stderr
    assert "Settings > Microsoft Defender portal > Time zone" in proc.stderr
    assert "Log Analytics" not in proc.stderr
    assert not db.exists()


# ------------------------------------------------------ a run on the imported store


@pytest.fixture(scope="module")
def offline_db(offline, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("run") / "x.duckdb"
    proc = import_(db, PORTAL)
    assert proc.returncode == 0, proc.stderr
    return db


def test_host_network_summary_shows_the_hosts_connections(offline, offline_db, tmp_path):
    from nbcatalog.batch import results_from_run_dir

    rows = csv_rows(PORTAL)
    device = next(r["DeviceName"] for r in rows if r["DeviceName"].startswith("wkstn"))
    mine = [r for r in rows if r["DeviceName"] == device]
    times = sorted(r["Timestamp"] for r in mine)
    proc = nbcatalog(
        "run",
        "host-network-summary",
        "--host",
        device.split(".")[0].upper(),
        "--source",
        f"duckdb:{offline_db}",
        "--start",
        times[0][:10] + "T00:00:00Z",
        "--end",
        times[-1][:10] + "T23:59:59Z",
        "--output",
        tmp_path,
        "--json",
        "-q",
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert summary["status"] == "ok"
    res = results_from_run_dir(summary["run_dir"])
    by_log = res["connections_by_source"].set_index("Source")
    connections = [r for r in mine if r["ActionType"] in CONNECTIONS]
    assert by_log.loc["Defender", "Connections"] == len(connections)
    inbound = [r for r in connections if r["ActionType"] == "InboundConnectionAccepted"]
    assert by_log.loc["Defender", "Inbound"] == len(inbound)
    assert attempts(offline) == "", "the run tried to go online"
