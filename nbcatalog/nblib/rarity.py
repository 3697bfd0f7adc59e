"""How unusual each logon session's processes are, compared with the rest of the host.

Process-creation events (4688, or Defender's DeviceProcessEvents) are grouped into
logon sessions (the new process's TargetLogonId when Windows records one, else the
creator's SubjectLogonId). Command lines are clustered by their tokens: variable parts
(GUIDs, hex and decimal numbers, addresses, base64 blobs, user names in profile paths)
become placeholders, and command lines of the same program whose token sets overlap by
at least `similarity` (Jaccard) join one cluster. A process is as rare as its cluster
is small (rarity = 1 / cluster size), and a session scores the mean rarity of its
processes: a session of one-off commands (whoami, net user /add, schtasks /create)
stands out among sessions that run the same applications every day.

No model library is needed: the clustering is a greedy leader clustering over
distinct token patterns, so it is fast on a host's week of processes and its clusters
can be explained (each has an example command line).

Example:
    >>> command_tokens('"C:\\\\Windows\\\\System32\\\\cmd.exe" /c ping 10.0.0.5 -n 4')
    ['cmd.exe', '/c', 'ping', '<ip>', '-n', '<n>']
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from nbcatalog.nblib.entities import host_matches
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.hosts import defender_only_note

_PLACEHOLDERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), token)
    for pattern, token in (
        (r"\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?", "<guid>"),
        (r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "<ip>"),
        (r"\b0x[0-9a-f]+\b", "<hex>"),
        (r"[A-Za-z0-9+/]{24,}={0,2}", "<b64>"),
        (r"(\\users\\)[^\\\s\"]+", r"\1<user>"),
        (r"\b\d+\b", "<n>"),
    )
)
_SPLIT = re.compile(r"[\s\"',;=]+")
_NO_SESSION = {"", "-", "0x0", "0", "none", "nan", "<na>"}


def command_tokens(command_line: Any) -> list[str]:
    """The command line as tokens with variable parts replaced by placeholders.

    The program is reduced to its file name, so `C:\\Windows\\System32\\cmd.exe` and
    `cmd.exe` are the same token.
    """
    if not isinstance(command_line, str):
        return []
    text = command_line.strip().lower()
    program = ""
    quoted = re.match(r'^"([^"]*)"(.*)$', text, re.DOTALL)
    if quoted:  # "C:\Program Files\app.exe" --x: the quoted path is one program
        program, text = re.split(r"[\\/]", quoted.group(1))[-1], quoted.group(2)
    for pattern, token in _PLACEHOLDERS:
        text = pattern.sub(token, text)
    tokens = [t for t in _SPLIT.split(text) if t]
    if program:
        tokens.insert(0, program)
    elif tokens:
        tokens[0] = re.split(r"[\\/]", tokens[0])[-1]
    return tokens


def _program(path: Any) -> str:
    text = str(path or "").strip().lower()
    return re.split(r"[\\/]", text)[-1] if text else ""


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def cluster_processes(processes: pd.DataFrame, similarity: float = 0.6) -> pd.DataFrame:
    """The process rows with `Pattern`, `ClusterId`, `ClusterSize` and `Rarity` columns.

    Rows of the same program whose command-line token sets have a Jaccard similarity
    of at least `similarity` share a cluster; the commonest pattern leads its cluster.

    Example:
        >>> p = pd.DataFrame({"NewProcessName": ["ping.exe"] * 3 + ["C:\\\\w\\\\net.exe"],
        ...                   "CommandLine": ["ping 10.0.0.1", "ping 10.0.0.2", "ping host1",
        ...                                   "net user x /add"]})
        >>> cluster_processes(p)[["ClusterId", "ClusterSize"]].values.tolist()
        [[1, 2], [1, 2], [3, 1], [2, 1]]
    """
    frame = processes.copy()
    if frame.empty:
        for column, dtype in (
            ("Pattern", "string"),
            ("ClusterId", "int64"),
            ("ClusterSize", "int64"),
            ("Rarity", "float64"),
        ):
            frame[column] = pd.Series(dtype=dtype)
        return frame
    program = frame.get("NewProcessName", pd.Series("", index=frame.index)).map(_program)
    tokens = frame.get("CommandLine", pd.Series("", index=frame.index)).map(command_tokens)
    # A command line without the program in it still belongs to that program.
    frame["Pattern"] = [
        " ".join(t if t and t[0] == p else [p, *t]) for p, t in zip(program, tokens, strict=True)
    ]
    counts = frame.groupby([program.rename("prog"), frame["Pattern"]]).size()
    leaders: list[tuple[str, frozenset[str], int]] = []  # (program, tokens, cluster id)
    cluster_of: dict[tuple[str, str], int] = {}
    # Commonest patterns first: they become the leaders rarer variants join.
    for (prog, pattern), _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        words = frozenset(pattern.split())
        match = next(
            (cid for lp, lw, cid in leaders if lp == prog and _jaccard(words, lw) >= similarity),
            None,
        )
        if match is None:
            match = len(leaders) + 1
            leaders.append((prog, words, match))
        cluster_of[(prog, pattern)] = match
    frame["ClusterId"] = [
        cluster_of[(p, t)] for p, t in zip(program, frame["Pattern"], strict=True)
    ]
    frame["ClusterSize"] = frame.groupby("ClusterId")["ClusterId"].transform("size")
    frame["Rarity"] = (1.0 / frame["ClusterSize"]).round(4)
    return frame


def process_clusters(clustered: pd.DataFrame) -> pd.DataFrame:
    """One row per cluster: its program, an example command line, size, sessions, rarity.

    Example:
        >>> p = cluster_processes(pd.DataFrame({"NewProcessName": ["a.exe", "a.exe"],
        ...                                     "CommandLine": ["a.exe /x", "a.exe /x"]}))
        >>> process_clusters(p)[["ClusterId", "Process", "Processes"]].values.tolist()
        [[1, 'a.exe', 2]]
    """
    columns = [
        "ClusterId",
        "Process",
        "ExampleCommandLine",
        "Processes",
        "Patterns",
        "Sessions",
        "Accounts",
        "Rarity",
    ]
    if clustered is None or clustered.empty:
        return pd.DataFrame(columns=columns)
    frame = clustered.assign(
        Process=clustered.get("NewProcessName", pd.Series("", index=clustered.index)).map(_program),
        Session=clustered.get("LogonId", pd.Series("", index=clustered.index)),
        AccountName=clustered.get("Account", pd.Series("", index=clustered.index)),
        Command=clustered.get("CommandLine", pd.Series("", index=clustered.index)),
    )
    table = (
        frame.groupby("ClusterId")
        .agg(
            Process=("Process", "first"),
            ExampleCommandLine=("Command", lambda s: s.mode().iloc[0] if s.notna().any() else ""),
            Processes=("Process", "size"),
            Patterns=("Pattern", "nunique"),
            Sessions=("Session", "nunique"),
            Accounts=("AccountName", "nunique"),
            Rarity=("Rarity", "first"),
        )
        .reset_index()
    )
    return table.sort_values(["Processes", "ClusterId"], ascending=[False, True])[
        columns
    ].reset_index(drop=True)


def session_ids(processes: pd.DataFrame) -> pd.Series:
    """The logon session each process ran in: TargetLogonId when set, else SubjectLogonId.

    Example:
        >>> p = pd.DataFrame({"SubjectLogonId": ["0x3e7", "0x5a3f1c2"],
        ...                   "TargetLogonId": ["0x0", "0x77"]})
        >>> session_ids(p).tolist()
        ['0x3e7', '0x77']
    """

    def col(name: str) -> pd.Series:
        if name in processes.columns:
            return processes[name].astype("string").fillna("").str.strip()
        return pd.Series("", index=processes.index, dtype="string")

    target, subject = col("TargetLogonId"), col("SubjectLogonId")
    return target.where(~target.str.lower().isin(_NO_SESSION), subject)


SESSION_COLUMNS = [
    "Rank",
    "Computer",
    "LogonId",
    "Account",
    "FirstProcess",
    "LastProcess",
    "Processes",
    "Clusters",
    "RareProcesses",
    "MeanRarity",
    "MaxRarity",
]


def session_rarity(clustered: pd.DataFrame, rare: float = 0.5) -> pd.DataFrame:
    """One row per logon session, rarest first: mean and max process rarity, counts.

    `RareProcesses` counts processes whose rarity is at least `rare` (clusters of at
    most two processes by default). Ties are broken by the number of rare processes.

    Example:
        >>> p = pd.DataFrame({"Computer": "h", "LogonId": ["s1", "s1", "s2"],
        ...                   "Account": "bob", "Rarity": [1.0, 0.5, 0.1],
        ...                   "ClusterId": [1, 2, 3], "TimeGenerated": pd.Timestamp(0)})
        >>> session_rarity(p)[["LogonId", "MeanRarity", "RareProcesses"]].values.tolist()
        [['s1', 0.75, 2], ['s2', 0.1, 0]]
    """
    if clustered is None or clustered.empty:
        return pd.DataFrame(columns=SESSION_COLUMNS)
    frame = clustered.assign(
        Computer=clustered.get("Computer", ""),
        Account=clustered.get("Account", "").fillna("") if "Account" in clustered else "",
        IsRare=clustered["Rarity"] >= rare,
    )
    table = (
        frame.groupby(["Computer", "LogonId"], dropna=False)
        .agg(
            Account=("Account", lambda s: ", ".join(sorted({str(a) for a in s if a}))),
            FirstProcess=("TimeGenerated", "min"),
            LastProcess=("TimeGenerated", "max"),
            Processes=("Rarity", "size"),
            Clusters=("ClusterId", "nunique"),
            RareProcesses=("IsRare", "sum"),
            MeanRarity=("Rarity", "mean"),
            MaxRarity=("Rarity", "max"),
        )
        .reset_index()
    )
    table["MeanRarity"] = table["MeanRarity"].round(4)
    table = table.sort_values(
        ["MeanRarity", "RareProcesses", "Processes"], ascending=False, kind="stable"
    ).reset_index(drop=True)
    table["Rank"] = range(1, len(table) + 1)
    table["RareProcesses"] = table["RareProcesses"].astype(int)
    return table[SESSION_COLUMNS]


def host_processes(inv: Any, host: str | None, data: pd.DataFrame | None = None) -> Finding:
    """Process-creation events on `host` (or in `data`), each with its `LogonId` session.

    From the source: Windows 4688 and Microsoft Defender's DeviceProcessEvents
    (`hostactivity.host_processes`). With `data` nothing is queried: rows with EventID
    4688 (or all rows, when the frame has no EventID but has NewProcessName and
    CommandLine) are used.
    """
    finding = Finding(f"Process creations on {host}" if host else "Process creations")
    if data is not None:
        frame = data
        if "EventID" in frame.columns:
            frame = frame[pd.to_numeric(frame["EventID"], errors="coerce") == 4688]
        if host and "Computer" in frame.columns:
            frame = frame[[host_matches(host, str(c)) for c in frame["Computer"]]]
        if not {"NewProcessName", "CommandLine"} & set(frame.columns):
            finding.note(
                "warning",
                "the rows passed in have no NewProcessName or CommandLine column: "
                "expected SecurityEvent 4688 process creations",
            )
            frame = frame.iloc[0:0]
    elif not host:
        finding.note("skipped", "no single host selected (see above)")
        return finding
    else:
        # 4688 and Defender's DeviceProcessEvents alike (hostactivity gives both the
        # 4688 columns, the host's rows only, and a Log column naming where each came from).
        from nbcatalog.nblib.hostactivity import host_processes as logged_processes

        found = logged_processes(inv, host)
        finding.notes += found.notes
        frame = found.data
    frame = frame.copy()
    frame["LogonId"] = session_ids(frame)
    if "TimeGenerated" in frame.columns:
        frame["TimeGenerated"] = pd.to_datetime(frame["TimeGenerated"], utc=True, errors="coerce")
        frame = frame.sort_values("TimeGenerated", kind="stable")
    else:
        frame["TimeGenerated"] = pd.NaT
    finding.data = frame.reset_index(drop=True)
    finding.columns = ["TimeGenerated", "Account", "LogonId", "NewProcessName", "CommandLine"]
    if finding.empty and not finding.missing and not finding.notes:
        where = f"on {host} in {inv.period}" if data is None else "in the rows passed in"
        finding.note(
            "info",
            (
                defender_only_note(inv, host, "SecurityEvent process creation")
                if data is None
                else None
            )
            or f"no process creation events {where}",
        )
    return finding


TREE_COLUMNS = [
    "Rank",
    "LogonId",
    "Depth",
    "Process",
    "CommandLine",
    "TimeGenerated",
    "Rarity",
    "ParentProcessName",
    "ParentLink",
]
_INDENT = "\u2003"  # an em space: HTML does not collapse it, so the tree keeps its shape


def process_tree(session: pd.DataFrame) -> pd.DataFrame:
    """The processes of one session in tree order, with `Depth` and an indented `Process`.

    A process's parent is the latest earlier process of the session whose
    NewProcessId is its ProcessId, else (ids lost or reused) the latest earlier one
    whose image is its ParentProcessName; `ParentLink` says which. Processes whose
    parent is outside the session are roots.

    Example:
        >>> s = pd.DataFrame({"NewProcessId": ["0x10", "0x11"], "ProcessId": ["0x1", "0x10"],
        ...                   "NewProcessName": ["C:\\\\cmd.exe", "C:\\\\whoami.exe"],
        ...                   "TimeGenerated": pd.to_datetime(["2024-05-01 10:00",
        ...                                                    "2024-05-01 10:01"])})
        >>> process_tree(s)[["Depth", "Process"]].values.tolist()
        [[0, 'cmd.exe'], [1, '\u2003\u2003└ whoami.exe']]
    """
    if session is None or session.empty:
        return pd.DataFrame(columns=TREE_COLUMNS)
    rows = session.sort_values("TimeGenerated", kind="stable").reset_index(drop=True)
    new_ids = rows.get("NewProcessId", pd.Series("", index=rows.index)).astype(str).str.lower()
    parent_ids = rows.get("ProcessId", pd.Series("", index=rows.index)).astype(str).str.lower()
    paths = rows.get("NewProcessName", pd.Series("", index=rows.index)).astype(str).str.lower()
    parent_paths = (
        rows.get("ParentProcessName", pd.Series("", index=rows.index)).astype(str).str.lower()
    )
    parent: dict[int, int | None] = {}
    link: dict[int, str] = {}
    latest: dict[str, int] = {}
    latest_by_path: dict[str, int] = {}
    for i in rows.index:
        parent[i] = latest.get(parent_ids[i])
        link[i] = "process id" if parent[i] is not None else ""
        if parent[i] is None and parent_paths[i] in latest_by_path:
            # Logs that lose process ids (or exports) still name the parent's image.
            parent[i], link[i] = latest_by_path[parent_paths[i]], "parent name"
        if new_ids[i] not in ("", "nan", "none"):
            latest[new_ids[i]] = i
        latest_by_path[paths[i]] = i
    children: dict[int | None, list[int]] = {}
    for i, p in parent.items():
        children.setdefault(p, []).append(i)
    order: list[tuple[int, int]] = []

    def walk(node: int | None, depth: int) -> None:
        for child in children.get(node, []):
            order.append((child, depth))
            walk(child, depth + 1)

    walk(None, 0)
    tree = rows.loc[[i for i, _ in order]].copy()
    tree["Depth"] = [d for _, d in order]
    tree["ParentLink"] = [link[i] for i, _ in order]
    names = tree.get("NewProcessName", pd.Series("", index=tree.index)).map(_program)
    tree["Process"] = [
        (_INDENT * 2 * d + "└ " if d else "") + n for n, d in zip(names, tree["Depth"], strict=True)
    ]
    for column in TREE_COLUMNS:
        if column not in tree.columns:
            tree[column] = None
    return tree[TREE_COLUMNS].reset_index(drop=True)


def rare_session_trees(
    clustered: pd.DataFrame,
    sessions: pd.DataFrame,
    top: int = 5,
    logon_ids: list[str] | None = None,
) -> Finding:
    """The process trees of the `top` rarest sessions, one after another (column Rank).

    `logon_ids` names sessions to show as well (a drill-down from `session_rarity`);
    an ID that is not a session of the data gets a note naming the rarest ones.
    """
    finding = Finding(f"Process trees of the {top} rarest sessions")
    finding.columns = ["Rank", "LogonId", "Process", "CommandLine", "TimeGenerated", "Rarity"]
    finding.max_rows = 200
    finding.data = pd.DataFrame(columns=TREE_COLUMNS)
    if sessions is None or sessions.empty:
        finding.note("info", "no sessions to show")
        return finding
    chosen = sessions.head(max(int(top), 0))
    wanted = [str(i).strip().lower() for i in (logon_ids or []) if str(i).strip()]
    if wanted:
        picked = sessions[sessions["LogonId"].astype(str).str.lower().isin(wanted)]
        unknown = sorted(set(wanted) - set(picked["LogonId"].astype(str).str.lower()))
        if unknown:
            rarest = ", ".join(sessions["LogonId"].astype(str).head(5))
            finding.note(
                "warning",
                f"no logon session {', '.join(unknown)} in these processes; "
                f"the rarest are {rarest}",
            )
        if not picked.empty:
            finding.title += " and of session " + ", ".join(picked["LogonId"].astype(str))
        chosen = pd.concat([chosen, picked]).drop_duplicates(subset=["Computer", "LogonId"])
    trees = []
    for row in chosen.itertuples():
        part = clustered[
            (clustered.get("Computer", "") == row.Computer) & (clustered["LogonId"] == row.LogonId)
        ]
        tree = process_tree(part)
        tree["Rank"] = row.Rank
        tree["LogonId"] = row.LogonId
        trees.append(tree)
    if trees:
        finding.data = pd.concat(trees, ignore_index=True)
    return finding
