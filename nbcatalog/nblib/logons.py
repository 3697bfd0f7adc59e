"""Logon attempts on a host, Windows or Linux, as one `logon_sessions` frame.

Windows logons come from SecurityEvent 4624 (success) and 4625 (failure); Linux logons
from the sshd, su and login lines of Syslog / auth.log; Microsoft Defender for
Endpoint's logons from DeviceLogonEvents (LogonSuccess / LogonFailed). All become one
row per attempt with the same columns (`LOGON_COLUMNS`, whose Log column names the
log a row came from), so the rest of a notebooklet (the timeline, the logon matrix,
the brute-force finding) never asks which OS or which sensor it is on.
Linux messages are counted with `nblib.attempts` (the one logon-attempt model)
rather than trusted from a query's extra columns, so the same rows come out of the
embedded store, a Sentinel workspace or a DataFrame the analyst passes in.

Example:
    >>> import pandas as pd
    >>> raw = pd.DataFrame({
    ...     "TimeGenerated": pd.to_datetime(["2024-05-01 10:00"], utc=True),
    ...     "Computer": ["web01"], "ProcessName": ["sshd"], "Facility": ["auth"],
    ...     "SyslogMessage": ["Failed password for root from 198.51.100.9 port 4022 ssh2"]})
    >>> row = linux_logons(raw).iloc[0]
    >>> row["Account"], row["LogonResult"], row["SourceIP"], row["LogonType"]
    ('root', 'Failure', '198.51.100.9', 'password')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbcatalog.data.logontypes import WINDOWS_LOGON_TYPES
from nbcatalog.nblib import attempts
from nbcatalog.nblib.entities import host_matches
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.hosts import defender_only_note, device_rows
from nbcatalog.nblib.values import first_column, hex_id, text_of

# One attempt, one row: the attempt model's columns, for Windows and Linux alike, and
# the log each row came from (SecurityEvent, Syslog, DeviceLogonEvents).
LOGON_COLUMNS = [*attempts.ATTEMPT_COLUMNS, "Log"]
LOG_WINDOWS = "SecurityEvent"
LOG_LINUX = "Syslog"
LOG_DEFENDER = "DeviceLogonEvents"
DEFENDER_LOGON_QUERY = "M365D.host_logons"
# Defender's ActionType -> the attempt's result. LogonAttempted says an attempt was
# seen but not how it ended: it is neither, and is not counted (see `device_logons`).
DEFENDER_RESULTS = {"logonsuccess": "Success", "logonfailed": "Failure"}
# Defender's LogonType text ("RemoteInteractive", "Network", ...) -> Windows' number,
# keyed without spaces or case (some exports write "Remote interactive").
_DEFENDER_TYPES = {name.casefold(): number for number, name in WINDOWS_LOGON_TYPES.items()}
_NO_ADDRESS = {"", "-", "::1", "127.0.0.1", "0.0.0.0", "localhost"}  # noqa: S104 - compared, not bound


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").str.strip()


def _address(series: pd.Series) -> pd.Series:
    text = _text(series)
    return text.where(~text.isin(_NO_ADDRESS), "")


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in LOGON_COLUMNS})
    frame["TimeGenerated"] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    if "Log" not in frame.columns:  # rows from the attempt model (or older frames)
        frame["Log"] = ""
    frame["TimeGenerated"] = pd.to_datetime(frame["TimeGenerated"], utc=True, errors="coerce")
    for column in LOGON_COLUMNS[1:]:
        text = frame[column].astype("string").fillna("")
        # a user name stays as the log wrote it: sshd's "Invalid user  admin" is " admin"
        frame[column] = text if column == "Account" else text.str.strip()
    return frame[LOGON_COLUMNS].sort_values("TimeGenerated", kind="stable").reset_index(drop=True)


def windows_logons(frame: pd.DataFrame) -> pd.DataFrame:
    """SecurityEvent 4624/4625 rows as `logon_sessions` rows (other event IDs dropped).

    Example:
        >>> raw = pd.DataFrame({"EventID": [4625, 4688], "TimeGenerated": ["2024-05-01"] * 2,
        ...                     "TargetDomainName": ["CONTOSO"] * 2,
        ...                     "TargetUserName": ["bob"] * 2, "LogonType": [10, None]})
        >>> windows_logons(raw)[["Account", "LogonResult", "LogonTypeName"]].values.tolist()
        [['CONTOSO\\\\bob', 'Failure', 'RemoteInteractive']]
    """
    if frame is None or frame.empty or "EventID" not in frame.columns:
        return _empty()
    frame = frame.reset_index(drop=True)  # analysts' frames may repeat index labels
    event_id = pd.to_numeric(frame["EventID"], errors="coerce")
    frame = frame[event_id.isin([4624, 4625])]
    event_id = event_id[frame.index]
    user = _text(first_column(frame, "TargetUserName"))
    domain = _text(first_column(frame, "TargetDomainName"))
    account = (domain + "\\" + user).where((domain != "") & (domain != "-"), user)
    account = account.where(user != "", _text(first_column(frame, "Account")))
    logon_type = pd.to_numeric(first_column(frame, "LogonType"), errors="coerce")
    names = _text(first_column(frame, "LogonTypeName")).str.replace(r"^\d+\s*-\s*", "", regex=True)
    names = names.where(names != "", logon_type.map(WINDOWS_LOGON_TYPES).astype("string"))
    status = _text(first_column(frame, "FailureReason", "SubStatus", "Status"))
    out = pd.DataFrame(
        {
            "TimeGenerated": first_column(frame, "TimeGenerated"),
            "Computer": first_column(frame, "Computer"),
            "Account": account,
            "LogonResult": event_id.map({4624: "Success", 4625: "Failure"}),
            "LogonType": logon_type.astype("Int64").astype("string"),
            "LogonTypeName": names,
            "SourceIP": _address(first_column(frame, "IpAddress", "SourceIP")),
            "SourcePort": _text(first_column(frame, "IpPort")),
            "LogonProcessName": first_column(frame, "LogonProcessName"),
            "TargetLogonId": first_column(frame, "TargetLogonId"),
            "Platform": "Windows",
            "Detail": status,
            "Log": LOG_WINDOWS,
        },
        index=frame.index,
    )
    return _finish(out)


def parse_linux_message(message: Any, process: Any = "") -> dict[str, str] | None:
    """What one auth line says about a logon attempt, or None when it says nothing.

    `Role` says how the line counts (see `nblib.attempts`): "native" lines are one
    attempt each, "probe" (invalid user, method none) and "pam" lines only when
    nothing else records the attempt. Counting needs the other lines of the process:
    use `linux_logons` for that.

    Example:
        >>> parse_linux_message("Accepted password for deploy from 198.51.100.23 port 51234 ssh2")
        {'LogonResult': 'Success', 'LogonProcessName': 'sshd', 'Account': 'deploy', \
'SourceIP': '198.51.100.23', 'SourcePort': '51234', 'LogonType': 'password', 'Role': 'native'}
        >>> parse_linux_message("Received disconnect from 10.0.0.1 port 22:11: bye") is None
        True
    """
    line = attempts.classify_line(message, process)
    if line is None:
        return None
    return {
        "LogonResult": line.result,
        "LogonProcessName": line.program,
        "Account": line.user,
        "SourceIP": line.address,
        "SourcePort": line.port,
        "LogonType": line.method,
        "Role": line.role,
    }


def linux_logons(frame: pd.DataFrame) -> pd.DataFrame:
    """Syslog sshd/su/login lines as `logon_sessions` rows, one per attempt.

    The counting rules are `nblib.attempts`': lines grouped by host, program and
    PID, repeats expanded, echo lines (invalid user, pam_unix) counted only when
    nothing else records the attempt.
    """
    rows = attempts.linux_attempts(frame)
    if rows.empty:
        return _empty()
    rows["SourceIP"] = _address(rows["SourceIP"])
    rows["Log"] = LOG_LINUX
    return _finish(rows)


def defender_logon_type(name: Any) -> int | None:
    """Windows' logon type number of a Defender LogonType name, or None when unknown.

    Example:
        >>> defender_logon_type("RemoteInteractive"), defender_logon_type("Remote interactive")
        (10, 10)
        >>> defender_logon_type("Network"), defender_logon_type("<b>x</b>") is None
        (3, True)
    """
    return _DEFENDER_TYPES.get(text_of(name).replace(" ", "").casefold())


def defender_logons(frame: pd.DataFrame) -> pd.DataFrame:
    """DeviceLogonEvents rows as `logon_sessions` rows (LogonSuccess / LogonFailed only).

    LogonResult <- ActionType; LogonType <- Windows' number of Defender's LogonType
    name (`nbcatalog.data.logontypes`), so the matrix and the attack findings read
    Defender's logons as 4624/4625's, and LogonTypeName <- Windows' name (Defender's
    text when it names no Windows type); Account <- AccountDomain\\AccountName;
    SourceIP / SourcePort <- RemoteIP / RemotePort; LogonProcessName <- Protocol
    (NTLM, Kerberos, ...), else InitiatingProcessFileName; TargetLogonId <- LogonId as
    4624's hex; Detail <- FailureReason; Computer <- DeviceName; TimeGenerated <-
    TimeGenerated, else Defender's Timestamp (its own APIs have no TimeGenerated).
    Platform stays empty: the table does not say the device's OS. Log is
    "DeviceLogonEvents". Values are copied as text, never interpreted.

    Example:
        >>> raw = pd.DataFrame({"Timestamp": ["2026-11-30T08:00:00Z"] * 2,
        ...     "DeviceName": ["wkstn-7.contoso.com"] * 2,
        ...     "ActionType": ["LogonFailed", "LogonAttempted"], "LogonType": ["Network"] * 2,
        ...     "AccountDomain": ["contoso", ""], "AccountName": ["bob", "eve"],
        ...     "RemoteIP": ["203.0.113.9", ""], "Protocol": ["NTLM", ""]})
        >>> defender_logons(raw)[["Account", "LogonResult", "LogonType", "LogonTypeName",
        ...                       "SourceIP", "LogonProcessName", "Log"]].values.tolist()
        [['contoso\\\\bob', 'Failure', '3', 'Network', '203.0.113.9', 'NTLM', 'DeviceLogonEvents']]
    """
    if frame is None or frame.empty or "ActionType" not in frame.columns:
        return _empty()
    frame = frame.reset_index(drop=True)
    result = _text(frame["ActionType"]).str.casefold().map(DEFENDER_RESULTS)
    frame, result = frame[result.notna()], result[result.notna()]
    times = first_column(frame, "TimeGenerated")
    if times.isna().all():
        times = first_column(frame, "Timestamp")
    user = _text(first_column(frame, "AccountName"))
    domain = _text(first_column(frame, "AccountDomain"))
    account = (domain + "\\" + user).where((domain != "") & (user != ""), user)
    typed = _text(first_column(frame, "LogonType"))
    number = typed.map(defender_logon_type)
    names = number.map(WINDOWS_LOGON_TYPES).astype("string")
    protocol = _text(first_column(frame, "Protocol"))
    out = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(times, utc=True, errors="coerce"),
            "Computer": first_column(frame, "DeviceName"),
            "Account": account,
            "LogonResult": result,
            "LogonType": number.astype("Int64").astype("string"),
            "LogonTypeName": names.where(names.notna(), typed),
            "SourceIP": _address(first_column(frame, "RemoteIP")),
            # a port as 4625 writes IpPort: digits (an int column reads back as float)
            "SourcePort": pd.to_numeric(first_column(frame, "RemotePort"), errors="coerce")
            .astype("Int64")
            .astype("string"),
            "LogonProcessName": protocol.where(
                protocol != "", _text(first_column(frame, "InitiatingProcessFileName"))
            ),
            "TargetLogonId": first_column(frame, "LogonId").map(hex_id),
            "Platform": "",
            "Detail": _text(first_column(frame, "FailureReason")),
            "Log": LOG_DEFENDER,
        },
        index=frame.index,
    )
    return _finish(out)


def normalise_logons(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Any logon frame (Windows events, Syslog lines, Defender's DeviceLogonEvents, or
    already normalised) as `logon_sessions`.

    Mixed frames work: rows with an EventID are read as Windows events, rows with a
    SyslogMessage as Linux lines, the rest with a DeviceName and an ActionType as
    Defender logons.

    Example:
        >>> raw = pd.DataFrame({"EventID": [4624, None], "Computer": ["WKSTN-7", None],
        ...     "TargetUserName": ["bob", None], "TimeGenerated": ["2026-11-30"] * 2,
        ...     "DeviceName": [None, "wkstn-7.contoso.com"], "ActionType": [None, "LogonSuccess"],
        ...     "AccountName": [None, "eve"], "LogonType": [3, "Interactive"]})
        >>> normalise_logons(raw)[["Account", "LogonType", "Log"]].values.tolist()
        [['bob', '3', 'SecurityEvent'], ['eve', '2', 'DeviceLogonEvents']]
    """
    if frame is None or frame.empty:
        return _empty()
    if set(attempts.ATTEMPT_COLUMNS) <= set(frame.columns):
        return _finish(frame.copy())
    parts = []
    if "EventID" in frame.columns:
        parts.append(windows_logons(frame[frame["EventID"].notna()]))
        frame = frame[frame["EventID"].isna()]
    if "SyslogMessage" in frame.columns:
        parts.append(linux_logons(frame[frame["SyslogMessage"].notna()]))
        frame = frame[frame["SyslogMessage"].isna()]
    if {"DeviceName", "ActionType"} <= set(frame.columns):
        parts.append(defender_logons(frame[frame["DeviceName"].notna()]))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty()
    return _finish(pd.concat(parts, ignore_index=True))


