"""Check and coerce a run's parameters against its template, before any kernel starts.

`resolve(template, raw)` turns what a caller typed (Python keywords or CLI text)
into the clean values papermill injects, or raises `ParameterError` saying what
was wrong and what is accepted:

- types come from the parameters cell annotations; ``"5"`` becomes 5 for an int,
  ``"yes"`` True for a bool, ``"a,b"`` ["a", "b"] for a list;
- entity parameters (metadata ``entity_kinds``) must look like a host name, an IP
  address, an account, a URL or a domain;
- the time range comes from ``start``/``end`` (datetimes or ISO-8601 text) or
  ``last="24h"`` (units s, m, h, d, w); the default is the last 7 days;
- options follow msticnb: ``["+geo", "-timeline"]`` changes the template's
  defaults, a plain list replaces them;
- secrets (names containing password, secret, token or key, or listed in
  metadata ``secrets``) are redacted in `ResolvedParameters.redacted`.

Example:
    >>> from nbcatalog.catalog import get_template
    >>> from nbcatalog.parameters import resolve
    >>> p = resolve(get_template("host_summary"), {"host": "WKSTN-042", "last": "24h"})
    ...                                                        # doctest: +SKIP
    >>> p.values["host"], p.values["start"] < p.values["end"]  # doctest: +SKIP
    ('WKSTN-042', True)
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from nbcatalog.errors import MissingParameterError, ParameterError
from nbcatalog.template import ParamSpec, Template

STANDARD = ("start", "end", "data_source")
DEFAULT_RANGE = dt.timedelta(days=7)
REDACTED = "<redacted>"
# Keys a caller may pass that are not cells of the parameters cell.
EXTRA_KEYS = ("last",)


@dataclass(frozen=True)
class ResolvedParameters:
    """Clean parameter values for one run.

    - ``values``: every parameter of the template's cell, ready for papermill:
      ``start``/``end`` as ISO-8601 UTC text, ``data_source`` as a spec string,
      ``options`` as the final list when the template has options. All values are
      JSON-serialisable except parameters typed ``DataFrame`` (accepted from Python
      only): their pandas DataFrame object is left here under the parameter's name,
      and the runner hands it to the kernel as a parquet file in the run folder
      (it never goes into the notebook as a literal).
    - ``redacted``: the same with every secret replaced by ``"<redacted>"``; this
      is what may be saved (run.json, notebook, HTML).
    - ``secrets``: the names of the secret parameters.
    - ``start``/``end``: the time range as tz-aware UTC datetimes.
    """

    values: dict[str, Any]
    redacted: dict[str, Any]
    secrets: frozenset[str]
    start: dt.datetime
    end: dt.datetime
    data_source: str
    options: list[str] | None


# ---------------------------------------------------------------- type coercion

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


# Echoed values are cut to this many characters of their repr (log data is hostile, and a
# 5,000-character value would bury the message in a terminal or a cron mail).
SHOWN_LENGTH = 60
SECRET_NOT_SHOWN = "the value given (not shown: secret)"


def shorten(text: str, limit: int = SHOWN_LENGTH) -> str:
    """`text` cut to `limit` characters, saying how long it was when cut.

    Example:
        >>> shorten("y" * 5000, 10)
        'yyyyyyyyyy... (5,000 characters)'
    """
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def shown(value: Any, limit: int = SHOWN_LENGTH) -> str:
    """`value`'s repr for an error message, cut to `limit` characters with a marker.

    Example:
        >>> shown("WKSTN-042")
        "'WKSTN-042'"
        >>> shown("x" * 5000)[-20:]
        '(5,000 characters)'
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str) else len(text)
    return f"{text[:limit]}... ({size:,} characters)"


def _fail(name: str, value: Any, wanted: str, *, secret: bool = False) -> ParameterError:
    what = SECRET_NOT_SHOWN if secret else shown(value)
    return ParameterError(f"parameter {name!r}: {what} is not {wanted}")


