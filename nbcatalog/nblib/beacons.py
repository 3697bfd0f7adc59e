"""Beaconing: a local host contacting one remote address and port at regular intervals.

An implant calling home (C2) does so on a timer, with small, alike messages, for as
long as it runs. Per channel (local address, remote address, remote port) this
module measures what gives that away, as RITA and msticpy's periodogram do:

- `Contacts`: distinct contact times (rows logged at the same time are one contact,
  their connections and bytes added up: flow logs aggregate per interval, and
  msticpy's AllExtIPs expansion repeats rows);
- `MedianInterval` (seconds), `IntervalCV` (standard deviation / mean) and `Jitter`
  (interquartile range / median): how regular the gaps are;
- `SizeCV`: how alike the contacts are (bytes per contact when the log has bytes,
  else connections per contact);
- `Fill`: contacts / the contacts a steady timer would make between the first and
  the last one (office-hours traffic leaves nights and weekends empty);
- `Score` (0..1): 0.5 x interval regularity + 0.25 x size regularity + 0.25 x fill.

Everything is computed by DuckDB SQL with bound parameters: on a flow frame
(`score_frame`, DuckDB reads the pandas frame in place) or in the embedded store
over the raw flow table (`store_beacons`, for a whole estate) with the same
statement, so both give the same figures. Rows without a time (NaT), with an empty
remote address, or channels with fewer than `min_contacts` contacts are left out;
addresses are text, so IPv6 works as IPv4 does.

A caveat the findings state: a channel whose interval equals the log's own
aggregation step (10 minutes for Azure NSG flow analytics) is regular by
construction when it is busy; there the size regularity and fill decide.

Example:
    >>> import pandas as pd
    >>> t = pd.date_range("2024-05-01", periods=12, freq="10min", tz="UTC")
    >>> flows = pd.DataFrame({"FlowTime": t, "LocalIP": "10.0.0.5", "RemoteIP": "192.0.2.66",
    ...     "DestPort": 4444, "Direction": "outbound", "Flows": 2})
    >>> b = score_frame(flows)
    >>> b.loc[0, ["RemoteIP", "RemotePort", "Contacts", "Interval", "Score"]].astype(str).tolist()
    ['192.0.2.66', '4444', '12', '10 min', '1.0']
    >>> beacon_findings(b)[0]["key"], beacon_findings(b)[0]["severity"]
    ('beacon:192.0.2.66:4444', 'high')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.values import text_of

BEACON_COLUMNS = [
    "LocalIP",
    "RemoteIP",
    "RemotePort",
    "RemoteClass",
    "Contacts",
    "Connections",
    "MedianInterval",
    "Interval",
    "IntervalCV",
    "Jitter",
    "SizeCV",
    "Fill",
    "Score",
    "FirstSeen",
    "LastSeen",
]
DEFAULT_MIN_CONTACTS = 6
# Score thresholds of a finding; an internal remote is at most "low" (steady
# internal services, e.g. a web server's database, look periodic in flow logs).
HIGH_SCORE = 0.9
MEDIUM_SCORE = 0.8
# Directions that may be a host calling out ("unknown": logs that do not say).
OUTBOUND = ("outbound", "unknown")

# The scoring statement: reads a relation `contacts_in` (t, local, remote, port, n, bytes).
_SCORE_SQL = """
WITH events AS (
  -- Rows logged at the same time are one contact (flow logs aggregate per interval).
  SELECT local, remote, port, t, sum(n) AS n, sum(bytes) AS bytes
  FROM contacts_in
  WHERE t IS NOT NULL AND coalesce(remote, '') <> '' AND coalesce(local, '') <> ''
  GROUP BY local, remote, port, t
),
gaps AS (
  SELECT *,
    epoch(t) - epoch(lag(t) OVER (PARTITION BY local, remote, port ORDER BY t)) AS gap,
    -- Bytes per contact when the log has them, else connections per contact.
    CASE WHEN bool_and(bytes IS NOT NULL AND bytes > 0)
           OVER (PARTITION BY local, remote, port)
         THEN bytes ELSE n END AS size
  FROM events
),
stats AS (
  SELECT local AS LocalIP, remote AS RemoteIP, port AS RemotePort,
    count(*) AS Contacts, sum(n) AS Connections,
    min(t) AS FirstSeen, max(t) AS LastSeen,
    median(gap) AS MedianInterval,
    stddev_pop(gap) / nullif(avg(gap), 0) AS IntervalCV,
    (quantile_cont(gap, 0.75) - quantile_cont(gap, 0.25)) / nullif(median(gap), 0) AS Jitter,
    coalesce(stddev_pop(size) / nullif(avg(size), 0), 0) AS SizeCV,
    epoch(max(t)) - epoch(min(t)) AS span
  FROM gaps
  GROUP BY local, remote, port
  HAVING count(*) >= $min_contacts AND median(gap) > 0
)
SELECT LocalIP, RemoteIP, RemotePort, Contacts, Connections, MedianInterval,
  IntervalCV, Jitter, SizeCV,
  least(1.0, Contacts / (span / MedianInterval + 1)) AS Fill,
  round(
    0.25 * (1 - least(1.0, IntervalCV)) + 0.25 * (1 - least(1.0, Jitter))
    + 0.25 * (1 - least(1.0, SizeCV))
    + 0.25 * least(1.0, Contacts / (span / MedianInterval + 1)),
    3) AS Score,
  FirstSeen, LastSeen
