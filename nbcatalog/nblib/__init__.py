"""Reusable steps for notebooklet templates, so a template reads like an investigation.

Each step takes an `Investigation` (data source, time range, options) and returns a
`Finding`: a table plus notes saying what was missing, never an exception for
missing data. Findings render as escaped HTML when they end a cell.

The modules, by what a template needs (``from nbcatalog.nblib import logons``):

Foundations
    investigation  `Investigation`: data source, time range, options; `inv.wants("geo")`
    outcome        no silent empties: `inv.require_entity(found)`, `inv.require(rows, what)`
                   end the run `no_data` (with the reason) when the data is not there
    findings       `Finding` (a table plus notes) and `summarize`
    queries        run a named query; missing tables or data become notes
    glue           `glue(name, value)`: record results with their dtypes (sidecars for big frames)
    tables         HTML tables with every value escaped
    plots          static PNG charts (timelines, bars)
    entities       recognise hosts and accounts however the logs spell them
Hosts and accounts
    hosts          find a host from a full or partial name; OS, agent, IP addresses
    hostactivity   account changes, scheduled tasks and services, TI on command lines
    processes      suspicious command lines and rare Windows events
    accounts       every account matching a name across sign-ins, Windows and Linux
    accountdetail  per-source detail for the chosen account
Logons and Windows events
    logons         logon attempts, Windows or Linux, as one `logon_sessions` frame
    logonstats     logon statistics that stay small on big hosts
    logonplots     success/failure bars, the logon matrix heat map, the logon map
    winevents      Security events other than logons and process creation; EventData
    rarity         how unusual each logon session's processes are (clustering)
Network, IPs and URLs
    flows          a host's or an address's flows: by protocol, direction, ASN, over time
    ipinfo         what the estate knows of one IP address (class, hosts, geo, TI, logons)
    ipactivity     what an address did in Azure, Office 365 and CEF logs; its accounts
    maps           remote addresses on a world map, drawn offline
    urls           one URL's parts, TI, alerts, bookmarks, hosts and flows; online
                   look-ups only when configured
Alerts and bookmarks
    alerts         parse alerts' Entities and find the alerts naming an entity
    alert_ti       alerts enriched with TI on the indicators in their entities
    bookmarks      hunting bookmarks naming a host or an account
Drill-downs (used from Results in the caller's notebook)
    pickers        choose a row of a result and run a notebooklet for it
    browse         browse a run's alerts, bookmarks or TI results one at a time
    alerttimeline  a run's alerts on an interactive offline timeline (PNG fallback)

Example (in a template):
    >>> from nbcatalog import nblib                                          # doctest: +SKIP
    >>> inv = nblib.Investigation.open(data_source, start, end, options)    # doctest: +SKIP
    >>> alerts = nblib.alerts.related_alerts(inv, host="WKSTN-042")         # doctest: +SKIP
"""

from nbcatalog.nblib import (
    accounts,
    alerts,
    bookmarks,
    entities,
    findings,
    hosts,
    outcome,
    pickers,
    plots,
    processes,
    queries,
    tables,
)
from nbcatalog.nblib.findings import Finding, Note, summarize
from nbcatalog.nblib.investigation import Investigation, time_range

__all__ = [
    "Finding",
    "Investigation",
    "Note",
    "accounts",
    "alerts",
    "bookmarks",
    "entities",
    "findings",
    "hosts",
    "outcome",
    "pickers",
    "plots",
    "processes",
    "queries",
    "summarize",
    "tables",
    "time_range",
]
