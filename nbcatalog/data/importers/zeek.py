"""Zeek conn logs, in every layout real sensors and pipelines write, into AzureNetworkAnalytics_CL.

Layouts read: Zeek's TSV (``#separator`` / ``#fields`` / ``#types`` header,
``#close`` footer); JSON lines with Zeek's dotted keys (``id.orig_h``), with the
flattened keys many Zeek-to-JSON pipelines and research datasets write
(``id_orig_h``) or with a nested ``id`` object; extra pipeline keys (``@stream``,
``@system``, ``@proc``, ``_path``, ``_write_ts``, ``@timestamp``) are ignored.
``ts`` may be an epoch number, an epoch string or ISO 8601. Any of these may be
gzipped (textio reads it). A log of another kind (dns, http, ssl, files, …),
named by ``#path`` / ``_path`` / ``@stream`` or recognised by its fields, is
refused naming its kind: the store has no table for it, and storing nothing
while saying "imported" would hide that.

Each connection becomes one flow row in the Azure NSG flow-analytics layout the
msticpy network queries read: ``FlowDirection_s`` "O"/"I" from Zeek's
``local_orig`` (else from which side has a private address), ``VMIP_s`` the local
side, ``L4Protocol_s`` "T"/"U" as Azure writes tcp/udp, bytes and packets seen
from the local side, and ``PublicIPs_s`` as Azure's
``ip|flows started|flows ended|out packets|in packets|out bytes|in bytes``.

Example:
    >>> row = conn_row({"ts": 1764237600.0, "id.orig_h": "10.0.0.5", "id.orig_p": 50000,
    ...                 "id.resp_h": "192.0.2.66", "id.resp_p": 4444, "proto": "tcp"})
    >>> row["FlowDirection_s"], row["DestPublicIPs_s"], row["L4Protocol_s"]
    ('O', '192.0.2.66', 'T')
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from nbcatalog.data.importers.batch import Batch
from nbcatalog.data.importers.errors import ImportFormatError
from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.textio import iter_lines

TABLE = "AzureNetworkAnalytics_CL"
PROTOCOLS = {"tcp": "T", "udp": "U"}
# Zeek logs whose records are connections (conn_long: the long-connections package).
CONN_KINDS = ("conn", "conn_long")
SUPPORTED = (
    "Zeek conn logs (conn.log, conn_long.log): TSV with a #fields header, or JSON lines "
    "with dotted (id.orig_h) or flattened (id_orig_h) keys, plain or gzipped"
)
# Fields that only one kind of Zeek log has, to name a log that does not say its kind.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "conn": ("conn_state", "orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts", "missed_bytes"),
    "dns": ("trans_id", "query", "qtype", "qtype_name", "rcode", "answers"),
    "http": ("trans_depth", "method", "uri", "user_agent", "status_code"),
    "ssl": ("server_name", "ssl_history", "established", "curve", "next_protocol"),
    "x509": ("certificate.subject", "certificate.serial", "certificate.issuer"),
    "files": ("fuid", "mime_type", "seen_bytes", "total_bytes"),
    "ssh": ("auth_success", "auth_attempts", "kex_alg", "host_key"),
    "smtp": ("mailfrom", "rcptto", "helo"),
    "kerberos": ("request_type", "till", "forwardable", "renewable"),
    "notice": ("note", "msg", "actions"),
    "weird": ("addl", "notice", "peer"),
    "dhcp": ("assigned_addr", "lease_time", "msg_types"),
}
# Keys Zeek-to-JSON pipelines flatten ("id_orig_h"), back to Zeek's own names.
_FLATTENED = {
    f"id_{side}_{part}": f"id.{side}_{part}" for side in ("orig", "resp") for part in "hp"
}
# Keys pipelines use to say which Zeek log a record came from.
_KIND_KEYS = ("_path", "@stream")
# Addresses that belong to "our" side of a flow (RFC 1918, CGNAT, loopback, link-local, ULA).
LOCAL_NETS = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
]
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def read_zeek(path: Path, report: FileReport, table: str | None = None) -> list[Batch]:
    """Read a Zeek conn log (TSV or JSON lines, any key style) into flow rows.

    Records of other Zeek logs are rejected by kind; a file holding no connection
    at all raises ImportFormatError naming what it holds and what is supported.
    """
    records: list[dict[str, Any]] = []
    lines: list[int | None] = []
    other: Counter[str] = Counter()
    header: dict[str, Any] = {"separator": "\t", "unset": "-", "empty": "(empty)", "fields": None}
    for number, text in iter_lines(path, report):
        if not text.strip():
            continue
        if text.startswith("#"):
            _header_line(path, text, header)
            continue
        if text.lstrip().startswith("{"):
            fields = _json_fields(text, number, report)
        else:
            fields = _tsv_fields(text, number, header, report)
        if fields is None:
            continue
        kind = header.get("kind") or log_kind(fields)
        if kind not in CONN_KINDS:
            other[kind] += 1
            what = f"a Zeek {kind} record" if kind != "unknown" else "not a Zeek conn record"
            report.reject(number, f"{what}; only connections (conn log records) are imported")
            continue
        try:
            records.append(conn_row(fields))
            lines.append(number)
        except ValueError as exc:
            report.reject(number, str(exc))
    if other and not records:
        kinds = ", ".join(f"{k} ({n} records)" for k, n in other.most_common())
        raise ImportFormatError(
            f"{path}: this is a Zeek log of another kind: {kinds}. The store has no table "
            f"for it; supported: {SUPPORTED}, into {TABLE}."
        )
    return [Batch.from_records(TABLE, records, lines)] if records else []


def log_kind(fields: dict[str, Any]) -> str:
    """Which Zeek log a record (dotted keys) comes from: its pipeline's label, else its fields.

    Example:
        >>> log_kind({"_path": "dns", "query": "example.org"})
        'dns'
        >>> log_kind({"id.orig_h": "10.0.0.5", "conn_state": "SF"})
        'conn'
    """
    label = next(
        (str(fields[k]).strip().lower() for k in _KIND_KEYS if str(fields.get(k) or "").strip()),
        None,
    )
    by_fields = _kind_from_names(fields, minimal=label is None)
    if label is None:
        return by_fields
    if label in CONN_KINDS or label in KIND_FIELDS or by_fields != "conn":
        return label
    return "conn"  # a site's own path name (conn_internal, …) for conn records


def _kind_from_names(names, minimal: bool = True) -> str:
    present = set(names)
    for kind, markers in KIND_FIELDS.items():
        if present.intersection(markers):
            return kind
    # Zeek's minimal conn record: endpoints and protocol (other logs name their kind).
    if minimal and {"id.orig_h", "id.resp_h", "proto"} <= present:
        return "conn"
    return "unknown"


def dotted_keys(obj: dict[str, Any]) -> dict[str, Any]:
    """A JSON record with Zeek's own field names: nested objects and flattened ids undone.

    Example:
        >>> dotted_keys({"id_orig_h": "10.0.0.5", "id": {"resp_h": "10.0.0.6"}, "proto": "tcp"})
        {'id.orig_h': '10.0.0.5', 'id.resp_h': '10.0.0.6', 'proto': 'tcp'}
    """
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            for inner, item in dotted_keys(value).items():
                out.setdefault(f"{key}.{inner}", item)
        else:
            out.setdefault(_FLATTENED.get(key, key), value)
    return out


def _header_line(path: Path, text: str, header: dict[str, Any]) -> None:
    key, _, value = text[1:].partition(
        " " if text.startswith("#separator") else header["separator"]
    )
    if key == "separator":
        header["separator"] = _unescape(value.strip())
    elif key == "unset_field":
        header["unset"] = value
    elif key == "empty_field":
        header["empty"] = value
    elif key == "path" and value.strip():
        header["path"] = value.strip().lower()
        if header["path"] in KIND_FIELDS and header["path"] not in CONN_KINDS:
            _refuse(path, header["path"], "its #path header")
    elif key == "fields":
        header["fields"] = value.split(header["separator"])
        label = header.get("path")
        kind = _kind_from_names(header["fields"], minimal=label is None)
        if label in CONN_KINDS or (kind == "conn" and label not in KIND_FIELDS):
            header["kind"] = "conn"
        else:
            _refuse(path, label or kind, "its #path and #fields header")


def _refuse(path: Path, kind: str, source: str) -> None:
    named = f"a Zeek {kind} log" if kind != "unknown" else "not a Zeek conn log"
    raise ImportFormatError(
        f"{path}: {named} (from {source}); the store has no table for it. "
        f"Supported: {SUPPORTED}, into {TABLE}."
    )


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


def _tsv_fields(text: str, number: int, header: dict[str, Any], report: FileReport):
    names = header["fields"]
    if names is None:
        report.reject(number, "data line before the #fields header")
        return None
    values = text.split(header["separator"])
    if len(values) != len(names):
        report.reject(number, f"expected {len(names)} fields, found {len(values)}")
        return None
    out = {}
    for name, value in zip(names, values, strict=True):
        if value == header["unset"]:
            out[name] = None
        elif value == header["empty"]:
            out[name] = ""
        else:
            out[name] = _unescape(value)
    return out


def _json_fields(text: str, number: int, report: FileReport):
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        report.reject(number, f"not valid JSON: {exc}")
        return None
    if not isinstance(obj, dict):
        report.reject(number, "expected a JSON object")
        return None
    return dotted_keys(obj)


def _is_local(address: str | None) -> bool | None:
    try:
        ip = ipaddress.ip_address(str(address))
    except ValueError:
        return None
    return any(ip in net for net in LOCAL_NETS)


def _when(value: Any) -> pd.Timestamp:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return pd.Timestamp(value, unit="s", tz="UTC")
    text = str(value).strip()
    if re.fullmatch(r"\d{1,12}(\.\d{1,9})?", text):
        return pd.Timestamp(float(text), unit="s", tz="UTC")
    stamp = pd.Timestamp(text)  # ISO 8601, as Zeek writes with JSON::TS_ISO8601
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def conn_row(f: dict[str, Any]) -> dict[str, Any]:
    """One conn.log record (field name -> value) as a flow row; ValueError names what is wrong."""
    orig, resp = f.get("id.orig_h"), f.get("id.resp_h")
    if f.get("ts") in (None, "") or not orig or not resp:
        raise ValueError("connection lacks ts, id.orig_h or id.resp_h")
    try:
        start = _when(f["ts"])
        duration = _number(f.get("duration"))
        counts = [_number(f.get(k)) for k in ("orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts")]
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"bad time or number: {exc}") from None
    orig_local, resp_local = _is_local(orig), _is_local(resp)
    local_orig = str(f.get("local_orig")).upper()
    if local_orig in ("T", "TRUE"):
        direction = "O"
    elif local_orig in ("F", "FALSE"):
        direction = "I"
    elif orig_local:
        direction = "O"
    elif resp_local:
        direction = "I"
    else:
        direction = None
    outbound = direction != "I"
    ob, ib = (counts[0], counts[1]) if outbound else (counts[1], counts[0])
    op, ip = (counts[2], counts[3]) if outbound else (counts[3], counts[2])
    public = [a for a, is_local in ((orig, orig_local), (resp, resp_local)) if is_local is False]
    proto = str(f.get("proto") or "").lower()
    service = f.get("service")
    if isinstance(service, list):  # a Zeek set, as some pipelines write it
        service = ",".join(map(str, service))

    def show(x: float | None) -> int:
        return int(x or 0)

    return {
        "TimeGenerated": start,
        "FlowStartTime_t": start,
        "FlowEndTime_t": start + pd.Timedelta(seconds=duration) if duration else start,
        "FlowType_s": "IntraVNet" if orig_local and resp_local else "ExternalPublic",
        "FlowDirection_s": direction,
        "FlowStatus_s": "A",
        "SrcIP_s": orig,
        "DestIP_s": resp,
        "SrcPort_d": f.get("id.orig_p"),
        "DestPort_d": f.get("id.resp_p"),
        "L4Protocol_s": PROTOCOLS.get(proto, proto.upper() or None),
        "L7Protocol_s": service or None,
        "VMIP_s": orig if outbound else resp,
        "PublicIPs_s": " ".join(
            f"{a}|1|1|{show(op)}|{show(ip)}|{show(ob)}|{show(ib)}" for a in public
        )
        or None,
        "SrcPublicIPs_s": orig if orig_local is False else None,
        "DestPublicIPs_s": resp if resp_local is False else None,
        "AllowedOutFlows_d": 1.0 if direction == "O" else 0.0,
        "AllowedInFlows_d": 1.0 if direction == "I" else 0.0,
        "DeniedOutFlows_d": 0.0,
        "DeniedInFlows_d": 0.0,
        "OutboundBytes_d": ob,
        "InboundBytes_d": ib,
        "OutboundPackets_d": op,
        "InboundPackets_d": ip,
    }
