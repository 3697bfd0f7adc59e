"""Build SecurityEvent rows the way Sentinel stores them, column-wise and fast.

A caller gives one event ID and the event's EventData fields (arrays for the fields
that vary, plain strings for constants); this module writes the EventData XML in the
Windows field order, fills the parsed columns from the same values (so they always
agree) and adds the columns Sentinel derives: Account, AccountType, Activity, Task,
Level, Process, LogonTypeName, SubjectAccount, TargetAccount.

Strings are built with pyarrow compute kernels, so a million rows cost well under a
second instead of a Python loop per row.

Example:
    >>> import numpy as np, pandas as pd
    >>> t = pd.to_datetime(["2026-01-01T10:00:00Z"])
    >>> f = security_frame(4634, t, "WKSTN-001", {"TargetUserSid": "S-1-5-18",
    ...     "TargetUserName": "bob", "TargetDomainName": "CONTOSO",
    ...     "TargetLogonId": "0x3e7", "LogonType": "2"})
    >>> f.loc[0, "Account"], f.loc[0, "Activity"]
    ('CONTOSO\\\\bob', '4634 - An account was logged off.')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from nbcatalog.data.demo.estate import TENANT_ID
from nbcatalog.data.logontypes import logon_type_name
from nbcatalog.data.schema import columns

ACTIVITY = {
    4624: "An account was successfully logged on.",
    4625: "An account failed to log on.",
    4634: "An account was logged off.",
    4672: "Special privileges assigned to new logon.",
    4688: "A new process has been created.",
    4697: "A service was installed in the system.",
    4698: "A scheduled task was created.",
    4720: "A user account was created.",
    4732: "A member was added to a security-enabled local group.",
}
TASK = {
    4624: 12544,
    4625: 12544,
    4634: 12545,
    4672: 12548,
    4688: 13312,
    4697: 12289,
    4698: 12804,
    4720: 13824,
    4732: 13826,
}
# EventData field order as Windows writes it (what an XML reader sees).
FIELDS = {
    4624: (
        "SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId TargetUserSid "
        "TargetUserName TargetDomainName TargetLogonId LogonType LogonProcessName "
        "AuthenticationPackageName WorkstationName LogonGuid TransmittedServices "
        "LmPackageName KeyLength ProcessId ProcessName IpAddress IpPort ImpersonationLevel "
        "RestrictedAdminMode TargetOutboundUserName TargetOutboundDomainName VirtualAccount "
        "TargetLinkedLogonId ElevatedToken"
    ),
    4625: (
        "SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId TargetUserSid "
        "TargetUserName TargetDomainName Status FailureReason SubStatus LogonType "
        "LogonProcessName AuthenticationPackageName WorkstationName TransmittedServices "
        "LmPackageName KeyLength ProcessId ProcessName IpAddress IpPort"
    ),
    4634: "TargetUserSid TargetUserName TargetDomainName TargetLogonId LogonType",
    4672: "SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId PrivilegeList",
    4688: (
        "SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId NewProcessId "
        "NewProcessName TokenElevationType ProcessId CommandLine TargetUserSid "
        "TargetUserName TargetDomainName TargetLogonId ParentProcessName MandatoryLabel"
    ),
    4697: (
        "SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId ServiceName "
        "ServiceFileName ServiceType ServiceStartType ServiceAccount"
    ),
    4698: "SubjectUserSid SubjectUserName SubjectDomainName SubjectLogonId TaskName TaskContent",
    4720: (
        "TargetUserName TargetDomainName TargetSid SubjectUserSid SubjectUserName "
        "SubjectDomainName SubjectLogonId PrivilegeList SamAccountName DisplayName "
        "UserPrincipalName HomeDirectory HomePath ScriptPath ProfilePath UserWorkstations "
        "PasswordLastSet AccountExpires PrimaryGroupId AllowedToDelegateTo OldUacValue "
        "NewUacValue UserAccountControl UserParameters SidHistory LogonHours"
    ),
    4732: (
        "MemberName MemberSid TargetUserName TargetDomainName TargetSid SubjectUserSid "
        "SubjectUserName SubjectDomainName SubjectLogonId PrivilegeList"
    ),
}
FIELDS = {k: tuple(v.split()) for k, v in FIELDS.items()}
# Logon events name the account logged on; the others the account that acted.
_ACCOUNT_FROM_TARGET = {4624, 4625, 4634}
_INT_COLUMNS = {"LogonType", "KeyLength"}
_SE_COLUMNS = set(columns("SecurityEvent"))

Values = str | Sequence[str] | np.ndarray | pa.Array | pd.Series


def _arr(value: Values, n: int) -> pa.Array:
    """A pyarrow string array of length n from a constant or a sequence."""
    if isinstance(value, str):
        return pa.array(np.full(n, value, dtype=object), type=pa.string())
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        return value.cast(pa.string())
    if isinstance(value, pd.Series):
        value = value.to_numpy(dtype=object)
    return pa.array(np.asarray(value, dtype=object), type=pa.string())


def xml_escape(values: pa.Array) -> pa.Array:
    """Escape &, <, > and double quotes so hostile text stays text inside the XML."""
    if not pc.any(pc.match_substring_regex(values, r'[&<>"]')).as_py():
        return values
    for raw, esc in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        values = pc.replace_substring(values, raw, esc)
    return values


def event_data_xml(event_id: int, data: Mapping[str, pa.Array]) -> pa.Array:
    """The EventData XML column: one <Data Name=...> element per field, in order."""
    parts: list[pa.Array | str] = ["<EventData>"]
    for name in FIELDS[event_id]:
        parts.append(f'<Data Name="{name}">')
        parts.append(xml_escape(data[name]) if name in data else "-")
        parts.append("</Data>")
    parts.append("</EventData>")
    return pc.binary_join_element_wise(*parts, "")


def _account(domain: pa.Array, user: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(domain, "\\", user, "")


def _basename(path: pa.Array) -> pa.Array:
    return pc.extract_regex(path, r"(?P<b>[^\\]*)$").field("b")


def security_frame(
    event_id: int,
    times: pd.DatetimeIndex | pd.Series | np.ndarray,
    computer: Values,
    data: Mapping[str, Values],
    *,
    source_system: str = "OpsManager",
) -> pd.DataFrame:
    """SecurityEvent rows for one event ID; `data` holds its EventData fields.

    Fields not given are written as "-" in the XML and left NULL in the columns.
    """
    times = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
    n = len(times)
    arrays = {name: _arr(v, n) for name, v in data.items()}
    unknown = set(arrays) - set(FIELDS[event_id])
    if unknown:
        raise ValueError(f"event {event_id} has no EventData field(s) {sorted(unknown)}")
    cols: dict[str, object] = {
        "TenantId": TENANT_ID,
        "TimeGenerated": times,
        "SourceSystem": source_system,
        "Computer": _arr(computer, n),
        "EventSourceName": "Microsoft-Windows-Security-Auditing",
        "Channel": "Security",
        "Task": TASK[event_id],
        "Level": "16" if event_id == 4625 else "8",
        "EventID": event_id,
        "Activity": f"{event_id} - {ACTIVITY[event_id]}",
        "EventData": event_data_xml(event_id, arrays),
    }
    for name, arr in arrays.items():
        if name in _SE_COLUMNS:
            cols[name] = arr
    if "SubjectUserName" in arrays:
        cols["SubjectAccount"] = _account(arrays["SubjectDomainName"], arrays["SubjectUserName"])
    if "TargetUserName" in arrays and "TargetDomainName" in arrays:
        cols["TargetAccount"] = _account(arrays["TargetDomainName"], arrays["TargetUserName"])
    if event_id in _ACCOUNT_FROM_TARGET or "SubjectAccount" not in cols:
        account = cols.get("TargetAccount")
    else:
        account = cols["SubjectAccount"]
    if account is not None:
        cols["Account"] = account
        machine = pc.ends_with(account, "$")
        cols["AccountType"] = pc.if_else(machine, "Machine", "User")
    if "NewProcessName" in arrays:
        cols["Process"] = _basename(arrays["NewProcessName"])
    elif "ProcessName" in arrays:
        cols["Process"] = _basename(arrays["ProcessName"])
    for name in _INT_COLUMNS & set(arrays):
        cols[name] = pc.cast(arrays[name], pa.int32())
    if "LogonType" in arrays:
        # Name each distinct logon type once, then map the whole column.
        uniq = pc.unique(cols["LogonType"])
        names = pa.array([logon_type_name(t) or str(t) for t in uniq.to_pylist()])
        cols["LogonTypeName"] = pc.take(names, pc.index_in(cols["LogonType"], uniq))
    frame = pd.DataFrame(index=range(n))
    for name, value in cols.items():
        if isinstance(value, pa.Array):
            frame[name] = pd.Series(value, dtype=pd.ArrowDtype(value.type), index=frame.index)
        else:  # a constant, or the timestamps (assigned by position)
            frame[name] = value
    return frame
