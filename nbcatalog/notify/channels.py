"""Sending one message: by SMTP (smtplib) or as a JSON POST to a webhook (urllib).

Each sender raises on failure; `deliver` decides about retries. Timeouts are
short: a notification must not hold the scheduler up.

Example:
    >>> send_webhook(WebhookSettings("soc", "http://127.0.0.1:9/none"), message)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid

from nbcatalog.notify.message import Message
from nbcatalog.notify.settings import SmtpSettings, WebhookSettings

TIMEOUT = 20.0


def email_message(message: Message, settings: SmtpSettings, to: tuple[str, ...]) -> EmailMessage:
    """The MIME message: plain text and HTML alternatives, the PDF attached when asked."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = settings.sender
    mail["To"] = ", ".join(to)
    mail["Message-ID"] = make_msgid(domain="nbcatalog")
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    for path in message.attachments:
        mail.add_attachment(
            path.read_bytes(), maintype="application", subtype="pdf", filename=path.name
        )
    return mail


def send_email(message: Message, settings: SmtpSettings, to: tuple[str, ...]) -> None:
    """Send `message` to `to` through the configured SMTP server."""
    mail = email_message(message, settings, to)
    if settings.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
    with client:
        if settings.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.user:
            client.login(settings.user, settings.password or "")
        client.send_message(mail)


def send_webhook(message: Message, settings: WebhookSettings) -> None:
    """POST the message's JSON payload; any status other than 2xx raises."""
    body = json.dumps(message.payload, default=str, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "nbcatalog-notify"}
    if settings.token:
        headers["Authorization"] = f"Bearer {settings.token}"
    request = urllib.request.Request(settings.url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (http/https only)
        if not 200 <= response.status < 300:
            raise OSError(f"webhook answered HTTP {response.status}")
