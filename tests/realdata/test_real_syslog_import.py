"""Syslog files in the shapes Debian, RHEL, SUSE, journalctl and rsyslog write, imported.

Each file (see files/syslog/README.md) is copied, given a modification time, and
imported. Every expected figure is computed here from the file text with plain
`re` and `datetime.strptime`: the rows stored, each row's time in UTC, host,
ProcessName, ProcessID, Facility and message, the sshd lines the logon queries
look for, and what the report says about the year, the zone and the facility.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from helpers.store_sql import table

from nbcatalog.data.importers import import_paths

FOLDER = Path(__file__).parent / "files" / "syslog"
NBCATALOG = Path(sys.executable).parent / "nbcatalog"

# The modification time each copy gets; host1.txt was "copied" on New Year's morning.
MTIME = {"host1.txt": datetime(2027, 1, 1, 6, 0, tzinfo=timezone.utc)}
DEFAULT_MTIME = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)

# The facility each program opens syslog with (its own documentation / source), for
# lines that carry no <PRI>. None: a program the importer is not expected to know.
PROGRAM_FACILITY = {
    "sshd": "auth",
    "sshd-session": "auth",
    "su": "auth",
    "systemd-logind": "auth",
    "usermod": "auth",
    "useradd": "auth",
    "gpasswd": "auth",
    "sudo": "authpriv",
    "login": "authpriv",
    "polkitd": "authpriv",
    "unix_chkpwd": "authpriv",
    "CRON": "cron",
    "/usr/sbin/cron": "cron",
    "kernel": "kern",
    "postfix/pickup": "mail",
    "postfix/qmgr": "mail",
    "systemd": "daemon",
    "chronyd": "daemon",
    "dbus-daemon": None,
    "xinetd": None,
    "wickedd-dhcp4": None,
    "backup.sh": None,
}
FACILITY_CODES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
                  "cron", "authpriv"]  # fmt: skip

RFC5424 = re.compile(
    r"^<(?P<pri>\d+)>1 (?P<stamp>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) \S+ "
    r"(?:-|\[[^\]]*\]) (?P<msg>.*)$"
)
ISO = re.compile(r"^(?P<stamp>\d{4}-\d\d-\d\dT\S+) (?P<host>\S+) (?P<rest>.*)$")
BSD = re.compile(
    r"^(?P<stamp>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d(?:\.\d+)?) (?P<host>\S+) (?P<rest>.*)$"
)
TAGGED = re.compile(r"^(?P<tag>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)$")
PAM = re.compile(r"^pam_\w+\(")


def utc(stamp: str, mtime: datetime) -> tuple[datetime, bool]:
    """(UTC time, whether the text carried a zone), by strptime alone."""
    if stamp[0].isdigit():
        fmt = "%Y-%m-%dT%H:%M:%S" + (".%f" if "." in stamp else "") + "%z"
        return datetime.strptime(stamp, fmt).astimezone(timezone.utc), True
    fmt = "%b %d %H:%M:%S" + (".%f" if "." in stamp else "")
    when = datetime.strptime(f"{mtime.year} {stamp}", f"%Y {fmt}").replace(tzinfo=timezone.utc)
    if when > mtime + timedelta(days=1):  # the documented rule: after the file, the year before
        when = when.replace(year=mtime.year - 1)
    return when, False


def expected_rows(text: str, mtime: datetime) -> list[dict]:
    """One dict per syslog line; an indented line extends the message above it."""
    rows: list[dict] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("-- "):
            continue
        if line[0] == " ":
            rows[-1]["message"] += "\n" + line.strip()
            continue
        m5424 = RFC5424.match(line)
        if m5424:
            when, _ = utc(m5424["stamp"], mtime)
            pid = None if m5424["pid"] == "-" else int(m5424["pid"])
            facility = FACILITY_CODES[int(m5424["pri"]) >> 3]
            rows.append(
                dict(when=when, zoned=True, host=m5424["host"], tag=m5424["app"], pid=pid,
                     message=m5424["msg"], facility=facility, pri=True)
            )  # fmt: skip
            continue
        header = ISO.match(line) or BSD.match(line)
        assert header, f"fixture line of no known shape: {line!r}"
        when, zoned = utc(header["stamp"], mtime)
        tagged = TAGGED.match(header["rest"])
        if tagged:
            tag, pid, message = tagged["tag"], tagged["pid"], tagged["msg"]
            if PAM.match(message) or "(pam_unix)" in tag:
                facility = "authpriv"  # PAM modules log with authpriv
            else:
                facility = PROGRAM_FACILITY[tag]
        else:  # sysklogd: "last message repeated N times" goes with the line before it
            assert header["rest"].startswith("last message repeated ")
            tag, pid, message, facility = None, None, header["rest"], rows[-1]["facility"]
        rows.append(
            dict(when=when, zoned=zoned, host=header["host"], tag=tag,
                 pid=None if pid is None else int(pid), message=message,
                 facility=facility, pri=False)
        )  # fmt: skip
    return rows


def as_key(row: dict) -> tuple:
    return (row["when"], row["host"], row["tag"], row["pid"], row["facility"], row["message"])


def stored_keys(db: Path) -> Counter:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT TimeGenerated, HostName, ProcessName, ProcessID, Facility, SyslogMessage "
            "FROM Syslog"
        ).fetchall()
    return Counter(rows)


def copy_with_mtime(name: str, folder: Path) -> tuple[Path, datetime]:
    path = folder / name
    shutil.copyfile(FOLDER / name, path)
    mtime = MTIME.get(name, DEFAULT_MTIME)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path, mtime


@pytest.mark.parametrize("name", sorted(p.name for p in FOLDER.iterdir() if p.suffix != ".md"))
def test_every_line_reaches_the_store_with_its_facility_time_and_tag(name, tmp_path):
    path, mtime = copy_with_mtime(name, tmp_path)
    text = path.read_text()
    expected = expected_rows(text, mtime)
    db = tmp_path / "case.duckdb"

    report = import_paths([path], db=db).files[0]

    assert report.format == "syslog"  # by content: no file name here says syslog
    assert (report.rows_stored, report.rows_rejected) == (len(expected), 0), report.summary()
    assert stored_keys(db) == Counter(as_key(r) for r in expected)

    # What every Linux logon query filters on: all sshd lines are auth/authpriv.
    sshd_lines = sum(1 for r in expected if (r["tag"] or "").startswith("sshd"))
    found = table(
        db,
        "SELECT count(*) AS n FROM Syslog WHERE Facility IN ('auth', 'authpriv') "
        "AND ProcessName LIKE 'sshd%'",
    ).n[0]
    assert found == sshd_lines > 0

    warnings = "\n".join(report.warnings)
    notes = "\n".join(report.notes)  # how the file was read: years, facilities
    bsd_lines = sum(1 for line in text.splitlines() if BSD.match(line))
    if bsd_lines:
        moved = sum(1 for r in expected if r["when"].year == mtime.year - 1)
        assert (
            f"year {mtime.year} taken from the file's modification time "
            f"({mtime:%Y-%m-%d %H:%M} UTC)" in notes
        )
        assert (
            f"{moved} line(s) dated after that moment were put in {mtime.year - 1}"
            if moved
            else "no line is dated after it"
        ) in notes
    else:
        assert "carry no year" not in warnings + notes
    zoneless = sum(1 for r in expected if not r["zoned"])
    assert (f"{zoneless} line(s) carry no time zone" in warnings) == bool(zoneless)

    inferred = [r for r in expected if not r["pri"] and r["tag"] and r["facility"]]
    if inferred:
        assert f"Facility inferred from the program for {len(inferred)} line(s)" in notes
    unknown = sorted({r["tag"] for r in expected if not r["pri"] and r["facility"] is None})
    for program in unknown:
        assert re.search(rf"no known facility, Facility left empty: .*{re.escape(program)}",
                         warnings)  # fmt: skip


def test_rhel4_pam_unix_tags_keep_their_name_pid_and_message(tmp_path):
    path, _ = copy_with_mtime("host1.txt", tmp_path)
    text = path.read_text()
    tags = re.findall(r"^\w{3} [ \d]\d \S+ \S+ (\w+\(pam_unix\))\[(\d+)\]: (.*)$", text, re.M)
    assert len(tags) >= 5
    db = tmp_path / "case.duckdb"
    import_paths([path], db=db)
    rows = table(
        db,
        "SELECT ProcessName, ProcessID, SyslogMessage, Facility FROM Syslog "
        "WHERE ProcessName LIKE '%(pam_unix)'",
    )
    got = sorted((r.ProcessName, str(r.ProcessID), r.SyslogMessage) for r in rows.itertuples())
    assert got == sorted(tags)
    assert set(rows.Facility) == {"authpriv"}
    repeated = table(db, "SELECT * FROM Syslog WHERE SyslogMessage LIKE 'last message repeated%'")
    assert len(repeated) == len(re.findall(r"last message repeated \d+ times$", text, re.M))
    assert repeated.ProcessName.isna().all()


def test_cli_imports_a_debian_auth_log_named_server_log(tmp_path):
    path, mtime = copy_with_mtime("server.log", tmp_path)
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    db = tmp_path / "case.duckdb"

    done = subprocess.run(
        [str(NBCATALOG), "data", "import", str(path), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert f"read {len(lines)}, stored {len(lines)} (Syslog {len(lines)}), rejected 0" in out
    assert f"year {mtime.year} taken from the file's modification time" in out
    assert "Facility inferred from the program" in out
    sshd = [line for line in lines if re.match(r"^\w{3} [ \d]\d \S+ \S+ sshd\[\d+\]: ", line)]
    assert (
        table(db, "SELECT count(*) AS n FROM Syslog WHERE ProcessName = 'sshd' "
                  "AND Facility IN ('auth', 'authpriv')").n[0]
        == len(sshd)
    )  # fmt: skip
