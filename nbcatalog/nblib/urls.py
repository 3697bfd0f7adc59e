"""What the estate knows about one URL: its parts, TI, alerts, bookmarks, hosts and flows.

URLs come from attackers: nothing here fetches, resolves or renders one unless the
`[enrichment.url]` switches of the config file say so (DNS, whois, screenshot; all
off by default). The registered domain comes from tldextract's bundled public-suffix
snapshot (never downloaded). Log searches bind the URL as a parameter; tables show it
as escaped text, never as a link.

Example:
    >>> p = url_parts("http://a.malicious.example/payload.ps1?x=1")
    >>> p["Host"], p["RegisteredDomain"], p["Path"], p["Port"]
    ('a.malicious.example', 'malicious.example', '/payload.ps1', 80)
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
import socket
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pandas as pd

from nbcatalog.nblib.entities import HostName
from nbcatalog.nblib.findings import Finding

WEB_SCHEMES = {"http": 80, "https": 443, "ftp": 21}
MAX_URL_LENGTH = 8192  # the longest value nbcatalog.enrich treats as an indicator
# Top-level names outside the public-suffix list that logs and test data use.
_RESERVED_TLDS = frozenset(
    {"example", "test", "invalid", "local", "internal", "onion", "localhost"}
)
_EVIDENCE_CHARS = 4000  # tables show 400; the DNS answers must survive
_QUERY_RESULTS = re.compile(r'<Data Name="QueryResults">([^<]*)</Data>', re.IGNORECASE)
_QUERY_NAME = re.compile(r'<Data Name="QueryName">([^<]*)</Data>', re.IGNORECASE)
# A PowerShell -EncodedCommand argument (decoded in Python, see enrich.iocs).
_ENCODED_SQL = r"(?i)[\s\"'][-/]e[a-z]*\s+[A-Za-z0-9+/]{16,}"


def check_url(url: Any) -> str:
    """`url` stripped, or ParameterError saying why it is not a web URL this can look at.

    Example:
        >>> check_url(" http://malicious.example/payload.ps1 ")
        'http://malicious.example/payload.ps1'
        >>> check_url("javascript:alert(1)")
        Traceback (most recent call last):
        ...
        nbcatalog.errors.ParameterError: url 'javascript:alert(1)' has scheme 'javascript'; \
