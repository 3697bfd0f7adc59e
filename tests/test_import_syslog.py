"""Linux syslog / auth.log text into Syslog: RFC 3164, RFC 5424, year inference, bad input."""

from __future__ import annotations

import gzip
import os
from datetime import datetime, timezone

import pandas as pd
import pytest
from helpers.store_sql import table

from nbcatalog.data.importers import import_paths
from nbcatalog.data.importers.textio import MAX_LINE_BYTES


def set_mtime(path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


@pytest.fixture
def db(tmp_path):
    return tmp_path / "store.duckdb"


def test_auth_log_across_new_year_with_bad_lines(tmp_path, db):
    path = tmp_path / "auth.log"
    path.write_bytes(
        b"Dec 31 23:59:58 lnx-web01 sshd[2201]: Failed password for invalid user admin "
        b"from 198.51.100.23 port 40022 ssh2\n"
        b"this is not syslog\n"
        b"\n"
        b"Jan  1 00:00:03 lnx-web01 sshd[2210]: Accepted password for deploy from "
        b"198.51.100.23 port 40100 ssh2\n"
        b"Jan  1 00:00:04 lnx-web01 sudo:   deploy : TTY=pts/0 ; USER=root ; COMMAND=/bin/caf\xe9\n"
        b"Jan  1 00:00:05 lnx-web01 CRON[99]: " + b"x" * (MAX_LINE_BYTES + 10) + b"\n"
        b"Feb 30 10:00:00 lnx-web01 sshd[1]: impossible date\n"
    )
    set_mtime(path, datetime(2027, 1, 1, 6, 0, tzinfo=timezone.utc))
    f = import_paths([path], db=db).files[0]
    assert f.format == "syslog"
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (6, 3, 3)
    reasons = {r.line: r.reason for r in f.rejections}
    assert set(reasons) == {2, 6, 7}
    assert "not a syslog line" in reasons[2]
    assert "longer than" in reasons[6]
    assert "invalid date" in reasons[7]
    assert any("Latin-1" in w for w in f.warnings)
    assert any(
        "year 2027 taken from the file's modification time (2027-01-01 06:00 UTC); "
        "1 line(s) dated after that moment were put in 2026" in w
        for w in f.warnings
    )

    rows = table(db, 'SELECT * FROM Syslog ORDER BY "TimeGenerated"')
    assert rows["TimeGenerated"].tolist() == [
        pd.Timestamp("2026-12-31T23:59:58Z"),
        pd.Timestamp("2027-01-01T00:00:03Z"),
        pd.Timestamp("2027-01-01T00:00:04Z"),
    ]
    assert rows["ProcessName"].tolist() == ["sshd", "sshd", "sudo"]
    assert rows["ProcessID"].tolist()[:2] == [2201, 2210]
    assert pd.isna(rows["ProcessID"].iloc[2])
    # From the program, not the file name: sudo logs with authpriv.
    assert rows["Facility"].tolist() == ["auth", "auth", "authpriv"]
    assert rows["HostName"].tolist() == rows["Computer"].tolist() == ["lnx-web01"] * 3
    assert rows["SyslogMessage"].iloc[1] == (
        "Accepted password for deploy from 198.51.100.23 port 40100 ssh2"
    )
    assert rows["SyslogMessage"].iloc[2].endswith("COMMAND=/bin/café")


def test_rfc5424_and_pri_give_facility_and_severity(tmp_path, db):
    path = tmp_path / "remote.log"
    path.write_text(
        '<38>1 2026-11-27T10:00:00.5+01:00 lnx-db01 sshd 4242 - [meta x="a\\]b"] '
        "Failed password for root from 198.51.100.23 port 1 ssh2\n"
        "<86>1 2026-11-27T09:00:01Z lnx-db01 sudo - - - pam_unix(sudo:session): opened\n"
        "<13>Nov 27 10:00:02 lnx-db01 logger: hello\n"
        "<999>1 2026-11-27T09:00:01Z lnx-db01 x - - - bad priority\n"
        "2026-11-27T10:00:03.123456+00:00 lnx-db01 systemd[1]: Started Session 5.\n"
    )
    set_mtime(path, datetime(2026, 11, 28, tzinfo=timezone.utc))
    f = import_paths([path], db=db).files[0]
    assert (f.rows_stored, f.rows_rejected) == (4, 1)
    assert f.rejections[0].line == 4 and "out of range" in f.rejections[0].reason
    rows = table(db, 'SELECT * FROM Syslog ORDER BY "TimeGenerated"')
    first = rows.iloc[0]
    assert first["TimeGenerated"] == pd.Timestamp("2026-11-27T09:00:00.5Z")
    assert (first["Facility"], first["SeverityLevel"]) == ("auth", "info")
    assert (first["ProcessName"], first["ProcessID"]) == ("sshd", 4242)
    assert first["SyslogMessage"].startswith("Failed password for root")
    second = rows.iloc[1]
    assert (second["Facility"], second["SeverityLevel"], second["ProcessName"]) == (
        "authpriv", "info", "sudo")  # fmt: skip
    assert pd.isna(second["ProcessID"])
    assert (rows.iloc[2]["Facility"], rows.iloc[2]["SeverityLevel"]) == ("user", "notice")
    assert rows.iloc[3]["ProcessName"] == "systemd"
    assert rows.iloc[3]["EventTime"] == pd.Timestamp("2026-11-27T10:00:03.123456Z")


def test_gzip_rotated_log_and_empty_file(tmp_path, db):
    rotated = tmp_path / "auth.log.2.gz"
    with gzip.open(rotated, "wb") as fh:
        fh.write(
            b"Nov 20 08:00:00 lnx-jump01 sshd[7]: Accepted publickey for alice from 10.0.0.9\n"
        )
    empty = tmp_path / "auth.log"
    empty.write_bytes(b"")
    report = import_paths([rotated, empty], db=db)
    assert report.files[0].format == "syslog" and report.files[0].rows_stored == 1
    assert report.files[1].rows_read == 0 and any("empty" in w for w in report.files[1].warnings)
    assert table(db, "SELECT ProcessName FROM Syslog")["ProcessName"].tolist() == ["sshd"]
