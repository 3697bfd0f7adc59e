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


def _fail(name: str, value: Any, wanted: str) -> ParameterError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return ParameterError(f"parameter {name!r}: {shown} is not {wanted}")


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
            return int(value)
        raise _fail(name, value, "a whole number (like 5)")
    if kind == "float":
        if isinstance(value, bool):
            raise _fail(name, value, "a number")
        if isinstance(value, (int, float)):
            result = float(value)
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
}


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
    return True


def validate_entity(name: str, kind: str, value: Any) -> Any:
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
            raise ParameterError(
                f"parameter {name!r}: {item!r} is not a valid {kind}; expected {ENTITY_KINDS[kind]}"
            )
    return [v.strip() for v in values] if isinstance(value, list) else value.strip()


# ------------------------------------------------------------------ time range

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
                f"last={value!r} is not a time span; use a number and a unit: "
                "'90m', '24h', '7d', '2w' (units s, m, h, d, w)"
            )
        delta = dt.timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
    if delta <= dt.timedelta(0):
        raise ParameterError(f"last={value!r} must be a positive time span")
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
                f"{name}={value!r} is not a date/time; use ISO-8601 like "
                "'2024-05-01', '2024-05-01T10:00:00' or '2024-05-01T10:00:00Z'"
            ) from None
    else:
        raise ParameterError(
            f"{name}={value!r} is not a date/time; pass a datetime or ISO-8601 text"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


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
        start_t = end_t - (parse_last(last) if last is not None else DEFAULT_RANGE)
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
                raise ParameterError(f"options: {item!r} is not an option name (text)")
            items.extend(split_list(item))
    else:
        raise ParameterError(f"options={requested!r}: give a list like ['+geo', '-timeline']")
    accepted = template.all_options
    signed = [i for i in items if i[0] in "+-"]
    if signed and len(signed) != len(items):
        raise ParameterError(
            f"options {items}: either change the defaults with +name/-name or list the "
            "options to use; do not mix the two"
        )
    for item in items:
        bare = item.lstrip("+-")
        if bare not in accepted:
            close = difflib.get_close_matches(bare, accepted, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            listed = ", ".join(accepted) if accepted else "none (this template has no options)"
            raise ParameterError(
                f"{template.name}: unknown option {bare!r}{hint} (accepted: {listed})"
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
            f"data_source={spec!r}: give a spec as text, 'duckdb:PATH' or 'msticpy:ENVIRONMENT'"
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
            raise ParameterError(f"data_source={text!r}: name a msticpy environment")
        return f"msticpy:{rest}"
    path = Path(text).expanduser()
    if path.suffix in (".duckdb", ".db") and path.is_file():
        return f"duckdb:{path.absolute()}"
    raise ParameterError(
        f"data_source={text!r} is not a data source; accepted: 'duckdb:PATH' "
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
        f"{template.name}: unknown parameter {key!r}{hint} (accepted: {', '.join(accepted)})"
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
            value = validate_entity(spec.name, spec.entity_kind, value)
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