@dataclass
class LogonSessions(Finding):
    """The logon attempts (`data`, LOGON_COLUMNS) of one host or of a given frame."""

    hosts: list[str] = field(default_factory=list)


# platform -> (query, title) of the logon attempts of one host.
_HOST_QUERIES = {
    "Windows": ("WindowsSecurity.list_all_logons_by_host", "Windows logons"),
    "Linux": ("LinuxSyslog.list_logons_for_host", "Linux logons"),
}


def host_logons(
    inv: Any, host: str | None, os_family: str | None = None, data: pd.DataFrame | None = None
) -> LogonSessions:
    """Every logon attempt on `host` in the investigation's time range: Windows 4624/4625,
    Linux auth lines and Microsoft Defender for Endpoint's DeviceLogonEvents.

    With `data` (a frame the analyst already has) nothing is queried: the frame is
    normalised, and limited to `host` when one is given. An unknown OS family asks
    both the Windows and the Linux source (a missing table is then expected and not
    reported); Defender's logons are asked whatever the OS (`device_logons`), and the
    Log column says which log each attempt came from.

    Example (in a template):
        sessions = nblib.logons.host_logons(inv, "WKSTN-042", "Windows")
        sessions.data.groupby(["Log", "LogonResult"]).size()
    """
    title = f"Logon attempts on {host}" if host else "Logon attempts"
    sessions = LogonSessions(title, _empty())
    if data is not None:
        frame = normalise_logons(data)
        if host and not frame.empty:
            frame = frame[[host_matches(host, c) for c in frame["Computer"]]]
            if frame.empty:
                sessions.note("warning", f"none of the {len(data)} rows passed in are from {host}")
        elif frame.empty:
            sessions.note(
                "warning",
                f"none of the {len(data)} rows passed in are logon attempts "
                "(expected SecurityEvent 4624/4625 rows, Syslog sshd/su/login lines or "
                "DeviceLogonEvents LogonSuccess/LogonFailed rows)",
            )
        sessions.data = frame.reset_index(drop=True)
    elif not host:
        sessions.note("skipped", "no single host selected (see above)")
        return sessions
    else:
        families = [os_family] if os_family in _HOST_QUERIES else list(_HOST_QUERIES)
        frames = []
        for family in families:
            query, label = _HOST_QUERIES[family]
            found = inv.query(query, title=label, host_name=host)
            if os_family is not None or len(families) == 1:
                sessions.notes += found.notes
            raw = found.data
            if not raw.empty and "Computer" in raw.columns:
                raw = raw[[host_matches(host, str(c)) for c in raw["Computer"]]]
            frames.append(normalise_logons(raw))
        # Defender for Endpoint's logons, when the source has them (an MDE estate often
        # has no 4624/4625 at all); its absence is no news, so its note is kept quiet.
        defender = device_logons(inv, host, "Defender logons")
        frames.append(defender.data)
        if not defender.missing:
            sessions.notes += defender.notes
        frames = [f for f in frames if not f.empty]
        if frames:
            sessions.data = _finish(pd.concat(frames, ignore_index=True))
        if sessions.empty and not sessions.missing:
            tables = "SecurityEvent or Syslog" if defender.missing else _READ_TABLES
            sessions.note(
                "info",
                defender_only_note(inv, host, f"{tables} logon")
                or f"no logon attempts on {host} in {inv.period}",
            )
    sessions.hosts = sorted(set(sessions.data["Computer"]) - {""})
    sessions.columns = [c for c in LOGON_COLUMNS if c not in ("Detail", "SourcePort")]
    if not sessions.empty:
        counts = sessions.data["LogonResult"].value_counts()
        sessions.note(
            "info",
            f"{len(sessions.data)} logon attempts: {counts.get('Success', 0)} succeeded, "
            f"{counts.get('Failure', 0)} failed",
        )
    return sessions