def split_list(text: str) -> list[str]:
    """Split comma-separated text: ``"a, b,,c"`` -> ``["a", "b", "c"]``.

    Example:
        >>> split_list("geo, timeline")
        ['geo', 'timeline']
    """
    return [item.strip() for item in text.split(",") if item.strip()]


def _is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")


def coerce(spec: ParamSpec, value: Any) -> Any:
    """Convert `value` to the type `spec` declares, or raise ParameterError.

    Example:
        >>> from nbcatalog.template import ParamSpec
        >>> coerce(ParamSpec("days", "int", 7), "5")
        5
    """
    try:
        return _coerce(spec, value)
    except ParameterError:
        if not spec.secret:
            raise
        # Re-made without the value: the first message may quote it (a list item, JSON).
        raise _fail(
            spec.name, value, f"{_WANTED.get(spec.type, 'accepted')}", secret=True
        ) from None


# What each type accepts, for a secret's message (which cannot show the value given).
_WANTED = {
    "str": "text",
    "int": "a whole number (like 5)",
    "float": "a finite number (like 0.5)",
    "bool": "true or false (accepted: true/false, yes/no, 1/0, on/off)",
    "list": "a list (or comma-separated text)",
    "dict": "a mapping (or JSON object text)",
    "DataFrame": "a pandas DataFrame (accepted from Python only)",
}


def _coerce(spec: ParamSpec, value: Any) -> Any:
    name, kind = spec.name, spec.type
    if value is None:
        return None
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise _fail(name, value, "text")
    if kind == "int":
        if isinstance(value, bool):
            raise _fail(name, value, "a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            try:
                return int(value)
            except ValueError:  # past Python's 4,300-digit limit for int(text)
                raise _fail(name, value, "a whole number of at most 4,300 digits") from None
        raise _fail(name, value, "a whole number (like 5)")
    if kind == "float":
        if isinstance(value, bool):
            raise _fail(name, value, "a number")
        if isinstance(value, (int, float)):
            try:
                result = float(value)
            except OverflowError:  # an int past the float range
                raise _fail(name, value, "a finite number") from None
        elif isinstance(value, str):
            try:
                result = float(value)
            except ValueError:
                raise _fail(name, value, "a number (like 0.5)") from None
        else:
            raise _fail(name, value, "a number (like 0.5)")
        if not math.isfinite(result):
            raise _fail(name, value, "a finite number")
        return result
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _fail(name, value, "true or false (accepted: true/false, yes/no, 1/0, on/off)")
    if kind == "list":
        if isinstance(value, str):
            return split_list(value)
        if isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
            return [_json_value(name, item) for item in items]
        raise _fail(name, value, "a list (or comma-separated text)")
    if kind == "dict":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise _fail(name, value, "a mapping (or JSON object text)") from None
        if isinstance(value, Mapping):
            return {str(k): _json_value(name, v) for k, v in value.items()}
        raise _fail(name, value, "a mapping (or JSON object text)")
    if kind == "DataFrame":
        if _is_dataframe(value):
            return value
        raise _fail(name, value, "a pandas DataFrame (accepted from Python only)")
    return _json_value(name, value)


def _json_value(name: str, value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise _fail(name, value, "a plain value (text, number, true/false, list)") from None
    return value


# ------------------------------------------------------------ entity validation

_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252}[A-Za-z0-9_$])?\.?")
_ACCOUNT = re.compile(r"[\w$][\w.$@\\ -]{0,255}")
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?")

ENTITY_KINDS: dict[str, str] = {
    "host": "a host name like WKSTN-042 or web01.contoso.com (letters, digits, '-', '_', '.')",
    "ip": "an IPv4 or IPv6 address like 203.0.113.77",
    "account": "an account name like bob, CONTOSO\\bob or bob@contoso.com",
    "url": "a URL like http://example.com/path (http, https or ftp)",
    "domain": "a domain name like example.com",
    "account_id": "an AccountId as the accounts table lists it, like windows:contoso\\bob: "
    "entra:, windows: or linux: and the account name",
}
# The sources an AccountId starts with (nbcatalog.nblib.accounts.SOURCES; a test keeps
# the two equal without importing pandas here).
ACCOUNT_ID_SOURCES = ("entra", "windows", "linux")


