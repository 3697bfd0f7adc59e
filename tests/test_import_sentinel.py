"""Sentinel / Log Analytics exports: CSV, JSON, Parquet and pickle round-trip into the store."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest
from helpers.store_sql import table

from nbcatalog.data.importers import ImportFormatError, UnreadableFileError, import_paths


@pytest.fixture
def db(tmp_path):
    return tmp_path / "store.duckdb"


def test_portal_csv_export_round_trips_with_types_and_rejections(tmp_path, db):
    csv_path = tmp_path / "query_data.csv"
    csv_path.write_bytes(
        b"TenantId,TimeGenerated [UTC],Computer,EventID,Account,LogonType,IpAddress,"
        b"_BilledSize,Type\n"
        b'"t1","11/27/2026, 10:00:00.123 AM",WKSTN-042,4625,"CONTOSO\\bob",10,203.0.113.77,512,'
        b"SecurityEvent\n"
        b"t1,2026-11-27T10:05:00Z,WKSTN-042,4624,CONTOSO\\bob,10,203.0.113.77,512,SecurityEvent\n"
        b"t1,2026-11-27T10:06:00Z,WKSTN-042,not-a-number,x,10,1.2.3.4,1,SecurityEvent\n"
        b"t1,2026-11-27T10:07:00Z,too,few\n"
        + "t1,2026-11-27T10:08:00Z,WKSTN-042,4688,CONTOSO\\Zoë,,,1,SecurityEvent\n".encode(
            "latin-1"
        )
    )
    report = import_paths([csv_path], db=db)
    f = report.files[0]
    assert f.format == "sentinel-csv"
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (5, 3, 2)
    reasons = {r.line: r.reason for r in f.rejections}
    assert "EventID" in reasons[4] and "not-a-number" in reasons[4]
    assert "expected 9 fields, found 4" in reasons[5]
    assert any("_BilledSize" in w and "Type" in w for w in f.warnings)  # kept out, not silently
    assert any("Latin-1" in w and "line 6" in w for w in f.warnings)

    rows = table(db, 'SELECT * FROM SecurityEvent ORDER BY "TimeGenerated"')
    assert rows["EventID"].tolist() == [4625, 4624, 4688]
    assert rows["TimeGenerated"].iloc[0] == pd.Timestamp("2026-11-27T10:00:00.123Z")
    assert rows["TimeGenerated"].dt.tz is not None  # stored tz-aware
    assert rows["Account"].tolist() == ["CONTOSO\\bob", "CONTOSO\\bob", "CONTOSO\\Zoë"]
    assert rows["LogonType"].iloc[0] == 10
    assert rows["IpAddress"].iloc[2] == ""  # empty text stays empty, as in Log Analytics
    assert pd.isna(rows["LogonType"].iloc[2])  # an empty number is NULL


def test_msticpy_projection_infers_its_table(tmp_path, db):
    path = tmp_path / "logons.csv"
    path.write_text(
        "TimeGenerated,Computer,TargetUserName,LogonType,IpAddress,SubjectLogonId\n"
        "2026-11-27T10:00:00+01:00,WKSTN-042,bob,10,203.0.113.77,0x3e7\n"
        ",WKSTN-042,alice,3,10.0.0.8,0x3e7\n"
    )
    report = import_paths([path], db=db)
    assert report.files[0].tables == {"SecurityEvent": 1}
    assert [(r.line, r.reason) for r in report.files[0].rejections] == [
        (3, "no TimeGenerated (every Sentinel row has one)")
    ]
    row = table(db, "SELECT * FROM SecurityEvent").iloc[0]
    assert row["TimeGenerated"] == pd.Timestamp("2026-11-27T09:00:00Z")
    assert row["TargetUserName"] == "bob"


def test_ambiguous_columns_need_table_and_table_must_exist(tmp_path, db):
    path = tmp_path / "ambiguous.csv"
    path.write_text("TimeGenerated,Computer,EventID\n2026-11-27T10:00:00Z,H1,7045\n")
    with pytest.raises(ImportFormatError, match="--table") as info:
        import_paths([path], db=db)
    assert "Event" in str(info.value) and "SecurityEvent" in str(info.value)
    assert not db.exists()  # nothing created by a failed call

    with pytest.raises(ImportFormatError, match="known tables: .*SecurityEvent"):
        import_paths([path], db=db, table="SecurityEvents")

    report = import_paths([path], db=db, table="Event")
    assert report.files[0].tables == {"Event": 1}
    assert table(db, 'SELECT "EventID" FROM "Event"')["EventID"].tolist() == [7045]


def test_local_time_export_is_refused(tmp_path, db):
    path = tmp_path / "local.csv"
    path.write_text("TimeGenerated [Local Time],Computer,Account\n11/27/2026 10:00,H,bob\n")
    with pytest.raises(ImportFormatError, match="not in UTC"):
        import_paths([path], db=db)


def test_json_array_and_lines_keep_dynamic_columns_as_json(tmp_path, db):
    array = tmp_path / "signins.json"
    array.write_text(
        '[{"TimeGenerated": "2026-11-27T08:00:00Z", "UserPrincipalName": "bob@contoso.com",'
        ' "IPAddress": "203.0.113.77", "ResultType": "0", "Type": "SigninLogs",'
        ' "LocationDetails": {"city": "Lagos", "countryOrRegion": "NG"}},'
        " 42]"
    )
    lines = tmp_path / "signins.jsonl"
    lines.write_text(
        '{"TimeGenerated": "2026-11-27T09:00:00Z", "UserPrincipalName": "alice@contoso.com",'
        ' "IPAddress": "10.0.0.7", "AppDisplayName": "Teams", "ResultType": 0}\n'
        '{"TimeGenerated": "2026-11-27T09:01:00Z", "UserPrincipalName": \n'
        "\n"
    )
    report = import_paths([array, lines], db=db)
    first, second = report.files
    assert (first.rows_read, first.rows_stored, first.rows_rejected) == (2, 1, 1)
    assert first.rejections[0].line == 2 and "not a JSON object" in first.rejections[0].reason
    assert (second.rows_stored, second.rows_rejected) == (1, 1)
    assert second.rejections[0].line == 2 and "not valid JSON" in second.rejections[0].reason

    rows = table(db, 'SELECT * FROM SigninLogs ORDER BY "TimeGenerated"')
    assert rows["UserPrincipalName"].tolist() == ["bob@contoso.com", "alice@contoso.com"]
    assert rows["LocationDetails"].iloc[0] == '{"city":"Lagos","countryOrRegion":"NG"}'
    assert rows["ResultType"].tolist() == ["0", "0"]
    assert rows["Type"].iloc[0] == "SigninLogs"


def _alerts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(["2026-11-27T10:00:00Z", "2026-11-27T11:00:00Z"]),
            "AlertName": ["RDP brute force", "SSH spray"],
            "AlertSeverity": ["High", "Medium"],
            "ConfidenceScore": [0.9, None],
            "IsIncident": [True, False],
            "Entities": ['[{"HostName":"WKSTN-042"}]', '[{"Address":"198.51.100.23"}]'],
            "Score": [1, 2],  # not a SecurityAlert column
        }
    )


@pytest.mark.parametrize("kind", ["parquet", "pickle"])
def test_parquet_and_pickle_round_trip(tmp_path, db, kind):
    frame = _alerts()
    path = tmp_path / f"alerts.{'parquet' if kind == 'parquet' else 'pkl'}"
    frame.to_parquet(path) if kind == "parquet" else frame.to_pickle(path)
    report = import_paths([path], db=db)
    f = report.files[0]
    assert f.format == f"sentinel-{kind}"
    assert f.tables == {"SecurityAlert": 2}
    assert any("Score" in w for w in f.warnings)
    assert f.columns_kept_out == {"SecurityAlert": ["Score"]}
    rows = table(db, 'SELECT * FROM SecurityAlert ORDER BY "TimeGenerated"')
    assert rows["AlertName"].tolist() == ["RDP brute force", "SSH spray"]
    assert rows["IsIncident"].tolist() == [True, False]
    assert rows["ConfidenceScore"].iloc[0] == pytest.approx(0.9)
    assert pd.isna(rows["ConfidenceScore"].iloc[1])


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path, db):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"frame": _Exploit(marker)}))
    good = tmp_path / "good.csv"
    good.write_text("TimeGenerated,AlertName,AlertSeverity\n2026-11-27T10:00:00Z,x,High\n")
    import_paths([good], db=tmp_path / "other.duckdb")  # the good file imports on its own
    with pytest.raises(UnreadableFileError, match="refusing to load .*open"):
        import_paths([good, path], db=db)
    assert not marker.exists()
    assert not db.exists()  # the good file's rows went with the rollback


def test_hostile_text_is_rejected_or_escaped_never_fatal(tmp_path, db):
    path = tmp_path / "alerts.jsonl"
    path.write_text(
        '{"TimeGenerated": "2026-11-27T10:00:00Z", "AlertName": "a\\ud800b"}\n'
        '{"TimeGenerated": "2026-11-27T10:00:01Z", "AlertName": "<script>x</script>",'
        ' "AlertSeverity": "High", "Evil\\u001b[2J": 1}\n'
    )
    f = import_paths([path], db=db).files[0]
    assert (f.rows_stored, f.rows_rejected) == (1, 1)
    assert "unpaired UTF-16 surrogate" in f.rejections[0].reason
    assert any("Evil\\x1b[2J" in w for w in f.warnings)  # escaped, not sent to the terminal raw
    assert table(db, "SELECT AlertName FROM SecurityAlert")["AlertName"].tolist() == [
        "<script>x</script>"
    ]
