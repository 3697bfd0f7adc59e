"""Windows Security events other than logons and process creation: what happened on a host.

`event_summary` counts every event ID with the accounts that raised it;
`account_events` picks the account-management events (user created, enabled,
password reset, group membership changed, ...) and says in plain words who did what
to whom; `expand_events` turns the EventData XML of chosen event IDs into columns.

EventData is written by whoever caused the event (user names, group names, command
lines), so it is parsed with defusedxml (no entity expansion, no external entities,
no DTDs) and a record that is not well-formed yields no fields rather than an error.

Example:
    >>> parse_event_data('<EventData><Data Name="TargetUserName">svc_backup</Data></EventData>')
    {'TargetUserName': 'svc_backup'}
    >>> parse_event_data('<!DOCTYPE x [<!ENTITY a "b">]><EventData>&a;</EventData>')
    {}
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from nbcatalog.nblib.entities import host_matches
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.hosts import defender_only_note
from nbcatalog.nblib.values import text_of

# Logons and process creation have their own notebooklets.
EXCLUDED_EVENTS = (4624, 4625, 4688)
MAX_EVENT_DATA_CHARS = 65536  # bigger EventData is not a real Security event: not parsed

# event ID -> (what happened, kind): kind "user", "group" or "member" says how to word it.
ACCOUNT_EVENTS: dict[int, tuple[str, str]] = {
    4720: ("created user", "user"),
    4722: ("enabled user", "user"),
    4723: ("tried to change the password of", "user"),
    4724: ("reset the password of", "user"),
    4725: ("disabled user", "user"),
    4726: ("deleted user", "user"),
    4738: ("changed user", "user"),
    4740: ("locked out user", "user"),
    4767: ("unlocked user", "user"),
    4781: ("renamed user", "user"),
    4727: ("created global group", "group"),
    4731: ("created local group", "group"),
    4754: ("created universal group", "group"),
    4730: ("deleted global group", "group"),
    4734: ("deleted local group", "group"),
    4758: ("deleted universal group", "group"),
    4735: ("changed local group", "group"),
    4737: ("changed global group", "group"),
    4755: ("changed universal group", "group"),
    4728: ("added a member to global group", "member+"),
    4732: ("added a member to local group", "member+"),
    4756: ("added a member to universal group", "member+"),
    4729: ("removed a member from global group", "member-"),
    4733: ("removed a member from local group", "member-"),
    4757: ("removed a member from universal group", "member-"),
}
ACCOUNT_COLUMNS = [
    "TimeGenerated",
    "Computer",
    "EventID",
    "Activity",
    "Subject",
    "TargetAccount",
    "Member",
    "Description",
]
_EMPTY = {"", "-", "none", "nan", "<na>"}


def parse_event_data(xml: Any) -> dict[str, str]:
    """The `<Data Name="...">value</Data>` items of an EventData (or UserData) XML text.

    Unnamed items are numbered (`Data1`, `Data2`, ...). Text that is not well-formed,
    declares entities or a DTD, or is larger than 64 kB gives an empty dict.

    Example:
        >>> parse_event_data("<EventData><Data>a</Data><Data>b</Data></EventData>")
        {'Data1': 'a', 'Data2': 'b'}
        >>> parse_event_data("<EventData><Data Name='x'>1</Data") == {}
        True
    """
    if not isinstance(xml, str) or not xml.strip() or len(xml) > MAX_EVENT_DATA_CHARS:
        return {}
    try:
        root = SafeET.fromstring(xml)
    except (SafeET.ParseError, DefusedXmlException, ValueError):
        return {}
    fields: dict[str, str] = {}
    unnamed = 0
    for element in root.iter():
        tag = element.tag.rpartition("}")[2] if isinstance(element.tag, str) else ""
        if element is root or (tag != "Data" and len(element)):
            continue
        name = element.get("Name")
        if not name:
            if tag != "Data":  # UserData: <Param>value</Param> by element name
                name = tag
            else:
                unnamed += 1
                name = f"Data{unnamed}"
        fields[str(name)] = (element.text or "").strip()
    return fields


def _text(value: Any) -> str:
    text = text_of(value)
    return "" if text.lower() in _EMPTY else text


def host_events(inv: Any, host: str | None, data: pd.DataFrame | None = None) -> Finding:
    """Security events on `host` other than logons (4624/4625) and process creation (4688).

    With `data` nothing is queried: those rows are used, limited to `host` when one
    is given.
    """
    finding = Finding(f"Security events on {host}" if host else "Security events")
    if data is not None:
        frame = data
        if host and "Computer" in frame.columns:
            frame = frame[[host_matches(host, str(c)) for c in frame["Computer"]]]
    elif not host:
        finding.note("skipped", "no single host selected (see above)")
        return finding
    else:
        found = inv.query("WindowsSecurity.list_other_events", title=finding.title, host_name=host)
        finding.notes += found.notes
        frame = found.data
        if not frame.empty and "Computer" in frame.columns:
            frame = frame[[host_matches(host, str(c)) for c in frame["Computer"]]]
    if "EventID" in frame.columns:
        ids = pd.to_numeric(frame["EventID"], errors="coerce")
        frame = frame[~ids.isin(EXCLUDED_EVENTS)].assign(EventID=ids.astype("Int64"))
    elif not frame.empty:
        finding.note("warning", "the rows have no EventID column: they are not Security events")
        frame = frame.iloc[0:0]
    if "TimeGenerated" in frame.columns:
        frame = frame.sort_values("TimeGenerated", kind="stable")
    finding.data = frame.reset_index(drop=True)
    finding.columns = ["TimeGenerated", "Computer", "EventID", "Activity", "Account"]
    if finding.empty and not finding.missing:
        where = f"on {host} in {inv.period}" if data is None else "in the rows passed in"
        finding.note(
            "info",
            (defender_only_note(inv, host, "SecurityEvent") if data is None else None)
            or f"no Security events other than logons and processes {where}",
        )
    return finding


def _account(frame: pd.DataFrame, column: str, domain: str, user: str) -> pd.Series:
    """`column` when the rows have it, else DOMAIN\\user from two columns."""
    if column in frame.columns:
        values = frame[column].map(_text)
        if values.ne("").any():
            return values
    if user in frame.columns:
        users = frame[user].map(_text)
        domains = frame[domain].map(_text) if domain in frame.columns else ""
        return (domains + "\\" + users).where(domains.ne("") & users.ne(""), users)
    return pd.Series("", index=frame.index)


def event_summary(events: pd.DataFrame) -> pd.DataFrame:
    """One row per event ID: Activity, Events, Accounts (distinct), AccountNames, first/last seen.

    Example:
        >>> ev = pd.DataFrame({"EventID": [4720, 4720], "Activity": ["4720 - created"] * 2,
        ...                    "Account": ["CONTOSO\\\\bob", "CONTOSO\\\\bob"],
        ...                    "TimeGenerated": pd.to_datetime(["2024-05-01"] * 2, utc=True)})
        >>> event_summary(ev)[["EventID", "Events", "AccountNames"]].values.tolist()
        [[4720, 2, 'CONTOSO\\\\bob']]
    """
    columns = ["EventID", "Activity", "Events", "Accounts", "AccountNames", "FirstSeen", "LastSeen"]
    if events is None or events.empty or "EventID" not in events.columns:
        return pd.DataFrame(columns=columns)
    frame = events.assign(
        Activity=events["Activity"].map(_text) if "Activity" in events.columns else "",
        Account=_account(events, "Account", "SubjectDomainName", "SubjectUserName"),
        TimeGenerated=pd.to_datetime(
            events.get("TimeGenerated", pd.Series(pd.NaT, index=events.index)), utc=True
        ),
    )

    def names(accounts: pd.Series) -> str:
        counts = accounts[accounts != ""].value_counts()
        shown = ", ".join(counts.index[:5])
        return shown + (f" and {len(counts) - 5} more" if len(counts) > 5 else "")

    table = (
        frame.groupby("EventID", dropna=False)
        .agg(
            Activity=("Activity", "first"),
            Events=("EventID", "size"),
            Accounts=("Account", lambda s: s[s != ""].nunique()),
            AccountNames=("Account", names),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
    )
    return table.sort_values(["Events", "EventID"], ascending=[False, True])[columns].reset_index(
        drop=True
    )


def _with_event_data(events: pd.DataFrame) -> pd.DataFrame:
    """The rows with EventData fields filling columns the table lacks or leaves empty."""
    if "EventData" not in events.columns:
        return events
    parsed = pd.DataFrame([parse_event_data(x) for x in events["EventData"]], index=events.index)
    frame = events.copy()
    for name in parsed.columns:
        if name in frame.columns:
            own = frame[name].map(_text)
            frame[name] = frame[name].where(own != "", parsed[name])
        else:
            frame[name] = parsed[name]
    return frame


def account_events(events: pd.DataFrame) -> pd.DataFrame:
    """Account-management events with who did what to whom, in plain words.

    A group member named only by SID (Windows writes MemberName "-" for local
    accounts) is named from a "user created" event in the same rows when there is one.

    Example:
        >>> ev = pd.DataFrame({"EventID": [4732], "SubjectAccount": ["CONTOSO\\\\bob"],
        ...                    "TargetAccount": ["Builtin\\\\Administrators"],
        ...                    "MemberName": ["-"], "MemberSid": ["S-1-5-21-1-1009"]})
        >>> account_events(ev)["Description"].tolist()
        ['CONTOSO\\\\bob added S-1-5-21-1-1009 to local group Builtin\\\\Administrators']
    """
    if events is None or events.empty or "EventID" not in events.columns:
        return pd.DataFrame(columns=ACCOUNT_COLUMNS)
    events = events.reset_index(drop=True)  # analysts' frames may repeat index labels
    ids = pd.to_numeric(events["EventID"], errors="coerce")
    frame = _with_event_data(events[ids.isin(list(ACCOUNT_EVENTS))])
    if frame.empty:
        return pd.DataFrame(columns=ACCOUNT_COLUMNS)
    ids = pd.to_numeric(frame["EventID"], errors="coerce").astype(int)
    subject = _account(frame, "SubjectAccount", "SubjectDomainName", "SubjectUserName")
    subject = subject.where(subject != "", _account(frame, "Account", "", ""))
    target = _account(frame, "TargetAccount", "TargetDomainName", "TargetUserName")
    sid_names = _sid_names(frame, ids, target)
    member_name = _account(frame, "MemberName", "", "")
    member_sid = _account(frame, "MemberSid", "", "")
    member = member_name.where(member_name != "", member_sid.map(lambda s: sid_names.get(s, s)))
    rows = []
    for i, event_id, who, whom, added in zip(
        frame.index, ids, subject, target, member, strict=True
    ):
        verb, kind = ACCOUNT_EVENTS[event_id]
        who = who or "someone"
        if kind == "member+":
            text = f"{who} added {added or 'an account'} to {verb.split(' to ')[-1]} {whom}"
        elif kind == "member-":
            text = f"{who} removed {added or 'an account'} from {verb.split(' from ')[-1]} {whom}"
        else:
            text = f"{who} {verb} {whom}"
        rows.append(
            {"index": i, "Member": added if kind.startswith("member") else "", "Desc": text}
        )
    extra = pd.DataFrame(rows).set_index("index")
    table = pd.DataFrame(
        {
            "TimeGenerated": frame.get("TimeGenerated"),
            "Computer": frame.get("Computer"),
            "EventID": ids,
            "Activity": frame["Activity"] if "Activity" in frame.columns else ids.astype(str),
            "Subject": subject,
            "TargetAccount": target,
            "Member": extra["Member"],
            "Description": extra["Desc"],
        },
        index=frame.index,
    )
    if "TimeGenerated" in table.columns:
        table = table.sort_values("TimeGenerated", kind="stable")
    return table[ACCOUNT_COLUMNS].reset_index(drop=True)


def _sid_names(frame: pd.DataFrame, ids: pd.Series, target: pd.Series) -> dict[str, str]:
    """SID -> account name, from the "user created" and user-change events in `frame`."""
    sid_column = next((c for c in ("TargetSid", "TargetUserSid") if c in frame.columns), None)
    if sid_column is None:
        return {}
    users = frame[ids.map(lambda i: ACCOUNT_EVENTS[i][1] == "user")]
    return {
        _text(sid): name
        for sid, name in zip(users[sid_column], target[users.index], strict=True)
        if _text(sid) and name
    }


def account_pivot(accounts: pd.DataFrame) -> pd.DataFrame:
    """Account events counted per Activity, TargetAccount and Subject, with first/last time.

    Example:
        >>> ev = pd.DataFrame({"Activity": ["4720 - created"], "TargetAccount": ["svc"],
        ...                    "Subject": ["bob"], "TimeGenerated": [pd.Timestamp(0)]})
        >>> account_pivot(ev)[["Activity", "Events"]].values.tolist()
        [['4720 - created', 1]]
    """
    keys = ["Activity", "TargetAccount", "Subject"]
    columns = [*keys, "Events", "FirstSeen", "LastSeen"]
    if accounts is None or accounts.empty:
        return pd.DataFrame(columns=columns)
    return (
        accounts.groupby(keys, dropna=False)
        .agg(
            Events=("Activity", "size"),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
        .sort_values(["FirstSeen", *keys])[columns]
        .reset_index(drop=True)
    )


EXPANDED_BASE = ["TimeGenerated", "Computer", "EventID", "Activity", "Account"]


def expand_events(events: pd.DataFrame, event_ids: list[int] | None = None) -> Finding:
    """The events with the chosen IDs, their EventData fields as columns.

    With no `event_ids` the account-management events present are expanded. A field
    whose name repeats a base column is prefixed `EventData.`.
    """
    finding = Finding("Expanded events")
    if events is None or events.empty or "EventID" not in events.columns:
        finding.note("info", "no events to expand")
        return finding
    ids = pd.to_numeric(events["EventID"], errors="coerce")
    wanted, bad = _event_ids(event_ids or [])
    if bad:
        finding.note("warning", f"not event IDs, ignored: {', '.join(bad)}")
    if not event_ids:
        wanted = sorted(set(ids.dropna().astype(int)) & set(ACCOUNT_EVENTS))
    rows = events[ids.isin(wanted)]
    finding.title = (
        f"Expanded events {', '.join(str(i) for i in wanted)}" if wanted else finding.title
    )
    if rows.empty:
        finding.note("info", f"no events with ID {', '.join(map(str, wanted)) or '(none)'}")
        return finding
    if "EventData" not in rows.columns:
        finding.note("missing", "the events have no EventData column to expand")
        return finding
    base = rows[[c for c in EXPANDED_BASE if c in rows.columns]].reset_index(drop=True)
    parsed = pd.DataFrame([parse_event_data(x) for x in rows["EventData"]])
    parsed.columns = [f"EventData.{c}" if c in base.columns else c for c in parsed.columns]
    unreadable = sum(
        1 for x in rows["EventData"] if isinstance(x, str) and x.strip() and not parse_event_data(x)
    )
    if unreadable:
        finding.note(
            "warning", f"{unreadable} EventData value(s) were not well-formed XML: no fields"
        )
    finding.data = pd.concat([base, parsed], axis=1)
    return finding


def _event_ids(values: list[Any]) -> tuple[list[int], list[str]]:
    """Event IDs from a parameter list ("4720" or 4720); the values that are not IDs."""
    wanted, bad = [], []
    for value in values:
        text = str(value).strip()
        if text.isdigit() and 0 < int(text) < 65536:
            wanted.append(int(text))
        else:
            bad.append(repr(text)[:40])
    return wanted, bad