def _valid_entity(kind: str, text: str) -> bool:
    if kind == "host":
        return bool(_HOST.fullmatch(text)) and ".." not in text
    if kind == "ip":
        try:
            ipaddress.ip_address(text)
        except ValueError:
            return False
        return True
    if kind == "account":
        return (
            bool(_ACCOUNT.fullmatch(text))
            and text == text.strip()
            and text.count("\\") <= 1
            and text.count("@") <= 1
        )
    if kind == "url":
        if any(ch.isspace() or ord(ch) < 32 for ch in text) or any(c in text for c in "<>\"'`"):
            return False
        parts = urlsplit(text)
        return parts.scheme in ("http", "https", "ftp") and bool(parts.hostname)
    if kind == "domain":
        return bool(_DOMAIN.fullmatch(text))
    if kind == "account_id":
        source, sep, account = text.partition(":")
        return bool(sep) and source in ACCOUNT_ID_SOURCES and _valid_entity("account", account)
    return True


def validate_entity(name: str, kind: str, value: Any, *, secret: bool = False) -> Any:
    """Reject a value that could not be an entity of `kind`; empty means not given.

    Example:
        >>> validate_entity("ip", "ip", "203.0.113.77")
        '203.0.113.77'
    """
    if isinstance(value, str) and not value.strip():
        return ""  # blank (a CSV cell of spaces, say) is not given, not an invalid entity
    if value is None or kind not in ENTITY_KINDS:
        return value
    values = value if isinstance(value, list) else [value]
    for item in values:
        if not isinstance(item, str) or not _valid_entity(kind, item.strip()):
            what = SECRET_NOT_SHOWN if secret else shown(item)
            raise ParameterError(
                f"parameter {name!r}: {what} is not a valid {kind}; expected {ENTITY_KINDS[kind]}"
            )
    return [v.strip() for v in values] if isinstance(value, list) else value.strip()


# --------------------------------------------------------------------- timeout


def parse_timeout(value: Any, name: str = "timeout") -> float | None:
    """A run timeout in seconds: a finite number above 0, or None for no limit.

    NaN and infinity are refused: nbclient would never fire a NaN deadline, and an
    infinite one is no limit, which None already says.

    Example:
        >>> parse_timeout(600), parse_timeout(None)
        (600.0, None)
    """
    if value is None:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        try:
            seconds = float(value)
        except OverflowError:
            ok = False
        else:
            ok = math.isfinite(seconds) and seconds > 0
    if not ok:
        raise ParameterError(
            f"{name}={shown(value)}: give a number of seconds greater than 0 (like 600); "
            "leave it out for no limit"
        )
    return seconds


# ------------------------------------------------------------------ time range

