"""The real nxlog file (OTRF Covenant copy-smb dataset): every event stored, at its UTC time.

nxlog wrote `EventTime` / `EventReceivedTime` in the collector's local time (no
zone); the Logstash pipeline after it stamped `@timestamp` in UTC on receipt;
Sysmon wrote its own `UtcTime`. The expected figures are computed here from the
file with `json` and `datetime` only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from helpers.store_sql import table

from nbcatalog.data import connect
from nbcatalog.data.importers import import_paths

NBCATALOG = Path(sys.executable).parent / "nbcatalog"  # the installed command
NAME = "otrf_covenant_copy_smb_CreateRequest.json"
QUARTER_HOUR = 15 * 60
WINDOWS_SPELLING = {"security": "Security"}  # the pipeline lower-cased half of them


def _records(folder: Path) -> list[dict]:
    with open(folder / NAME, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def _true_utc(rec: dict) -> datetime:
    """EventTime + (@timestamp - EventReceivedTime), the difference rounded to 15 minutes."""
    stamped = datetime.strptime(rec["@timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    difference = (stamped - _local(rec["EventReceivedTime"])).total_seconds()
    offset = timedelta(seconds=round(difference / QUARTER_HOUR) * QUARTER_HOUR)
    return (_local(rec["EventTime"]) + offset).replace(tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def imported(realdata, tmp_path_factory):
    db = tmp_path_factory.mktemp("real-nxlog") / "store.duckdb"
    report = import_paths([realdata / NAME], db=db)
    rows = pd.concat(
        [
            table(db, 'SELECT EventID, Channel, Computer, TimeGenerated, EventData, '
                      '\'SecurityEvent\' AS tbl FROM SecurityEvent'),
            table(db, 'SELECT EventID, EventLog AS Channel, Computer, TimeGenerated, EventData, '
                      '\'Event\' AS tbl FROM "Event"'),
        ],
        ignore_index=True,
    )  # fmt: skip
    return db, report.files[0], rows


def test_every_record_is_stored(realdata, imported):
    _, report, rows = imported
    records = _records(realdata)
    assert len(records) == 506
    assert report.format == "windows-json"  # detected, no --format
    assert (report.rows_read, report.rows_stored, report.rows_rejected) == (506, 506, 0)
    assert len(rows) == len(records)


def test_counts_per_event_id_and_channel(realdata, imported):
    _, _, rows = imported
    records = _records(realdata)
    assert Counter(rows["EventID"].tolist()) == Counter(r["EventID"] for r in records)
    expected = Counter(WINDOWS_SPELLING.get(r["Channel"], r["Channel"]) for r in records)
    assert Counter(rows["Channel"].tolist()) == expected
    assert expected["Security"] == sum(r["Channel"].lower() == "security" for r in records)
    by_table = Counter(rows["tbl"].tolist())
    assert by_table == {
        "SecurityEvent": expected["Security"],
        "Event": len(records) - expected["Security"],
    }
    # The computer is the event's host (Hostname), never the collector in `host`.
    assert Counter(rows["Computer"].tolist()) == Counter(r["Hostname"] for r in records)


def test_every_time_is_the_true_utc_time(realdata, imported):
    _, _, rows = imported
    records = _records(realdata)
    # Rows carry no record number to match them by: compare (EventID, host, time) multisets.
    expected = Counter((r["EventID"], r["Hostname"], _true_utc(r)) for r in records)
    stored = Counter(
        (int(e), c, t.to_pydatetime())
        for e, c, t in zip(rows["EventID"], rows["Computer"], rows["TimeGenerated"], strict=True)
    )
    assert stored == expected
    offsets = {
        (_true_utc(r) - _local(r["EventTime"]).replace(tzinfo=timezone.utc)) for r in records
    }
    assert offsets == {timedelta(hours=4)}  # the collector ran 4 hours behind UTC


def test_sysmon_times_agree_with_sysmons_own_utc_time(realdata, imported):
    """Within 1 s of UtcTime (EventTime has whole seconds); network connections (event 3)
    carry the connection's time and Sysmon logs them a little later, so later, not earlier."""
    _, _, rows = imported
    sysmon = rows[rows["Channel"] == "Microsoft-Windows-Sysmon/Operational"]
    with_utc = [r for r in _records(realdata) if "UtcTime" in r]
    assert len(sysmon) == len(with_utc) > 0
    late = 0
    for event_id, stored, xml in zip(
        sysmon["EventID"], sysmon["TimeGenerated"], sysmon["EventData"], strict=True
    ):
        utc_text = xml.split('<Data Name="UtcTime">', 1)[1].split("<", 1)[0]
        utc = datetime.strptime(utc_text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
        gap = stored.to_pydatetime() - utc
        if event_id == 3 and gap > timedelta(seconds=1):
            assert gap < timedelta(seconds=10), utc_text
            late += 1
        else:
            assert abs(gap) <= timedelta(seconds=1), (event_id, utc_text)
    assert late <= sum(r["EventID"] == 3 for r in with_utc)


def test_report_names_the_rule_and_the_offset(imported):
    _, report, _ = imported
    assert report.warnings == []  # a converted time is a note; only a guessed one warns
    assert report.notes == [
        "time: 506 nxlog event(s): EventTime is the collector's local time; converted with the "
        "collector's UTC offset UTC-04:00 found in the record (EventReceivedTime against the "
        "pipeline's UTC @timestamp)"
    ]


def test_a_query_over_the_true_utc_window_finds_the_events(realdata, imported):
    db, _, _ = imported
    security = [r for r in _records(realdata) if r["Channel"].lower() == "security"]
    host = Counter(r["Hostname"] for r in security).most_common(1)[0][0]
    times = [_true_utc(r) for r in security if r["Hostname"] == host]
    source = connect(f"duckdb:{db}")
    found = source.query(
        "WindowsSecurity.list_host_events",
        host_name=host,
        start=min(times).isoformat(),
        end=(max(times) + timedelta(seconds=1)).isoformat(),
    )
    assert len(found) == len(times)
    # The same clock reading taken as UTC (the old behaviour) is four hours early: nothing there.
    local = [_local(r["EventTime"]).replace(tzinfo=timezone.utc) for r in security]
    early = source.query(
        "WindowsSecurity.list_host_events",
        host_name=host,
        start=min(local).isoformat(),
        end=(max(local) + timedelta(seconds=1)).isoformat(),
    )
    assert len(early) == 0


def test_cli_import_says_what_it_did(realdata, tmp_path):
    env = {**os.environ, "NBCATALOG_DB": str(tmp_path / "unused.duckdb")}
    done = subprocess.run(
        [str(NBCATALOG), "data", "import", str(realdata / NAME),
         "--db", str(tmp_path / "cli.duckdb")],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "read 506, stored 506 (Event 412, SecurityEvent 94), rejected 0" in out
    assert "UTC offset UTC-04:00 found in the record" in out
    assert "TAKEN AS UTC" not in out
