"""Turning raw values (text, JSON, pandas objects) into the store's column types.

A value that cannot be read as its column's type rejects its whole row, with the
column and the value in the reason; it is never silently turned into NULL. Text
columns keep empty strings as they are: a Log Analytics string is never null but
empty, exports write it so, and the demo store does the same. In columns of other
types an empty value is NULL, and so are the words other tools write for one
(``null``, ``NULL``, ``None``, ``NaN``, ``NaT``): a row whose time is "null" is kept
(only a row without TimeGenerated is rejected). Nested JSON values (Sentinel
`dynamic` columns) are stored as compact JSON text. Timestamps without a zone are
UTC, as Sentinel exports are; a number in a time column is a Unix time (pandas'
``to_json`` writes milliseconds).

Example:
    >>> import pandas as pd
    >>> frame, bad = coerce_frame("Syslog", pd.DataFrame({"ProcessID": ["42", "x"]}))
    >>> frame["ProcessID"].tolist(), bad
    ([42, <NA>], {1: "ProcessID: cannot read 'x' as INTEGER"})
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from nbcatalog.data.schema import TABLES

MAX_FIELD_CHARS = 1 << 20
INT_RANGE = {"INTEGER": (-(2**31), 2**31 - 1), "BIGINT": (-(2**63), 2**63 - 1)}
# Formats the Log Analytics portal writes into CSV exports, besides ISO 8601.
PORTAL_TIME_FORMATS = ("%m/%d/%Y, %I:%M:%S.%f %p", "%m/%d/%Y, %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p")
TRUE = {"true", "1", "yes", "y", "t"}
# Text meaning "no value" in a number, time or boolean column (never in a text column).
NULL_TEXTS = frozenset({"", "null", "none", "nan", "nat"})
FALSE = {"false", "0", "no", "n", "f"}


class BadValue(ValueError):
    """A value that does not fit its column type."""


def coerce_frame(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, str]]:
    """Coerce every schema column of `frame`; returns (frame, {row position: reason}).

    Rows with a bad value keep their place in the returned frame; the caller drops
    the positions it is given (and reports them).
    """
    types = dict(TABLES[table].columns)
    out: dict[str, Any] = {}
    bad: dict[int, str] = {}
    for name in frame.columns:
        typ = types[name]
        fast = _fast_path(frame[name], typ)
        if fast is not None:
            out[name] = fast
            continue
        values = frame[name].tolist()
        if typ == "TIMESTAMPTZ":
            out[name] = _timestamps(name, values, bad)
            continue
        if typ == "VARCHAR":
            out[name] = pd.Series(_texts(name, values, bad), dtype=object, index=frame.index)
            continue
        converted = []
        for pos, value in enumerate(values):
            try:
                converted.append(_convert(value, typ))
            except BadValue as exc:
                bad.setdefault(pos, f"{name}: {exc}")
                converted.append(None)
        out[name] = pd.Series(converted, dtype=_DTYPES[typ], index=frame.index)
    return pd.DataFrame(out, index=frame.index), bad


def _fast_path(series: pd.Series, typ: str) -> pd.Series | None:
    """Whole-column conversion when the column already has a fitting dtype (no bad values)."""
    kind = series.dtype
    if typ == "TIMESTAMPTZ" and pd.api.types.is_datetime64_any_dtype(kind):
        return series.dt.tz_localize("UTC") if series.dt.tz is None else series.dt.tz_convert("UTC")
    if typ in INT_RANGE and pd.api.types.is_integer_dtype(kind):
        low, high = INT_RANGE[typ]
        if series.dropna().between(low, high).all():
            return series.astype(_DTYPES[typ])
    if typ == "DOUBLE" and pd.api.types.is_float_dtype(kind):
        return series.astype("Float64")
    if typ == "BOOLEAN" and pd.api.types.is_bool_dtype(kind):
        return series.astype("boolean")
    return None


def _texts(name: str, values: list[Any], bad: dict[int, str]) -> list[str | None]:
    """VARCHAR values; plain strings (nearly all of them) take the short way."""
    out: list[str | None] = []
    for pos, value in enumerate(values):
        if type(value) is str and len(value) <= MAX_FIELD_CHARS and value.isascii():
            out.append(value)
            continue
        try:
            out.append(_convert(value, "VARCHAR"))
        except BadValue as exc:
            bad.setdefault(pos, f"{name}: {exc}")
            out.append(None)
    return out


_DTYPES = {
    "VARCHAR": object,
    "INTEGER": "Int32",
    "BIGINT": "Int64",
    "DOUBLE": "Float64",
    "BOOLEAN": "boolean",
}


def is_null(value: Any) -> bool:
    """None, NaN, NaT, pandas NA and (outside text columns) blank or null-word strings.

    Log Analytics exports write an empty field for a missing value; other tools
    write ``null``, ``NULL``, ``None``, ``NaN`` or ``NaT``.

    >>> [is_null(v) for v in ("", " null ", "NaN", "None", "0", "nullable")]
    [True, True, True, True, False, False]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in NULL_TEXTS


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _convert(value: Any, typ: str) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if typ == "VARCHAR" and isinstance(value, str):
        return _text(value)
    if is_null(value):
        return None
    if typ == "VARCHAR":
        return _text(value)
    if typ in INT_RANGE:
        return _integer(value, typ)
    if typ == "DOUBLE":
        return _double(value)
    if typ == "BOOLEAN":
        return _boolean(value)
    raise BadValue(f"unsupported column type {typ}")


