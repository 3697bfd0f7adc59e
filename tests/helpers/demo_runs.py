"""A notebooklet run through the real CLI on the demo store, and the store's own counts
of the planted C2 channel to compare it with.

The beacon is planted by nbcatalog/data/demo/planted_network.py: LNX-WEB01 ->
192.0.2.66:4444 every 10 minutes.

Example (a test module that loads `helpers.offline_plugin`):
    run = offline_cli_run("host-summary", timeout=600)      # a module fixture named run

    def test_it(run, demo_source):
        assert f"{c2_contacts(demo_source, run['parameters'])} times" in run["findings"][0]["title"]
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from run_helpers import cli_json

from helpers.offline import attempts

HOST = "LNX-WEB01"
C2, C2_PORT = "192.0.2.66", 4444

# NSG flow rows of one VM to one remote address and port within a run's time range.
_FLOWS_TO = (
    "FROM \"AzureNetworkAnalytics_CL\" WHERE VM_s LIKE '%/' || $host "
    "AND DestIP_s = $ip AND DestPort_d = $port "
    "AND FlowStartTime_t >= $s AND FlowEndTime_t <= $e"
)


def cli_run_json(
    template: str,
    db: str | os.PathLike,
    output: str | os.PathLike,
    *,
    host: str = HOST,
    html: bool = False,
    quiet: bool = False,
    start: str | None = None,
    end: str | None = None,
    timeout: float = 600,
) -> dict:
    """`nbcatalog run TEMPLATE --host HOST --source duckdb:DB --output OUTPUT [--start S
    --end E] [--html] [-q] --json` as a shell runs it; asserts exit 0 and returns the
    printed JSON summary."""
    args = ["run", template, "--host", host, "--source", f"duckdb:{db}", "--output", str(output)]
    args += ["--start", start] * bool(start) + ["--end", end] * bool(end)
    args += ["--html"] * html + ["-q"] * quiet
    return cli_json(*args, "--json", timeout=timeout)


def offline_cli_run(template: str, *, timeout: float) -> Any:
    """A module fixture: one offline CLI run of `template` on LNX-WEB01 (with --html),
    checked to have made no internet attempt; its value is the JSON summary."""

    @pytest.fixture(scope="module")
    def run(demo_db, offline, tmp_path_factory):
        out = tmp_path_factory.mktemp("runs")
        summary = cli_run_json(template, demo_db, out, html=True, quiet=True, timeout=timeout)
        assert attempts(offline) == "", "the run tried to go online"
        return summary

    return run


def _flows_to(source: Any, what: str, window: dict, host: str, ip: str, port: int) -> int:
    params = {"host": host, "ip": ip, "port": port, "s": window["start"], "e": window["end"]}
    return int(source.sql(f"SELECT {what} {_FLOWS_TO}", params).iloc[0, 0])


def c2_contacts(
    source: Any, window: dict, host: str = HOST, ip: str = C2, port: int = C2_PORT
) -> int:
    """Contacts of `host` with `ip:port` in `window` (a run's parameters: start, end):
    its distinct flow start times, counted by the store."""
    return _flows_to(source, "count(DISTINCT FlowStartTime_t)", window, host, ip, port)


def c2_outbound_flows(
    source: Any, window: dict, host: str = HOST, ip: str = C2, port: int = C2_PORT
) -> int:
    """Allowed outbound flows of `host` to `ip:port` in `window`, summed by the store."""
    return _flows_to(source, "sum(AllowedOutFlows_d)", window, host, ip, port)
