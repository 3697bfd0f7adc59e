"""Zeek conn logs (TSV and JSON, every key style, gzipped) into AzureNetworkAnalytics_CL.

Line shapes follow Zeek's own writers (ASCII TSV with its header and footer; JSON
with dotted keys, as `LogAscii::use_json` writes them), the json-streaming-logs
package (`_path`, `_write_ts`) and the Zeek-to-JSON pipelines of research datasets
(flattened `id_orig_h` keys, `@stream` / `@system` / `@proc`); hosts, addresses
and counts are ours.
"""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import datetime, timezone

import pandas as pd
import pytest
from helpers.store_sql import table

from nbcatalog.data.importers import ImportFormatError, import_paths
from nbcatalog.data.importers.detect import detect_format

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
    with pytest.raises(ImportFormatError, match="a Zeek dns log .*Supported: Zeek conn logs"):
        import_paths([path], db=db)
    assert not db.exists()


# ----------------------------------------------------------- every layout, same rows

CONNS = [  # orig, orig port, resp, resp port, proto, service, duration, bytes, pkts, local_orig
    ("10.0.1.5", 51000, "192.0.2.66", 4444, "tcp", None, 30.5, 1200, 98000, 20, 80, True),
    ("203.0.113.77", 40000, "10.0.0.42", 3389, "tcp", None, None, None, None, 1, 0, False),
    ("10.0.1.5", 53000, "10.0.0.2", 53, "udp", "dns", 0.01, 40, 80, 1, 1, None),
    ("10.0.1.7", 49152, "198.51.100.20", 443, "tcp", "ssl", 2.25, 517, 4410, 9, 8, None),
]
T0 = 1764237600.25  # 2025-11-27 10:00:00.25 UTC


def _records() -> list[dict]:
    """The connections as Zeek's JSON writer emits them (unset fields left out)."""
    out = []
    for i, (oh, op, rh, rp, proto, service, dur, ob, rb, opk, rpk, lo) in enumerate(CONNS):
        rec = {"ts": T0 + 61 * i, "uid": f"CZ{i}x", "id.orig_h": oh, "id.orig_p": op,
               "id.resp_h": rh, "id.resp_p": rp, "proto": proto, "service": service,
               "duration": dur, "orig_bytes": ob, "resp_bytes": rb, "conn_state": "SF",
               "local_orig": lo, "missed_bytes": 0, "history": "ShADadFf",
               "orig_pkts": opk, "resp_pkts": rpk, "tunnel_parents": []}  # fmt: skip
        out.append({k: v for k, v in rec.items() if v is not None})
    return out


def _flattened(rec: dict) -> dict:
    """A research-dataset pipeline's record: flat id keys and its own @ fields first."""
    flat = {"@stream": "conn", "@system": "sensor01.example.lan", "@proc": "zeek"}
    flat.update({k.replace("id.", "id_"): v for k, v in rec.items()})
    return flat


def _streaming(rec: dict) -> dict:
    """json-streaming-logs: _path / _write_ts, ts in ISO 8601."""
    iso = datetime.fromtimestamp(rec["ts"], tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"_path": "conn", "_write_ts": iso, **rec, "ts": iso}


def _nested(rec: dict) -> dict:
    """A pipeline that nests the connection id, with ts as an epoch string."""
    ident = {k[3:]: rec[k] for k in rec if k.startswith("id.")}
    rest = {k: v for k, v in rec.items() if not k.startswith("id.")}
    return {**rest, "ts": f"{rec['ts']:.6f}", "id": ident, "@timestamp": "2025-11-27T10:05:00Z"}


def _tsv(records: list[dict]) -> str:
    def value(rec: dict, name: str) -> str:
        if name not in rec:
            return "-"
        v = rec[name]
        if isinstance(v, bool):
            return "T" if v else "F"
        if isinstance(v, list):
            return ",".join(v) if v else "(empty)"
        return f"{v:.6f}" if name == "ts" else str(v)

    body = ["\t".join(value(rec, name) for name in FIELDS) for rec in records]
    return HEADER + "\n" + "\n".join(body) + "\n#close\t2025-11-27-11-00-00\n"


def _layouts(tmp_path) -> dict[str, object]:
    recs = _records()
    jsonl = {
        "dotted.json": [json.dumps(r) for r in recs],
        "flattened.json": [json.dumps(_flattened(r)) for r in recs],
        "streaming.json": [json.dumps(_streaming(r)) for r in recs],
        "nested.json": [json.dumps(_nested(r)) for r in recs],
    }
    paths = {}
    for name, lines in jsonl.items():
        paths[name] = tmp_path / name
        paths[name].write_text("\n".join(lines) + "\n")
    paths["conn.log"] = tmp_path / "conn.log"
    paths["conn.log"].write_text(_tsv(recs))
    for name in ("conn.log", "flattened.json"):
        packed = tmp_path / f"{name}.gz"
        packed.write_bytes(gzip.compress(paths[name].read_bytes()))
        paths[f"{name}.gz"] = packed
    return paths


