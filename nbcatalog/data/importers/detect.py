"""Which importer reads a file: from `--format`, else from its first bytes and name.

Content wins over the file name (exports are often renamed), except that a name
decides between formats the content cannot tell apart.

Example:
    >>> detect_format("x.log", b"Nov 27 10:00:01 web01 sshd[42]: Accepted password for bob")
    'syslog'
    >>> detect_format("host1.txt", b"2026-12-01T10:00:01+0100 web01 sshd[42]: Accepted publickey")
    'syslog'
    >>> canonical_format("winlogbeat")
    'windows-json'
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from nbcatalog.data.importers.defender import is_hunting_answer, is_hunting_header, is_hunting_row
from nbcatalog.data.importers.errors import ImportFormatError
from nbcatalog.data.importers.syslog_line import is_journal_marker, is_syslog_header
from nbcatalog.data.importers.textio import head_text

# canonical name -> what it reads (shown in errors and --help)
FORMATS: dict[str, str] = {
    "sentinel-csv": "Sentinel / Log Analytics CSV export (any supported table)",
    "sentinel-json": "Sentinel / Log Analytics JSON export (array or one object per line)",
    "sentinel-parquet": "Parquet file of a Sentinel table (or a msticpy query result)",
    "sentinel-pickle": "pandas pickle of a Sentinel table (or a msticpy query result)",
    "defender-csv": "Microsoft Defender advanced hunting results saved as CSV "
    "(Timestamp, DeviceName, ...; no TimeGenerated)",
    "defender-json": "Defender advanced hunting results as JSON: the API answer "
    "{Schema, Results} (/api/advancedqueries/run) or Graph runHuntingQuery {schema, results}, "
    "or the rows alone (array or one object per line; Timestamp, no TimeGenerated)",
    "evtx": "Windows event log file (.evtx)",
    "windows-json": "Windows events as JSON lines from winlogbeat or nxlog",
    "syslog": "Linux syslog text: auth.log, secure, messages (RFC 3164, RFC 3339, RFC 5424), "
    "journalctl short / short-iso / short-precise exports",
    "zeek": "Zeek conn log (TSV with #fields header, or JSON lines, dotted or flat keys)",
}
ALIASES = {
    "csv": "sentinel-csv",
    "json": "sentinel-json",
    "parquet": "sentinel-parquet",
    "pickle": "sentinel-pickle",
    "pkl": "sentinel-pickle",
    "winlogbeat": "windows-json",
    "nxlog": "windows-json",
    "auth.log": "syslog",
    "zeek-tsv": "zeek",
    "zeek-json": "zeek",
    "conn.log": "zeek",
    "advanced-hunting-csv": "defender-csv",
    "advanced-hunting-json": "defender-json",
}


def accepted_formats() -> str:
    """One line per format, for error messages and help."""
    return "\n".join(f"  {name:17} {text}" for name, text in FORMATS.items())


def canonical_format(name: str) -> str:
    """The canonical format for a `--format` value; ImportFormatError lists the accepted ones."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        aliases = ", ".join(sorted(ALIASES))
        raise ImportFormatError(
            f"unknown format {name!r}; accepted formats:\n{accepted_formats()}\n"
            f"(aliases: {aliases})"
        )
    return key


def detect_format(path: str | Path, head: bytes) -> str | None:
    """Guess the format from the head of the file; None when it cannot tell.

    `head` is the decompressed head of a gzipped file, and a ``.gz`` name is
    judged by the name inside it (``conn.log.gz`` as ``conn.log``).
    """
    name = Path(path).name.lower().removesuffix(".gz")
    if head.startswith(b"ElfFile\x00") or name.endswith(".evtx"):
        return "evtx"
    if head.startswith(b"PAR1"):
        return "sentinel-parquet"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "sentinel-pickle"
    if name.endswith((".pkl", ".pickle")):
        return "sentinel-pickle"
    text = head_text(head)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first.startswith("#separator") or first.startswith("#fields"):
        return "zeek"
    if first.startswith("{"):
        if is_hunting_answer(text) or (first == "{" and is_hunting_row(_first_object(text))):
            return "defender-json"  # an API answer, or one row pretty-printed
        return _json_lines_format(first)
    if first.startswith("["):
        # Rows with Timestamp and no TimeGenerated: advanced hunting's, not Sentinel's.
        return "defender-json" if is_hunting_row(_first_object(text)) else "sentinel-json"
    if _looks_like_syslog(text):
        return "syslog"
    if "," in first and is_hunting_header(_csv_fields(first)):
        return "defender-csv"  # advanced hunting results: Timestamp, no TimeGenerated
    if name.endswith(".csv") or ("," in first and "TimeGenerated" in first):
        return "sentinel-csv"
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "sentinel-json"
    return None


