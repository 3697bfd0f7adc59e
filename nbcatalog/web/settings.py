"""What `nbcatalog web` runs with: logins, cookies, host names, the output root, workers.

Logins come from the ``[web]`` table of the config file (see `nbcatalog.config`)
or the environment, and only as hashes (`nbcatalog web password-hash` makes one)::

    [web]
    users = { alice = "scrypt$16384$8$1$...", bob = "scrypt$16384$8$1$..." }
    token_hash = "scrypt$16384$8$1$..."   # a shared token, logged in without a user name
    secure_cookies = true                 # behind TLS: cookies only over https
    session_hours = 12
    allowed_hosts = ["soc.example.org"]   # Host names the app answers to

``NBCATALOG_WEB_TOKEN_HASH`` overrides ``token_hash``. With neither users nor a
token configured, the app makes a random token for this process only and the
command prints it once: fine on a laptop, not for a service (configure one).

Example:
    >>> creds = Credentials(users={}, token_hash=None).with_generated_token()
    >>> creds.login("", creds.generated_token)
    'token'
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nbcatalog.config import ConfigError, config_path, web_settings
from nbcatalog.web.passwords import (
    HashFormatError,
    hash_secret,
    new_token,
    parse_hash,
    verify_secret,
    waste_a_check,
)

ENV_TOKEN_HASH = "NBCATALOG_WEB_TOKEN_HASH"
TOKEN_USER = "token"  # the name shown for a login with the shared token
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
DEFAULT_PORT = 8765
DEFAULT_SESSION_HOURS = 12.0

# [web] keys and what each must be.
KNOWN_WEB_KEYS = {
    "users": "a table of user name = password hash",
    "token_hash": "a password hash (text)",
    "secure_cookies": "true or false",
    "session_hours": "a positive number of hours",
    "allowed_hosts": "a list of host names",
}


def _config_error(key: str, problem: str) -> ConfigError:
    return ConfigError(f"config file {config_path()}: [web] {key}: {problem}")


@dataclass(frozen=True)
class Credentials:
    """Who may log in: user names with password hashes, and/or one shared token's hash.

    `generated_token` is set only when nothing was configured and a token was made
    for this process (the command prints it once; it is never written anywhere).
    """

    users: Mapping[str, str]
    token_hash: str | None
    generated_token: str | None = field(default=None, repr=False)

    @property
    def configured(self) -> bool:
        """True when users or a token hash were configured."""
        return bool(self.users) or self.token_hash is not None

    def with_generated_token(self) -> Credentials:
        """These credentials plus a random token for this process (when none is configured).

        Example:
            >>> Credentials({}, None).with_generated_token().generated_token is not None
            True
        """
        token = new_token()
        return replace(self, token_hash=hash_secret(token), generated_token=token)

    def login(self, user: str, secret: str) -> str | None:
        """The logged-in name when `secret` is right for `user` (empty user: the token).

        Always costs one hash check, whether or not the name exists.

        Example:
            >>> Credentials({"ann": hash_secret("pw")}, None).login("ann", "pw")
            'ann'
        """
        user = user.strip()
        stored = self.users.get(user) if user else self.token_hash
        if not secret or stored is None:
            waste_a_check(secret or "-")
            return None
        if verify_secret(secret, stored):
            return user or TOKEN_USER
        return None


def _check_hash(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _config_error(key, "must be a password hash (text)")
    try:
        parse_hash(value)
    except HashFormatError as exc:
        raise _config_error(key, str(exc)) from None
    return value.strip()


def load_credentials(
    table: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Credentials:
    """Users and token hash from the ``[web]`` table and ``NBCATALOG_WEB_TOKEN_HASH``.

    Example:
        >>> load_credentials({}, {}).configured
        False
    """
    table = web_settings() if table is None else table
    env = os.environ if env is None else env
    users_table = table.get("users", {})
    if not isinstance(users_table, Mapping):
        raise _config_error("users", KNOWN_WEB_KEYS["users"])
    users = {}
    for name, stored in users_table.items():
        if not str(name).strip() or str(name).strip() != str(name):
            raise _config_error("users", f"user name {name!r} is empty or has spaces around it")
        users[str(name)] = _check_hash(f"users.{name}", stored)
    token_hash = None
    if env.get(ENV_TOKEN_HASH, "").strip():
        try:
            parse_hash(env[ENV_TOKEN_HASH])
        except HashFormatError as exc:
            raise ConfigError(f"{ENV_TOKEN_HASH}: {exc}") from None
        token_hash = env[ENV_TOKEN_HASH].strip()
    elif "token_hash" in table:
        token_hash = _check_hash("token_hash", table["token_hash"])
    return Credentials(users=users, token_hash=token_hash)


@dataclass(frozen=True)
class WebSettings:
    """Everything the app needs; `load_settings` fills it from options and config.

    `secure_cookies` None means: Secure cookies when the request came over https
    (directly, or through a trusted proxy's X-Forwarded-Proto).
    """

    output_root: Path
    credentials: Credentials
    data_source: str | None = None
    workers: int = 1
    run_timeout: float | None = None
    secure_cookies: bool | None = None
    session_hours: float = DEFAULT_SESSION_HOURS
    allowed_hosts: tuple[str, ...] = LOOPBACK_NAMES
    warm_pool: bool = True


def is_loopback(host: str) -> bool:
    """True for an address or name that only this machine reaches.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0")
        (True, False)
    """
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(
    *,
    output_root: str | os.PathLike | None = None,
    data_source: str | None = None,
    workers: int = 1,
    run_timeout: float | None = None,
    secure_cookies: bool | None = None,
    bind_host: str = "127.0.0.1",
    extra_hosts: tuple[str, ...] = (),
    warm_pool: bool = True,
) -> WebSettings:
    """The app's settings: command-line values first, then ``[web]``, then defaults.

    Example:
        >>> s = load_settings(output_root="/srv/out")           # doctest: +SKIP
        >>> s.allowed_hosts                                      # doctest: +SKIP
        ('localhost', '127.0.0.1', '::1')
    """
    from nbcatalog.config import default_output_dir
    from nbcatalog.parameters import normalize_data_source

    table = web_settings()
    for key in table:
        if key not in KNOWN_WEB_KEYS:
            accepted = ", ".join(sorted(KNOWN_WEB_KEYS))
            raise _config_error(key, f"unknown key (accepted: {accepted})")
    credentials = load_credentials(table)
    if secure_cookies is None and "secure_cookies" in table:
        if not isinstance(table["secure_cookies"], bool):
            raise _config_error("secure_cookies", KNOWN_WEB_KEYS["secure_cookies"])
        secure_cookies = table["secure_cookies"]
    hours = table.get("session_hours", DEFAULT_SESSION_HOURS)
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0:
        raise _config_error("session_hours", KNOWN_WEB_KEYS["session_hours"])
    configured_hosts = table.get("allowed_hosts", [])
    if not isinstance(configured_hosts, list) or not all(
        isinstance(h, str) for h in configured_hosts
    ):
        raise _config_error("allowed_hosts", KNOWN_WEB_KEYS["allowed_hosts"])
    hosts = list(LOOPBACK_NAMES)
    if bind_host not in ("0.0.0.0", "::", ""):  # a wildcard address is no Host header
        hosts.append(bind_host)
    hosts += [*configured_hosts, *extra_hosts]
    root = Path(output_root) if output_root is not None else Path(default_output_dir())
    return WebSettings(
        output_root=root.expanduser().absolute(),
        credentials=credentials,
        data_source=normalize_data_source(data_source) if data_source else None,
        workers=workers,
        run_timeout=run_timeout,
        secure_cookies=secure_cookies,
        session_hours=float(hours),
        allowed_hosts=tuple(dict.fromkeys(h.strip().strip("[]").lower() for h in hosts)),
        warm_pool=warm_pool,
    )
