"""Runs of host_summary / account_summary on the demo store, shared by test modules.

A kernel run costs seconds, so each (template, parameters) runs once per test
session: test_templates_summary_full.py and test_drilldowns.py read the same runs.
Cached at module level (keyed by the demo store's path), since a session fixture
imported into several modules would run once per module.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

_CACHE: dict[tuple[str, str, str], Any] = {}


@functools.cache
def _output_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="nbcatalog-summary-runs-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def summary_run(db: Path | str, name: str, **params: Any):
    """`nbcatalog.run(name, **params)` on the store at `db` (quiet, silent), run once."""
    import nbcatalog

    key = (str(db), name, json.dumps(params, sort_keys=True, default=str))
    if key not in _CACHE:
        settings = {"data_source": f"duckdb:{db}", "silent": True, "quiet": True}
        _CACHE[key] = nbcatalog.run(name, output_dir=_output_root(), **{**settings, **params})
    return _CACHE[key]


def cached_runner(db: Path | str):
    """A `run` callable for drill-downs and pickers that goes through the cache."""

    def run(name: str, **params: Any):
        params.pop("silent", None)
        if params.get("data_source") == f"duckdb:{db}":
            params.pop("data_source")
        return summary_run(db, name, **params)

    return run
