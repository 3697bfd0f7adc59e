"""Background activity of the estate, table by table (one module per source).

Example:
    >>> import pandas as pd
    >>> from nbcatalog.data.demo.timeline import Window
    >>> w = Window.ending(pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> next(generate(1, w, 0.05))[0]
    'SecurityEvent'
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from nbcatalog.data.demo import (
    bg_cloud,
    bg_detections,
    bg_events,
    bg_linux,
    bg_network,
    bg_security,
)
from nbcatalog.data.demo.timeline import Window


def generate(seed: int, window: Window, scale: float) -> Iterator[tuple[str, pd.DataFrame]]:
    """(table, frame) pairs of background rows; large tables come in bounded chunks.

    `scale` multiplies activity (logons, processes, syslog, flows, sign-ins, ...);
    heartbeats stay one per host every few minutes whatever the scale.
    """
    for frame in bg_security.security_chunks(seed, window, scale):
        yield "SecurityEvent", frame
    yield "Event", bg_events.event_frame(seed, window, scale)
    for frame in bg_linux.syslog_frames(seed, window, scale):
        yield "Syslog", frame
    yield "Heartbeat", bg_network.heartbeat_frame(seed, window)
    for frame in bg_network.flow_frames(seed, window, scale):
        yield "AzureNetworkAnalytics_CL", frame
    yield "SigninLogs", bg_cloud.signin_frame(seed, window, scale)
    yield "OfficeActivity", bg_cloud.office_frame(seed, window, scale)
    yield "AzureActivity", bg_cloud.azure_activity_frame(seed, window, scale)
    yield "AuditLogs", bg_cloud.audit_frame(seed, window, scale)
    yield "SecurityAlert", bg_detections.alert_frame(seed, window, scale)
    yield "ThreatIntelligenceIndicator", bg_detections.indicator_frame(seed, window, scale)
