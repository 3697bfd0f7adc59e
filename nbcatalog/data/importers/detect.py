"""Which importer reads a file: from `--format`, else from its first bytes and name.

Content wins over the file name (exports are often renamed), except that a name
decides between formats the content cannot tell apart.

Example:
    >>> detect_format("x.log", b"Nov 27 10:00:01 web01 sshd[42]: Accepted password for bob")
    'syslog'
    >>> canonical_format("winlogbeat")
    'windows-json'
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from nbcatalog.data.importers.errors import ImportFormatError
from nbcatalog.data.importers.textio import head_text

# canonical name -> what it reads (shown in errors and --help)
FORMATS: dict[str, str] = {
    "sentinel-csv": "Sentinel / Log Analytics CSV export (any supported table)",
    "sentinel-json": "Sentinel / Log Analytics JSON export (array or one object per line)",
    "sentinel-parquet": "Parquet file of a Sentinel table (or a msticpy query result)",
    "sentinel-pickle": "pandas pickle of a Sentinel table (or a msticpy query result)",
    "evtx": "Windows event log file (.evtx)",
    "windows-json": "Windows events as JSON lines from winlogbeat or nxlog",
    "syslog": "Linux syslog / auth.log text (RFC 3164 or RFC 5424 lines)",
    "zeek": "Zeek conn.log (TSV with #fields header, or JSON lines)",
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
}

_SYSLOG = re.compile(
    r"^(<\d{1,3}>\d{1,2} \S+ "  # RFC 5424
    r"|(<\d{1,3}>)?[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ "  # RFC 3164 / auth.log
    r"|(<\d{1,3}>)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* \S+ )"  # rsyslog high-precision
)


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
        return _json_lines_format(first)
    if first.startswith("["):
        return "sentinel-json"
    if _SYSLOG.match(first):
        return "syslog"
    if name.endswith(".csv") or ("," in first and "TimeGenerated" in first):
        return "sentinel-csv"
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "sentinel-json"
    return None


def _json_lines_format(first_line: str) -> str:
    try:
        obj = json.loads(first_line)
    except ValueError:
        return "sentinel-json"  # a pretty-printed object, or a broken line: let it report
    if not isinstance(obj, dict):
        return "sentinel-json"
    if is_windows_json(obj):
        return "windows-json"
    if "id.orig_h" in obj and "id.resp_h" in obj:
        return "zeek"
    return "sentinel-json"


def is_windows_json(obj: dict) -> bool:
    """True for an event as winlogbeat (any version) or nxlog's im_msvistalog writes it."""
    if isinstance(obj.get("winlog"), dict) or ("event_id" in obj and "log_name" in obj):
        return True
    return "EventID" in obj and ("SourceName" in obj or "EventType" in obj) and "Hostname" in obj
