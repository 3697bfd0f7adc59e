"""Find every account matching a name, across sign-ins, Windows and Linux logons.

`bob` is `bob@contoso.com` in Entra ID sign-ins, `CONTOSO\\bob` in Windows logons
and `bob` on a Linux host; `bobby.jones` is someone else. `find_accounts` queries
each source with msticpy's per-account queries, keeps only exact matches (see
`entities.account_matches`) and gives each account an `AccountId` such as
`windows:contoso\\bob` that the analyst can pass back as `account_id` to select it.
`account_activity` then summarises the selected accounts' activity per source.
Linux logons are the attempts of the logon-attempt model (`nblib.attempts`) on the
hosts whose logon lines name the account, so they count as host_logons_summary's.

Example (in a template):
    accounts = nblib.accounts.find_accounts(inv, account, account_id=account_id)
    activity = nblib.accounts.account_activity(accounts)
    glue("account_activity", activity.data)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbcatalog.nblib.entities import AccountName, account_matches, closest
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.logons import linux_logons_on
from nbcatalog.nblib.queries import known_values
from nbcatalog.nblib.values import first_column, text_of

# option name -> (source label, AccountId prefix, query)
SOURCES = {
    "signins": ("Entra ID sign-ins", "entra", "Azure.list_aad_signins_for_account"),
    "windows": ("Windows logons", "windows", "WindowsSecurity.list_logon_attempts_by_account"),
    "linux": ("Linux logons", "linux", "LinuxSyslog.list_logons_for_account"),
}
EVENT_COLUMNS = [
    "TimeGenerated",
    "Source",
    "AccountId",
    "Account",
    "Host",
    "IpAddress",
    "Result",
    "Detail",
]
MATCH_COLUMNS = ["AccountId", "Account", "Source", "Events", "FirstSeen", "LastSeen"]


@dataclass
class AccountMatches(Finding):
    """Accounts matching a name (`data`, one row per AccountId) and their events.

    `selected` holds the AccountIds the rest of the notebooklet looks at: the one
    picked with `account_id` or an exact qualified name, else every match.
    """

    wanted: str = ""
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EVENT_COLUMNS))
    selected: list[str] = field(default_factory=list)

    @property
    def selected_events(self) -> pd.DataFrame:
        return self.events[self.events["AccountId"].isin(self.selected)]

    @property
    def name(self) -> str | None:
        """The name to search alerts and bookmarks with: the one selected account's
        name, else the name the analyst typed; None when nothing matched."""
        if self.data.empty:
            return None
        names = self.selected_accounts
        return names[0] if len(names) == 1 else self.wanted or None

    @property
    def selected_accounts(self) -> list[str]:
        """Account names (as logs spell them) of the selected accounts."""
        rows = self.data[self.data["AccountId"].isin(self.selected)]
        return list(dict.fromkeys(rows["Account"]))


def _signin_events(frame: pd.DataFrame) -> pd.DataFrame:
    result = first_column(frame, "ResultType").fillna("").astype(str)
    return pd.DataFrame(
        {
            "TimeGenerated": first_column(frame, "TimeGenerated"),
            "Account": first_column(frame, "UserPrincipalName"),
            "Host": first_column(frame, "AppDisplayName"),
            "IpAddress": first_column(frame, "IPAddress"),
            "Result": result.map(lambda r: "Success" if r in ("0", "") else "Failure"),
            "Detail": first_column(frame, "Location"),
        }
    )


def _windows_events(frame: pd.DataFrame) -> pd.DataFrame:
    if "Account" in frame.columns:
        names = frame["Account"]
    else:
        domain = first_column(frame, "TargetDomainName").fillna("").astype(str)
        names = domain + "\\" + first_column(frame, "TargetUserName").fillna("").astype(str)
    event_id = pd.to_numeric(first_column(frame, "EventID"), errors="coerce")
    return pd.DataFrame(
        {
            "TimeGenerated": first_column(frame, "TimeGenerated"),
            "Account": names,
            "Host": first_column(frame, "Computer"),
            "IpAddress": first_column(frame, "IpAddress"),
            "Result": event_id.map({4624: "Success", 4625: "Failure"}).fillna("Other"),
            "Detail": first_column(frame, "LogonTypeName", "LogonType"),
        }
    )


def _linux_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Linux logon attempts (`logons.linux_logons` rows) as account events."""
    return pd.DataFrame(
        {
            "TimeGenerated": first_column(frame, "TimeGenerated"),
            "Account": first_column(frame, "Account"),
            "Host": first_column(frame, "Computer"),
            "IpAddress": first_column(frame, "SourceIP"),
            "Result": first_column(frame, "LogonResult"),
            "Detail": first_column(frame, "LogonTypeName"),
        }
    )


