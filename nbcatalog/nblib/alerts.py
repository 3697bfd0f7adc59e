"""Security alerts: parse their Entities JSON and find the alerts naming an entity.

`SecurityAlert.Entities` is JSON text written from attacker-controlled data: it may
be malformed, truncated or huge, and entities refer to each other with
`{"$ref": "2"}`. `parse_entities` never raises on bad input. `related_alerts` runs
msticpy's `SecurityAlert.list_related_alerts` (which matches loosely) and keeps
only alerts whose entities really name the host or account.

Example:
    >>> parse_entities('[{"$id": "1", "Type": "host", "HostName": "WKSTN-042"}]')
    [{'$id': '1', 'Type': 'host', 'HostName': 'WKSTN-042'}]
    >>> parse_entities("not json")
    []
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pandas as pd

from nbcatalog.nblib.entities import account_matches, host_matches, mentions
from nbcatalog.nblib.findings import Finding

# Columns the analyst reads first; msticpy renames some (StartTime -> StartTimeUtc, ...).
ALERT_COLUMNS = [
    "StartTimeUtc",
    "AlertDisplayName",
    "Severity",
    "CompromisedEntity",
    "Tactics",
    "ProviderName",
    "Description",
    "SystemAlertId",
]
_RENAMES = {
    "StartTime": "StartTimeUtc",
    "EndTime": "EndTimeUtc",
    "DisplayName": "AlertDisplayName",
    "AlertSeverity": "Severity",
}
_MAX_ENTITIES_TEXT = 1_000_000  # larger Entities fields are not parsed (hostile input)


def parse_entities(text: Any) -> list[dict[str, Any]]:
    """The entities of one alert, with `$ref` references replaced by the entity they name.

    Bad JSON, non-list JSON or oversized text give an empty list.

    Example:
        >>> e = parse_entities('[{"$id":"2","Type":"file","Name":"a.exe"},'
        ...                    '{"$id":"3","Type":"process","ImageFile":{"$ref":"2"}}]')
        >>> e[1]["ImageFile"]["Name"]
        'a.exe'
    """
    if isinstance(text, list):
        items = text
    else:
        if not isinstance(text, str) or not text or len(text) > _MAX_ENTITIES_TEXT:
            return []
        try:
            items = json.loads(text)
        except (ValueError, RecursionError):
            return []
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        return []
    by_id: dict[str, dict[str, Any]] = {}

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            if "$id" in value:
                by_id[str(value["$id"])] = value
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    collect(items)

    def resolve(value: Any, depth: int = 0) -> Any:
        if depth > 20:  # reference cycles in hostile data
            return None
        if isinstance(value, dict):
            if set(value) == {"$ref"}:
                target = by_id.get(str(value["$ref"]))
                return resolve(target, depth + 1) if target is not None else None
            return {k: resolve(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v, depth + 1) for v in value]
        return value

    return [resolve(e) for e in items if isinstance(e, dict)]


def _entity_value(entity: dict[str, Any]) -> str:
    kind = str(entity.get("Type", "")).lower()
    if kind == "host":
        name = entity.get("HostName") or entity.get("NetBiosName") or ""
        domain = entity.get("DnsDomain")
        return f"{name}.{domain}" if name and domain else str(name)
    if kind == "account":
        name = entity.get("Name") or ""
        if entity.get("UPNSuffix"):
            return f"{name}@{entity['UPNSuffix']}"
        if entity.get("NTDomain"):
            return f"{entity['NTDomain']}\\{name}"
        return str(name)
    if kind == "ip":
        return str(entity.get("Address", ""))
    if kind == "url":
        return str(entity.get("Url", ""))
    if kind == "process":
        return str(entity.get("CommandLine") or entity.get("ProcessId") or "")
    if kind == "file":
        return str(entity.get("Name", ""))
    if kind == "filehash":
        return str(entity.get("Value", ""))
    for key in ("Name", "Value", "Address", "Url", "DomainName"):
        if entity.get(key):
            return str(entity[key])
    return ""


def alert_entities(alerts: pd.DataFrame) -> pd.DataFrame:
    """One row per entity of each alert: SystemAlertId, AlertDisplayName, Type, Value.

    Example:
        >>> df = pd.DataFrame({"SystemAlertId": ["a1"], "AlertDisplayName": ["x"],
        ...     "Entities": ['[{"Type": "ip", "Address": "203.0.113.77"}]']})
        >>> alert_entities(df)[["Type", "Value"]].values.tolist()
        [['ip', '203.0.113.77']]
    """
    rows = []
    alerts = normalize_alerts(alerts)
    for rec in alerts.to_dict("records"):
        for entity in parse_entities(rec.get("Entities")):
            rows.append(
                {
                    "SystemAlertId": rec.get("SystemAlertId"),
                    "AlertDisplayName": rec.get("AlertDisplayName"),
                    "Type": str(entity.get("Type", "")).lower(),
                    "Value": _entity_value(entity),
                }
            )
    return pd.DataFrame(rows, columns=["SystemAlertId", "AlertDisplayName", "Type", "Value"])


def normalize_alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts with msticpy's column names whichever form the source returned."""
    renames = {a: b for a, b in _RENAMES.items() if a in alerts.columns and b not in alerts.columns}
    return alerts.rename(columns=renames) if renames else alerts


