"""Find a host from a full or partial name, and describe it: OS, agent, IP addresses.

`find_host` resolves what the analyst typed (`wkstn-042`, `WKSTN-042.contoso.com`,
`wkstn-04`) against the hosts the data source knows (Heartbeat, SecurityEvent,
Syslog; then Microsoft Defender for Endpoint's DeviceName when none of those names
it), and says which hosts match, or the closest names when none does.
`host_details` builds the `host_entity` dict from the last heartbeat and the host's
IP addresses from Heartbeat and network flows.

Example (in a template):
    found = nblib.hosts.find_host(inv, host)
    details = nblib.hosts.host_details(inv, found.name)
    glue("host_entity", details.entity)
"""

from __future__ import annotations

import ipaddress
import json
import re
import weakref
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbcatalog.nblib.entities import HostName, closest, host_matches, resolve_host
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.queries import has_table, known_values, query_table

# Where host names live, and what a host seen there runs.
_HOST_TABLES = (("Heartbeat", None), ("SecurityEvent", "Windows"), ("Syslog", "Linux"))
# Sources that cannot list hosts (msticpy): the queries whose rows name hosts, in the
# order they are asked, and what a host seen there runs (Heartbeat says in OSType).
NAME_QUERIES = (
    ("Network.get_heartbeat_for_host", None),
    ("WindowsSecurity.list_host_logons", "Windows"),
    ("WindowsSecurity.list_host_processes", "Windows"),
    ("LinuxSyslog.list_logons_for_host", "Linux"),
    ("LinuxSyslog.all_syslog", "Linux"),
)
# Defender for Endpoint: asked only when the sources above do not resolve the name (an
# estate that ships only Defender data names its hosts as DeviceName, often an FQDN).
# msticpy sources cannot list a table's values: the Defender query there, by its column.
DEFENDER_QUERIES = (
    ("M365D.host_connections", "DeviceName"),
    ("M365D.list_host_processes", "DeviceName"),
    ("M365D.host_logons", "DeviceName"),
)
# What a section that reads none of the Defender tables says of a Defender-only host.
DEFENDER_ONLY = "its data comes from Microsoft Defender tables only ({tables})"
# Columns of a frame passed as data that name the host a row is about.
FRAME_HOST_COLUMNS = ("Computer", "VMName", "HostName", "Hostname", "DeviceName", "VM_s")


@dataclass
class HostMatch(Finding):
    """The host a name resolved to (`name`, None when none or several match).

    `given` is what the analyst typed, `candidates` the hosts it selected (one, or
    several for a partial name), `closest` the known names most like it when it
    selected none, `names` every spelling of the selected host the source uses, and
    `from_data` says the rows passed as data are used as they are (no host given).
    `defender` names the Microsoft Defender tables the host was found in when no
    Heartbeat, SecurityEvent or Syslog row names it (empty otherwise).
    """

    name: str | None = None
    candidates: list[str] = field(default_factory=list)
    os_family: str | None = None
    given: str = ""
    closest: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    from_data: bool = False
    kind: str = "host"
    where: str = "this data source"  # what was searched: the source, or the rows passed in
    defender: list[str] = field(default_factory=list)
    seen: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def matched(self) -> bool:
        """True when one host was selected, or the rows passed as data are the subject."""
        return self.name is not None or self.from_data

    @property
    def described(self) -> str:
        return self.name or ("the rows passed as data" if self.from_data else self.given)

    def defender_only(self, table: str) -> str | None:
        """What a section reading `table` says when the host is known only from Defender.

        None when the host is not Defender-only (the section's own note stands).

        Example:
            >>> m = HostMatch("Matching hosts", name="web02.fabrikam.com",
            ...               defender=["DeviceNetworkEvents"])
            >>> print(m.defender_only("SecurityEvent").replace(": ", ":\\n"))
            no SecurityEvent rows for web02.fabrikam.com:
            its data comes from Microsoft Defender tables only (DeviceNetworkEvents)
        """
        if self.name is None or not self.defender:
            return None
        return _defender_text(self.name, table, self.defender)


