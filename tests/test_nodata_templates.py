"""No silent empties, end to end on the demo store: every built-in notebooklet, run on an
entity that matches nothing, ends `no_data` naming the entity and the closest names the
store knows, in the shell's last line, `--json`, run.json and the history; `--strict` exits
3; a missing entity parameter exits 2 before any kernel starts; the planted entities stay
`ok`; and msticpy's LocalData provider, fed pickles of the demo store's rows, gives real
results for a host it has and no_data for one it has not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from run_helpers import outputs_text

import nbcatalog
from nbcatalog import history

pytestmark = pytest.mark.slow

NBCATALOG = Path(sys.executable).parent / "nbcatalog"

# notebooklet -> (the flag and value of an entity the demo store does not have,
#                 a name the store does have that the reason must offer as closest)
NO_MATCH = {
    "host_summary": (("--host", "WKSTN-42x"), "WKSTN-042"),
    "host_logons_summary": (("--host", "LNX-WEB9"), "LNX-WEB01"),
    "win_host_events": (("--host", "WKSTN-42x"), "WKSTN-042"),
    "logon_session_rarity": (("--host", "WKSTN-42x"), "WKSTN-042"),
    "network_flow_summary": (("--host", "LNX-WEBO1"), "LNX-WEB01"),
    "host_network_summary": (("--host", "LNX-WEBO1"), "LNX-WEB01"),
    "ip_summary": (("--ip", "203.0.113.78"), "203.0.113.77"),
    "account_summary": (("--account", "bobb"), "bob"),
    "url_summary": (
        ("--url", "http://malicious.exampel/payload.ps1"),
        "http://malicious.example/payload.ps1",
    ),
    "alert_ti_enrich": (("--entity", "203.0.113.78"), "203.0.113.77"),
}
# notebooklet -> the planted demo entity it is about (these runs must stay ok)
PLANTED = {
    "host_summary": {"host": "WKSTN-042"},
    "host_logons_summary": {"host": "LNX-WEB01"},
    "win_host_events": {"host": "WKSTN-042"},
    "logon_session_rarity": {"host": "WKSTN-042"},
    "network_flow_summary": {"host": "LNX-WEB01"},
    "host_network_summary": {"host": "LNX-WEB01"},
    "ip_summary": {"ip": "203.0.113.77"},
    "account_summary": {"account": "bob"},
    "url_summary": {"url": "http://malicious.example/payload.ps1"},
    "alert_ti_enrich": {"entity": "203.0.113.77"},
}
# notebooklet -> what the shell says when its entity parameter is missing
MISSING = {
    "host_summary": "host_summary needs --host (host name, or the start of one",
    "host_logons_summary": "host_logons_summary needs --host (host name",
    "win_host_events": "win_host_events needs --host (host name",
    "logon_session_rarity": "logon_session_rarity needs --host (host name",
    "network_flow_summary": "network_flow_summary needs --host or --ip; --host: host name",
    "host_network_summary": "host_network_summary needs --host (host name",
    "ip_summary": "ip_summary needs --ip (IP address to investigate",
    "account_summary": "account_summary needs --account or --account-id; --account: account",
    "url_summary": "url_summary needs --url (the URL to investigate",
}


def shell(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(NBCATALOG), *args], capture_output=True, text=True, timeout=600, env=env
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("nodata-env")
    return {**os.environ, "NBCATALOG_CONFIG": str(folder / "no-config.toml")}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("nodata-runs")


@pytest.mark.parametrize("name", sorted(NO_MATCH))
def test_an_entity_that_matches_nothing_is_no_data_in_the_shell(name, demo_db, out, env):
    (flag, value), closest = NO_MATCH[name]
    common = [*(flag, value), "--source", f"duckdb:{demo_db}", "--output", str(out), "-q"]
    plain = shell("run", name.replace("_", "-"), *common, env=env)
    assert plain.returncode == 0, plain.stderr  # without --strict a no_data run is not an error
    last = plain.stdout.strip().splitlines()[-1]
    assert last.startswith(f"{name}: no_data in "), plain.stdout
    assert repr(value) in last or value in last  # the reason names the entity ...
    assert closest in last  # ... and the closest name the store has

    strict = shell("run", name.replace("_", "-"), *common, "--strict", "--json", env=env)
    assert strict.returncode == 3, strict.stderr
    summary = json.loads(strict.stdout)
    assert summary["status"] == "no_data"
    assert closest in summary["no_data"]["closest"] or closest in summary["no_data"]["reason"]
    assert value in summary["no_data"]["reason"]
    run_json = json.loads((Path(summary["run_dir"]) / "run.json").read_text(encoding="utf-8"))
    assert run_json["status"] == "no_data" and run_json["no_data"] == summary["no_data"]
    (row,) = [
        r for r in history.list_runs(out) if r.run_dir.endswith(Path(summary["run_dir"]).name)
    ]
    assert row.status == "no_data" and row.reason == summary["no_data"]["reason"] and row.strict


@pytest.mark.parametrize("name", sorted(MISSING))
def test_a_missing_entity_parameter_exits_2_before_any_kernel(name, out, env):
    proc = shell("run", name.replace("_", "-"), "--output", str(out / "missing"), env=env)
    assert proc.returncode == 2
    assert f"error: {MISSING[name]}" in proc.stderr
    assert not (out / "missing").exists()  # nothing ran, not even a run folder


@pytest.fixture(scope="module")
def pool():
    from nbcatalog.pool import KernelPool

    with KernelPool(size=1) as kernels:
        yield kernels


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_planted_entities_stay_ok(name, demo_db, out, pool):
    res = nbcatalog.run(
        name,
        data_source=f"duckdb:{demo_db}",
        output_dir=out / "planted",
        silent=True,
        quiet=True,
        pool=pool,
        **PLANTED[name],
    )
    assert res.status == "ok" and res.no_data is None and res.reason == ""
    assert "NO DATA" not in res._repr_html_()
    outcome = res.run_info["outcome"]
    assert outcome["status"] == "ok" and all(
        c["rows"] for c in outcome["checks"] if c.get("checked", True)
    )


def test_a_no_data_run_says_so_loudly_in_python_and_in_its_report(demo_db, out, pool):
    res = nbcatalog.run(
        "host_summary",
        host="WKSTN-42x",
        html=True,
        data_source=f"duckdb:{demo_db}",
        output_dir=out / "loud",
        silent=True,
        quiet=True,
        pool=pool,
    )
    assert res.status == "no_data"
    assert res.no_data["entity"] == {"kind": "host", "value": "WKSTN-42x"}
    assert "no_data (no host named 'WKSTN-42x'" in repr(res)
    page = res._repr_html_()
    assert page.index("NO DATA") < page.index("res.show(")  # above the list of sections
    report = res.report_path.read_text(encoding="utf-8")
    assert report.index("NO DATA") < report.index('<h2 id="Host"')  # in the header, on top
    assert "no host named 'WKSTN-42x' in this data source (closest: WKSTN-042" in report
    assert "NO DATA" in outputs_text(res, "host")  # and where the host was looked for
    # Every section still renders, saying why it is empty.
    assert "no single host selected" in outputs_text(res, "host")


def test_a_host_with_no_records_in_the_range_is_no_data(demo_db, out, pool):
    res = nbcatalog.run(
        "host_summary",
        host="WKSTN-042",
        start="2001-01-01",
        end="2001-01-08",
        data_source=f"duckdb:{demo_db}",
        output_dir=out / "old",
        silent=True,
        quiet=True,
        pool=pool,
    )
    assert res.status == "no_data"
    assert res.reason.startswith("no records of WKSTN-042 in 2001-01-01 00:00 to 2001-01-08")
    assert res["host_matches"]["HostName"].tolist() == ["WKSTN-042"]  # it exists, though


# -------------------------------------------------------------- msticpy LocalData


@pytest.fixture(scope="module")
def localdata(tmp_path_factory, demo_source) -> Path:
    """A LocalData workspace as msticnb's tests keep one: query results saved as pickles."""
    folder = tmp_path_factory.mktemp("localdata")
    data = folder / "data"
    data.mkdir()
    ever = {
        "start": pd.Timestamp("2000-01-01", tz="UTC"),
        "end": pd.Timestamp.now(tz="UTC") + pd.Timedelta("1d"),
    }
    hosts = ["WKSTN-042", "WKSTN-041", "WIN-DC01"]
    for query, file in (
        ("WindowsSecurity.list_host_logons", "host_logons.pkl"),
        ("WindowsSecurity.list_host_processes", "processes_on_host.pkl"),
    ):
        frames = [demo_source.query(query, host_name=h, **ever) for h in hosts]
        pd.concat(frames, ignore_index=True).to_pickle(data / file)
    # msticpy 3.0.2's LocalData driver checks DataProviders.LocalData but reads its
    # paths from a top-level LocalData key: both are written.
    config = folder / "msticpyconfig.yaml"
    config.write_text(
        f"DataProviders:\n  LocalData:\n    data_paths:\n      - {data}\n"
        f"LocalData:\n  data_paths:\n    - {data}\n",
        encoding="utf-8",
    )
    return config