accepted: http, https, ftp (e.g. http://example.com/path)
    """
    from nbcatalog.errors import ParameterError

    if not isinstance(url, str) or not url.strip():
        raise ParameterError("url is empty; give a URL like http://example.com/path")
    text = url.strip()
    shown = text if len(text) <= 80 else text[:77] + "..."
    if len(text) > MAX_URL_LENGTH:
        raise ParameterError(
            f"url of {len(text)} characters is too long (at most {MAX_URL_LENGTH}): {shown!r}"
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ParameterError(f"url {shown!r} holds spaces or control characters; encode them")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ParameterError(f"url {shown!r} cannot be parsed: {exc}") from None
    if parts.scheme.lower() not in WEB_SCHEMES:
        raise ParameterError(
            f"url {shown!r} has scheme {parts.scheme or 'none'!r}; accepted: "
            f"{', '.join(WEB_SCHEMES)} (e.g. http://example.com/path)"
        )
    if not host:
        raise ParameterError(f"url {shown!r} has no host name or address")
    return text


@lru_cache(maxsize=1)
def _suffixes():
    import tldextract

    # The bundled snapshot only: no download of the public-suffix list, no cache files.
    # Private suffixes (blogspot.com, github.io) count: each blog has its own owner.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def split_domain(host: str) -> dict[str, str]:
    """Subdomain, registered domain and public suffix of a host name (offline).

    Example:
        >>> split_domain("www.bbc.co.uk")
        {'Subdomain': 'www', 'RegisteredDomain': 'bbc.co.uk', 'Suffix': 'co.uk'}
        >>> split_domain("a.malicious.example")["RegisteredDomain"]
        'malicious.example'
    """
    name = host.rstrip(".").lower()
    labels = name.split(".")
    if labels[-1] in _RESERVED_TLDS:
        registered = ".".join(labels[-2:]) if len(labels) > 1 else name
        return {
            "Subdomain": ".".join(labels[:-2]),
            "RegisteredDomain": registered,
            "Suffix": labels[-1],
        }
    ext = _suffixes()(name)
    registered = f"{ext.domain}.{ext.suffix}" if ext.domain and ext.suffix else ""
    return {"Subdomain": ext.subdomain, "RegisteredDomain": registered, "Suffix": ext.suffix}


def url_parts(url: str) -> dict[str, Any]:
    """The parts of a URL: scheme, host, port, domain parts, path, query and its parameters.

    Raises ParameterError for a value that is not an http, https or ftp URL.

    Example:
        >>> p = url_parts("https://203.0.113.77:8443/a?q=1&q=2")
        >>> p["HostIsIp"], p["IpClass"], p["Port"], p["QueryParameters"]
        (True, 'documentation', 8443, [['q', '1'], ['q', '2']])
    """
    text = check_url(url)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    out: dict[str, Any] = {
        "Url": text,
        "Scheme": scheme,
        "Host": host,
        "Port": parts.port or WEB_SCHEMES[scheme],
        "HostIsIp": address is not None,
        "IpClass": "",
        "Domain": "" if address is not None else host,
        "Subdomain": "",
        "RegisteredDomain": "",
        "Suffix": "",
        "Path": parts.path or "/",
        "Query": parts.query,
        "QueryParameters": [list(p) for p in parse_qsl(parts.query, keep_blank_values=True)],
        "Fragment": parts.fragment,
        "UserInfo": bool(parts.username or parts.password),
    }
    if address is not None:
        from nbcatalog.enrich.ipclass import classify_ip

        out["IpClass"] = classify_ip(str(address))
    else:
        out.update(split_domain(host))
    return out


def parts_finding(parts: dict[str, Any]) -> Finding:
    """The URL's parts as a two-column table (Part, Value); values shown as text.

    Example:
        >>> parts_finding(url_parts("http://x.example/a")).data["Part"].tolist()[:3]
        ['Url', 'Scheme', 'Host']
    """
    rows = [
        {"Part": k, "Value": "; ".join(f"{a}={b}" for a, b in v) if k == "QueryParameters" else v}
        for k, v in parts.items()
        if k != "UserInfo"
    ]
    table = pd.DataFrame(rows, columns=["Part", "Value"])
    finding = Finding("Parts of the URL", table, max_rows=50)
    if parts.get("UserInfo"):
        finding.note("warning", "the URL carries a user name or password before the host")
    if parts.get("HostIsIp"):
        finding.note("info", f"the host is an address ({parts['IpClass']}), not a name")
    return finding


def ti_targets(parts: dict[str, Any]) -> list[str]:
    """The values to look up in TI: the URL, its host and its registered domain.

    Example:
        >>> ti_targets(url_parts("http://a.malicious.example/x"))
        ['http://a.malicious.example/x', 'a.malicious.example', 'malicious.example']
    """
    values = [parts["Url"], parts["Host"]]
    if parts.get("RegisteredDomain"):
        values.append(parts["RegisteredDomain"])
    return list(dict.fromkeys(v for v in values if v))


def url_ti(inv: Any, parts: dict[str, Any]) -> Finding:
    """TI results for the URL, its host (name or address) and its registered domain."""
    from nbcatalog.enrich.ti import lookup_iocs
    from nbcatalog.nblib.alert_ti import note_failures
    from nbcatalog.nblib.queries import has_table

    finding = Finding("Threat-intelligence matches")
    finding.columns = ["Ioc", "IocType", "Provider", "Result", "Severity", "ThreatType", "Details"]
    if has_table(inv.source, "ThreatIntelligenceIndicator") is False:
        finding.note("missing", "no ThreatIntelligenceIndicator table in this data source")
    finding.data = lookup_iocs(ti_targets(parts), data_source=inv.source, end=inv.end)
    note_failures(finding, finding.data)
    hits = finding.data[finding.data["Result"]] if not finding.empty else finding.data
    if not hits.empty:
        pairs = hits[["Ioc", "Severity"]].itertuples(index=False)
        found = ", ".join(f"{ioc} ({severity})" for ioc, severity in pairs)
        finding.note("finding", f"TI matches: {found}")
    elif not finding.missing:
        finding.note("info", "neither the URL nor its domain is in any TI source")
    return finding


def ti_hits(ti: Finding) -> Finding:
    """The matched rows of a TI finding, with its notes (what a summary counts).

    Example:
        >>> f = Finding("TI", pd.DataFrame({"Ioc": ["a", "b"], "Result": [True, False]}))
        >>> len(ti_hits(f).data)
        1
    """
    data = ti.data
    if data is not None and "Result" in data.columns:
        data = data[data["Result"].astype(bool)].reset_index(drop=True)
    return Finding(ti.title, data, list(ti.notes))


def host_pattern(host: str) -> re.Pattern[str]:
    """A regex finding `host` as a whole name in text (not inside a longer name).

    Example:
        >>> bool(host_pattern("malicious.example").search("GET http://malicious.example/x"))
        True
        >>> bool(host_pattern("malicious.example").search("notmalicious.example.org"))
        False
    """
    return re.compile(rf"(?<![\w.-]){re.escape(host.lower())}(?![\w-]|\.[\w-])")


def matched_on(text: Any, parts: dict[str, Any]) -> str:
    """ "url" when `text` holds the URL, "domain" when only its host, else "".

    Example:
        >>> p = url_parts("http://malicious.example/payload.ps1")
        >>> matched_on("curl HTTP://malicious.example/payload.ps1", p)
        'url'
        >>> matched_on("dns: malicious.example", p), matched_on("other.example", p)
        ('domain', '')
    """
    if not isinstance(text, str) or not text:
        return ""
    folded = text.casefold()
    if parts["Url"].casefold() in folded:
        return "url"
    if parts["Host"] and host_pattern(parts["Host"]).search(folded):
        return "domain"
    return ""


def _texts(node: Any) -> Iterator[str]:
    """Every string in parsed JSON: keys and values, at any depth."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def may_hide_host(entities: Any, parts: dict[str, Any]) -> bool:
    """False only when no indicator found in `entities` can name the URL's host.

    The indicator search (`alert_iocs`) costs about 10 ms an alert and finds what
    the text holds, lower-cased, plus what PowerShell encoded commands decode to.
    So an alert needs it only when some string of its entities holds the host or
    an encoded-command argument. Addresses are normalised (2001:DB8:0::1 is
    2001:db8::1): for a URL whose host is an address, every alert is searched.

    Example:
        >>> p = url_parts("http://malicious.example/x")
        >>> may_hide_host('[{"Type": "host", "HostName": "WKSTN-042"}]', p)
        False
        >>> may_hide_host('[{"CommandLine": "powershell -enc aQB3AHIAIABoAHQAdABwAA=="}]', p)
        True
    """
    from nbcatalog.enrich.iocs import _ENCODED_ARG_RE

    host = str(parts.get("Host") or "").lower()
    if parts.get("HostIsIp") or not host:
        return True
    if entities is None or (isinstance(entities, float) and pd.isna(entities)):
        return False
    texts: Iterable[str]
    if isinstance(entities, str):
        try:
            texts = _texts(json.loads(entities))
        except ValueError:
            texts = [entities]  # searched as text by alert_iocs too
    else:
        texts = _texts(entities)
    return any(
        host in t.lower() or host in t.casefold() or _ENCODED_ARG_RE.search(t) for t in texts
    )


def _alert_match(alert: dict[str, Any], parts: dict[str, Any]) -> str:
    from nbcatalog.nblib.alert_ti import alert_iocs

    found = ""
    for field in ("Entities", "Description", "ExtendedProperties", "AlertDisplayName"):
        how = matched_on(alert.get(field), parts)
        if how == "url":
            return how
        found = found or how
    if not may_hide_host(alert.get("Entities"), parts):
        return found  # no indicator of the entities can name the host
    # URLs hidden in encoded PowerShell command lines of the entities.
    iocs = alert_iocs(pd.DataFrame([{"SystemAlertId": "", "Entities": alert.get("Entities")}]))
    for value in iocs["Ioc"]:
        how = matched_on(str(value), parts)
        if how == "url":
            return how
        found = found or how
    return found


def url_alerts(inv: Any, parts: dict[str, Any]) -> Finding:
    """Alerts in the time range that mention the URL (MatchedOn "url") or its host ("domain")."""
    from nbcatalog.nblib.alerts import ALERT_COLUMNS, normalize_alerts

    finding = inv.query("SecurityAlert.list_alerts", title="Alerts that mention the URL")
    finding.columns = ["MatchedOn"] + ALERT_COLUMNS
    if not finding.empty:
        data = normalize_alerts(finding.data)
        how = [_alert_match(rec, parts) for rec in data.to_dict("records")]
        data = data.assign(MatchedOn=how)
        finding.data = data[data["MatchedOn"] != ""].reset_index(drop=True)
    if finding.empty and not finding.notes:
        finding.note("info", f"no alert in {inv.period} mentions the URL or {parts['Host']}")
    return finding


def url_bookmarks(inv: Any, parts: dict[str, Any]) -> Finding:
    """Hunting bookmarks in the time range whose row, entities, name or notes mention the URL."""
    from nbcatalog.nblib.bookmarks import BOOKMARK_COLUMNS, bookmark_names

    finding = inv.query("AzureSentinel.list_bookmarks", title="Bookmarks that mention the URL")
    finding.columns = ["MatchedOn"] + BOOKMARK_COLUMNS
    if not finding.empty:
        records = finding.data.to_dict("records")
        url_hit = [bookmark_names(r, lambda s: matched_on(s, parts) == "url") for r in records]
        any_hit = [bookmark_names(r, lambda s: bool(matched_on(s, parts))) for r in records]
        how = ["url" if u else "domain" if a else "" for u, a in zip(url_hit, any_hit, strict=True)]
        data = finding.data.assign(MatchedOn=how)
        finding.data = data[data["MatchedOn"] != ""].reset_index(drop=True)
    if finding.empty and not finding.notes:
        finding.note("info", f"no bookmark in {inv.period} mentions the URL or {parts['Host']}")
    return finding


SIGHTING_COLUMNS = ["TimeGenerated", "Computer", "Source", "MatchedOn", "Evidence"]
# (table, source label, SQL selecting TimeGenerated, Computer, Text for rows naming $needle)
_SIGHTING_SQL = {
    "SecurityEvent": (
        "process command line",
        'SELECT TimeGenerated, Computer, CommandLine AS Text FROM "SecurityEvent" '
        "WHERE EventID = 4688 AND TimeGenerated >= $start AND TimeGenerated <= $end "
        "AND (contains(lower(CommandLine), $needle) OR ("
        # The regex needs "-e" or "/e" (any case): this cheap test spares it most rows.
        "(contains(lower(CommandLine), '-e') OR contains(lower(CommandLine), '/e')) "
        "AND regexp_matches(CommandLine, $encoded)))",
    ),
    "Syslog": (
        "syslog message",
        'SELECT TimeGenerated, Computer, SyslogMessage AS Text FROM "Syslog" '
        "WHERE TimeGenerated >= $start AND TimeGenerated <= $end "
        "AND contains(lower(SyslogMessage), $needle)",
    ),
    "Event": (
        "Windows event",
        "SELECT TimeGenerated, Computer, "
        "concat_ws(' ', Source, 'event', EventID, RenderedDescription, EventData) AS Text "
        'FROM "Event" WHERE TimeGenerated >= $start AND TimeGenerated <= $end '
        # Column by column, not on the joined text (16x faster on a large store); the
        # same rows since a host name has no space to straddle the join.
        "AND (contains(lower(RenderedDescription), $needle) "
        "OR contains(lower(EventData), $needle))",
    ),
}
# The joined-text search, for a needle with a space (never a URL's host name).
_EVENT_JOINED_SQL = (
    "SELECT TimeGenerated, Computer, "
    "concat_ws(' ', Source, 'event', EventID, RenderedDescription, EventData) AS Text "
    'FROM "Event" WHERE TimeGenerated >= $start AND TimeGenerated <= $end '
    "AND contains(lower(concat_ws(' ', RenderedDescription, EventData)), $needle)"
)


def url_sightings(inv: Any, parts: dict[str, Any]) -> Finding:
    """Log lines that mention the URL or its host: process command lines (PowerShell
    encoded commands decoded), syslog messages and Windows events such as Sysmon DNS
    queries. Searching log text needs the embedded store; other sources get a note.
    """
    from nbcatalog.data.source import is_embedded_store
    from nbcatalog.enrich.iocs import decode_powershell
    from nbcatalog.errors import DataSourceError
    from nbcatalog.nblib.queries import has_table

    finding = Finding("Log lines that mention the URL or its host")
    finding.columns = SIGHTING_COLUMNS
    if not is_embedded_store(inv.source):
        finding.note(
            "skipped",
            "searching log text for a URL needs the embedded store (duckdb:PATH); "
            "this data source is searched through alerts and flows only",
        )
        return finding
    params = {"start": inv.start, "end": inv.end, "needle": parts["Host"].lower()}
    frames = []
    for table, (label, sql) in _SIGHTING_SQL.items():
        if has_table(inv.source, table) is False:
            finding.note("missing", f"no {table} table in this data source: its {label}s skipped")
            continue
        bound = dict(params, encoded=_ENCODED_SQL) if "$encoded" in sql else params
        if table == "Event" and " " in params["needle"]:
            sql = _EVENT_JOINED_SQL
        try:
            rows = inv.source.sql(sql, bound)
        except DataSourceError as exc:
            finding.note("missing", f"{table} could not be searched: {str(exc).splitlines()[0]}")
            continue
        for rec in rows.to_dict("records"):
            text = str(rec["Text"] or "")
            how, source = matched_on(text, parts), label
            if not how and table == "SecurityEvent":
                for plain in decode_powershell(text):
                    how = how or matched_on(plain, parts)
                    if how:
                        source, text = f"{label} (decoded)", plain
                        break
            if how:
                frames.append(
                    {
                        "TimeGenerated": rec["TimeGenerated"],
                        "Computer": rec["Computer"],
                        "Source": source,
                        "MatchedOn": how,
                        "Evidence": text[:_EVIDENCE_CHARS],
                    }
                )
    finding.data = pd.DataFrame(frames, columns=SIGHTING_COLUMNS)
    if not finding.empty:
        finding.data = finding.data.sort_values("TimeGenerated").reset_index(drop=True)
    elif not finding.notes:
        finding.note("info", f"no log line in {inv.period} mentions the URL or {parts['Host']}")
    return finding


def known_addresses(parts: dict[str, Any], sightings: pd.DataFrame | None) -> Finding:
    """Addresses of the URL's host known without going online: an address written in the
    URL, or answers of DNS queries the estate logged (Sysmon event 22 QueryResults).

    Example:
        >>> known_addresses(url_parts("http://192.0.2.66/x"), None).data.values.tolist()
        [['192.0.2.66', 'written in the URL']]
    """
    finding = Finding("Addresses of the host known offline")
    rows: list[dict[str, str]] = []
    if parts.get("HostIsIp"):
        rows.append({"Address": parts["Host"], "HowKnown": "written in the URL"})
    if sightings is not None and not sightings.empty:
        for rec in sightings.to_dict("records"):
            text = str(rec.get("Evidence") or "")
            name = _QUERY_NAME.search(text)
            if not name or name.group(1).strip().rstrip(".").lower() != parts["Host"].lower():
                continue
            for answer in (_QUERY_RESULTS.search(text) or [None, ""])[1].split(";"):
                address = _address(answer)
                if address:
                    rows.append(
                        {"Address": address, "HowKnown": f"DNS query logged on {rec['Computer']}"}
                    )
    frame = pd.DataFrame(rows, columns=["Address", "HowKnown"])
    finding.data = frame.drop_duplicates("Address").reset_index(drop=True)
    if finding.empty:
        finding.note(
            "info",
            f"no address of {parts['Host']} is known offline (no logged DNS answer); "
            "flows to it cannot be found",
        )
    return finding


def _address(text: str) -> str:
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return ""
    mapped = getattr(addr, "ipv4_mapped", None)
    return str(mapped or addr)


FLOW_COLUMNS = [
    "FlowStartTime",
    "VMName",
    "SrcIP",
    "DestIP",
    "DestPort",
    "L7Protocol",
    "FlowDirection",
    "AllowedOutFlows",
    "DeniedOutFlows",
]


def url_flows(inv: Any, parts: dict[str, Any], addresses: pd.DataFrame) -> Finding:
    """Network flows to the host's known addresses on the URL's port (80, 443 or given)."""
    finding = Finding(f"Flows to {parts['Host']} on port {parts['Port']}")
    finding.columns = FLOW_COLUMNS
    if addresses is None or addresses.empty:
        finding.note("skipped", f"no address of {parts['Host']} is known offline")
        return finding
    ips = sorted(set(addresses["Address"]))
    found = inv.query(
        "Network.list_azure_network_flows_by_ip", title=finding.title, ip_address_list=ips
    )
    finding.notes += found.notes
    if found.empty:
        if not finding.notes:
            finding.note("info", f"no flows to {', '.join(ips)} in {inv.period}")
        return finding
    flows = found.data
    to_host = flows[flows["DestIP"].astype(str).isin(ips)]
    port = pd.to_numeric(to_host["DestPort"], errors="coerce")
    finding.data = to_host[port == parts["Port"]].reset_index(drop=True)
    others = len(to_host) - len(finding.data)
    if others:
        finding.note("info", f"{others} other flow(s) went to the same address(es) on other ports")
    if finding.empty:
        finding.note("info", f"no flow reached {', '.join(ips)} on port {parts['Port']}")
    return finding


HOST_COLUMNS = ["Host", "Evidence", "FirstSeen", "LastSeen"]


def _host_key(host: str) -> str:
    """One key per machine: 'WIN-01' and 'win-01.contoso.local' agree; addresses stay whole."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return HostName.parse(host).short
    return host


def reaching_hosts(
    alerts: pd.DataFrame | None, sightings: pd.DataFrame | None, flows: pd.DataFrame | None
) -> Finding:
    """Hosts that reached the URL or its host, with the evidence for each.

    Example:
        >>> s = pd.DataFrame({"TimeGenerated": pd.to_datetime(["2024-05-01"], utc=True),
        ...                   "Computer": ["WKSTN-042"], "Source": ["syslog message"]})
        >>> reaching_hosts(None, s, None).data[["Host", "Evidence"]].values.tolist()
        [['WKSTN-042', 'syslog message']]
    """
    rows = []
    for frame, host_col, time_col, what in (
        (sightings, "Computer", "TimeGenerated", None),
        (flows, "VMName", "FlowStartTime", "network flow"),
        (alerts, "CompromisedEntity", "StartTimeUtc", "alert"),
    ):
        if frame is None or frame.empty or host_col not in frame.columns:
            continue
        for rec in frame.to_dict("records"):
            host = str(rec.get(host_col) or "").strip()
            if not host or "@" in host:  # an alert's compromised entity may be an account
                continue
            label = what or str(rec.get("Source") or "log")
            if what == "alert":
                label = f"alert: {rec.get('AlertDisplayName', '')}"
            rows.append({"Host": host, "Evidence": label, "Time": rec.get(time_col)})
    finding = Finding("Hosts that reached the URL or its host")
    if not rows:
        finding.data = pd.DataFrame(columns=HOST_COLUMNS)
        finding.note("info", "no host is seen reaching the URL or its host")
        return finding
    frame = pd.DataFrame(rows)
    frame["Time"] = pd.to_datetime(frame["Time"], utc=True, errors="coerce")
    frame["Key"] = frame["Host"].map(_host_key)
    out = (
        frame.groupby("Key", sort=True)
        .agg(
            Host=("Host", "first"),
            Evidence=("Evidence", lambda s: ", ".join(dict.fromkeys(s))),
            FirstSeen=("Time", "min"),
            LastSeen=("Time", "max"),
        )
        .reset_index(drop=True)
    )
    finding.data = out[HOST_COLUMNS]
    return finding


# ------------------------------------------------------------------ online look-ups


def _off(kind: str, key: str, what: str) -> Finding:
    finding = Finding(kind)
    finding.note(
        "skipped",
        f"{what} is off: nothing was sent over the network. Switch it on with "
        f"'[enrichment.url] {key} = true' in the nbcatalog config file",
    )
    return finding


def dns_lookup(
    parts: dict[str, Any],
    settings: Any = None,
    *,
    resolve: Callable[[str], list[str]] | None = None,
) -> Finding:
    """Current DNS answers for the URL's host, only when `[enrichment.url] dns` is on.

    `resolve` replaces the system resolver (tests). The answers are today's, which
    may differ from when the URL was reached.
    """
    settings = settings or _settings()
    if not settings.url.dns:
        return _off("DNS resolution", "dns", "DNS resolution")
    finding = Finding("DNS resolution (online)")
    if parts.get("HostIsIp"):
        finding.note("info", "the host is an address: nothing to resolve")
        return finding
    resolve = resolve or _system_resolve
    try:
        answers = resolve(parts["Host"])
    except (OSError, UnicodeError) as exc:
        finding.note("warning", f"{parts['Host']} did not resolve: {exc}")
        return finding
    finding.data = pd.DataFrame({"Address": list(dict.fromkeys(answers))})
    finding.note("info", "answers of today's DNS; they may differ from when the URL was used")
    return finding


def _system_resolve(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def whois_lookup(parts: dict[str, Any], addresses: list[str], settings: Any = None) -> Finding:
    """Whois/RDAP of the host's public addresses (msticpy), only when `whois` is on."""
    settings = settings or _settings()
    if not settings.url.whois:
        return _off("Whois", "whois", "Whois / RDAP look-up")
    from nbcatalog.enrich.ipclass import is_public

    finding = Finding("Whois (online)")
    public = [a for a in addresses if is_public(a)]
    if not public:
        finding.note("info", "no public address of the host is known: nothing to look up")
        return finding
    rows = []
    try:
        from msticpy.context.ip_utils import ip_whois

        for address in public:
            result = ip_whois(address)
            rows.append({"Address": address, "Whois": str(result)[:2000]})
    except Exception as exc:  # network or provider failure: report it, do not fail the run
        finding.note("warning", f"whois failed: {type(exc).__name__}: {exc}")
    finding.data = pd.DataFrame(rows, columns=["Address", "Whois"])
    return finding


def screenshot(parts: dict[str, Any], settings: Any = None) -> Finding | Any:
    """A screenshot of the page through msticpy's Browshot, only when `screenshot` is on.

    Returns an HTML image (an inline picture, never a link to the URL) or a Finding
    saying why there is none.
    """
    settings = settings or _settings()
    if not settings.url.screenshot:
        return _off("Screenshot", "screenshot", "Taking a screenshot")
    import base64

    from IPython.display import HTML

    finding = Finding("Screenshot (online)")
    try:
        from msticpy.context.domain_utils import screenshot as browshot

        response = browshot(parts["Url"])
        image = base64.b64encode(response.content).decode()
    except Exception as exc:  # network, key or provider failure
        finding.note("warning", f"screenshot failed: {type(exc).__name__}: {exc}")
        return finding
    alt = html.escape(parts["Url"][:200], quote=True)
    return HTML(f'<img alt="{alt}" src="data:image/png;base64,{image}" style="max-width:100%"/>')


def _settings():
    from nbcatalog.enrich.settings import current_settings

    return current_settings()