_RANGE_TEXT = "times must be between 0001-01-01 and 9999-12-31 (UTC)"
_OUT_OF_RANGE = "out of range: " + _RANGE_TEXT
MAX_SPAN_TEXT = "999999999d (about 2.7 million years)"
_LAST = re.compile(r"\s*(\d+)\s*([smhdw])\s*", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_last(value: Any) -> dt.timedelta:
    """``"24h"`` -> 24 hours. Units: s, m, h, d, w; a timedelta passes through.

    Example:
        >>> parse_last("90m")
        datetime.timedelta(seconds=5400)
    """
    if isinstance(value, dt.timedelta):
        delta = value
    else:
        match = _LAST.fullmatch(str(value))
        if not match:
            raise ParameterError(
                f"last={shown(value)} is not a time span; use a number and a unit: "
                "'90m', '24h', '7d', '2w' (units s, m, h, d, w)"
            )
        try:
            delta = dt.timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
        except (OverflowError, ValueError):  # past timedelta's 999,999,999 days
            raise ParameterError(
                f"last={shown(value)} is too long a time span; give at most {MAX_SPAN_TEXT}"
            ) from None
    if delta <= dt.timedelta(0):
        raise ParameterError(f"last={shown(value)} must be a positive time span")
    return delta


def parse_time(name: str, value: Any) -> dt.datetime:
    """A datetime, date or ISO-8601 text as a tz-aware UTC datetime (naive = UTC).

    Example:
        >>> parse_time("start", "2024-05-01T10:00:00+02:00").isoformat()
        '2024-05-01T08:00:00+00:00'
    """
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ParameterError(
                f"{name}={shown(value)} is not a date/time; use ISO-8601 like "
                "'2024-05-01', '2024-05-01T10:00:00' or '2024-05-01T10:00:00Z'"
            ) from None
    else:
        raise ParameterError(
            f"{name}={shown(value)} is not a date/time; pass a datetime or ISO-8601 text"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    try:
        return moment.astimezone(dt.timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first moment in UTC
        raise ParameterError(f"{name}={shown(value)} is {_OUT_OF_RANGE}") from None


def iso_utc(moment: dt.datetime) -> str:
    """ISO-8601 text in UTC with a ``Z``; microseconds only when present.

    Example:
        >>> iso_utc(dt.datetime(2024, 5, 1, 8, tzinfo=dt.timezone.utc))
        '2024-05-01T08:00:00Z'
    """
    moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec) + "Z"


def time_range(
    start: Any = None, end: Any = None, last: Any = None, *, now: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """Resolve start/end/last into a UTC (start, end); default the last 7 days.

    Example:
        >>> t0 = dt.datetime(2024, 5, 8, tzinfo=dt.timezone.utc)
        >>> s, e = time_range(last="24h", now=t0)
        >>> (e - s).total_seconds()
        86400.0
    """
    start = None if start == "" else start
    end = None if end == "" else end
    last = None if last == "" else last
    if last is not None and start is not None:
        raise ParameterError(
            "give either last= or start=, not both (last counts back from end, default now)"
        )
    # Whole seconds: the range is shown in reports and run.json, where .123456 is noise.
    now = now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    end_t = parse_time("end", end) if end is not None else now
    if start is not None:
        start_t = parse_time("start", start)
    else:
        span = parse_last(last) if last is not None else DEFAULT_RANGE
        try:
            start_t = end_t - span
        except OverflowError:  # the span reaches back before year 1
            shown_span = f"last={shown(last)}" if last is not None else "the default 7 days"
            raise ParameterError(
                f"{shown_span} back from end ({iso_utc(end_t)}) starts before year 1; "
                + _RANGE_TEXT
            ) from None
    if end_t <= start_t:
        raise ParameterError(f"end ({iso_utc(end_t)}) must be after start ({iso_utc(start_t)})")
    return start_t, end_t


# --------------------------------------------------------------------- options


def resolve_options(template: Template, requested: Any) -> list[str]:
    """Apply msticnb-style options to a template's defaults.

    ``None`` keeps the defaults; ``["+geo", "-timeline"]`` adds and removes;
    ``["geo"]`` replaces; mixing the two forms, or an unknown option, is an error.

    Example:
        >>> resolve_options(template, ["+geo"])    # doctest: +SKIP
        ['summary', 'timeline', 'geo']
    """
    defaults = template.default_options
    if requested is None or requested == "":
        return defaults
    if isinstance(requested, str):
        items = split_list(requested)
    elif isinstance(requested, (list, tuple, set, frozenset)):
        items = []
        for item in requested:
            if not isinstance(item, str):
                raise ParameterError(f"options: {shown(item)} is not an option name (text)")
            items.extend(split_list(item))
    else:
        raise ParameterError(f"options={shown(requested)}: give a list like ['+geo', '-timeline']")
    accepted = template.all_options
    signed = [i for i in items if i[0] in "+-"]
    if signed and len(signed) != len(items):
        raise ParameterError(
            f"options {shown(items)}: either change the defaults with +name/-name or list the "
            "options to use; do not mix the two"
        )
    for item in items:
        bare = item.lstrip("+-")
        if bare not in accepted:
            close = difflib.get_close_matches(bare, accepted, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            listed = ", ".join(accepted) if accepted else "none (this template has no options)"
            raise ParameterError(
                f"{template.name}: unknown option {shown(bare)}{hint} (accepted: {listed})"
            )
    if not signed:
        return list(dict.fromkeys(items))
    result = list(defaults)
    for item in items:
        bare = item[1:]
        if item[0] == "+" and bare not in result:
            result.append(bare)
        elif item[0] == "-" and bare in result:
            result.remove(bare)
    return result


# ---------------------------------------------------------------- data source

DATA_SOURCE_KINDS = ("duckdb", "msticpy")


def normalize_data_source(spec: Any) -> str:
    """A data-source spec as text: ``duckdb:PATH`` (made absolute) or ``msticpy:ENV``.

    A bare path to an existing ``.duckdb`` file is accepted as ``duckdb:PATH``.

    Example:
        >>> normalize_data_source("msticpy:MSSentinel")
        'msticpy:MSSentinel'
    """
    if not isinstance(spec, (str, Path)):
        raise ParameterError(
            f"data_source={shown(spec)}: give a spec as text, "
            "'duckdb:PATH' or 'msticpy:ENVIRONMENT'"
        )
    text = str(spec).strip()
    kind, sep, rest = text.partition(":")
    if sep and kind.lower() in DATA_SOURCE_KINDS and len(kind) > 1:
        kind = kind.lower()
        if kind == "duckdb":
            if not rest:
                from nbcatalog.data.store import default_db_path

                return f"duckdb:{default_db_path()}"
            return f"duckdb:{Path(rest).expanduser().absolute()}"
        if not rest:
            raise ParameterError(f"data_source={shown(text)}: name a msticpy environment")
        return f"msticpy:{rest}"
    path = Path(text).expanduser()
    if path.suffix in (".duckdb", ".db") and path.is_file():
        return f"duckdb:{path.absolute()}"
    raise ParameterError(
        f"data_source={shown(text)} is not a data source; accepted: 'duckdb:PATH' "
        "(a DuckDB store), 'msticpy:ENVIRONMENT' (e.g. msticpy:MSSentinel), "
        "or the path of an existing .duckdb file"
    )


# ------------------------------------------------------------ required entities


def is_given(value: Any) -> bool:
    """False for a parameter left empty: None, blank text, an empty list or mapping.

    Example:
        >>> is_given(""), is_given("  "), is_given([]), is_given("WKSTN-042")
        (False, False, False, True)
    """
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return bool(value)
    return True  # a number, a bool, a DataFrame (even an empty one: the caller gave it)


def _spec_or_none(template: Template, name: str) -> ParamSpec | None:
    return next((p for p in template.parameters if p.name == name), None)


def _needs(template: Template, names: list[str], *, flag: bool) -> str:
    """``needs --host (help)``, or ``needs --host or --ip; --host: help; --ip: help``."""
    labels = {n: ("--" + n.replace("_", "-")) if flag else n for n in names}
    helps = {n: spec.help for n in names if (spec := _spec_or_none(template, n)) and spec.help}
    wanted = " or ".join(labels[n] for n in names)
    if len(names) == 1:
        return f"needs {wanted}" + (f" ({helps[names[0]]})" if names[0] in helps else "")
    return f"needs {wanted}" + "".join(f"; {labels[n]}: {helps[n]}" for n in names if n in helps)


def missing_parameter(template: Template, group: tuple[str, ...]) -> MissingParameterError:
    """The error for a required group of which nothing was given, for Python and the shell.

    Example:
        >>> str(missing_parameter(template, ("host",)))         # doctest: +SKIP
        'host_summary needs host (host name, or the start of one)'
        >>> missing_parameter(template, ("host",)).cli_message   # doctest: +SKIP
        'host_summary needs --host (host name, or the start of one)'
    """
    names = list(group)
    python_only = [
        n for n in names if (spec := _spec_or_none(template, n)) and spec.type == "DataFrame"
    ]
    shell_names = [n for n in names if n not in python_only] or names
    shell = f"{template.name} {_needs(template, shell_names, flag=True)}"
    if python_only and shell_names != names:  # a DataFrame cannot come from the shell
        shell += f"; from Python, {' or '.join(n + '=' for n in python_only)} works too"
    return MissingParameterError(
        f"{template.name} {_needs(template, names, flag=False)}", cli_message=shell
    )


# ---------------------------------------------------------------------- resolve


def _canonical_key(key: str) -> str:
    return key.strip().replace("-", "_")


def accepted_names(template: Template) -> list[str]:
    """Every key `resolve` accepts for `template`, in cell order then extras."""
    names = [p.name for p in template.parameters]
    for extra in (*STANDARD, "options", *EXTRA_KEYS):
        if extra == "options" and not template.has_options:
            continue
        if extra not in names:
            names.append(extra)
    return names


def _unknown(template: Template, key: str, accepted: list[str]) -> ParameterError:
    close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ParameterError(
        f"{template.name}: unknown parameter {shown(key)}{hint} (accepted: {', '.join(accepted)})"
    )


def resolve(
    template: Template, raw: Mapping[str, Any], *, now: dt.datetime | None = None
) -> ResolvedParameters:
    """Check and coerce `raw` for `template`; raise ParameterError before anything runs.

    `raw` keys: the template's parameters (``account-id`` is read as ``account_id``),
    ``start``/``end``/``last``, ``data_source``, ``options``. None means not given.

    Example:
        >>> p = resolve(template, {"host": "WKSTN-042", "last": "24h"})   # doctest: +SKIP
        >>> p.values["start"]                                             # doctest: +SKIP
        '2026-11-27T03:00:00Z'
    """
    accepted = accepted_names(template)
    given: dict[str, Any] = {}
    for key, value in raw.items():
        name = _canonical_key(str(key))
        if name not in accepted:
            raise _unknown(template, str(key), accepted)
        if value is not None:
            given[name] = value

    start, end = time_range(
        given.pop("start", None), given.pop("end", None), given.pop("last", None), now=now
    )
    source = given.pop("data_source", None)
    if source in (None, ""):
        from nbcatalog.config import default_data_source

        source = default_data_source()
    data_source = normalize_data_source(source)
    options = None
    if template.has_options:
        options = resolve_options(template, given.pop("options", None))

    values: dict[str, Any] = {}
    for spec in template.parameters:
        if spec.name in STANDARD or spec.name == "options":
            continue
        if spec.name in given:
            value = coerce(spec, given[spec.name])
        else:
            value = spec.default
        if spec.entity_kind:
            value = validate_entity(spec.name, spec.entity_kind, value, secret=spec.secret)
        values[spec.name] = value
    for group in template.required_groups:
        if not any(is_given(values.get(name)) for name in group):
            raise missing_parameter(template, group)
    values["start"] = iso_utc(start)
    values["end"] = iso_utc(end)
    values["data_source"] = data_source
    if options is not None:
        values["options"] = options

    secrets = frozenset(p.name for p in template.parameters if p.secret)
    redacted = {
        k: (REDACTED if k in secrets and v not in (None, "") else v) for k, v in values.items()
    }
    return ResolvedParameters(
        values=values,
        redacted=redacted,
        secrets=secrets,
        start=start,
        end=end,
        data_source=data_source,
        options=options,
    )
