"""Notifications of scheduled runs: the report's link and verdict by SMTP and/or webhook.

A schedule job's ``notify`` says when (`policy`) and where (`spec`); the
transport settings and credentials come from the environment or the config file,
never from the schedule (`settings`); `message` builds what is sent (every
log-derived value escaped); `deliver` sends it, retrying with back-off, and
records each delivery in the history's ``deliveries`` table. A delivery that
fails never fails the run.

Example:
    >>> from nbcatalog.notify import parse_notify
    >>> parse_notify({"when": "on_new_findings", "email": ["soc@example.org"]}).when
    'on_new_findings'
"""

from typing import Any

# Light at import: the schedule parser needs only the spec; sending loads the rest.
from nbcatalog.notify.spec import WHEN, NotifySpec, parse_notify

__all__ = ["WHEN", "NotifySpec", "notify_run", "parse_notify", "qualifies"]


def __getattr__(name: str) -> Any:
    if name == "notify_run":
        from nbcatalog.notify.deliver import notify_run

        return notify_run
    if name == "qualifies":
        from nbcatalog.notify.policy import qualifies

        return qualifies
    raise AttributeError(name)
