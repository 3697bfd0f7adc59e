"""The Starlette application: routes, the checks around them, and what lives while it runs.

`create_app(settings)` builds the app; `nbcatalog.web.server.serve` runs it under
uvicorn. One process holds the sessions, the login throttle and the job queue
(with its warm kernels), so the app runs as one uvicorn worker; its runs go to
the output root and history every other way of running shares.

Example:
    >>> from nbcatalog.web.settings import load_settings
    >>> app = create_app(load_settings(output_root="/srv/out"))     # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from nbcatalog.web import auth_views, pages
from nbcatalog.web.jobs import JobQueue
from nbcatalog.web.middleware import BodyLimit, HostCheck, LoginRequired, SecurityHeaders
from nbcatalog.web.render import render
from nbcatalog.web.sessions import LoginThrottle, SessionStore
from nbcatalog.web.settings import WebSettings


@dataclass
class WebState:
    """What the handlers share: settings, sessions, the login throttle, the job queue."""

    settings: WebSettings
    sessions: SessionStore
    throttle: LoginThrottle
    jobs: JobQueue


def stylesheet(request: Request) -> Response:
    """GET /static/style.css: the one stylesheet (public: the login page uses it)."""
    path = resources.files("nbcatalog.web") / "static" / "style.css"
    return FileResponse(str(path), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


async def http_error(request: Request, exc: Exception) -> Response:
    """An error page saying what was refused or missing (plain text outside a session)."""
    assert isinstance(exc, HTTPException)
    message = exc.detail or "error"
    if getattr(request.state, "session", None) is None:
        return PlainTextResponse(message, status_code=exc.status_code, headers=exc.headers)
    titles = {403: "Refused", 404: "Not found", 400: "Bad request", 405: "Not allowed"}
    return render(
        request,
        "error.html",
        {"title": titles.get(exc.status_code, "Error"), "message": message},
        status_code=exc.status_code,
        headers=exc.headers,
    )


ROUTES = [
    Route("/login", auth_views.login_form, methods=["GET"]),
    Route("/login", auth_views.login, methods=["POST"]),
    Route("/logout", auth_views.logout, methods=["POST"]),
    Route("/static/style.css", stylesheet, methods=["GET"]),
    Route("/", pages.catalogue, methods=["GET"]),
    Route("/run/{name}", pages.run_form_page, methods=["GET"]),
    Route("/run/{name}", pages.submit_run, methods=["POST"]),
    Route("/jobs/{job_id}", pages.job_page, methods=["GET"]),
    Route("/history", pages.history_page, methods=["GET"]),
    Route("/runs/{template}/{run_id}", pages.run_page, methods=["GET"]),
    Route("/runs/{template}/{run_id}/rerun", pages.rerun_page, methods=["GET"]),
    Route("/files/{path:path}", pages.file_page, methods=["GET"]),
]


def create_app(settings: WebSettings, *, jobs: JobQueue | None = None) -> Starlette:
    """The web app for `settings`; `jobs` replaces the job queue (tests).

    Example:
        >>> app = create_app(settings)                # doctest: +SKIP
        >>> [r.path for r in app.routes][:2]          # doctest: +SKIP
        ['/login', '/login']
    """
    queue = jobs or JobQueue(
        settings.output_root,
        workers=settings.workers,
        data_source=settings.data_source,
        run_timeout=settings.run_timeout,
        warm=settings.warm_pool,
    )
    state = WebState(
        settings=settings,
        sessions=SessionStore(lifetime_seconds=settings.session_hours * 3600),
        throttle=LoginThrottle(),
        jobs=queue,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings.output_root.mkdir(parents=True, exist_ok=True)
        queue.start()
        try:
            yield
        finally:
            # Queued runs are dropped; a run in progress finishes and is recorded.
            queue.shutdown(wait=True)

    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(HostCheck, allowed=settings.allowed_hosts),
            Middleware(BodyLimit),
            Middleware(SecurityHeaders),
            Middleware(LoginRequired),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.web = state
    return app
