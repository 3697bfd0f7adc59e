"""CSRF protection: every POST carries a token that only our own pages hold.

Logged-in forms carry the session's token (synchronizer token); the login form,
which has no session yet, carries a token that must equal a cookie set with the
form (double submit). Before comparing tokens, a request whose browser says it
came from another site (``Sec-Fetch-Site: cross-site`` or an ``Origin`` that is
not this app) is refused. `checked_form` does all of it before a handler does any
work, and raises a 403 that says why.

Example:
    >>> tokens_match("abc", "abc"), tokens_match("abc", "abd"), tokens_match("", "")
    (True, False, False)
"""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

FIELD = "csrf_token"
LOGIN_COOKIE = "nbcatalog_login_csrf"
# A run form has a dozen fields; anything far beyond that is not ours.
MAX_FIELDS = 200


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time equality of two tokens; an empty or missing one never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another site.

    Browsers send ``Origin`` on POSTs and ``Sec-Fetch-Site``; a client that sends
    neither (curl, a script) is judged by its token alone.
    """
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin.lower() == own.lower()


async def checked_form(request: Request, expected: str | None) -> FormData:
    """The POSTed form, once its origin and CSRF token are right; else a 403.

    Example:
        >>> form = await checked_form(request, session.csrf)     # doctest: +SKIP
    """
    if not same_origin(request):
        raise HTTPException(403, "refused: this form was posted from another site")
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    except Exception:  # malformed body, too many fields, a file upload: not our form
        raise HTTPException(400, "refused: the form could not be read") from None
    given = form.get(FIELD)
    if not isinstance(given, str) or not tokens_match(expected, given):
        raise HTTPException(
            403, "refused: the form's security token is missing or stale; reload the page"
        )
    return form
