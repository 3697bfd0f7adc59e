"""A msticpy workspace whose schema is not known yet is asked, not declared empty.

msticpy learns a Sentinel workspace's tables when it connects, which nbcatalog does
on the first query. Before that its schema is empty, and nbcatalog read the empty
list as "no tables": every query was answered "no SecurityEvent table in this data
source" without being sent, so every notebooklet on a real workspace would end
no_data for tables the workspace has. Here a real MSSentinel provider, with a config
naming no workspace (so nothing is sent anywhere), must be asked: it fails to
connect, and that failure is what the analyst is told.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from nbcatalog.data.source import MsticpySource
from nbcatalog.errors import DataSourceError
from nbcatalog.nblib.queries import has_table, run_query


@pytest.fixture
def sentinel(monkeypatch, tmp_path):
    from msticpy.common import pkg_config

    config = tmp_path / "msticpyconfig.yaml"
    config.write_text("AzureSentinel:\n  Workspaces: {}\n", encoding="utf-8")
    monkeypatch.setenv("MSTICPYCONFIG", str(config))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pkg_config.refresh_config()
        source = MsticpySource("MSSentinel")
    yield source
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pkg_config.refresh_config()


def test_an_unconnected_workspace_cannot_say_which_tables_it_has(sentinel):
    assert not sentinel.provider.connected
    with pytest.raises(DataSourceError, match="lists no schema before it connects"):
        sentinel.tables()
    for table in ("Heartbeat", "SecurityEvent", "CommonSecurityLog"):
        assert has_table(sentinel, table) is None  # unknown, not absent


def test_a_query_on_it_is_sent_and_its_connection_error_reported(sentinel):
    start = pd.Timestamp("2024-05-01", tz="UTC")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataSourceError, match="cannot connect to msticpy MSSentinel"):
            run_query(
                sentinel,
                "Network.get_heartbeat_for_host",
                host_name="WKSTN-042",
                start=start,
                end=start + pd.Timedelta(days=1),
            )