FROM stats
ORDER BY Score DESC, Contacts DESC, RemoteIP, RemotePort
"""

# The embedded store's raw Azure NSG flow table, outbound rows, as contacts.
_STORE_CONTACTS_SQL = """
contacts_in AS (
  SELECT coalesce(FlowStartTime_t, TimeGenerated) AS t,
    SrcIP_s AS local, DestIP_s AS remote, CAST(DestPort_d AS BIGINT) AS port,
    greatest(coalesce(AllowedOutFlows_d, 0) + coalesce(AllowedInFlows_d, 0), 1) AS n,
    coalesce(OutboundBytes_d, 0) + coalesce(InboundBytes_d, 0) AS bytes
  FROM "AzureNetworkAnalytics_CL"
  WHERE coalesce(SubType_s, 'FlowLog') = 'FlowLog'
    AND coalesce(FlowDirection_s, 'O') = 'O'
    AND coalesce(FlowStartTime_t, TimeGenerated) >= $start
    AND coalesce(FlowStartTime_t, TimeGenerated) <= $end
    AND ($host_name = '' OR lower(split_part(VM_s, '/', -1)) = lower($host_name))
)
"""


def _with_contacts(contacts_cte: str) -> str:
    """The scoring statement with its `contacts_in` relation defined by `contacts_cte`."""
    return "WITH " + contacts_cte.strip() + ",\n" + _SCORE_SQL.strip().removeprefix("WITH")


def _finish(stats: pd.DataFrame) -> pd.DataFrame:
    """Typed columns, the remote's address class and a readable interval."""
    from nbcatalog.nblib.flows import address_class

    if stats.empty:
        return pd.DataFrame(columns=BEACON_COLUMNS)
    out = stats.copy()
    out["RemotePort"] = pd.to_numeric(out["RemotePort"], errors="coerce").astype("Int64")
    for column in ("Contacts", "Connections"):
        out[column] = out[column].astype("int64")
    for column in ("MedianInterval", "IntervalCV", "Jitter", "SizeCV", "Fill", "Score"):
        out[column] = out[column].astype("float64").round(3)
    for column in ("FirstSeen", "LastSeen"):
        out[column] = pd.to_datetime(out[column], utc=True)
    classes = {ip: address_class(ip) for ip in out["RemoteIP"].unique()}
    out["RemoteClass"] = out["RemoteIP"].map(classes)
    out["Interval"] = out["MedianInterval"].map(interval_text)
    return out[BEACON_COLUMNS].reset_index(drop=True)


