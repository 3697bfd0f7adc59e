"""Since last run: attach a scheduled run's diff against the job's previous successful run.

The previous run is the newest ``ok`` run in the history with the same job and
parameter set whose fire time is before this run's. The diff
(`nbcatalog.rundiff`) goes into run.json as ``diff`` and into the report as the
"since last run" block beside the verdict; the index and ``run-due --json``
read it from there. Only an ``ok`` run is compared: a ``no_data`` or failed run
has nothing to set against the last one.

Example:
    >>> attach_diff(Path("output"), Path("output/host_summary/20260102T060000Z-ab12cd"))
    ...                                                          # doctest: +SKIP
    {'previous': '20260101T060000Z-9f8e7d', 'new': [...], 'summary': '1 new finding since ...'}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from nbcatalog import history
from nbcatalog.report_layout import SINCE_MARKER, since_html
from nbcatalog.rundiff import diff_runs, read_run_info, summary_text
from nbcatalog.runfolder import REPORT, RUN_JSON, write_json, write_text
from nbcatalog.runstate import OK

_BLOCK = re.compile(r'<div class="nbc-since" id="since-last-run"[^>]*>.*?</div>', re.S)


def previous_run(
    root: Path, run_dir: str, job: str, param_set: str | None, before: str | None
) -> history.RunRecord | None:
    """The newest ok run of `job` with `param_set` made before `before` (not `run_dir`).

    Example:
        >>> previous_run(Path("output"), "host_summary/B", "dc-daily", "ab12",
        ...              "2026-01-02T06:00:00Z")                     # doctest: +SKIP
    """
    for record in history.list_runs(root, job=job, status=OK):
        if record.run_dir == run_dir or record.param_set != param_set:
            continue
        when = record.fire_time or record.started
        if before and when and when >= before:
            continue
        if (root / record.run_dir / RUN_JSON).exists():
            return record
    return None


def attach_diff(root: Path, run_dir: Path) -> dict[str, Any] | None:
    """Compute a scheduled run's diff, write it to run.json and its report; return it.

    None when the run is not a scheduled ``ok`` run.
    """
    root, run_dir = Path(root), Path(run_dir)
    info = read_run_info(run_dir)
    labels = info.get("labels") or {}
    if info.get("status") != OK or not labels.get("job"):
        return None
    relative = run_dir.resolve().relative_to(root.resolve()).as_posix()
    fire = history.utc_text(labels.get("fire_time")) or history.utc_text(info.get("started"))
    previous = previous_run(root, relative, labels["job"], labels.get("param_set"), fire)
    if previous is None:
        diff: dict[str, Any] = {"previous": None, "current": info.get("run_id")}
        diff["summary"] = summary_text(diff)
    else:
        diff = diff_runs(root / previous.run_dir, run_dir).to_json()
    write_json(run_dir / RUN_JSON, {**info, "diff": diff})
    put_in_report(run_dir / REPORT, diff)
    return diff


def put_in_report(report: Path, diff: dict[str, Any]) -> bool:
    """Put the "since last run" block in a written report (replacing an older one).

    Example:
        >>> put_in_report(Path("output/host_summary/X/report.html"), diff)  # doctest: +SKIP
        True
    """
    if not report.exists():
        return False
    text = report.read_text(encoding="utf-8")
    block = since_html(diff)
    if SINCE_MARKER in text:
        updated = text.replace(SINCE_MARKER, block, 1)
    elif _BLOCK.search(text):
        updated = _BLOCK.sub(lambda _: block, text, count=1)
    else:
        return False
    write_text(report, updated)
    return True