# The tables host_logons reads, as its note names them.
_READ_TABLES = "SecurityEvent, Syslog or DeviceLogonEvents"


def device_logons(inv: Any, host: str, title: str = "Defender logons") -> LogonSessions:
    """The DeviceLogonEvents logons of `host` as `logon_sessions` rows (`defender_logons`).

    Asked through `M365D.host_logons` (the embedded store; nbcatalog's msticpy plugin)
    with the host's short name, then kept to the rows whose DeviceName is the host
    (WKSTN-042, wkstn-042.contoso.com: `host_matches`). A source without the table or
    the query gives no rows and a "missing" note (`.missing`) that callers keep to
    themselves. LogonAttempted rows (no outcome) are not counted; an info note says
    how many there were.

    Example (in an nblib step):
        defender = device_logons(inv, "WKSTN-042").data   # Log == "DeviceLogonEvents"
    """
    sessions = LogonSessions(title, _empty())
    rows = device_rows(inv, DEFENDER_LOGON_QUERY, host, title)
    sessions.notes += rows.notes
    if rows.empty:
        return sessions
    mine = rows.data
    sessions.data = defender_logons(mine)
    if "ActionType" in mine.columns:
        results = _text(mine["ActionType"]).str.casefold().map(DEFENDER_RESULTS)
        unknown = int(results.isna().sum())
        if unknown:
            sessions.note(
                "info",
                f"{unknown} DeviceLogonEvents row(s) of {host} with another ActionType than "
                "LogonSuccess or LogonFailed (LogonAttempted: the outcome is not recorded) "
                "are not counted as attempts",
            )
    return sessions


