"""Find a host from a full or partial name, and describe it: OS, agent, IP addresses.

`find_host` resolves what the analyst typed (`wkstn-042`, `WKSTN-042.contoso.com`,
`wkstn-04`) against the hosts the data source knows (Heartbeat, SecurityEvent,
Syslog), and says which hosts match, or the closest names when none does.
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
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nbcatalog.nblib.entities import HostName, closest, host_matches, resolve_host
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.queries import has_table, known_values

# Where host names live, and what a host seen there runs.
_HOST_TABLES = (("Heartbeat", None), ("SecurityEvent", "Windows"), ("Syslog", "Linux"))


@dataclass
class HostMatch(Finding):
    """The host a name resolved to (`name`, None when none or several match)."""

    name: str | None = None
    candidates: list[str] = field(default_factory=list)
    os_family: str | None = None


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


def find_host(inv: Any, host: str) -> HostMatch:
    """Resolve `host` to one host name; notes list the candidates or closest names."""
    found = HostMatch("Matching hosts")
    host = (host or "").strip()
    if not host:
        found.note(
            "warning",
            "no host given: pass host='WKSTN-042' (a full host name or the start of one)",
        )
        return found
    known = known_hosts(inv)
    if known is None:  # a source that cannot list hosts: ask Heartbeat for the best match
        hb = inv.query("Network.get_heartbeat_for_host", host_name=host)
        found.notes += hb.notes
        names = list(hb.data.get("Computer", pd.Series(dtype=str)).dropna().astype(str))
        candidates = [
            n for n in names if host_matches(host, n) or n.lower().startswith(host.lower())
        ]
        known = dict.fromkeys(candidates)
    else:
        candidates = resolve_host(host, known)
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
        if not host_matches(host, found.name):
            found.note("info", f"{host!r} matched the host {found.name}")
    elif not found.candidates:
        absent = [t for t, _ in _HOST_TABLES if has_table(inv.source, t) is False]
        if absent:
            found.note(
                "missing", f"no {' or '.join(absent)} table in this data source to find hosts in"
            )
        near = closest(host, known or {})
        hint = f"; closest names: {', '.join(near)}" if near else ""
        found.note("warning", f"no host named {host!r} in this data source{hint}")
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
            details.note("info", f"no Heartbeat records for {name} in {inv.period}")
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
