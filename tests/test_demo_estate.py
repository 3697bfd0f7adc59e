"""The demo estate: every planted incident, checked with SQL on the built store, plus
determinism, scale, and the safety of the build itself (atomic, refuses open files).

The main store is the session's `demo_db` (seed 42, scale 1, built "now"); the
determinism and scale checks build small extra stores of their own.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from nbcatalog.data.demo import build_demo
from nbcatalog.data.demo.estate import HOSTS, USERS_BY_NAME
from nbcatalog.data.schema import TABLES
from nbcatalog.errors import DataSourceError, UsageError

SCRIPT = '<script>alert("nbcatalog")</script>'
FIXED_NOW = "2026-01-10T12:00:00Z"


@pytest.fixture(scope="module")
def con(demo_db: Path):
    c = duckdb.connect(str(demo_db), read_only=True)
    c.execute("SET TimeZone = 'UTC'")
    yield c
    c.close()


def rows(con, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def one(con, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchone()


# ---------------------------------------------------------------- shape of the store


def test_every_table_has_rows_and_utc_times(con):
    for name, table in TABLES.items():
        count = one(con, f'SELECT count(*) FROM "{name}"')[0]  # noqa: S608 - schema names
        assert count > 0, f"{name} is empty"
        kind = one(con, f'SELECT typeof("{table.time_column}") FROM "{name}" LIMIT 1')  # noqa: S608
        if kind:
            assert kind[0] == "TIMESTAMP WITH TIME ZONE"


def test_events_span_the_seven_days_before_generation(con):
    now = pd.Timestamp.now(tz="UTC")
    first, last = one(con, "SELECT min(TimeGenerated), max(TimeGenerated) FROM SecurityEvent")
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    assert last <= now
    assert now - last < pd.Timedelta(hours=1), "activity should run up to generation time"
    assert pd.Timedelta(days=6, hours=20) < last - first <= pd.Timedelta(days=7)
    for table in ("Syslog", "Heartbeat", "SigninLogs", "AzureNetworkAnalytics_CL"):
        lo, hi = one(con, f'SELECT min(TimeGenerated), max(TimeGenerated) FROM "{table}"')  # noqa: S608
        assert pd.Timestamp(hi) <= now and now - pd.Timestamp(lo) <= pd.Timedelta(days=7, hours=1)


def test_estate_hosts_and_heartbeat_address_plan(con):
    beats = rows(con, "SELECT DISTINCT Computer, ComputerIP FROM Heartbeat")
    assert dict(zip(beats.Computer, beats.ComputerIP, strict=True)) == {h.name: h.ip for h in HOSTS}
    windows = {r[0] for r in con.execute("SELECT DISTINCT Computer FROM SecurityEvent").fetchall()}
    assert {f"WKSTN-{i:03d}" for i in range(1, 51)} | {"WIN-DC01", "WIN-FS01"} == windows
    linux = {r[0] for r in con.execute("SELECT DISTINCT Computer FROM Syslog").fetchall()}
    assert linux == {"LNX-WEB01", "LNX-DB01", "LNX-JUMP01"}
    for ip in beats.ComputerIP:
        assert ipaddress.ip_address(ip).is_private


def test_background_has_daily_rhythm_and_logon_variety(con):
    types = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT LogonType FROM SecurityEvent WHERE EventID = 4624"
        ).fetchall()
    }
    assert {2, 3, 5, 7, 10} <= types
    names = rows(
        con,
        "SELECT DISTINCT LogonType, LogonTypeName FROM SecurityEvent WHERE LogonType IS NOT NULL",
    )
    assert all(
        n.startswith(f"{t} - ") for t, n in zip(names.LogonType, names.LogonTypeName, strict=True)
    )
    # People unlock their workstations in Seattle office hours, rarely at 3 a.m.
    by_hour = rows(
        con,
        """
        SELECT extract(hour FROM timezone('America/Los_Angeles', TimeGenerated)) AS h, count(*) n
        FROM SecurityEvent WHERE EventID = 4624 AND LogonType = 7 GROUP BY h""",
    )
    counts = dict(zip(by_hour.h, by_hour.n, strict=True))
    assert counts.get(10, 0) > 10 * max(counts.get(3, 0), 1)
    # Honest typos: a few 4625s at desks, each soon followed by a success.
    typos = one(
        con,
        "SELECT count(*) FROM SecurityEvent WHERE EventID = 4625 "
        "AND LogonType IN (2, 7) AND SubStatus = '0xc000006a'",
    )[0]
    assert 20 < typos < 2000


def test_eventdata_xml_agrees_with_parsed_columns(con):
    sample = rows(
        con,
        """
        SELECT * FROM SecurityEvent USING SAMPLE 400 ROWS (reservoir, 7)
        UNION ALL SELECT * FROM SecurityEvent WHERE CommandLine LIKE '%<script>%'""",
    )
    checked = 0
    for row in sample.itertuples(index=False):
        data = {d.get("Name"): d.text or "" for d in ET.fromstring(row.EventData)}
        for col in (
            "TargetUserName",
            "SubjectUserName",
            "IpAddress",
            "CommandLine",
            "NewProcessName",
            "TargetLogonId",
            "SubjectLogonId",
            "WorkstationName",
        ):
            value = getattr(row, col)
            if value is not None and not pd.isna(value):
                assert data[col] == value, (row.EventID, col)
                checked += 1
        if row.LogonType is not None and not pd.isna(row.LogonType):
            assert int(data["LogonType"]) == row.LogonType
        assert row.Activity.startswith(f"{row.EventID} - ")
        assert row.Channel == "Security"
    assert checked > 400


# ---------------------------------------------------------------- RDP brute force


def test_rdp_brute_force_then_bob_logs_on(con):
    fails = rows(
        con,
        """
        SELECT TimeGenerated, TargetUserName FROM SecurityEvent
        WHERE EventID = 4625 AND LogonType = 10 AND Computer = 'WKSTN-042'
          AND IpAddress = '203.0.113.77' ORDER BY TimeGenerated""",
    )
    assert len(fails) >= 300
    assert fails.TargetUserName.nunique() >= 20
    span = fails.TimeGenerated.max() - fails.TimeGenerated.min()
    assert span <= pd.Timedelta(minutes=30)
    assert pd.Timestamp.now(tz="UTC") - fails.TimeGenerated.min() <= pd.Timedelta(hours=48)

    ok = rows(
        con,
        """
        SELECT TimeGenerated, Account, TargetUserName, TargetLogonId FROM SecurityEvent
        WHERE EventID = 4624 AND LogonType = 10 AND IpAddress = '203.0.113.77'""",
    )
    assert len(ok) == 1
    assert ok.Account[0] == "CONTOSO\\bob" and ok.TargetUserName[0] == "bob"
    assert ok.TimeGenerated[0] > fails.TimeGenerated.max()
    assert ok.TimeGenerated[0] - fails.TimeGenerated.max() < pd.Timedelta(minutes=10)


def test_after_the_logon_bob_plants_persistence(con):
    logon = one(
        con,
        "SELECT TimeGenerated, TargetLogonId FROM SecurityEvent WHERE EventID = 4624 "
        "AND IpAddress = '203.0.113.77'",
    )
    after = rows(
        con,
        """
        SELECT * FROM SecurityEvent WHERE Computer = 'WKSTN-042' AND TimeGenerated >= ?
          AND SubjectLogonId = ? ORDER BY TimeGenerated""",
        [logon[0], logon[1]],
    )
    ids = set(after.EventID)
    assert {4720, 4732, 4698, 4697, 4688} <= ids
    created = after[after.EventID == 4720].iloc[0]
    assert created.TargetUserName == "svc_backup" and created.SubjectUserName == "bob"
    added = after[after.EventID == 4732].iloc[0]
    assert added.MemberSid == created.TargetSid
    assert added.TargetUserName == "Administrators" and added.TargetSid == "S-1-5-32-544"
    assert (after.Account[after.EventID != 4624] == "CONTOSO\\bob").all()

    ps = after[(after.EventID == 4688) & (after.Process == "powershell.exe")]
    assert len(ps) == 1
    encoded = re.search(r"-enc (\S+)", ps.CommandLine.iloc[0]).group(1)
    decoded = base64.b64decode(encoded).decode("utf-16-le")
    assert "http://malicious.example/payload.ps1" in decoded

    service = rows(
        con,
        "SELECT * FROM Event WHERE EventID = 7045 AND Computer = 'WKSTN-042' "
        "AND TimeGenerated >= ?",
        [logon[0]],
    )
    assert len(service) == 1 and "UpdaterSvc" in service.EventData[0]


def test_script_text_is_stored_verbatim_and_escaped_in_xml(con):
    hits = rows(
        con,
        "SELECT CommandLine, EventData, Account FROM SecurityEvent WHERE contains(CommandLine, ?)",
        [SCRIPT],
    )
    assert len(hits) == 1
    assert hits.Account[0] == "CONTOSO\\bob"
    assert SCRIPT not in hits.EventData[0]
    assert "&lt;script&gt;alert(&quot;nbcatalog&quot;)&lt;/script&gt;" in hits.EventData[0]
    data = {d.get("Name"): d.text for d in ET.fromstring(hits.EventData[0])}
    assert data["CommandLine"] == hits.CommandLine[0]


# ---------------------------------------------------------------- SSH spray


def test_ssh_password_spray_then_deploy_accepted(con):
    fails = rows(
        con,
        """
        SELECT TimeGenerated, SyslogMessage, ProcessName, ProcessID, Facility FROM Syslog
        WHERE Computer = 'LNX-WEB01' AND SyslogMessage LIKE 'Failed password for %'
          AND SyslogMessage LIKE '% from 198.51.100.23 port %'""",
    )
    assert len(fails) >= 200
    openssh = re.compile(
        r"^Failed password for (invalid user )?(\S+) from 198\.51\.100\.23 port \d+ ssh2$"
    )
    users = {openssh.match(m).group(2) for m in fails.SyslogMessage}
    assert len(users) >= 30
    assert set(fails.ProcessName) == {"sshd"} and set(fails.Facility) == {"auth"}
    assert (fails.ProcessID > 0).all()
    assert fails.TimeGenerated.max() - fails.TimeGenerated.min() <= pd.Timedelta(minutes=30)

    ok = rows(
        con,
        "SELECT TimeGenerated, SyslogMessage FROM Syslog WHERE Computer = 'LNX-WEB01' "
        "AND starts_with(SyslogMessage, 'Accepted password for deploy from "
        "198.51.100.23')",
    )
    assert len(ok) == 1
    assert re.fullmatch(
        r"Accepted password for deploy from 198\.51\.100\.23 port \d+ ssh2", ok.SyslogMessage[0]
    )
    assert ok.TimeGenerated[0] > fails.TimeGenerated.max()
    # pam_unix reports the same failures the way real hosts do.
    pam = one(
        con,
        "SELECT count(*) FROM Syslog WHERE Facility = 'authpriv' AND contains("
        "SyslogMessage, 'authentication failure;') AND contains(SyslogMessage, "
        "'rhost=198.51.100.23')",
    )[0]
    assert pam >= 200


def test_exposed_linux_hosts_get_ordinary_internet_noise(con):
    msgs = rows(
        con,
        "SELECT SyslogMessage FROM Syslog WHERE ProcessName = 'sshd' "
        "AND starts_with(SyslogMessage, 'Invalid user ')",
    )
    sources = {re.search(r" from (\S+) port", m).group(1) for m in msgs.SyslogMessage}
    public = {s for s in sources if ipaddress.ip_address(s).is_global}
    assert len(public) >= 20
    flows = rows(
        con,
        "SELECT DISTINCT SrcIP_s FROM AzureNetworkAnalytics_CL "
        "WHERE FlowDirection_s = 'I' AND VM_s LIKE '%/LNX-WEB01'",
    )
    assert sum(ipaddress.ip_address(ip).is_global for ip in flows.SrcIP_s) >= 20


# ---------------------------------------------------------------- bob in the cloud


def test_bob_signs_in_from_another_country_within_hours(con):
    s = rows(
        con,
        """
        SELECT TimeGenerated, IPAddress, ResultType,
               json_extract_string(LocationDetails, '$.city') AS city,
               json_extract_string(LocationDetails, '$.countryOrRegion') AS country,
               json_extract(Status, '$.errorCode')::INT AS error
        FROM SigninLogs WHERE UserPrincipalName = 'bob@contoso.com' ORDER BY TimeGenerated""",
    )
    assert (s.ResultType.astype(int) == s.error).all()
    good = s[s.ResultType == "0"]
    home = good[good.IPAddress != "203.0.113.77"]
    assert set(home.city) == {"Seattle"} and set(home.country) == {"US"}
    away = good[good.IPAddress == "203.0.113.77"]
    assert len(away) == 1 and away.country.iloc[0] != "US"
    t = away.TimeGenerated.iloc[0]
    before = home[(home.TimeGenerated < t) & (home.TimeGenerated > t - pd.Timedelta(hours=4))]
    assert len(before) >= 1


def test_bob_downloads_burst_and_role_assignment(con):
    dl = rows(
        con,
        """
        SELECT TimeGenerated FROM OfficeActivity WHERE UserId = 'bob@contoso.com'
          AND Operation = 'FileDownloaded' AND ClientIP = '203.0.113.77'""",
    )
    assert len(dl) >= 50
    assert dl.TimeGenerated.max() - dl.TimeGenerated.min() <= pd.Timedelta(minutes=15)
    role = rows(
        con,
        """
        SELECT * FROM AzureActivity WHERE Caller = 'bob@contoso.com'
          AND OperationNameValue = 'Microsoft.Authorization/roleAssignments/write'""",
    )
    assert set(role.ActivityStatusValue) == {"Start", "Success"}
    assert set(role.CallerIpAddress) == {"203.0.113.77"}
    assert "roleDefinitions" in json.loads(role.Properties[0])["requestbody"]


def test_bob_name_forms_and_a_different_bobby(con):
    bob = USERS_BY_NAME["bob"]
    assert (
        one(
            con,
            "SELECT count(*) FROM SecurityEvent WHERE Account = 'CONTOSO\\bob' "
            "AND LogonType IN (2, 7)",
        )[0]
        > 5
    )
    assert (
        one(
            con,
            "SELECT count(*) FROM Syslog WHERE Computer = 'LNX-JUMP01' AND "
            "starts_with(SyslogMessage, 'Accepted publickey for bob from')",
        )[0]
        > 0
    )
    people = rows(
        con,
        "SELECT DISTINCT UserPrincipalName, UserId, UserDisplayName FROM SigninLogs "
        "WHERE UserPrincipalName ILIKE '%bob%'",
    )
    assert set(people.UserPrincipalName) == {"bob@contoso.com", "bobby.jones@contoso.com"}
    assert people.UserId.nunique() == 2
    assert bob.object_id in set(people.UserId)
    # bobby.jones is never the bob of the incident.
    assert (
        one(
            con,
            "SELECT count(*) FROM SigninLogs WHERE UserPrincipalName = "
            "'bobby.jones@contoso.com' AND IPAddress = '203.0.113.77'",
        )[0]
        == 0
    )


# ---------------------------------------------------------------- detections, flows, TI


def _entities(text: str) -> list[dict]:
    ents = json.loads(text)
    assert all("$id" in e and "Type" in e for e in ents)
    return ents


def test_alerts_name_the_incident_entities(con):
    alerts = rows(
        con,
        "SELECT AlertSeverity, Entities FROM SecurityAlert WHERE Entities LIKE ? "
        "OR Entities LIKE ?",
        ["%203.0.113.77%", "%198.51.100.23%"],
    )
    alerts = pd.concat(
        [
            alerts,
            rows(
                con,
                "SELECT AlertSeverity, Entities FROM SecurityAlert "
                "WHERE CompromisedEntity IN ('WKSTN-042', 'LNX-WEB01', "
                "'bob@contoso.com')",
            ),
        ]
    ).drop_duplicates()
    assert len(alerts) >= 5
    assert alerts.AlertSeverity.nunique() >= 2
    named = {"host": set(), "account": set(), "ip": set(), "url": set(), "process": set()}
    for text in alerts.Entities:
        for e in _entities(text):
            key = {
                "host": "HostName",
                "account": "Name",
                "ip": "Address",
                "url": "Url",
                "process": "CommandLine",
            }.get(e["Type"])
            if key:
                named[e["Type"]].add(e[key])
    assert {"WKSTN-042", "LNX-WEB01"} <= named["host"]
    assert "bob" in named["account"]
    assert {"203.0.113.77", "198.51.100.23", "192.0.2.66"} <= named["ip"]
    assert "http://malicious.example/payload.ps1" in named["url"]
    assert named["process"]


def test_two_bookmarks_about_bob_and_wkstn042(con):
    marks = rows(con, "SELECT BookmarkName, Entities, CreatedBy FROM HuntingBookmark")
    assert len(marks) == 2
    ents = [e for text in marks.Entities for e in _entities(text)]
    assert any(e["Type"] == "account" and e["Name"] == "bob" for e in ents)
    assert any(e["Type"] == "host" and e["HostName"] == "WKSTN-042" for e in ents)
    assert all(json.loads(c)["Email"].endswith("@contoso.com") for c in marks.CreatedBy)


def test_flows_show_rdp_in_and_c2_out(con):
    rdp = one(
        con,
        """
        SELECT sum(AllowedInFlows_d) FROM AzureNetworkAnalytics_CL
        WHERE FlowDirection_s = 'I' AND L4Protocol_s = 'T' AND DestPort_d = 3389
          AND SrcIP_s = '203.0.113.77' AND DestIP_s = '10.10.1.52' AND VM_s LIKE '%/WKSTN-042'""",
    )
    assert rdp[0] >= 300
    c2 = rows(
        con,
        """
        SELECT FlowStartTime_t FROM AzureNetworkAnalytics_CL
        WHERE FlowDirection_s = 'O' AND SrcIP_s = '10.20.0.10' AND DestIP_s = '192.0.2.66'
          AND DestPort_d = 4444 AND VM_s LIKE '%/LNX-WEB01' ORDER BY 1""",
    )
    assert len(c2) >= 20
    assert set(c2.FlowStartTime_t.diff().dropna()) == {pd.Timedelta(minutes=10)}


def test_threat_intelligence_covers_the_attacker_infrastructure(con):
    ti = rows(con, "SELECT * FROM ThreatIntelligenceIndicator WHERE Active")
    assert {"203.0.113.77", "192.0.2.66"} <= set(ti.NetworkIP.dropna())
    assert "http://malicious.example/payload.ps1" in set(ti.Url.dropna())
    assert "malicious.example" in set(ti.DomainName.dropna())
    hashes = ti[ti.FileHashType == "SHA256"].FileHashValue
    assert len(hashes) >= 1 and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    assert "198.51.100.23" not in set(ti.NetworkIP.dropna())


def test_alice_is_an_ordinary_benign_user(con):
    assert one(con, "SELECT count(*) FROM SecurityEvent WHERE Account = 'CONTOSO\\alice'")[0] > 20
    assert (
        one(con, "SELECT count(*) FROM SigninLogs WHERE UserPrincipalName = 'alice@contoso.com'")[0]
        > 0
    )
    assert (
        one(
            con,
            "SELECT count(*) FROM SecurityAlert WHERE Entities ILIKE '%alice%' "
            "OR CompromisedEntity ILIKE '%alice%'",
        )[0]
        == 0
    )
    assert one(con, "SELECT count(*) FROM HuntingBookmark WHERE Entities ILIKE '%alice%'")[0] == 0
    countries = rows(
        con,
        "SELECT DISTINCT json_extract_string(LocationDetails, "
        "'$.countryOrRegion') c FROM SigninLogs WHERE UserPrincipalName = "
        "'alice@contoso.com'",
    )
    assert set(countries.c) == {"US"}
    ips = rows(
        con,
        "SELECT DISTINCT IpAddress FROM SecurityEvent WHERE Account = "
        "'CONTOSO\\alice' AND IpAddress NOT IN ('-', '127.0.0.1')",
    )
    assert all(ipaddress.ip_address(ip).is_private for ip in ips.IpAddress)
    assert (
        one(
            con,
            "SELECT count(*) FROM SecurityEvent WHERE SubjectUserName = 'alice' "
            "AND EventID IN (4720, 4732, 4698, 4697)",
        )[0]
        == 0
    )


# ---------------------------------------------------------------- determinism and scale


def _digest(path: Path) -> dict[str, tuple]:
    """Row count and a content hash of every table, independent of physical row order."""
    with duckdb.connect(str(path), read_only=True) as c:
        sql = "SELECT count(*), md5(string_agg(md5(CAST(t AS VARCHAR)), ',' ORDER BY 1)) FROM "
        return {name: c.execute(sql + f'"{name}" AS t').fetchone() for name in TABLES}


@pytest.fixture(scope="module")
def small_builds(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("small")
    paths = {}
    for key, seed in (("a", 7), ("b", 7), ("other", 8)):
        paths[key] = base / f"{key}.duckdb"
        build_demo(paths[key], seed=seed, scale=0.05, now=FIXED_NOW)
    return paths


def test_same_seed_and_now_give_identical_rows(small_builds):
    a, b = _digest(small_builds["a"]), _digest(small_builds["b"])
    assert a == b


def test_another_seed_changes_background_not_incidents(small_builds):
    a, other = _digest(small_builds["a"]), _digest(small_builds["other"])
    assert a["SecurityEvent"] != other["SecurityEvent"]
    assert a["HuntingBookmark"] == other["HuntingBookmark"]
    planted = (
        "SELECT count(*), min(TimeGenerated) FROM SecurityEvent WHERE IpAddress = '203.0.113.77'"
    )
    with (
        duckdb.connect(str(small_builds["a"]), read_only=True) as ca,
        duckdb.connect(str(small_builds["other"]), read_only=True) as co,
    ):
        assert ca.execute(planted).fetchone() == co.execute(planted).fetchone()


def test_fixed_now_places_incidents_in_the_last_48_hours(small_builds):
    now = pd.Timestamp(FIXED_NOW)
    with duckdb.connect(str(small_builds["a"]), read_only=True) as c:
        c.execute("SET TimeZone = 'UTC'")
        lo, hi = c.execute(
            "SELECT min(TimeGenerated), max(TimeGenerated) FROM SecurityEvent "
            "WHERE IpAddress = '203.0.113.77'"
        ).fetchone()
        assert now - pd.Timedelta(hours=48) <= pd.Timestamp(lo) < pd.Timestamp(hi) <= now
        lo, hi = c.execute(
            "SELECT min(TimeGenerated), max(TimeGenerated) FROM Syslog "
            "WHERE contains(SyslogMessage, '198.51.100.23')"
        ).fetchone()
        assert now - pd.Timedelta(hours=48) <= pd.Timestamp(lo) < pd.Timestamp(hi) <= now
        lo, hi = c.execute(
            "SELECT min(TimeGenerated), max(TimeGenerated) FROM Heartbeat"
        ).fetchone()
        assert pd.Timestamp(hi) <= now and pd.Timestamp(lo) >= now - pd.Timedelta(days=7)


def test_scale_multiplies_background_only(small_builds, con):
    planted_sql = [
        "SELECT count(*) FROM SecurityEvent WHERE IpAddress = '203.0.113.77'",
        "SELECT count(*) FROM Syslog WHERE contains(SyslogMessage, '198.51.100.23')",
        "SELECT count(*) FROM OfficeActivity WHERE ClientIP = '203.0.113.77'",
        "SELECT count(*) FROM AzureNetworkAnalytics_CL WHERE DestIP_s = '192.0.2.66' "
        "AND FlowStartTime_t < (SELECT max(FlowStartTime_t) - INTERVAL 1 DAY "
        "FROM AzureNetworkAnalytics_CL)",
    ]
    with duckdb.connect(str(small_builds["a"]), read_only=True) as small:
        for sql in planted_sql[:3]:
            assert small.execute(sql).fetchone() == con.execute(sql).fetchone(), sql
        small_n = small.execute("SELECT count(*) FROM SecurityEvent").fetchone()[0]
    big_n = one(con, "SELECT count(*) FROM SecurityEvent")[0]
    planted_n = one(con, planted_sql[0])[0]
    ratio = (big_n - planted_n) / (small_n - planted_n)
    assert 15 < ratio < 25  # scale 1 against scale 0.05


# ---------------------------------------------------------------- build safety and CLI


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(UsageError, match="positive"):
        build_demo(tmp_path / "x.duckdb", scale=0)
    with pytest.raises(UsageError, match="time zone"):
        build_demo(tmp_path / "x.duckdb", now="2026-01-10T12:00:00")
    with pytest.raises(UsageError, match="directory"):
        build_demo(tmp_path)
    not_a_store = tmp_path / "notes.duckdb"
    not_a_store.write_text("my notes")
    with pytest.raises(DataSourceError, match="not a DuckDB store"):
        build_demo(not_a_store, scale=0.05)
    assert not_a_store.read_text() == "my notes"


def test_interrupted_build_leaves_the_old_store_intact(tmp_path, monkeypatch):
    target = tmp_path / "demo.duckdb"
    build_demo(target, scale=0.02, now=FIXED_NOW)
    before = hashlib.sha256(target.read_bytes()).hexdigest()

    from nbcatalog.data.demo import background

    real = background.generate

    def interrupted(*args):
        # Some frames are written inside the transaction, then the build is stopped.
        for k, item in enumerate(real(*args)):
            if k == 3:
                raise KeyboardInterrupt("interrupted mid-way through the background")
            yield item

    monkeypatch.setattr(background, "generate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_demo(target, scale=0.02, seed=9)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.duckdb"]

    # A build killed outright (no cleanup) leaves its temp files; the next build removes them.
    monkeypatch.undo()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for suffix in ("", ".wal"):
        (tmp_path / f".demo.duckdb.building-{dead.pid}{suffix}").write_bytes(b"half a store")
    build_demo(target, scale=0.02, seed=9, now=FIXED_NOW)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.duckdb"]
    assert hashlib.sha256(target.read_bytes()).hexdigest() != before


def test_refuses_a_store_another_process_holds_open(tmp_path, small_builds):
    target = tmp_path / "busy.duckdb"
    shutil.copy(small_builds["a"], target)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.read()",
            str(target),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DataSourceError, match="another process has it open"):
            build_demo(target, scale=0.02)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


def test_cli_builds_and_reports(tmp_path):
    from nbcatalog.cli.main import main

    target = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(
        main,
        ["data", "demo", "--db", str(target), "--scale", "0.02", "--seed", "5", "--now", FIXED_NOW],
    )
    assert result.exit_code == 0, result.output
    assert str(target) in result.output
    assert "SecurityEvent" in result.output and "203.0.113.77" in result.output
    assert "198.51.100.23" in result.output
    with duckdb.connect(str(target), read_only=True) as c:
        assert c.execute("SELECT count(*) FROM HuntingBookmark").fetchone()[0] == 2

    bad = CliRunner().invoke(main, ["data", "demo", "--db", str(target), "--scale", "-1"])
    assert bad.exit_code == 2 and "positive" in bad.output
    bad = CliRunner().invoke(main, ["data", "demo", "--db", str(target), "--now", "soon"])
    assert bad.exit_code == 2 and "ISO-8601" in bad.output