def alert_names_host(alert: dict[str, Any], host: str) -> bool:
    """True when an alert's host entities or compromised entity name `host`."""
    for entity in parse_entities(alert.get("Entities")):
        if str(entity.get("Type", "")).lower() == "host" and (
            host_matches(host, _entity_value(entity))
            or host_matches(host, str(entity.get("HostName") or ""))
        ):
            return True
    return host_matches(host, str(alert.get("CompromisedEntity") or ""))


def alert_names_account(alert: dict[str, Any], account: str) -> bool:
    """True when an alert's account entities (or other entity text) name `account`."""
    entities = parse_entities(alert.get("Entities"))
    for entity in entities:
        if str(entity.get("Type", "")).lower() == "account" and (
            account_matches(account, _entity_value(entity))
            or account_matches(account, str(entity.get("Name") or ""))
        ):
            return True
    # Also an account written in another entity, e.g. a process command line "runas /user:bob".
    others = [e for e in entities if str(e.get("Type", "")).lower() not in ("account", "host")]
    return mentions(others, lambda s: account_matches(account, s))


def related_alerts(
    inv: Any,
    *,
    host: str | None = None,
    account: str | None = None,
    ip: str | None = None,
) -> Finding:
    """Alerts in the time range whose entities name `host`, `account` or `ip` (give one).

    Example (in a template):
        related = nblib.alerts.related_alerts(inv, host="WKSTN-042")
        glue("related_alerts", related.data)
    """
    title = "Related alerts"
    wanted = host or account or ip
    if not wanted:
        finding = Finding(title)
        finding.note(
            "skipped", "no host, account or IP address selected, so no alerts were searched"
        )
        return finding
    if ip:
        finding = inv.query("SecurityAlert.list_alerts_for_ip", title=title, source_ip_list=ip)
    else:
        params = {"host_name": host or "", "account_name": _bare(account) if account else ""}
        finding = inv.query("SecurityAlert.list_related_alerts", title=title, **params)
    finding.columns = ALERT_COLUMNS
    if finding.empty:
        if not finding.notes:
            finding.note("info", f"no alerts name {wanted} in {inv.period}")
        return finding
    data = normalize_alerts(finding.data)
    if "SystemAlertId" in data.columns:  # the IP query can return an alert once per match
        data = data.drop_duplicates(subset="SystemAlertId")
    keep = [
        (bool(host) and alert_names_host(rec, host))
        or (bool(account) and alert_names_account(rec, account))
        or (bool(ip) and alert_names_ip(rec, ip))
        for rec in data.to_dict("records")
    ]
    data = data[pd.Series(keep, index=data.index, dtype=bool)]
    sort_col = "StartTimeUtc" if "StartTimeUtc" in data.columns else "TimeGenerated"
    if sort_col in data.columns:
        data = data.sort_values(sort_col)
    finding.data = data.reset_index(drop=True)
    if finding.empty:
        finding.note("info", f"no alerts name {wanted} in {inv.period}")
    return finding


