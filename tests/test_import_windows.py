"""Windows events: .evtx (written by tests/helpers/evtx_writer), winlogbeat and nxlog JSON."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone

import pandas as pd
import pytest
from helpers.evtx_writer import EvtxEvent, evtx_bytes
from helpers.store_sql import table

from nbcatalog.data.importers import UnreadableFileError, import_paths

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
    g = import_paths([tiny], db=db).files[0]
    assert g.rows_stored == 0 and g.rows_rejected == 1
    assert "last chunk has only 100 bytes" in g.rejections[0].reason


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
