"""msticpy's column names <-> the Sentinel tables' own (nbcatalog.data.columnmap).

The pairs are checked against msticpy's installed query files, so a rename
msticpy makes that the map lacks (or gets wrong) fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import msticpy
import pandas as pd
import pytest

import nbcatalog
from nbcatalog.data.columnmap import COMMON, RENAMES, to_sentinel, with_both_names
from nbcatalog.data.schema import TABLES

QUERIES = Path(msticpy.__file__).parent / "data" / "queries" / "mssentinel"


def _assignments(text: str) -> dict[str, str]:
    """`New = Old` pairs of KQL project / project-rename / extend clauses (plain renames)."""
    return dict(re.findall(r"\b([A-Za-z]\w*)\s*=\s*([A-Za-z]\w*)\s*(?=[,'\"\n|])", text))


def test_every_plain_rename_in_msticpys_alert_and_flow_queries_is_mapped():
    alert = _assignments((QUERIES / "kql_sent_alert.yaml").read_text())
    flows = _assignments((QUERIES / "kql_sent_net.yaml").read_text())
    flows |= _assignments((QUERIES / "kql_sent_az_network.yaml").read_text())
    for query_names, table in ((alert, "SecurityAlert"), (flows, "AzureNetworkAnalytics_CL")):
        renames = {
            new: old
            for new, old in query_names.items()
            if old in TABLES[table].column_names and new not in TABLES[table].column_names
        }
        assert renames, table
        for new, old in renames.items():
            assert RENAMES[table].get(new) == old, (table, new, old)
    assert {"StartTimeUtc", "EndTimeUtc", "AlertDisplayName", "Severity"} <= set(alert)


def test_time_created_utc_is_msticpys_copy_of_time_generated():
    text = (QUERIES / "kql_sent_winevent_logon.yaml").read_text()
    assert "extend TimeCreatedUtc=TimeGenerated" in text
    assert COMMON == {"TimeCreatedUtc": "TimeGenerated"}


def test_mapping_targets_are_real_columns_and_own_names_win():
    for table, pairs in RENAMES.items():
        assert set(pairs.values()) <= set(TABLES[table].column_names), table
    both = pd.DataFrame({"Severity": ["Low"], "AlertSeverity": ["High"], "AlertName": ["x"]})
    mapped = to_sentinel(both, "SecurityAlert")
    assert mapped.renamed == {} and mapped.frame["AlertSeverity"].tolist() == ["High"]


def test_with_both_names_adds_the_missing_name_and_removes_nothing():
    raw = pd.DataFrame(
        {"TimeGenerated": [pd.Timestamp("2026-11-27T10:00Z")], "SrcIP_s": ["10.0.0.5"],
         "DestIP_s": ["192.0.2.66"], "FlowDirection_s": ["O"]}
    )  # fmt: skip
    out = with_both_names(raw)
    assert list(out.columns[: len(raw.columns)]) == list(raw.columns)
    assert out["SrcIP"].tolist() == ["10.0.0.5"] and out["FlowDirection"].tolist() == ["O"]
    logons = pd.DataFrame({"TimeCreatedUtc": [pd.Timestamp("2026-11-27T10:00Z")], "EventID": [1]})
    assert with_both_names(logons)["TimeGenerated"].tolist() == logons["TimeCreatedUtc"].tolist()
    plain = pd.DataFrame({"Computer": ["WKSTN-042"], "EventID": [4624]})
    assert with_both_names(plain) is plain


@pytest.mark.slow
def test_sentinel_named_flows_passed_as_data_reach_the_flow_notebooklet(tmp_path):
    # Rows as a Log Analytics export of AzureNetworkAnalytics_CL names them.
    flows = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(["2026-11-27T10:10Z", "2026-11-27T10:20Z"]),
            "FlowStartTime_t": pd.to_datetime(["2026-11-27T10:00Z", "2026-11-27T10:10Z"]),
            "SrcIP_s": ["10.0.1.42", "198.51.100.23"],
            "DestIP_s": ["203.0.113.77", "10.0.1.42"],
            "FlowDirection_s": ["O", "I"],
            "L4Protocol_s": ["T", "T"],
            "L7Protocol_s": ["https", "rdp"],
            "DestPort_d": [443.0, 3389.0],
            "AllowedOutFlows_d": [2.0, 0.0],
            "AllowedInFlows_d": [0.0, 7.0],
        }
    )
    from nbcatalog.data.store import Store

    db = tmp_path / "empty.duckdb"
    Store.open(db).close()
    res = nbcatalog.run(
        "network_flow_summary",
        data=flows,
        ip="10.0.1.42",
        options=["-geo", "-geo_map", "-ti"],
        data_source=f"duckdb:{db}",
        start="2026-11-27T00:00:00Z",
        end="2026-11-28T00:00:00Z",
        output_dir=tmp_path / "out",
        silent=True,
        quiet=True,
    )
    assert res.status == "ok"
    got = res.network_flows.sort_values("FlowTime")
    assert got["RemoteIP"].tolist() == ["203.0.113.77", "198.51.100.23"]
    assert got["Direction"].tolist() == ["outbound", "inbound"]
    assert got["Flows"].tolist() == [2, 7]
