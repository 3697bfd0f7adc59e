"""One logon attempt, one row: how Linux auth lines are counted, everywhere.

sshd, su and login write several lines for one attempt, and pam_unix echoes them.
A SOC analyst counting by hand groups the lines of one process (host + program +
PID) and counts each attempt once. This module does the same, and every notebooklet
that counts Linux logons (host_logons_summary, ip_summary, account_summary) counts
with it, so the same attempt has the same count everywhere.

The rules, per group of lines (same host, program and PID; a PID's lines more than
`PID_GAP` apart are two processes, as PIDs are reused):

- `Failed <method> for [invalid user ]<user> from <addr> [port <p>] ssh2` and
  `Accepted <method> for <user> from ...` are one attempt each (sshd's own record);
  so are su's `FAILED SU (to root) bob on pts/0`, `FAILED su for root by bob`,
  `(to root) bob on pts/0`, `Successful su for root by bob` and login's
  `FAILED LOGIN (1) on '/dev/tty1' FOR 'root', ...`, `ROOT LOGIN ON tty1`,
  `LOGIN ON tty1 BY bob`.
- rsyslog's `message repeated N times: [ <line> ]` is N more of <line>; sysklogd's
  untagged `last message repeated N times` is N more of the host's previous line.
- `Invalid user X from A [port P]` (and `Illegal user`, older sshd) and the method
  probe `Failed none for ...` (OpenSSH logs it when a client asks which methods are
  allowed, before trying a real one) are an attempt only when nothing else in the
  group records one from that address and port: a scanner that disconnects after
  the user name still made one attempt, one that then tried a password made one
  attempt per password.
- pam_unix lines (`pam_unix(sshd:auth): authentication failure; ... rhost=A user=X`,
  RHEL's `sshd(pam_unix)[pid]: authentication failure; ...`, `session opened for
  user X`, sshd's `error: PAM: Authentication failure for X from A`) count only when
  their group has no line of the program's own for that result (RHEL 4 era logs
  often hold only these). An sshd PAM failure is also an echo when an sshd failure
  from the same address lies within `PAM_ECHO_WINDOW` (PAM may run in a child PID).
  `rhost` may be a host name: it is kept as the source.
- Never attempts: `check pass; user unknown`, `PAM N more authentication failures`,
  `Connection closed ... [preauth]`, `Disconnected from`, `Received disconnect`,
  `Postponed`, `maximum authentication attempts exceeded`, systemd-logind's
  `New session N of user X.`, sudo and cron.

User names are whatever OpenSSH wrote (`Invalid user  admin from` is user " admin");
the source address is the last `from <addr>` before ` port `; IPv4-mapped IPv6
addresses become IPv4.

Example:
    >>> import pandas as pd
    >>> raw = pd.DataFrame({
    ...     "TimeGenerated": pd.to_datetime(["2024-05-01 10:00:00", "2024-05-01 10:00:02"],
    ...                                     utc=True),
    ...     "Computer": "web01", "ProcessName": "sshd", "ProcessID": 4711,
    ...     "SyslogMessage": ["Invalid user oracle from 198.51.100.9 port 4022",
    ...         "Failed password for invalid user oracle from 198.51.100.9 port 4022 ssh2"]})
    >>> linux_attempts(raw)[["Account", "LogonResult", "SourceIP", "TargetLogonId"]].values.tolist()
    [['oracle', 'Failure', '198.51.100.9', 'sshd[4711]']]
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from nbcatalog.nblib.values import first_column, text_of

PID_GAP = pd.Timedelta(minutes=10)  # longer than sshd's LoginGraceTime (2 min by default)
PAM_ECHO_WINDOW = pd.Timedelta(seconds=60)
LOGON_PROGRAMS = ("sshd", "su", "login")
_ALIASES = {"sshd-session": "sshd", "sshd-auth": "sshd", "su-l": "su"}  # OpenSSH >= 9.8 / 10
_WHITESPACE = " \t\r\n"  # stripped from messages; the SQL macros strip the same characters
_NO_SOURCE = {"", "(null)", "-", "?", "unknown"}

ATTEMPT_COLUMNS = [
    "TimeGenerated",
    "Computer",
    "Account",
    "LogonResult",
    "LogonType",
    "LogonTypeName",
    "SourceIP",
    "SourcePort",
    "LogonProcessName",
    "TargetLogonId",
    "Platform",
    "Detail",
]


def _full(pattern: str) -> re.Pattern[str]:
    # Written in the subset RE2 shares with Python (DuckDB's lx_* macros use the same
    # shapes): separators are spaces, digits are [0-9], and the whole text must match.
    return re.compile(pattern)


_PORT_TAIL = r"(?: port (?P<port>[0-9]+))?(?: ssh[0-9]?)?(?:: .*)?(?: \[preauth\])?"
_FAILED = _full(
    r"Failed (?P<method>[^ ]+) for (?P<invalid>(?:invalid|illegal) user )?(?P<user>.*)"
    r" from (?P<addr>[^ ]+)" + _PORT_TAIL
)
_ACCEPTED = _full(r"Accepted (?P<method>[^ ]+) for (?P<user>.*) from (?P<addr>[^ ]+)" + _PORT_TAIL)
_INVALID = _full(
    r"(?:Invalid|Illegal) user (?P<user>.*) from (?P<addr>[^ ]+)(?: port (?P<port>[0-9]+))?"
)
_PAM_ERROR = _full(
    r"error: PAM: Authentication failure for (?:(?:invalid|illegal) user )?(?P<user>.*)"
    r" from (?P<addr>[^ ]+)"
)
_PAM_PREFIX = _full(r"pam_unix\((?P<service>[^:()]+):(?P<stage>[^()]*)\): (?P<rest>.*)")
_PAM_FAILURE = _full(r"authentication failure;(?P<fields>.*)")
_PAM_SESSION = _full(
    r"session opened for user (?P<user>.*?)(?:\(uid=[0-9]+\))? by (?P<by>.*?)(?:\(uid=[0-9]+\))?"
)
_SU_FAILED = (
    _full(r"FAILED SU \(to (?P<user>.*)\) (?P<by>[^ ]*) on (?P<tty>[^ ]+)"),
    _full(r"FAILED su for (?P<user>[^ ]+) by (?P<by>[^ ]+)"),
)
_SU_OK = (
    _full(r"\(to (?P<user>.*)\) (?P<by>[^ ]*) on (?P<tty>[^ ]+)"),
    _full(r"Successful su for (?P<user>[^ ]+) by (?P<by>[^ ]+)"),
)
_LOGIN_FAILED = _full(
    r"FAILED LOGIN \(?[0-9]+\)? (?:on '?(?P<tty>[^' ]*)'? )?(?:FROM '?(?P<addr>[^' ]*)'? )?"
    r"FOR '?(?P<user>.*?)'?, .*"
)
_LOGIN_OK = (
    _full(r"ROOT LOGIN +(?:ON|on) '?(?P<tty>[^' ]+)'?(?: (?:FROM|from) '?(?P<addr>[^' ]+)'?)?"),
    _full(r"LOGIN ON '?(?P<tty>[^' ]+)'? BY '?(?P<user>[^' ]+)'?(?: FROM '?(?P<addr>[^' ]+)'?)?"),
)
_RSYSLOG_REPEAT = _full(r"message repeated (?P<n>[0-9]+) times: \[ ?(?P<inner>.*)\]")
_SYSKLOGD_REPEAT = _full(r"last message repeated (?P<n>[0-9]+) times?")
_PAM_FIELD = {
    "user": re.compile(r"(?:^| )user=(?P<v>.*?) *$"),
    "rhost": re.compile(r"(?:^| )rhost=(?P<v>[^ ]*)"),
    "ruser": re.compile(r"(?:^| )ruser=(?P<v>[^ ]*)"),
}


@dataclass(frozen=True)
class AuthLine:
    """What one auth line says about a logon attempt.

    `role` is "native" (the program's own record of an attempt), "probe" (sshd's
    invalid-user and method-none lines) or "pam" (pam_unix's echo). `repeats` is
    how many attempts the line stands for (rsyslog's "message repeated N times").
    """

    program: str
    role: str
    result: str
    method: str
    user: str = ""
    address: str = ""
    port: str = ""
    by: str = ""
    repeats: int = 1


def strip_message(message: Any) -> str:
    """The message text without surrounding blanks ("" for missing values).

    Example:
        >>> strip_message("  Accepted publickey for bob from 10.0.0.5 port 22 ssh2\\n")
        'Accepted publickey for bob from 10.0.0.5 port 22 ssh2'
    """
    if message is None or (not isinstance(message, str) and pd.isna(message)):
        return ""
    return str(message).strip(_WHITESPACE)


def program_of(process: Any) -> tuple[str, str]:
    """(program, module) of a syslog tag: `sshd(pam_unix)` is ("sshd", "pam_unix").

    OpenSSH 9.8's `sshd-session` and 10's `sshd-auth` are sshd; `su-l` is su; a path
    (`/usr/sbin/sshd`) is its last part.

    Example:
        >>> program_of("sshd(pam_unix)"), program_of("sshd-session"), program_of(None)
        (('sshd', 'pam_unix'), ('sshd', ''), ('', ''))
    """
    text = text_of(process)
    module = ""
    match = re.fullmatch(r"(?P<base>.*?)\((?P<module>[^()]*)\)", text)
    if match:
        text, module = match["base"], match["module"]
    text = text.rsplit("/", 1)[-1]  # some daemons tag with the path: /usr/sbin/sshd
    return _ALIASES.get(text, text), module


def normalise_address(value: Any) -> str:
    """A source address as the model keeps it: IPv4-mapped IPv6 as IPv4, IPv6
    compressed, a host name (PAM's rhost can be one) as written.

    Example:
        >>> normalise_address("::ffff:198.51.100.9"), normalise_address("2001:DB8::0:5")
        ('198.51.100.9', '2001:db8::5')
        >>> normalise_address("host-7.example.net"), normalise_address("(null)")
        ('host-7.example.net', '')
    """
    text = text_of(value).strip("[]")
    if text.lower() in _NO_SOURCE:
        return ""
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def repeat_marker(message: Any, process: Any = "") -> int | None:
    """N for sysklogd's untagged `last message repeated N times` line, else None.

    Example:
        >>> repeat_marker("last message repeated 4 times"), repeat_marker("x", "sshd")
        (4, None)
    """
    if text_of(process):
        return None
    match = _SYSKLOGD_REPEAT.fullmatch(strip_message(message))
    return int(match["n"]) if match else None


def classify_line(message: Any, process: Any = "") -> AuthLine | None:
    """What one auth line says about a logon attempt, or None when it says nothing.

    A line that is an attempt only when alone (probe, pam) is still classified: the
    group decides (see the module's rules). `process` is the syslog tag; an empty one
    lets any program's pattern match (frames without ProcessName).

    Example:
        >>> classify_line("Failed password for invalid user  admin from ::ffff:10.1.2.3 "
        ...               "port 5022 ssh2", "sshd")
        AuthLine(program='sshd', role='native', result='Failure', method='password', \
user=' admin', address='10.1.2.3', port='5022', by='', repeats=1)
        >>> classify_line("message repeated 3 times: [ Failed password for root from "
        ...               "203.0.113.5 port 22 ssh2]", "sshd").repeats
        3
        >>> classify_line("pam_unix(cron:session): session opened for user root", "CRON") is None
        True
    """
    text = strip_message(message)
    repeats = 1
    wrapped = _RSYSLOG_REPEAT.fullmatch(text)
    if wrapped:
        repeats, text = int(wrapped["n"]), wrapped["inner"].strip(_WHITESPACE)
    program, module = program_of(process)
    line = _classify(text, program, module)
    if line is None or repeats == 1:
        return line
    return replace(line, repeats=repeats)


def _classify(text: str, program: str, module: str) -> AuthLine | None:
    pam = _pam_line(text, program, module)
    if pam is not None or text.startswith("pam_unix(") or module:
        return pam
    if program in ("sshd", ""):
        found = _sshd_line(text)
        if found is not None:
            return found
    if program in ("su", ""):
        found = _su_line(text)
        if found is not None:
            return found
    if program in ("login", ""):
        return _login_line(text)
    return None


def _sshd_line(text: str) -> AuthLine | None:
    for pattern, result in ((_FAILED, "Failure"), (_ACCEPTED, "Success")):
        match = pattern.fullmatch(text)
        if match:
            method = match["method"]
            role = "probe" if method == "none" and result == "Failure" else "native"
            address = normalise_address(match["addr"])
            return AuthLine(
                "sshd", role, result, method, match["user"], address, match["port"] or ""
            )
    match = _INVALID.fullmatch(text)
    if match:
        address, port = normalise_address(match["addr"]), match["port"] or ""
        return AuthLine("sshd", "probe", "Failure", "invalid user", match["user"], address, port)
    match = _PAM_ERROR.fullmatch(text)
    if match:
        return AuthLine(
            "sshd", "pam", "Failure", "pam", match["user"], normalise_address(match["addr"])
        )
    return None


def _pam_line(text: str, program: str, module: str) -> AuthLine | None:
    prefixed = _PAM_PREFIX.fullmatch(text)
    if prefixed:
        service, rest = prefixed["service"], prefixed["rest"]
    elif module == "pam_unix" and program:
        service, rest = program, text  # RHEL: `sshd(pam_unix)[pid]: authentication failure; ...`
    else:
        return None
    service = _ALIASES.get(service, service)
    if service not in LOGON_PROGRAMS:
        return None
    method = "pam" if service == "sshd" else service
    failure = _PAM_FAILURE.fullmatch(rest)
    if failure:
        fields = {k: p.search(failure["fields"]) for k, p in _PAM_FIELD.items()}
        value = {k: (m["v"] if m else "") for k, m in fields.items()}
        address = normalise_address(value["rhost"])
        return AuthLine(
            service, "pam", "Failure", method, value["user"], address, by=value["ruser"]
        )
    session = _PAM_SESSION.fullmatch(rest)
    if session:
        return AuthLine(service, "pam", "Success", method, session["user"], by=session["by"])
    return None


def _su_line(text: str) -> AuthLine | None:
    for patterns, result in ((_SU_FAILED, "Failure"), (_SU_OK, "Success")):
        for pattern in patterns:
            match = pattern.fullmatch(text)
            if match:
                return AuthLine("su", "native", result, "su", match["user"], by=match["by"])
    return None


def _login_line(text: str) -> AuthLine | None:
    match = _LOGIN_FAILED.fullmatch(text)
    if match:
        return AuthLine(
            "login", "native", "Failure", "login", match["user"], normalise_address(match["addr"])
        )
    for pattern in _LOGIN_OK:
        match = pattern.fullmatch(text)
        if match:
            user = match.groupdict().get("user") or "root"
            return AuthLine(
                "login", "native", "Success", "login", user, normalise_address(match["addr"])
            )
    return None


# ------------------------------------------------------------------ grouping


@dataclass
class _Line:
    """One classified line placed in its group: where and when it was written."""

    order: int
    time: pd.Timestamp
    host: str
    process: str
    pid: str
    message: str
    auth: AuthLine
    group: tuple[str, str, str, int] = ("", "", "", 0)
    anchor: Any = None  # a repeat's original line time: it is grouped there

    @property
    def group_time(self) -> Any:
        return self.time if self.anchor is None else self.anchor


def _pid_text(value: Any) -> str:
    text = text_of(value)
    return text[:-2] if re.fullmatch(r"[0-9]+\.0", text) else text  # 4711.0 from a float column


def _lines(frame: pd.DataFrame) -> list[_Line]:
    """The frame's auth lines in time order per host, repeats of sysklogd resolved."""
    times = pd.to_datetime(first_column(frame, "TimeGenerated"), utc=True, errors="coerce")
    table = pd.DataFrame(
        {
            "time": times.reset_index(drop=True),
            "host": [text_of(h) for h in first_column(frame, "Computer", "HostName")],
            "process": [text_of(p) for p in first_column(frame, "ProcessName")],
            "pid": [_pid_text(p) for p in first_column(frame, "ProcessID")],
            "message": [strip_message(m) for m in first_column(frame, "SyslogMessage")],
        }
    )
    table["order"] = range(len(table))
    table = table.sort_values(["host", "time", "order"], kind="stable", na_position="last")
    previous: dict[str, _Line | None] = {}
    out: list[_Line] = []
    for row in table.itertuples(index=False):
        count = repeat_marker(row.message, row.process)
        if count is not None:
            # sysklogd: N more of the host's previous line, in that line's group.
            last = previous.get(row.host)
            if last is not None and count > 0:
                auth = replace(last.auth, repeats=count)
                out.append(
                    replace(
                        last,
                        order=row.order,
                        time=row.time,
                        message=f"{row.message}: [ {last.message} ]",  # as rsyslog says it
                        auth=auth,
                        anchor=last.group_time,
                    )
                )
            continue
        auth = classify_line(row.message, row.process)
        line = (
            _Line(row.order, row.time, row.host, row.process, row.pid, row.message, auth)
            if auth is not None
            else None
        )
        previous[row.host] = line
        if line is not None:
            out.append(line)
    return out


def _assign_groups(lines: list[_Line]) -> dict[tuple[str, str, str, int], list[_Line]]:
    by_process: dict[tuple[str, str, str], list[_Line]] = defaultdict(list)
    for line in lines:
        by_process[(line.host, line.auth.program, line.pid)].append(line)
    groups: dict[tuple[str, str, str, int], list[_Line]] = {}
    for key, members in by_process.items():
        segment, last_time = 0, None
        timed = sorted(
            (x for x in members if not pd.isna(x.group_time)), key=lambda x: (x.group_time, x.order)
        )
        untimed = [x for x in members if pd.isna(x.group_time)]
        for line in timed + untimed:
            when = line.group_time
            if last_time is not None and not pd.isna(when) and when - last_time > PID_GAP:
                segment += 1
            if not pd.isna(when):
                last_time = when
            line.group = (*key, segment)
            groups.setdefault(line.group, []).append(line)
    return groups


class _NativeFailures:
    """sshd's own failure lines per host and address, for the cross-PID PAM echo rule."""

    def __init__(self, lines: Iterable[_Line]) -> None:
        times: dict[tuple[str, str], list[pd.Timestamp]] = defaultdict(list)
        for line in lines:
            auth = line.auth
            if auth.program == "sshd" and auth.role == "native" and auth.result == "Failure":
                if auth.address and not pd.isna(line.time):
                    times[(line.host, auth.address)].append(line.time)
        self._times = {k: sorted(v) for k, v in times.items()}

    def near(self, line: _Line) -> bool:
        found = self._times.get((line.host, line.auth.address))
        if not found or pd.isna(line.time):
            return False
        i = bisect.bisect_left(found, line.time - PAM_ECHO_WINDOW)
        return i < len(found) and found[i] <= line.time + PAM_ECHO_WINDOW


def _counted(group: list[_Line], natives: _NativeFailures) -> list[_Line]:
    """The lines of one group that are attempts (each stands for `auth.repeats`)."""
    native = [x for x in group if x.auth.role == "native"]
    results = {x.auth.result for x in native}
    counted = list(native)
    for line in group:
        auth = line.auth
        if auth.role != "pam" or auth.result in results:
            continue
        if auth.result == "Failure" and auth.program == "sshd" and natives.near(line):
            continue  # PAM ran in a child process: sshd's own line is elsewhere
        counted.append(line)
    counted += _probe_attempts(group, counted)
    return counted


def _probe_attempts(group: list[_Line], counted: list[_Line]) -> list[_Line]:
    """One attempt per connection known only from probe lines (invalid user, method none).

    A connection is an address and port; older sshd writes `Invalid user X from A`
    without a port, and that line joins a probe of X from A that has one.
    """
    ports = {(x.auth.address, x.auth.port) for x in counted if x.auth.port}
    addresses = {x.auth.address for x in counted}
    pam_addresses = {x.auth.address for x in counted if x.auth.role == "pam"}
    connections: dict[tuple[str, str, str], list[_Line]] = {}
    probes = [x for x in group if x.auth.role == "probe" and x.auth.address not in pam_addresses]
    for line in sorted(probes, key=lambda x: not x.auth.port):  # ported ones first
        auth = line.auth
        if auth.port:
            if (auth.address, auth.port) in ports:
                continue
            key = (auth.address, auth.port, "")
        else:
            if auth.address in addresses:
                continue
            joins = [
                k
                for k, v in connections.items()
                if k[0] == auth.address and k[1] and any(m.auth.user == auth.user for m in v)
            ]
            key = joins[0] if joins else (auth.address, "", auth.user)
        connections.setdefault(key, []).append(line)
    out = []
    for (_, port, _), members in connections.items():
        named = [m for m in members if m.auth.method != "none"] or members
        first = min(named, key=lambda m: m.order)
        out.append(
            replace(first, auth=replace(first.auth, port=port or first.auth.port, repeats=1))
        )
    return out


def linux_attempts(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Syslog rows (any hosts, any programs) as logon attempts, one row per attempt.

    Needs SyslogMessage; uses TimeGenerated, Computer, ProcessName and ProcessID when
    present (without ProcessID all of a program's lines on a host form one group).
    Columns: `ATTEMPT_COLUMNS`; TargetLogonId names the process (`sshd[4711]`),
    Detail is the line counted.

    Example:
        >>> raw = pd.DataFrame({"Computer": "db01", "ProcessName": "sshd(pam_unix)",
        ...     "ProcessID": 812, "SyslogMessage": ["authentication failure; logname= uid=0 "
        ...     "euid=0 tty=NODEVssh ruser= rhost=scan-9.example.net  user=root"]})
        >>> linux_attempts(raw)[["Account", "SourceIP", "LogonTypeName"]].values.tolist()
        [['root', 'scan-9.example.net', 'sshd pam']]
    """
    if frame is None or frame.empty or "SyslogMessage" not in frame.columns:
        return pd.DataFrame(columns=ATTEMPT_COLUMNS)
    lines = _lines(frame.reset_index(drop=True))
    groups = _assign_groups(lines)
    natives = _NativeFailures(lines)
    rows = []
    for group in groups.values():
        known = {x.auth.address for x in group if x.auth.address}
        for line in _counted(group, natives):
            rows += [_row(line, known)] * line.auth.repeats
    table = pd.DataFrame(rows, columns=[*ATTEMPT_COLUMNS, "_order"])
    table = table.sort_values(["TimeGenerated", "_order"], kind="stable", na_position="last")
    return table.drop(columns="_order").reset_index(drop=True)


def _row(line: _Line, known: set[str]) -> list[Any]:
    auth = line.auth
    # A PAM session line names no address: the group's only address is where it came from.
    address = auth.address or (next(iter(known)) if len(known) == 1 else "")
    type_name = auth.program if auth.method == auth.program else f"{auth.program} {auth.method}"
    process = f"{line.process}[{line.pid}]" if line.pid else line.process
    return [
        line.time,
        line.host,
        auth.user,
        auth.result,
        auth.method,
        type_name,
        address,
        auth.port,
        auth.program,
        process,
        "Linux",
        line.message,
        line.order,
    ]
