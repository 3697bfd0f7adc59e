"""Sentinel / Log Analytics exports: CSV, JSON, Parquet and pickle round-trip into the store."""

from __future__ import annotations

import csv
import functools
import json
import pickle

import pandas as pd
import pytest
from helpers.store_sql import table

from nbcatalog.data import connect
from nbcatalog.data.importers import (
    ImportFormatError,
    UnreadableFileError,
    UnusableFileError,
    import_paths,
)


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
        "TimeGenerated,Computer,EventID,TargetUserName,LogonType,IpAddress,SubjectLogonId\n"
        "2026-11-27T10:00:00+01:00,WKSTN-042,4624,bob,10,203.0.113.77,0x3e7\n"
        ",WKSTN-042,4624,alice,3,10.0.0.8,0x3e7\n"
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


# msticpy's SecurityAlert.list_alerts columns, in its order (kql_sent_alert.yaml renames
# StartTime, EndTime, DisplayName and AlertSeverity), as `DataFrame.to_csv(index=False)`
# writes a query result.
MSTICPY_ALERT_COLUMNS = (
    "TenantId,TimeGenerated,AlertDisplayName,AlertName,Severity,Description,ProviderName,"
    "VendorName,VendorOriginalId,SystemAlertId,ResourceId,SourceComputerId,AlertType,"
    "ConfidenceLevel,ConfidenceScore,IsIncident,StartTimeUtc,EndTimeUtc,ProcessingEndTime,"
    "RemediationSteps,ExtendedProperties,Entities,SourceSystem,WorkspaceSubscriptionId,"
    "WorkspaceResourceGroup,ExtendedLinks,ProductName,ProductComponentName,AlertLink,Status,"
    "CompromisedEntity,Tactics,Techniques,Type"
)


def _msticpy_alert_row(n: int, name: str, severity: str, host: str, address: str) -> str:
    when = f"2026-11-27 1{n}:00:00+00:00"
    entities = f'"[{{""Type"":""ip"",""Address"":""{address}""}}]"'
    props = f'"{{""Compromised Host"":""{host}""}}"'
    return (
        f"t1,{when},{name},{name},{severity},{name} on {host},ASI Scheduled Alerts,Microsoft,"
        f"v{n},a-{n},,,{name},,,False,{when},{when},{when},[],{props},{entities},Detection,"
        f"sub-1,rg-soc,,Azure Sentinel,Scheduled Alerts,,New,{host},Execution,[],SecurityAlert"
    )


def test_msticpy_alerts_csv_imports_with_severity_and_name(tmp_path, db):
    path = tmp_path / "alerts_from_msticpy.csv"
    path.write_text(
        MSTICPY_ALERT_COLUMNS
        + "\n"
        + _msticpy_alert_row(0, "RDP brute force", "High", "WKSTN-042", "203.0.113.77")
        + "\n"
        + _msticpy_alert_row(1, "Rare process <b>x</b>", "Low", "LNX-WEB01", "198.51.100.23")
        + "\n"
    )
    expected = list(csv.DictReader(path.open()))

    f = import_paths([path], db=db).files[0]

    assert f.tables == {"SecurityAlert": len(expected)} and f.rows_rejected == 0
    assert f.columns_renamed["SecurityAlert"] == {
        "AlertDisplayName": "DisplayName",
        "Severity": "AlertSeverity",
        "StartTimeUtc": "StartTime",
        "EndTimeUtc": "EndTime",
    }
    summary = f.summary()
    assert "AlertDisplayName -> DisplayName" in summary and "Severity -> AlertSeverity" in summary
    assert (
        "dropped 3 columns not in SecurityAlert: "
        "SourceComputerId, WorkspaceSubscriptionId, WorkspaceResourceGroup" in summary
    )
    rows = table(db, 'SELECT * FROM SecurityAlert ORDER BY "TimeGenerated"')
    assert rows["AlertSeverity"].tolist() == [r["Severity"] for r in expected]
    assert rows["DisplayName"].tolist() == [r["AlertDisplayName"] for r in expected]
    assert rows["StartTime"].tolist() == [pd.Timestamp(r["StartTimeUtc"]) for r in expected]
    # The query alert_ti_enrich runs returns them under msticpy's names, not empty.
    alerts = connect(f"duckdb:{db}").query(
        "SecurityAlert.list_alerts", start="2026-11-27T00:00:00Z", end="2026-11-28T00:00:00Z"
    )
    assert alerts["Severity"].tolist() == [r["Severity"] for r in expected]
    assert alerts["AlertDisplayName"].tolist() == [r["AlertDisplayName"] for r in expected]
    assert alerts["CompromisedEntity"].tolist() == [r["CompromisedEntity"] for r in expected]