def interval_text(seconds: float) -> str:
    """A median interval as an analyst says it.

    Example:
        >>> interval_text(600), interval_text(45), interval_text(10800)
        ('10 min', '45 s', '3 h')
    """
    if pd.isna(seconds):
        return ""
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:.3g} h"


def contacts_of(flows: pd.DataFrame, directions: Sequence[str] = OUTBOUND) -> pd.DataFrame:
    """The contacts of normalized flows (`flows.normalize_flows`): t, local, remote, port, n, bytes.

    Only rows whose Direction is in `directions` (a beacon is the host calling out).
    Bytes come from OutboundBytes/InboundBytes (NSG), SentBytes/ReceivedBytes
    (CommonSecurityLog) or orig_bytes/resp_bytes (Zeek) when the frame has them.

    Example:
        >>> f = pd.DataFrame({"FlowTime": pd.to_datetime(["2024-05-01"], utc=True),
        ...     "LocalIP": ["10.0.0.5"], "RemoteIP": ["2001:db8::1"], "DestPort": [443],
        ...     "Direction": ["outbound"], "Flows": [1]})
        >>> contacts_of(f)[["remote", "port", "n"]].values.tolist()
        [['2001:db8::1', 443, 1]]
    """
    columns = ["t", "local", "remote", "port", "n", "bytes"]
    if flows is None or flows.empty:
        return pd.DataFrame(columns=columns)
    frame = flows
    if "Direction" in frame.columns and directions:
        frame = frame[frame["Direction"].isin(list(directions))]
    n = len(frame)

    def col(name: str) -> pd.Series:
        return frame[name] if name in frame.columns else pd.Series(None, index=frame.index)

    size = None
    for sent, received in (
        ("OutboundBytes", "InboundBytes"),
        ("SentBytes", "ReceivedBytes"),
        ("orig_bytes", "resp_bytes"),
    ):
        if sent in frame.columns or received in frame.columns:
            size = pd.to_numeric(col(sent), errors="coerce").fillna(0) + pd.to_numeric(
                col(received), errors="coerce"
            ).fillna(0)
            break
    if not n:
        return pd.DataFrame(columns=columns)
    counts = (
        pd.to_numeric(col("Flows"), errors="coerce").fillna(1)
        if "Flows" in frame.columns
        else pd.Series(1, index=frame.index)
    )
    out = pd.DataFrame(
        {
            "t": pd.to_datetime(col("FlowTime"), utc=True, errors="coerce"),
            "local": col("LocalIP").map(text_of).astype(object),
            "remote": col("RemoteIP").map(text_of).astype(object),
            "port": pd.to_numeric(col("DestPort"), errors="coerce").astype("Int64"),
            "n": counts.astype("int64"),
            "bytes": size.astype("float64") if size is not None else float("nan"),
        }
    )
    return out.reset_index(drop=True)[columns]


def score_contacts(
    contacts: pd.DataFrame, min_contacts: int = DEFAULT_MIN_CONTACTS
) -> pd.DataFrame:
    """Beacon statistics per channel of a contacts frame (`contacts_of`), best score first.

    Example:
        >>> t = pd.date_range("2024-05-01", periods=8, freq="5min", tz="UTC")
        >>> c = pd.DataFrame({"t": t, "local": "10.0.0.5", "remote": "192.0.2.66",
        ...                   "port": 443, "n": 1, "bytes": 300.0})
        >>> score_contacts(c)[["Contacts", "Interval", "Score"]].values.tolist()
        [[8, '5 min', 1.0]]
    """
    if contacts is None or contacts.empty:
        return pd.DataFrame(columns=BEACON_COLUMNS)
    frame = contacts[["t", "local", "remote", "port", "n", "bytes"]].copy()
    frame["t"] = pd.to_datetime(frame["t"], utc=True, errors="coerce")
    frame["port"] = pd.to_numeric(frame["port"], errors="coerce").astype("Int64")
    frame["n"] = pd.to_numeric(frame["n"], errors="coerce").fillna(1).astype("int64")
    frame["bytes"] = pd.to_numeric(frame["bytes"], errors="coerce").astype("float64")
    for column in ("local", "remote"):
        frame[column] = frame[column].map(text_of).astype(object)
    con = duckdb.connect()
    try:
        con.register("contacts_frame", frame)
        sql = _with_contacts("contacts_in AS (SELECT * FROM contacts_frame)")
        stats = con.execute(sql, {"min_contacts": int(min_contacts)}).df()
    finally:
        con.close()
    return _finish(stats)


