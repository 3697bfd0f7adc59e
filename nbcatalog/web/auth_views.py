"""The login and logout pages.

Login: the form carries a token that must equal a cookie set with the form (the
login has no session yet to hold one); five failed logins within 15 minutes from
one address, or for one user name, lock that address or name until the oldest
failure is 15 minutes old (429, with Retry-After). A good login starts a session:
a random id in an HttpOnly, SameSite=Strict cookie, Secure over https.

Example:
    $ curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8765/history
    303
"""

from __future__ import annotations

import math

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from nbcatalog.web import csrf
from nbcatalog.web.middleware import SESSION_COOKIE, safe_next
from nbcatalog.web.render import render


def secure_cookies(request: Request) -> bool:
    """Whether cookies get the Secure flag: as configured, else when the request is https."""
    configured = request.app.state.web.settings.secure_cookies
    return configured if configured is not None else request.url.scheme == "https"


def _login_page(
    request: Request, *, error: str = "", user: str = "", status_code: int = 200, headers=None
) -> Response:
    token = csrf.new_token()
    response = render(
        request,
        "login.html",
        {
            "error": error,
            "login_csrf": token,
            "login_user": user,
            "next": safe_next(request.query_params.get("next")),
        },
        status_code=status_code,
        headers=headers,
    )
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return response


async def login_form(request: Request) -> Response:
    """GET /login: the form (or straight on, for someone already logged in)."""
    if request.state.session is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


async def login(request: Request) -> Response:
    """POST /login: check the form's token, the throttle, then the password."""
    web = request.app.state.web
    form = await csrf.checked_form(request, request.cookies.get(csrf.LOGIN_COOKIE))
    user = str(form.get("user") or "").strip()[:200]
    secret = str(form.get("password") or "")
    client = request.client.host if request.client else "unknown"
    keys = [f"ip:{client}"] + ([f"user:{user}"] if user else [])
    wait = web.throttle.retry_after(keys)
    if wait > 0:
        minutes = max(1, math.ceil(wait / 60))
        return _login_page(
            request,
            error=f"Too many failed logins: try again in {minutes} minute(s).",
            user=user,
            status_code=429,
            headers={"Retry-After": str(math.ceil(wait))},
        )
    who = await run_in_threadpool(web.settings.credentials.login, user, secret[:1024])
    if who is None:
        web.throttle.failed(keys)
        return _login_page(
            request, error="Wrong user name, password or token.", user=user, status_code=401
        )
    web.throttle.succeeded(keys)
    session_id, _ = web.sessions.create(who)
    response = RedirectResponse(safe_next(str(form.get("next") or "")), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(web.sessions.lifetime),
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    """POST /logout: end the session (the form carries the session's CSRF token)."""
    session = request.state.session
    await csrf.checked_form(request, session.csrf if session else None)
    request.app.state.web.sessions.end(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
