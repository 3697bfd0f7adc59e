"""nblib.attempts: the one logon-attempt model, rule by rule, and the SQL macros that
must judge each line as it does.

Frames here are built line by line in the shapes sshd, pam_unix, su, login and the
syslog daemons write; each test says how many attempts an analyst counts and why.
"""

from __future__ import annotations

import doctest

import duckdb
import pandas as pd
import pytest

from nbcatalog.data.querylib import load_library
from nbcatalog.nblib import attempts, logons

T0 = pd.Timestamp("2025-05-02 08:00:00", tz="UTC")


def _lines(*rows: tuple, host: str = "sftp-02") -> pd.DataFrame:
    """(seconds, tag, message) rows; tag "sshd[42]", "sshd(pam_unix)[7]" or "" for none."""
    out = []
    for seconds, tag, message in rows:
        process, _, pid = tag.partition("[")
        out.append(
            {
                "TimeGenerated": T0 + pd.Timedelta(seconds=seconds),
                "Computer": host,
                "ProcessName": process or None,
                "ProcessID": int(pid.rstrip("]")) if pid else None,
                "SyslogMessage": message,
            }
        )
    return pd.DataFrame(out)


def _count(frame: pd.DataFrame) -> dict[tuple[str, str, str], int]:
    rows = attempts.linux_attempts(frame)
    return rows.groupby(["Account", "LogonResult", "SourceIP"]).size().to_dict()


# ------------------------------------------------------------------ sshd


def test_an_old_sshd_invalid_line_without_port_is_one_attempt_with_its_failed_line():
    frame = _lines(
        (0, "sshd[901]", "Invalid user oracle from 198.51.100.61"),
        (0, "sshd[901]", "input_userauth_request: invalid user oracle [preauth]"),
        (2, "sshd[901]", "Failed password for invalid user oracle from 198.51.100.61 "
                         "port 52214 ssh2"),
        (9, "sshd[905]", "Invalid user oracle from 198.51.100.61"),  # left after the name
        (9, "sshd[905]", "Connection closed by 198.51.100.61 port 52230 [preauth]"),
    )  # fmt: skip
    assert _count(frame) == {("oracle", "Failure", "198.51.100.61"): 2}
    assert attempts.linux_attempts(frame)["TargetLogonId"].tolist() == ["sshd[901]", "sshd[905]"]