def test_localdata_finds_the_host_from_its_logons_and_processes(localdata, monkeypatch, out):
    monkeypatch.setenv("MSTICPYCONFIG", str(localdata))
    monkeypatch.chdir(localdata.parent)
    settings = {
        "data_source": "msticpy:LocalData",
        "output_dir": out / "localdata",
        "silent": True,
        "quiet": True,
        "fresh_kernel": True,  # a kernel that starts with MSTICPYCONFIG set
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = nbcatalog.run("host_summary", host="wkstn-042", **settings)
        nosuch = nbcatalog.run("host_summary", host="WKSTN-999", **settings)
    # There is no Heartbeat in LocalData: the host comes from host_logons.pkl.
    assert res.status == "ok", res.reason
    assert res["host_matches"]["HostName"].tolist() == ["WKSTN-042"]
    assert res["host_activity"]["Rows"].sum() > 0
    assert len(res["notable_processes"]) > 0  # from processes_on_host.pkl
    assert "no query Network.get_heartbeat_for_host" in outputs_text(res, "host")
    assert nosuch.status == "no_data"
    assert nosuch.no_data["closest"] == ["WKSTN-042", "WKSTN-041"]
    assert nosuch.reason == (
        "no host named 'WKSTN-999' in this data source (closest: WKSTN-042, WKSTN-041)"
    )
