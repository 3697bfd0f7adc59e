"""msticpy's own QueryProvider("NBCatalog") in a fresh Python, with no nbcatalog helper.

The child process imports only msticpy: its plugin loader finds the driver through
the msticpyconfig.yaml lines `nbcatalog data msticpy-config` prints, and its query
reader the query files beside it. Expected rows are counted on the same store with
DuckDB directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pytest
from click.testing import CliRunner
from nbcatalog.cli.main import main

from nbcatalog.data.msticpy_driver import PLUGIN_FOLDER, query_file_texts

_CHILD = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import msticpy
msticpy.load_plugins([])                       # PluginFolders from msticpyconfig.yaml
qp = msticpy.QueryProvider("NBCatalog")
qp.connect()
window = {"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
logons = qp.WindowsSecurity.list_host_logons(host_name=sys.argv[1], **window)
hostile = qp.WindowsSecurity.list_host_logons(host_name="x' OR '1'='1", **window)
alerts = qp.SecurityAlert.list_alerts(**window)
print("@@" + json.dumps({
    "logons": len(logons), "computers": sorted(set(logons["Computer"])),
    "hostile": len(hostile), "alerts": len(alerts),
    "families": sorted(q.split(".")[0] for q in qp.list_queries()),
}))
"""


def _config_text() -> str:
    result = CliRunner().invoke(main, ["data", "msticpy-config"])
    assert result.exit_code == 0
    return result.output


def test_query_files_in_the_plugin_folder_match_the_library():
    shipped = {p.name: p.read_text(encoding="utf-8") for p in PLUGIN_FOLDER.glob("*.yaml")}
    assert shipped == query_file_texts(), (
        "regenerate with nbcatalog.data.msticpy_driver.write_query_files()"
    )


@pytest.fixture(scope="module")
def child_run(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mpcfg")
    config = folder / "msticpyconfig.yaml"
    # The printed lines as a user pastes them, with the optional store setting filled in.
    lines = [ln for ln in _config_text().splitlines() if not ln.startswith("#")]
    text = "\n".join(lines) + "\nDataProviders:\n  NBCatalog:\n    Args:\n"
    text += f"      db_path: {json.dumps(str(demo_db))}\n"
    config.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBCATALOG")}
    env["MSTICPYCONFIG"] = str(config)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, "WKSTN-042"],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.rpartition("@@")[2]), text


def test_fresh_python_queries_the_store_through_msticpy(child_run, demo_db):
    got, config = child_run
    assert str(PLUGIN_FOLDER) in config
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        alerts = con.execute('SELECT count(*) FROM "SecurityAlert"').fetchone()[0]
        logon_events = con.execute(
            'SELECT count(*) FROM "SecurityEvent" WHERE EventID = 4624 AND '
            "(Computer = 'WKSTN-042' OR Computer ILIKE 'WKSTN-042.%')"
        ).fetchone()[0]
    finally:
        con.close()
    assert got["alerts"] == alerts > 0
    assert got["logons"] == logon_events > 0
    assert got["computers"] and all(c.upper().startswith("WKSTN-042") for c in got["computers"])
    assert got["hostile"] == 0
    assert {"SecurityAlert", "WindowsSecurity", "ThreatIntelligence"} <= set(got["families"])


def test_snippet_names_an_existing_plugin_module():
    assert (PLUGIN_FOLDER / "nbcatalog_msticpy.py").is_file()
    assert "PluginFolders:" in _config_text() and "QueryDefinitions:" in _config_text()
