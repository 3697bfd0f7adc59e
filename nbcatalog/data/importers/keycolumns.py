"""The columns a table's rows cannot do without, and the check that a file has them.

A table's key columns are TimeGenerated plus the ones its queries select rows by
(the host of a Windows event, the name and severity of an alert, the addresses of
a flow). Each key is a group of alternatives: it is there when any column of the
group holds a value in at least one row. An export whose rows lack a key (the
column is absent, or empty in every row, often because it came under another
name and was dropped) would be stored and then never found by any query, so the
import fails instead, naming what is missing.

Example:
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"TimeGenerated": ["2024-03-04T10:00:00Z"], "AlertName": [""]})
    >>> missing_keys("SecurityAlert", rows)
    ['AlertName or DisplayName (empty in every row)', 'AlertSeverity (not in the file)']
"""

from __future__ import annotations

import pandas as pd

from nbcatalog.data.importers.coerce import is_null

# table -> key groups (any column of a group with a value satisfies it)
KEY_COLUMNS: dict[str, tuple[tuple[str, ...], ...]] = {
    "SecurityEvent": (("TimeGenerated",), ("Computer",), ("EventID",)),
    "Event": (("TimeGenerated",), ("Computer",), ("EventID",)),
    "Syslog": (("TimeGenerated",), ("Computer", "HostName"), ("SyslogMessage",)),
    "SigninLogs": (
        ("TimeGenerated",),
        ("UserPrincipalName", "UserId", "Identity", "UserDisplayName"),
    ),
    "AuditLogs": (("TimeGenerated",), ("OperationName", "ActivityDisplayName")),
    "AzureActivity": (("TimeGenerated",), ("OperationNameValue", "OperationName")),
    "OfficeActivity": (("TimeGenerated",), ("Operation",), ("UserId", "UserKey")),
    "SecurityAlert": (("TimeGenerated",), ("AlertName", "DisplayName"), ("AlertSeverity",)),
    "HuntingBookmark": (("TimeGenerated",), ("BookmarkName", "BookmarkId")),
    "Heartbeat": (("TimeGenerated",), ("Computer",)),
    # M365D.host_connections and find_host select a device's rows by DeviceName.
    "DeviceNetworkEvents": (("TimeGenerated",), ("DeviceName",)),
    # M365D.list_host_processes selects a device's process events by DeviceName too.
    "DeviceProcessEvents": (("TimeGenerated",), ("DeviceName",)),
    # M365D.host_logons selects a device's logons by DeviceName; ActionType says whether
    # one succeeded (LogonSuccess / LogonFailed), as EventID does for 4624/4625.
    "DeviceLogonEvents": (("TimeGenerated",), ("DeviceName",), ("ActionType",)),
    "AzureNetworkAnalytics_CL": (
        ("TimeGenerated",),
        # flow rows have addresses; network-interface rows list the VM's addresses
        ("SrcIP_s", "DestIP_s", "VMIP_s", "PrivateIPAddresses_s", "PublicIPAddresses_s"),
    ),
    "ThreatIntelligenceIndicator": (
        ("TimeGenerated",),
        (
            "NetworkIP",
            "NetworkSourceIP",
            "NetworkDestinationIP",
            "EmailSourceIpAddress",
            "EmailSenderAddress",
            "DomainName",
            "Url",
            "FileHashValue",
        ),
    ),
}
_SCAN_FIRST = 1000  # rows looked at before scanning the whole column


def missing_keys(table: str, rows: pd.DataFrame) -> list[str]:
    """The key groups of `table` that `rows` lack, each with why; [] when all are there."""
    out = []
    for group in KEY_COLUMNS.get(table, (("TimeGenerated",),)):
        present = [c for c in group if c in rows.columns]
        if any(has_value(rows[c]) for c in present):
            continue
        why = "empty in every row" if present else "not in the file"
        out.append(f"{' or '.join(group)} ({why})")
    return out


def has_value(column: pd.Series) -> bool:
    """True when any value of `column` is not missing, blank or a null word ("null", "NaN")."""
    if any(not is_null(v) for v in column.iloc[:_SCAN_FIRST].tolist()):
        return True
    return len(column) > _SCAN_FIRST and any(not is_null(v) for v in column.tolist())
