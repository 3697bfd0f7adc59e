"""Fixtures shared by the tests/test_enrich_*.py files.

- `isolated_config`: no user config file and no session override leak into a test.
- `no_network`: every socket connect and name resolution raises and is recorded, so a
  test can assert that nothing tried to go online (and nothing can).
"""

from __future__ import annotations

import socket

import pytest


class NetworkBlocked(OSError):
    """Raised instead of opening a connection during a test."""


@pytest.fixture
def isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """Point NBCATALOG_CONFIG at an empty temp folder and clear `configure()`."""
    from nbcatalog.enrich import settings

    monkeypatch.setenv("NBCATALOG_CONFIG", str(tmp_path / "no-config.toml"))
    settings.configure(None)
    yield tmp_path
    settings.configure(None)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Block sockets and DNS for the test; returns the list of attempts made."""
    attempts: list[str] = []

    def refuse(name):
        def blocked(*args, **kwargs):
            attempts.append(f"{name}{args[1:] if name.startswith('socket.') else args}")
            raise NetworkBlocked(f"network access during a test: {name}")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
    return attempts