def test_repeats_are_attempts_rsyslog_and_sysklogd():
    frame = _lines(
        (0, "sshd[77]", "Failed password for root from 203.0.113.8 port 4000 ssh2"),
        (8, "sshd[77]", "message repeated 3 times: [ Failed password for root from 203.0.113.8 "
                        "port 4000 ssh2]"),
        (20, "sshd[78]", "Failed password for root from 203.0.113.8 port 4010 ssh2"),
        (50, "", "last message repeated 4 times"),
        (51, "", "last message repeated 1 time"),  # still the sshd line
        (60, "CRON[80]", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
        (70, "", "last message repeated 2 times"),  # repeats cron: no attempt
    )  # fmt: skip
    assert _count(frame) == {("root", "Failure", "203.0.113.8"): 1 + 3 + 1 + 4 + 1}
    details = attempts.linux_attempts(frame)["Detail"]
    assert details.iloc[-1] == (
        "last message repeated 1 time: [ Failed password for root from 203.0.113.8 port 4010 ssh2 ]"
    )


def test_sysklogd_repeats_follow_the_host_not_the_frame_order():
    web = _lines((0, "sshd[5]", "Failed password for bin from 192.0.2.7 port 1 ssh2"), host="a")
    other = _lines(
        (1, "kernel", "eth0: link up"), (2, "", "last message repeated 9 times"), host="b"
    )
    marker = _lines((3, "", "last message repeated 2 times"), host="a")
    assert len(attempts.linux_attempts(pd.concat([web, other, marker]))) == 3


def test_pam_echoes_count_once_and_only_when_alone():
    debian = _lines(
        (0, "sshd[10]", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                        "tty=ssh ruser= rhost=203.0.113.9  user=root"),
        (2, "sshd[10]", "Failed password for root from 203.0.113.9 port 5 ssh2"),
        (3, "sshd[10]", "PAM 1 more authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
                        "rhost=203.0.113.9  user=root"),
        (5, "sshd[11]", "Accepted password for root from 203.0.113.9 port 6 ssh2"),
        (5, "sshd[11]", "pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)"),
        (6, "systemd-logind[600]", "New session 4 of user root."),
    )  # fmt: skip
    assert _count(debian) == {
        ("root", "Failure", "203.0.113.9"): 1,
        ("root", "Success", "203.0.113.9"): 1,
    }
    rhel4 = _lines(
        (0, "sshd(pam_unix)[30]", "check pass; user unknown"),
        (0, "sshd(pam_unix)[30]", "authentication failure; logname= uid=0 euid=0 tty=NODEVssh "
                                  "ruser= rhost=host-5.example.org "),
        (9, "sshd(pam_unix)[31]", "authentication failure; logname= uid=0 euid=0 tty=NODEVssh "
                                  "ruser= rhost=10.1.1.4  user=ops"),
        (12, "sshd(pam_unix)[31]", "session opened for user ops by (uid=0)"),
    )  # fmt: skip
    assert _count(rhel4) == {
        ("", "Failure", "host-5.example.org"): 1,
        ("ops", "Failure", "10.1.1.4"): 1,
        ("ops", "Success", "10.1.1.4"): 1,  # the process's address: PAM's session line has none
    }


def test_a_pam_line_from_a_child_process_echoes_the_monitors_failed_line():
    frame = _lines(
        (0, "sshd[4001]", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                          "tty=ssh ruser= rhost=198.51.100.4  user=alice"),
        (1, "sshd[4000]", "error: PAM: Authentication failure for alice from 198.51.100.4"),
        (1, "sshd[4000]", "Failed keyboard-interactive/pam for alice from 198.51.100.4 "
                          "port 7 ssh2"),
    )  # fmt: skip
    rows = attempts.linux_attempts(frame)
    assert rows[["Account", "LogonTypeName"]].values.tolist() == [
        ["alice", "sshd keyboard-interactive/pam"]
    ]


def test_method_none_is_a_probe():
    frame = _lines(
        (0, "sshd[50]", "Failed none for invalid user guest from 192.0.2.80 port 9 ssh2"),
        (1, "sshd[50]", "Failed password for invalid user guest from 192.0.2.80 port 9 ssh2"),
        (5, "sshd[51]", "Invalid user scan from 192.0.2.80 port 11"),
        (5, "sshd[51]", "Failed none for invalid user scan from 192.0.2.80 port 11 ssh2"),
        (8, "sshd[52]", "Failed none for invalid user nobody2 from 192.0.2.80 port 12 ssh2"),
    )  # fmt: skip
    rows = attempts.linux_attempts(frame)
    assert rows[["Account", "LogonType"]].values.tolist() == [
        ["guest", "password"],
        ["scan", "invalid user"],
        ["nobody2", "none"],
    ]


def test_a_reused_pid_is_two_processes():
    frame = _lines(
        (0, "sshd[300]", "Invalid user ftp from 192.0.2.9 port 100"),
        (1500, "sshd[300]", "Failed password for invalid user ftp from 192.0.2.9 port 200 ssh2"),
        (1501, "sshd[300]", "Invalid user www from 192.0.2.9 port 201"),  # same PID, other port
    )  # fmt: skip
    assert _count(frame) == {("ftp", "Failure", "192.0.2.9"): 2, ("www", "Failure", "192.0.2.9"): 1}


def test_opensshs_own_names_and_addresses_are_read_as_written():
    names = [" admin", "", "svc.backup$", "jürgen", "first last", "a from b", "<b>x</b>", "x'--"]
    frame = _lines(
        *[(i, f"sshd-session[{600 + i}]", f"Failed password for invalid user {name} from "
           f"::ffff:198.51.100.{i} port {4000 + i} ssh2") for i, name in enumerate(names)],
        (20, "sshd[700]", "Accepted publickey for ana.m@corp from 2001:DB8:0::5 port 22 ssh2: "
                          "ED25519 SHA256:abc"),
    )  # fmt: skip
    rows = attempts.linux_attempts(frame)
    assert rows["Account"].tolist() == [*names, "ana.m@corp"]
    assert rows["SourceIP"].tolist()[:2] == ["198.51.100.0", "198.51.100.1"]
    assert rows["SourceIP"].iloc[-1] == "2001:db8::5"
    assert set(rows["LogonProcessName"]) == {"sshd"}
    assert logons.linux_logons(frame)["Account"].tolist() == rows["Account"].tolist()


def test_lines_without_pid_or_process_still_count_once():
    frame = _lines(
        (0, "", "Invalid user hadoop from 198.51.100.2 port 50971"),
        (2, "", "Failed password for invalid user hadoop from 198.51.100.2 port 50971 ssh2"),
        (3, "", "Connection closed by invalid user hadoop 198.51.100.2 port 50971 [preauth]"),
    ).drop(columns=["ProcessName", "ProcessID"])
    assert _count(frame) == {("hadoop", "Failure", "198.51.100.2"): 1}


# ------------------------------------------------------------------ su, login, others


def test_su_and_login_with_their_pam_echoes():
    frame = _lines(
        (0, "su[20]", "pam_unix(su-l:auth): authentication failure; logname=bob uid=1000 euid=0 "
                      "tty=/dev/pts/0 ruser=bob rhost=  user=root"),
        (2, "su[20]", "FAILED SU (to root) bob on pts/0"),
        (9, "su[21]", "(to root) bob on pts/0"),
        (9, "su[21]", "pam_unix(su-l:session): session opened for user root(uid=0) by "
                      "bob(uid=1000)"),
        (20, "su(pam_unix)[22]", "session opened for user news by (uid=0)"),
        (30, "su[23]", "Successful su for postgres by bob"),
        (40, "login[24]", "pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 "
                          "euid=0 tty=/dev/tty1 ruser= rhost=  user=carol"),
        (42, "login[24]", "FAILED LOGIN (1) on '/dev/tty1' FOR 'carol', Authentication failure"),
        (50, "login[24]", "pam_unix(login:session): session opened for user carol(uid=1004) by "
                          "LOGIN(uid=0)"),
        (60, "login[25]", "ROOT LOGIN ON tty2"),
        (70, "sudo", "pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 "
                     "tty=/dev/pts/0 ruser=bob rhost=  user=bob"),
    )  # fmt: skip
    rows = attempts.linux_attempts(frame)
    assert rows[["LogonTypeName", "Account", "LogonResult"]].values.tolist() == [
        ["su", "root", "Failure"],
        ["su", "root", "Success"],
        ["su", "news", "Success"],
        ["su", "postgres", "Success"],
        ["login", "carol", "Failure"],
        ["login", "carol", "Success"],  # no native success line in that process: PAM's counts
        ["login", "root", "Success"],
    ]
    assert (rows["SourceIP"] == "").all()


def test_not_attempts():
    frame = _lines(
        (0, "sshd[1]", "Connection closed by 192.0.2.1 port 5 [preauth]"),
        (1, "sshd[2]", "Disconnected from invalid user x 192.0.2.1 port 6 [preauth]"),
        (2, "sshd[3]", "Received disconnect from 192.0.2.1 port 7:11: Bye Bye [preauth]"),
        (3, "sshd[4]", "Postponed keyboard-interactive for bob from 192.0.2.1 port 8 ssh2 "
                       "[preauth]"),
        (4, "sshd[5]", "pam_unix(sshd:auth): check pass; user unknown"),
        (5, "sshd[6]", "Unable to negotiate with 192.0.2.1 port 9: no matching key exchange "
                       "method found"),
        (6, "systemd-logind[7]", "New session 3 of user bob."),
        (7, "CRON[8]", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
        (8, "sshd[9]", "Did not receive identification string from 192.0.2.1 port 10"),
        (9, "systemd[10]", "pam_unix(systemd-user:session): session opened for user bob(uid=1) "
                           "by (uid=0)"),
    )  # fmt: skip
    assert attempts.linux_attempts(frame).empty
    assert attempts.linux_attempts(pd.DataFrame({"x": [1]})).empty
    assert attempts.linux_attempts(None).empty


# ------------------------------------------------------------------ SQL agrees


CORPUS = [
    ("Failed password for root from 203.0.113.5 port 22 ssh2", "sshd"),
    ("Failed password for invalid user  admin from ::ffff:10.1.2.3 port 5022 ssh2", "sshd"),
    ("Failed publickey for bob from 2001:db8::7 port 4411 ssh2: RSA SHA256:abcd", "sshd-session"),
    ("Failed none for invalid user  from 203.0.113.5 port 22 ssh2", "sshd"),
    ("Accepted keyboard-interactive/pam for ana.m@corp from 10.0.0.1 port 2 ssh2", "sshd"),
    ("Accepted password for deploy from 198.51.100.23 port 51234 ssh2", "sshd-auth"),
    ("Accepted password for deploy from 198.51.100.23 port 51234 ssh2", "/usr/sbin/sshd"),
    ("authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.9  user=bin",
     "/usr/sbin/sshd(pam_unix)"),
    ("Invalid user  admin from 203.0.113.5 port 2", "sshd"),
    ("Illegal user test from ::ffff:203.0.113.5", "sshd"),
    ("error: PAM: Authentication failure for illegal user x from 1.2.3.4", "sshd"),
    ("message repeated 4 times: [ Failed password for root from 1.2.3.4 port 22 ssh2]", "sshd"),
    ("message repeated 2 times: [ Connection closed by 1.2.3.4 port 22 [preauth]]", "sshd"),
    ("pam_unix(sshd:auth): authentication failure; logname= uid=0 rhost=1.2.3.4  user=root",
     "sshd"),
    ("pam_unix(sshd:auth): check pass; user unknown", "sshd"),
    ("pam_unix(sshd:session): session opened for user dave(uid=1003) by (uid=0)", "sshd"),
    ("pam_unix(sshd:session): session closed for user dave", "sshd"),
    ("authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=h.example.org ",
     "sshd(pam_unix)"),
    ("check pass; user unknown", "sshd(pam_unix)"),
    ("session opened for user news by (uid=0)", "su(pam_unix)"),
    ("session opened for user root by (uid=0)", "crond(pam_unix)"),
    ("pam_unix(su-l:auth): authentication failure; logname=bob uid=1000 euid=0 tty=pts/0 "
     "ruser=bob rhost=  user=root", "su"),
    ("pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 ruser=bob "
     "rhost=  user=bob", "sudo"),
    ("pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", "CRON"),
    ("PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  "
     "user=root", "sshd"),
    ("FAILED SU (to root) bob on pts/0", "su"),
    ("(to root) bob on pts/0", "su"),
    ("(to root) bob on pts/0", "sshd"),
    ("Successful su for root by bob", "su"),
    ("FAILED su for root by bob", ""),
    ("FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure", "login"),
    ("FAILED LOGIN 1 FROM (null) FOR root, Authentication failure", "login"),
    ("ROOT LOGIN  on '/dev/tty1'", "login"),
    ("LOGIN ON pts/1 BY bob FROM 10.1.1.1", "login"),
    ("New session 3 of user bob.", "systemd-logind"),
    ("Connection closed by invalid user x 1.2.3.4 port 22 [preauth]", "sshd"),
    ("Failed password for root from 1.2.3.4 port 22 ssh2", "sudo"),
    ("  Failed password for root from 1.2.3.4 port 22 ssh2\n", ""),
    ("Failed password for root\nfrom 1.2.3.4 port 22 ssh2", "sshd"),
    ("Failed password for root from 1.2.3.4 port 22 ssh2'); DROP TABLE Syslog; --", "sshd"),
    ("last message repeated 3 times", ""),
    ("", "sshd"),
]  # fmt: skip


@pytest.fixture(scope="module")
def macros():
    con = duckdb.connect()
    for sql in load_library().macros:
        if " AS TABLE" not in sql:  # table macros need the store's tables
            con.execute(sql)
    yield con
    con.close()


@pytest.mark.parametrize(("message", "process"), CORPUS)
def test_the_lx_macros_judge_a_line_as_the_model_does(macros, message, process):
    line = attempts.classify_line(message, process)
    expected = line.result if line is not None else ""
    got = macros.execute(
        "SELECT lx_line_result($m, $p), lx_is_failure($m, NULL, $p), lx_is_success($m, $p), "
        "lx_program($p), lx_repeat_marker($m, $p)",
        {"m": message, "p": process},
    ).fetchone()
    assert got[0] == expected
    assert (got[1], got[2]) == (expected == "Failure", expected == "Success")
    assert got[3] == attempts.program_of(process)[0]
    assert got[4] == (attempts.repeat_marker(message, process) is not None)


def test_the_documented_examples_hold():
    for module in (attempts, logons):
        assert doctest.testmod(module).failed == 0