def _defender_text(name: str, table: str, defender: list[str]) -> str:
    return f"no {table} rows for {name}: {DEFENDER_ONLY.format(tables=', '.join(defender))}"


# Hosts `find_host` found only in Defender tables, per data source: the steps that read
# other tables are given the host's name only, and say so through `defender_only_note`.
_DEFENDER_ONLY: weakref.WeakKeyDictionary[Any, dict[str, list[str]]] = weakref.WeakKeyDictionary()


def _remember_defender_only(inv: Any, found: HostMatch) -> None:
    try:
        known = _DEFENDER_ONLY.setdefault(inv.source, {})
    except TypeError:  # a source that cannot be weakly referenced: steps say their own note
        return
    for name in {found.name, *found.names}:
        known[HostName.parse(str(name)).short] = list(found.defender)


def defender_only_note(inv: Any, host: str | None, table: str) -> str | None:
    """The note of a step reading `table` that found nothing for a Defender-only host.

    None unless `find_host` found `host` on this data source only in Microsoft
    Defender tables; then "no SecurityEvent rows for X: its data comes from Microsoft
    Defender tables only (DeviceNetworkEvents)", so an empty section says why.

    Example (in an nblib step):
        if finding.empty:
            finding.note("info", defender_only_note(inv, host, "SecurityEvent")
                         or f"no logon attempts on {host} in {inv.period}")
    """
    if not host:
        return None
    try:
        known = _DEFENDER_ONLY.get(getattr(inv, "source", None))
    except TypeError:
        return None
    tables = (known or {}).get(HostName.parse(host).short)
    return _defender_text(host, table, tables) if tables else None


def known_hosts(inv: Any) -> dict[str, str | None] | None:
    """Host names the data source knows -> OS family when the table tells (DuckDB only)."""
    hosts: dict[str, str | None] = {}
    answered = False
    for table, family in _HOST_TABLES:
        values = known_values(inv.source, table, "Computer")
        if values is None:
            continue
        answered = True
        for name in values:
            if hosts.get(name) is None:
                hosts[name] = family
    return hosts if answered else None


def device_tables() -> tuple[str, ...]:
    """The store's Microsoft Defender for Endpoint tables that name a device (DeviceName).

    Example:
        >>> "DeviceNetworkEvents" in device_tables()
        True
    """
    try:
        from nbcatalog.data.schema import TABLES
    except ImportError:  # data layer not installed: no store to list
        return ()
    return tuple(
        name
        for name, table in TABLES.items()
        if name.startswith("Device") and "DeviceName" in table.column_names
    )


def defender_hosts(inv: Any, host: str, found: HostMatch) -> dict[str, list[str]]:
    """Device names Microsoft Defender knows -> the tables (or queries) naming each.

    A store is asked, per Device* table, for the distinct DeviceNames `host` can
    select (its short name, or names starting with it), filtered in the store with
    the name as a bound value (never a table read into pandas); when none matches,
    every distinct name (for the closest ones). A source that cannot run SQL
    (msticpy) is asked the Defender query for `host`, its rows kept on `found.seen`;
    a LocalData source, whose files hold every device, gives them all when the name
    matched none.
    """
    names: dict[str, list[str]] = {}

    def add(values: Any, table: str) -> None:
        for value in values:
            text = str(value).strip() if _present(value) else ""
            if text and table not in names.setdefault(text, []):
                names[text].append(table)

    answered = False
    from nbcatalog.data.source import is_embedded_store

    sql = inv.source.sql if is_embedded_store(inv.source) else None
    wanted = {"prefix": host.strip().casefold(), "short": HostName.parse(host).short}
    for table in device_tables() if sql is not None else ():
        try:
            # Distinct names first: the name tests then run once per device, not per row.
            picked = sql(
                f'WITH d AS (SELECT DISTINCT "DeviceName" AS v FROM "{table}") '  # noqa: S608 - schema name
                "SELECT v FROM d WHERE starts_with(lower(v), $prefix) "
                "OR split_part(lower(v), '.', 1) = $short LIMIT 5000",
                wanted,
            )
        except Exception:  # no SQL on this source (msticpy), or no such table
            continue
        answered = True
        add(picked["v"], table)
    if answered:
        if not resolve_host(host, names):
            for table in device_tables():
                add(known_values(inv.source, table, "DeviceName") or [], table)
        return names
    for query, column in DEFENDER_QUERIES:
        table = query_table(query) or query
        result = inv.query(query, title=query, host_name=host)
        if result.missing or column not in result.data.columns:
            continue
        found.seen[query] = result.data
        add(result.data[column], table)
        if not resolve_host(host, names) and getattr(inv.source, "whole_files", False):
            every = inv.query(query, title=query, host_name="").data
            add(every[column] if column in every.columns else [], table)
    return names