def test_msticpy_flows_json_lines_import_with_addresses(tmp_path, db):
    # msticpy's Network.list_azure_network_flows_by_host rows after mv-expand of AllExtIPs,
    # saved with DataFrame.to_json(orient="records", lines=True): times in epoch ms.
    base = 1795780800000  # 2026-11-27T12:00:00Z
    flows = [
        ("WKSTN-042", "10.0.1.42", "10.0.1.42", "203.0.113.77", "O", "T", "https", 443,
         ["203.0.113.77"]),
        ("WKSTN-042", "10.0.1.42", "198.51.100.23", "10.0.1.42", "I", "T", "rdp", 3389,
         ["198.51.100.23", "198.51.100.24"]),
    ]  # fmt: skip
    lines = []
    for n, (vm, vm_ip, src, dest, direction, l4, l7, port, public) in enumerate(flows):
        start = base + n * 600_000
        ext = dest if direction == "O" else src
        for ext_ip in [*public, ext]:
            lines.append(
                json.dumps(
                    {
                        "TenantId": "t1",
                        "TimeGenerated": start + 720_000,
                        "FlowStartTime": start,
                        "FlowEndTime": start + 599_000,
                        "FlowIntervalEndTime": start + 600_000,
                        "FlowType": "ExternalPublic",
                        "ResourceGroup": "rg-soc",
                        "VMName": vm,
                        "VMIPAddress": vm_ip,
                        "PublicIPs": public,
                        "SrcIP": src,
                        "DestIP": dest,
                        "L4Protocol": l4,
                        "L7Protocol": l7,
                        "DestPort": float(port),
                        "FlowDirection": direction,
                        "AllowedOutFlows": 1.0 if direction == "O" else 0.0,
                        "AllowedInFlows": 0.0 if direction == "O" else 5.0,
                        "DeniedInFlows": 0.0,
                        "DeniedOutFlows": 0.0,
                        "RemoteRegion": "",
                        "VMRegion": "westeurope",
                        "AllExtIPs": ext_ip,
                    }  # fmt: skip
                )
            )
    path = tmp_path / "flows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    read = [json.loads(line) for line in path.read_text().splitlines()]
    distinct = {(r["SrcIP"], r["DestIP"], r["FlowStartTime"]) for r in read}

    f = import_paths([path], db=db).files[0]

    assert (f.rows_read, f.rows_stored, f.rows_duplicate) == (
        len(read),
        len(distinct),
        len(read) - len(distinct),
    )
    assert f.tables == {"AzureNetworkAnalytics_CL": len(distinct)}
    rows = table(db, 'SELECT * FROM AzureNetworkAnalytics_CL ORDER BY "FlowStartTime_t"')
    assert set(zip(rows["SrcIP_s"], rows["DestIP_s"], strict=True)) == {d[:2] for d in distinct}
    assert rows["VM_s"].tolist() == ["rg-soc/WKSTN-042"] * len(distinct)
    assert rows["FlowStartTime_t"].iloc[0] == pd.Timestamp(base, unit="ms", tz="UTC")
    assert rows["SubType_s"].tolist() == ["FlowLog"] * len(distinct)
    back = connect(f"duckdb:{db}").query(
        "Network.list_azure_network_flows_by_host",
        host_name="WKSTN-042",
        start="2026-11-27T00:00:00Z",
        end="2026-11-28T00:00:00Z",
    )
    assert sorted(set(back["AllExtIPs"])) == sorted({r["AllExtIPs"] for r in read})


def test_rows_lacking_a_key_column_fail_the_import_naming_it(tmp_path, db):
    path = tmp_path / "alerts.csv"
    path.write_text(
        "TimeGenerated,Title,Sev,Entities\n"
        '2026-11-27T10:00:00Z,RDP brute force,High,"[{""Address"":""203.0.113.77""}]"\n'
    )
    with pytest.raises(UnusableFileError) as info:
        import_paths([path], db=db, table="SecurityAlert")
    message = str(info.value)
    assert "AlertName or DisplayName (not in the file)" in message
    assert "AlertSeverity (not in the file)" in message
    assert "Dropped as not in SecurityAlert: Title, Sev" in message
    assert not db.exists()

    empty = tmp_path / "empty-severity.csv"
    empty.write_text("TimeGenerated,AlertName,AlertSeverity\n2026-11-27T10:00:00Z,x,\n")
    with pytest.raises(UnusableFileError, match=r"AlertSeverity \(empty in every row\)"):
        import_paths([empty], db=db)


