"""Threat-intelligence look-up of indicators, ranked by severity.

Default provider: the data source's ThreatIntelligenceIndicator table, read through
`nbcatalog.data` with msticpy's query names (`ThreatIntelligence.list_indicators_by_ip`,
`..._by_url`, `..._by_domain`, `..._by_hash`); on the embedded store, when a query
is not in the library, the table is read with bound SQL. No network is used.
msticpy's TILookup providers (VirusTotal, OTX, ...) are added only when named in
`[enrichment.ti] providers` (see `nbcatalog.enrich.settings`); addresses that are
not public, and names under local or reserved top-level domains (.local,
.internal, .example, ...), are never sent to them.

The result has msticpy TILookup's columns, so code written for TILookup reads it:
Ioc, IocType, Provider, Result (bool), Severity ("high" / "warning" / "information"
/ "unknown"), Details, Reference, Status (0 ok, 1 not supported, 2 bad format,
3 query failed), plus ThreatType, Confidence and Matches from the table.

Severity of a table match: the highest of what the indicator says
(ThreatSeverity 0-5: 4-5 high, 2-3 warning, 0-1 information; ConfidenceScore
0-100: >= 80 high, >= 50 warning, else information), "warning" when it says
neither; an inactive, expired or "allow" indicator is "information". A miss is
Result False / "information"; a look-up that failed is "unknown".

Example:
    >>> res = lookup_iocs(["203.0.113.77", "http://malicious.example/payload.ps1"],
    ...                   data_source="duckdb:/tmp/demo.duckdb")          # doctest: +SKIP
    >>> res[["Ioc", "Severity", "Result"]].head(2)                        # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from nbcatalog.enrich.errors import EnrichmentError, shorten
from nbcatalog.enrich.iocs import is_missing, normalize_ioc
from nbcatalog.enrich.settings import EnrichmentSettings, current_settings

if TYPE_CHECKING:
    import pandas as pd

RESULT_COLUMNS = [
    "Ioc",
    "IocType",
    "Provider",
    "Result",
    "Severity",
    "Details",
    "Reference",
    "Status",
    "ThreatType",
    "Confidence",
    "Matches",
]
SEVERITY_RANK = {"high": 3, "warning": 2, "information": 1, "unknown": 0}
STATUS_OK, STATUS_NOT_SUPPORTED, STATUS_BAD_FORMAT, STATUS_QUERY_FAILED = 0, 1, 2, 3
TABLE_PROVIDER = "ThreatIntelligenceIndicator"
TABLE = "ThreatIntelligenceIndicator"

# IoC type -> (query name, its list parameter, table columns that hold such a value)
_QUERIES = {
    "ip": (
        "ThreatIntelligence.list_indicators_by_ip",
        "ip_address_list",
        ("NetworkIP", "NetworkSourceIP", "NetworkDestinationIP", "EmailSourceIpAddress"),
    ),
    "url": ("ThreatIntelligence.list_indicators_by_url", "url_list", ("Url",)),
    "dns": ("ThreatIntelligence.list_indicators_by_domain", "domain_list", ("DomainName",)),
    "hash": ("ThreatIntelligence.list_indicators_by_hash", "file_hash_list", ("FileHashValue",)),
}
# Columns that name the matched value in msticpy's newer (STIX) TI schema.
_GENERIC_VALUE_COLUMNS = ("IoC", "ObservableValue")
_QUERY_KIND = {
    "ipv4": "ip",
    "ipv6": "ip",
    "url": "url",
    "dns": "dns",
    "md5_hash": "hash",
    "sha1_hash": "hash",
    "sha256_hash": "hash",
}


@dataclass
class _Item:
    """One requested indicator after checking."""

    raw: Any
    value: str | None
    ioc_type: str | None
    error: str | None


def _row(
    ioc: Any,
    ioc_type: str | None,
    provider: str,
    *,
    result: bool = False,
    severity: str = "information",
    details: str = "",
    reference: str = "",
    status: int = STATUS_OK,
    threat_type: str | None = None,
    confidence: float | None = None,
    matches: int = 0,
) -> dict[str, Any]:
    return {
        "Ioc": ioc if isinstance(ioc, str) else shorten(ioc),
        "IocType": ioc_type,
        "Provider": provider,
        "Result": result,
        "Severity": severity,
        "Details": details,
        "Reference": reference,
        "Status": status,
        "ThreatType": threat_type,
        "Confidence": confidence,
        "Matches": matches,
    }


def _prepare(iocs: Iterable[Any], ioc_type: str | None) -> list[_Item]:
    if isinstance(iocs, str):
        iocs = [iocs]
    items: list[_Item] = []
    seen: set[tuple[str, str]] = set()
    for raw in iocs:
        if is_missing(raw):
            continue
        try:
            value, kind = normalize_ioc(raw, ioc_type)
        except ValueError as exc:
            items.append(_Item(raw, None, None, str(exc)))
            continue
        if (value, kind) not in seen:
            seen.add((value, kind))
            items.append(_Item(raw, value, kind, None))
    return items


def _to_utc(value: Any, name: str) -> datetime:
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise EnrichmentError(
            f"{name} {shorten(value)} is not a time; give a datetime or ISO-8601 text"
        ) from exc
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


# ---------------------------------------------------------------- the table provider


class _TableReader:
    """Reads indicator rows for one kind of IoC from a data source or a Store."""

    def __init__(self, data_source: Any):
        self._opened = None
        self.source = self._resolve(data_source)
        self._names: set[str] | None = None

    def _resolve(self, data_source: Any) -> Any:
        from nbcatalog.data.store import Store

        if isinstance(data_source, Store) or hasattr(data_source, "query"):
            return data_source
        if data_source is not None and not isinstance(data_source, str):
            raise EnrichmentError(
                f"data_source must be a spec such as 'duckdb:PATH' or 'msticpy:MSSentinel', "
                f"a DataSource or a Store, got {type(data_source).__name__}"
            )
        spec = data_source
        if not spec:
            try:
                from nbcatalog.config import default_data_source
            except ImportError:
                spec = None
            else:
                spec = default_data_source()
        try:
            from nbcatalog.data import connect
        except ImportError:  # data layer without connect(): read the store file directly
            from nbcatalog.data.store import default_db_path
            from nbcatalog.errors import DataSourceError

            path = spec.partition(":")[2] if spec else str(default_db_path())
            try:
                self._opened = Store.open(path, read_only=True)
            except FileNotFoundError as exc:
                raise DataSourceError(str(exc)) from exc
            return self._opened
        self._opened = connect(spec)
        return self._opened

    def close(self) -> None:
        if self._opened is not None:
            self._opened.close()

    def _has_query(self, name: str) -> bool:
        if self._names is None:
            try:
                self._names = set(self.source.list_queries()["name"])
            except Exception:  # a source that cannot list its queries: just try them
                return True
        return name in self._names

    def fetch(self, kind: str, values: list[str], start: datetime, end: datetime):
        from nbcatalog.data.store import Store

        query, param, columns = _QUERIES[kind]
        if isinstance(self.source, Store):
            return self.source.con.execute(*self._sql(columns, values, start, end)).df()
        if self._has_query(query):
            return self.source.query(query, **{param: values, "start": start, "end": end})
        from nbcatalog.data.source import is_embedded_store

        if is_embedded_store(self.source):  # every source has `sql`; only the store's runs
            return self.source.sql(*self._sql(columns, values, start, end))
        raise EnrichmentError(f"{self.source!r} has no query {query}")

    @staticmethod
    def _sql(columns, values, start, end) -> tuple[str, dict[str, Any]]:
        # Column names come from _QUERIES (code), every value is a bound parameter.
        # IN (unnest ...) is a hash semi-join: fast for thousands of values.
        tests = " OR ".join(f'lower("{c}") IN (SELECT unnest($values))' for c in columns)
        text = (
            f'SELECT * FROM "{TABLE}" WHERE "TimeGenerated" >= $start '  # noqa: S608
            f'AND "TimeGenerated" <= $end AND ({tests})'
        )
        return text, {"values": [v.lower() for v in values], "start": start, "end": end}


def _cell_key(kind: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            return text
    return text.rstrip(".") if kind == "dns" else text


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _rate(row: Any, now: datetime) -> tuple[str, str | None]:
    """(severity, reason it is only informational) for one indicator row."""
    import pandas as pd

    active = row.get("Active", row.get("IsActive"))
    if active is not None and not pd.isna(active) and not bool(active):
        return "information", "inactive"
    expires = row.get("ExpirationDateTime", row.get("ValidUntil"))
    if expires is not None and not pd.isna(expires):
        stamp = pd.Timestamp(expires)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
        if stamp < now:
            return "information", f"expired {stamp:%Y-%m-%d}"
    action = str(row.get("Action") or "").lower()
    if action == "allow":
        return "information", "action allow"
    ratings = []
    threat = _number(row.get("ThreatSeverity"))
    if threat is not None:
        ratings.append("high" if threat >= 4 else "warning" if threat >= 2 else "information")
    confidence = _number(row.get("ConfidenceScore", row.get("Confidence")))
    if confidence is not None:
        ratings.append(
            "high" if confidence >= 80 else "warning" if confidence >= 50 else "information"
        )
    if not ratings:
        return "warning", None
    return max(ratings, key=SEVERITY_RANK.__getitem__), None


def _text_values(hits: list[dict[str, Any]], column: str) -> list[str]:
    return [v for v in (h.get(column) for h in hits) if isinstance(v, str) and v]


def _summarise(item: _Item, hits: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    ratings = [_rate(row, now) for row in hits]
    current = [sev for sev, why in ratings if why is None]
    severity = max(current or [sev for sev, _ in ratings], key=SEVERITY_RANK.__getitem__)
    threat_types = sorted(set(_text_values(hits, "ThreatType")))
    confidences = [
        c
        for c in (_number(h.get("ConfidenceScore", h.get("Confidence"))) for h in hits)
        if c is not None
    ]
    descriptions = sorted(set(_text_values(hits, "Description")))
    ids = _text_values(hits, "IndicatorId")
    parts = [f"{len(hits)} indicator{'s' if len(hits) != 1 else ''}"]
    if threat_types:
        parts.append("threat type " + ", ".join(threat_types))
    if confidences:
        parts.append(f"confidence {max(confidences):g}")
    stale = sorted({why for _, why in ratings if why})
    if stale and not current:
        parts.append("not current: " + ", ".join(stale))
    if descriptions:
        parts.append(shorten("; ".join(descriptions), 200).strip("'\""))
    return _row(
        item.value,
        item.ioc_type,
        TABLE_PROVIDER,
        result=True,
        severity=severity,
        details="; ".join(parts),
        reference=f"{TABLE} IndicatorId " + ", ".join(ids) if ids else TABLE,
        threat_type=", ".join(threat_types) or None,
        confidence=max(confidences) if confidences else None,
        matches=len(hits),
    )


def _latest_per_indicator(frame: pd.DataFrame) -> pd.DataFrame:
    key = next((c for c in ("IndicatorId", "Id") if c in frame.columns), None)
    if key is None or "TimeGenerated" not in frame.columns or frame.empty:
        return frame
    ordered = frame.sort_values("TimeGenerated")
    return ordered.drop_duplicates(subset=[key], keep="last")


def _table_rows(
    items: list[_Item], data_source: Any, start: datetime, end: datetime, days: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    by_kind: dict[str, list[_Item]] = {}
    for item in items:
        by_kind.setdefault(_QUERY_KIND[item.ioc_type], []).append(item)
    if not by_kind:
        return rows
    reader = _TableReader(data_source)
    try:
        for kind, group in by_kind.items():
            values = sorted({i.value for i in group} | {str(i.raw).strip() for i in group})
            try:
                frame = _latest_per_indicator(reader.fetch(kind, values, start, end))
            except Exception as exc:  # a missing table or a failed query: say so per IoC
                rows.extend(
                    _row(
                        i.value,
                        i.ioc_type,
                        TABLE_PROVIDER,
                        severity="unknown",
                        details=f"look-up failed: {type(exc).__name__}: {exc}",
                        reference=_QUERIES[kind][0],
                        status=STATUS_QUERY_FAILED,
                    )
                    for i in group
                )
                continue
            rows.extend(_match_group(kind, group, frame, end, days))
    finally:
        reader.close()
    return rows


def _match_group(kind, group, frame, end, days) -> list[dict[str, Any]]:
    columns = [c for c in _GENERIC_VALUE_COLUMNS + _QUERIES[kind][2] if c in frame.columns]
    # value -> positions of the rows holding it in any indicator column
    positions: dict[str, set[int]] = {}
    for column in columns:
        for pos, cell in enumerate(frame[column].tolist()):
            key = _cell_key(kind, cell)
            if key is not None:
                positions.setdefault(key, set()).add(pos)
    records = frame.to_dict("records")  # once: per-IoC pandas indexing is slow
    rows = []
    for item in group:
        hits = [records[p] for p in sorted(positions.get(_cell_key(kind, item.value), ()))]
        if not hits:
            rows.append(
                _row(
                    item.value,
                    item.ioc_type,
                    TABLE_PROVIDER,
                    details=f"not in {TABLE} (last {days} days)",
                    reference=_QUERIES[kind][0],
                )
            )
        else:
            rows.append(_summarise(item, hits, end))
    return rows


# ---------------------------------------------------------------- msticpy providers


# Names that exist only inside a network or a test: never worth sending outside.
_UNSENDABLE_TLDS = frozenset({"local", "internal", "example", "test", "invalid", "localhost"})


def _withheld(item: _Item) -> str | None:
    """Why an indicator must not go to an online provider, or None if it may."""
    from urllib.parse import urlsplit

    from nbcatalog.enrich.ipclass import classify_ip

    host = item.value
    if item.ioc_type == "url":
        host = urlsplit(item.value).hostname or ""
    elif item.ioc_type not in ("ipv4", "ipv6", "dns"):
        return None
    try:
        ip_class = classify_ip(host)
    except ValueError:  # a name, not an address
        tld = host.rstrip(".").rsplit(".", 1)[-1].lower()
        return f"{tld} is a local or reserved name" if tld in _UNSENDABLE_TLDS else None
    return None if ip_class == "public" else f"{ip_class} address"


def _msticpy_rows(items: list[_Item], providers: tuple[str, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    send: list[_Item] = []
    for item in items:
        reason = _withheld(item)
        if reason is None:
            send.append(item)
        else:
            rows.extend(
                _row(
                    item.value,
                    item.ioc_type,
                    name,
                    details=f"not sent: {reason}",
                    status=STATUS_NOT_SUPPORTED,
                )
                for name in providers
            )
    if not send:
        return rows
    from msticpy.context.tilookup import TILookup

    lookup = TILookup(providers=list(providers))
    missing = [p for p in providers if p not in lookup.loaded_providers]
    if missing:
        from msticpy.common.provider_settings import get_provider_settings

        configured = ", ".join(get_provider_settings("TIProviders")) or "none"
        raise EnrichmentError(
            f"[enrichment.ti] providers {', '.join(missing)} did not load from "
            f"msticpyconfig.yaml (TIProviders section); configured there: {configured}"
        )
    data = {item.value: item.ioc_type for item in send}
    try:
        found = lookup.lookup_iocs_sync(data=data, providers=list(providers))
    except Exception as exc:  # network or provider failure: report, do not crash the notebook
        return rows + [
            _row(
                i.value,
                i.ioc_type,
                name,
                severity="unknown",
                details=f"look-up failed: {type(exc).__name__}: {exc}",
                status=STATUS_QUERY_FAILED,
            )
            for i in send
            for name in providers
        ]
    for rec in found.to_dict("records"):
        rows.append(
            _row(
                rec.get("Ioc"),
                rec.get("IocType"),
                str(rec.get("Provider")),
                result=bool(rec.get("Result")),
                severity=_severity_name(rec.get("Severity")),
                details=shorten(rec.get("Details"), 500).strip("'\""),
                reference=str(rec.get("Reference") or ""),
                status=int(rec.get("Status") or 0),
            )
        )
    return rows


def _severity_name(value: Any) -> str:
    # msticpy gives a ResultSeverity enum or its name, depending on the version.
    name = str(getattr(value, "name", value) or "unknown").lower()
    return name if name in SEVERITY_RANK else "unknown"


# ---------------------------------------------------------------- public API


def rank_results(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort TI results worst first: severity, then hits before misses, then by IoC.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"Ioc": ["a", "b"], "Severity": ["warning", "high"],
        ...                    "Result": [True, True]})
        >>> rank_results(df)["Ioc"].tolist()
        ['b', 'a']
    """
    if frame.empty:
        return frame.reset_index(drop=True)
    order = frame.assign(
        _rank=frame["Severity"].map(SEVERITY_RANK).fillna(0),
        _hit=frame["Result"].astype(bool),
    )
    order = order.sort_values(["_rank", "_hit", "Ioc"], ascending=[False, False, True])
    return order.drop(columns=["_rank", "_hit"]).reset_index(drop=True)


