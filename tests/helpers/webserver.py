"""A real `nbcatalog web` process for tests, and a small HTTP client that keeps cookies.

The server is the installed command on a free loopback port, its output in files
(a pipe nobody reads would fill up and stall it). The client speaks raw HTTP with
`http.client`, so paths reach the server exactly as written (no ``..`` folding)
and redirects are seen, not followed.

Example:
    >>> with WebServer(tmp_path / "output", env={...}) as server:      # doctest: +SKIP
    ...     client = Client(server)
    ...     client.login(TOKEN).status
    303
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

NBCATALOG = Path(sys.executable).parent / "nbcatalog"
TOKEN = "web-test-token-0123456789-abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def token_hash(token: str = TOKEN) -> str:
    """The stored hash of `token`, made by the command an administrator would use."""
    proc = subprocess.run(
        [str(NBCATALOG), "web", "password-hash", "--stdin"],
        input=token + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return proc.stdout.strip()


class WebServer:
    """`nbcatalog web --port <free> --output <dir> ARGS`, started and stopped by the test."""

    def __init__(
        self,
        output: Path,
        *,
        env: dict[str, str],
        args: tuple[str, ...] = (),
        host: str = "127.0.0.1",
    ) -> None:
        self.output = output
        self.port = free_port()
        self.host = host
        self.logs = output.parent / f"web-{self.port}"
        self.logs.mkdir(parents=True, exist_ok=True)
        command = [str(NBCATALOG), "web", "--host", host, "--port", str(self.port)]
        command += ["--output", str(output), *args]
        self.command = command
        self.env = {**os.environ, **env}
        self.proc: subprocess.Popen | None = None

    @property
    def stdout(self) -> str:
        return (self.logs / "stdout").read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return (self.logs / "stderr").read_text(errors="replace")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> WebServer:
        with open(self.logs / "stdout", "wb") as out, open(self.logs / "stderr", "wb") as err:
            self.proc = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=err, cwd=self.output.parent
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nbcatalog web exited:\n{self.stdout}\n{self.stderr}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"nbcatalog web did not answer:\n{self.stdout}\n{self.stderr}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def location(self) -> str | None:
        return self.header("location")


def form_token(page: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, "no CSRF token on the page"
    return unescape(found.group(1))


def error_text(page: str) -> str:
    """The text of the page's error paragraph (unescaped), or ''."""
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', page, re.S)
    return unescape(found.group(1)) if found else ""


class Client:
    """One browser-like user: cookies kept between requests, redirects not followed."""

    def __init__(self, server: WebServer) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        *,
        fields: list[tuple[str, str]] | dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        cookies: bool = True,
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        sent = {"Host": f"127.0.0.1:{self.server.port}", **(headers or {})}
        if cookies and self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        reply = Reply(response.status, response.getheaders(), response.read().decode("utf-8"))
        conn.close()
        if cookies:
            for line in reply.all("set-cookie"):
                name, _, rest = line.partition("=")
                value = rest.split(";", 1)[0]
                if "max-age=0" in line.lower():
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        return reply

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, fields, **kw) -> Reply:
        return self.request("POST", path, fields=fields, **kw)

    def login(self, token: str = TOKEN, user: str = "", headers=None) -> Reply:
        page = self.get("/login", headers=headers)
        return self.post(
            "/login",
            {"csrf_token": form_token(page.body), "user": user, "password": token, "next": "/"},
            headers=headers,
        )

    def csrf(self, path: str = "/") -> str:
        """The session's CSRF token, read from a page as a browser would."""
        return form_token(self.get(path).body)
