"""The real Zeek conn log (OTRF APT29 day 1, SCRANTON): every connection stored, right.

The file is JSON lines as a Zeek-to-JSON pipeline wrote them: flattened keys
(`id_orig_h`), the pipeline's `@stream` / `@system` / `@proc`, no `local_orig`.
Expected figures are computed here with `json` only; then the same records are
written by this test as Zeek TSV (with its `#fields` header), as Zeek's own
dotted-key JSON and gzipped, and must store the same rows.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from helpers.store_sql import table

from nbcatalog.data.importers import import_paths

NAME = "otrf_apt29_day1_SCRANTON_conn.log"
PIPELINE_KEYS = ("@stream", "@system", "@proc")
AZURE_PROTOCOL = {"tcp": "T", "udp": "U"}
FLOWS = 'SELECT * FROM AzureNetworkAnalytics_CL ORDER BY "TimeGenerated", "SrcPort_d", "DestIP_s"'


def _records(folder: Path) -> list[dict]:
    with open(folder / NAME, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _import(path: Path, db: Path):
    report = import_paths([path], db=db).files[0]
    return report, table(db, FLOWS)


@pytest.fixture(scope="module")
def imported(realdata, tmp_path_factory):
    return _import(realdata / NAME, tmp_path_factory.mktemp("real-zeek") / "store.duckdb")


def test_every_line_is_stored_by_auto_detection(realdata, imported):
    report, flows = imported
    lines = [t for t in (realdata / NAME).read_text(encoding="utf-8").splitlines() if t.strip()]
    assert len(lines) == 134
    assert report.format == "zeek"
    assert (report.rows_read, report.rows_stored, report.rows_rejected) == (134, 134, 0)
    assert report.tables == {"AzureNetworkAnalytics_CL": 134} and len(flows) == 134


def test_connections_bytes_and_protocols_per_pair(realdata, imported):
    _, flows = imported
    expected_count: Counter = Counter()
    expected_bytes: dict = defaultdict(lambda: [0, 0, 0, 0])
    expected_proto: dict = defaultdict(set)
    for r in _records(realdata):
        key = (r["id_orig_h"], r["id_resp_h"], r["id_resp_p"])
        expected_count[key] += 1
        totals = expected_bytes[key]
        for i, name in enumerate(("orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts")):
            totals[i] += r.get(name, 0)
        expected_proto[key].add(AZURE_PROTOCOL[r["proto"]])

    keys = list(
        zip(flows["SrcIP_s"], flows["DestIP_s"], flows["DestPort_d"].astype(int), strict=True)
    )
    assert Counter(keys) == expected_count
    stored_bytes: dict = defaultdict(lambda: [0, 0, 0, 0])
    stored_proto: dict = defaultdict(set)
    # Every address here is private and the log has no local_orig: the originator is
    # the local side, so outbound is what the originator sent.
    columns = ("OutboundBytes_d", "InboundBytes_d", "OutboundPackets_d", "InboundPackets_d")
    for key, (_, row) in zip(keys, flows.iterrows(), strict=True):
        for i, name in enumerate(columns):
            stored_bytes[key][i] += 0 if pd.isna(row[name]) else int(row[name])
        stored_proto[key].add(row["L4Protocol_s"])
    assert dict(stored_bytes) == dict(expected_bytes)
    assert dict(stored_proto) == dict(expected_proto)
    assert set(flows["FlowDirection_s"]) == {"O"} and set(flows["FlowType_s"]) == {"IntraVNet"}
    assert set(flows["VMIP_s"]) == {r["id_orig_h"] for r in _records(realdata)}


def test_times_are_the_epoch_times_in_utc(realdata, imported):
    _, flows = imported
    records = sorted(_records(realdata), key=lambda r: r["ts"])
    stored_start = [t.to_pydatetime() for t in flows["FlowStartTime_t"]]
    expected_start = [_utc(r["ts"]) for r in records]
    tolerance = timedelta(microseconds=1)  # the store keeps microseconds
    assert all(abs(s - e) <= tolerance for s, e in zip(stored_start, expected_start, strict=True))
    assert (flows["TimeGenerated"] == flows["FlowStartTime_t"]).all()
    assert min(stored_start).isoformat().startswith("2020-04-30T00:06:38")
    for (_, row), rec in zip(flows.iterrows(), records, strict=True):
        length = (row["FlowEndTime_t"] - row["FlowStartTime_t"]).total_seconds()
        assert abs(length - rec.get("duration", 0)) <= 2e-6, rec["uid"]


# ------------------------------------------------ the same records, other layouts


def _dotted(rec: dict) -> dict:
    return {k.replace("id_", "id.", 1): v for k, v in rec.items() if k not in PIPELINE_KEYS}


def _tsv(records: list[dict]) -> str:
    """Zeek's ASCII writer layout; floats written in full so values are the same records."""
    fields = list(dict.fromkeys(k for r in records for k in r))
    lines = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#open\t2020-04-30-00-00-00",
        "#fields\t" + "\t".join(fields),
    ]
    lines += ["\t".join(repr(r[f]) if isinstance(r.get(f), float) else str(r.get(f, "-"))
                        for f in fields) for r in records]  # fmt: skip
    lines.append("#close\t2020-04-30-01-00-00")
    return "\n".join(lines) + "\n"


def test_the_same_records_as_tsv_dotted_json_and_gzip_store_identical_rows(
    realdata, imported, tmp_path
):
    _, reference = imported
    dotted = [_dotted(r) for r in _records(realdata)]
    files = {
        "conn.log": _tsv(dotted).encode(),
        "conn.json": "".join(json.dumps(r) + "\n" for r in dotted).encode(),
    }
    files["conn.log.gz"] = gzip.compress(files["conn.log"])
    files["conn.json.gz"] = gzip.compress(files["conn.json"])
    files["original.log.gz"] = gzip.compress((realdata / NAME).read_bytes())
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        report, flows = _import(path, tmp_path / f"{name}.duckdb")
        assert report.format == "zeek", name
        assert (report.rows_stored, report.rows_rejected) == (134, 0), (name, report.summary())
        pd.testing.assert_frame_equal(flows, reference, obj=name)
