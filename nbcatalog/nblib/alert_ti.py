"""Alerts enriched with threat intelligence on the indicators in their entities.

Every alert's Entities JSON (attacker-controlled text) is searched for IP addresses,
URLs, domains and file hashes, including those inside PowerShell `-EncodedCommand`
command lines (decoded, never run); each indicator is looked up once with
`nbcatalog.enrich.ti.lookup_iocs`, and the alerts are ranked by the worst TI match
among their indicators. Steps return `Finding`s (a table plus notes), never raising
for missing tables or empty results.

Example (in a template):
    alerts = nblib.alert_ti.alerts_in_range(inv, entity="203.0.113.77")
    iocs = nblib.alert_ti.alert_iocs(alerts.data)
    ti = nblib.alert_ti.lookup_alert_iocs(inv, iocs)
    ranked = nblib.alert_ti.rank_alerts(alerts.data, ti.data)
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pandas as pd

from nbcatalog.nblib.alerts import normalize_alerts, parse_entities
from nbcatalog.nblib.entities import account_matches, host_matches, mentions
from nbcatalog.nblib.findings import Finding

# Indicator types looked up (msticpy names); hashes of every length.
TI_TYPES = ("ipv4", "ipv6", "url", "dns", "md5_hash", "sha1_hash", "sha256_hash")
IOC_COLUMNS = ["SystemAlertId", "AlertDisplayName", "Ioc", "IocType", "EntityType"]
RISK_ORDER = {"high": 3, "warning": 2, "information": 1, "none": 0}
_ALERT_SEVERITY = {"high": 3, "medium": 2, "low": 1, "informational": 0}
RANKED_COLUMNS = [
    "TiRisk",
    "TiHits",
    "MatchedIocs",
    "AlertDisplayName",
    "Severity",
    "StartTimeUtc",
    "CompromisedEntity",
    "Iocs",
    "SystemAlertId",
]
TI_COLUMNS = [
    "AlertDisplayName",
    "Ioc",
    "IocType",
    "Provider",
    "Result",
    "Severity",
    "ThreatType",
    "Confidence",
    "Details",
]
DETAIL_FIELDS = [
    "AlertDisplayName",
    "Severity",
    "StartTimeUtc",
    "EndTimeUtc",
    "CompromisedEntity",
    "ProviderName",
    "Tactics",
    "Description",
    "SystemAlertId",
]


def _same_ip(wanted: str, text: str) -> bool:
    try:
        return ipaddress.ip_address(wanted) == ipaddress.ip_address(text.strip())
    except ValueError:
        return False


def names_entity(alert: dict[str, Any], entity: str) -> bool:
    """True when one of the alert's entities (or its compromised entity) is `entity`.

    `entity` may be an IP address, host, account, URL, domain or hash; a value
    must be the whole entity field (or a whole word of it), so `203.0.113.7` does
    not match `203.0.113.77` and `bob` does not match `bobby.jones`.

    Example:
        >>> a = {"Entities": '[{"Type": "ip", "Address": "203.0.113.77"}]'}
        >>> names_entity(a, "203.0.113.77"), names_entity(a, "203.0.113.7")
        (True, False)
    """
    wanted = str(entity or "").strip()
    if not wanted:
        return True
    folded = wanted.casefold()

    def matcher(text: str) -> bool:
        text = str(text)
        return (
            text.strip().casefold() == folded
            or _same_ip(wanted, text)
            or host_matches(wanted, text)
            or account_matches(wanted, text)
        )

    entities = parse_entities(alert.get("Entities"))
    return mentions(entities, matcher) or mentions(alert.get("CompromisedEntity") or "", matcher)


def alerts_in_range(inv: Any, entity: str = "") -> Finding:
    """Every alert in the time range; with `entity`, only the alerts whose entities name it.

    Example (in a template):
        alerts = nblib.alert_ti.alerts_in_range(inv, entity="203.0.113.77")
    """
    title = f"Alerts naming {entity}" if entity else "Alerts"
    finding = inv.query("SecurityAlert.list_alerts", title=title)
    finding.columns = [
        "StartTimeUtc",
        "AlertDisplayName",
        "Severity",
        "CompromisedEntity",
        "ProviderName",
        "SystemAlertId",
    ]
    if finding.empty:
        if not finding.notes:
            finding.note("info", f"no alerts in {inv.period}")
        return finding
    data = normalize_alerts(finding.data)
    if entity:
        keep = [names_entity(rec, entity) for rec in data.to_dict("records")]
        data = data[pd.Series(keep, index=data.index, dtype=bool)]
    finding.data = data.reset_index(drop=True)
    if finding.empty:
        finding.note("info", f"no alert in {inv.period} names {entity}")
    return finding


def alert_iocs(alerts: pd.DataFrame, *, decode: bool = True) -> pd.DataFrame:
    """The indicators in each alert's entities: SystemAlertId, AlertDisplayName, Ioc, IocType,
    EntityType (the kind of entity it was found in).

    With `decode`, PowerShell `-EncodedCommand` text in command lines is decoded
    and searched as well (read, never run).

    Example:
        >>> df = pd.DataFrame({"SystemAlertId": ["a1"], "Entities": [
        ...     '[{"Type": "ip", "Address": "203.0.113.77"}, {"Type": "url",'
        ...     ' "Url": "http://malicious.example/payload.ps1"}]']})
        >>> alert_iocs(df)[["Ioc", "IocType"]].values.tolist()
        [['203.0.113.77', 'ipv4'], ['http://malicious.example/payload.ps1', 'url'], \
['malicious.example', 'dns']]
    """
    from nbcatalog.enrich.iocs import extract_entity_iocs

    rows: list[dict[str, Any]] = []
    if alerts is None or alerts.empty or "Entities" not in alerts.columns:
        return pd.DataFrame(columns=IOC_COLUMNS)
    alerts = normalize_alerts(alerts)
    ids = alerts.get("SystemAlertId", pd.Series(alerts.index.astype(str), index=alerts.index))
    names = alerts.get("AlertDisplayName", pd.Series("", index=alerts.index))
    for alert_id, name, entities in zip(ids, names, alerts["Entities"], strict=True):
        # Entities parsed here resolve {"$ref": ...} links before IoCs are searched.
        parsed = [_without_org_names(e) for e in parse_entities(entities)]
        source: Any = parsed if parsed else entities
        found = extract_entity_iocs(source if source else None, types=TI_TYPES, decode=decode)
        for rec in found.to_dict("records"):
            rows.append({"SystemAlertId": alert_id, "AlertDisplayName": name, **rec})
    out = pd.DataFrame(rows, columns=IOC_COLUMNS)
    return out.drop_duplicates(["SystemAlertId", "Ioc", "IocType"]).reset_index(drop=True)


# Fields naming the organisation's own domain (contoso.com), not an indicator.
_ORG_FIELDS = {"host": ("DnsDomain", "NTDomain"), "account": ("UPNSuffix", "NTDomain")}


def _without_org_names(entity: dict[str, Any]) -> dict[str, Any]:
    drop = _ORG_FIELDS.get(str(entity.get("Type", "")).lower(), ())
    return {k: v for k, v in entity.items() if k not in drop}


def lookup_alert_iocs(inv: Any, iocs: pd.DataFrame, alerts: pd.DataFrame | None = None) -> Finding:
    """TI results for the alerts' indicators, one row per (alert, indicator, provider).

    Each distinct indicator is looked up once (ThreatIntelligenceIndicator table of
    the investigation's data source, plus any configured msticpy provider), with
    indicators counted up to the end of the time range.
    """
    from nbcatalog.enrich.ti import RESULT_COLUMNS, lookup_iocs, rank_results

    finding = Finding("Threat-intelligence results")
    finding.columns = TI_COLUMNS
    if iocs is None or iocs.empty:
        finding.note("info", "the alerts' entities hold no IP address, URL, domain or hash")
        return finding
    from nbcatalog.nblib.queries import has_table

    if has_table(inv.source, "ThreatIntelligenceIndicator") is False:
        finding.note(
            "missing", "no ThreatIntelligenceIndicator table in this data source: no TI from it"
        )
    distinct = iocs.drop_duplicates(["Ioc", "IocType"])
    results = []
    for kind, group in distinct.groupby("IocType", sort=True):
        found = lookup_iocs(list(group["Ioc"]), ioc_type=kind, data_source=inv.source, end=inv.end)
        if not found.empty:
            found = found.assign(IocType=found["IocType"].fillna(kind))
            results.append(found)
    ti = pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=RESULT_COLUMNS)
    merged = iocs.merge(ti, on=["Ioc", "IocType"], how="inner")
    if (
        "AlertDisplayName" not in merged.columns
        and alerts is not None
        and not alerts.empty
        and "SystemAlertId" in alerts.columns
    ):
        names = normalize_alerts(alerts).drop_duplicates("SystemAlertId")
        keep = [c for c in ("SystemAlertId", "AlertDisplayName") if c in names.columns]
        merged = merged.merge(names[keep], on="SystemAlertId", how="left")
    if "AlertDisplayName" not in merged.columns:
        merged["AlertDisplayName"] = ""
    finding.data = rank_results(merged) if not merged.empty else merged.reset_index(drop=True)
    note_failures(finding, ti)
    if not finding.empty and not finding.data["Result"].any():
        finding.note("info", f"none of the {len(distinct)} indicators matched any TI source")
    return finding


def note_failures(finding: Finding, ti: pd.DataFrame) -> None:
    """Add a note when TI look-ups failed (a missing table, a provider error).

    Example:
        >>> f = Finding("TI")
        >>> note_failures(f, pd.DataFrame({"Ioc": ["a"], "Status": [3], "Details": ["boom"]}))
        >>> f.messages()
        ['missing: TI look-up failed for 1 indicator(s): boom']
    """
    if ti is None or ti.empty or "Status" not in ti.columns:
        return
    failed = ti[ti["Status"] == 3]  # enrich.ti.STATUS_QUERY_FAILED
    if not failed.empty:
        first = str(failed["Details"].iloc[0]).splitlines()[0][:300]
        count = failed["Ioc"].nunique()
        finding.note("missing", f"TI look-up failed for {count} indicator(s): {first}")


def _risk(ti_rows: pd.DataFrame) -> tuple[str, int, list[str]]:
    hits = ti_rows[ti_rows["Result"].astype(bool)] if not ti_rows.empty else ti_rows
    if hits.empty:
        return "none", 0, []
    worst = max(hits["Severity"], key=lambda s: RISK_ORDER.get(str(s), 0))
    labels = [
        f"{ioc} ({sev})"
        for ioc, sev in hits.drop_duplicates("Ioc")[["Ioc", "Severity"]].itertuples(index=False)
    ]
    return str(worst), int(hits["Ioc"].nunique()), labels


def rank_alerts(
    alerts: pd.DataFrame, ti: pd.DataFrame, iocs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per alert with its TI risk, worst first (the `enriched_results` table).

    Columns added: TiRisk (worst severity among the alert's TI matches: high,
    warning, information or none), TiRiskScore (3 to 0), TiHits (indicators
    matched), MatchedIocs (text), Iocs (indicators found). Ties are broken by the
    alert's own severity, then the newest first.

    Example:
        >>> alerts = pd.DataFrame({"SystemAlertId": ["a", "b"], "AlertDisplayName": ["x", "y"],
        ...                        "Severity": ["High", "Low"]})
        >>> ti = pd.DataFrame({"SystemAlertId": ["b"], "Ioc": ["203.0.113.77"],
        ...                    "Result": [True], "Severity": ["high"]})
        >>> rank_alerts(alerts, ti)[["SystemAlertId", "TiRisk", "TiHits"]].values.tolist()
        [['b', 'high', 1], ['a', 'none', 0]]
    """
    alerts = normalize_alerts(alerts) if alerts is not None else pd.DataFrame()
    if alerts.empty:
        return pd.DataFrame(columns=RANKED_COLUMNS)
    alerts = alerts.reset_index(drop=True)
    if "SystemAlertId" not in alerts.columns:
        alerts["SystemAlertId"] = alerts.index.astype(str)
    ti = ti if ti is not None and not ti.empty else pd.DataFrame(columns=["SystemAlertId"])
    by_alert = {k: g for k, g in ti.groupby("SystemAlertId", sort=False)} if not ti.empty else {}
    counts = (
        iocs.groupby("SystemAlertId")["Ioc"].nunique().to_dict()
        if iocs is not None and not iocs.empty
        else {}
    )
    risk, score, hits, matched, found = [], [], [], [], []
    for alert_id in alerts["SystemAlertId"]:
        rows = by_alert.get(alert_id, pd.DataFrame(columns=["Ioc", "Result", "Severity"]))
        level, n_hits, labels = _risk(rows)
        risk.append(level)
        score.append(RISK_ORDER[level] if level in RISK_ORDER else 0)
        hits.append(n_hits)
        matched.append(", ".join(labels))
        found.append(int(counts.get(alert_id, rows["Ioc"].nunique() if not rows.empty else 0)))
    out = alerts.assign(
        TiRisk=risk, TiRiskScore=score, TiHits=hits, MatchedIocs=matched, Iocs=found
    )
    severity = out.get("Severity", pd.Series("", index=out.index)).astype(str).str.lower()
    time_col = next((c for c in ("StartTimeUtc", "TimeGenerated") if c in out.columns), None)
    order = out.assign(_sev=severity.map(_ALERT_SEVERITY).fillna(-1))
    keys, ascending = ["TiRiskScore", "TiHits", "_sev"], [False, False, False]
    if time_col:
        keys.append(time_col)
        ascending.append(False)
    order = order.sort_values(keys, ascending=ascending, kind="stable")
    return order.drop(columns=["_sev"]).reset_index(drop=True)


def ranked_finding(ranked: pd.DataFrame, entity: str = "") -> Finding:
    """The ranked table as a Finding, with a note naming the high-risk alerts.

    Example:
        >>> f = ranked_finding(pd.DataFrame({"AlertDisplayName": ["x"], "TiRisk": ["high"]}))
        >>> f.messages()
        ['finding: 1 alert(s) have a high-severity TI match: x']
    """
    finding = Finding("Alerts ranked by TI risk", ranked, columns=RANKED_COLUMNS)
    if ranked is None or ranked.empty:
        finding.note("info", f"no alerts{' naming ' + entity if entity else ''} to rank")
        return finding
    high = ranked[ranked["TiRisk"] == "high"]
    if not high.empty:
        names = ", ".join(dict.fromkeys(str(n) for n in high.get("AlertDisplayName", [])))
        finding.note("finding", f"{len(high)} alert(s) have a high-severity TI match: {names}")
    return finding


def choose_alert(ranked: pd.DataFrame, alert_id: str = "") -> tuple[str, list[str]]:
    """The alert to show in detail: `alert_id`, else the top-ranked one. (id, notes)

    Example:
        >>> choose_alert(pd.DataFrame({"SystemAlertId": ["a", "b"]}))
        ('a', ['alert_id not given: showing the highest-risk alert'])
        >>> choose_alert(pd.DataFrame({"SystemAlertId": ["a"]}), "zz")[1]
        ["no alert with SystemAlertId 'zz' in the time range"]
    """
    if ranked is None or ranked.empty or "SystemAlertId" not in ranked.columns:
        return "", ["no alerts to show"]
    ids = [str(v) for v in ranked["SystemAlertId"]]
    if alert_id:
        wanted = str(alert_id).strip().casefold()
        for value in ids:
            if value.casefold() == wanted:
                return value, []
        return "", [f"no alert with SystemAlertId {str(alert_id)[:100]!r} in the time range"]
    return ids[0], ["alert_id not given: showing the highest-risk alert"]


def alert_details(
    ranked: pd.DataFrame, ti: pd.DataFrame, alert_id: str = "", iocs: pd.DataFrame | None = None
) -> list[Finding]:
    """Findings for one alert: its fields, its entities and its TI results.

    Used by the template's detail section and by `browse` in a notebook; every
    value is shown as escaped text (links are never made clickable).

    Example:
        >>> ranked = pd.DataFrame({"SystemAlertId": ["a"], "AlertDisplayName": ["<b>x</b>"],
        ...                        "Entities": ['[{"Type": "ip", "Address": "192.0.2.66"}]']})
        >>> [f.title for f in alert_details(ranked, pd.DataFrame(), "a")]
        ['Alert <b>x</b>', 'Entities', 'TI results for this alert']
    """
    chosen, notes = choose_alert(ranked, alert_id)
    if not chosen:
        finding = Finding("Alert details")
        for text in notes:
            finding.note("info", text)
        return [finding]
    row = ranked[ranked["SystemAlertId"].astype(str) == chosen].iloc[0].to_dict()
    fields = [f for f in DETAIL_FIELDS + ["TiRisk", "MatchedIocs"] if f in row]
    detail = Finding(
        f"Alert {row.get('AlertDisplayName', chosen)}",
        pd.DataFrame({"Field": fields, "Value": [row[f] for f in fields]}),
        max_rows=100,
    )
    for text in notes:
        detail.note("info", text)
    entities = Finding("Entities", _entity_rows(row.get("Entities")), max_rows=100)
    if entities.empty:
        entities.note("info", "the alert lists no entities")
    rows = (
        ti[ti["SystemAlertId"].astype(str) == chosen]
        if ti is not None and not ti.empty and "SystemAlertId" in ti.columns
        else pd.DataFrame()
    )
    ti_finding = Finding("TI results for this alert", rows.reset_index(drop=True))
    ti_finding.columns = [c for c in TI_COLUMNS if c != "AlertDisplayName"]
    if ti_finding.empty:
        has_iocs = iocs is not None and not iocs.empty and chosen in set(iocs["SystemAlertId"])
        ti_finding.note(
            "info",
            "its indicators were not looked up"
            if has_iocs
            else "its entities hold no IP address, URL, domain or hash",
        )
    return [detail, entities, ti_finding]


def _entity_rows(entities: Any) -> pd.DataFrame:
    from nbcatalog.nblib.alerts import alert_entities

    frame = alert_entities(pd.DataFrame({"SystemAlertId": [""], "Entities": [entities]}))
    return frame[["Type", "Value"]].reset_index(drop=True)


def browse(results: Any):
    """In a notebook: a dropdown of the ranked alerts showing the chosen one's details.

    Works on the harvested `enriched_results` and `ti_results` of a run (no re-run);
    `nblib.pickers.picker(res, "alert_id")` re-runs the template instead.

    Example (in a caller's notebook):
        >>> res = nbcatalog.run("alert_ti_enrich")        # doctest: +SKIP
        >>> nblib.alert_ti.browse(res)                    # doctest: +SKIP
    """
    import ipywidgets as widgets
    from IPython.display import display

    ranked = results["enriched_results"]
    ti = results["ti_results"]
    options = [
        (f"[{r.get('TiRisk', '')}] {r.get('AlertDisplayName', '')}", str(r["SystemAlertId"]))
        for r in ranked.to_dict("records")
    ]
    dropdown = widgets.Dropdown(options=options, description="alert", layout={"width": "80%"})
    output = widgets.Output()

    def show(_: Any = None) -> None:
        with output:
            output.clear_output()
            for finding in alert_details(ranked, ti, dropdown.value or ""):
                display(finding)

    dropdown.observe(show, names="value")
    show()
    box = widgets.VBox([dropdown, output])
    box.dropdown = dropdown
    box.show_selected = show
    return box