def device_rows(inv: Any, query: str, host: str, title: str) -> Finding:
    """The rows of Defender query `query` whose DeviceName is `host`.

    The query is asked with the host's short name (its `kql_has` / msticpy's `has`
    then also returns longer namesakes), and only the rows whose DeviceName is the
    host (WKSTN-042, wkstn-042.contoso.com: `host_matches`) are kept. A source without
    the table or the query gives no rows and its "missing" note (`.missing`), which
    callers keep to themselves: most estates have either Windows logs or Defender.

    Example (in an nblib step):
        rows = device_rows(inv, "M365D.list_host_processes", "WKSTN-042", "Processes").data
    """
    found = Finding(title)
    result = inv.query(query, title=title, host_name=HostName.parse(host).short)
    if result.missing:
        found.notes += result.notes
        return found
    data = result.data
    if data.empty or "DeviceName" not in data.columns:
        return found
    names = data["DeviceName"].astype("string").fillna("")
    found.data = data[names.isin({n for n in names.unique() if host_matches(host, n)})]
    return found


def _names_in(frame: pd.DataFrame, family: str | None) -> dict[str, str | None]:
    """Host names in `frame`'s Computer column -> OS family (Heartbeat's OSType, else `family`)."""
    if frame is None or frame.empty or "Computer" not in frame.columns:
        return {}
    names: dict[str, str | None] = {}
    types = frame["OSType"] if "OSType" in frame.columns else [family] * len(frame)
    for name, os_type in zip(frame["Computer"], types, strict=True):
        text = "" if name is None or (isinstance(name, float) and pd.isna(name)) else str(name)
        if text and names.get(text) is None:
            names[text] = str(os_type) if isinstance(os_type, str) and os_type else family
    return names


def hosts_from_queries(inv: Any, host: str, found: HostMatch) -> dict[str, str | None]:
    """Host names from the queries a source does have (for sources that cannot list hosts).

    Heartbeat first; where it is missing or does not know `host`, the Windows logon
    and process queries, then the Linux ones. Stops at the first source that names a
    host `host` selects; the rows are kept on `found.seen` for `host_activity`.
    """
    known: dict[str, str | None] = {}
    missing = []
    for query, family in NAME_QUERIES:
        result = inv.query(query, title=query, host_name=host)
        if result.missing:
            missing += result.notes
            continue
        found.seen[query] = result.data
        for name, os_family in _names_in(result.data, family).items():
            if known.get(name) is None:
                known[name] = os_family
        if resolve_host(host, known):
            break
    if len(missing) == len(NAME_QUERIES):  # nothing to look in at all
        found.notes += missing
    elif not resolve_host(host, known) and getattr(inv.source, "whole_files", False):
        # LocalData files hold every host's rows (the source selects the host's): all
        # their names give a partial name its matches and a mistyped one its closest.
        for query, family in NAME_QUERIES:
            result = inv.query(query, title=query, host_name="")
            for name, os_family in _names_in(result.data, family).items():
                known.setdefault(name, os_family)
    return known


def hosts_in_frame(data: pd.DataFrame) -> dict[str, str | None] | None:
    """Host names in a frame passed as data (None when no column names hosts).

    VM_s ("resourcegroup/vmname", Azure flow logs) counts by its last part.

    Example:
        >>> hosts_in_frame(pd.DataFrame({"VMName": ["WKSTN-042", None]}))
        {'WKSTN-042': None}
    """
    columns = [c for c in FRAME_HOST_COLUMNS if c in data.columns]
    if not columns:
        return None
    names: dict[str, str | None] = {}
    for column in columns:
        for value in data[column].dropna().astype(str):
            name = value.rsplit("/", 1)[-1].strip() if column == "VM_s" else value.strip()
            if name:
                names.setdefault(name, None)
    return names


