"""HTML pages from the package's Jinja templates, every value escaped.

Autoescaping is on for every template, whatever its name: run parameters, log
text, error messages and findings are attacker-written. Pages get the logged-in
user and the session's CSRF token without each view passing them.

Example:
    >>> page = render(request, "catalogue.html", {"groups": groups})     # doctest: +SKIP
    >>> page.headers["content-type"]                                      # doctest: +SKIP
    'text/html; charset=utf-8'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from nbcatalog.web import csrf

# Run states with their own colour; any other word is shown as it is, plainly.
KNOWN_STATES = frozenset(
    {"ok", "no_data", "failed", "interrupted", "abandoned", "running", "queued", "cancelled"}
)


def status_class(status: Any) -> str:
    """The CSS class of a run state: ``status-ok`` … or ``status-other`` for unknown words.

    Example:
        >>> status_class("no_data"), status_class("<b>weird</b>")
        ('status-no_data', 'status-other')
    """
    word = str(status or "")
    return f"status-{word}" if word in KNOWN_STATES else "status-other"


def when(text: Any) -> str:
    """``2026-12-06T03:04:22Z`` as ``2026-12-06 03:04:22 UTC`` (other text unchanged).

    Example:
        >>> when("2026-12-06T03:04:22Z")
        '2026-12-06 03:04:22 UTC'
    """
    if not text:
        return "—"
    value = str(text)
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value):
        return value.replace("T", " ").replace("Z", " UTC")
    return value


def seconds_between(start: Any, end: Any) -> str:
    """The duration between two ISO-8601 times as ``12.3 s`` / ``4 min 5 s`` (— if unknown).

    Example:
        >>> seconds_between("2026-12-06T03:04:22Z", "2026-12-06T03:06:27Z")
        '2 min 5 s'
    """
    try:
        first = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        last = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return "—"
    return duration_text((last - first).total_seconds())


def duration_text(seconds: Any) -> str:
    """Seconds as ``12.3 s``, ``4 min 5 s`` or ``2 h 3 min``.

    Example:
        >>> duration_text(3.856), duration_text(3725)
        ('3.9 s', '1 h 2 min')
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def shown_value(value: Any) -> str:
    """A parameter value as one line of text (lists joined, mappings as JSON)."""
    from nbcatalog.web.forms import as_text

    return as_text(value)


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja environment of the package's page templates (autoescaped, strict)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nbcatalog.web", "templates"),
        autoescape=True,  # every template, not only *.html
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        status_class=status_class,
        when=when,
        duration=duration_text,
        shown=shown_value,
    )
    env.globals.update(seconds_between=seconds_between, csrf_field=csrf.FIELD)
    return env


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page `name` with `context`, plus the user and CSRF token of the session.

    Example:
        >>> render(request, "history.html", {"rows": []}).status_code    # doctest: +SKIP
        200
    """
    session = getattr(request.state, "session", None)
    page = (
        environment()
        .get_template(name)
        .render(
            {
                "user": session.user if session else None,
                "csrf_token": session.csrf if session else "",
                "path": request.url.path,
                **(context or {}),
            }
        )
    )
    return HTMLResponse(page, status_code=status_code, headers=dict(headers or {}))
