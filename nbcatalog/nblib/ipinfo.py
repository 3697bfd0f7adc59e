"""What the estate knows of one IP address: its class, hosts, location, TI, logons, alerts.

Each step returns a `Finding` (a table plus notes saying what was missing), never
an exception for missing data. Private and other internal addresses are never
sent to GeoIP or threat intelligence: the step says so instead. Documentation
and reserved ranges count as external (attackers' test data and spoofed sources
use them, and a TI table may list them), but GeoIP has no location for them.

Example (in a template):
    facts = nblib.ipinfo.ip_facts("203.0.113.77")
    hosts = nblib.ipinfo.hosts_for_ip(inv, "10.10.1.52")
    logons = nblib.ipinfo.logons_from_ip(inv, "203.0.113.77")

    >>> ip_facts("10.10.1.52").ip_class, ip_facts("10.10.1.52").external
    ('private', False)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbcatalog.nblib.attempts import normalise_address
from nbcatalog.nblib.entities import mentions
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.flows import address_class, is_external
from nbcatalog.nblib.logons import linux_logons_on
from nbcatalog.nblib.values import first_column, text_of

MEANING = {
    "private": "a private address (RFC 1918 / unique local): inside an organisation's "
    "network, not routed on the internet",
    "loopback": "a loopback address: the machine itself",
    "link-local": "a link-local address: valid only on one network segment",
    "documentation": "a documentation range (RFC 5737 / 3849): reserved for examples, "
    "never a real internet host, yet often seen in test data and spoofed traffic",
    "reserved": "a reserved or special-purpose address (shared, benchmarking, future use)",
    "multicast": "a multicast address: a group, not one host",
    "public": "a public internet address",
    "invalid": "not an IP address",
}
LOGON_COLUMNS = [
    "TimeGenerated",
    "Source",
    "Computer",
    "Account",
    "Result",
    "LogonType",
    "Details",
]
TI_TABLE = "ThreatIntelligenceIndicator"
HOST_COLUMNS = ["HostName", "Source", "LastSeen", "OSType", "Details"]


@dataclass
class IpFacts(Finding):
    """The address, its version and class, and whether it can be on the internet."""

    ip: str = ""
    ip_class: str = "invalid"
    external: bool = False


def ip_facts(ip: str) -> IpFacts:
    """Class and meaning of `ip` (no data access, no network).

    Example:
        >>> f = ip_facts("203.0.113.77")
        >>> f.ip_class, f.external, f.data.set_index("Property").loc["Version", "Value"]
        ('documentation', True, 'IPv4')
    """
    text = text_of(ip)
    facts = IpFacts("Address", ip=text)
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        facts.note("warning", f"{text!r} is not an IPv4 or IPv6 address")
        facts.data = pd.DataFrame(columns=["Property", "Value"])
        return facts
    facts.ip = str(addr)
    facts.ip_class = address_class(facts.ip)
    facts.external = is_external(facts.ip_class)
    facts.data = pd.DataFrame(
        {
            "Property": ["Address", "Version", "Class", "Meaning"],
            "Value": [
                facts.ip,
                f"IPv{addr.version}",
                facts.ip_class,
                MEANING.get(facts.ip_class, facts.ip_class),
            ],
        }
    )
    return facts


@dataclass
class HostsForIp(Finding):
    """Hosts using an address (`data`) and the Heartbeat rows behind them (`heartbeat`)."""

    heartbeat: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class LogonsFromIp(Finding):
    """Logon attempts from an address, one row each (`data`), and the sign-in rows as
    Entra ID wrote them (`signins`)."""

    signins: pd.DataFrame = field(default_factory=pd.DataFrame)


def hosts_for_ip(inv: Any, ip: str, flows: pd.DataFrame | None = None) -> HostsForIp:
    """Hosts of the estate that use `ip`: last Heartbeat, NSG interface record, flow logs.

    `flows`: raw or normalized flows already fetched for the address (their
    VMName/VMIPAddress say which VM had it); None to skip that evidence.

    Example:
        hosts_for_ip(inv, "10.10.1.52")   # -> WKSTN-042 (Heartbeat, network flows)
    """
    found = HostsForIp("Hosts using the address", columns=HOST_COLUMNS)
    rows: list[dict[str, Any]] = []
    hb = inv.query("Network.get_heartbeat_for_ip", title="Heartbeat", ip_address=ip)
    found.notes += hb.notes
    found.heartbeat = hb.data
    for rec in hb.data.to_dict("records"):
        rows.append(
            {
                "HostName": rec.get("Computer"),
                "Source": "Heartbeat",
                "LastSeen": rec.get("TimeGenerated"),
                "OSType": rec.get("OSType"),
                "Details": text_of(rec.get("OSName")),
            }
        )
    nic = inv.query("Network.get_host_for_ip", title="NSG interface", ip_address=ip)
    if not nic.missing:  # this record is Azure-only: its absence is not worth a note
        for rec in nic.data.to_dict("records"):
            name = text_of(rec.get("Computer")) or text_of(rec.get("VirtualMachine")).split("/")[-1]
            if name:
                rows.append(
                    {
                        "HostName": name,
                        "Source": "Network interface",
                        "LastSeen": rec.get("TimeGenerated"),
                        "OSType": None,
                        "Details": "Azure NSG interface record",
                    }
                )
    if flows is not None and not flows.empty and {"VMName", "VMIPAddress"} <= set(flows.columns):
        own = flows[flows["VMIPAddress"].map(text_of) == ip]
        times = "FlowTime" if "FlowTime" in own else "TimeGenerated"
        for name, part in own.groupby("VMName"):
            rows.append(
                {
                    "HostName": name,
                    "Source": "Network flows",
                    "LastSeen": part[times].max() if times in part else None,
                    "OSType": None,
                    "Details": f"{len(part)} flow records with this VM address",
                }
            )
    found.data = pd.DataFrame(rows, columns=HOST_COLUMNS)
    if not found.data.empty:
        found.data["LastSeen"] = pd.to_datetime(found.data["LastSeen"], utc=True, errors="coerce")
    if found.empty and not found.missing:
        found.note("info", f"no host of the estate reported {ip} in {inv.period}")
    return found


def geo_for_ip(facts: IpFacts) -> Finding:
    """GeoIP and AS owner of a public address (lookup_ips columns); a note for any other.

    Example:
        >>> geo_for_ip(ip_facts("10.0.0.1")).messages()[0][:40]
        'skipped: 10.0.0.1 is a private address: '
    """
    found = Finding("Location and owner")
    if facts.ip_class != "public":
        found.note(
            "skipped",
            f"{facts.ip} is a {facts.ip_class} address: GeoIP has no location or owner "
            "for it, so none was looked up",
        )
        return found
    from nbcatalog.enrich.geoip import lookup_ips

    geo = lookup_ips([facts.ip])
    found.data = geo
    found.columns = [
        "IpAddress",
        "CountryName",
        "CountryCode",
        "City",
        "Asn",
        "AsnOrg",
        "GeoSource",
    ]
    if geo.empty or geo[["CountryCode", "AsnOrg"]].isna().all(axis=None):
        found.note("info", f"the GeoIP data has no entry for {facts.ip}")
    return found


def ti_for_ips(inv: Any, ips: Iterable[str], title: str = "Threat intelligence") -> Finding:
    """Threat-intelligence results for the external addresses in `ips`, matches first.

    Internal addresses (private, loopback, link-local, multicast) are not looked
    up; a note says how many were left out. The data has `lookup_iocs` columns.

    Example:
        ti_for_ips(inv, ["192.0.2.66", "10.20.0.20"])   # one TI match, one address skipped
    """
    found = Finding(title, columns=["Ioc", "Result", "Severity", "ThreatType", "Details"])
    wanted = sorted({text_of(i) for i in ips if text_of(i)})
    external = [i for i in wanted if is_external(address_class(i))]
    left_out = len(wanted) - len(external)
    if left_out:
        found.note(
            "skipped",
            f"{left_out} internal address{'es' if left_out != 1 else ''} "
            "(private, loopback, link-local, multicast or invalid) not looked up",
        )
    if not external:
        if not left_out:
            found.note("info", "no addresses to look up")
        return found
    from nbcatalog.enrich.settings import current_settings

    if not current_settings().ti.providers and not _has_table(inv.source, TI_TABLE):
        found.note("missing", f"no {TI_TABLE} table in this data source, so no TI look-up")
        return found
    from nbcatalog.enrich.ti import lookup_iocs

    found.data = lookup_iocs(external, ioc_type="ip", data_source=inv.source, end=inv.end)
    hits = found.data[found.data["Result"]]
    if hits.empty:
        found.note("info", f"no TI provider lists any of the {len(external)} address(es)")
    else:
        found.note(
            "finding",
            f"{hits['Ioc'].nunique()} address(es) listed by threat intelligence: "
            + ", ".join(sorted(hits["Ioc"].unique())[:10]),
        )
    return found


def _has_table(source: Any, table: str) -> bool:
    try:
        return table in set(source.tables())
    except Exception:  # a source that cannot list its tables: just try the look-up
        return True


def ti_matches(ti: pd.DataFrame) -> list[str]:
    """The indicators with a TI match, worst first (a short answer for --json summaries).

    Example:
        >>> ti_matches(pd.DataFrame({"Ioc": ["a", "b"], "Result": [False, True]}))
        ['b']
    """
    if ti is None or ti.empty or "Result" not in ti:
        return []
    return list(dict.fromkeys(ti.loc[ti["Result"].astype(bool), "Ioc"].astype(str)))


def _windows(data: pd.DataFrame) -> pd.DataFrame:
    if data.empty:
        return pd.DataFrame(columns=LOGON_COLUMNS)
    event = pd.to_numeric(data.get("EventID"), errors="coerce")
    return pd.DataFrame(
        {
            "TimeGenerated": data["TimeGenerated"],
            "Source": "Windows",
            "Computer": data.get("Computer"),
            "Account": data.get("Account"),
            "Result": event.map({4624: "Success", 4625: "Failure"}).fillna("Other"),
            "LogonType": data.get("LogonTypeName", data.get("LogonType")),
            "Details": data.get("Status"),
        }
    )


def _linux(inv: Any, ip: str) -> tuple[pd.DataFrame, Finding]:
    """Linux logon attempts from `ip`, counted as host_logons_summary counts them.

    The Syslog queries for the address find the hosts with a logon line naming it;
    each host's logon lines then go through the one logon-attempt model
    (`nblib.attempts`), and the attempts whose source is `ip` are kept. Counting the
    address's own lines instead would count sshd's echo lines twice and miss
    sysklogd's "last message repeated" lines, which name no address.
    """
    address = normalise_address(ip)
    ok = inv.query("LinuxSyslog.list_logons_for_source_ip", ip_address=address)
    bad = inv.query("LinuxSyslog.list_ip_logon_failures", ip_address=address)
    hosts = [text_of(c) for part in (ok.data, bad.data) for c in first_column(part, "Computer")]
    rows = linux_logons_on(inv, hosts).data
    rows = rows[rows["SourceIP"] == address]
    if rows.empty:
        return pd.DataFrame(columns=LOGON_COLUMNS), ok
    frame = pd.DataFrame(
        {
            "TimeGenerated": rows["TimeGenerated"],
            "Source": "Linux",
            "Computer": rows["Computer"],
            "Account": rows["Account"],
            "Result": rows["LogonResult"],
            "LogonType": rows["LogonTypeName"],
            "Details": rows["Detail"],
        }
    )
    return frame, ok


def _signins(data: pd.DataFrame) -> pd.DataFrame:
    if data.empty:
        return pd.DataFrame(columns=LOGON_COLUMNS)
    code = data.get("ResultType", pd.Series("", index=data.index)).map(text_of)
    return pd.DataFrame(
        {
            "TimeGenerated": data["TimeGenerated"],
            "Source": "Entra ID sign-in",
            "Computer": data.get("AppDisplayName"),
            "Account": data.get("UserPrincipalName"),
            "Result": ["Success" if c in ("0", "") else "Failure" for c in code],
            "LogonType": data.get("ClientAppUsed"),
            "Details": data.get("ResultDescription"),
        }
    )


def logons_from_ip(inv: Any, ip: str) -> LogonsFromIp:
    """Logon attempts from `ip`: Windows 4624/4625, Linux sshd/su lines, Entra ID sign-ins.

    One row per attempt with TimeGenerated, Source, Computer (or application),
    Account, Result (Success / Failure), LogonType, Details; notes name the
    sources that were missing. Linux attempts are counted by the logon-attempt
    model, so they equal host_logons_summary's attempts from the address.

    Example:
        logons_from_ip(inv, "198.51.100.23")   # the SSH spray and the deploy logon
    """
    found = LogonsFromIp("Logons from the address", columns=LOGON_COLUMNS)
    parts = []
    win = inv.query("WindowsSecurity.list_logon_attempts_by_ip", ip_address=ip)
    parts.append(_windows(win.data))
    linux, ok = _linux(inv, ip)
    parts.append(linux)
    aad = inv.query("Azure.list_aad_signins_for_ip", ip_address_list=[ip])
    found.signins = aad.data
    parts.append(_signins(aad.data))
    for q in (win, ok, aad):  # the failures query repeats the Syslog note
        found.notes += q.notes
    parts = [p for p in parts if not p.empty]
    if parts:
        data = pd.concat(parts, ignore_index=True)
        data["TimeGenerated"] = pd.to_datetime(data["TimeGenerated"], utc=True, errors="coerce")
        found.data = data.sort_values("TimeGenerated", kind="stable").reset_index(drop=True)
    else:
        found.data = pd.DataFrame(columns=LOGON_COLUMNS)
        found.note("info", f"no logon attempts from {ip} in {inv.period}")
    return found


def logon_summary(logons: pd.DataFrame) -> pd.DataFrame:
    """Attempts per source, computer, account and result (busiest first).

    Example:
        >>> df = pd.DataFrame({"Source": ["Linux"] * 3, "Computer": ["WEB"] * 3,
        ...     "Account": ["a", "b", "deploy"], "Result": ["Failure", "Failure", "Success"],
        ...     "TimeGenerated": pd.to_datetime(["2024-05-01"] * 3, utc=True)})
        >>> logon_summary(df)[["Result", "Attempts", "Accounts"]].values.tolist()
        [['Failure', 2, 2], ['Success', 1, 1]]
    """
    columns = ["Source", "Computer", "Result", "Attempts", "Accounts", "FirstSeen", "LastSeen"]
    if logons is None or logons.empty:
        return pd.DataFrame(columns=columns)
    out = (
        logons.fillna({"Computer": ""})
        .groupby(["Source", "Computer", "Result"])
        .agg(
            Attempts=("Result", "size"),
            Accounts=("Account", "nunique"),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
        .sort_values("Attempts", ascending=False, kind="stable")
    )
    return out[columns].reset_index(drop=True)


def _names_ip(ip: str):
    return lambda text: text.strip().casefold() == ip.casefold()


def alerts_for_ip(inv: Any, ip: str) -> Finding:
    """Alerts in the time range whose entities or properties name `ip` exactly.

    Example:
        alerts_for_ip(inv, "203.0.113.77")   # the brute-force and sign-in alerts
    """
    from nbcatalog.nblib.alerts import ALERT_COLUMNS, normalize_alerts

    found = inv.query("SecurityAlert.list_alerts_for_ip", title="Related alerts", source_ip_list=ip)
    found.columns = ALERT_COLUMNS
    if not found.empty:
        data = normalize_alerts(found.data)
        matcher = _names_ip(ip)
        keep = [
            mentions(rec.get("Entities"), matcher)
            or mentions(rec.get("ExtendedProperties"), matcher)
            for rec in data.to_dict("records")
        ]
        found.data = data[pd.Series(keep, index=data.index, dtype=bool)].reset_index(drop=True)
    if found.empty and not found.notes:
        found.note("info", f"no alerts name {ip} in {inv.period}")
    return found


def bookmarks_for_ip(inv: Any, ip: str) -> Finding:
    """Hunting bookmarks in the time range that name `ip` exactly.

    Example:
        bookmarks_for_ip(inv, "203.0.113.77")
    """
    from nbcatalog.nblib.bookmarks import keep_naming

    found = inv.query(
        "AzureSentinel.list_bookmarks_for_entity", title="Related bookmarks", ip_address=ip
    )
    return keep_naming(found, _names_ip(ip), ip, inv.period)


def geo_for_ips(ips: Iterable[str], title: str = "GeoIP") -> Finding:
    """Country and AS owner of the public addresses among `ips` (lookup_ips rows for all).

    Non-public addresses get a row with their class and no location: the offline
    GeoIP resolver never sees them.

    Example:
        >>> geo_for_ips(["8.8.8.8", "10.0.0.1"]).data["CountryCode"].tolist()
        ['US', None]
    """
    from nbcatalog.enrich.geoip import lookup_ips

    found = Finding(title)
    wanted = [i for i in dict.fromkeys(text_of(v) for v in ips) if i]
    found.data = lookup_ips(wanted)
    public = int((found.data["IpClass"] == "public").sum()) if not found.empty else 0
    located = int(found.data["Latitude"].notna().sum()) if not found.empty else 0
    if len(wanted) > public:
        found.note(
            "info",
            f"{len(wanted) - public} of {len(wanted)} addresses are not public: "
            "no location or owner looked up for them",
        )
    if public > located:
        found.note("info", f"{public - located} public address(es) not found in the GeoIP data")
    return found


def ip_entity(facts: IpFacts, geo: pd.DataFrame | None, ti: pd.DataFrame | None) -> dict[str, Any]:
    """The address as a dict: Address, Version, Class, Meaning, and when known Country, AsnOrg, TI.

    Example:
        >>> ip_entity(ip_facts("10.1.2.3"), None, None)["Class"]
        'private'
    """
    entity: dict[str, Any] = dict(zip(facts.data["Property"], facts.data["Value"], strict=True))
    if geo is not None and not geo.empty:
        row = geo.iloc[0]
        for key, column in (
            ("Country", "CountryName"),
            ("CountryCode", "CountryCode"),
            ("AsnOrg", "AsnOrg"),
            ("Asn", "Asn"),
        ):
            value = row.get(column)
            if text_of(value):
                entity[key] = str(value) if key != "Asn" else int(value)
    matches = ti_matches(ti)
    if ti is not None and not ti.empty:
        worst = ti[ti["Result"].astype(bool)]
        entity["ThreatIntel"] = f"listed ({worst['Severity'].iloc[0]})" if matches else "not listed"
    return entity


def entity_finding(entity: dict[str, Any], summary: pd.DataFrame, period: str) -> Finding:
    """The summary table under a heading naming the address, its class and TI verdict.

    Example:
        >>> f = entity_finding({"Address": "10.1.2.3", "Class": "private"}, pd.DataFrame(), "x")
        >>> f.title
        'Summary for 10.1.2.3 (private), x'
    """
    address = entity.get("Address", "no address")
    facts = ", ".join(
        str(entity[k]) for k in ("Class", "Country", "AsnOrg") if text_of(entity.get(k))
    )
    found = Finding(f"Summary for {address} ({facts}), {period}", summary)
    if str(entity.get("ThreatIntel", "")).startswith("listed"):
        found.note("finding", f"threat intelligence lists {address}: {entity['ThreatIntel']}")
    return found


def matches_only(ti: Finding) -> Finding:
    """The TI finding as shown: its matches only, with a note counting the misses.

    The full results (misses too) stay in `ti.data` for the glued result.

    Example:
        >>> f = Finding("TI", pd.DataFrame({"Ioc": ["a", "b"], "Result": [True, False]}))
        >>> shown = matches_only(f)
        >>> shown.data["Ioc"].tolist(), shown.messages()[-1]
        (['a'], 'info: 1 of 2 looked-up indicators not listed')
    """
    shown = Finding(ti.title, columns=ti.columns, notes=list(ti.notes))
    if ti.empty or "Result" not in ti.data:
        return shown
    hits = ti.data["Result"].astype(bool)
    shown.data = ti.data[hits].reset_index(drop=True)
    misses = int((~hits).sum())
    if misses and not shown.empty:
        shown.note("info", f"{misses} of {len(hits)} looked-up indicators not listed")
    return shown


def host_logons(logons: pd.DataFrame) -> pd.DataFrame:
    """The Windows and Linux host logon attempts among `logons_from_ip` rows (no sign-ins).

    Example:
        >>> df = pd.DataFrame({"Source": ["Windows", "Entra ID sign-in"]})
        >>> host_logons(df)["Source"].tolist(), host_logons(pd.DataFrame()).columns.tolist()[:2]
        (['Windows'], ['TimeGenerated', 'Source'])
    """
    if logons is None or logons.empty or "Source" not in logons:
        return pd.DataFrame(columns=LOGON_COLUMNS)
    return logons[logons["Source"].isin(["Windows", "Linux"])].reset_index(drop=True)