def find_host(inv: Any, host: str, data: pd.DataFrame | None = None) -> HostMatch:
    """Resolve `host` to one host name; notes list the candidates or closest names.

    With `data` (rows the analyst passed in), the host is looked for in the frame's
    Computer / VMName / HostName column, never in the data source; with `data` and
    no host, the rows are used as they are. Sources that cannot list their hosts
    (msticpy) are asked through the queries they have (`hosts_from_queries`). When
    no Heartbeat, SecurityEvent or Syslog name matches, Microsoft Defender's device
    names are (`defender_hosts`): the host is then `found.defender`-only, OS unknown.

    Example:
        found = nblib.hosts.find_host(inv, "wkstn-042")    # -> found.name == "WKSTN-042"
    """
    found = HostMatch("Matching hosts", given=(host or "").strip())
    host = found.given
    if data is not None and not host:
        found.from_data = True
        found.note("info", f"no host given: looking at the {len(data)} rows passed as data")
        return found
    if not host:
        found.note(
            "warning",
            "no host given: pass host='WKSTN-042' (a full host name or the start of one)",
        )
        return found
    where = found.where
    if data is not None:
        where = found.where = "the rows passed as data"
        known = hosts_in_frame(data)
        if known is None:
            found.note(
                "warning",
                f"the rows passed as data have no column naming hosts "
                f"({', '.join(FRAME_HOST_COLUMNS)}), so {host!r} cannot be found in them; "
                "leave host empty to use every row",
            )
            return found
    else:
        known = known_hosts(inv)
        if known is None:  # a source that cannot list hosts: ask the queries it has
            known = hosts_from_queries(inv, host, found)
    candidates = resolve_host(host, known)
    devices: dict[str, list[str]] = {}  # Defender's names, when it was asked and matched
    if data is None and not candidates:
        everything = defender_hosts(inv, host, found)
        candidates = resolve_host(host, everything)
        if candidates:
            devices = everything
            known = dict.fromkeys(everything)  # Defender's tables do not say the OS
        else:  # closest names from every table that names hosts
            known = {**dict.fromkeys(everything), **(known or {})}
    # Spellings of one host (WKSTN-042, wkstn-042.contoso.com) count as one.
    by_short: dict[str, list[str]] = {}
    for name in candidates:
        by_short.setdefault(HostName.parse(name).short, []).append(name)
    found.candidates = [min(v, key=len) for v in by_short.values()]
    found.data = pd.DataFrame(
        {
            "HostName": found.candidates,
            "OSFamily": [
                _family(known, by_short[HostName.parse(c).short]) for c in found.candidates
            ],
        }
    )
    if len(found.candidates) == 1:
        found.name = found.candidates[0]
        found.os_family = found.data["OSFamily"].iloc[0]
        found.names = sorted(by_short[HostName.parse(found.name).short])
        if not host_matches(host, found.name):
            found.note("info", f"{host!r} matched the host {found.name}")
        if devices:
            found.defender = list(dict.fromkeys(t for n in found.names for t in devices[n]))
            _remember_defender_only(inv, found)
            found.note(
                "info",
                f"{found.name} is known only from Microsoft Defender for Endpoint "
                f"({', '.join(found.defender)}): no Heartbeat, SecurityEvent or Syslog row names "
                "it, so what is read from those tables is empty for it (host_summary's "
                "process sections read its Defender process events, DeviceProcessEvents; "
                "host_logons_summary its Defender logons, DeviceLogonEvents; "
                "host_network_summary its Defender connections)",
            )
    elif not found.candidates:
        if data is None:
            absent = [t for t, _ in _HOST_TABLES if has_table(inv.source, t) is False]
            if absent:
                found.note(
                    "missing",
                    f"no {' or '.join(absent)} table in this data source to find hosts in",
                )
        found.closest = closest(host, known or {})
        hint = f"; closest names: {', '.join(found.closest)}" if found.closest else ""
        found.note("warning", f"no host named {host!r} in {where}{hint}")
    else:
        shown = ", ".join(found.candidates[:20]) + (" …" if len(found.candidates) > 20 else "")
        found.note(
            "warning",
            f"{len(found.candidates)} hosts match {host!r}: {shown}. "
            "Pass one of them as host to see its summary.",
        )
    return found


