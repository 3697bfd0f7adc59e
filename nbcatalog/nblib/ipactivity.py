"""What one IP address did beyond logons: Azure and Office 365 activity, firewall and
proxy logs (CommonSecurityLog), and the accounts seen from it.

ip_summary's sections after the logons. Each step returns a `Finding` whose notes say
when a table is absent from the data source or when the address did nothing there,
so a section never reads as "all clear" by being empty. Addresses are matched
exactly and bound as query parameters, never written into query text.

Example (in a template):
    azure = nblib.ipactivity.azure_activity_from_ip(inv, "203.0.113.77")
    office = nblib.ipactivity.office_activity_from_ip(inv, "203.0.113.77")
    cef = nblib.ipactivity.security_log_for_ip(inv, "203.0.113.77")
    accounts = nblib.ipactivity.accounts_from_ip(logons.data, azure.data, office.data, cef.data)

    >>> accounts_from_ip(pd.DataFrame({"Account": ["bob"], "Source": ["Windows"],
    ...     "Result": ["Success"], "TimeGenerated": pd.to_datetime(["2024-05-01"], utc=True)})
    ...     ).data[["Account", "Successes"]].values.tolist()
    [['bob', 1]]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nbcatalog.nblib.accountdetail import (
    AZURE_COLUMNS,
    BURST_WINDOW,
    OFFICE_COLUMNS,
    office_bursts,
)
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.values import first_column, text_of

SECURITY_LOG = "CommonSecurityLog"
# msticpy's Sentinel query for CEF events from or to an address.
SECURITY_LOG_QUERY = "Network.ip_network_connections_csl"
# Sentinel's CommonSecurityLog columns shown, when the table has them.
SECURITY_LOG_COLUMNS = [
    "TimeGenerated",
    "DeviceVendor",
    "DeviceProduct",
    "Activity",
    "Direction",
    "SourceIP",
    "SourcePort",
    "DestinationIP",
    "DestinationPort",
    "Protocol",
    "DeviceAction",
    "SourceUserName",
    "RequestURL",
]
SECURITY_SUMMARY_COLUMNS = [
    "DeviceVendor",
    "Activity",
    "DeviceAction",
    "Direction",
    "Events",
    "Peers",
    "Ports",
    "FirstSeen",
    "LastSeen",
]
ACCOUNT_COLUMNS = [
    "Account",
    "Sources",
    "Successes",
    "Failures",
    "Operations",
    "FirstSeen",
    "LastSeen",
]
# Role and access changes: the Azure operations an intruder uses to stay.
SENSITIVE_AZURE = "roleAssignments/write|roleDefinitions/write|elevateAccess"
# Bound, never formatted: the address is a parameter; table and column names are Sentinel's.
_SECURITY_SQL = (
    'SELECT * FROM "CommonSecurityLog" '
    "WHERE TimeGenerated >= $start AND TimeGenerated <= $end "
    "AND (SourceIP = $ip OR DestinationIP = $ip) ORDER BY TimeGenerated"
)
# Texts sources write for "no account" (CEF writes '-', Windows writes '-' too).
_NO_ACCOUNT = {"", "-", "n/a", "none", "nan", "(unknown)", "unknown"}


def _joined(values: Any) -> str:
    return ", ".join(dict.fromkeys(t for t in map(text_of, values) if t))


def _nothing_found(found: Finding, columns: list[str], message: str) -> bool:
    """True when `found` is empty: its frame gets `columns`, and `message` as an info
    note unless a note (missing table, error) already says why."""
    if not found.empty:
        return False
    found.data = pd.DataFrame(columns=columns)
    if not found.notes:
        found.note("info", message)
    return True


def azure_activity_from_ip(inv: Any, ip: str) -> Finding:
    """Azure control-plane operations called from `ip` (AzureActivity.CallerIpAddress).

    Role or access changes are a ``finding`` note: an Owner role granted from an
    attacker's address is how an intrusion outlives a password reset.

    Example:
        azure_activity_from_ip(inv, "203.0.113.77")   # the Owner role assignment
    """
    found = inv.query(
        "Azure.list_azure_activity_for_ip", title="Azure activity", ip_address_list=[ip]
    )
    found.columns = AZURE_COLUMNS[:7]
    if _nothing_found(found, AZURE_COLUMNS, f"no Azure activity called from {ip} in {inv.period}"):
        return found
    operations = first_column(found.data, "OperationNameValue").astype(str)
    sensitive = found.data[operations.str.contains(SENSITIVE_AZURE, case=False, regex=True)]
    if not sensitive.empty:
        found.note(
            "finding",
            f"{len(sensitive)} role or access change(s) called from {ip}: "
            f"{_joined(sensitive['OperationNameValue'])} by {_joined(sensitive['Caller'])}",
        )
    return found


def office_activity_from_ip(inv: Any, ip: str) -> Finding:
    """Office 365 operations from `ip` (OfficeActivity.ClientIP); a burst of one
    operation (mass download) is a ``finding`` note.

    Example:
        office_activity_from_ip(inv, "203.0.113.77")   # 60 FileDownloaded in 10 minutes
    """
    found = inv.query(
        "Office365.list_activity_for_ip", title="Office 365 activity", ip_address_list=[ip]
    )
    found.columns = OFFICE_COLUMNS[:7]
    if _nothing_found(found, OFFICE_COLUMNS, f"no Office 365 activity from {ip} in {inv.period}"):
        return found
    minutes = int(BURST_WINDOW.total_seconds() // 60)
    for burst in office_bursts(found.data).itertuples():
        users = found.data.loc[found.data["Operation"] == burst.Operation, "UserId"]
        found.note(
            "finding",
            f"{burst.Count} {burst.Operation} operations in {minutes} minutes from {ip} "
            f"by {_joined(users)}, starting {burst.Start:%Y-%m-%d %H:%M} UTC",
        )
    return found


def activity_summary(azure: pd.DataFrame, office: pd.DataFrame) -> pd.DataFrame:
    """Azure and Office operations from the address in one table, busiest first:
    Source, Operation, Operations (count), Accounts, FirstSeen, LastSeen.

    Example:
        >>> t = pd.to_datetime(["2024-05-01"], utc=True)
        >>> office = pd.DataFrame({"TimeGenerated": t, "OfficeWorkload": ["SharePoint"],
        ...     "Operation": ["FileDownloaded"], "UserId": ["bob@contoso.com"]})
        >>> activity_summary(pd.DataFrame(), office)[["Source", "Operations"]].values.tolist()
        [['Office 365', 1]]
    """
    columns = ["Source", "Operation", "Operations", "Accounts", "FirstSeen", "LastSeen"]
    parts = []
    for label, frame, operation, account in (
        ("Azure", azure, "OperationNameValue", "Caller"),
        ("Office 365", office, "Operation", "UserId"),
    ):
        if frame is None or frame.empty:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "Source": label,
                    "Operation": first_column(frame, operation).map(text_of),
                    "Account": first_column(frame, account).map(text_of),
                    "TimeGenerated": pd.to_datetime(frame["TimeGenerated"], utc=True),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=columns)
    table = (
        pd.concat(parts, ignore_index=True)
        .groupby(["Source", "Operation"])
        .agg(
            Operations=("TimeGenerated", "size"),
            Accounts=("Account", _joined),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
        .sort_values("Operations", ascending=False, kind="stable")
    )
    return table[columns].reset_index(drop=True)


def security_log_for_ip(inv: Any, ip: str) -> Finding:
    """Firewall, proxy and IDS events (CommonSecurityLog, CEF) from or to `ip`.

    On the embedded store a bound SQL search; on msticpy sources msticpy's
    ``Network.ip_network_connections_csl``. Rows gain ``Direction``: ``from`` when
    the address is the source, ``to`` when it is the destination. A source without
    the table gets a ``missing`` note. msticpy's query keeps its default vendor list
    (Palo Alto, Fortinet, Cisco, Check Point); the store's search keeps every vendor.

    Example:
        security_log_for_ip(inv, "192.0.2.66")
    """
    from nbcatalog.nblib.queries import has_table

    title = "Firewall and proxy events (CommonSecurityLog)"
    if has_table(inv.source, SECURITY_LOG) is False:
        found = Finding(title, pd.DataFrame(columns=SECURITY_LOG_COLUMNS))
        found.note("missing", f"no {SECURITY_LOG} table in this data source")
        return found
    from nbcatalog.data.source import is_embedded_store

    if is_embedded_store(inv.source):
        # The embedded store: every vendor, where the library query keeps msticpy's four.
        found = _security_log_sql(inv, ip, title)
    else:
        found = inv.query(SECURITY_LOG_QUERY, title=title, ip_address=ip)
    message = f"no {SECURITY_LOG} event from or to {ip} in {inv.period}"
    if _nothing_found(found, SECURITY_LOG_COLUMNS, message):
        found.columns = SECURITY_LOG_COLUMNS
        return found
    rows = found.data
    rows = rows.assign(
        Direction=["from" if text_of(s) == ip else "to" for s in first_column(rows, "SourceIP")]
    )
    found.data = rows
    found.columns = [c for c in SECURITY_LOG_COLUMNS if c in rows.columns]
    blocked = (
        first_column(rows, "DeviceAction")
        .astype(str)
        .str.contains("block|deny|drop|reject", case=False, regex=True)
    )
    if blocked.any():
        found.note("info", f"{int(blocked.sum())} of {len(rows)} event(s) blocked or denied")
    return found


def _security_log_sql(inv: Any, ip: str, title: str) -> Finding:
    """The CommonSecurityLog search as bound SQL on the embedded store."""
    from nbcatalog.errors import DataSourceError

    found = Finding(title)
    try:
        found.data = inv.source.sql(_SECURITY_SQL, {"start": inv.start, "end": inv.end, "ip": ip})
    except DataSourceError as exc:
        found.note("missing", f"{SECURITY_LOG} could not be searched: {str(exc).splitlines()[0]}")
    return found


def security_log_summary(events: pd.DataFrame) -> pd.DataFrame:
    """CommonSecurityLog events counted per vendor, activity, action and direction,
    with the peer addresses and destination ports (busiest first).

    Example:
        >>> e = pd.DataFrame({"TimeGenerated": pd.to_datetime(["2024-05-01"] * 2, utc=True),
        ...     "DeviceVendor": ["Palo Alto Networks"] * 2, "Activity": ["TRAFFIC"] * 2,
        ...     "DeviceAction": ["allow"] * 2, "Direction": ["to"] * 2,
        ...     "SourceIP": ["10.0.0.5", "10.0.0.6"], "DestinationIP": ["192.0.2.66"] * 2,
        ...     "DestinationPort": [4444, 4444]})
        >>> security_log_summary(e)[["Events", "Peers", "Ports"]].values.tolist()
        [[2, '10.0.0.5, 10.0.0.6', '4444']]
    """
    if events is None or events.empty:
        return pd.DataFrame(columns=SECURITY_SUMMARY_COLUMNS)
    keys = ["DeviceVendor", "Activity", "DeviceAction", "Direction"]
    frame = pd.DataFrame({k: first_column(events, k).map(text_of) for k in keys})
    outgoing = frame["Direction"] == "from"
    # The peer is the other end: the destination when the address sent, else the source.
    frame["Peer"] = first_column(events, "DestinationIP").where(
        outgoing, first_column(events, "SourceIP")
    )
    frame["Port"] = first_column(events, "DestinationPort").map(
        lambda p: text_of(int(p)) if isinstance(p, float) and p == p else text_of(p)
    )
    frame["TimeGenerated"] = pd.to_datetime(events["TimeGenerated"], utc=True)
    table = (
        frame.groupby(keys)
        .agg(
            Events=("TimeGenerated", "size"),
            Peers=("Peer", _joined),
            Ports=("Port", _joined),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
        .sort_values("Events", ascending=False, kind="stable")
    )
    return table[SECURITY_SUMMARY_COLUMNS].reset_index(drop=True)


def _account_rows(
    logons: pd.DataFrame | None,
    azure: pd.DataFrame | None,
    office: pd.DataFrame | None,
    security_log: pd.DataFrame | None,
) -> pd.DataFrame:
    """One row per thing an account did from the address: Account, Source, Kind
    (success / failure / operation), TimeGenerated."""
    parts = []
    if logons is not None and not logons.empty:
        result = first_column(logons, "Result").map(text_of)
        parts.append(
            pd.DataFrame(
                {
                    "Account": first_column(logons, "Account"),
                    "Source": first_column(logons, "Source").map(lambda s: f"{text_of(s)} logon"),
                    "Kind": result.map({"Success": "success", "Failure": "failure"}).fillna(
                        "other"
                    ),
                    "TimeGenerated": logons["TimeGenerated"],
                }
            )
        )
    for label, frame, column in (
        ("Azure activity", azure, "Caller"),
        ("Office 365", office, "UserId"),
    ):
        if frame is not None and not frame.empty:
            parts.append(
                pd.DataFrame(
                    {
                        "Account": first_column(frame, column),
                        "Source": label,
                        "Kind": "operation",
                        "TimeGenerated": frame["TimeGenerated"],
                    }
                )
            )
    if security_log is not None and not security_log.empty:
        # Only the events the address itself sent: the user name is then the sender's.
        sent = security_log[first_column(security_log, "Direction") == "from"]
        parts.append(
            pd.DataFrame(
                {
                    "Account": first_column(sent, "SourceUserName"),
                    "Source": SECURITY_LOG,
                    "Kind": "operation",
                    "TimeGenerated": sent["TimeGenerated"],
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["Account", "Source", "Kind", "TimeGenerated"])
    rows = pd.concat(parts, ignore_index=True)
    rows["Account"] = rows["Account"].map(text_of)
    rows["TimeGenerated"] = pd.to_datetime(rows["TimeGenerated"], utc=True, errors="coerce")
    return rows[~rows["Account"].str.casefold().isin(_NO_ACCOUNT)]


def accounts_from_ip(
    logons: pd.DataFrame | None,
    azure: pd.DataFrame | None = None,
    office: pd.DataFrame | None = None,
    security_log: pd.DataFrame | None = None,
    ip: str = "the address",
) -> Finding:
    """The accounts seen from the address: logon attempts (successes, failures), Azure
    and Office operations and CEF events they sent, one row per account, accounts that
    got in first. Many accounts failing from one address is a ``finding`` note (a
    spray or brute force), and so is an account that got in after failures.

    Example:
        accounts_from_ip(logons.data, azure.data, office.data, cef.data, "203.0.113.77")
    """
    found = Finding("Accounts seen from the address", columns=ACCOUNT_COLUMNS)
    rows = _account_rows(logons, azure, office, security_log)
    if rows.empty:
        found.data = pd.DataFrame(columns=ACCOUNT_COLUMNS)
        found.note("info", f"no account seen from {ip} (logons, Azure, Office, CEF)")
        return found
    table = (
        rows.assign(
            success=rows["Kind"] == "success",
            failure=rows["Kind"] == "failure",
            operation=rows["Kind"] == "operation",
        )
        .groupby("Account")
        .agg(
            Sources=("Source", _joined),
            Successes=("success", "sum"),
            Failures=("failure", "sum"),
            Operations=("operation", "sum"),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
        .sort_values(["Successes", "Operations", "Failures"], ascending=False, kind="stable")
    )
    found.data = table[ACCOUNT_COLUMNS].reset_index(drop=True)
    failing = found.data[found.data["Failures"] > 0]
    if len(failing) >= 5:
        found.note("finding", f"{len(failing)} accounts failed to log on from {ip}")
    got_in = found.data[(found.data["Failures"] > 0) & (found.data["Successes"] > 0)]
    if not got_in.empty:
        found.note(
            "finding",
            f"logged on after failures from {ip}: {_joined(got_in['Account'])}",
        )
    return found
