"""A schedule job's ``notify`` field: when to send and to whom (no credentials here).

```yaml
notify:
  when: on_new_findings          # always | on_findings | on_new_findings | on_failure
  email: [soc-oncall@example.org] # recipients; the SMTP server comes from env/config
  webhook: soc-alerts            # a webhook *name*; its URL and token come from env/config
  pdf: true                      # attach report.pdf (the job's formats must include pdf)
```

A webhook URL typed into the schedule is refused: such URLs often carry their
secret in the path or query, and the schedule file is read by many.

Example:
    >>> parse_notify("on_failure", problems := []) is None, problems[0].startswith("must be")
    (True, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

WHEN = ("always", "on_findings", "on_new_findings", "on_failure")
FIELDS = ("when", "email", "webhook", "pdf")
_ADDRESS = re.compile(r"^[^@\s<>,;\"']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_WEBHOOK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class NotifySpec:
    """When to notify and where: email recipients and/or a named webhook."""

    when: str
    email: tuple[str, ...] = ()
    webhook: str | None = None
    pdf: bool = False


def parse_notify(value: Any, problems: list[str] | None = None) -> NotifySpec | None:
    """Check a job's ``notify`` mapping; each problem is appended to `problems`.

    Raises ValueError listing the problems when `problems` is not given.

    Example:
        >>> parse_notify({"when": "always", "webhook": "soc"}).webhook
        'soc'
    """
    found: list[str] = []
    spec = _parse(value, found)
    if problems is None and found:
        raise ValueError("; ".join(found))
    if problems is not None:
        problems.extend(found)
    return None if found else spec


def _parse(value: Any, bad: list[str]) -> NotifySpec | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        bad.append(
            "must be a mapping such as {when: on_new_findings, email: [soc@example.org]} "
            f"(when: one of {', '.join(WHEN)})"
        )
        return None
    for key in value:
        if key not in FIELDS:
            bad.append(f"unknown key {key!r}; accepted: {', '.join(FIELDS)}")
    when = value.get("when", "on_findings")
    if when not in WHEN:
        bad.append(f"when {when!r} is not accepted; use one of {', '.join(WHEN)}")
    email = value.get("email") or []
    if isinstance(email, str):
        email = [email]
    if not isinstance(email, list):
        bad.append("email must be an address or a list of addresses")
        email = []
    for address in email:
        if not isinstance(address, str) or not _ADDRESS.match(address):
            bad.append(f"email {address!r} is not an address such as soc@example.org")
    webhook = value.get("webhook")
    if webhook is not None:
        if isinstance(webhook, str) and "://" in webhook:
            bad.append(
                "webhook must be a name, not a URL: put the URL (and any token) in "
                "NBCATALOG_WEBHOOK_<NAME> or the config's [webhooks.<name>] url"
            )
        elif not isinstance(webhook, str) or not _WEBHOOK_NAME.match(webhook):
            bad.append(f"webhook {webhook!r} must be a name of letters, digits, '_' or '-'")
    if not email and webhook is None:
        bad.append("names no recipient: give email, webhook or both")
    pdf = value.get("pdf", False)
    if not isinstance(pdf, bool):
        bad.append(f"pdf {pdf!r} must be true or false")
    if bad:
        return None
    return NotifySpec(when=when, email=tuple(email), webhook=webhook, pdf=pdf)
