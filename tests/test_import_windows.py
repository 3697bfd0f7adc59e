"""Windows events: .evtx (written by tests/helpers/evtx_writer), winlogbeat and nxlog JSON."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pandas as pd
import pytest
from helpers.evtx_writer import EvtxEvent, evtx_bytes
from helpers.store_sql import table

from nbcatalog.data.importers import UnreadableFileError, UnusableFileError, import_paths
from nbcatalog.data.schema import TABLES

SECURITY_COLUMNS = set(TABLES["SecurityEvent"].column_names)

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)


def _events() -> list[EvtxEvent]:
    failures = [
        EvtxEvent(
            4625,
            T0.replace(second=i),
            "WKSTN-042",
            data={
                "TargetUserName": f"user{i}",
                "TargetDomainName": "CONTOSO",
                "LogonType": "10",
                "IpAddress": "203.0.113.77",
                "Status": "0xc000006d",
            },
        )
        for i in range(3)
    ]
    success = EvtxEvent(
        4624,
        T0.replace(minute=5),
        "WKSTN-042",
        data={"TargetUserName": "bob", "TargetDomainName": "CONTOSO", "LogonType": "10",
              "IpAddress": "203.0.113.77"},
    )  # fmt: skip
    process = EvtxEvent(
        4688,
        T0.replace(minute=7),
        "WKSTN-042",
        data={
            "SubjectUserName": "bob",
            "SubjectDomainName": "CONTOSO",
            "NewProcessName": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "CommandLine": 'powershell -enc <script>alert("nbcatalog")</script>',
        },
    )
    service = EvtxEvent(
        7045,
        T0.replace(minute=9),
        "WKSTN-042",
        channel="System",
        provider="Service Control Manager",
        level=4,
        task=0,
        data={"ServiceName": "evilsvc", "ImagePath": "C:\\temp\\x.exe", "User": "LocalSystem"},
    )
    return [*failures, success, process, service]


@pytest.fixture
def db(tmp_path):
    return tmp_path / "store.duckdb"


def test_evtx_security_and_system_land_in_their_tables(tmp_path, db):
    path = tmp_path / "export.evtx"
    path.write_bytes(evtx_bytes(_events(), records_per_chunk=4))
    report = import_paths([path], db=db)
    f = report.files[0]
    assert f.format == "evtx"
    assert f.tables == {"SecurityEvent": 5, "Event": 1}
    assert (f.rows_read, f.rows_rejected) == (6, 0)

    sec = table(db, 'SELECT * FROM SecurityEvent ORDER BY "TimeGenerated"')
    assert sec["EventID"].tolist() == [4625, 4625, 4625, 4624, 4688]
    logon = sec.iloc[3]
    assert logon["TimeGenerated"] == pd.Timestamp("2026-11-27T10:05:00Z")
    assert (logon["Computer"], logon["Account"], logon["TargetUserName"]) == (
        "WKSTN-042", "CONTOSO\\bob", "bob")  # fmt: skip
    assert (logon["LogonType"], logon["LogonTypeName"]) == (10, "10 - RemoteInteractive")
    assert logon["IpAddress"] == "203.0.113.77"
    assert logon["Activity"] == "4624 - An account was successfully logged on."
    assert '<Data Name="TargetUserName">bob</Data>' in logon["EventData"]
    proc = sec.iloc[4]
    assert proc["CommandLine"] == 'powershell -enc <script>alert("nbcatalog")</script>'
    assert proc["Process"] == "powershell.exe"
    assert proc["Account"] == "CONTOSO\\bob" and proc["SubjectUserName"] == "bob"
    assert sec.iloc[0]["Status"] == "0xc000006d"

    event = table(db, 'SELECT * FROM "Event"').iloc[0]
    assert (event["EventLog"], event["Source"], event["EventID"]) == (
        "System", "Service Control Manager", 7045)  # fmt: skip
    assert (event["EventLevel"], event["EventLevelName"]) == (4, "Information")
    assert "<Param>evilsvc</Param>" in event["ParameterXml"]
    assert event["UserName"] == "LocalSystem"


def test_truncated_evtx_keeps_whole_records_and_counts_lost_ones(tmp_path, db):
    data = evtx_bytes(_events(), records_per_chunk=3)  # chunk 1: records 1-3, chunk 2: 4-6
    path = tmp_path / "copied-while-live.evtx"
    path.write_bytes(data[: 0x1000 + 0x10000 + 0x200 + 40])  # cut inside record 4
    f = import_paths([path], db=db).files[0]
    assert f.rows_stored == 3
    assert [r.line for r in f.rejections] == [4, 5, 6]
    assert all("truncated" in r.reason for r in f.rejections)
    assert f.rows_read == f.rows_stored + f.rows_rejected

    tiny = tmp_path / "header-only.evtx"
    tiny.write_bytes(data[: 0x1000 + 100])
    # Nothing readable at all: the import fails (and the file is not recorded as imported).
    with pytest.raises(UnusableFileError, match="(?s)all 1 rows.*last chunk has only 100 bytes"):
        import_paths([tiny], db=db)


def test_not_an_evtx_file_fails_and_leaves_store_unchanged(tmp_path, db):
    good = tmp_path / "good.evtx"
    good.write_bytes(evtx_bytes(_events()[:1]))
    import_paths([good], db=db)
    bad = tmp_path / "fake.evtx"
    bad.write_bytes(b"this is not an event log" * 300)
    other = tmp_path / "more.evtx"
    other.write_bytes(evtx_bytes(_events()[1:3]))
    with pytest.raises(UnreadableFileError, match="not an EVTX file"):
        import_paths([other, bad], db=db)
    assert table(db, "SELECT count(*) AS n FROM SecurityEvent")["n"][0] == 1


def _winlogbeat(i: int, channel: str = "Security") -> dict:
    return {
        "@timestamp": f"2026-11-27T10:0{i}:00.000Z",
        "event": {"code": "4625", "kind": "event"},
        "host": {"name": "wkstn-042.contoso.com"},
        "log": {"level": "information"},
        "message": "An account failed to log on.",
        "winlog": {
            "channel": channel,
            "computer_name": "WKSTN-042.contoso.com",
            "event_id": "4625",
            "provider_name": "Microsoft-Windows-Security-Auditing",
            "record_id": 1000 + i,
            "task": "Logon",
            "event_data": {"TargetUserName": f"u{i}", "LogonType": "10",
                           "IpAddress": "203.0.113.77", "Computer": "SPOOFED"},
        },
    }  # fmt: skip


def test_winlogbeat_utf16_output_with_malformed_lines(tmp_path, db):
    lines = [json.dumps(_winlogbeat(i)) for i in range(3)]
    lines.insert(1, '{"@timestamp": "2026-11-27T10:00:00Z", "winlog": ')  # cut short
    lines.append(json.dumps({"hello": "world"}))
    path = tmp_path / "winlogbeat.json"
    # PowerShell's `>` writes UTF-16LE with a BOM and CRLF line ends.
    path.write_bytes("\r\n".join(lines).encode("utf-16"))
    f = import_paths([path], db=db).files[0]
    assert f.format == "windows-json"
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (5, 3, 2)
    assert [r.line for r in f.rejections] == [2, 5]
    assert any("UTF-16" in w for w in f.warnings)
    rows = table(db, 'SELECT * FROM SecurityEvent ORDER BY "TimeGenerated"')
    assert rows["TargetUserName"].tolist() == ["u0", "u1", "u2"]
    assert set(rows["Computer"]) == {"WKSTN-042.contoso.com"}  # EventData cannot override it
    assert rows["EventID"].tolist() == [4625] * 3
    assert rows["LogonType"].tolist() == [10] * 3


def test_nxlog_lines_and_other_channels(tmp_path, db):
    nx = {
        "EventTime": "2026-11-27 10:00:00",
        "Hostname": "WIN-DC01.contoso.com",
        "EventType": "AUDIT_SUCCESS",
        "EventID": 4720,
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "Channel": "Security",
        "Task": 13824,
        "RecordNumber": 77,
        "ProcessID": 612,
        "Message": "A user account was created.",
        "TargetUserName": "svc_backup",
        "TargetDomainName": "CONTOSO",
        "SubjectUserName": "bob",
        "SubjectDomainName": "CONTOSO",
        "SamAccountName": "svc_backup",
    }
    sysmon = {
        "EventTime": "2026-11-27T10:01:00+02:00",
        "Hostname": "WIN-DC01.contoso.com",
        "EventType": "INFO",
        "EventID": 1,
        "SourceName": "Microsoft-Windows-Sysmon",
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Message": "Process Create",
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "User": "CONTOSO\\bob",
    }
    path = tmp_path / "nxlog.json"
    path.write_text(json.dumps(nx) + "\n" + json.dumps(sysmon) + "\n")
    f = import_paths([path], db=db).files[0]
    assert f.tables == {"SecurityEvent": 1, "Event": 1}
    assert any("no time zone" in w for w in f.warnings)
    sec = table(db, "SELECT * FROM SecurityEvent").iloc[0]
    assert (sec["Account"], sec["SubjectAccount"], sec["SamAccountName"]) == (
        "CONTOSO\\svc_backup", "CONTOSO\\bob", "svc_backup")  # fmt: skip
    assert sec["Task"] == 13824 and sec["ProcessId"] is None  # nxlog's own ProcessID is not data
    assert sec["Activity"] == "4720 - A user account was created."
    ev = table(db, 'SELECT * FROM "Event"').iloc[0]
    assert ev["TimeGenerated"] == pd.Timestamp("2026-11-27T08:01:00Z")
    assert (ev["EventLog"], ev["UserName"]) == (
        "Microsoft-Windows-Sysmon/Operational",
        "CONTOSO\\bob",
    )
    assert ev["RenderedDescription"] == "Process Create"


def test_corrupt_record_is_rejected_and_its_neighbours_kept(tmp_path, db):
    data = bytearray(evtx_bytes(_events()[:3]))
    first = 0x1000 + 0x200
    second = first + int.from_bytes(data[first + 4 : first + 8], "little")
    # Corrupt a substitution descriptor (a value's size) in record 2's substitution array.
    data[second + 0x18 + 4 + 10 + 24 + 4] = 0x7F
    path = tmp_path / "corrupt.evtx"
    path.write_bytes(bytes(data))
    f = import_paths([path], db=db).files[0]
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (3, 2, 1)
    assert f.rejections[0].line == 2
    names = table(db, 'SELECT TargetUserName FROM SecurityEvent ORDER BY "TimeGenerated"')
    assert names["TargetUserName"].tolist() == ["user0", "user2"]


def test_template_cache_renders_exactly_what_python_evtx_renders(tmp_path):
    from Evtx.Evtx import Evtx

    from nbcatalog.data.importers.evtx_render import TemplateCache

    path = tmp_path / "mixed.evtx"
    path.write_bytes(evtx_bytes(_events() * 3, records_per_chunk=7))  # shared + new templates
    renderer = TemplateCache()
    with Evtx(str(path)) as log:
        records = list(log.records())
        assert len(records) == 18
        assert [renderer.xml(r) for r in records] == [r.xml() for r in records]


def test_control_characters_in_event_data_do_not_lose_the_record(tmp_path, db):
    ev = EvtxEvent(4688, T0, "WKSTN-042", data={"CommandLine": "cmd\x01 /c \x1b[31mred"})
    path = tmp_path / "ctrl.evtx"
    path.write_bytes(evtx_bytes([ev]))
    f = import_paths([path], db=db).files[0]
    assert (f.rows_stored, f.rows_rejected) == (1, 0)
    line = table(db, "SELECT CommandLine FROM SecurityEvent")["CommandLine"][0]
    assert line == "cmd /c [31mred"  # python-evtx drops what XML cannot carry


# ------------------------------------------- damaged records inside a chunk (issue 9 #10)


def _record_offsets(data: bytes, chunk: int = 0) -> list[int]:
    """File offsets of the records of one chunk, walking the record sizes."""
    start = 0x1000 + chunk * 0x10000
    free = int.from_bytes(data[start + 0x30 : start + 0x34], "little")
    offsets, pos = [], start + 0x200
    while pos < start + free:
        offsets.append(pos)
        pos += int.from_bytes(data[pos + 4 : pos + 8], "little")
    return offsets


def _logons(n: int) -> list[EvtxEvent]:
    return [
        EvtxEvent(4625, T0.replace(second=i), "WKSTN-042.contoso.com",
                  data={"TargetUserName": f"user{i}", "LogonType": "3",
                        "IpAddress": "198.51.100.9"})
        for i in range(n)
    ]  # fmt: skip


# (offset inside the record, bytes written there)
HEADER_DAMAGE = {
    "signature": (0, b"\xde\xad\xbe\xef"),
    "size": (4, (0x48).to_bytes(4, "little")),  # a plausible size that is not the record's
    "zeroed": (0, b"\0" * 64),
}


@pytest.mark.parametrize("damage", sorted(HEADER_DAMAGE))
def test_damaged_record_header_does_not_lose_the_rest_of_its_chunk(tmp_path, db, damage):
    data = bytearray(evtx_bytes(_logons(8), records_per_chunk=8))
    offsets = _record_offsets(bytes(data))
    assert len(offsets) == 8
    where, patch = HEADER_DAMAGE[damage]
    at = offsets[2] + where  # record 3 of 8, all in one chunk
    data[at : at + len(patch)] = patch
    path = tmp_path / "damaged.evtx"
    path.write_bytes(bytes(data))
    f = import_paths([path], db=db).files[0]
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (8, 7, 1)
    assert f.rejections[0].line == 3 and "damaged record header" in f.rejections[0].reason
    names = table(db, 'SELECT TargetUserName FROM SecurityEvent ORDER BY "TimeGenerated"')
    assert names["TargetUserName"].tolist() == [f"user{i}" for i in range(8) if i != 2]


def test_damage_at_the_end_of_a_chunk_counts_the_records_it_took(tmp_path, db):
    data = bytearray(evtx_bytes(_logons(10), records_per_chunk=5))  # two chunks
    last = _record_offsets(bytes(data), chunk=0)[-1]
    data[last : last + 8] = b"\0" * 8  # record 5, the last of chunk 0
    path = tmp_path / "end.evtx"
    path.write_bytes(bytes(data))
    f = import_paths([path], db=db).files[0]
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (10, 9, 1)
    assert f.rejections[0].line == 5 and "end of chunk 0" in f.rejections[0].reason


def test_damaged_record_number_is_told_by_its_place(tmp_path, db):
    data = bytearray(evtx_bytes(_logons(4)))
    second, third = _record_offsets(bytes(data))[1:3]
    data[second + 8 : second + 16] = (987654).to_bytes(8, "little")  # record 2's number
    data[third : third + 4] = b"\0\0\0\0"  # and record 3 unreadable after it
    path = tmp_path / "renumbered.evtx"
    path.write_bytes(bytes(data))
    f = import_paths([path], db=db).files[0]
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (4, 3, 1)
    assert f.rejections[0].line == 3


def test_gzipped_evtx_reads_like_the_plain_file(tmp_path):
    plain = tmp_path / "Security.evtx"
    plain.write_bytes(evtx_bytes(_events(), records_per_chunk=4))
    packed = tmp_path / "Security-archive.evtx.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    frames = []
    for path in (plain, packed):
        db = tmp_path / f"{path.name}.duckdb"
        f = import_paths([path], db=db).files[0]
        assert (f.format, f.rows_read, f.rows_stored) == ("evtx", 6, 6)
        frames.append(table(db, 'SELECT * FROM SecurityEvent ORDER BY "TimeGenerated"'))
    pd.testing.assert_frame_equal(frames[0], frames[1])

    cut = tmp_path / "cut.evtx.gz"  # compressed while Windows was still writing chunk 2
    whole = gzip.compress(plain.read_bytes())
    cut.write_bytes(whole[: len(whole) - 200])
    f = import_paths([cut], db=tmp_path / "cut.duckdb").files[0]
    assert f.rows_read == 6 and f.rows_stored + f.rows_rejected == 6 and f.rows_stored >= 4
    assert any("gzip file is cut short" in w for w in f.warnings)


# ------------------------------------- one event, every shipper: the same stored row
#
# Shapes: winlogbeat 8 (ECS, `winlog.*`; event_data keys sorted, as Beats write
# them), winlogbeat 6 (top-level `event_data`, `log_name`), nxlog im_msvistalog
# JSON through a Logstash input (EventTime local, `@timestamp` UTC, collector in
# `host`, channel lower-cased by the pipeline), and a Log Analytics portal CSV
# export of SecurityEvent (`TimeGenerated [UTC]`, `Type`). Values are ours.

COLLECTOR_ZONE = pd.Timedelta(hours=-5)  # the nxlog collector runs on New York time (EST)
HOST = "WKSTN-042.contoso.com"
FAILED_LOGON = {  # Windows' field order
    "SubjectUserSid": "S-1-0-0",
    "SubjectUserName": "-",
    "SubjectDomainName": "-",
    "SubjectLogonId": "0x0",
    "TargetUserSid": "S-1-0-0",
    "TargetUserName": "adm' OR 1=1;--<b>",
    "TargetDomainName": "CONTOSO",
    "Status": "0xc000006d",
    "FailureReason": "%%2313",
    "SubStatus": "0xc000006a",
    "LogonType": "10",
    "LogonProcessName": "User32 ",
    "AuthenticationPackageName": "Negotiate",
    "WorkstationName": "WKSTN-042",
    "TransmittedServices": "-",
    "LmPackageName": "-",
    "KeyLength": "0",
    "ProcessId": "0x1f4",
    "ProcessName": "C:\\Windows\\System32\\svchost.exe",
    "IpAddress": "203.0.113.77",
    "IpPort": "50123",
}
NEW_PROCESS = {
    "SubjectUserSid": "S-1-5-21-3623811015-3361044348-30300820-1104",
    "SubjectUserName": "bob",
    "SubjectDomainName": "CONTOSO",
    "SubjectLogonId": "0x3e7a1",
    "NewProcessId": "0x1a2c",
    "NewProcessName": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "TokenElevationType": "%%1938",
    "ProcessId": "0x13f0",
    "CommandLine": 'powershell -nop -enc SQBFAFgA "<img src=x>" & echo $(id)',
    "TargetUserSid": "S-1-0-0",
    "TargetUserName": "-",
    "TargetDomainName": "-",
    "TargetLogonId": "0x0",
    "ParentProcessName": "C:\\Windows\\explorer.exe",
    "MandatoryLabel": "S-1-16-8192",
}
SECURITY = [  # event id, task number, task name, outcome, UTC time, data
    (4625, 12544, "Logon", "failure", T0, FAILED_LOGON),
    (4688, 13312, "Process Creation", "success", T0.replace(second=5), NEW_PROCESS),
]
AUDIT = {"success": 0x8020000000000000, "failure": 0x8010000000000000}


def _signed(mask: int) -> int:
    """nxlog writes the 64-bit Keywords mask as a signed number."""
    return mask - (1 << 64) if mask >= 1 << 63 else mask


def _winlogbeat8(eid, task, task_name, outcome, when, data) -> dict:
    return {
        "@timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "agent": {"type": "winlogbeat", "version": "8.11.3", "name": "WKSTN-042"},
        "ecs": {"version": "8.0.0"},
        "event": {"code": str(eid), "kind": "event", "outcome": outcome,
                  "provider": "Microsoft-Windows-Security-Auditing",
                  "created": "2026-11-27T10:03:41.507Z", "ingested": "2026-11-27T10:03:44Z"},
        "host": {"name": "wkstn-042", "hostname": "wkstn-042"},
        "log": {"level": "information"},
        "message": "An account failed to log on.",
        "winlog": {"api": "wineventlog", "channel": "Security", "computer_name": HOST,
                   "event_id": str(eid), "keywords": [f"Audit {outcome.title()}"],
                   "opcode": "Info", "process": {"pid": 684, "thread": {"id": 4932}},
                   "provider_guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}",
                   "provider_name": "Microsoft-Windows-Security-Auditing",
                   "record_id": str(3000 + eid), "task": task_name,
                   "event_data": dict(sorted(data.items()))},
    }  # fmt: skip


def _winlogbeat6(eid, task, task_name, outcome, when, data) -> dict:
    return {
        "@timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "beat": {"hostname": "wkstn-042", "name": "wkstn-042", "version": "6.8.23"},
        "computer_name": HOST,
        "event_data": dict(sorted(data.items())),
        "event_id": eid,
        "keywords": [f"Audit {outcome.title()}"],
        "level": "Information",
        "log_name": "Security",
        "message": "An account failed to log on.",
        "opcode": "Info",
        "process_id": 684,
        "provider_guid": "{54849625-5478-4994-A5BA-3E3B0328C30D}",
        "record_number": str(3000 + eid),
        "source_name": "Microsoft-Windows-Security-Auditing",
        "task": task_name,
        "thread_id": 4932,
        "type": "wineventlog",
    }


def _nxlog(eid, task, task_name, outcome, when, data) -> dict:
    local = (pd.Timestamp(when).tz_convert(None) + COLLECTOR_ZONE).to_pydatetime()
    received = local.replace(second=local.second + 3)
    stamped = pd.Timestamp(when) + pd.Timedelta(seconds=3.412)  # Logstash, a moment later
    return {
        "EventTime": local.strftime("%Y-%m-%d %H:%M:%S"),
        "Hostname": HOST,
        "Keywords": _signed(AUDIT[outcome]),
        "EventType": f"AUDIT_{outcome.upper()}",
        "SeverityValue": 4 if outcome == "failure" else 2,
        "Severity": "ERROR" if outcome == "failure" else "INFO",
        "EventID": eid,
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}",
        "Version": 0,
        "Task": task,
        "OpcodeValue": 0,
        "RecordNumber": 3000 + eid,
        "ExecutionProcessID": 684,
        "ThreadID": 4932,
        "Channel": "security",
        "Message": "An account failed to log on.\r\n\r\nSubject: ...",
        "Category": task_name,
        "Opcode": "Info",
        **data,
        "EventReceivedTime": received.strftime("%Y-%m-%d %H:%M:%S"),
        "SourceModuleName": "eventlog",
        "SourceModuleType": "im_msvistalog",
        "@timestamp": stamped.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "@version": "1",
        "host": "wec01.contoso.com",
        "port": 51544,
        "tags": ["windows"],
    }


def _sentinel_csv(path) -> None:
    """A portal export: Sentinel's columns, times in its CSV format, EventData in Windows' order."""
    import csv

    rows = []
    for eid, task, _, outcome, when, data in SECURITY:
        subject = None if data["SubjectUserName"] == "-" else "CONTOSO\\bob"
        target = "CONTOSO\\" + data["TargetUserName"] if data["TargetUserName"] != "-" else None
        account = target or subject
        row = {
            "TenantId": "3d1c2c6e-0000-4000-8000-000000000001",
            "TimeGenerated [UTC]": when.strftime("%m/%d/%Y, %I:%M:%S.000 %p"),
            "SourceSystem": "OpsManager",
            "Account": account,
            "AccountType": "User",
            "Computer": HOST,
            "EventSourceName": "Microsoft-Windows-Security-Auditing",
            "Channel": "Security",
            "Task": task,
            "Level": "16" if outcome == "failure" else "8",
            "EventData": '<EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event">'
            + "".join(f'<Data Name="{k}">{escape(v)}</Data>' for k, v in data.items())
            + "</EventData>",
            "EventID": eid,
            "Activity": f"{eid} - " + ("An account failed to log on." if eid == 4625
                                       else "A new process has been created."),
            "SubjectAccount": subject,
            "TargetAccount": target,
            "LogonTypeName": "10 - RemoteInteractive" if eid == 4625 else None,
            "Process": ("svchost.exe" if eid == 4625 else "powershell.exe"),
            "Type": "SecurityEvent",
        }  # fmt: skip
        row.update({k: v for k, v in data.items() if k in SECURITY_COLUMNS})
        rows.append(row)
    names = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)


def _stored(tmp_path, name: str, write) -> pd.DataFrame:
    path = tmp_path / name
    write(path)
    db = tmp_path / f"{name}.duckdb"
    f = import_paths([path], db=db).files[0]
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (2, 2, 0), f.summary()
    return table(db, 'SELECT * FROM SecurityEvent ORDER BY "EventID"')


def _jsonl(make):
    def write(path):
        path.write_text("".join(json.dumps(make(*ev)) + "\n" for ev in SECURITY))

    return write


def _evtx(path):
    events = [
        EvtxEvent(eid, when, HOST, task=task, data=data, keywords=AUDIT[outcome])
        for eid, task, _, outcome, when, data in SECURITY
    ]
    path.write_bytes(evtx_bytes(events))


def _fields(xml: str) -> dict[str, str]:
    root = ElementTree.fromstring(xml)
    return {d.get("Name"): d.text or "" for d in root}


def _empty_as_null(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = out[name].map(lambda v: None if v == "" else v)
    return out


def test_the_same_security_events_land_identically_from_every_shipper(tmp_path):
    frames = {
        "evtx": _stored(tmp_path, "Security.evtx", _evtx),
        "winlogbeat 8": _stored(tmp_path, "wlb8.json", _jsonl(_winlogbeat8)),
        "winlogbeat 6": _stored(tmp_path, "wlb6.json", _jsonl(_winlogbeat6)),
        "nxlog": _stored(tmp_path, "nxlog.json", _jsonl(_nxlog)),
        "sentinel": _stored(tmp_path, "SecurityEvent.csv", _sentinel_csv),
    }
    evtx = frames.pop("evtx")
    filled = [c for c in evtx.columns if evtx[c].notna().any()]
    for name, frame in frames.items():
        # Sentinel's bookkeeping (TenantId, SourceSystem) is in no log file.
        assert [c for c in frame.columns if frame[c].notna().any() and c not in filled] == (
            ["TenantId", "SourceSystem"] if name == "sentinel" else []
        ), name
        compared = [c for c in filled if not (name == "sentinel" and c == "EventData")]
        if name == "sentinel":  # a CSV cannot tell an empty string from a null (Kusto's isempty)
            frame = _empty_as_null(frame)
        pd.testing.assert_frame_equal(frame[compared], evtx[compared], obj=name)
    # A real export keeps Windows' field order in EventData; the importers list the
    # fields by name. The same fields and values either way:
    sentinel = frames["sentinel"]["EventData"].map(_fields).tolist()
    assert sentinel == evtx["EventData"].map(_fields).tolist()

    # What the rows say, from the events themselves.
    assert evtx["TimeGenerated"].tolist() == [pd.Timestamp(ev[4]) for ev in SECURITY]
    failed, process = evtx.iloc[0], evtx.iloc[1]
    assert (failed["Level"], process["Level"]) == ("16", "8")
    assert (failed["Task"], process["Task"]) == (12544, 13312)
    assert failed["Account"] == "CONTOSO\\" + FAILED_LOGON["TargetUserName"]
    assert (failed["LogonType"], failed["IpAddress"]) == (10, "203.0.113.77")
    assert (process["Account"], process["Process"]) == ("CONTOSO\\bob", "powershell.exe")
    assert process["CommandLine"] == NEW_PROCESS["CommandLine"]
    assert _fields(failed["EventData"]) == FAILED_LOGON
    assert set(evtx["Computer"]) == {HOST}  # the event's host, never the collector


# ------------------------------------------------ nxlog: every event stored in UTC


def _nx(eid: int, **times) -> dict:
    return {"EventID": eid, "Hostname": HOST, "SourceName": "Microsoft-Windows-Sysmon",
            "Channel": "Microsoft-Windows-Sysmon/Operational", "EventType": "INFO",
            "Image": "C:\\Windows\\System32\\cmd.exe", **times}  # fmt: skip


def test_nxlog_local_times_become_utc_by_the_first_rule_that_applies(tmp_path, db):
    events = [
        # 1. a zone in EventTime wins over everything else in the record
        _nx(1, EventTime="2026-11-27T12:00:00+02:00", EventReceivedTime="2026-11-27 05:00:01",
            **{"@timestamp": "2026-11-27T10:00:01.2Z"}),
        # 2. the collector's offset from EventReceivedTime against @timestamp: EST, then
        #    EDT for a collector whose clock changed (two offsets, each reported)
        _nx(2, EventTime="2026-11-27 05:00:00", EventReceivedTime="2026-11-27 05:00:02",
            **{"@timestamp": "2026-11-27T10:00:02.941Z"}),
        _nx(3, EventTime="2026-11-27 05:00:00", EventReceivedTime="2026-11-27 05:00:03",
            **{"@timestamp": "2026-11-27T10:00:03.100Z"}),
        _nx(4, EventTime="2026-10-27 06:00:00", EventReceivedTime="2026-10-27 06:00:01",
            **{"@timestamp": "2026-10-27T10:00:01.5Z"}),
        # 2b. or from a zone written in EventReceivedTime
        _nx(5, EventTime="2026-11-27 15:30:00", EventReceivedTime="2026-11-27T15:30:01+05:30"),
        # 3. no way to the offset: Sysmon's own UtcTime
        _nx(6, EventTime="2026-11-27 05:00:00", UtcTime="2026-11-27 10:00:00.250"),
        # 4. nothing at all: taken as UTC, loudly
        _nx(7, EventTime="2026-11-27 05:00:00"),
    ]  # fmt: skip
    path = tmp_path / "nxlog.json"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    f = import_paths([path], db=db).files[0]
    assert (f.rows_stored, f.rows_rejected) == (7, 0)
    rows = table(db, 'SELECT EventID, TimeGenerated, EventLog FROM "Event" ORDER BY EventID')
    assert rows["TimeGenerated"].tolist() == [
        pd.Timestamp("2026-11-27T10:00:00Z"),
        pd.Timestamp("2026-11-27T10:00:00Z"),
        pd.Timestamp("2026-11-27T10:00:00Z"),
        pd.Timestamp("2026-10-27T10:00:00Z"),
        pd.Timestamp("2026-11-27T10:00:00Z"),
        pd.Timestamp("2026-11-27T10:00:00.250Z"),
        pd.Timestamp("2026-11-27T05:00:00Z"),
    ]
    times = [w for w in f.notes + f.warnings if w.startswith("time: ")]
    assert [w for w in f.warnings if w.startswith("time: ")] == [times[-1]]  # the guess warns
    assert times == [
        "time: 2 nxlog event(s): EventTime is the collector's local time; converted with the "
        "collector's UTC offset UTC-05:00 found in the record (EventReceivedTime against the "
        "pipeline's UTC @timestamp)",
        "time: 1 nxlog event(s): EventTime carries its own zone",
        "time: 1 nxlog event(s): EventTime is the collector's local time; converted with the "
        "collector's UTC offset UTC-04:00 found in the record (EventReceivedTime against the "
        "pipeline's UTC @timestamp)",
        "time: 1 nxlog event(s): EventTime is the collector's local time; converted with the "
        "collector's UTC offset UTC+05:30 found in the record (the zone of EventReceivedTime)",
        "time: 1 nxlog event(s): EventTime has no time zone and the record does not give the "
        "collector's offset; the event's own UTC time (UtcTime) used",
        "time: 1 nxlog event(s): EventTime has no time zone and nothing in the record tells it "
        "(no EventReceivedTime with @timestamp, no UtcTime): TAKEN AS UTC, so these times may "
        "be hours off",
    ]


def test_nxlog_event_with_an_unreadable_time_is_rejected_saying_so(tmp_path, db):
    path = tmp_path / "nxlog.json"
    bad = _nx(1, EventTime="yesterday'; DROP TABLE Event;--")
    path.write_text(json.dumps(bad) + "\n" + json.dumps(_nx(2, EventTime="2026-11-27 05:00:00")))
    f = import_paths([path], db=db).files[0]
    assert (f.rows_read, f.rows_stored, f.rows_rejected) == (2, 1, 1)
    assert f.rejections[0].line == 1 and "no readable time" in f.rejections[0].reason
