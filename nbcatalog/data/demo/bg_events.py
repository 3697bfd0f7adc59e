"""Background events of other Windows channels (the Event table): System and Sysmon.

System: services changing state (7036), start types changed (7040), the occasional
legitimate service install (7045, e.g. browser updaters), DNS client timeouts (1014).
Sysmon on the servers: process creation (1), network connections (3), DNS queries (22).

Example:
    >>> import pandas as pd
    >>> from nbcatalog.data.demo.timeline import Window
    >>> w = Window.ending(pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> f = event_frame(1, w, 0.2)
    >>> sorted(f["EventLog"].unique().tolist())
    ['Microsoft-Windows-Sysmon/Operational', 'System']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nbcatalog.data.demo.estate import TENANT_ID, WINDOWS_HOSTS
from nbcatalog.data.demo.textcols import cat, column, pick
from nbcatalog.data.demo.timeline import Window, sample_times, stream

EVENTS_PER_SCALE = 6_000
SERVICES = [
    "Windows Update",
    "Background Intelligent Transfer Service",
    "Windows Modules Installer",
    "Microsoft Defender Antivirus Network Inspection Service",
    "Delivery Optimization",
    "WinHTTP Web Proxy Auto-Discovery Service",
]
INSTALLS = [
    (
        "Google Update Service (gupdate)",
        '"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe" /svc',
    ),
    (
        "Microsoft Edge Update Service (edgeupdate)",
        '"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe" /svc',
    ),
    (
        "Mozilla Maintenance Service",
        '"C:\\Program Files (x86)\\Mozilla Maintenance Service\\maintenanceservice.exe"',
    ),
]
SYSMON_IMAGES = [
    "C:\\Windows\\System32\\svchost.exe",
    "C:\\Windows\\System32\\lsass.exe",
    "C:\\Program Files\\Windows Defender\\MsMpEng.exe",
    "C:\\Windows\\System32\\dns.exe",
]
DNS_NAMES = [
    "win-fs01.contoso.com",
    "login.microsoftonline.com",
    "settings-win.data.microsoft.com",
    "wdcp.microsoft.com",
    "ctldl.windowsupdate.com",
]


def _frame(
    times, computer, source, log, event_id, level, description, data_xml, user
) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame(
        {
            "TenantId": TENANT_ID,
            "TimeGenerated": times,
            "SourceSystem": "OpsManager",
            "Source": source,
            "EventLog": log,
            "Computer": column(computer),
            "EventLevel": level,
            "EventLevelName": {4: "Information", 3: "Warning", 2: "Error"}[level],
            "ParameterXml": None,
            "EventData": column(data_xml),
            "EventID": event_id,
            "RenderedDescription": column(description),
            "UserName": user,
            "EventCategory": np.zeros(n, dtype="int32"),
        },
        index=range(n),
    )


def event_frame(seed: int, window: Window, scale: float = 1.0) -> pd.DataFrame:
    """Background Event rows (System channel on every Windows host, Sysmon on the servers)."""
    rng = stream(seed, "Event")
    total = max(20, int(EVENTS_PER_SCALE * scale))
    hosts = [h.name for h in WINDOWS_HOSTS]
    frames = []

    n = int(total * 0.55)
    svc = pick(rng, SERVICES, n)
    state = pick(rng, ["running", "stopped"], n)
    frames.append(
        _frame(
            sample_times(rng, n, window, "flat"),
            pick(rng, hosts, n),
            "Service Control Manager",
            "System",
            7036,
            4,
            cat("The ", svc, " service entered the ", state, " state."),
            cat(
                '<EventData><Data Name="param1">',
                svc,
                '</Data><Data Name="param2">',
                state,
                "</Data></EventData>",
            ),
            "",
        )
    )
    n = int(total * 0.05)
    svc = pick(rng, SERVICES, n)
    frames.append(
        _frame(
            sample_times(rng, n, window, "flat"),
            pick(rng, hosts, n),
            "Service Control Manager",
            "System",
            7040,
            4,
            cat(
                "The start type of the ",
                svc,
                " service was changed from demand start to auto start.",
            ),
            cat(
                '<EventData><Data Name="param1">',
                svc,
                '</Data><Data Name="param2">demand start'
                '</Data><Data Name="param3">auto start</Data></EventData>',
            ),
            "NT AUTHORITY\\SYSTEM",
        )
    )
    n = max(2, int(total * 0.002))
    which = rng.integers(0, len(INSTALLS), n)
    name = np.array([INSTALLS[i][0] for i in which], dtype=object)
    path = np.array([INSTALLS[i][1] for i in which], dtype=object)
    frames.append(
        _frame(
            sample_times(rng, n, window, "office"),
            pick(rng, hosts[2:], n),
            "Service Control Manager",
            "System",
            7045,
            4,
            cat(
                "A service was installed in the system. Service Name:  ",
                name,
                " Service File Name:  ",
                path,
                " Service Type:  user mode service "
                "Service Start Type:  auto start Service Account:  LocalSystem",
            ),
            cat(
                '<EventData><Data Name="ServiceName">',
                name,
                '</Data><Data Name="ImagePath">',
                pc_escape(path),
                '</Data><Data Name="ServiceType">user mode service</Data>'
                '<Data Name="StartType">auto start</Data><Data Name="AccountName">LocalSystem'
                "</Data></EventData>",
            ),
            "NT AUTHORITY\\SYSTEM",
        )
    )
    n = int(total * 0.08)
    frames.append(
        _frame(
            sample_times(rng, n, window, "flat"),
            pick(rng, hosts, n),
            "Microsoft-Windows-DNS-Client",
            "System",
            1014,
            3,
            np.full(
                n,
                "Name resolution for the name wpad timed out after none of the configured "
                "DNS servers responded.",
                dtype=object,
            ),
            np.full(n, '<EventData><Data Name="QueryName">wpad</Data></EventData>', dtype=object),
            "NT AUTHORITY\\NETWORK SERVICE",
        )
    )
    n = total - sum(len(f) for f in frames)
    servers = pick(rng, ["WIN-DC01", "WIN-FS01"], n)
    image = pick(rng, SYSMON_IMAGES, n)
    query = pick(rng, DNS_NAMES, n)
    eid = pick(rng, [1, 3, 22, 22], n).astype("int32")
    desc = np.where(
        eid == 22, "Dns query", np.where(eid == 3, "Network connection detected", "Process Create")
    ).astype(object)
    frames.append(
        _frame(
            sample_times(rng, n, window, "flat"),
            servers,
            "Microsoft-Windows-Sysmon",
            "Microsoft-Windows-Sysmon/Operational",
            eid,
            4,
            cat(desc, ": ", image),
            cat(
                '<EventData><Data Name="RuleName">-</Data><Data Name="Image">',
                image,
                '</Data><Data Name="QueryName">',
                query,
                "</Data></EventData>",
            ),
            "NT AUTHORITY\\SYSTEM",
        )
    )
    return pd.concat(frames, ignore_index=True)


def pc_escape(values: np.ndarray) -> np.ndarray:
    """XML-escape the characters that appear in service paths."""
    return np.array([v.replace("&", "&amp;").replace('"', "&quot;") for v in values], dtype=object)