NULL_WORDS = ("null", "NULL", "None", "NaN", "")


def test_null_words_in_time_and_number_columns_are_missing_values(tmp_path, db):
    path = tmp_path / "alerts_null_times.csv"
    lines = ["TimeGenerated,AlertName,AlertSeverity,StartTime,EndTime,ConfidenceScore"]
    for n, word in enumerate(NULL_WORDS):
        lines.append(f"2026-11-27T10:0{n}:00Z,alert {n},High,{word},{word},{word}")
    lines.append("null,no time,High,2026-11-27T10:00:00Z,,0.5")
    lines.append("NaN,no time either,High,,,")
    path.write_text("\n".join(lines) + "\n")
    records = list(csv.DictReader(path.open()))
    timed = [r for r in records if r["TimeGenerated"].strip().lower() not in ("null", "nan")]

    f = import_paths([path], db=db).files[0]

    assert f.rows_stored == len(timed)
    assert [r.reason for r in f.rejections] == ["no TimeGenerated (every Sentinel row has one)"] * (
        len(records) - len(timed)
    )
    rows = table(db, 'SELECT * FROM SecurityAlert ORDER BY "TimeGenerated"')
    assert rows["AlertName"].tolist() == [r["AlertName"] for r in timed]
    assert rows["StartTime"].isna().all() and rows["ConfidenceScore"].isna().all()


# The columns of a Log Analytics export of HuntingBookmark (Azure Monitor table
# reference), times in UTC as the portal names them, dynamic columns as JSON text.
BOOKMARK_COLUMNS = [
    "TenantId", "TimeGenerated [UTC]", "BookmarkId", "BookmarkName", "BookmarkType",
    "CreatedBy", "CreatedTime [UTC]", "Entities", "EventTime [UTC]", "IncidentInfo",
    "LastUpdatedTime [UTC]", "Notes", "QueryEndTime [UTC]", "QueryResultRow",
    "QueryStartTime [UTC]", "QueryText", "SoftDeleted", "SourceSystem", "Tags", "UpdatedBy",
    "UpdatedTime [UTC]", "_ResourceId", "Type",
]  # fmt: skip


def test_bookmark_export_with_empty_type_keeps_every_row(tmp_path, db):
    path = tmp_path / "HuntingBookmark.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(BOOKMARK_COLUMNS)
        for n in range(8):
            when = f"11/27/2026, {n + 1}:1{n}:00.000 AM"
            who = json.dumps({"ObjectId": f"0b5e-{n}", "Email": "ana@contoso.com", "Name": "Ana"})
            row = json.dumps({"Computer": f"WKSTN-0{n}", "Account": "CONTOSO\\bob",
                              "__entityMapping": {f"WKSTN-0{n}": "Host"}})  # fmt: skip
            writer.writerow(
                ["t1", when, f"bm-{n}", f"Suspicious logon {n}", "", who, when,
                 json.dumps([{"Type": "host", "HostName": f"WKSTN-0{n}"}]), when, "", when,
                 "first line\nsecond line, with a comma" if n % 2 else "", when, row, when,
                 'SecurityEvent\n| where EventID == 4625 and Account has "bob"', "false", "",
                 "[]", who, when, "/subscriptions/s/workspaces/w",
                 # half the rows carry their table's name, half an empty Type
                 "HuntingBookmark" if n % 2 else ""]
            )  # fmt: skip
    with path.open(newline="") as fh:
        exported = list(csv.DictReader(fh))

    f = import_paths([path], db=db).files[0]

    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (len(exported), len(exported), 0)
    rows = table(db, 'SELECT * FROM HuntingBookmark ORDER BY "BookmarkId"')
    assert rows["BookmarkName"].tolist() == [r["BookmarkName"] for r in exported]
    assert rows["Notes"].tolist() == [r["Notes"] for r in exported]
    assert rows["QueryResultRow"].tolist() == [r["QueryResultRow"] for r in exported]


def test_pickle_wrapping_a_disallowed_callable_in_partial_is_refused(tmp_path, db):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil-partial.pkl"
    path.write_bytes(pickle.dumps(functools.partial(open, str(marker), "w")))
    with pytest.raises(UnreadableFileError, match="refusing to load .*open"):
        import_paths([path], db=db)
    assert not marker.exists()
