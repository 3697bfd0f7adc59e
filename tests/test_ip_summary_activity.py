"""nblib.ipactivity on its own (no kernel): which path CommonSecurityLog takes on a
workspace and on the store, and how absent data reads.

The workspace is a stand-in object answering msticpy's query names (as MsticpySource
does); the store is a real DuckDB file with Sentinel's CommonSecurityLog columns.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from nbcatalog.data.source import DataSource
from nbcatalog.nblib import ipactivity
from nbcatalog.nblib.investigation import Investigation

IP = "192.0.2.66"
START, END = pd.Timestamp("2024-05-01", tz="UTC"), pd.Timestamp("2024-05-02", tz="UTC")


class Workspace(DataSource):
    """Answers queries by name, like msticpy; its `sql` raises, as MsticpySource's does."""

    spec = "msticpy:Workspace"

    def __init__(self, frames: dict[str, pd.DataFrame]):
        self.frames = frames
        self.asked: list[tuple[str, dict]] = []

    def list_queries(self) -> pd.DataFrame:
        return pd.DataFrame({"name": list(self.frames)})

    def tables(self) -> list[str]:
        return ["SecurityEvent", "CommonSecurityLog", "AzureActivity", "OfficeActivity"]

    def query(self, name: str, **params):
        self.asked.append((name, params))
        return self.frames[name]


def _inv(source) -> Investigation:
    return Investigation(source, START, END)


def test_a_workspace_runs_msticpys_cef_query_and_gets_directions():
    cef = pd.DataFrame(
        {
            "TimeGenerated": [START] * 3,
            "DeviceVendor": ["Palo Alto Networks"] * 3,
            "SourceIP": ["10.0.0.5", "10.0.0.6", IP],
            "DestinationIP": [IP, IP, "10.0.0.5"],
            "DestinationPort": [4444, 4444, 51000],
            "DeviceAction": ["allow", "deny", "allow"],
            "Activity": ["TRAFFIC"] * 3,
        }
    )
    source = Workspace({"Network.ip_network_connections_csl": cef})
    found = ipactivity.security_log_for_ip(_inv(source), IP)
    assert source.asked == [
        ("Network.ip_network_connections_csl", {"ip_address": IP, "start": START, "end": END})
    ]
    assert list(found.data["Direction"]) == ["to", "to", "from"]
    assert "1 of 3 event(s) blocked or denied" in found.messages()[0]
    summary = ipactivity.security_log_summary(found.data)
    assert summary["Events"].sum() == 3
    inbound = summary[summary["Direction"] == "to"]  # the peer is the sender
    assert sorted(inbound["Peers"]) == ["10.0.0.5", "10.0.0.6"]
    assert set(inbound["Ports"]) == {"4444"} and set(inbound["DeviceAction"]) == {"allow", "deny"}
    outbound = summary[summary["Direction"] == "from"]  # the peer is the destination
    assert outbound[["Peers", "Ports"]].values.tolist() == [["10.0.0.5", "51000"]]


def test_a_store_without_the_table_says_so(tmp_path: Path):
    from nbcatalog.data import connect
    from nbcatalog.data.store import Store

    db = tmp_path / "s.duckdb"
    Store.open(db).close()
    with duckdb.connect(str(db)) as con:  # a store built before the table was added
        con.execute('DROP TABLE "CommonSecurityLog"')
    inv = _inv(connect(f"duckdb:{db}"))
    found = ipactivity.security_log_for_ip(inv, IP)
    assert found.empty and found.missing
    assert found.messages() == ["missing: no CommonSecurityLog table in this data source"]
    # Azure and Office tables are in the schema but empty: a plain "nothing" note.
    azure = ipactivity.azure_activity_from_ip(inv, IP)
    assert azure.empty and not azure.missing
    assert azure.messages()[0].startswith(f"info: no Azure activity called from {IP}")
    accounts = ipactivity.accounts_from_ip(None, azure.data, None, found.data, IP)
    assert accounts.empty and "no account seen from" in accounts.messages()[0]


def test_the_store_search_binds_the_address(tmp_path: Path):
    from nbcatalog.data import connect
    from nbcatalog.data.store import Store

    db = tmp_path / "s.duckdb"
    Store.open(db).close()
    with duckdb.connect(str(db)) as con:
        con.executemany(
            'INSERT INTO "CommonSecurityLog" (TimeGenerated, DeviceVendor, SourceIP, '
            "DestinationIP) VALUES (?, ?, ?, ?)",
            [
                (START, "Fortinet", IP, "10.0.0.5"),
                (START, "Fortinet", f"{IP}' OR '1'='1", "10.0.0.6"),
                (END + pd.Timedelta(days=1), "Fortinet", IP, "10.0.0.7"),  # out of range
            ],
        )
    found = ipactivity.security_log_for_ip(_inv(connect(f"duckdb:{db}")), IP)
    assert list(found.data["DestinationIP"]) == ["10.0.0.5"]
    assert list(found.data["Direction"]) == ["from"]
