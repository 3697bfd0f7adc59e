"""Logon statistics that stay small however many logon events a host has.

`nblib.logons` works on one row per logon attempt. That is right for a workstation
(hundreds of attempts) but not for a domain controller in a big store, where a week
is millions of events: pulling them into pandas, and gluing them into the notebook,
costs gigabytes. So `host_logon_stats` first counts a host's Windows logon attempts
in the store; above `LARGE_ATTEMPTS` it asks the store for the summaries instead
(`WindowsSecurity.summarize_logon_attempts`, `summarize_logon_timeline`,
`list_failed_then_success`: aggregation pushed into DuckDB) and keeps only the latest
`KEEP_SESSIONS` attempts as rows. Below it, or for Linux hosts, logon events passed
as a DataFrame and sources without the summarising queries (msticpy), everything is
`nblib.logons` on the rows, as before.

The functions here (`success_rate`, `logon_matrix`, `failed_success`,
`attack_findings`, `remote_addresses`, `timeline`) take a `LogonStats` and give the
same tables either way, so a template does not ask which way it went.

Example:
    >>> stats = host_logon_stats(inv, "WIN-DC01", "Windows")        # doctest: +SKIP
    >>> stats.aggregated, stats.total, len(stats.sessions.data)     # doctest: +SKIP
    (True, 520311, 5000)
    >>> logon_matrix(stats).head()                                  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nbcatalog.lazycharts import lazy_chart
from nbcatalog.nblib import logons
from nbcatalog.nblib.entities import host_matches
from nbcatalog.nblib.findings import Finding, Note

LARGE_ATTEMPTS = 50_000  # above this many attempts the summaries are computed in the store
KEEP_SESSIONS = 5_000  # attempts kept as rows (the latest) when summarised in the store
_BIN_WIDTHS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400)
_TARGET_BINS = 200
_GROUP_KEYS = ["Account", "LogonResult", "LogonTypeName", "LogonProcessName", "SourceIP"]


@dataclass
class LogonStats:
    """A host's logon attempts: rows (`sessions`), plus store-side summaries when large.

    `aggregated` says which: when True, `groups` holds attempts grouped by
    computer, account, result, logon type, process and source address (Count,
    FirstSeen, LastSeen), `timeline_counts` attempts per time bin and result,
    `failed_then_success` the sources whose failures were followed by a success,
    and `sessions` only the latest attempts. `total` counts every attempt.
    """

    sessions: logons.LogonSessions
    aggregated: bool = False
    total: int = 0
    groups: pd.DataFrame | None = None
    timeline_counts: pd.DataFrame | None = None
    failed_then_success: pd.DataFrame | None = None


def bin_seconds(start: Any, end: Any, target: int = _TARGET_BINS) -> int:
    """A round time-bin width giving at most about `target` bins over start..end.

    Example:
        >>> bin_seconds("2024-05-01", "2024-05-08")
        3600
    """
    span = (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds()
    for width in _BIN_WIDTHS:
        if span / width <= target:
            return width
    return _BIN_WIDTHS[-1]


def _windows_computers(inv: Any, host: str) -> tuple[list[str], int] | None:
    """The computers `host` names with their attempt count, or None if the store cannot say."""
    found = inv.query(
        "WindowsSecurity.count_host_logon_attempts", title="Windows logons", host_name=host
    )
    if found.missing or found.data.empty:
        return None
    rows = found.data[[host_matches(host, str(c)) for c in found.data["Computer"]]]
    return list(rows["Computer"]), int(rows["Attempts"].sum())


def host_logon_stats(
    inv: Any,
    host: str | None,
    os_family: str | None = None,
    data: pd.DataFrame | None = None,
    *,
    large: int = LARGE_ATTEMPTS,
    keep: int = KEEP_SESSIONS,
) -> LogonStats:
    """The logon attempts of `host`: rows, or store-side summaries above `large` attempts.

    Arguments as `nblib.logons.host_logons`. Summaries are used for a Windows host
    on a source that has the summarising queries (the embedded store).

    Example:
        >>> stats = host_logon_stats(inv, found.name, found.os_family)   # doctest: +SKIP
    """
    if data is None and host and os_family == "Windows":
        counted = _windows_computers(inv, host)
        if counted is not None and counted[1] > large:
            return _summarised(inv, host, *counted, keep=keep)
    return LogonStats(logons.host_logons(inv, host, os_family, data=data))


def _summarised(inv: Any, host: str, computers: list[str], total: int, *, keep: int) -> LogonStats:
    session = getattr(inv.source, "session", None)  # one store connection for the queries
    with session() if session is not None else contextlib.nullcontext():
        return _ask_summaries(inv, host, computers, total, keep=keep)


def _ask_summaries(
    inv: Any, host: str, computers: list[str], total: int, *, keep: int
) -> LogonStats:
    def ask(name: str, **params: Any) -> pd.DataFrame:
        return inv.query(f"WindowsSecurity.{name}", title=name, computers=computers, **params).data

    groups = ask("summarize_logon_attempts")
    # Text columns typed as logons' rows are, so both ways give identical tables.
    text = ["Computer", "LogonType", *_GROUP_KEYS]
    groups[text] = groups[text].astype("string")
    width = bin_seconds(inv.start, inv.end)
    counts = ask("summarize_logon_timeline", bin_seconds=width)
    won = ask("list_failed_then_success")
    for column in ("FirstFailure", "LastFailure", "FirstSuccess"):
        won[column] = won[column].astype("datetime64[ns, UTC]")
    recent = logons.normalise_logons(ask("list_recent_logon_attempts", limit=keep))
    sessions = logons.LogonSessions(f"Logon attempts on {host}", recent)
    sessions.hosts = sorted(computers)
    sessions.columns = [c for c in logons.LOGON_COLUMNS if c not in ("Detail", "SourcePort")]
    by_result = groups.groupby("LogonResult")["Count"].sum()
    sessions.note(
        "info",
        f"{total} logon attempts: {by_result.get('Success', 0)} succeeded, "
        f"{by_result.get('Failure', 0)} failed",
    )
    sessions.note(
        "info",
        f"too many to list: these are the latest {len(recent):,} of {total:,}; the findings, "
        "counts, timeline and matrix below cover all of them (summarised in the store)",
    )
    left_out = _defender_logons_left_out(inv, host)
    if left_out:
        sessions.note(
            "warning",
            f"the summaries cover Windows 4624/4625 only: {left_out:,} Microsoft Defender logon "
            f"events (DeviceLogonEvents) of {host} in the time range are not included",
        )
    return LogonStats(
        sessions=sessions,
        aggregated=True,
        total=total,
        groups=groups,
        timeline_counts=counts,
        failed_then_success=won,
    )


def _defender_logons_left_out(inv: Any, host: str) -> int:
    """Defender logon events of `host` that the store-side 4624/4625 summaries leave out."""
    from nbcatalog.data.source import is_embedded_store
    from nbcatalog.nblib.hosts import device_activity_in_store

    if not is_embedded_store(inv.source):
        return 0
    counts = device_activity_in_store(inv, inv.source.sql, host, ("DeviceLogonEvents",))
    return sum(row["Rows"] for row in counts)


def success_rate(stats: LogonStats, by: str | list[str]) -> pd.DataFrame:
    """Successes, failures and success rate per value of `by` (as `logons.success_rate`).

    Example:
        >>> success_rate(stats, "Account").head()     # doctest: +SKIP
    """
    if not stats.aggregated:
        return logons.success_rate(stats.sessions.data, by)
    keys = [by] if isinstance(by, str) else list(by)
    columns = [*keys, "Success", "Failure", "Total", "SuccessRate"]
    groups = stats.groups
    if groups is None or groups.empty:
        return pd.DataFrame(columns=columns)
    table = (
        groups.pivot_table(
            index=keys, columns="LogonResult", values="Count", aggfunc="sum", fill_value=0
        )
        .reindex(columns=["Success", "Failure"], fill_value=0)
        .astype("int64")
        .reset_index()
    )
    return logons.rate_table(table, keys)


def logon_matrix(stats: LogonStats) -> pd.DataFrame:
    """Attempts per account x logon process x logon type x result (as `logons.logon_matrix`)."""
    if not stats.aggregated:
        return logons.logon_matrix(stats.sessions.data)
    keys = ["Account", "LogonProcessName", "LogonTypeName", "LogonResult"]
    groups = stats.groups
    if groups is None or groups.empty:
        return pd.DataFrame(columns=[*keys, "Count"])
    return (
        groups.groupby(keys, dropna=False)["Count"]
        .sum()
        .astype("int64")
        .rename("Count")
        .reset_index()
        .sort_values(["Count", *keys], ascending=[False, True, True, True, True])
        .reset_index(drop=True)
    )


def failed_success(stats: LogonStats) -> pd.DataFrame:
    """Sources whose failures were followed by a success (as `logons.failed_success`)."""
    if not stats.aggregated:
        return logons.failed_success(stats.sessions.data)
    table = stats.failed_then_success
    if table is None or table.empty:
        return pd.DataFrame(columns=logons.FAILED_SUCCESS_COLUMNS)
    return table[logons.FAILED_SUCCESS_COLUMNS].reset_index(drop=True)


def _remote_failures(stats: LogonStats) -> pd.DataFrame:
    groups = stats.groups if stats.groups is not None else pd.DataFrame(columns=_GROUP_KEYS)
    return groups[(groups["SourceIP"] != "") & (groups["LogonResult"] == "Failure")]


def attack_findings(
    stats: LogonStats,
    *,
    min_failures: int = 20,
    spray_accounts: int = 10,
    spray_max_per_account: float = 10.0,
) -> Finding:
    """Brute force and password spray sources, in plain words (as `logons.attack_findings`)."""
    if not stats.aggregated:
        return logons.attack_findings(
            stats.sessions.data,
            min_failures=min_failures,
            spray_accounts=spray_accounts,
            spray_max_per_account=spray_max_per_account,
        )
    finding = Finding("Brute force and password spray", pd.DataFrame(columns=logons.ATTACK_COLUMNS))
    finding.columns = [c for c in logons.ATTACK_COLUMNS if c != "Finding"]
    fails = _remote_failures(stats)
    per_ip = (
        fails.groupby("SourceIP")
        .agg(
            Failures=("Count", "sum"),
            Accounts=("Account", "nunique"),
            FirstFailure=("FirstSeen", "min"),
            LastFailure=("LastSeen", "max"),
        )
        .reset_index()
    )
    wins = failed_success(stats).set_index("SourceIP")
    rows = []
    for row in per_ip.itertuples(index=False):
        failures, accounts = int(row.Failures), int(row.Accounts)
        if failures < min_failures:
            continue
        rows.append(
            logons.attack_row(
                row.SourceIP,
                failures,
                accounts,
                row.FirstFailure,
                row.LastFailure,
                wins,
                spray_accounts=spray_accounts,
                spray_max_per_account=spray_max_per_account,
            )
        )
    worst = per_ip.sort_values(["Failures", "SourceIP"], ascending=[False, True])
    failures_by_ip = worst.set_index("SourceIP")["Failures"].astype(int)
    return logons.attack_table(finding, rows, min_failures, failures_by_ip)


def remote_addresses(stats: LogonStats) -> pd.DataFrame:
    """Remote addresses: attempts, GeoIP place, AS owner (as `logons.remote_addresses`)."""
    if not stats.aggregated:
        return logons.remote_addresses(stats.sessions.data)
    groups = stats.groups
    remote = groups[groups["SourceIP"] != ""] if groups is not None else None
    if remote is None or remote.empty:
        return logons.remote_addresses(None)
    from nbcatalog.enrich.geoip import lookup_ips

    counts = success_rate(LogonStats(stats.sessions, True, groups=remote), "SourceIP")
    counts = counts.rename(columns={"SourceIP": "IpAddress"})
    counts["Accounts"] = counts["IpAddress"].map(remote.groupby("SourceIP")["Account"].nunique())
    geo = lookup_ips(counts["IpAddress"].tolist())
    table = geo.merge(counts, on="IpAddress", how="right")
    columns = list(logons.remote_addresses(None).columns)
    return table[[c for c in columns if c in table.columns]].reset_index(drop=True)


@lazy_chart
def count_timeline(counts: pd.DataFrame, *, title: str = "Logon attempts") -> Any:
    """Attempts per time bin as stacked bars, failures red and successes green (a PNG).

    `counts` has TimeGenerated (bin start), LogonResult and Count, as
    `WindowsSecurity.summarize_logon_timeline` returns them.
    """
    if counts is None or counts.empty:
        return Note("info", f"{title}: no events to draw")
    import matplotlib
    from matplotlib.figure import Figure

    from nbcatalog.nblib import plots

    table = counts.pivot_table(
        index="TimeGenerated", columns="LogonResult", values="Count", aggfunc="sum", fill_value=0
    ).sort_index()
    times = pd.to_datetime(table.index, utc=True).tz_localize(None)
    width = (times[1] - times[0]) if len(times) > 1 else pd.Timedelta(hours=1)
    with matplotlib.rc_context(plots._RC):
        fig = Figure(figsize=(9, 2.8))
        ax = fig.add_subplot()
        bottom = None
        for result, colour in (("Success", "#2ca02c"), ("Failure", "#d62728")):
            if result not in table.columns:
                continue
            values = table[result].to_numpy()
            ax.bar(times, values, width=width, bottom=bottom, color=colour, label=result,
                   align="edge")  # fmt: skip
            bottom = values if bottom is None else bottom + values
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        ax.set_ylabel("attempts")
        ax.set_xlabel("time (UTC)")
        ax.set_title(plots._short(title))
        ax.grid(axis="y", color="#eee")
    return plots._png(fig)


def timeline(stats: LogonStats, *, title: str = "Logon attempts") -> Any:
    """The attempts over time: one point per attempt, or counts per time bin when large."""
    if not stats.aggregated:
        return plots_timeline(stats.sessions.data, title)
    return count_timeline(stats.timeline_counts, title=title)


def plots_timeline(sessions: pd.DataFrame, title: str) -> Any:
    """`nblib.plots.timeline` of attempts on lanes by result (the small-data timeline)."""
    from nbcatalog.nblib import plots

    return plots.timeline(sessions, group="LogonResult", colour_by="LogonResult", title=title)
