"""When things happen: the generation window, daily rhythms and random streams.

The organisation works in Seattle (America/Los_Angeles): people log on on weekday
mornings, work until the evening, and weekends are quiet. Machines (services, cron,
heartbeats) keep a flat rhythm. All times are tz-aware UTC.

Example:
    >>> import numpy as np, pandas as pd
    >>> w = Window.ending(pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> t = sample_times(np.random.default_rng(1), 5, w, "office")
    >>> bool(((t >= w.start) & (t < w.end)).all())
    True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

OFFICE_TZ = "America/Los_Angeles"
DAYS = 7


@dataclass(frozen=True)
class Window:
    """The generated period: `DAYS` days up to `end` (the generation time)."""

    start: pd.Timestamp
    end: pd.Timestamp

    @classmethod
    def ending(cls, now: pd.Timestamp) -> Window:
        end = pd.Timestamp(now).tz_convert("UTC") if pd.Timestamp(now).tzinfo else None
        if end is None:
            raise ValueError("`now` must be timezone-aware (UTC)")
        return cls(end - pd.Timedelta(days=DAYS), end)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def stream(seed: int, *names: object) -> np.random.Generator:
    """An independent random stream per (seed, purpose): tables do not disturb each other."""
    digest = hashlib.sha256(repr((seed, *names)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _hour_weights(window: Window, profile: str) -> tuple[pd.DatetimeIndex, np.ndarray]:
    hours = pd.date_range(window.start.floor("h"), window.end, freq="h")
    if profile == "flat":
        return hours, np.ones(len(hours))
    local = hours.tz_convert(OFFICE_TZ)
    h = local.hour.to_numpy()
    weekend = local.dayofweek.to_numpy() >= 5
    if profile == "office":
        w = np.where((h >= 8) & (h < 18), 10.0, np.where((h >= 7) & (h < 21), 2.5, 0.15))
        w[(h == 12)] *= 0.6  # lunch
        w[weekend] *= 0.06
    elif profile == "evening":  # personal sign-ins: mornings, evenings, some weekend
        w = np.where((h >= 7) & (h < 23), 3.0, 0.3)
        w[weekend] *= 0.5
    else:
        raise ValueError(f"unknown profile {profile!r}; use 'office', 'evening' or 'flat'")
    return hours, w


def sample_times(
    rng: np.random.Generator, n: int, window: Window, profile: str = "flat"
) -> pd.DatetimeIndex:
    """`n` random UTC times in `window` following a daily rhythm `profile`."""
    hours, weights = _hour_weights(window, profile)
    # The first and last hours are only partly inside the window: weigh and draw
    # within the part that is.
    lo = np.maximum(hours.asi8, window.start.value)
    hi = np.minimum(hours.asi8 + 3_600_000_000_000, window.end.value)
    weights = weights * np.clip(hi - lo, 0, None) / 3_600_000_000_000
    idx = rng.choice(len(hours), size=n, p=weights / weights.sum())
    ns = lo[idx] + (rng.random(n) * (hi[idx] - lo[idx])).astype(np.int64)
    return pd.DatetimeIndex(pd.to_datetime(ns, utc=True))


def hex_ids(values: np.ndarray) -> np.ndarray:
    """Windows-style hexadecimal ids ('0x3e7') for integer arrays."""
    return np.array([f"0x{v:x}" for v in values.tolist()], dtype=object)


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` random (but seed-determined) version-4 UUID strings."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    h = [bytes(r).hex() for r in raw]
    return np.array([f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}" for s in h], dtype=object)
