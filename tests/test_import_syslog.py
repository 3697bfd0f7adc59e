"""Linux syslog / auth.log text into Syslog: RFC 3164, RFC 5424, year inference, bad input."""

from __future__ import annotations

import gzip
import os
from datetime import datetime, timezone

import pandas as pd
import pytest
from helpers.store_sql import table

from nbcatalog.data.importers import detect_format, import_paths
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
        "1 line(s) dated after that moment were put in 2026" in n
        for n in f.notes
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


def import_text(tmp_path, name: str, text: str, mtime: datetime, db, fmt: str | None = None):
    """Write `text` to `name`, give it `mtime`, import it; the file's report."""
    path = tmp_path / name
    path.write_text(text)
    set_mtime(path, mtime)
    return import_paths([path], db=db, format=fmt).files[0]


DEC_2 = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("server.log", "Dec  1 00:00:12 bastion-07 sshd[30250]: Invalid user oracle"),
        ("messages", "2026-12-01T10:00:01.118902+01:00 app-node-a kernel: [1.0] e1000e: eth1 up"),
        ("secure-20261201", "Dec 31 23:52:10 db-legacy02 sshd(pam_unix)[4411]: check pass;"),
        ("syslog.1", "Dec 01 10:01:44.104521 gw-02 sshd[1102]: Failed password for root"),
        ("host1.txt", "2026-12-01T11:14:55+0100 gw-01 sshd-session[2211]: Invalid user ubnt"),
        ("export.txt", "-- Logs begin at Mon 2026-11-30 08:00:01 UTC, end at Tue 2026-12-01 "
                       "10:00:01 UTC. --\nDec 01 10:00:01 gw-02 sshd[1]: Accepted publickey"),
        ("dump.bin", "<38>1 2026-12-01T10:20:01.204411+01:00 web-05 sshd 8812 - - Failed"),
        ("old.log", "Dec  1 2025 10:00:01 fw-01 sshd[4]: Accepted password for bob"),
    ],
)  # fmt: skip
def test_syslog_is_recognised_by_content_whatever_the_file_name(name, head):
    assert detect_format(name, head.encode() + b"\n") == "syslog"


@pytest.mark.parametrize(
    "head",
    ["TimeGenerated,Computer,SyslogMessage", "hello world", "2026-12-01T10:00:01Z,web01,x y z"],
)
def test_other_text_is_not_taken_for_syslog(head):
    assert detect_format("server.log", head.encode() + b"\n") != "syslog"


def test_pri_wins_and_the_file_name_is_only_a_fallback(tmp_path, db):
    f = import_text(
        tmp_path,
        "secure-20261201",
        "<13>Dec  1 10:00:01 db-prod03 sshd[1]: Accepted password for bob from 192.0.2.5\n"
        "Dec  1 10:00:02 db-prod03 xinetd[2]: START: telnet pid=4602 from=203.0.113.9\n"
        "Dec  1 10:00:03 db-prod03 sshd[3]: Accepted password for eve from 192.0.2.6\n",
        DEC_2,
        db,
    )
    rows = table(db, 'SELECT ProcessName, Facility, SeverityLevel FROM Syslog ORDER BY "EventTime"')
    assert rows.values.tolist() == [
        ["sshd", "user", "notice"],  # <13> is user.notice, whatever the program
        ["xinetd", "authpriv", None],  # unknown program: /var/log/secure is authpriv
        ["sshd", "auth", None],  # known program: the file name does not override it
    ]
    assert (
        "1 line(s) without <PRI> from programs with no known facility, Facility set to "
        "'authpriv' from the file name: xinetd" in f.warnings
    )


def test_tag_shapes_collectors_record(tmp_path, db):
    lines = [
        "Dec  1 10:00:01 mx-01 postfix/smtpd[7711]: connect from unknown[203.0.113.50]",
        "Dec  1 10:00:02 mx-01 sudo:   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/id",
        "Dec  1 10:00:03 mx-01 myapp[55]:started without a space",
        "Dec  1 10:00:04 mx-01 gdm-password]: gkr-pam: unlocked login keyring",
        "Dec  1 10:00:05 mx-01 /USR/SBIN/CRON[812]: (root) CMD (run-parts /etc/cron.hourly)",
        "Dec  1 10:00:06 mx-01 sshd[90]: Invalid user <script>x</script>'; DROP TABLE Syslog;--",
        "Dec  1 10:00:40 mx-01 last message repeated 4 times",
        "Dec  1 10:00:41 mx-01 sshd(pam_unix)[91]: authentication failure; rhost=203.0.113.50",
    ]
    f = import_text(tmp_path, "mx.txt", "\n".join(lines) + "\n", DEC_2, db)
    assert (f.rows_stored, f.rows_rejected) == (len(lines), 0)
    rows = table(
        db,
        'SELECT ProcessName, ProcessID, Facility, SyslogMessage FROM Syslog ORDER BY "EventTime"',
    )
    got = [[None if pd.isna(v) else v for v in row] for row in rows.values.tolist()]
    assert got == [
        ["postfix/smtpd", 7711, "mail", "connect from unknown[203.0.113.50]"],
        ["sudo", None, "authpriv", "  alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/id"],
        ["myapp", 55, None, "started without a space"],
        ["gdm-password]", None, "authpriv", "gkr-pam: unlocked login keyring"],
        ["/USR/SBIN/CRON", 812, "cron", "(root) CMD (run-parts /etc/cron.hourly)"],
        ["sshd", 90, "auth", "Invalid user <script>x</script>'; DROP TABLE Syslog;--"],
        [None, None, "auth", "last message repeated 4 times"],  # the facility of the line above
        ["sshd(pam_unix)", 91, "authpriv", "authentication failure; rhost=203.0.113.50"],
    ]
    assert any("'last message repeated' line(s)" in n for n in f.notes)


