"""The demo estate: a deterministic, realistic store with planted incidents.

`build_demo(path, seed=42, scale=1.0, now=None)` writes it; see `estate` for the
hosts, users and address plan, `planted` for the incidents.

Example:
    >>> from nbcatalog.data.demo import build_demo
    >>> summary = build_demo("/tmp/nbcatalog-demo.duckdb", scale=0.1)
    >>> "WKSTN-042" in summary.as_text()
    True
"""

from __future__ import annotations

from nbcatalog.data.demo.build import DemoSummary, build_demo
from nbcatalog.data.demo.estate import HOSTS, USERS, address_plan
from nbcatalog.data.demo.planted import Incident

__all__ = ["HOSTS", "USERS", "DemoSummary", "Incident", "address_plan", "build_demo"]