def alert_names_ip(alert: dict[str, Any], ip: str) -> bool:
    """True when an alert's IP entities, or the addresses in its extended properties, are `ip`.

    Example:
        >>> alert_names_ip({"Entities": '[{"Type": "ip", "Address": "203.0.113.77"}]'},
        ...                "203.0.113.77")
        True
    """
    wanted = _ip_text(ip)
    for entity in parse_entities(alert.get("Entities")):
        if (
            str(entity.get("Type", "")).lower() == "ip"
            and _ip_text(entity.get("Address")) == wanted
        ):
            return True
    return mentions(alert.get("ExtendedProperties"), lambda s: _ip_text(s) == wanted)


def _ip_text(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None


def _bare(account: str) -> str:
    # list_related_alerts matches text; the bare user name finds every spelling.
    from nbcatalog.nblib.entities import AccountName

    return AccountName.parse(account).user or account


def alert_summary(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts counted by name and severity, with first and last time seen.

    Example:
        >>> df = pd.DataFrame({"AlertDisplayName": ["a", "a"], "Severity": ["High"] * 2,
        ...     "TimeGenerated": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True)})
        >>> alert_summary(df)["Count"].tolist()
        [2]
    """
    alerts = normalize_alerts(alerts)
    cols = ["AlertDisplayName", "Severity", "Count", "FirstSeen", "LastSeen"]
    if alerts.empty or "AlertDisplayName" not in alerts.columns:
        return pd.DataFrame(columns=cols)
    time_col = "TimeGenerated" if "TimeGenerated" in alerts.columns else "StartTimeUtc"
    keys = [c for c in ("AlertDisplayName", "Severity") if c in alerts.columns]
    out = (
        alerts.groupby(keys, dropna=False)
        .agg(Count=(time_col, "size"), FirstSeen=(time_col, "min"), LastSeen=(time_col, "max"))
        .reset_index()
        .sort_values(["Count", "LastSeen"], ascending=[False, False])
    )
    return out.reset_index(drop=True)


_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2, "informational": 3}


def alert_names(alerts: pd.DataFrame) -> list[str]:
    """Distinct alert names, most severe first (a short answer for `--json` summaries).

    Example:
        >>> alert_names(pd.DataFrame({"AlertDisplayName": ["b", "a", "b"],
        ...                           "Severity": ["Low", "High", "Low"]}))
        ['a', 'b']
    """
    alerts = normalize_alerts(alerts)
    if alerts.empty or "AlertDisplayName" not in alerts.columns:
        return []
    severity = alerts.get("Severity", pd.Series("", index=alerts.index)).astype(str)
    rank = severity.str.lower().map(_SEVERITY_RANK).fillna(9)
    ordered = alerts.assign(_rank=rank).sort_values(["_rank", "AlertDisplayName"])
    return list(dict.fromkeys(str(n) for n in ordered["AlertDisplayName"].dropna()))


def alert_timeline(alerts: pd.DataFrame, title: str = "Alerts"):
    """A timeline of alerts by name, placed at each alert's start time.

    Example (in a template):
        glue("alert_timeline", nblib.alerts.alert_timeline(related_alerts.data))
    """
    from nbcatalog.nblib.plots import timeline

    alerts = normalize_alerts(alerts)
    time = "StartTimeUtc" if "StartTimeUtc" in alerts.columns else "TimeGenerated"
    return timeline(alerts, time=time, group="AlertDisplayName", colour_by="Severity", title=title)