def _linux_logons(inv: Any, name: str, label: str) -> Finding:
    """Linux logon attempts on every host with a logon line naming `name`, counted by
    the logon-attempt model on each host's lines (as host_logons_summary counts them).

    The account queries find the hosts; the caller keeps the attempts of the account.
    """
    ok = inv.query(SOURCES["linux"][2], title=label, account_name=name)
    bad = inv.query("LinuxSyslog.list_account_logon_failures", title=label, account_name=name)
    hosts = [text_of(c) for part in (ok.data, bad.data) for c in first_column(part, "Computer")]
    # Only this account's attempts are kept: the store returns the lines they need.
    return Finding(label, linux_logons_on(inv, hosts, account=name).data, notes=list(ok.notes))


_NORMALISE = {"signins": _signin_events, "windows": _windows_events, "linux": _linux_events}


def account_id(prefix: str, name: str) -> str:
    """The stable id of an account in one source.

    Example:
        >>> account_id("windows", "CONTOSO\\\\Bob")
        'windows:contoso\\\\bob'
    """
    return f"{prefix}:{str(name).strip().casefold()}"


def enabled_sources(inv: Any) -> tuple[str, ...]:
    """The account sources (signins, windows, linux) whose options are on."""
    return tuple(option for option in SOURCES if inv.wants(option))


def find_accounts(
    inv: Any,
    account: str,
    *,
    account_id: str = "",
    sources: tuple[str, ...] = ("signins", "windows", "linux"),
) -> AccountMatches:
    """Accounts matching `account` in each of `sources` (option names of SOURCES).

    `account_id` (or an exact `DOMAIN\\name` / `name@domain` in `account`) selects one.
    """
    found = AccountMatches("Matching accounts", columns=MATCH_COLUMNS, wanted=account or "")
    found.data = pd.DataFrame(columns=MATCH_COLUMNS)
    account = (account or "").strip()
    if not account and not account_id:
        found.note(
            "warning",
            "no account given: pass account='bob' (also bob@contoso.com or CONTOSO\\bob)",
        )
        return found
    wanted = account or account_id.partition(":")[2]
    found.wanted = wanted
    bare = AccountName.parse(wanted).user
    frames = []
    unmatched = []
    for option in sources:
        label, prefix, query = SOURCES[option]
        result = (
            _linux_logons(inv, bare, label)
            if option == "linux"
            else inv.query(query, title=label, account_name=bare)
        )
        found.notes += result.notes
        events = _NORMALISE[option](result.data) if not result.empty else None
        if events is not None:
            events = events[[account_matches(wanted, str(n)) for n in events["Account"].fillna("")]]
        if events is None or events.empty:
            if not result.missing:
                unmatched.append(label)
            continue
        events = events.assign(Source=label, AccountId=[_id(prefix, n) for n in events["Account"]])
        frames.append(events)
    if unmatched and len(unmatched) < len(sources):
        found.note("info", f"no account named {wanted!r} in {', '.join(unmatched)}")
    if frames:
        found.events = pd.concat(frames, ignore_index=True)[EVENT_COLUMNS]
        found.events["TimeGenerated"] = pd.to_datetime(found.events["TimeGenerated"], utc=True)
        found.events = found.events.sort_values("TimeGenerated").reset_index(drop=True)
    found.data = _matches_table(found.events)
    if found.data.empty:
        _no_match_note(inv, found, wanted, sources)
        return found
    _select(found, account, account_id)
    return found