def score_frame(
    flows: pd.DataFrame,
    *,
    min_contacts: int = DEFAULT_MIN_CONTACTS,
    directions: Sequence[str] = OUTBOUND,
) -> pd.DataFrame:
    """Beacon statistics per (LocalIP, RemoteIP, RemotePort) of normalized flows.

    Example:
        >>> t = pd.date_range("2024-05-01", periods=3, freq="10min", tz="UTC")
        >>> f = pd.DataFrame({"FlowTime": t, "LocalIP": "10.0.0.5", "RemoteIP": "192.0.2.66",
        ...     "DestPort": 4444, "Direction": "outbound", "Flows": 1})
        >>> len(score_frame(f)), len(score_frame(f, min_contacts=3))
        (0, 1)
    """
    return score_contacts(contacts_of(flows, directions), min_contacts)


def store_beacons(
    source: Any,
    start: Any,
    end: Any,
    *,
    host_name: str = "",
    min_contacts: int = DEFAULT_MIN_CONTACTS,
) -> pd.DataFrame:
    """Beacon statistics computed inside the embedded store, over its outbound NSG flows.

    `source` is a `DuckDBSource`; `host_name` limits it to one VM (empty: the whole
    estate, which is where the store pays: the rows never leave DuckDB). Every value
    is a bound parameter. Raises `DataSourceError` from sources that run no SQL.

    Example:
        >>> from nbcatalog.data import connect                          # doctest: +SKIP
        >>> src = connect("duckdb:demo.duckdb")                         # doctest: +SKIP
        >>> store_beacons(src, "2026-01-03", "2026-01-10")              # doctest: +SKIP
    """
    sql = _with_contacts(_STORE_CONTACTS_SQL)
    stats = source.sql(
        sql,
        {
            "start": pd.Timestamp(start).to_pydatetime(),
            "end": pd.Timestamp(end).to_pydatetime(),
            "host_name": text_of(host_name),
            "min_contacts": int(min_contacts),
        },
    )
    return _finish(stats)


def severity_of(score: float, remote_class: str) -> str | None:
    """The finding severity of a channel's score (None: not a finding).

    Example:
        >>> severity_of(0.95, "public"), severity_of(0.85, "documentation")
        ('high', 'medium')
        >>> severity_of(0.97, "private"), severity_of(0.5, "public")
        ('low', None)
    """
    from nbcatalog.nblib.flows import is_external

    if pd.isna(score) or score < MEDIUM_SCORE:
        return None
    if not is_external(text_of(remote_class)):
        return "low" if score >= HIGH_SCORE else None
    return "high" if score >= HIGH_SCORE else "medium"


def channel_key(ip: str, port: Any) -> str:
    """The stable key of a beacon finding: "beacon:<ip>:<port>" (IPv6 in brackets).

    Example:
        >>> channel_key("192.0.2.66", 4444), channel_key("2001:db8::1", 443)
        ('beacon:192.0.2.66:4444', 'beacon:[2001:db8::1]:443')
    """
    ip_text = text_of(ip)
    host = f"[{ip_text}]" if ":" in ip_text else ip_text
    port_text = "" if port is None or pd.isna(port) else str(int(port))
    return f"beacon:{host}:{port_text}"


