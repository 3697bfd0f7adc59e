"""Zeek conn.log (TSV and JSON) into the flow table AzureNetworkAnalytics_CL."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers.store_sql import table

from nbcatalog.data.importers import ImportFormatError, import_paths

FIELDS = (
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes "
    "resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes "
    "resp_pkts resp_ip_bytes tunnel_parents"
).split()
HEADER = "\n".join(
    [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#open\t2026-11-27-10-00-00",
        "#fields\t" + "\t".join(FIELDS),
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\t"
        "string\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]",
    ]
)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "store.duckdb"


def test_conn_log_tsv_round_trip(tmp_path, db):
    rows = [
        "1764237600.250000\tC1\t10.0.1.5\t51000\t192.0.2.66\t4444\ttcp\t-\t30.5\t1200\t"
        "98000\tSF\tT\tF\t0\tShADadFf\t20\t2000\t80\t102000\t-",
        "1764237700.000000\tC2\t203.0.113.77\t40000\t10.0.0.42\t3389\ttcp\t(empty)\t-\t-\t-\t"
        "S0\t-\t-\t0\tS\t1\t60\t0\t0\t-",
        "1764237800.0\tC3\t10.0.1.5\t53000\t10.0.0.2\t53\tudp\tdns\t0.01\t40\t80\tSF\tT\tT\t0"
        "\tDd\t1\t68\t1\t108\t-",
        "1764237900.0\tC4\ttoo\tfew",
        "not-a-time\tC5\t10.0.1.5\t1\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\tS0\tT\tT\t0\tS\t1\t1\t0\t0\t-",
    ]
    path = tmp_path / "conn.log"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n#close\t2026-11-27-11-00-00\n")
    f = import_paths([path], db=db).files[0]
    assert f.format == "zeek"
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (5, 3, 2)
    assert [r.line for r in f.rejections] == [12, 13]
    flows = table(db, 'SELECT * FROM AzureNetworkAnalytics_CL ORDER BY "TimeGenerated"')
    c2 = flows.iloc[0]
    assert c2["TimeGenerated"] == pd.Timestamp("2025-11-27T10:00:00.25Z")
    assert c2["FlowEndTime_t"] == pd.Timestamp("2025-11-27T10:00:30.75Z")
    assert (c2["SrcIP_s"], c2["DestIP_s"], c2["DestPort_d"]) == ("10.0.1.5", "192.0.2.66", 4444)
    assert (c2["FlowDirection_s"], c2["VMIP_s"], c2["L4Protocol_s"]) == ("O", "10.0.1.5", "T")
    assert (c2["OutboundBytes_d"], c2["InboundBytes_d"]) == (1200, 98000)
    assert c2["DestPublicIPs_s"] == "192.0.2.66" and c2["PublicIPs_s"].startswith("192.0.2.66|")
    assert c2["FlowType_s"] == "ExternalPublic" and c2["AllowedOutFlows_d"] == 1
    rdp = flows.iloc[1]
    assert (rdp["FlowDirection_s"], rdp["VMIP_s"], rdp["SrcPublicIPs_s"]) == (
        "I", "10.0.0.42", "203.0.113.77")  # fmt: skip
    assert pd.isna(rdp["L7Protocol_s"]) and pd.isna(rdp["OutboundBytes_d"])
    dns = flows.iloc[2]
    assert (dns["L4Protocol_s"], dns["L7Protocol_s"], dns["FlowType_s"]) == (
        "U",
        "dns",
        "IntraVNet",
    )


def test_conn_log_json_lines(tmp_path, db):
    record = {
        "ts": "2026-11-27T10:00:00.000000Z",
        "uid": "CJ1",
        "id.orig_h": "10.0.1.5",
        "id.orig_p": 51000,
        "id.resp_h": "192.0.2.66",
        "id.resp_p": 4444,
        "proto": "tcp",
        "duration": 2.0,
        "orig_bytes": 10,
        "resp_bytes": 20,
        "local_orig": True,
    }
    epoch = dict(record, ts=1764237600.0, uid="CJ2", **{"id.resp_p": "not-a-port"})
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(record) + "\n" + json.dumps(epoch) + "\n{broken\n")
    f = import_paths([path], db=db).files[0]
    assert f.format == "zeek"
    assert (f.rows_stored, f.rows_rejected) == (1, 2)
    assert "DestPort_d" in f.rejections[0].reason or "DestPort_d" in f.rejections[1].reason
    flow = table(db, "SELECT * FROM AzureNetworkAnalytics_CL").iloc[0]
    assert flow["FlowEndTime_t"] == pd.Timestamp("2026-11-27T10:00:02Z")
    assert flow["FlowDirection_s"] == "O"


def test_other_zeek_logs_are_refused(tmp_path, db):
    path = tmp_path / "dns.log"
    path.write_text(HEADER.replace("#path\tconn", "#path\tdns") + "\n")
    with pytest.raises(ImportFormatError, match="only conn.log"):
        import_paths([path], db=db)
    assert not db.exists()
