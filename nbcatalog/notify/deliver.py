"""Send a finished scheduled run's notification on each channel, retry, record, never raise.

Each channel (email, webhook) is tried up to `ATTEMPTS` times with doubling
back-off, and every outcome (sent, or failed with the last error) is stored in
the history's ``deliveries`` table. Errors are recorded without the webhook's
URL or token. Nothing here raises: a notification that cannot be sent never
fails the run it is about.

Example:
    >>> notify_run(Path("output"), "dc-daily", spec, run_dir="host_summary/X",
    ...            status="ok")                                     # doctest: +SKIP
    [Delivery(run_dir='host_summary/X', job='dc-daily', channel='email', ..., status='sent')]
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbcatalog import history
from nbcatalog.notify import channels
from nbcatalog.notify.message import Message, build_message
from nbcatalog.notify.policy import qualifies
from nbcatalog.notify.settings import NotifyConfigError, report_url, smtp_settings, webhook_settings
from nbcatalog.notify.spec import NotifySpec

log = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF = 2.0  # seconds before the second attempt; doubled after each failure


def _run_info(root: Path, run_dir: str | None, fallback: dict[str, Any]) -> dict[str, Any]:
    if run_dir:
        try:
            loaded = json.loads((root / run_dir / "run.json").read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                return loaded
        except (OSError, ValueError):
            pass
    return fallback


def _scrub(text: str, secrets: list[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:500]


def _try(
    send: Callable[[], None], secrets: list[str | None], sleep: Callable[[float], Any]
) -> tuple[str, int, str | None]:
    error = None
    for attempt in range(1, ATTEMPTS + 1):
        try:
            send()
            return "sent", attempt, None
        except Exception as exc:  # noqa: BLE001 - any failure is retried, then recorded
            error = _scrub(f"{type(exc).__name__}: {exc}", secrets)
            log.warning("notification attempt %d failed: %s", attempt, error)
            if attempt < ATTEMPTS:
                sleep(BACKOFF * 2 ** (attempt - 1))
    return "failed", ATTEMPTS, error


def notify_run(
    root: Path,
    job: str,
    spec: NotifySpec,
    *,
    run_dir: str | None,
    status: str,
    strict: bool = False,
    error: str | None = None,
    fallback: dict[str, Any] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> list[history.Delivery]:
    """Notify about one finished run when it qualifies under `spec.when`; record each send.

    `run_dir` is relative to `root` (None when the run left no folder); `fallback`
    stands in for run.json then (template, parameters).
    """
    root = Path(root)
    try:
        base = dict(fallback or {})
        base.setdefault("status", status)
        if error:
            base.setdefault("error", {"message": error})
        info = _run_info(root, run_dir, base)
        if error and status in ("failed", "error"):
            info = {**info, "status": "failed", "error": info.get("error") or {"message": error}}
        diff = info.get("diff") if isinstance(info.get("diff"), dict) else None
        if not qualifies(spec.when, info, diff, strict=strict):
            return []
        where = run_dir or ""
        message = build_message(
            info, job=job, run_dir=where, link=report_url(where) if run_dir else None, diff=diff
        )
        if spec.pdf and run_dir and (root / run_dir / "report.pdf").exists():
            message.attachments.append(root / run_dir / "report.pdf")
    except Exception as exc:  # noqa: BLE001 - never fail the run over its notification
        log.error("%s: could not build the notification: %r", job, exc)
        return []
    deliveries = []
    if spec.email:
        deliveries.append(_email(message, spec, job, where, sleep))
    if spec.webhook:
        deliveries.append(_webhook(message, spec.webhook, job, where, sleep))
    for delivery in deliveries:
        try:
            history.record_delivery(root, delivery)
        except Exception as exc:  # noqa: BLE001
            log.error("%s: delivery not recorded in the history: %r", job, exc)
    return deliveries


def _email(
    message: Message, spec: NotifySpec, job: str, run_dir: str, sleep: Callable[[float], Any]
) -> history.Delivery:
    target = ", ".join(spec.email)
    try:
        settings = smtp_settings()
    except NotifyConfigError as exc:
        return history.Delivery(run_dir, job, "email", target, "failed", 0, str(exc))
    status, attempts, error = _try(
        lambda: channels.send_email(message, settings, spec.email), [settings.password], sleep
    )
    return history.Delivery(run_dir, job, "email", target, status, attempts, error)


def _webhook(
    message: Message, name: str, job: str, run_dir: str, sleep: Callable[[float], Any]
) -> history.Delivery:
    try:
        settings = webhook_settings(name)
    except NotifyConfigError as exc:
        return history.Delivery(run_dir, job, "webhook", name, "failed", 0, str(exc))
    status, attempts, error = _try(
        lambda: channels.send_webhook(message, settings), [settings.url, settings.token], sleep
    )
    return history.Delivery(run_dir, job, "webhook", name, status, attempts, error)