def beacon_findings(
    beacons: pd.DataFrame,
    *,
    section: str = "beacons",
    result: str = "beacons",
    subject: str = "",
) -> list[dict[str, Any]]:
    """The shared-contract findings of scored channels (`score_frame` output).

    One finding per channel scoring at least `MEDIUM_SCORE` (internal remotes only
    from `HIGH_SCORE`, as "low"); plain JSON values only, so they glue as they are.

    Example:
        >>> b = pd.DataFrame({"LocalIP": ["10.0.0.5"], "RemoteIP": ["192.0.2.66"],
        ...     "RemotePort": [4444], "RemoteClass": ["documentation"], "Contacts": [40],
        ...     "Connections": [80], "Interval": ["10 min"], "Jitter": [0.0],
        ...     "Score": [0.98]})
        >>> f = beacon_findings(b, subject="LNX-WEB01")[0]
        >>> f["severity"], f["count"], f["title"]
        ('high', 1, 'LNX-WEB01 (10.0.0.5) contacted 192.0.2.66:4444 every 10 min, 40 times')
    """
    found: list[dict[str, Any]] = []
    if beacons is None or beacons.empty:
        return found
    for row in beacons.itertuples(index=False):
        severity = severity_of(row.Score, getattr(row, "RemoteClass", ""))
        if severity is None:
            continue
        port = "" if pd.isna(row.RemotePort) else str(int(row.RemotePort))
        who = f"{subject} ({row.LocalIP})" if subject else str(row.LocalIP)
        jitter = getattr(row, "Jitter", float("nan"))
        jitter_text = "" if pd.isna(jitter) else f", interval jitter {float(jitter):.0%}"
        found.append(
            {
                "severity": severity,
                "title": (
                    f"{who} contacted {row.RemoteIP}:{port} every {row.Interval}, "
                    f"{int(row.Contacts)} times"
                ),
                "text": (
                    f"Beacon score {float(row.Score):.2f} (1 = a perfect timer): "
                    f"{int(row.Connections)} connections in {int(row.Contacts)} contacts"
                    f"{jitter_text}; remote address class {text_of(row.RemoteClass)}."
                ),
                "section": section,
                "result": result,
                "count": 1,  # evidence rows: the channel's one row in `result`
                "key": channel_key(row.RemoteIP, row.RemotePort),
            }
        )
    return found


def beacons_of(
    flows: pd.DataFrame,
    *,
    subject: str = "",
    min_contacts: int = DEFAULT_MIN_CONTACTS,
) -> Finding:
    """The scored channels of normalized flows as a Finding (a note when none qualify).

    Example:
        beacons = nblib.beacons.beacons_of(network_flows, subject="LNX-WEB01")
    """
    found = Finding(f"Regular outbound contacts of {subject}" if subject else "Beaconing")
    found.data = score_frame(flows, min_contacts=min_contacts)
    found.columns = [
        "LocalIP",
        "RemoteIP",
        "RemotePort",
        "RemoteClass",
        "Contacts",
        "Interval",
        "Jitter",
        "SizeCV",
        "Fill",
        "Score",
        "FirstSeen",
        "LastSeen",
    ]
    found.max_rows = 20
    if flows is None or flows.empty:
        found.note("info", "no flows to look for beacons in")
    elif found.empty:
        found.note(
            "info",
            f"no outbound channel (local address, remote address, port) with at least "
            f"{min_contacts} contacts at distinct times",
        )
    else:
        strong = found.data[found.data["Score"] >= MEDIUM_SCORE]
        found.note(
            "info",
            f"{len(found.data)} channels with at least {min_contacts} contacts, {len(strong)} "
            f"scoring {MEDIUM_SCORE} or more; a channel busy at the log's own aggregation step "
            "(10 min for NSG flow analytics) is regular by construction, so size and fill decide",
        )
    return found
