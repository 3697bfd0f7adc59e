"""Log field values as plain text, and columns that sources name differently.

Frames from the store, from msticpy or from an analyst hold a missing value as None,
NaN, NaT or pd.NA; every one of them is "" here, so code that compares or joins text
does not meet "nan" or "None" as if they were names.

Example:
    >>> text_of("  WKSTN-042 "), text_of(None), text_of(float("nan")), text_of(4624)
    ('WKSTN-042', '', '', '4624')
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def text_of(value: Any) -> str:
    """`value` as stripped text, "" when it is missing (None, NaN, NaT, pd.NA).

    Example:
        >>> text_of(pd.NA), text_of(" 10.1.2.3\\n")
        ('', '10.1.2.3')
    """
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # a list or array: not one missing value
        pass
    return str(value).strip()


def first_column(frame: pd.DataFrame, *names: str) -> pd.Series:
    """The first of `names` that `frame` has (sources name a field differently), else an
    all-missing column, so code reads optional fields without asking which source it was.

    Example:
        >>> f = pd.DataFrame({"IPAddress": ["10.1.2.3"]})
        >>> first_column(f, "IpAddress", "IPAddress").tolist()
        ['10.1.2.3']
        >>> bool(first_column(f, "SourceIP").isna().all())
        True
    """
    for name in names:
        if name in frame.columns:
            return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def hex_id(value: Any) -> str:
    """A Defender process or logon id (a number) as Windows 4624/4688 write ids ("0x1f4").

    Text that is not a number is kept as the source wrote it; a missing value is "".

    Example:
        >>> hex_id(500), hex_id("0x3e7"), hex_id(None)
        ('0x1f4', '0x3e7', '')
    """
    if value is None or isinstance(value, bool):
        return ""
    try:
        if pd.isna(value):
            return ""
        return hex(int(value))
    except (TypeError, ValueError, OverflowError):
        return str(value).strip()