def _id(prefix: str, name: Any) -> str:
    return account_id(prefix, name)


def _matches_table(events: pd.DataFrame) -> pd.DataFrame:
    if events.empty:
        return pd.DataFrame(columns=MATCH_COLUMNS)
    table = (
        events.groupby(["AccountId", "Source"])
        .agg(
            Account=("Account", "first"),
            Events=("TimeGenerated", "size"),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
    )
    return table[MATCH_COLUMNS].sort_values("AccountId").reset_index(drop=True)


def _select(found: AccountMatches, account: str, wanted_id: str) -> None:
    ids = list(found.data["AccountId"])
    if wanted_id:
        wanted_id = wanted_id.strip().casefold()
        if wanted_id in ids:
            found.selected = [wanted_id]
            return
        found.selected = ids
        found.note(
            "warning",
            f"no account with id {wanted_id!r} among the matches; showing every match. "
            f"Accepted ids: {', '.join(ids)}",
        )
        return
    exact = [
        i
        for i, name in zip(ids, found.data["Account"], strict=True)
        if ("@" in account or "\\" in account) and str(name).casefold() == account.casefold()
    ]
    found.selected = exact or ids
    if len(found.selected) > 1:
        found.note(
            "info",
            f"{len(ids)} accounts match {account!r}; showing them all. Pick one with "
            f"account_id= one of: {', '.join(ids)}",
        )


def _no_match_note(inv: Any, found: AccountMatches, wanted: str, sources: tuple[str, ...]) -> None:
    labels = ", ".join(SOURCES[s][0] for s in sources)
    known: list[str] = []
    for table, column in (
        ("SigninLogs", "UserPrincipalName"),
        ("SecurityEvent", "TargetUserName"),
        ("SecurityEvent", "Account"),
    ):
        known += known_values(inv.source, table, column) or []
    near = closest(wanted, known) or closest(AccountName.parse(wanted).user, known)
    hint = f"; closest names: {', '.join(near)}" if near else ""
    found.note("warning", f"no account named {wanted!r} in {labels} in {inv.period}{hint}")


ACTIVITY_COLUMNS = [
    "Source",
    "AccountId",
    "Account",
    "Events",
    "Successes",
    "Failures",
    "FirstSeen",
    "LastSeen",
    "Hosts",
    "IpAddresses",
]


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted({str(v) for v in values.dropna() if str(v)}))


def account_activity(found: AccountMatches) -> Finding:
    """Recent activity of the selected accounts, one row per source and account.

    Hosts are the machines (or, for sign-ins, the applications) used; IpAddresses the
    addresses the activity came from.
    """
    activity = Finding("Recent activity by source", columns=ACTIVITY_COLUMNS)
    events = found.selected_events
    if events.empty:
        activity.data = pd.DataFrame(columns=ACTIVITY_COLUMNS)
        activity.note("info", "no activity to summarise for the selected accounts")
        return activity
    grouped = events.groupby(["Source", "AccountId"])
    table = grouped.agg(
        Account=("Account", "first"),
        Events=("TimeGenerated", "size"),
        Successes=("Result", lambda r: int((r == "Success").sum())),
        Failures=("Result", lambda r: int((r == "Failure").sum())),
        FirstSeen=("TimeGenerated", "min"),
        LastSeen=("TimeGenerated", "max"),
        Hosts=("Host", _joined),
        IpAddresses=("IpAddress", _joined),
    ).reset_index()
    activity.data = table[ACTIVITY_COLUMNS]
    return activity
