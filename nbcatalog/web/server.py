"""Run the web app under uvicorn: one process, the address and port asked for.

Bound to 127.0.0.1 unless told otherwise; any other address gets a warning,
since the catalogue runs code against your data for whoever logs in. Behind a
reverse proxy, `forwarded_allow_ips` names the proxies whose X-Forwarded-For and
X-Forwarded-Proto are believed (the client address for the login throttle, https
for Secure cookies).

Example:
    >>> serve(load_settings(), host="127.0.0.1", port=8765)       # doctest: +SKIP
"""

from __future__ import annotations

from nbcatalog.web.settings import WebSettings, is_loopback


def exposure_warning(host: str) -> str | None:
    """The warning printed when the app listens beyond this machine (None on loopback).

    Example:
        >>> exposure_warning("127.0.0.1") is None
        True
        >>> "reachable from other machines" in exposure_warning("0.0.0.0")
        True
    """
    if is_loopback(host):
        return None
    return (
        f"warning: listening on {host}: the app is reachable from other machines on this "
        "network, and whoever logs in can run notebooklets against your data. Prefer "
        "127.0.0.1 behind a reverse proxy with TLS (README, 'Web app')."
    )


def serve(
    settings: WebSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    forwarded_allow_ips: str = "127.0.0.1",
    log_level: str = "info",
) -> None:
    """Serve the app until SIGINT/SIGTERM; a run in progress finishes first.

    Example:
        >>> serve(settings, port=0)     # doctest: +SKIP
    """
    import uvicorn

    from nbcatalog.web.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        log_level=log_level,
        workers=1,  # sessions, throttle and job queue live in this one process
        lifespan="on",
    )
    uvicorn.Server(config).run()
