"""The checks every request passes before a page: its Host, its login, the response headers.

- `HostCheck`: answers only to the host names the app is meant to be reached by
  (a web page elsewhere cannot rebind its own name to 127.0.0.1 and talk to us).
- `LoginRequired`: without a live session, a GET is sent to the login page and
  anything else gets 401; only the login page and the stylesheet are public.
- `BodyLimit`: refuses request bodies over 1 MiB (the login form is public, and a
  form parser must not be made to hold gigabytes).
- `SecurityHeaders`: a strict Content-Security-Policy for the app's pages (no
  script at all), no framing, no sniffing, no caching; a response that set its
  own policy (a report) keeps it.

Example:
    >>> app = HostCheck(SecurityHeaders(LoginRequired(router)), allowed=("localhost",))
    ...                                                              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "nbcatalog_session"
PUBLIC_PATHS = frozenset({"/login", "/static/style.css"})
APP_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    b"content-security-policy": APP_CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"same-origin",
    b"cross-origin-opener-policy": b"same-origin",
    b"cross-origin-resource-policy": b"same-origin",
    b"cache-control": b"no-store",
}


def host_name(header: str) -> str:
    """The name of a Host header without its port: ``[::1]:8765`` -> ``::1``.

    Example:
        >>> host_name("LOCALHOST:8765"), host_name("[::1]:8765"), host_name("127.0.0.1")
        ('localhost', '::1', '127.0.0.1')
    """
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class HostCheck:
    """Refuses (400) a request whose Host header is not an allowed name ("*" allows all)."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(a.lower() for a in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "*" not in self.allowed:
            host = ""
            for key, value in scope.get("headers", []):
                if key == b"host":
                    host = value.decode("latin-1")
            if host_name(host) not in self.allowed:
                response = PlainTextResponse(
                    "refused: unknown host name; add it with `nbcatalog web --allowed-host`",
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


MAX_BODY_BYTES = 1024 * 1024


class BodyLimit:
    """413 for a declared body over `limit` bytes; a longer streamed one fails while read."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                response = PlainTextResponse("refused: request body too large", status_code=413)
                await response(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, "refused: request body too large")
            return message

        await self.app(scope, limited_receive, send)


class SecurityHeaders:
    """Adds the app's security headers to every response that did not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                headers += [(k, v) for k, v in _HEADERS.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def safe_next(target: str | None) -> str:
    """A path on this app to go to after login; anything else (another site) is ``/``.

    Example:
        >>> safe_next("/history?status=failed"), safe_next("//evil.example/"), safe_next(None)
        ('/history?status=failed', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(ch) < 32 for ch in target) or "\\" in target:
        return "/"
    return target


class LoginRequired:
    """Puts the request's session in ``request.state.session``; refuses requests without one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        sessions = request.app.state.web.sessions
        session = sessions.get(request.cookies.get(SESSION_COOKIE))
        scope.setdefault("state", {})["session"] = session
        if session is None and scope["path"] not in PUBLIC_PATHS:
            if scope["method"] in ("GET", "HEAD"):
                target = scope["path"] + (f"?{request.url.query}" if request.url.query else "")
                response: PlainTextResponse | RedirectResponse = RedirectResponse(
                    f"/login?next={quote(target, safe='')}", status_code=303
                )
            else:
                response = PlainTextResponse("refused: log in first", status_code=401)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