def _family(known: dict[str, str | None], names: list[str]) -> str | None:
    families = {known.get(n) for n in names} - {None}
    return families.pop() if len(families) == 1 else None


def _ip_list(value: Any) -> list[str]:
    """Addresses from a Heartbeat ComputerPrivateIPs value (JSON list or delimited text)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, (list, tuple)):
        items = value
    else:
        text = str(value).strip()
        try:
            items = json.loads(text) if text.startswith("[") else re.split(r"[,;\s]+", text)
        except ValueError:
            items = re.split(r"[,;\s\[\]\"]+", text)
    out = []
    for item in items if isinstance(items, list) else [items]:
        try:
            out.append(str(ipaddress.ip_address(str(item).strip())))
        except ValueError:
            continue
    return out


def ip_class(ip: str) -> str:
    """private / public / loopback / … (ENRICH's classifier when installed).

    Example:
        >>> ip_class("10.10.1.52"), ip_class("8.8.8.8")
        ('private', 'public')
    """
    try:
        from nbcatalog.enrich.ipclass import classify_ip

        return classify_ip(ip)
    except ImportError:
        addr = ipaddress.ip_address(ip)
        if addr.is_loopback:
            return "loopback"
        if addr.is_link_local:
            return "link-local"
        if addr.is_multicast:
            return "multicast"
        return "private" if addr.is_private else "public"
    except ValueError:
        return "unknown"


@dataclass
class HostDetails(Finding):
    """The `host_entity` dict plus the host's IP addresses as `data`."""

    entity: dict[str, Any] = field(default_factory=dict)
    heartbeat: pd.DataFrame = field(default_factory=pd.DataFrame)
    flows: pd.DataFrame = field(default_factory=pd.DataFrame)

    def _repr_html_(self) -> str:
        facts = pd.DataFrame(
            {"Property": list(self.entity), "Value": [self.entity[k] for k in self.entity]}
        )
        ips = Finding("IP addresses", self.data, columns=None)
        head = Finding(self.title, facts, list(self.notes))
        return head._repr_html_() + (ips._repr_html_() if not self.empty else "")


def host_details(
    inv: Any, found: HostMatch, *, heartbeat: bool = True, flows: bool = True
) -> HostDetails:
    """Host facts (from its last heartbeat) and IP addresses (Heartbeat and flows).

    `heartbeat` / `flows` follow the template's options of the same names.
    """
    details = HostDetails("Host details")
    details.data = pd.DataFrame(
        columns=["IpAddress", "IpClass", "Sources", "FirstSeen", "LastSeen"]
    )
    if found.name is None:
        details.note("skipped", "no single host selected (see above)")
        return details
    name = found.name
    short = HostName.parse(name)
    entity: dict[str, Any] = {
        "HostName": name.split(".")[0],
        "DnsDomain": short.domain or None,
        "OSFamily": found.os_family,
    }
    ip_rows: list[dict[str, Any]] = []
    if heartbeat:
        hb = inv.query("Network.get_heartbeat_for_host", title="Heartbeat", host_name=name)
        details.notes += hb.notes
        rows = hb.data
        if not rows.empty and "Computer" in rows:
            rows = rows[[host_matches(name, str(c)) for c in rows["Computer"]]]
        details.heartbeat = rows
        if rows.empty and not hb.notes:
            details.note(
                "info",
                found.defender_only("Heartbeat")
                or f"no Heartbeat records for {name} in {inv.period}",
            )
        if not rows.empty:
            entity.update(_heartbeat_facts(rows))
            for rec in rows.to_dict("records"):
                for ip in _ip_list(rec.get("ComputerPrivateIPs")) + _ip_list(rec.get("ComputerIP")):
                    ip_rows.append(
                        {"IpAddress": ip, "Source": "Heartbeat", "t": rec.get("TimeGenerated")}
                    )
    else:
        details.note("skipped", "option 'heartbeat' is off")
    if flows:
        fl = inv.query("Network.list_azure_network_flows_by_host", title="Flows", host_name=name)
        details.notes += fl.notes
        details.flows = fl.data
        if fl.empty and not fl.notes and found.defender:
            details.note("info", found.defender_only("AzureNetworkAnalytics_CL (NSG flow)"))
        col = next((c for c in ("VMIPAddress", "VMIP_s") if c in fl.data.columns), None)
        if col:
            for rec in fl.data[[col, "TimeGenerated"]].dropna().to_dict("records"):
                for ip in _ip_list(rec[col]):
                    ip_rows.append(
                        {"IpAddress": ip, "Source": "Network flows", "t": rec["TimeGenerated"]}
                    )
    else:
        details.note("skipped", "option 'flows' is off")
    if ip_rows:
        ips = pd.DataFrame(ip_rows)
        ips["t"] = pd.to_datetime(ips["t"], utc=True, errors="coerce")
        # One row per address, naming every source that saw it.
        table = (
            ips.groupby("IpAddress")
            .agg(
                Sources=("Source", lambda s: ", ".join(sorted(set(s)))),
                FirstSeen=("t", "min"),
                LastSeen=("t", "max"),
            )
            .reset_index()
        )
        table.insert(1, "IpClass", [ip_class(ip) for ip in table["IpAddress"]])
        details.data = table
    entity["IpAddresses"] = sorted(set(details.data["IpAddress"]))
    details.entity = {k: v for k, v in entity.items() if v not in (None, "")}
    return details


def _heartbeat_facts(rows: pd.DataFrame) -> dict[str, Any]:
    last = rows.sort_values("TimeGenerated").iloc[-1].to_dict() if "TimeGenerated" in rows else {}
    version = ".".join(
        str(last[c]) for c in ("OSMajorVersion", "OSMinorVersion") if _present(last.get(c))
    )
    facts = {
        "FQDN": last.get("Computer"),
        "OSFamily": last.get("OSType"),
        "OSName": last.get("OSName"),
        "OSVersion": version or None,
        "AgentVersion": last.get("Version"),
        "Environment": last.get("ComputerEnvironment"),
        "ResourceId": last.get("ResourceId") or last.get("_ResourceId"),
        "LastHeartbeat": _iso(last.get("TimeGenerated")),
    }
    if "DnsDomain" not in facts and last.get("Computer") and "." in str(last["Computer"]):
        facts["DnsDomain"] = str(last["Computer"]).split(".", 1)[1]
    return {k: (str(v) if v is not None else None) for k, v in facts.items() if _present(v)}


def _present(value: Any) -> bool:
    if value is None:
        return False
    try:
        return not bool(pd.isna(value)) and str(value) != ""
    except (TypeError, ValueError):
        return True


def _iso(value: Any) -> str | None:
    if not _present(value):
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.isoformat()


# Tables whose rows say a host was active, with the column naming the host.
ACTIVITY_TABLES = ("Heartbeat", "SecurityEvent", "Syslog", "Event")
# Defender tables whose rows are the host's records too (named by DeviceName): host
# summary's process sections and logon_session_rarity read DeviceProcessEvents
# (`processes.device_processes`), host_logons_summary DeviceLogonEvents (`logons.device_logons`).
DEVICE_ACTIVITY_TABLES = ("DeviceProcessEvents", "DeviceLogonEvents")
DEVICE_ACTIVITY_QUERY = "M365D.list_host_processes"
DEVICE_LOGON_QUERY = "M365D.host_logons"
# Which part of the notebooklets reads each of them, as the Defender-only notes say.
DEVICE_ACTIVITY_READERS = {
    "DeviceProcessEvents": "host_summary's process sections, logon_session_rarity",
    "DeviceLogonEvents": "host_logons_summary",
}
ACTIVITY_COLUMNS = ["Source", "Rows", "FirstSeen", "LastSeen"]


def host_activity(inv: Any, found: HostMatch) -> Finding:
    """How many records the selected host has in each source over the time range.

    A store answers with one count per table (Heartbeat, SecurityEvent, Syslog,
    Event, and Defender's DeviceProcessEvents and DeviceLogonEvents by DeviceName); a
    source that cannot (msticpy) is asked through `NAME_QUERIES`, reusing the rows
    `find_host` already read, until one source has rows of the host, then Defender's
    process events and logons.

    Example (in a template):
        activity = nblib.hosts.host_activity(inv, found)
        inv.require(activity, f"records of {found.name}")
    """
    activity = Finding(
        f"Records of {found.name or found.given or 'the host'} in the time range",
        pd.DataFrame(columns=ACTIVITY_COLUMNS),
    )
    if found.name is None:
        activity.note("skipped", "no single host selected (see above)")
        return activity
    from nbcatalog.data.source import is_embedded_store

    names = found.names or [found.name]
    sql = inv.source.sql if is_embedded_store(inv.source) else None
    rows = _activity_in_store(inv, sql, names) if sql is not None else None
    if rows is not None:
        rows += device_activity_in_store(inv, sql, found.name)
    else:
        rows = _activity_from_queries(inv, found, activity)
    table = pd.DataFrame(rows, columns=ACTIVITY_COLUMNS)
    activity.data = table[table["Rows"] > 0].reset_index(drop=True)
    if activity.empty and found.defender:
        # Counted, but not as this host's records: of Defender's data only the process
        # sections and host_logons_summary read theirs, and it has none of the host.
        seen = _defender_activity(inv, found, sql)
        read = ", ".join((*ACTIVITY_TABLES, *DEVICE_ACTIVITY_TABLES))
        readers = "; ".join(f"{t} ({r})" for t, r in DEVICE_ACTIVITY_READERS.items())
        activity.note(
            "warning",
            f"no records of {found.name} in {read} in {inv.period}: "
            f"{DEFENDER_ONLY.format(tables=seen)}; of Defender's tables only {readers} "
            "are read, and host_network_summary shows its connections",
        )
    elif activity.empty and not activity.missing:
        activity.note("warning", f"no records of {found.name} in {inv.period}")
    return activity


def _defender_activity(inv: Any, found: HostMatch, sql: Any) -> str:
    """ "DeviceNetworkEvents: 25 rows from ... to ..." for each Defender table naming the host."""
    parts = []
    for table in found.defender:
        rows, first, last = _defender_count(inv, found, sql, table)
        span = f" from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC" if rows else ""
        parts.append(f"{table}: {rows} rows in the time range{span}")
    return "; ".join(parts)


def _defender_count(inv: Any, found: HostMatch, sql: Any, table: str) -> tuple[int, Any, Any]:
    if sql is not None and table in device_tables():
        counted = device_activity_in_store(inv, sql, found.name, (table,))
        if counted:
            row = counted[0]
            return row["Rows"], _utc_or_none(row["FirstSeen"]), _utc_or_none(row["LastSeen"])
    for query, column in DEFENDER_QUERIES:
        frame = found.seen.get(query)
        if (query_table(query) or query) != table or frame is None or column not in frame:
            continue
        mine = frame[[host_matches(found.name, str(n)) for n in frame[column]]]
        times = pd.to_datetime(mine.get("TimeGenerated", pd.Series(dtype=object)), utc=True)
        times = times[(times >= inv.start) & (times <= inv.end)]
        return len(times), times.min(), times.max()
    return 0, None, None


def _utc_or_none(value: Any) -> pd.Timestamp | None:
    return pd.Timestamp(value).tz_convert("UTC") if _present(value) else None


def _activity_in_store(inv: Any, sql: Any, names: list[str]) -> list[dict[str, Any]] | None:
    rows = []
    for table in ACTIVITY_TABLES:
        if has_table(inv.source, table) is False:
            continue
        try:
            counted = sql(
                f"SELECT count(*) AS n, min(TimeGenerated) AS first, max(TimeGenerated) AS last "  # noqa: S608
                f'FROM "{table}" WHERE list_contains($names, Computer) '
                "AND TimeGenerated >= $start AND TimeGenerated <= $end",
                {
                    "names": names,
                    "start": inv.start.to_pydatetime(),
                    "end": inv.end.to_pydatetime(),
                },
            )
        except Exception:  # a store that cannot count: ask through the queries instead
            return None
        rec = counted.iloc[0]
        rows.append({"Source": table, "Rows": int(rec["n"]), "FirstSeen": rec["first"],
                     "LastSeen": rec["last"]})  # fmt: skip
    return rows


def device_activity_in_store(
    inv: Any, sql: Any, name: str, tables: tuple[str, ...] = DEVICE_ACTIVITY_TABLES
) -> list[dict[str, Any]]:
    """One count per Defender table of `tables` of the rows whose DeviceName is `name`.

    Device names are often FQDNs (wkstn-042.contoso.com) where Windows logs write
    WKSTN-042: the store narrows by the short name (a bound value), then each distinct
    DeviceName is tested with `host_matches`, the test the process sections use.
    `sql` is the embedded store's `sql`.

    Example:
        >>> device_activity_in_store(inv, inv.source.sql, "WKSTN-042",
        ...                          ("DeviceLogonEvents",))[0]["Rows"]   # doctest: +SKIP
        31
    """
    rows = []
    for table in tables:
        if has_table(inv.source, table) is False:
            continue
        try:
            counted = sql(
                f'SELECT "DeviceName" AS name, count(*) AS n, min(TimeGenerated) AS first, '  # noqa: S608 - table from the schema
                f'max(TimeGenerated) AS last FROM "{table}" '
                "WHERE split_part(lower(DeviceName), '.', 1) = $short "
                "AND TimeGenerated >= $start AND TimeGenerated <= $end GROUP BY 1",
                {
                    "short": HostName.parse(name).short,
                    "start": inv.start.to_pydatetime(),
                    "end": inv.end.to_pydatetime(),
                },
            )
        except Exception:  # an older store without the table: nothing to count there
            continue
        # .loc: an empty list selects no rows (plain [] would select no columns).
        mine = counted.loc[[host_matches(name, str(n)) for n in counted["name"]]]
        rows.append({"Source": table, "Rows": int(mine["n"].sum()),
                     "FirstSeen": mine["first"].min() if len(mine) else None,
                     "LastSeen": mine["last"].max() if len(mine) else None})  # fmt: skip
    return rows


def _activity_from_queries(inv: Any, found: HostMatch, activity: Finding) -> list[dict[str, Any]]:
    rows = []
    missing = []
    for query, _family in NAME_QUERIES:
        frame = found.seen.get(query)
        if frame is None:
            result = inv.query(query, title=query, host_name=found.name)
            if result.missing:
                missing += result.notes
                continue
            frame = result.data
        if frame.empty or "Computer" not in frame.columns:
            continue
        mine = frame[[host_matches(found.name, str(c)) for c in frame["Computer"]]]
        if "TimeGenerated" in mine.columns:
            times = pd.to_datetime(mine["TimeGenerated"], utc=True, errors="coerce")
            mine = mine[(times >= inv.start) & (times <= inv.end)]
            times = times[mine.index]
        else:
            times = pd.Series(pd.NaT, index=mine.index)
        rows.append({"Source": query, "Rows": len(mine), "FirstSeen": times.min(),
                     "LastSeen": times.max()})  # fmt: skip
        if len(mine):
            break  # one source with rows is enough to say the host was active
    if not any(r["Rows"] for r in rows):
        # Defender's process events and logons count too (an MDE estate may have
        # nothing else). Logons count as attempts (LogonAttempted rows are not).
        from nbcatalog.nblib.logons import device_logons
        from nbcatalog.nblib.processes import device_processes

        for query, read in (
            (DEVICE_ACTIVITY_QUERY, device_processes),
            (DEVICE_LOGON_QUERY, device_logons),
        ):
            defender = read(inv, found.name, query)
            times = pd.to_datetime(defender.data["TimeGenerated"], utc=True, errors="coerce")
            if len(times):
                rows.append({"Source": query, "Rows": len(times),
                             "FirstSeen": times.min(), "LastSeen": times.max()})  # fmt: skip
    if not rows and missing:
        activity.notes += missing
    return rows