def lookup_iocs(
    iocs: Iterable[str],
    *,
    ioc_type: str | None = None,
    data_source: Any = None,
    start: Any = None,
    end: Any = None,
    settings: EnrichmentSettings | None = None,
) -> pd.DataFrame:
    """Threat intelligence on each indicator, one row per (indicator, provider), worst first.

    `iocs`: values (a single string is one value); blanks/NaN skipped, repeats
    looked up once. `ioc_type` ("ipv4", "url", "dns", "sha256_hash", or "ip",
    "domain", "hash", ...) forces a type; by default each value's type is inferred.
    A value that is not an indicator (of that type) gets a Status 2 row saying
    why: it is never queried. `data_source`: a spec ("duckdb:PATH",
    "msticpy:MSSentinel"), a DataSource or a Store; None means the configured
    default. `start`/`end` bound the indicators' TimeGenerated (default: the last
    `[enrichment.ti] lookback_days` days).

    Example:
        >>> res = lookup_iocs(["192.0.2.66", "8.8.8.8"], data_source="duckdb:/tmp/demo.duckdb")
        ...                                                               # doctest: +SKIP
        >>> res.loc[0, ["Ioc", "Result", "Severity"]].tolist()             # doctest: +SKIP
        ['192.0.2.66', True, 'high']
    """
    import pandas as pd

    settings = settings or current_settings()
    if ioc_type is not None:
        from nbcatalog.enrich.iocs import canonical_type

        canonical_type(ioc_type)  # an unknown type is the caller's error, not a row
    end_at = _to_utc(end, "end") if end is not None else datetime.now(timezone.utc)
    days = settings.ti.lookback_days
    start_at = _to_utc(start, "start") if start is not None else end_at - timedelta(days=days)
    if start_at > end_at:
        raise EnrichmentError(
            f"start {start_at:%Y-%m-%d %H:%M} is after end {end_at:%Y-%m-%d %H:%M}"
        )

    items = _prepare(iocs, ioc_type)
    valid = [i for i in items if i.error is None]
    rows = [
        _row(
            i.raw if isinstance(i.raw, str) and len(i.raw) <= 200 else shorten(i.raw, 200),
            None,
            "nbcatalog",
            severity="unknown",
            details=i.error,
            status=STATUS_BAD_FORMAT,
        )
        for i in items
        if i.error is not None
    ]
    if settings.ti.table:
        rows += _table_rows(valid, data_source, start_at, end_at, days)
    if settings.ti.providers and valid:
        rows += _msticpy_rows(valid, settings.ti.providers)
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    frame["Result"] = frame["Result"].astype(bool)
    frame["Status"] = frame["Status"].astype(int)
    frame["Confidence"] = frame["Confidence"].astype("float64")
    frame["Matches"] = frame["Matches"].astype(int)
    return rank_results(frame)


def lookup_ioc(ioc: str, *, ioc_type: str | None = None, data_source: Any = None, **kwargs: Any):
    """`lookup_iocs` for one indicator; EnrichmentError (a ValueError) if it is not one.

    Example:
        >>> try:
        ...     lookup_ioc("x' OR '1'='1")
        ... except ValueError as exc:
        ...     print(str(exc)[:28])
        "x' OR '1'='1" is not an IoC
    """
    normalize_ioc(ioc, ioc_type)
    return lookup_iocs([ioc], ioc_type=ioc_type, data_source=data_source, **kwargs)
