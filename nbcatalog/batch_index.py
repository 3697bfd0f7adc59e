"""The HTML summary of one batch: ``<output>/batches/<batch id>/index.html``.

One row per parameter set, in the order given: the parameters, the status, how
many attempts it took, how long, links to the run's report, notebook and
run.json, the error of a run that failed and what a no_data run was missing;
below it, every attempt of the
batch as the run history recorded it (labels ``{"batch": <id>}``). The rows come
from the run history and the report index's own cell renderers
(`nbcatalog.schedules.index`), so a batch page and the main index agree. Every
value comes from logs or user input and is escaped; the page is one file with
inline styles and no scripts, written atomically.

Example:
    >>> write_batch_index(batch, Path("output"))    # doctest: +SKIP
    PosixPath('output/batches/host_summary-20260101T000000Z-ab12cd/index.html')
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from nbcatalog import history
from nbcatalog.runfolder import write_text
from nbcatalog.schedules import index as report_index

if TYPE_CHECKING:
    from nbcatalog.batch import BatchResults

_COLUMNS = ("Parameters", "Status", "Attempts", "Duration", "Files")
_e = report_index._e


def batch_records(root: str | Path, batch_id: str) -> list[history.RunRecord]:
    """Every run (all attempts) the history holds for batch `batch_id`, newest first.

    Example:
        >>> [r.status for r in batch_records("output", batch.batch_id)]   # doctest: +SKIP
    """
    return [r for r in history.list_runs(root) if r.labels.get("batch") == batch_id]


def _from_batch_dir(record: history.RunRecord, up: str) -> history.RunRecord:
    """The record with its file links made relative to the batch folder."""
    return dataclasses.replace(record, paths={k: up + v for k, v in record.paths.items()})


def render_batch_index(batch: BatchResults, records: list[history.RunRecord], *, root: Path) -> str:
    """The batch summary page as HTML text.

    Example:
        >>> "<table>" in render_batch_index(batch, [], root=Path("output"))  # doctest: +SKIP
        True
    """
    up = "../" * len(batch.batch_dir.relative_to(root).parts)
    by_dir = {r.run_dir: _from_batch_dir(r, up) for r in records}
    rows = []
    for o in batch.outcomes:
        record = None
        if o.run_dir:
            try:
                rel = Path(o.run_dir).resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                rel = None
            record = by_dir.get(rel) if rel else None
        if record is not None:
            files = report_index._files(record)
            status = report_index._status(record)
        else:  # the run never got a run folder (e.g. a kernel that would not start)
            files = '<span class="empty">no files</span>'
            if o.error:
                files += f'<div class="error">{_e(o.error)}</div>'
            status = f'<span class="status status-{_e(o.status)}">{_e(o.status)}</span>'
        rows.append(
            (
                f'data-status="{_e(o.status)}"',
                [
                    f'<span class="params">{_e(o.key)}</span>',
                    status,
                    _e(o.attempts),
                    _e(f"{o.duration:.1f} s"),
                    files,
                ],
            )
        )
    attempts = [
        (
            report_index._row_attributes(r),
            [
                _e(report_index._when(r.started or r.recorded_at)),
                report_index._params(r),
                report_index._status(r),
                _e(r.attempt if r.attempt is not None else "—"),
                report_index._files(r),
            ],
        )
        for r in (by_dir[d] for d in sorted(by_dir, key=lambda d: by_dir[d].started or ""))
    ]
    generated = history.utc_text(datetime.now(timezone.utc))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>batch {_e(batch.batch_id)}</title>",
        f"<style>{report_index._STYLE}</style></head><body>",
        f"<h1>Batch {_e(batch.template)}</h1>",
        f'<p class="generated">{_e(batch.batch_id)}: {batch.count("ok")} of {len(batch)} '
        f"run(s) ok, {batch.count('no_data')} no_data, {batch.count('failed')} failed; "
        f"{_e(batch.executor)} executor, "
        f"{batch.duration:.1f} s; generated {_e(report_index._when(generated))}</p>",
        f'<nav><a href="{up}{report_index.INDEX_NAME}">All reports</a></nav>',
        "<h2>Runs</h2>",
        report_index._table(_COLUMNS, rows),
        "<h2>Every attempt</h2>",
        report_index._table(("Started", "Parameters", "Status", "Attempt", "Files"), attempts)
        if attempts
        else '<p class="empty">No runs recorded.</p>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_batch_index(batch: BatchResults, root: str | Path) -> Path:
    """Write ``index.html`` in the batch folder from the run history; return its path.

    Example:
        >>> write_batch_index(batch, "output").name     # doctest: +SKIP
        'index.html'
    """
    root = Path(root)
    text = render_batch_index(batch, batch_records(root, batch.batch_id), root=root)
    return write_text(batch.batch_dir / report_index.INDEX_NAME, text)