def linux_logons_on(
    inv: Any, computers: Iterable[str], account: str | None = None
) -> LogonSessions:
    """The Linux logon attempts on each of `computers` (exact names), as `host_logons`
    counts them: the same query and the same model, one host at a time.

    For steps that start from something else than a host (an address, an account)
    and must count the attempts they find the way host_logons_summary does. With
    `account` (a user name), the embedded store returns only the lines counting
    that account's attempts needs (`LinuxSyslog.list_logons_for_host_account`), so
    the cost follows the account rather than the host: the account's attempts are
    the same, other accounts' may be missing.

    Example:
        >>> linux_logons_on(inv, ["LNX-WEB01"]).data["LogonResult"].value_counts()  # doctest: +SKIP
    """
    sessions = LogonSessions("Linux logons", _empty())
    frames = []
    narrow = _narrows(inv, account)
    for computer in sorted({text_of(c) for c in computers} - {""}):
        if narrow:
            found = inv.query(
                "LinuxSyslog.list_logons_for_host_account",
                title="Linux logons",
                host_name=computer,
                account_name=text_of(account),
            )
        else:
            found = inv.query(
                "LinuxSyslog.list_logons_for_host", title="Linux logons", host_name=computer
            )
        for note in found.notes:
            if note not in sessions.notes:
                sessions.notes.append(note)
        raw = found.data
        if not raw.empty and "Computer" in raw.columns:
            raw = raw[[text_of(c).casefold() == computer.casefold() for c in raw["Computer"]]]
            frames.append(linux_logons(raw))
    frames = [f for f in frames if not f.empty]
    if frames:
        sessions.data = _finish(pd.concat(frames, ignore_index=True))
    sessions.hosts = sorted(set(sessions.data["Computer"]) - {""})
    return sessions


