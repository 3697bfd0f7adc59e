"""Whether a finished scheduled run qualifies for a notification under a job's ``when``.

- ``always``: every run that finished (ok, no_data or failed);
- ``on_findings``: an ok run with at least one finding, or new key-table rows;
- ``on_new_findings``: an ok run whose diff has new findings or new key-table rows
  (a job's first run: any finding counts as new);
- ``on_failure``: a failed run, or a no_data run of a strict job.

Example:
    >>> qualifies("on_failure", {"status": "failed"}, None)
    True
    >>> qualifies("on_new_findings", {"status": "ok", "findings": []}, {"previous": "a", "new": []})
    False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nbcatalog.runstate import NO_DATA, OK

_FAILED = ("failed", "error", "interrupted", "abandoned")


def new_count(diff: Mapping[str, Any] | None) -> int:
    """New findings plus new key-table rows in a run's diff.

    Example:
        >>> new_count({"new": [{}], "tables": {"a": {"counts": {"new": 2}}}})
        3
    """
    if not diff:
        return 0
    tables = (diff.get("tables") or {}).values()
    rows = sum(int((t.get("counts") or {}).get("new") or 0) for t in tables)
    return len(diff.get("new") or []) + rows


def qualifies(
    when: str, info: Mapping[str, Any], diff: Mapping[str, Any] | None, *, strict: bool = False
) -> bool:
    """True when a run with run.json `info` and `diff` should be sent under `when`."""
    status = str(info.get("status") or "failed")
    if when == "always":
        return True
    if when == "on_failure":
        return status in _FAILED or (status == NO_DATA and strict)
    if status != OK:
        return False
    findings = info.get("findings") or []
    if when == "on_findings":
        return bool(findings) or new_count(diff) > 0
    if when == "on_new_findings":
        if diff is not None and not diff.get("previous"):
            return bool(findings)  # the first run: every finding is new
        return new_count(diff) > 0
    return False
