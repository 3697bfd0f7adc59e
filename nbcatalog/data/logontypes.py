"""Windows logon type numbers and their names (LogonType of events 4624/4625).

One table for the readers that write SecurityEvent rows (importers, demo generator)
and for `nblib.logons`, which names a logon type when a row has only its number.

Example:
    >>> WINDOWS_LOGON_TYPES[10]
    'RemoteInteractive'
    >>> logon_type_name(10), logon_type_name(12)
    ('10 - RemoteInteractive', None)
"""

from __future__ import annotations

# As Windows names them.
WINDOWS_LOGON_TYPES = {
    0: "System",
    2: "Interactive",
    3: "Network",
    4: "Batch",
    5: "Service",
    7: "Unlock",
    8: "NetworkCleartext",
    9: "NewCredentials",
    10: "RemoteInteractive",
    11: "CachedInteractive",
    12: "CachedRemoteInteractive",
    13: "CachedUnlock",
}
# The types whose LogonTypeName column the importers and the demo fill in; 0, 12 and
# 13 have never been written there, and stay so that stored rows do not change.
STORED_NAME_TYPES = (2, 3, 4, 5, 7, 8, 9, 10, 11)


def logon_type_name(logon_type: object) -> str | None:
    """The SecurityEvent LogonTypeName of a logon type number, as Sentinel writes it.

    None for a type that is not written (see `STORED_NAME_TYPES`) or not a number.

    Example:
        >>> logon_type_name(3)
        '3 - Network'
    """
    if logon_type not in STORED_NAME_TYPES:
        return None
    return f"{logon_type} - {WINDOWS_LOGON_TYPES[logon_type]}"
