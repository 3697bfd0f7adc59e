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

from nbcatalog.data.demo import bg_security
from nbcatalog.data.demo.timeline import Window


def generate(seed: int, window: Window, scale: float) -> Iterator[tuple[str, pd.DataFrame]]:
    """(table, frame) pairs of background rows; large tables come in bounded chunks."""
    for frame in bg_security.security_chunks(seed, window, scale):
        yield "SecurityEvent", frame