_KEY = re.compile(r'"((?:[^"\\]|\\.){1,200})"\s*:')


def _first_object(text: str) -> dict | None:
    """The first JSON object in a file head (an array's first item), else None.

    An object cut off by the end of the head gives the keys seen so far (values
    None), which is all detection looks at.

    >>> _first_object('[\\n  {"Timestamp": "2024-05-01T12:00:00Z", "DeviceName": "w"}, {')
    {'Timestamp': '2024-05-01T12:00:00Z', 'DeviceName': 'w'}
    >>> sorted(_first_object('[{"Timestamp": "2024-05-01", "DeviceName": "w'))
    ['DeviceName', 'Timestamp']
    """
    start = text.find("{")
    if start < 0:
        return None
    try:
        obj, _ = json.JSONDecoder().raw_decode(text, start)
    except (ValueError, RecursionError):
        return dict.fromkeys(m[1] for m in _KEY.finditer(text, start)) or None
    return obj if isinstance(obj, dict) else None


def _csv_fields(line: str) -> list[str]:
    """The fields of one CSV line (a header), [] when it is not CSV."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return []


def _looks_like_syslog(text: str) -> bool:
    """True when the first line that is an entry (past journalctl's '-- ... --' header,
    which `journalctl > file` writes first) has a syslog header, whatever the file name.

    >>> _looks_like_syslog("-- Logs begin at Mon 2026-11-30 08:00:01 UTC. --\\n"
    ...                    "Dec 01 10:00:01.000123 web01 sshd[7]: Accepted publickey for bob")
    True
    """
    for line in text.splitlines():
        if line.strip() and not is_journal_marker(line):
            return is_syslog_header(line)
    return False


def _json_lines_format(first_line: str) -> str:
    try:
        obj = json.loads(first_line)
    except ValueError:
        return "sentinel-json"  # a pretty-printed object, or a broken line: let it report
    if not isinstance(obj, dict):
        return "sentinel-json"
    if is_hunting_row(obj):
        return "defender-json"  # advanced hunting rows as JSON lines
    if is_windows_json(obj):
        return "windows-json"
    if is_zeek_json(obj):
        return "zeek"
    return "sentinel-json"


# Keys a Zeek-to-JSON pipeline adds to name the log a record came from.
_ZEEK_LOG_LABELS = ("_path", "@stream")


def is_zeek_json(obj: dict) -> bool:
    """True for a Zeek log record as JSON: Zeek's own, or a pipeline's (flat keys, @stream, …).

    Every Zeek log has `ts`; a connection-keyed one has its endpoints (`id.orig_h`,
    flattened `id_orig_h`, or a nested `id`), the others their pipeline's label.

    Example:
        >>> is_zeek_json({"ts": 1588205198.9, "id_orig_h": "10.0.1.4", "id_resp_h": "10.0.0.4"})
        True
        >>> is_zeek_json({"TimeGenerated": "2026-11-27T10:00:00Z", "Computer": "WKSTN-042"})
        False
    """
    if "ts" not in obj:
        return False
    endpoints = (
        ("id.orig_h" in obj and "id.resp_h" in obj)
        or ("id_orig_h" in obj and "id_resp_h" in obj)
        or (isinstance(obj.get("id"), dict) and "orig_h" in obj["id"])
    )
    labelled = any(isinstance(obj.get(k), str) for k in _ZEEK_LOG_LABELS) and (
        "uid" in obj or "fuid" in obj or "_write_ts" in obj or obj.get("@proc") == "zeek"
    )
    return endpoints or labelled


def is_windows_json(obj: dict) -> bool:
    """True for an event as winlogbeat (any version) or nxlog's im_msvistalog writes it."""
    if isinstance(obj.get("winlog"), dict) or ("event_id" in obj and "log_name" in obj):
        return True
    return "EventID" in obj and ("SourceName" in obj or "EventType" in obj) and "Hostname" in obj
