"""Where notifications go: SMTP server, webhook URLs, report links, from env or config.

Credentials live only here, read at send time: the environment first, then the
config file (``$NBCATALOG_CONFIG``, else ``~/.config/nbcatalog/config.toml``)::

    [smtp]
    host = "smtp.example.org"
    port = 587
    security = "starttls"          # starttls | ssl | none
    user = "nbcatalog"
    password = "..."
    from = "nbcatalog <nbcatalog@example.org>"

    [webhooks.soc-alerts]
    url = "https://hooks.example.org/T000/B000/XXXX"
    token = "..."                  # optional: sent as Authorization: Bearer

    [notify]
    report_url = "https://soc.example.org/reports/"   # where the output root is served

Environment: ``NBCATALOG_SMTP_HOST``, ``_PORT``, ``_SECURITY``, ``_USER``,
``_PASSWORD``, ``_FROM``; ``NBCATALOG_WEBHOOK_<NAME>`` (the URL; name upper-cased,
``-`` as ``_``) and ``NBCATALOG_WEBHOOK_<NAME>_TOKEN``; ``NBCATALOG_REPORT_URL``.

Example:
    >>> webhook_env_name("soc-alerts")
    'NBCATALOG_WEBHOOK_SOC_ALERTS'
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

SECURITY = ("starttls", "ssl", "none")


class NotifyConfigError(ValueError):
    """A channel the schedule asks for is not configured (or badly): says what to set."""


@dataclass(frozen=True)
class SmtpSettings:
    """An SMTP server and the account to send with (password never printed)."""

    host: str
    port: int
    security: str
    sender: str
    user: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        return f"SmtpSettings(host={self.host!r}, port={self.port}, user={self.user!r})"


@dataclass(frozen=True)
class WebhookSettings:
    """A webhook's URL and optional bearer token (neither printed)."""

    name: str
    url: str
    token: str | None = None

    def __repr__(self) -> str:
        return f"WebhookSettings(name={self.name!r})"


def _config() -> dict[str, Any]:
    from nbcatalog.config import load_config

    return load_config()


def webhook_env_name(name: str) -> str:
    """The environment variable holding webhook `name`'s URL."""
    return "NBCATALOG_WEBHOOK_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def smtp_settings(config: dict[str, Any] | None = None) -> SmtpSettings:
    """The SMTP settings from the environment, else the config's ``[smtp]`` table.

    Example:
        >>> os.environ["NBCATALOG_SMTP_HOST"] = "127.0.0.1"    # doctest: +SKIP
        >>> smtp_settings().port                                # doctest: +SKIP
        25
    """
    table = dict((config if config is not None else _config()).get("smtp") or {})

    def get(key: str) -> Any:
        return os.environ.get(f"NBCATALOG_SMTP_{key.upper()}") or table.get(key)

    host = get("host")
    if not host:
        raise NotifyConfigError(
            "email notification asked for, but no SMTP server is configured: set "
            "NBCATALOG_SMTP_HOST (and _PORT, _USER, _PASSWORD, _FROM) or [smtp] in the config"
        )
    security = str(get("security") or "none").lower()
    if security not in SECURITY:
        raise NotifyConfigError(f"SMTP security {security!r}; accepted: {', '.join(SECURITY)}")
    default_port = {"ssl": 465, "starttls": 587, "none": 25}[security]
    try:
        port = int(get("port") or default_port)
    except ValueError:
        raise NotifyConfigError(f"SMTP port {get('port')!r} must be a number") from None
    sender = get("from") or f"nbcatalog@{host}"
    return SmtpSettings(str(host), port, security, str(sender), get("user"), get("password"))


def webhook_settings(name: str, config: dict[str, Any] | None = None) -> WebhookSettings:
    """Webhook `name`'s URL and token from the environment, else ``[webhooks.<name>]``.

    Example:
        >>> webhook_settings("soc", {"webhooks": {"soc": {"url": "https://h.example/x"}}}).url
        'https://h.example/x'
    """
    env = webhook_env_name(name)
    hooks = (config if config is not None else _config()).get("webhooks") or {}
    table = dict(hooks.get(name) or {})
    url = os.environ.get(env) or table.get("url")
    if not url:
        raise NotifyConfigError(
            f"webhook {name!r} is not configured: set {env} to its URL "
            f"or add [webhooks.{name}] url = ... to the config"
        )
    if not re.match(r"^https?://", str(url)):
        raise NotifyConfigError(f"webhook {name!r}: its URL must start with http:// or https://")
    token = os.environ.get(f"{env}_TOKEN") or table.get("token")
    return WebhookSettings(name, str(url), token)


def report_url(run_dir: str, config: dict[str, Any] | None = None) -> str | None:
    """The report's address under ``NBCATALOG_REPORT_URL`` / ``[notify] report_url``, or None.

    Example:
        >>> report_url("host_summary/X", {"notify": {"report_url": "https://soc.example/r"}})
        'https://soc.example/r/host_summary/X/report.html'
    """
    from urllib.parse import quote

    base = os.environ.get("NBCATALOG_REPORT_URL") or dict(
        (config if config is not None else _config()).get("notify") or {}
    ).get("report_url")
    if not base:
        return None
    return f"{str(base).rstrip('/')}/{quote(run_dir)}/report.html"
