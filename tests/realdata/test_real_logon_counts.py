"""Linux logon attempts counted the same way everywhere, checked against the files.

Four auth logs in the shapes real systems write them (line shapes from OpenSSH,
Linux-PAM, util-linux and sysklogd/rsyslog output as documented and as they appear
in published logs; hosts, users, addresses and counts are our own):

- Debian 12 auth.log (OpenSSH 9.2, rsyslog): a brute force on root from one address
  whose tries rsyslog folds into `message repeated N times: [ ... ]`, invalid users
  with odd names (a leading space, empty, markup, SQL), a success after the
  failures; su and console login with their pam_unix echoes; cron and sudo.
- CentOS 7 secure (OpenSSH 7.4): `Invalid user X from A` without a port, then the
  `Failed password for invalid user X from A port P` of the same connection.
- RHEL 4 messages (sysklogd): only `sshd(pam_unix)[pid]` / `su(pam_unix)[pid]` lines,
  host-name and IPv4-mapped rhosts, `last message repeated N times`.
- Debian 13 auth.log (OpenSSH 9.8 `sshd-session`, RFC 3339 stamps): a password spray
  from an IPv6 address.

Each figure host_logons_summary, ip_summary and account_summary report is computed
here from the file text with plain `re` and an analyst's rules written below, then
compared with what nblib gives through the real path (import into a DuckDB file,
queries, the logon-attempt model), and again from a DataFrame passed as `data`. The
files are imported under their usual names and under names that say nothing, so the
store's Facility column is set from the name or left empty.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from nbcatalog.nblib import Investigation, accounts, hosts, ipinfo, logonstats

YEAR = 2025
WINDOW = ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
BRUTE = "203.0.113.41"
RHEL_ATTACKER = "dsl-77-12.pool.example.net"
SPRAY6 = "2001:db8:4a1::17"
OLD_SCANNER = "198.51.100.61"


# ------------------------------------------------------------------ the logs


class _Log:
    """Lines of one host's log, stamped `seconds` after `start`."""

    def __init__(self, host: str, start: datetime, iso: bool = False) -> None:
        self.host, self.start, self.iso, self.lines = host, start, iso, []

    def __call__(self, seconds: float, tag: str, text: str) -> None:
        when = self.start + timedelta(seconds=seconds)
        stamp = (
            when.isoformat(timespec="microseconds")
            if self.iso
            else f"{when:%b} {when.day:>2} {when:%H:%M:%S}"
        )
        self.lines.append(f"{stamp} {self.host} {tag + ': ' if tag else ''}{text}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _pam_fail(rhost: str, user: str | None = None, tty: str = "ssh") -> str:
    tail = f"  user={user}" if user is not None else ""
    return f"authentication failure; logname= uid=0 euid=0 tty={tty} ruser= rhost={rhost}{tail}"


def debian_auth_log() -> str:
    log = _Log("web-fra-03", datetime(YEAR, 3, 3, 4, 0, 0))
    log(0, "CRON[1200]", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
    log(1, "CRON[1200]", "pam_unix(cron:session): session closed for user root")
    log(60, "sshd[1300]", "Accepted publickey for mkowalski from 192.0.2.10 port 40122 ssh2: "
        "ED25519 SHA256:Qm3kT0cVn8Jb2yLr5Ws1Hd7Pa4Ze9Xu6Fi0Og2Ek")  # fmt: skip
    log(60, "sshd[1300]", "pam_unix(sshd:session): session opened for user mkowalski(uid=1002) "
        "by (uid=0)")  # fmt: skip
    log(61, "systemd-logind[598]", "New session 12 of user mkowalski.")
    log(90, "sudo", "mkowalski : TTY=pts/0 ; PWD=/home/mkowalski ; USER=root ; "
        "COMMAND=/usr/bin/systemctl restart nginx")  # fmt: skip
    log(90, "sudo", "pam_unix(sudo:session): session opened for user root(uid=0) by "
        "mkowalski(uid=1002)")  # fmt: skip
    # su: util-linux writes its own line next to pam_unix's
    log(100, "su[3001]", "(to root) mkowalski on pts/0")
    log(100, "su[3001]", "pam_unix(su-l:session): session opened for user root(uid=0) by "
        "mkowalski(uid=1002)")  # fmt: skip
    log(130, "su[3010]", "pam_unix(su-l:auth): authentication failure; logname=mkowalski "
        "uid=1002 euid=0 tty=/dev/pts/0 ruser=mkowalski rhost=  user=root")  # fmt: skip
    log(132, "su[3010]", "FAILED SU (to root) mkowalski on pts/0")
    t = 300
    # brute force on root: one pam line, one Failed line, the rest folded by rsyslog
    for pid, port in ((21410, 50212), (21420, 50388), (21430, 50402)):
        log(t, f"sshd[{pid}]", "pam_unix(sshd:auth): " + _pam_fail(BRUTE, "root"))
        log(t + 2, f"sshd[{pid}]", f"Failed password for root from {BRUTE} port {port} ssh2")
        log(t + 9, f"sshd[{pid}]", f"message repeated 5 times: [ Failed password for root from "
            f"{BRUTE} port {port} ssh2]")  # fmt: skip
        log(t + 10, f"sshd[{pid}]", f"error: maximum authentication attempts exceeded for root "
            f"from {BRUTE} port {port} ssh2 [preauth]")  # fmt: skip
        log(t + 10, f"sshd[{pid}]", f"Disconnecting authenticating user root {BRUTE} port {port}: "
            "Too many authentication failures [preauth]")  # fmt: skip
        log(t + 10, f"sshd[{pid}]", "PAM 5 more authentication failures; logname= uid=0 euid=0 "
            f"tty=ssh ruser= rhost={BRUTE}  user=root")  # fmt: skip
        t += 20
    # an invalid name with a leading space (OpenSSH writes two spaces)
    log(t, "sshd[21440]", f"Invalid user  admin from {BRUTE} port 50990")
    log(t, "sshd[21440]", "pam_unix(sshd:auth): check pass; user unknown")
    log(t, "sshd[21440]", "pam_unix(sshd:auth): " + _pam_fail(BRUTE))
    log(t + 2, "sshd[21440]", f"Failed password for invalid user  admin from {BRUTE} port 50990 "
        "ssh2")  # fmt: skip
    log(t + 3, "sshd[21440]", f"Connection closed by invalid user  admin {BRUTE} port 50990 "
        "[preauth]")  # fmt: skip
    # an empty name, probed with method "none" only
    log(t + 10, "sshd[21450]", f"Invalid user  from {BRUTE} port 51002")
    log(t + 10, "sshd[21450]", f"Failed none for invalid user  from {BRUTE} port 51002 ssh2")
    log(t + 11, "sshd[21450]", f"Connection closed by invalid user  {BRUTE} port 51002 [preauth]")
    log(t + 20, "sshd[21460]", "pam_unix(sshd:auth): " + _pam_fail(BRUTE, "ubuntu"))
    log(t + 22, "sshd[21460]", f"Failed password for ubuntu from {BRUTE} port 51100 ssh2")
    log(t + 26, "sshd[21460]", f"message repeated 2 times: [ Failed password for ubuntu from "
        f"{BRUTE} port 51100 ssh2]")  # fmt: skip
    log(t + 27, "sshd[21460]", f"Connection closed by authenticating user ubuntu {BRUTE} "
        "port 51100 [preauth]")  # fmt: skip
    # scanners that never authenticate
    log(t + 30, "sshd[21470]", f"Connection closed by {BRUTE} port 51800 [preauth]")
    log(t + 31, "sshd[21471]", "Unable to negotiate with 198.51.100.5 port 3322: no matching "
        "key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]")  # fmt: skip
    log(t + 32, "sshd[21472]", "Received disconnect from 198.51.100.5 port 3340:11: Bye Bye "
        "[preauth]")  # fmt: skip
    # names that are markup or SQL
    for pid, port, user in (
        (21480, 4100, "<img src=x onerror=alert(1)>"),
        (21481, 4101, "x';DROP TABLE Syslog;--"),
    ):
        log(t + 40, f"sshd[{pid}]", f"Invalid user {user} from 198.51.100.23 port {port}")
        log(t + 40, f"sshd[{pid}]", "pam_unix(sshd:auth): check pass; user unknown")
        log(t + 40, f"sshd[{pid}]", "pam_unix(sshd:auth): " + _pam_fail("198.51.100.23"))
        log(t + 42, f"sshd[{pid}]", f"Failed password for invalid user {user} from 198.51.100.23 "
            f"port {port} ssh2")  # fmt: skip
    # the password falls
    log(t + 100, "sshd[21610]", f"Accepted password for deploy from {BRUTE} port 51230 ssh2")
    log(t + 100, "sshd[21610]", "pam_unix(sshd:session): session opened for user deploy(uid=1001) "
        "by (uid=0)")  # fmt: skip
    log(t + 101, "systemd-logind[598]", "New session 77 of user deploy.")
    # the console: two wrong passwords, then root
    log(t + 200, "login[640]", "pam_unix(login:auth): " + _pam_fail("", "root", "/dev/tty1"))
    log(t + 203, "login[640]", "FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication "
        "failure")  # fmt: skip
    log(t + 210, "login[640]", "pam_unix(login:auth): " + _pam_fail("", "root", "/dev/tty1"))
    log(t + 213, "login[640]", "FAILED LOGIN (2) on '/dev/tty1' FOR 'root', Authentication "
        "failure")  # fmt: skip
    log(t + 220, "login[640]", "pam_unix(login:session): session opened for user root(uid=0) by "
        "LOGIN(uid=0)")  # fmt: skip
    log(t + 220, "login[640]", "ROOT LOGIN  on '/dev/tty1'")
    return log.text()


def centos7_secure() -> str:
    log = _Log("app2-old", datetime(YEAR, 10, 11, 22, 14, 0))
    t = 0
    # OpenSSH 7.4 names the invalid user without the port; the Failed line has it
    for pid, port, user in ((30211, 52214, "oracle"), (30215, 52230, "test"),
                            (30219, 52244, "postgres"), (30223, 52260, "user1")):  # fmt: skip
        log(t, f"sshd[{pid}]", f"Invalid user {user} from {OLD_SCANNER}")
        log(t, f"sshd[{pid}]", f"input_userauth_request: invalid user {user} [preauth]")
        log(t, f"sshd[{pid}]", "pam_unix(sshd:auth): check pass; user unknown")
        log(t, f"sshd[{pid}]", "pam_unix(sshd:auth): " + _pam_fail(OLD_SCANNER))
        log(t + 2, f"sshd[{pid}]", f"Failed password for invalid user {user} from {OLD_SCANNER} "
            f"port {port} ssh2")  # fmt: skip
        log(t + 2, f"sshd[{pid}]", f"Received disconnect from {OLD_SCANNER} port {port}:11: Bye "
            "Bye [preauth]")  # fmt: skip
        log(t + 2, f"sshd[{pid}]", f"Disconnected from {OLD_SCANNER} port {port} [preauth]")
        t += 7
    # a scanner that leaves after the name: the Invalid line is the only trace
    log(t, "sshd[30230]", f"Invalid user support from {OLD_SCANNER}")
    log(t, "sshd[30230]", "input_userauth_request: invalid user support [preauth]")
    log(t + 1, "sshd[30230]", f"Connection closed by {OLD_SCANNER} port 52290 [preauth]")
    # root exists: three passwords on one connection (no repeat folding on CentOS 7)
    log(t + 10, "sshd[30240]", "pam_unix(sshd:auth): " + _pam_fail(OLD_SCANNER, "root"))
    for i in range(3):
        log(t + 12 + 3 * i, "sshd[30240]", f"Failed password for root from {OLD_SCANNER} port "
            "52300 ssh2")  # fmt: skip
    log(t + 60, "sshd[30300]", "Accepted publickey for centos from 10.8.0.4 port 50022 ssh2: RSA "
        "SHA256:p0L3vXq9Tz1Rb7Nk2Wm4Ys6Ua8Cd5Ef3Gh1Ij0Kl")  # fmt: skip
    log(t + 60, "sshd[30300]", "pam_unix(sshd:session): session opened for user centos by (uid=0)")
    return log.text()


def rhel4_messages() -> str:
    log = _Log("legacy-mx1", datetime(YEAR, 6, 9, 6, 6, 20))
    t = 0
    log(t, "syslogd 1.4.1", "restart.")
    for i in range(7):  # seven connections, three tries each; sysklogd folds two of them
        pid = 8814 + 2 * i
        log(t, f"sshd(pam_unix)[{pid}]", _pam_fail(RHEL_ATTACKER, "root", "NODEVssh"))
        log(t + 4, "", "last message repeated 2 times")
        t += 6
    for pid in (8840, 8842):  # unknown names: PAM says so, then fails without a user
        log(t, f"sshd(pam_unix)[{pid}]", "check pass; user unknown")
        log(t, f"sshd(pam_unix)[{pid}]", _pam_fail(RHEL_ATTACKER, None, "NODEVssh") + " ")
        t += 3
    log(t + 5, f"sshd(pam_unix)[{8990}]", _pam_fail("::ffff:198.51.100.77", "nobody", "NODEVssh"))
    log(t + 30, "kernel", "ip_tables: (C) 2000-2002 Netfilter core team")
    log(t + 31, "", "last message repeated 3 times")
    log(t + 60, "crond(pam_unix)[9001]", "session opened for user root by (uid=0)")
    log(t + 61, "crond(pam_unix)[9001]", "session closed for user root")
    log(t + 100, "su(pam_unix)[9120]", "session opened for user news by (uid=0)")
    log(t + 101, "su(pam_unix)[9120]", "session closed for user news")
    log(t + 200, "sshd(pam_unix)[9400]", _pam_fail("192.0.2.200", "opsadmin", "NODEVssh"))
    log(t + 206, "sshd(pam_unix)[9400]", "session opened for user opsadmin by (uid=0)")
    log(t + 300, "su(pam_unix)[9410]", "authentication failure; logname=opsadmin uid=500 euid=0 "
        "tty=pts/1 ruser=opsadmin rhost=  user=root")  # fmt: skip
    log(t + 310, "su(pam_unix)[9411]", "session opened for user root by opsadmin(uid=500)")
    log(t + 900, "sshd(pam_unix)[9500]", "session opened for user opsadmin by (uid=0)")
    return log.text()


SPRAY_USERS = [
    "oracle", "postgres", "git", "test", "jenkins", "minecraft", "svc.backup$", "jürgen",
    "first last", "ana-maria@corp", "o'neil", "hadoop", "ftpuser", "pi", "ansible",
    "Administrator", "tomcat", "guest",
]  # fmt: skip


def debian13_auth_log() -> str:
    log = _Log("bastion-9", datetime(YEAR, 3, 4, 10, 11, 12, 345678, tzinfo=timezone(
        timedelta(hours=1))), iso=True)  # fmt: skip
    log(0, "sshd[812]", "Server listening on :: port 22.")
    t = 10
    for i, user in enumerate(SPRAY_USERS):
        pid, port = 4410 + i, 40200 + 7 * i
        tag = f"sshd-session[{pid}]"
        log(t, tag, f"Invalid user {user} from {SPRAY6} port {port}")
        log(t + 0.1, tag, "pam_unix(sshd:auth): check pass; user unknown")
        log(t + 0.1, tag, "pam_unix(sshd:auth): " + _pam_fail(SPRAY6))
        log(t + 2, tag, f"Failed password for invalid user {user} from {SPRAY6} port {port} ssh2")
        log(t + 2.3, tag, f"Connection closed by invalid user {user} {SPRAY6} port {port} "
            "[preauth]")  # fmt: skip
        t += 13
    log(t, "sshd-session[4500]", "pam_unix(sshd:auth): " + _pam_fail(SPRAY6, "root"))
    log(t + 2, "sshd-session[4500]", f"Failed password for root from {SPRAY6} port 41500 ssh2")
    log(t + 6, "sshd-session[4500]", f"Failed password for root from {SPRAY6} port 41500 ssh2")
    log(t + 7, "sshd-session[4500]", f"Connection closed by authenticating user root {SPRAY6} "
        "port 41500 [preauth]")  # fmt: skip
    log(t + 30, "sshd-session[4510]", "Accepted publickey for mkowalski from 192.0.2.10 port "
        "40500 ssh2: ED25519 SHA256:Qm3kT0cVn8Jb2yLr5Ws1Hd7Pa4Ze9Xu6Fi0Og2Ek")  # fmt: skip
    log(t + 30, "sshd-session[4510]", "pam_unix(sshd:session): session opened for user "
        "mkowalski(uid=1002) by (uid=0)")  # fmt: skip
    log(t + 31, "systemd-logind[601]", "New session 5 of user mkowalski.")
    return log.text()


LOGS = {  # writer -> (usual name, a name that says nothing)
    debian_auth_log: ("auth.log", "web-fra-03 evidence.txt"),
    centos7_secure: ("secure", "app2-old.dump"),
    rhel4_messages: ("messages", "legacy-mx1-2025.log"),
    debian13_auth_log: ("auth.log.1", "bastion-9"),
}
HOSTS = ["web-fra-03", "app2-old", "legacy-mx1", "bastion-9"]


# ------------------------------------------------------------------ counted by hand

# Syslog lines: RFC 3164 or RFC 3339 stamp, host, optional tag[pid]:, message.
LINE = re.compile(
    r"^(?P<stamp>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\S+) (?P<host>\S+) "
    r"(?:(?P<tag>[^\s\[:]+(?: [\d.]+)?)(?:\[(?P<pid>\d+)\])?: )?(?P<msg>.*)$"
)
SSHD_OWN = re.compile(r"^(?P<what>Failed|Accepted) (?P<method>\S+) for (?:invalid user )?"
                      r"(?P<user>.*) from (?P<src>\S+) port \d+ ssh2")  # fmt: skip
INVALID = re.compile(r"^Invalid user (?P<user>.*) from (?P<src>\S+?)(?: port \d+)?$")
PAM_FAIL = re.compile(r"authentication failure;.* rhost=(?P<src>\S*)(?:\s+user=(?P<user>.*?))?\s*$")
PAM_OPEN = re.compile(r"session opened for user (?P<user>[^\s(]+)")


@dataclass(frozen=True)
class Attempt:
    host: str
    result: str
    user: str
    source: str
    line: int  # position in the file: the files are in time order


def _source(text: str) -> str:
    return text.removeprefix("::ffff:")


def hand_count(text: str) -> list[Attempt]:
    """The attempts an analyst counts, with these rules:

    a process is host + program (sshd-session is sshd, "(pam_unix)" dropped) + pid;
    sshd's Failed (not method none) and Accepted lines count once, "message repeated
    N times: [ line ]" N times; an Invalid-user line, a method-none line or a PAM
    line counts only in a process without such a line (PAM's session line takes the
    process's address); su's "(to X)" / "FAILED SU" and login's "FAILED LOGIN" /
    "ROOT LOGIN" count, their pam lines only in a process without them; an untagged
    "last message repeated N times" repeats the host's previous line N times.
    """
    rows = []
    for i, line in enumerate(text.splitlines()):
        m = LINE.match(line)
        program = re.sub(r"\(pam_unix\)$", "", m["tag"] or "").replace("sshd-session", "sshd")
        rows.append({**m.groupdict(), "i": i, "key": (m["host"], program, m["pid"]),
                     "program": program})  # fmt: skip
    own: dict[tuple, set[str]] = {}  # process -> results its own lines record
    address: dict[tuple, str] = {}
    for r in rows:
        m = SSHD_OWN.match(re.sub(r"^message repeated \d+ times: \[ ", "", r["msg"]))
        if r["program"] == "sshd" and m and m["method"] != "none":
            own.setdefault(r["key"], set()).add("Failure" if m["what"] == "Failed" else "Success")
        if re.match(r"^(FAILED SU|FAILED LOGIN)", r["msg"]):
            own.setdefault(r["key"], set()).add("Failure")
        if re.match(r"^(\(to \S+\)|ROOT LOGIN)", r["msg"]):
            own.setdefault(r["key"], set()).add("Success")
        pam = PAM_FAIL.search(r["msg"])
        if pam and pam["src"]:
            address[r["key"]] = _source(pam["src"])
    out: list[Attempt] = []
    last: dict[str, list[Attempt]] = {}
    probed: set[tuple] = set()
    for r in rows:
        host, key, msg = r["host"], r["key"], r["msg"]
        again = re.match(r"^last message repeated (\d+) times$", msg)
        if r["tag"] is None and again:
            out += last.get(host, []) * int(again[1])
            continue
        got: list[Attempt] = []
        times, inner = 1, msg
        folded = re.match(r"^message repeated (\d+) times: \[ (.*)\]$", msg)
        if folded:
            times, inner = int(folded[1]), folded[2]
        sshd, pam_fail, pam_open = SSHD_OWN.match(inner), PAM_FAIL.search(msg), PAM_OPEN.search(msg)
        invalid = INVALID.match(msg)

        def one(result: str, user: str, source: str = "", r: dict = r) -> list[Attempt]:
            return [Attempt(r["host"], result, user, _source(source), r["i"])]

        if r["program"] == "sshd" and sshd and sshd["method"] != "none":
            got = one("Failure" if sshd["what"] == "Failed" else "Success", sshd["user"],
                      sshd["src"]) * times  # fmt: skip
        elif r["program"] == "sshd" and (invalid or sshd) and not own.get(key):
            hit = invalid or sshd
            if key not in probed:  # the Invalid line and the none probe are one attempt
                got, _ = one("Failure", hit["user"], hit["src"]), probed.add(key)
        elif (pam_fail and r["program"] in ("sshd", "su", "login")
              and "Failure" not in own.get(key, set())):  # fmt: skip
            got = one("Failure", pam_fail["user"] or "", pam_fail["src"])
        elif (pam_open and r["program"] in ("sshd", "su", "login")
              and "Success" not in own.get(key, set())):  # fmt: skip
            got = one("Success", pam_open["user"], address.get(key, ""))
        elif m := re.match(r"^FAILED SU \(to (\S+)\)", msg):
            got = one("Failure", m[1])
        elif m := re.match(r"^\(to (\S+)\)", msg):
            got = one("Success", m[1])
        elif m := re.match(r"^FAILED LOGIN \(\d+\) on '\S+' FOR '(.*)',", msg):
            got = one("Failure", m[1])
        elif msg.startswith("ROOT LOGIN"):
            got = one("Success", "root")
        last[host] = got
        out += got
    return out


def hand_figures(found: list[Attempt]) -> dict:
    """What host_logons_summary reports, from hand-counted attempts."""
    fails = [a for a in found if a.result == "Failure"]
    by_source = Counter((a.source, a.result) for a in found)
    attack = {}
    for source, n in Counter(a.source for a in fails if a.source).items():
        if n >= 20:
            users = {a.user for a in fails if a.source == source}
            first = min(a.line for a in fails if a.source == source)
            won = sorted({a.user for a in found if a.result == "Success" and a.source == source
                          and a.line > first})  # fmt: skip
            spray = len(users) >= 10 and n / len(users) <= 10
            attack[source] = (n, len(users), "password spray" if spray else "brute force", won)
    after = {}
    for source in {a.source for a in fails if a.source}:
        first = min(a.line for a in fails if a.source == source)
        won = {a.user for a in found if a.result == "Success" and a.source == source
               and a.line >= first}  # fmt: skip
        if won:
            tried = {a.user for a in fails if a.source == source}
            n = sum(a.source == source for a in fails)
            after[source] = (n, len(tried), ", ".join(sorted(won)))
    return {
        "attempts": len(found),
        "by_source": dict(by_source),
        "by_user": dict(Counter((a.user, a.result) for a in found)),
        "users": len({a.user for a in found}),
        "attack": attack,
        "failed_success": after,
    }


def model_figures(stats: logonstats.LogonStats) -> dict:
    """The same figures from what the notebooklet's nblib calls return."""

    def counts(table: pd.DataFrame, key: str) -> dict:
        out = {}
        for row in table.itertuples(index=False):
            for result in ("Success", "Failure"):
                if getattr(row, result):
                    out[(getattr(row, key), result)] = int(getattr(row, result))
        return out

    by_account = logonstats.success_rate(stats, "Account")
    attack = logonstats.attack_findings(stats).data
    after = logonstats.failed_success(stats)
    return {
        "attempts": int(logonstats.logon_matrix(stats)["Count"].sum()),
        "by_source": counts(logonstats.success_rate(stats, "SourceIP"), "SourceIP"),
        "by_user": counts(by_account, "Account"),
        "users": len(by_account),
        "attack": {
            r.SourceIP: (
                r.Failures,
                r.Accounts,
                r.Kind,
                [s for s in r.SucceededAs.split(", ") if s],
            )
            for r in attack.itertuples()
        },
        "failed_success": {
            r.SourceIP: (r.Failures, r.AccountsTried, r.SucceededAs) for r in after.itertuples()
        },
    }


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module", params=["usual names", "names that say nothing"])
def case(request, tmp_path_factory):
    """The four logs imported into a new store; their texts and hand counts per host."""
    from nbcatalog.data.importers.run import import_paths

    folder = tmp_path_factory.mktemp("logons")
    texts, files = {}, []
    for (writer, names), host in zip(LOGS.items(), HOSTS, strict=True):
        name = names[0] if request.param == "usual names" else names[1]
        path = folder / name
        texts[host] = writer()
        path.write_text(texts[host], encoding="utf-8")
        later = datetime(YEAR, 12, 31, tzinfo=timezone.utc).timestamp()
        os.utime(path, (later, later))  # RFC 3164 stamps take their year from the file
        files.append(path)
    db = folder / "case.duckdb"
    import_paths(files, db=db)
    inv = Investigation.open(f"duckdb:{db}", *WINDOW)
    return inv, texts, {host: hand_count(text) for host, text in texts.items()}


def _frame(texts: dict[str, str]) -> pd.DataFrame:
    """The logs as Syslog rows an analyst might hold, split with the test's own regex."""
    rows = []
    for text in texts.values():
        for line in text.splitlines():
            m = LINE.match(line)
            stamp = m["stamp"]
            when = (
                pd.Timestamp(stamp) if "T" in stamp else pd.Timestamp(f"{YEAR} {stamp}", tz="UTC")
            )
            rows.append({"TimeGenerated": pd.Timestamp(when).tz_convert("UTC"),
                         "Computer": m["host"], "ProcessName": m["tag"], "ProcessID": m["pid"],
                         "SyslogMessage": m["msg"]})  # fmt: skip
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ the checks


def test_the_hand_counts_hold_what_the_logs_were_written_to_show(case):
    _, _, counted = case
    web = hand_figures(counted["web-fra-03"])
    assert web["attack"][BRUTE] == (23, 4, "brute force", ["deploy"])
    assert web["by_user"][(" admin", "Failure")] == 1 and web["by_user"][("", "Failure")] == 1
    assert web["by_user"][("root", "Failure")] == 18 + 1 + 2  # ssh, su, console
    assert hand_figures(counted["legacy-mx1"])["attack"][RHEL_ATTACKER][:3] == (
        23, 2, "brute force",
    )  # fmt: skip
    spray = hand_figures(counted["bastion-9"])["attack"][SPRAY6]
    assert spray[:3] == (20, 19, "password spray")
    assert hand_figures(counted["app2-old"])["by_source"][(OLD_SCANNER, "Failure")] == 8


@pytest.mark.parametrize("host", HOSTS)
def test_host_logons_summary_figures_equal_the_file(case, host):
    inv, _, counted = case
    found = hosts.find_host(inv, host)
    assert (found.name, found.os_family) == (host, "Linux")
    stats = logonstats.host_logon_stats(inv, found.name, found.os_family)
    assert model_figures(stats) == hand_figures(counted[host])
    assert stats.sessions.data["Platform"].eq("Linux").all()


@pytest.mark.parametrize("host", HOSTS)
def test_a_dataframe_passed_as_data_gives_the_same_figures(case, host):
    inv, texts, counted = case
    stats = logonstats.host_logon_stats(inv, host, data=_frame(texts))
    assert set(stats.sessions.data["Computer"]) == {host}
    assert model_figures(stats) == hand_figures(counted[host])


def test_the_brute_force_finding_names_the_right_count(case):
    inv, _, _ = case
    for host, source, count, kind in (
        ("web-fra-03", BRUTE, 23, "Brute force"),
        ("legacy-mx1", RHEL_ATTACKER, 23, "Brute force"),
        ("bastion-9", SPRAY6, 20, "Password spray"),
    ):
        stats = logonstats.host_logon_stats(inv, host, "Linux")
        sentences = logonstats.attack_findings(stats).data["Finding"].tolist()
        assert len(sentences) == 1
        assert sentences[0].startswith(f"{kind} from {source}: {count} failed logons")


@pytest.mark.parametrize("ip", [BRUTE, SPRAY6, OLD_SCANNER, "198.51.100.77", "192.0.2.200",
                                "192.0.2.10"])  # fmt: skip
def test_ip_summary_counts_what_host_logons_summary_counts(case, ip):
    inv, _, counted = case
    everywhere = [a for found in counted.values() for a in found if a.source == ip]
    logons = ipinfo.logons_from_ip(inv, ip).data
    linux = logons[logons["Source"] == "Linux"]
    assert Counter(zip(linux["Computer"], linux["Result"], strict=True)) == Counter(
        (a.host, a.result) for a in everywhere
    )
    for host in {a.host for a in everywhere}:
        rows = logonstats.host_logon_stats(inv, host, "Linux").sessions.data
        mine = rows[rows["SourceIP"] == ip]
        on_host = linux[linux["Computer"] == host]
        assert sorted(on_host["Account"]) == sorted(mine["Account"])
    summary = ipinfo.logon_summary(logons).set_index(["Computer", "Result"])
    for (host, result), n in Counter((a.host, a.result) for a in everywhere).items():
        assert summary.loc[(host, result), "Attempts"] == n


def test_an_ipv4_mapped_address_is_the_same_address(case):
    inv, _, _ = case
    mapped = ipinfo.logons_from_ip(inv, "::ffff:198.51.100.77").data
    assert mapped["Account"].tolist() == ["nobody"]


@pytest.mark.parametrize("user", ["root", "deploy", "opsadmin", "mkowalski", "centos"])
def test_account_summary_counts_what_host_logons_summary_counts(case, user):
    inv, _, counted = case
    mine = [a for found in counted.values() for a in found if a.user == user]
    found = accounts.find_accounts(inv, user, sources=("linux",))
    activity = accounts.account_activity(found).data.set_index("AccountId")
    row = activity.loc[f"linux:{user}"]
    assert (row["Successes"], row["Failures"]) == (
        sum(a.result == "Success" for a in mine),
        sum(a.result == "Failure" for a in mine),
    )
    assert row["Hosts"] == ", ".join(sorted({a.host for a in mine}))
    per_host = Counter(zip(found.events["Host"], found.events["Result"], strict=True))
    for host in {a.host for a in mine}:
        rows = logonstats.host_logon_stats(inv, host, "Linux").sessions.data
        rows = rows[rows["Account"] == user]
        assert {r: n for (h, r), n in per_host.items() if h == host} == dict(
            Counter(rows["LogonResult"])
        )


def test_markup_and_sql_in_user_names_stay_text(case):
    inv, _, _ = case
    rows = logonstats.host_logon_stats(inv, "web-fra-03", "Linux").sessions.data
    odd = set(rows.loc[rows["SourceIP"] == "198.51.100.23", "Account"])
    assert odd == {"<img src=x onerror=alert(1)>", "x';DROP TABLE Syslog;--"}
    shown = logonstats.host_logon_stats(inv, "web-fra-03", "Linux").sessions._repr_html_()
    assert "&lt;img src=x" in shown and "<img src=x" not in shown


@pytest.mark.slow
def test_the_cli_reports_the_brute_force_on_a_pam_only_host(case, tmp_path):
    from run_helpers import cli_json

    inv, _, counted = case
    summary = cli_json(
        "run", "host-logons-summary", "--host", "legacy-mx1", "--source",
        f"duckdb:{inv.source.path}", "--start", WINDOW[0], "--end", WINDOW[1],
        "--output", str(tmp_path), "--json", timeout=600,
    )  # fmt: skip
    assert summary["status"] == "ok"
    n = hand_figures(counted["legacy-mx1"])["attack"][RHEL_ATTACKER][0]
    assert summary["results"]["attack_summary"][0].startswith(
        f"Brute force from {RHEL_ATTACKER}: {n} failed logons on 2 accounts"
    )
