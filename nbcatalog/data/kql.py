"""Make caller values safe to place in msticpy's string-formatted KQL.

msticpy builds a query by `str.format`-ing values into KQL text, e.g.
`| where Computer has "{host_name}"`. A value such as `x" | where 1==1` would end
the string literal and add a clause. Here every value is made a literal before it
reaches that text:

- text parameters must sit inside "..." or '...' in the query template; their value is
  escaped (backslash, both quote characters, newline, carriage return, tab) so the
  literal decodes to exactly the value; other control characters are rejected;
- a text parameter that the template pastes bare (a KQL fragment such as `table`,
  `add_query_items`, `host_op`) is rejected: callers cannot supply KQL;
- list items are formatted here as escaped '...' literals; datetimes as ISO-8601 UTC;
  integers must be integers.

Example:
    >>> kql_escape('x" | where 1==1')
    'x\\\\" | where 1==1'
    >>> print(kql_escape('x" | where 1==1'))
    x\\" | where 1==1
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from typing import Any

from nbcatalog.errors import DataSourceError

_ESCAPES = {"\\": "\\\\", '"': '\\"', "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


def kql_escape(value: str) -> str:
    """Escape `value` for the inside of a KQL "..." or '...' string literal.

    Control characters other than tab, newline and carriage return are refused.
    """
    if _FORBIDDEN.search(value):
        raise DataSourceError(
            f"value {value!r} contains a control character; only printable text, "
            "tabs and newlines are accepted in KQL query values"
        )
    return "".join(_ESCAPES.get(ch, ch) for ch in value)


def kql_literal(value: str | int) -> str:
    """A KQL literal for one list item: integers bare, text as an escaped '...' string."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataSourceError(f"list items must be text or integers, not {value!r}")
    if isinstance(value, int):
        return str(value)
    return f"'{kql_escape(value)}'"


def format_list(items: Iterable[Any]) -> str:
    """msticpy LIST formatter: `'a', 'b'` with each item escaped."""
    return ", ".join(kql_literal(v) for v in items)


def format_datetime(value: datetime.datetime) -> str:
    """msticpy DATETIME formatter: ISO-8601 in UTC (placed inside `datetime(...)`)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def placeholder_contexts(template: str, name: str) -> set[str]:
    """How `{name}` appears in `template`: "quoted" (inside "..."/'...') or "bare"."""
    contexts = set()
    for m in re.finditer(r"\{" + re.escape(name) + r"\}", template):
        before = template[m.start() - 1] if m.start() else ""
        after = template[m.end()] if m.end() < len(template) else ""
        quoted = before in "\"'" and before == after
        contexts.add("quoted" if quoted else "bare")
    return contexts


def prepare_parameters(
    template: str,
    param_types: Mapping[str, str],
    values: Mapping[str, Any],
) -> dict[str, Any]:
    """Check and escape `values` for a msticpy query `template`.

    `param_types` maps each parameter the query declares to its msticpy type ("str",
    "list", "datetime", "int", ...). Returns the values to hand to msticpy's
    `QuerySource.create_query` with `format_list` / `format_datetime` as formatters.

    Example:
        >>> prepare_parameters('T | where C has "{host_name}"', {"host_name": "str"},
        ...                    {"host_name": 'a"b'})
        {'host_name': 'a\\\\"b'}
    """
    from nbcatalog.data.querylib import to_utc_timestamp

    out: dict[str, Any] = {}
    for name, value in values.items():
        ptype = param_types.get(name)
        if ptype is None:
            raise DataSourceError(f"the query has no parameter {name!r}")
        contexts = placeholder_contexts(template, name)
        if ptype == "datetime":
            out[name] = to_utc_timestamp(value, name).to_pydatetime()
        elif ptype == "list":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",")] if "," in value else [value]
            items = list(value)
            for item in items:
                kql_literal(item)  # refuses what cannot be a literal
            out[name] = items
        elif ptype == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise DataSourceError(f"{name} must be an integer, not {value!r}")
            out[name] = value
        else:
            if not isinstance(value, str):
                raise DataSourceError(f"{name} must be text, not {type(value).__name__}")
            if "bare" in contexts:
                raise DataSourceError(
                    f"{name} is pasted into the query as KQL text, so it is not accepted "
                    "from callers; pass entity values (host_name, account_name, ...) only"
                )
            out[name] = kql_escape(value)
    return out
