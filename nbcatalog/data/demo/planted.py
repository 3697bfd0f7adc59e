"""The planted incidents, placed at fixed offsets before the generation time.

Each incident lives in its own module; this one places them in time and lists them.
They depend only on the generation time, never on the seed or the scale.

Example:
    >>> import pandas as pd
    >>> [i.name for i in incidents(pd.Timestamp("2026-01-10T12:00:00Z"))][:2]
    ['rdp-bruteforce', 'ssh-spray']
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nbcatalog.data.demo import planted_windows

RDP_HOURS_AGO = 30
SSH_HOURS_AGO = 20


@dataclass(frozen=True)
class Incident:
    """One planted incident: what to look for, where and when."""

    name: str
    start: pd.Timestamp
    description: str


def anchors(end: pd.Timestamp) -> dict[str, pd.Timestamp]:
    """Start time of each incident, whole minutes before `end`."""
    return {
        "rdp": (end - pd.Timedelta(hours=RDP_HOURS_AGO)).floor("min"),
        "ssh": (end - pd.Timedelta(hours=SSH_HOURS_AGO)).floor("min"),
    }


def incidents(end: pd.Timestamp) -> list[Incident]:
    """What was planted, in time order (for summaries and the CLI)."""
    a = anchors(end)
    return [
        Incident(
            "rdp-bruteforce",
            a["rdp"],
            "RDP brute force on WKSTN-042 from 203.0.113.77 (320 failures, 24 accounts), "
            "then logon as CONTOSO\\bob; svc_backup created and made admin, scheduled task, "
            "service, encoded PowerShell",
        ),
    ]


def generate(end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Rows of every planted incident, by table."""
    a = anchors(end)
    out: dict[str, list[pd.DataFrame]] = {}
    for part in (planted_windows.rdp_incident(a["rdp"]),):
        for table, frame in part.items():
            out.setdefault(table, []).append(frame)
    return {t: pd.concat(f, ignore_index=True) for t, f in out.items()}
