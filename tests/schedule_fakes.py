"""A stand-in for nbcatalog.run in scheduler unit tests: no kernel, but real run folders.

It writes what the runner writes (notebook.ipynb, run.json with the runner's keys,
report.html when asked), records the run in the real SQLite history, and raises
the real RunError when told to fail, so the scheduler is exercised end to end
except for the notebook execution itself.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat

from nbcatalog import history
from nbcatalog.errors import RunError, RunFailure


@dataclass
class FakeRunner:
    """Callable like nbcatalog.run; `fail(name, params, labels)` says when to fail, and
    `no_data(name, params, labels)` when the run finds nothing (status no_data)."""

    fail: Any = None
    no_data: Any = None
    delay: float = 0.0
    calls: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(
        self,
        name: str,
        *,
        output_dir,
        html: bool = False,
        start=None,
        end=None,
        labels: dict | None = None,
        timeout=None,
        quiet: bool = False,
        silent: bool = False,
        **params,
    ):
        labels = dict(labels or {})
        call = {"name": name, "start": start, "end": end, "labels": labels, "params": params}
        with self._lock:
            self.calls.append(call)
        began = datetime.now(timezone.utc)
        if self.delay:
            time.sleep(self.delay)
        failing = bool(self.fail and self.fail(name, params, labels))
        empty = not failing and bool(self.no_data and self.no_data(name, params, labels))
        reason = f"no host named {params.get('host')!r} in this data source (closest: WIN-DC01)"
        status = "failed" if failing else "no_data" if empty else "ok"
        stamp = began.strftime("%Y%m%dT%H%M%S%fZ")
        run_dir = Path(output_dir) / name / f"{stamp}-{uuid.uuid4().hex[:6]}"
        run_dir.mkdir(parents=True)
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_markdown_cell(f"# {name}"))
        nbformat.write(nb, run_dir / "notebook.ipynb")
        paths = {"notebook": str(run_dir / "notebook.ipynb"), "run_json": str(run_dir / "run.json")}
        if html and not failing:
            (run_dir / "report.html").write_text(f"<html><body><h1>{name}</h1></body></html>")
            paths["report"] = str(run_dir / "report.html")
        failure = RunFailure("exception", 3, "alerts", "ValueError", "planted failure")
        info = {
            "template": name,
            "version": "1.0",
            "content_hash": "0" * 16,
            "parameters": {
                **params,
                "start": history.utc_text(start),
                "end": history.utc_text(end),
            },
            "data_source": "duckdb:/nowhere.duckdb",
            "start": history.utc_text(start),
            "end": history.utc_text(end),
            "started": began.isoformat(),
            "finished": datetime.now(timezone.utc).isoformat(),
            "status": status,
            "error": failure.__dict__ if failing else None,
            "no_data": {"reason": reason, "closest": ["WIN-DC01"]} if empty else None,
            "labels": labels,
            "paths": paths,
        }
        (run_dir / "run.json").write_text(json.dumps(info, default=str))
        history.record_run(run_dir)
        if failing:
            raise RunError(name, failure, run_dir / "notebook.ipynb")
        return SimpleNamespace(run_dir=run_dir, status=status, reason=reason if empty else "")

    def runs(self) -> list[tuple[str, str, tuple]]:
        """(job, fire time, sorted parameters) of every call, in call order."""
        return [
            (
                c["labels"].get("job"),
                c["labels"].get("fire_time"),
                tuple(sorted(c["params"].items())),
            )
            for c in self.calls
        ]