def _narrows(inv: Any, account: str | None) -> bool:
    """Whether the account's lines can be asked for alone: the embedded store only
    (the query is nbcatalog's, not msticpy's), and not for root (login lines naming
    no user count for root)."""
    from nbcatalog.data.source import is_embedded_store

    name = text_of(account)
    return bool(name) and name.casefold() != "root" and is_embedded_store(inv.source)


def success_rate(sessions: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Successes, failures and success rate (%) per value of `by`, most attempts first.

    Example:
        >>> s = pd.DataFrame({"Account": ["a", "a", "b"],
        ...                   "LogonResult": ["Success", "Failure", "Failure"]})
        >>> success_rate(s, "Account").values.tolist()
        [['a', 1, 1, 2, 50.0], ['b', 0, 1, 1, 0.0]]
    """
    keys = [by] if isinstance(by, str) else list(by)
    columns = [*keys, "Success", "Failure", "Total", "SuccessRate"]
    if sessions is None or sessions.empty:
        return pd.DataFrame(columns=columns)
    table = (
        pd.crosstab([sessions[k] for k in keys], sessions["LogonResult"])
        .reindex(columns=["Success", "Failure"], fill_value=0)
        .reset_index()
    )
    return rate_table(table, keys)


def rate_table(counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`success_rate`'s table from Success and Failure counts per `keys`: totals, rate, order.

    Shared by `success_rate` here (rows) and in `logonstats` (store summaries).

    Example:
        >>> c = pd.DataFrame({"Account": ["a", "b"], "Success": [0, 1], "Failure": [1, 1]})
        >>> rate_table(c, ["Account"]).values.tolist()
        [['b', 1, 1, 2, 50.0], ['a', 0, 1, 1, 0.0]]
    """
    table = counts.copy()
    table.columns.name = None
    table["Total"] = table["Success"] + table["Failure"]
    table["SuccessRate"] = (100.0 * table["Success"] / table["Total"]).round(1)
    columns = [*keys, "Success", "Failure", "Total", "SuccessRate"]
    return table.sort_values(["Total", *keys], ascending=[False] + [True] * len(keys))[
        columns
    ].reset_index(drop=True)


def logon_matrix(sessions: pd.DataFrame) -> pd.DataFrame:
    """Attempts per account x logon process x logon type x result (msticnb's `logon_matrix`).

    Example:
        >>> s = pd.DataFrame({"Account": ["a", "a"], "LogonProcessName": ["sshd", "sshd"],
        ...                   "LogonTypeName": ["sshd password"] * 2,
        ...                   "LogonResult": ["Failure", "Failure"]})
        >>> logon_matrix(s).values.tolist()
        [['a', 'sshd', 'sshd password', 'Failure', 2]]
    """
    keys = ["Account", "LogonProcessName", "LogonTypeName", "LogonResult"]
    if sessions is None or sessions.empty:
        return pd.DataFrame(columns=[*keys, "Count"])
    return (
        sessions.groupby(keys, dropna=False)
        .size()
        .rename("Count")
        .reset_index()
        .sort_values(["Count", *keys], ascending=[False, True, True, True, True])
        .reset_index(drop=True)
    )


FAILED_SUCCESS_COLUMNS = [
    "SourceIP",
    "Failures",
    "AccountsTried",
    "FirstFailure",
    "LastFailure",
    "Successes",
    "SucceededAs",
    "FirstSuccess",
]


def failed_success(sessions: pd.DataFrame) -> pd.DataFrame:
    """Source addresses with failed logons that later succeeded, and as whom.

    One row per address; `SucceededAs` lists the accounts that logged on after
    the first failure. Logons without a remote address are not compared.

    Example:
        >>> s = pd.DataFrame({"SourceIP": ["198.51.100.23"] * 2, "Account": ["root", "deploy"],
        ...                   "LogonResult": ["Failure", "Success"],
        ...                   "TimeGenerated": pd.to_datetime(["2024-05-01 10:00",
        ...                                                    "2024-05-01 10:05"], utc=True)})
        >>> failed_success(s)[["SourceIP", "Failures", "SucceededAs"]].values.tolist()
        [['198.51.100.23', 1, 'deploy']]
    """
    if sessions is None or sessions.empty:
        return pd.DataFrame(columns=FAILED_SUCCESS_COLUMNS)
    remote = sessions[sessions["SourceIP"].fillna("") != ""]
    fails = remote[remote["LogonResult"] == "Failure"]
    rows = []
    for ip, failed in fails.groupby("SourceIP"):
        first_failure = failed["TimeGenerated"].min()
        wins = remote[
            (remote["SourceIP"] == ip)
            & (remote["LogonResult"] == "Success")
            & (remote["TimeGenerated"] >= first_failure)
        ]
        if wins.empty:
            continue
        rows.append(
            {
                "SourceIP": ip,
                "Failures": len(failed),
                "AccountsTried": failed["Account"].nunique(),
                "FirstFailure": first_failure,
                "LastFailure": failed["TimeGenerated"].max(),
                "Successes": len(wins),
                "SucceededAs": ", ".join(sorted(set(wins["Account"]))),
                "FirstSuccess": wins["TimeGenerated"].min(),
            }
        )
    table = pd.DataFrame(rows, columns=FAILED_SUCCESS_COLUMNS)
    return table.sort_values(["Failures", "SourceIP"], ascending=[False, True]).reset_index(
        drop=True
    )


ATTACK_COLUMNS = [
    "SourceIP",
    "Kind",
    "Failures",
    "Accounts",
    "FailuresPerAccount",
    "FirstFailure",
    "LastFailure",
    "SucceededAs",
    "Finding",
]


def attack_findings(
    sessions: pd.DataFrame,
    *,
    min_failures: int = 20,
    spray_accounts: int = 10,
    spray_max_per_account: float = 10.0,
) -> Finding:
    """Sources whose failures look like a brute force or a password spray, in plain words.

    A source with at least `min_failures` failed logons is reported. It is called a
    password spray when it tried at least `spray_accounts` accounts with at most
    `spray_max_per_account` tries each on average (a few passwords across many
    accounts), otherwise a brute force (many passwords against the accounts).
    A later success from the same source is named: that is the account to look at.

    Example:
        >>> t = pd.date_range("2024-05-01", periods=30, freq="min", tz="UTC")
        >>> s = pd.DataFrame({"SourceIP": "203.0.113.77", "Account": "admin",
        ...                   "LogonResult": "Failure", "TimeGenerated": t})
        >>> attack_findings(s).data[["Kind", "Failures"]].values.tolist()
        [['brute force', 30]]
    """
    finding = Finding("Brute force and password spray", pd.DataFrame(columns=ATTACK_COLUMNS))
    finding.columns = [c for c in ATTACK_COLUMNS if c != "Finding"]
    if sessions is None or sessions.empty:
        finding.note("info", "no logon attempts to look at")
        return finding
    remote = sessions[sessions["SourceIP"].fillna("") != ""]
    fails = remote[remote["LogonResult"] == "Failure"]
    wins = failed_success(sessions).set_index("SourceIP")
    rows = []
    for ip, failed in fails.groupby("SourceIP"):
        if len(failed) < min_failures:
            continue
        rows.append(
            attack_row(
                ip,
                len(failed),
                failed["Account"].nunique(),
                failed["TimeGenerated"].min(),
                failed["TimeGenerated"].max(),
                wins,
                spray_accounts=spray_accounts,
                spray_max_per_account=spray_max_per_account,
            )
        )
    return attack_table(finding, rows, min_failures, fails["SourceIP"].value_counts())


def attack_row(
    ip: str,
    failures: int,
    accounts: int,
    first: pd.Timestamp,
    last: pd.Timestamp,
    wins: pd.DataFrame,
    *,
    spray_accounts: int,
    spray_max_per_account: float,
) -> dict[str, Any]:
    """One source's row of the attack table (`ATTACK_COLUMNS`), its finding in plain words.

    `wins` is `failed_success(...)` indexed by SourceIP: a later success is named.
    Shared by `attack_findings` here (rows) and in `logonstats` (store summaries).

    Example:
        >>> t = pd.Timestamp("2024-05-01 10:00", tz="UTC")
        >>> wins = pd.DataFrame(columns=FAILED_SUCCESS_COLUMNS).set_index("SourceIP")
        >>> attack_row("203.0.113.77", 40, 20, t, t, wins, spray_accounts=10,
        ...            spray_max_per_account=10.0)["Kind"]
        'password spray'
    """
    per_account = failures / max(accounts, 1)
    kind = (
        "password spray"
        if accounts >= spray_accounts and per_account <= spray_max_per_account
        else "brute force"
    )
    succeeded = wins.loc[ip, "SucceededAs"] if ip in wins.index else ""
    text = (
        f"{kind.capitalize()} from {ip}: {failures} failed logons on {accounts} "
        f"account{'s' if accounts != 1 else ''} between {first:%Y-%m-%d %H:%M} and "
        f"{last:%Y-%m-%d %H:%M} UTC"
    )
    if succeeded:
        when = wins.loc[ip, "FirstSuccess"]
        text += (
            f", then a successful logon as {succeeded} at {when:%Y-%m-%d %H:%M} UTC: "
            "treat that account as compromised"
        )
    return {
        "SourceIP": ip,
        "Kind": kind,
        "Failures": failures,
        "Accounts": accounts,
        "FailuresPerAccount": round(per_account, 1),
        "FirstFailure": first,
        "LastFailure": last,
        "SucceededAs": succeeded,
        "Finding": text,
    }


def attack_table(
    finding: Finding, rows: list[dict[str, Any]], min_failures: int, failures: pd.Series
) -> Finding:
    """Put `attack_row` rows into `finding` (most failures first), one note each.

    With no rows, one info note names the busiest source: `failures` is the failed
    logons per SourceIP (index), most first.

    Example:
        >>> f = Finding("Brute force and password spray", pd.DataFrame())
        >>> attack_table(f, [], 20, pd.Series({"198.51.100.9": 3})).notes[0].text[:34]
        'no source address has 20 or more f'
    """
    if rows:
        table = pd.DataFrame(rows, columns=ATTACK_COLUMNS)
        table = table.sort_values(["Failures", "SourceIP"], ascending=[False, True])
        finding.data = table.reset_index(drop=True)
        for text in finding.data["Finding"]:
            finding.note("finding", text)
    else:
        most = f" (at most {failures.iloc[0]} from {failures.index[0]})" if len(failures) else ""
        finding.note(
            "info",
            f"no source address has {min_failures} or more failed logons{most}: "
            "nothing looks like a brute force or a spray",
        )
    return finding


def remote_addresses(sessions: pd.DataFrame) -> pd.DataFrame:
    """Remote source addresses with their attempts, GeoIP location and AS owner.

    Columns: IpAddress, IpClass, CountryCode, CountryName, City, Latitude, Longitude,
    AsnOrg, Success, Failure, Total, Accounts. Private and documentation addresses
    are classified but not located (see `nbcatalog.enrich.geoip`).
    """
    columns = [
        "IpAddress",
        "IpClass",
        "CountryCode",
        "CountryName",
        "City",
        "Latitude",
        "Longitude",
        "AsnOrg",
        "Success",
        "Failure",
        "Total",
        "Accounts",
    ]
    if sessions is None or sessions.empty:
        return pd.DataFrame(columns=columns)
    remote = sessions[sessions["SourceIP"].fillna("") != ""]
    if remote.empty:
        return pd.DataFrame(columns=columns)
    from nbcatalog.enrich.geoip import lookup_ips

    counts = success_rate(remote, "SourceIP").rename(columns={"SourceIP": "IpAddress"})
    counts["Accounts"] = counts["IpAddress"].map(remote.groupby("SourceIP")["Account"].nunique())
    geo = lookup_ips(counts["IpAddress"].tolist())
    table = geo.merge(counts, on="IpAddress", how="right")
    return table[[c for c in columns if c in table.columns]].reset_index(drop=True)


def select_host(inv: Any, host: str, data: pd.DataFrame | None = None) -> Any:
    """The host to look at: `hosts.find_host`, or the frame passed as `data` when no host is given.

    Returns a `hosts.HostMatch`; with `data` and no host its `name` is None and a note
    says the rows passed in are used as they are.
    """
    from nbcatalog.nblib.hosts import HostMatch, find_host

    if data is not None and not (host or "").strip():
        found = HostMatch("Matching hosts")
        found.note("info", f"no host given: looking at the {len(data)} rows passed as data")
        return found
    return find_host(inv, host)
