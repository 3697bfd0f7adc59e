"""Microsoft Defender advanced hunting results: the portal's export and the APIs' answers.

Advanced hunting (the Microsoft Defender portal, the Defender for Endpoint API
``POST /api/advancedqueries/run`` and Microsoft Graph ``security/runHuntingQuery``)
returns the columns of the query's result, without ``TimeGenerated`` or ``Type``:
the time is ``Timestamp``, in UTC (Microsoft: "Time information in advanced hunting
is in the UTC zone"). Two shapes are read:

* ``defender-csv``: the result table saved as CSV (RFC 4180 quoting; a header row
  of the result's column names, ``Timestamp`` first as the tables have it).
* ``defender-json``: a saved API answer, ``{"Schema": [{"Name", "Type"}], "Results":
  [...]}`` (Defender for Endpoint / Defender XDR API, which may add ``Stats``) or
  ``{"@odata.context": ..., "schema": [...], "results": [...]}`` (Graph). The
  rows are ``Results`` / ``results``; the schema gives the column order. Also the
  rows alone: a bare JSON array of row objects (what ``ConvertTo-Json`` of the
  Results, or many scripts, save; a single row saved by ``ConvertTo-Json`` is one
  object) or JSON lines (one row object per line). A row is rejected by its
  record number in the array, or its line in JSON lines.

Times: ISO 8601 with up to 7 fractional digits and ``Z`` (what both APIs write,
e.g. ``2024-03-26T09:39:50.7688641Z``; the store keeps microseconds), ISO without
a zone (UTC), and the Log Analytics portal's ``M/D/YYYY, h:mm:ss.fff AM`` (UTC).
A ``Timestamp [UTC]`` header is understood. A header naming another zone
(``Timestamp [UTC+02:00]``, ``[Local Time]``) is refused: the portal shows advanced
hunting results in the time zone of its "Settings > Microsoft Defender portal >
Time zone" setting (Microsoft, "Set the time zone for Microsoft Defender XDR
features"), and how an export writes a local zone is not documented; one offset in
a header cannot be right on both sides of a daylight-saving change either. The
error says to set that setting to UTC and export again, or to save the API answer.

Which table: ``--table`` if given (a table of the store that has Defender's
``Timestamp`` column); else the one Defender device table whose columns include
every device-table column of the file (`infer_device_table`). A file whose
columns fit several tables, none, or a table the store does not have, is an error
naming ``--table`` and the accepted tables.

``Timestamp`` is copied to ``TimeGenerated`` (kept as Timestamp too); a row with no
or an unreadable Timestamp is rejected with its line (CSV) or record number (JSON).
From there rows take the Sentinel path (`sentinel.split_by_table`): columns the
table lacks are dropped and listed, values are coerced by the store's types, and
the ledger makes a re-import add nothing.

Example:
    >>> infer_device_table(["Timestamp", "DeviceName", "LocalIP", "Protocol", "RemoteIP"])
    'DeviceNetworkEvents'
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from nbcatalog.data.importers.batch import Batch
from nbcatalog.data.importers.coerce import is_null
from nbcatalog.data.importers.errors import ImportFormatError, UnreadableFileError
from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.sentinel import (
    check_table,
    csv_frame,
    load_json_document,
    records_frame,
    split_by_table,
)
from nbcatalog.data.importers.textio import (
    head_text,
    iter_json_lines,
    iter_lines,
    read_head,
)
from nbcatalog.data.schema import TABLES

TIME = "Timestamp"

# Columns of Defender's device tables, from Microsoft's advanced hunting schema
# reference (learn.microsoft.com/defender-xdr/advanced-hunting-<table>-table).
# Used only to tell which table an export came from, so the tables the store does
# not have are listed too: a DeviceEvents export must not pass for network events.
_COMMON = "Timestamp DeviceId DeviceName ActionType ReportId AppGuardContainerId AdditionalFields"
_IP = "InitiatingProcess"
_INITIATING = " ".join(
    _IP + s
    for s in (
        "SHA1 SHA256 MD5 FileName FileSize FolderPath Id CommandLine CreationTime ParentId "
        "ParentFileName ParentCreationTime AccountDomain AccountName AccountSid AccountUpn "
        "AccountObjectId VersionInfoCompanyName VersionInfoProductName "
        "VersionInfoProductVersion VersionInfoInternalFileName VersionInfoOriginalFileName "
        "VersionInfoFileDescription"
    ).split()
)
_SESSION = (
    f"{_IP}SessionId IsInitiatingProcessRemoteSession {_IP}RemoteSessionDeviceName "
    f"{_IP}RemoteSessionIP"
)
_LEVELS = f"{_IP}IntegrityLevel {_IP}TokenElevation"
_FILE = "FileName FolderPath SHA1 SHA256 MD5 FileSize"
DEVICE_TABLE_COLUMNS: dict[str, frozenset[str]] = {
    name: frozenset(f"{_COMMON} {_INITIATING} {own}".split())
    for name, own in {
        "DeviceNetworkEvents": f"{_LEVELS} {_SESSION} RemoteIP RemotePort RemoteUrl LocalIP "
        "LocalPort Protocol LocalIPType RemoteIPType",
        "DeviceEvents": f"{_IP}LogonId {_SESSION} {_FILE} AccountDomain AccountName AccountSid "
        "RemoteUrl RemoteDeviceName ProcessId ProcessCommandLine ProcessCreationTime "
        "ProcessTokenElevation LogonId RegistryKey RegistryValueName RegistryValueData "
        "RemoteIP RemotePort LocalIP LocalPort FileOriginUrl FileOriginIP "
        "CreatedProcessSessionId IsProcessRemoteSession ProcessRemoteSessionDeviceName "
        "ProcessRemoteSessionIP",
        "DeviceLogonEvents": f"{_LEVELS} {_SESSION} LogonType AccountDomain AccountName "
        "AccountSid Protocol FailureReason IsLocalAdmin LogonId RemoteDeviceName RemoteIP "
        "RemoteIPType RemotePort",
        "DeviceProcessEvents": f"{_LEVELS} {_SESSION} {_IP}LogonId {_IP}SignerType "
        f"{_IP}SignatureStatus {_FILE} ProcessVersionInfoCompanyName "
        "ProcessVersionInfoProductName ProcessVersionInfoProductVersion "
        "ProcessVersionInfoInternalFileName ProcessVersionInfoOriginalFileName "
        "ProcessVersionInfoFileDescription ProcessId ProcessCommandLine "
        "ProcessIntegrityLevel ProcessTokenElevation ProcessCreationTime AccountDomain "
        "AccountName AccountSid AccountUpn AccountObjectId LogonId CreatedProcessSessionId "
        "IsProcessRemoteSession ProcessRemoteSessionDeviceName ProcessRemoteSessionIP",
        "DeviceFileEvents": f"{_LEVELS} {_SESSION} {_FILE} FileOriginUrl "
        "FileOriginReferrerUrl FileOriginIP PreviousFolderPath PreviousFileName "
        "RequestProtocol RequestSourceIP RequestSourcePort RequestAccountName "
        "RequestAccountDomain RequestAccountSid ShareName SensitivityLabel "
        "SensitivitySubLabel IsAzureInfoProtectionApplied",
    }.items()
}
# Every column of a device table but Timestamp: with Timestamp and no TimeGenerated,
# one of these marks a JSON row as advanced hunting's rather than a Sentinel export's.
DEVICE_COLUMNS: frozenset[str] = frozenset().union(*DEVICE_TABLE_COLUMNS.values()) - {TIME}
# The first key of a saved API answer (Defender API: Stats, Schema, Results; Graph:
# @odata.context naming huntingQueryResults, then schema, results).
_ANSWER_START = re.compile(r'^\s*\{\s*"(?:Stats|Schema|Results|schema|results)"\s*:')
_GRAPH_CONTEXT = re.compile(r'^\s*\{\s*"@odata\.context"\s*:\s*"[^"]*huntingQueryResults"')


def accepted_tables() -> list[str]:
    """The store's tables a Defender export can go to: those with Defender's Timestamp.

    >>> accepted_tables()
    ['DeviceLogonEvents', 'DeviceNetworkEvents', 'DeviceProcessEvents']
    """
    return sorted(name for name, t in TABLES.items() if TIME in t.column_names)


def _accepted_text() -> str:
    return ", ".join(accepted_tables())


def is_hunting_answer(text: str) -> bool:
    """True for the head of a saved advanced hunting API answer (Defender API or Graph).

    >>> is_hunting_answer('{\\n  "Schema": [{"Name": "Timestamp", "Type": "DateTime"}],')
    True
    >>> is_hunting_answer('{"TimeGenerated": "2026-11-27T10:00:00Z", "Computer": "WKSTN-042"}')
    False
    """
    return bool(_ANSWER_START.match(text) or _GRAPH_CONTEXT.match(text))


def is_hunting_header(names: list[str]) -> bool:
    """True for a CSV header of advanced hunting results: Timestamp, no TimeGenerated.

    >>> is_hunting_header(["Timestamp [UTC]", "DeviceName", "RemoteIP"])
    True
    >>> is_hunting_header(["TimeGenerated [UTC]", "Timestamp", "DeviceName"])
    False
    """
    cleaned = [re.sub(r"\s*\[[^\]]*\]$", "", n.strip().lstrip("\ufeff")) for n in names]
    return TIME in cleaned and "TimeGenerated" not in cleaned


def is_hunting_row(row: object) -> bool:
    """True for one advanced hunting result row as JSON: Timestamp, no TimeGenerated,
    and a column of Defender's device tables.

    >>> is_hunting_row({"Timestamp": "2024-05-01T12:00:00Z", "DeviceName": "wkstn-1"})
    True
    >>> is_hunting_row({"TimeGenerated": "2024-05-01T12:00:00Z", "Timestamp": "x",
    ...                 "DeviceName": "wkstn-1"})
    False
    >>> is_hunting_row({"Timestamp": "2024-05-01T12:00:00Z", "Message": "hello"})
    False
    """
    if not isinstance(row, dict):
        return False
    keys = {k for k in row if isinstance(k, str)}
    return TIME in keys and "TimeGenerated" not in keys and bool(keys & DEVICE_COLUMNS)


def infer_device_table(columns: list[str]) -> str:
    """The one Defender device table whose columns include all the file's device columns.

    Columns no device table has (a query's own `extend`s, Sentinel's TenantId) are
    left out of the choice. ImportFormatError, naming --table and the accepted
    tables, when several tables fit, none does, or the one that fits is not a table
    of the store.

    >>> infer_device_table(["Timestamp", "DeviceName", "RemoteIP", "LocalIP"])
    Traceback (most recent call last):
    ...
    nbcatalog.data.importers.errors.ImportFormatError: cannot tell the Defender table: ...
    """
    known = set().union(*DEVICE_TABLE_COLUMNS.values())
    mine = sorted(set(columns) & known)
    fits = sorted(t for t, cols in DEVICE_TABLE_COLUMNS.items() if set(mine) <= cols)
    advice = f"name it with --table (accepted tables: {_accepted_text()})"
    shown = ", ".join(mine) or "(none)"
    if len(fits) == 1 and fits[0] in accepted_tables():
        return fits[0]
    if len(fits) == 1:
        raise ImportFormatError(
            f"the columns fit Defender's {fits[0]}, which the store has no table for; "
            f"accepted tables: {_accepted_text()}"
        )
    if fits:
        why = f"the columns {shown} fit {', '.join(fits)} alike"
    else:
        why = f"no single Defender device table has all of the columns {shown}"
    raise ImportFormatError(f"cannot tell the Defender table: {why}; {advice}")


def _check_defender_table(table: str) -> str:
    check_table(table)
    if table not in accepted_tables():
        raise ImportFormatError(
            f"--table {table}: a Defender advanced hunting export goes to a table with "
            f"Defender's Timestamp column; accepted tables: {_accepted_text()}"
        )
    return table


def read_hunting_csv(path: Path, report: FileReport, table: str | None) -> list[Batch]:
    """Read advanced hunting results saved as CSV (the portal's export).

    Example:
        >>> batches = read_hunting_csv(Path("export.csv"), report, None)  # doctest: +SKIP
        >>> batches[0].table                                             # doctest: +SKIP
        'DeviceNetworkEvents'
    """
    _refuse_local_time_header(path, report)
    frame, where = csv_frame(path, report)
    return hunting_batches(frame, where, report, table)


_ZONE = re.compile(r"^(?P<name>.*?)\s*\[(?P<zone>[^\]]*)\]$")


def _refuse_local_time_header(path: Path, report: FileReport) -> None:
    """ImportFormatError, saying what to do in Defender, for a header column not in UTC.

    Before `csv_frame`, whose own refusal speaks of Log Analytics: this file came
    from the Defender portal, whose time zone setting is what put the zone there.
    """
    for _, text in iter_lines(path, report):
        if not text.strip():
            continue
        for raw in _csv_header(text):
            match = _ZONE.match(raw.strip().lstrip("\ufeff"))
            if match and match["zone"].strip().upper() != "UTC":
                raise ImportFormatError(
                    f"{path}: column {raw.strip()!r} holds times in the portal's display "
                    f"time zone ({match['zone'].strip()}), not in UTC; how an export writes "
                    "a local zone is not documented (and one offset is wrong across a "
                    "daylight-saving change), so it is not converted. In the Microsoft "
                    "Defender portal set Settings > Microsoft Defender portal > Time zone to "
                    "UTC and export the advanced hunting results again, or save the API "
                    "answer (/api/advancedqueries/run or Graph runHuntingQuery, in UTC)"
                )
        return


def _csv_header(line: str) -> list[str]:
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return []  # csv_frame reports a malformed header itself


def read_hunting_json(path: Path, report: FileReport, table: str | None) -> list[Batch]:
    """Read advanced hunting results saved as JSON, in any of the shapes they are saved in.

    A saved API answer (rows in Results, or Graph's results), a bare array of row
    objects, one row object (``ConvertTo-Json`` of a single row), or JSON lines. A
    row that is not a JSON object is rejected by its 1-based number in the list (its
    line number in JSON lines).

    Example:
        >>> read_hunting_json(Path("answer.json"), report, None)[0].lines[:2]  # doctest: +SKIP
        [1, 2]
    """
    if _is_json_lines(read_head(path)):
        rows = ((number, row) for number, row in iter_json_lines(path, report))
        return _rows_batches(rows, report, table, [], "line")
    document = load_json_document(path, report, "advanced hunting results")
    if isinstance(document, list):
        return _rows_batches(enumerate(document, start=1), report, table, [], "item")
    if not isinstance(document, dict):
        raise UnreadableFileError(
            f"{path}: not advanced hunting results (a JSON {type(document).__name__})"
        )
    keys = {k.lower(): k for k in document if isinstance(k, str)}
    if "results" not in keys and is_hunting_row(document):
        return _rows_batches([(1, document)], report, table, [], "item")
    rows = document.get(keys.get("results", ""))
    if not isinstance(rows, list):
        raise UnreadableFileError(
            f"{path}: an advanced hunting answer holds its rows in a 'Results' (Defender API) "
            "or 'results' (Graph) list; this file has none"
        )
    names = _schema_names(document, keys)
    return _rows_batches(enumerate(rows, start=1), report, table, names, "result row")


def _is_json_lines(head: bytes) -> bool:
    """True when the file is one JSON value per line, not one JSON document.

    JSON lines start with a whole object on the first line that is not an API
    answer; a document starts with ``[``, a lone ``{`` (pretty-printed) or an answer.
    """
    text = head_text(head)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first.startswith("{") and first != "{" and not is_hunting_answer(text)


def _rows_batches(
    numbered, report: FileReport, table: str | None, names: list[str], what: str
) -> list[Batch]:
    """Rows (number, JSON value) to batches; a value that is not an object is rejected."""
    records, where = [], []
    for number, row in numbered:
        if isinstance(row, dict):
            # Graph may annotate objects with OData keys: not columns of the result.
            records.append({k: v for k, v in row.items() if not str(k).startswith("@odata.")})
            where.append(number)
        else:
            report.reject(number, f"{what} is a {type(row).__name__}, not a JSON object")
    if not records:
        return []
    frame = records_frame(records, names)
    return hunting_batches(frame, where, report, table)


def _schema_names(answer: dict, keys: dict[str, str]) -> list[str]:
    """Column names in the answer's schema order ({"Name"} in Defender's, {"name"} in Graph's)."""
    schema = answer.get(keys.get("schema", ""))
    names: list[str] = []
    for column in schema if isinstance(schema, list) else []:
        if isinstance(column, dict):
            name = column.get("Name", column.get("name"))
            if isinstance(name, str) and name:
                names.append(name)
    return names


def hunting_batches(
    frame: pd.DataFrame, lines: list[int | None], report: FileReport, table: str | None
) -> list[Batch]:
    """Choose the table, give each row TimeGenerated from Timestamp, then the Sentinel path.

    Example:
        >>> f = pd.DataFrame({"Timestamp": ["2024-05-01T12:00:00.1234567Z"],
        ...                   "DeviceName": ["wkstn-1"], "LocalIPType": ["Private"]})
        >>> b = hunting_batches(f, [2], FileReport("x.csv", "defender-csv"), None)
        >>> b[0].table, b[0].frame["TimeGenerated"].tolist(), b[0].lines
        ('DeviceNetworkEvents', ['2024-05-01T12:00:00.1234567Z'], [2])
    """
    if frame.empty:
        return []
    if TIME not in frame.columns:
        raise ImportFormatError(
            f"{report.file}: advanced hunting results need their {TIME} column "
            "(project it in the query); this file has none"
        )
    name = _check_defender_table(table) if table else infer_device_table(list(frame.columns))
    missing = [pos for pos, value in enumerate(frame[TIME].tolist()) if is_null(value)]
    for pos in missing:
        report.reject(lines[pos], f"no {TIME} (every advanced hunting row has one)")
    if missing:
        dropped = set(missing)
        keep = [pos for pos in range(len(frame)) if pos not in dropped]
        frame = frame.iloc[keep].reset_index(drop=True)
        lines = [lines[pos] for pos in keep]
    if "TimeGenerated" not in frame.columns:
        # After Timestamp, so a row with an unreadable time is rejected naming Timestamp.
        frame = frame.assign(TimeGenerated=frame[TIME])
        report.note(f"TimeGenerated set from {TIME} (advanced hunting times are UTC)")
    return split_by_table(frame, lines, report, name)
