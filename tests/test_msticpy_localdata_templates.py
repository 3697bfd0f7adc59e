"""Every built-in notebooklet on msticpy LocalData pickles made from the demo store.

`nbcatalog data localdata` writes the demo store in msticnb's pickle layout; each
template then runs through the real CLI with ``--source msticpy:LocalData``. A run
ends ok or no_data (LocalData serves nine queries; a notebooklet whose queries it
lacks says so), never failed, and never shows another host's rows: LocalData files
hold every host, and the answer must still be about the host asked for.
"""

from __future__ import annotations

import json

import pytest
from helpers.localdata import clean_env, export_store, run_on_localdata, write_config

from nbcatalog.catalog import catalog

pytestmark = pytest.mark.slow
ARGS = {
    "host_summary": ["--host", "WKSTN-042"],
    "host_logons_summary": ["--host", "WKSTN-042"],
    "win_host_events": ["--host", "WKSTN-042"],
    "logon_session_rarity": ["--host", "WKSTN-042"],
    "network_flow_summary": ["--host", "WKSTN-042"],
    "host_network_summary": ["--host", "LNX-WEB01"],
    "account_summary": ["--account", "bob"],
    "ip_summary": ["--ip", "203.0.113.77"],
    "url_summary": ["--url", "http://malicious.example/payload.ps1"],
    "alert_ti_enrich": [],
}
# Their data is in LocalData's files and LocalData serves the queries they need.
MUST_BE_OK = {
    "host_summary",
    "network_flow_summary",
    "logon_session_rarity",
    "host_network_summary",
}


@pytest.fixture(scope="module")
def runs(demo_db, tmp_path_factory):
    root = tmp_path_factory.mktemp("ldruns")
    data = export_store(demo_db, root / "pickles")
    # msticpy's documented form only; the runs start in a folder without the pickles,
    # so msticpy's fallback (the working directory) cannot find them by chance.
    config = write_config(root / "msticpyconfig.yaml", data, "documented")
    work = root / "work"
    work.mkdir()
    env = clean_env("NBCATALOG")
    env["MSTICPYCONFIG"] = str(config)
    out = {}
    for name, args in ARGS.items():
        done = run_on_localdata(
            name, *args, "--json", "--last", "30d", output=root / "out", env=env, cwd=work
        )
        out[name] = (done.returncode, done.stdout, done.stderr)
    return out


def test_every_built_in_template_is_covered():
    assert sorted(ARGS) == sorted(t.name for t in catalog())


@pytest.mark.parametrize("name", sorted(ARGS))
def test_template_runs_on_localdata_and_says_what_it_found(runs, name):
    code, stdout, stderr = runs[name]
    assert code == 0, stderr[-2000:]
    summary = json.loads(stdout)
    assert summary["status"] in ("ok", "no_data")
    if name in MUST_BE_OK:
        assert summary["status"] == "ok", summary.get("no_data")
    if summary["status"] == "no_data":
        assert summary["no_data"]["reason"]


@pytest.mark.parametrize("name", sorted(n for n, a in ARGS.items() if a[:1] == ["--host"]))
def test_host_templates_show_only_that_hosts_rows(runs, name):
    from nbcatalog.batch import results_from_run_dir

    host = ARGS[name][1]
    summary = json.loads(runs[name][1])
    res = results_from_run_dir(summary["run_dir"])
    checked = 0
    for result, frame in res.data.items():
        if not hasattr(frame, "columns") or frame.empty:
            continue
        for column in ("Computer", "VMName"):
            if column in frame.columns:
                hosts = {str(v).rpartition("/")[2].split(".")[0].upper() for v in frame[column]}
                hosts.discard("NONE")
                hosts.discard("")
                assert hosts <= {host}, (result, column, sorted(hosts)[:5])
                checked += 1
        # Connection tables name the host by its own addresses (host_network_summary).
        addresses = res["host_addresses"] if "host_addresses" in res.data else None
        if "LocalIP" in frame.columns and addresses:
            local = set(frame["LocalIP"].dropna().astype(str)) - {""}
            assert local <= set(addresses), (result, sorted(local - set(addresses))[:5])
            checked += 1
    if summary["status"] == "ok":
        assert checked, "an ok run with no host column to check"


def test_host_network_summary_finds_the_beacon_in_localdatas_flow_file(runs):
    summary = json.loads(runs["host_network_summary"][1])
    keys = {f["key"]: f for f in summary["findings"]}
    assert keys["beacon:192.0.2.66:4444"]["severity"] == "high"  # planted_network.py's C2