def test_timestamp_forms_are_read_and_zones_converted_to_utc(tmp_path, db):
    lines = [
        "Dec  1 2025 10:00:01 fw-01 sshd[1]: year after the day",
        "Dec  1 10:00:02 2025 fw-01 sshd[2]: year after the time",
        "2026-12-01T10:00:03.123456789+0530 fw-01 sshd[3]: short-iso-precise, nanoseconds",
        "2026-12-01T10:00:04-05:00 fw-01 sshd[4]: rsyslog RFC 3339",
        "2026-12-01T10:00:05Z fw-01 sshd[5]: UTC",
        "2026-12-01T10:00:06 fw-01 sshd[6]: no zone",
    ]
    f = import_text(tmp_path, "fw.txt", "\n".join(lines) + "\n", DEC_2, db)
    assert f.rows_rejected == 0
    rows = table(db, "SELECT ProcessID, TimeGenerated FROM Syslog ORDER BY ProcessID")
    assert rows["TimeGenerated"].tolist() == [
        pd.Timestamp("2025-12-01T10:00:01Z"),
        pd.Timestamp("2025-12-01T10:00:02Z"),
        pd.Timestamp("2026-12-01T04:30:03.123456Z"),
        pd.Timestamp("2026-12-01T15:00:04Z"),
        pd.Timestamp("2026-12-01T10:00:05Z"),
        pd.Timestamp("2026-12-01T10:00:06Z"),
    ]
    assert not any("carry no year" in w for w in f.warnings + f.notes)  # every line has one
    assert "3 line(s) carry no time zone: their times are taken as UTC" in f.warnings


def test_a_host_named_like_a_year_stays_a_host(tmp_path, db):
    import_text(tmp_path, "h.txt", "Dec  1 10:00:01 2025 sshd[1]: Accepted\n", DEC_2, db)
    rows = table(db, "SELECT HostName, ProcessName, TimeGenerated FROM Syslog")
    assert rows.values.tolist()[0][:2] == ["2025", "sshd"]
    assert rows["TimeGenerated"][0] == pd.Timestamp("2026-12-01T10:00:01Z")


def test_29_february_goes_to_the_last_leap_year(tmp_path, db):
    f = import_text(
        tmp_path, "leap.txt", "Feb 29 12:00:00 h sshd[1]: leap\n",
        datetime(2025, 3, 1, tzinfo=timezone.utc), db,
    )  # fmt: skip
    assert f.rows_stored == 1
    assert table(db, "SELECT TimeGenerated FROM Syslog")["TimeGenerated"][0] == pd.Timestamp(
        "2024-02-29T12:00:00Z"
    )
    assert any(
        "1 line(s) dated 29 February were put in 2024, the last leap year; "
        "no line is dated after it" in n
        for n in f.notes
    )


def test_journal_export_markers_and_multi_line_messages(tmp_path, db):
    text = (
        "   orphan indented line at the top\n"
        "-- Logs begin at Mon 2026-11-30 08:00:01 UTC, end at Tue 2026-12-01 10:09:00 UTC. --\n"
        "Dec 01 10:02:11.402117 gw-02 backup.sh[5120]: rsync error: code 23\n"
        "                                              see /var/log/backup.err\n"
        "                                              and the exit status above\n"
        "-- Reboot --\n"
        "Foo 01 10:03:00 gw-02 sshd[1]: not a month\n"
        "                                              continuation of a rejected line\n"
        "Dec 01 10:04:00.000001 gw-02 sshd[7]: Accepted publickey for opsuser\n"
    )
    # Named: a file that starts with an indented line is not recognised as syslog.
    f = import_text(tmp_path, "journal.txt", text, DEC_2, db, fmt="syslog")
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (5, 2, 3)
    reasons = {r.line: r.reason for r in f.rejections}
    assert "no accepted syslog line above it" in reasons[1]
    assert "unknown month 'Foo'" in reasons[7]
    assert "no accepted syslog line above it" in reasons[8]
    messages = table(db, 'SELECT SyslogMessage FROM Syslog ORDER BY "EventTime"')
    assert messages["SyslogMessage"].tolist() == [
        "rsync error: code 23\nsee /var/log/backup.err\nand the exit status above",
        "Accepted publickey for opsuser",
    ]
    assert any("2 indented continuation line(s) appended" in n for n in f.notes)
    assert any("2 journalctl marker line(s)" in n for n in f.notes)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2026-12-01T10:00:01+2500 h sshd[1]: x", "invalid time zone offset '+2500'"),
        ("2026-02-30T10:00:01Z h sshd[1]: x", "invalid date or time 2026-02-30T10:00:01"),
        ("Dec 32 10:00:01 h sshd[1]: x", "invalid date Dec 32 10:00:01"),
        ("<200>Dec  1 10:00:01 h sshd[1]: x", "priority <200> is out of range"),
        ("just some text", "not a syslog line"),
    ],
)
def test_bad_lines_are_rejected_with_the_reason(tmp_path, db, line, reason):
    f = import_text(
        tmp_path, "x.txt", f"Dec  1 10:00:00 h sshd[9]: fine\n{line}\n", DEC_2, db
    )  # fmt: skip
    assert (f.rows_stored, f.rows_rejected) == (1, 1)
    assert reason in f.rejections[0].reason and f.rejections[0].line == 2
