"""Real local receivers for notification tests: an SMTP server and an HTTP webhook.

`smtp_server()` runs aiosmtpd on 127.0.0.1 and keeps every message it accepts;
`webhook_server(fail_first=N)` answers POSTs (HTTP 503 to the first N) and keeps
every JSON body. Both are context managers and bind a free port.

Example:
    >>> with smtp_server() as smtp, webhook_server() as hook:     # doctest: +SKIP
    ...     send(...); assert len(smtp.messages) == 1
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Collect:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[Any]:
    """A real SMTP server on 127.0.0.1; yields an object with host, port, messages."""
    from aiosmtpd.controller import Controller

    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.host, handler.port = "127.0.0.1", controller.port
    try:
        yield handler
    finally:
        controller.stop()


@contextmanager
def webhook_server(fail_first: int = 0) -> Iterator[Any]:
    """An HTTP server on 127.0.0.1 keeping POSTed JSON; the first `fail_first` get 503."""

    class State:
        bodies: list[Any] = []
        headers: list[dict[str, str]] = []
        hits = 0
        url = ""

    state = State()
    state.bodies, state.headers = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.hits += 1
            if state.hits <= fail_first:
                self.send_response(503)
                self.end_headers()
                return
            state.bodies.append(json.loads(body))
            state.headers.append(dict(self.headers))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
