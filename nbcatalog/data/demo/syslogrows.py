"""Syslog rows as Sentinel's Linux agent stores them.

Example:
    >>> import pandas as pd
    >>> f = syslog_frame(pd.to_datetime(["2026-01-01T00:00:00Z"]), "LNX-WEB01", "auth",
    ...                  "info", "sshd", [812], ["Connection closed by 81.2.69.3 port 4711"])
    >>> f.loc[0, "HostIP"], f.loc[0, "Facility"]
    ('10.20.0.10', 'auth')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nbcatalog.data.demo.estate import HOSTS_BY_NAME, TENANT_ID
from nbcatalog.data.demo.textcols import column


def syslog_frame(
    times: object,
    computer: str | np.ndarray,
    facility: str | np.ndarray,
    severity: str | np.ndarray,
    process: str | np.ndarray,
    pid: object,
    message: object,
) -> pd.DataFrame:
    """Syslog rows; HostName/HostIP come from the estate's address plan."""
    times = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
    n = len(times)
    comp = np.full(n, computer, dtype=object) if isinstance(computer, str) else computer
    ips = np.array([HOSTS_BY_NAME[c].ip for c in comp], dtype=object)
    return pd.DataFrame(
        {
            "TenantId": TENANT_ID,
            "TimeGenerated": times,
            "SourceSystem": "Linux",
            "Computer": column(comp),
            "EventTime": times,
            "Facility": facility if isinstance(facility, str) else column(facility),
            "HostName": column(comp),
            "SeverityLevel": severity if isinstance(severity, str) else column(severity),
            "SyslogMessage": column(message),
            "ProcessID": np.asarray(pid, dtype="int32") if not np.isscalar(pid) else pid,
            "HostIP": column(ips),
            "ProcessName": process if isinstance(process, str) else column(process),
        },
        index=range(n),
    )