def test_every_zeek_layout_is_detected_and_stores_the_same_rows(tmp_path):
    frames = {}
    for name, path in _layouts(tmp_path).items():
        db = tmp_path / f"{name}.duckdb"
        f = import_paths([path], db=db).files[0]  # auto-detected: no --format
        assert f.format == "zeek", name
        assert (f.rows_read, f.rows_stored, f.rows_rejected) == (4, 4, 0), (name, f.summary())
        frames[name] = table(db, 'SELECT * FROM AzureNetworkAnalytics_CL ORDER BY "TimeGenerated"')
    reference = frames.pop("dotted.json")
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, reference, obj=name)

    # What each row says, from the records themselves.
    assert reference["TimeGenerated"].tolist() == [
        pd.Timestamp(T0 + 61 * i, unit="s", tz="UTC") for i in range(4)
    ]
    assert list(zip(reference["SrcIP_s"], reference["DestIP_s"], reference["DestPort_d"],
                    strict=True)) == [(c[0], c[2], c[3]) for c in CONNS]  # fmt: skip
    ssl = reference.iloc[3]  # no local_orig: 10.0.1.7 is the private side, so outbound
    assert (ssl["FlowDirection_s"], ssl["VMIP_s"], ssl["L7Protocol_s"]) == ("O", "10.0.1.7", "ssl")
    assert (ssl["OutboundBytes_d"], ssl["InboundBytes_d"]) == (517, 4410)
    assert ssl["FlowEndTime_t"] == pd.Timestamp(T0 + 61 * 3 + 2.25, unit="s", tz="UTC")
    assert reference.iloc[1]["FlowDirection_s"] == "I"  # local_orig F


def test_detection_on_the_first_line_of_each_layout(tmp_path):
    for name, path in _layouts(tmp_path).items():
        head = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
        assert detect_format(path, head[:4096]) == "zeek", name


def test_forced_format_reads_flattened_keys(tmp_path, db):
    path = _layouts(tmp_path)["flattened.json"]
    f = import_paths([path], db=db, format="zeek").files[0]
    assert (f.rows_stored, f.rows_rejected) == (4, 0)


def test_other_kinds_of_zeek_json_are_refused_naming_the_kind(tmp_path, db):
    dns = {
        "_path": "dns",
        "_write_ts": "2025-11-27T10:00:01.000000Z",
        "ts": T0,
        "uid": "CD1",
        "id.orig_h": "10.0.1.5",
        "id.orig_p": 53000,
        "id.resp_h": "10.0.0.2",
        "id.resp_p": 53,
        "proto": "udp",
        "trans_id": 4711,
        "query": "updates.example.org",
        "qtype_name": "A",
    }
    http = {
        "ts": T0,
        "uid": "CH1",
        "id_orig_h": "10.0.1.5",
        "id_orig_p": 51001,
        "id_resp_h": "198.51.100.20",
        "id_resp_p": 80,
        "trans_depth": 1,
        "method": "GET",
        "host": "198.51.100.20",
        "uri": "/<script>alert(1)</script>",
        "status_code": 200,
    }
    files = {"@stream": "files", "@proc": "zeek", "ts": T0, "fuid": "FF1",
             "mime_type": "application/x-dosexec", "seen_bytes": 73802}  # fmt: skip
    for name, record, kind in (("dns.json", dns, "dns"), ("http.json", http, "http"),
                               ("files.json", files, "files")):  # fmt: skip
        path = tmp_path / name
        path.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
        with pytest.raises(ImportFormatError) as caught:
            import_paths([path], db=db)
        message = str(caught.value)
        assert f"Zeek log of another kind: {kind} (2 records)" in message, message
        assert "Supported: Zeek conn logs" in message.replace("supported", "Supported")
    assert not db.exists()

    tsv = tmp_path / "http.log"  # a TSV log without #path: its #fields tell
    tsv.write_text("#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\t"
                   "id.resp_p\ttrans_depth\tmethod\turi\n")  # fmt: skip
    with pytest.raises(ImportFormatError, match="a Zeek http log"):
        import_paths([tsv], db=db)


def test_a_stream_mixing_kinds_keeps_the_connections_and_names_the_rest(tmp_path, db):
    conn = [_flattened(r) for r in _records()]
    dns = {"@stream": "dns", "@system": "sensor01.example.lan", "@proc": "zeek", "ts": T0,
           "uid": "CD1", "id_orig_h": "10.0.1.5", "id_orig_p": 53000, "id_resp_h": "10.0.0.2",
           "id_resp_p": 53, "proto": "udp", "query": "example.org"}  # fmt: skip
    path = tmp_path / "all-streams.json"
    path.write_text("\n".join(json.dumps(x) for x in [conn[0], dns, *conn[1:]]) + "\n")
    f = import_paths([path], db=db).files[0]
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (5, 4, 1)
    assert f.rejections[0].line == 2 and "a Zeek dns record" in f.rejections[0].reason


def test_gzipped_conn_log_cut_short_keeps_the_lines_before_the_cut(tmp_path, db):
    recs = [dict(r, uid=f"CG{i}{j}") for j in range(400) for i, r in enumerate(_records())]
    whole = ("\n".join(json.dumps(_flattened(r)) for r in recs) + "\n").encode()
    packed = gzip.compress(whole)
    path = tmp_path / "conn.03:00:00-04:00:00.log.gz"
    cut = packed[: len(packed) * 2 // 3]
    path.write_bytes(cut)
    whole_lines = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut).count(b"\n")
    assert 0 < whole_lines < len(recs)
    f = import_paths([path], db=db).files[0]
    assert f.format == "zeek"
    assert f.rows_stored == whole_lines  # every whole line, and not the one cut in half
    assert table(db, "SELECT count(*) AS n FROM AzureNetworkAnalytics_CL")["n"][0] == whole_lines
    assert f.rows_rejected == 1 and "gzip file is cut short" in f.rejections[0].reason
    assert f"everything after line {whole_lines} is lost" in f.rejections[0].reason
