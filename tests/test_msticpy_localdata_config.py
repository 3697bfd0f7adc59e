"""msticpy LocalData reads the folders msticpyconfig.yaml names, whichever form names them.

msticpy 3.0.2's LocalData driver reads ``LocalData.data_paths`` only when
``DataProviders.LocalData`` exists too; with one of the two forms it silently read the
working directory, and `nbcatalog run host-network-summary --source msticpy:LocalData`
said no_data. Here the working directory never holds the pickles, so a run can only
find them through the config.
"""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from helpers.localdata import (
    FORMS,
    clean_env,
    config_text,
    export_store,
    localdata_source,
    run_on_localdata,
    write_config,
)

from nbcatalog.data.source import localdata_paths

T0 = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
C2, C2_PORT = "192.0.2.66", 4444  # the demo estate's beacon (planted_network.py)


@pytest.fixture
def msticpy_config(monkeypatch, tmp_path):
    """Write a msticpyconfig.yaml, point msticpy at it; msticpy's own config comes back after."""
    from msticpy.common import pkg_config

    def use(text: str) -> Path:
        config = tmp_path / "msticpyconfig.yaml"
        config.write_text(text, encoding="utf-8")
        monkeypatch.setenv("MSTICPYCONFIG", str(config))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pkg_config.refresh_config()
        return config

    yield use
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pkg_config.refresh_config()


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_config_form_gives_the_configured_folder(form, msticpy_config, tmp_path, monkeypatch):
    data = tmp_path / "pickles"
    data.mkdir()
    rows = pd.DataFrame(
        {
            "TimeGenerated": [T0, T0 + timedelta(hours=1), T0],
            "Computer": ["WKSTN-042", "WKSTN-042", "WIN-DC01"],
            "EventID": [4688, 4688, 4688],
        }
    )
    rows.to_pickle(data / "processes_on_host.pkl")
    msticpy_config(config_text(data, form))
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    monkeypatch.chdir(empty)  # msticpy's fallback folder: nothing to find there
    assert localdata_paths() == [str(data)]
    got = localdata_source().query(
        "WindowsSecurity.list_host_processes",
        host_name="WKSTN-042",
        start=T0 - timedelta(days=1),
        end=T0 + timedelta(days=1),
    )
    assert len(got) == 2 and set(got["Computer"]) == {"WKSTN-042"}


def test_home_folder_is_expanded_and_an_unset_path_is_none(msticpy_config, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    msticpy_config("LocalData:\n  data_paths:\n    - ~/ld\n")
    assert localdata_paths() == [str(tmp_path / "ld")]
    msticpy_config("DataProviders:\n  LocalData: {}\n")
    assert localdata_paths() is None  # msticpy's own default (the working directory) applies


@pytest.mark.slow
def test_cli_host_network_summary_reads_localdata_from_a_config_in_the_working_dir(
    demo_db, tmp_path
):
    """The reported gap: config in the working directory, top-level form, pickles elsewhere."""
    data = export_store(demo_db, tmp_path / "store-pickles")
    work = tmp_path / "work"
    work.mkdir()
    write_config(work / "msticpyconfig.yaml", data, "top-level")
    env = clean_env("NBCATALOG", "MSTICPY")
    env["HOME"] = str(tmp_path / "home")  # no ~/msticpyconfig.yaml of the user's
    done = run_on_localdata(
        *("host-network-summary", "--host", "LNX-WEB01", "--json", "--last", "30d"),
        output=tmp_path / "out",
        env=env,
        cwd=work,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["status"] == "ok", summary.get("no_data")
    # Only the NSG flow file holds connections in LocalData, and it holds the beacon.
    assert summary["results"]["connections"]["rows"] > 0
    keys = {f["key"]: f for f in summary["findings"]}
    assert keys[f"beacon:{C2}:{C2_PORT}"]["severity"] == "high"


def test_a_folder_without_data_files_is_refused_naming_where_it_looked(msticpy_config, tmp_path):
    from nbcatalog.errors import DataSourceError

    empty = tmp_path / "no-pickles"
    empty.mkdir()
    (empty / "notes.txt").write_text("not data", encoding="utf-8")
    msticpy_config(config_text(empty))
    with pytest.raises(DataSourceError) as caught:
        localdata_source()
    message = str(caught.value)
    assert str(empty) in message and "DataProviders: LocalData: data_paths" in message


@pytest.mark.slow
def test_cli_run_without_any_localdata_config_fails_saying_why(tmp_path):
    """No config and no pickles where it runs: a failed run naming the fix, not a no_data
    run blaming absent tables."""
    work = tmp_path / "work"
    work.mkdir()
    env = clean_env("NBCATALOG", "MSTICPY")
    env["HOME"] = str(tmp_path / "home")
    done = run_on_localdata(
        "host-network-summary", "--host", "LNX-WEB01", output=tmp_path / "out", env=env, cwd=work
    )
    assert done.returncode == 1, (done.stdout[-1000:], done.stderr[-2000:])
    assert f"found no data files (*.pkl, *.csv) in {work}" in done.stderr
    assert "no_data" not in done.stdout