def _text(value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    elif isinstance(value, np.ndarray):
        text = json.dumps(value.tolist(), ensure_ascii=False, separators=(",", ":"), default=str)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, bytes):
        raise BadValue(f"cannot read bytes {_show(value)} as VARCHAR")
    else:
        text = str(value)
    if len(text) > MAX_FIELD_CHARS:
        raise BadValue(f"value is longer than {MAX_FIELD_CHARS} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # JSON can spell lone UTF-16 surrogates ("\\ud800"); no UTF-8 store can hold them.
        raise BadValue(f"{_show(text)} holds an unpaired UTF-16 surrogate") from None
    return text


def _integer(value: Any, typ: str) -> int:
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) <= 40:
            try:
                number = int(text, 0) if text.lower().startswith("0x") else int(text)
            except ValueError:
                try:
                    as_float = float(text)
                    number = int(as_float) if as_float.is_integer() else None
                except ValueError:
                    number = None
    low, high = INT_RANGE[typ]
    if number is None or not low <= number <= high:
        raise BadValue(f"cannot read {_show(value)} as {typ}")
    return number


def _double(value: Any) -> float:
    if isinstance(value, bool):
        raise BadValue(f"cannot read {_show(value)} as DOUBLE")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise BadValue(f"cannot read {_show(value)} as DOUBLE") from None
    if math.isnan(number):
        return None  # type: ignore[return-value]
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise BadValue(f"cannot read {_show(value)} as BOOLEAN")


# Epoch numbers: the unit is read from the size (pandas' to_json writes milliseconds).
_EPOCH_UNITS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"), (1e20, "ns"))


def _epoch(number: float) -> pd.Timestamp | None:
    """A Unix time in s, ms, us or ns (told apart by magnitude, as from 1973 on), or None.

    >>> str(_epoch(1709540100000)), str(_epoch(1709540100.5))
    ('2024-03-04 08:15:00+00:00', '2024-03-04 08:15:00.500000+00:00')
    """
    if isinstance(number, float) and not math.isfinite(number):
        return None
    unit = next((u for limit, u in _EPOCH_UNITS if abs(number) < limit), None)
    if unit is None:
        return None
    try:
        return pd.Timestamp(number, unit=unit, tz="UTC")
    except (OverflowError, ValueError):
        return None


def _timestamps(name: str, values: list[Any], bad: dict[int, str]) -> pd.Series:
    """Vectorised where possible: ISO 8601 first, then the portal's formats."""
    result: list[pd.Timestamp | None] = [None] * len(values)
    text_positions: list[int] = []
    for pos, value in enumerate(values):
        if isinstance(value, np.generic):
            value = value.item()
        if is_null(value):
            continue
        if isinstance(value, (pd.Timestamp, datetime)):
            stamp = pd.Timestamp(value)
            result[pos] = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
        elif isinstance(value, str) and len(value) <= 64:
            text_positions.append(pos)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            result[pos] = _epoch(value)
            if result[pos] is None:
                bad.setdefault(pos, f"{name}: cannot read {_show(value)} as a timestamp")
        else:
            bad.setdefault(pos, f"{name}: cannot read {_show(value)} as a timestamp")
    remaining = text_positions
    for fmt in ("ISO8601", *PORTAL_TIME_FORMATS):
        if not remaining:
            break
        texts = pd.Series([values[p].strip() for p in remaining], dtype=object)
        parsed = pd.to_datetime(texts, utc=True, format=fmt, errors="coerce")
        still = []
        for pos, stamp in zip(remaining, parsed, strict=True):
            if pd.isna(stamp):
                still.append(pos)
            else:
                result[pos] = stamp
        remaining = still
    for pos in remaining:
        bad.setdefault(
            pos,
            f"{name}: cannot read {_show(values[pos])} as a timestamp "
            "(accepted: ISO 8601, or M/D/YYYY, h:mm:ss.fff AM as the Log Analytics portal writes)",
        )
    series = pd.Series(result, dtype=object)
    return pd.to_datetime(series, utc=True).astype("datetime64[ns, UTC]")
