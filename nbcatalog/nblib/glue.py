"""Record a template's results so the runner can read them back with their types.

Templates call ``glue(name, value)`` instead of ``scrapbook.glue``: scrapbook alone
cannot store numpy scalars, None or datetimes, turns NaN into the text 'nan', and
keeps only the display when one name carries both data and display. Each way of
storing a value is a scrapbook encoder registered by name (in `nbcatalog.scraps`):

- ``nbcatalog-value``: None, bool, int, float (NaN/inf too), str, datetime, date,
  timedelta, pandas Timestamp/Timedelta/NaT, numpy scalars, and lists/tuples/dicts
  of those, as tagged JSON;
- ``nbcatalog-frame``: a pandas DataFrame or Series as parquet (dtypes kept,
  tz-aware timestamps included); inline base64 when small, otherwise a sidecar file
  ``data/<name>.parquet`` in the run folder (big frames would bloat the notebook,
  which papermill rewrites after every cell).

Visual outputs (figures, HTML, anything else) are shown and recorded as a display
under their own name: ``glue("timeline", fig)``. ``glue("alerts", df, display=True)``
records the data under ``alerts`` and shows the frame under ``alerts_display``.

Example (in a template cell):
    >>> from nbcatalog.nblib.glue import glue       # doctest: +SKIP
    >>> glue("related_alerts", alerts_df)          # doctest: +SKIP
    >>> glue("alert_count", len(alerts_df))        # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from typing import Any

import scrapbook as sb

from nbcatalog.scraps import (  # noqa: F401  (re-exported: the names templates and tests use)
    FRAME_ENCODER,
    INLINE_MAX_BYTES,
    RUN_DIR_ENV,
    SIDECAR_DIR,
    VALUE_ENCODER,
    FrameEncoder,
    GlueError,
    ValueEncoder,
    _encode_value,
    reading_from,
    register_encoders,
    scrap_payload,
)

DISPLAY_SUFFIX = "_display"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _is_data(value: Any) -> bool:
    return FrameEncoder().encodable(value) or ValueEncoder().encodable(value)


def glue(name: str, value: Any, *, display: bool = False) -> None:
    """Record `value` under `name` in the running template's notebook.

    Data (plain values, DataFrames, Series) is stored with its type; anything else
    (a figure, HTML, a widget) is shown and recorded as a display named `name`.
    With ``display=True`` data is also shown, recorded as ``<name>_display``.

    Example:
        >>> glue("summary", {"host": "WKSTN-042", "alerts": 3})   # doctest: +SKIP
        >>> glue("logons", logons_df, display=True)               # doctest: +SKIP
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise GlueError(f"glue name {name!r}: use a Python identifier like 'related_alerts'")
    if FrameEncoder().encodable(value):
        _record(name, value, FRAME_ENCODER, FrameEncoder())
    elif ValueEncoder().encodable(value):
        _record(name, value, VALUE_ENCODER, ValueEncoder())
    else:
        sb.glue(name, value, encoder="display", display=True)
        return
    if display:
        sb.glue(name + DISPLAY_SUFFIX, value, encoder="display", display=True)


def _record(name: str, value: Any, encoder: str, coder: Any) -> None:
    """What ``scrapbook.glue(name, value, encoder=encoder)`` records, the same output.

    scrapbook checks the payload against its schema twice per scrap, re-checking and
    re-compiling the schema each time (2-4 ms a scrap, 10-20 scraps a run);
    `scrap_payload` applies the same check once, compiled once. `coder` is the
    registered encoder of that name (ours), called directly for the same reason.
    """
    from IPython.display import display as ip_display
    from scrapbook.schemas import GLUE_PAYLOAD_FMT
    from scrapbook.scraps import Scrap

    encoded = coder.encode(Scrap(name, value, encoder))
    payload = scrap_payload(encoded.name, encoded.data, encoded.encoder)
    ip_display(
        {GLUE_PAYLOAD_FMT.format(encoder=encoder): payload},
        metadata={"scrapbook": {"name": name, "data": True, "display": False}},
        raw=True,
    )


def to_json_text(value: Any) -> str:
    """A glued plain value as JSON text (for logs and summaries).

    Example:
        >>> to_json_text({"n": float("nan")})
        '{"n": {"$t": "float", "v": "nan"}}'
    """
    return json.dumps(_encode_value(value))
