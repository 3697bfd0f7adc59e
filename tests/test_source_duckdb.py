"""The DuckDB data source on small stores written by the tests: query names, matching
rules, parameters and errors, read-only access."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from nbcatalog.data import DataSource, connect
from nbcatalog.data.source import DuckDBSource, parse_spec
from nbcatalog.data.store import Store
from nbcatalog.errors import DataSourceError

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
WINDOW = {"start": "2024-05-01T00:00:00Z", "end": "2024-05-02T00:00:00Z"}


def _logon(computer, account, event_id, minutes, ip="10.0.0.5", logon_type=3):
    domain, _, user = account.rpartition("\\")
    return {
        "TimeGenerated": T0 + timedelta(minutes=minutes),
        "Computer": computer,
        "Account": account,
        "TargetUserName": user,
        "TargetDomainName": domain,
        "EventID": event_id,
        "LogonType": logon_type,
        "IpAddress": ip,
    }


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    """A store with a handful of hand-written rows in several tables."""
    path = tmp_path_factory.mktemp("store") / "small.duckdb"
    logons = [
        _logon("WKSTN-042.contoso.com", "CONTOSO\\bob", 4624, 0, "203.0.113.77", 10),
        _logon("WKSTN-042", "CONTOSO\\alice", 4625, 1),
        _logon("WKSTN-042", "CONTOSO\\admin", 4625, 2, "203.0.113.77", 10),
        _logon("WKSTN-0421", "CONTOSO\\bob", 4624, 3),
        _logon("WKSTN-001", "CONTOSO\\bobby.jones", 4624, 4),
        _logon("WKSTN-001", "CONTOSO\\bob", 4624, 60 * 30),  # outside the window
        _logon("WKSTN-042", "x' or '1'='1", 4625, 5),
    ]
    processes = pd.DataFrame(
        [
            {
                "TimeGenerated": T0 + timedelta(minutes=10),
                "Computer": "WKSTN-042",
                "EventID": 4688,
                "Account": "CONTOSO\\bob",
                "NewProcessName": "C:\\Windows\\System32\\WindowsPowerShell\\powershell.exe",
                "CommandLine": 'powershell -enc <script>alert("nbcatalog")</script>',
                "SubjectLogonId": "0x1234",
            }
        ]
    )
    syslog = pd.DataFrame(
        [
            {
                "TimeGenerated": T0 + timedelta(minutes=i),
                "Computer": "LNX-WEB01",
                "Facility": "auth",
                "ProcessName": "sshd",
                "ProcessID": 1000 + i,
                "SyslogMessage": msg,
            }
            for i, msg in enumerate(
                [
                    "Failed password for invalid user admin from 198.51.100.23 port 4242 ssh2",
                    "Failed password for root from 198.51.100.23 port 4243 ssh2",
                    "Accepted password for deploy from 198.51.100.23 port 4244 ssh2",
                    "Accepted publickey for bob from 10.0.0.9 port 5000 ssh2: RSA SHA256:xyz",
                ]
            )
        ]
    )
    with Store.open(path) as store:
        store.append("SecurityEvent", pd.DataFrame(logons))
        store.append("SecurityEvent", processes)
        store.append("Syslog", syslog)
    return path


@pytest.fixture()
def src(small_db) -> DataSource:
    return connect(f"duckdb:{small_db}")


def test_host_logons_match_host_name_as_kql_has(src):
    df = src.query("WindowsSecurity.list_host_logons", host_name="wkstn-042", **WINDOW)
    # The FQDN matches the short name, case-insensitively; WKSTN-0421 does not.
    assert df["Computer"].tolist() == ["WKSTN-042.contoso.com"]
    assert df["TimeGenerated"].dt.tz is not None
    assert str(df["TimeGenerated"].dt.tz) == "UTC"
    assert (df["TimeCreatedUtc"] == df["TimeGenerated"]).all()


def test_logon_failures_and_all_logons(src):
    fails = src.query("WindowsSecurity.list_host_logon_failures", host_name="WKSTN-042", **WINDOW)
    assert sorted(fails["TargetUserName"]) == ["admin", "alice", "x' or '1'='1"]
    every = src.query("WindowsSecurity.list_all_logons_by_host", host_name="WKSTN-042", **WINDOW)
    assert every["LogonResult"].value_counts().to_dict() == {"Failure": 3, "Success": 1}
    assert (every["SourceIP"] == every["IpAddress"]).all()


def test_account_matching_excludes_other_people(src):
    df = src.query("WindowsSecurity.list_logon_attempts_by_account", account_name="bob", **WINDOW)
    # bobby.jones is another person; the 30-hour-later logon is outside the window.
    assert sorted(df["Computer"]) == ["WKSTN-042.contoso.com", "WKSTN-0421"]


def test_start_end_accept_datetimes_and_text(src):
    a = src.query(
        "WindowsSecurity.list_host_logons",
        host_name="WKSTN-001",
        start=T0 - timedelta(hours=1),
        end=datetime(2024, 5, 3),  # naive: taken as UTC
    )
    b = src.query(
        "WindowsSecurity.list_host_logons",
        host_name="WKSTN-001",
        start="2024-05-01T13:00:00+02:00",
        end="2024-05-03",
    )
    assert len(a) == 2
    pd.testing.assert_frame_equal(a, b)


def test_process_command_line_comes_back_verbatim(src):
    df = src.query("WindowsSecurity.list_host_processes", host_name="WKSTN-042", **WINDOW)
    assert df["CommandLine"].tolist() == ['powershell -enc <script>alert("nbcatalog")</script>']


def test_linux_logons_for_host(src):
    df = src.query("LinuxSyslog.list_logons_for_host", host_name="LNX-WEB01", **WINDOW)
    by_msg = df.set_index("ProcessID")
    assert by_msg.loc[1000, "LogonResult"] == "Failure"
    assert by_msg.loc[1000, "User"] == "admin"
    assert by_msg.loc[1002, "LogonResult"] == "Success"
    assert by_msg.loc[1002, "SourceIP"] == "198.51.100.23"
    assert by_msg.loc[1002, "LogonType"] == "password (sshd)"
    assert by_msg.loc[1003, "User"] == "bob"


def test_missing_parameter_names_it(src):
    with pytest.raises(DataSourceError, match="needs parameter.*host_name"):
        src.query("WindowsSecurity.list_host_logons", **WINDOW)


def test_unknown_parameter_lists_accepted(src):
    with pytest.raises(DataSourceError, match="no parameter.*'host'.*host_name"):
        src.query("WindowsSecurity.list_host_logons", host="WKSTN-042")


def test_unknown_query_suggests_closest(src):
    with pytest.raises(DataSourceError, match="WindowsSecurity.list_host_logons"):
        src.query("WindowsSecurity.list_host_logon", host_name="x")


def test_bad_time_is_a_clear_error(src):
    with pytest.raises(DataSourceError, match="start='yesterday-ish' is not a time"):
        src.query("WindowsSecurity.list_host_logons", host_name="x", start="yesterday-ish")
    with pytest.raises(DataSourceError, match="is after end"):
        src.query(
            "WindowsSecurity.list_host_logons", host_name="x", start="2024-02-01", end="2024-01-01"
        )


def test_list_queries_and_tables(src):
    listing = src.list_queries()
    assert list(listing.columns) == ["name", "description", "parameters"]
    row = listing.set_index("name").loc["WindowsSecurity.list_host_logons"]
    assert "host_name" in row["parameters"]
    assert "logon" in row["description"]
    assert "SecurityEvent" in src.tables()
    assert src.has_table("Syslog") and not src.has_table("NoSuchTable")


def test_sql_binds_parameters(src):
    df = src.sql(
        'SELECT Computer, count(*) AS n FROM "SecurityEvent" WHERE EventID = $id '
        "GROUP BY Computer ORDER BY Computer",
        {"id": 4625},
    )
    assert df.to_dict("records") == [{"Computer": "WKSTN-042", "n": 3}]
    # The library's KQL macros are there too.
    hits = src.sql(
        'SELECT count(*) AS n FROM "SecurityEvent" WHERE kql_has(Computer, ?)', ["wkstn-042"]
    )
    assert hits["n"].item() == 5


def test_missing_store_says_how_to_build_one(tmp_path):
    with pytest.raises(DataSourceError, match="nbcatalog data demo.*nbcatalog data import"):
        connect(f"duckdb:{tmp_path / 'absent.duckdb'}")


@pytest.mark.parametrize("spec", ["sqlite:/tmp/x", "duckdb:", "msticpy", "nonsense"])
def test_bad_spec_lists_accepted_forms(spec):
    with pytest.raises(DataSourceError, match="(?s)accepted forms.*duckdb:PATH.*msticpy:"):
        connect(spec)


def test_default_spec_uses_env(monkeypatch, small_db):
    monkeypatch.setenv("NBCATALOG_DB", str(small_db))
    assert parse_spec(None) == ("duckdb", str(small_db))
    src = connect("")
    assert isinstance(src, DuckDBSource) and src.path == small_db


def _count_in_child(path: str, queue) -> None:
    src = connect(f"duckdb:{path}")
    df = src.query("WindowsSecurity.list_host_logons", host_name="WKSTN-042", **WINDOW)
    queue.put(len(df))


def test_many_processes_read_one_store_at_once(small_db):
    """Read-only opens: several kernels can query one store file concurrently."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    src = connect(f"duckdb:{small_db}")
    with src.connection():  # this process holds the file open meanwhile
        procs = [ctx.Process(target=_count_in_child, args=(str(small_db), queue)) for _ in range(2)]
        for p in procs:
            p.start()
        results = [queue.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
    assert results == [1, 1]


# --- The planted incidents of the demo estate, found by query name ---------------------

EVER = {"start": "2000-01-01T00:00:00Z", "end": datetime.now(timezone.utc) + timedelta(days=1)}


def test_demo_rdp_brute_force_then_bob(demo_source):
    fails = demo_source.query(
        "WindowsSecurity.list_host_logon_failures", host_name="WKSTN-042", **EVER
    )
    rdp = fails[(fails["IpAddress"] == "203.0.113.77") & (fails["LogonType"] == 10)]
    assert len(rdp) >= 300
    assert rdp["TargetUserName"].nunique() >= 20
    assert rdp["TimeGenerated"].max() - rdp["TimeGenerated"].min() <= pd.Timedelta(minutes=30)
    logons = demo_source.query("WindowsSecurity.list_host_logons", host_name="WKSTN-042", **EVER)
    win = logons[(logons["IpAddress"] == "203.0.113.77") & (logons["LogonType"] == 10)]
    assert win["TargetUserName"].tolist() == ["bob"]
    assert win["TimeGenerated"].iloc[0] > rdp["TimeGenerated"].max()
    # The same, aggregated in DuckDB: the attacker is the top failing source.
    top = demo_source.query("WindowsSecurity.summarize_logon_failures_by_source", **EVER).iloc[0]
    assert (top["Computer"], top["IpAddress"]) == ("WKSTN-042", "203.0.113.77")
    assert top["Failures"] == len(rdp) and top["Accounts"] == rdp["TargetUserName"].nunique()


def test_demo_persistence_on_wkstn_042(demo_source):
    changes = demo_source.query(
        "WindowsSecurity.account_change_events", host_name="WKSTN-042", **EVER
    )
    created = changes[changes["EventID"] == 4720]
    assert "svc_backup" in created["TargetUserName"].tolist()
    assert (changes["EventID"] == 4732).any()
    tasks = demo_source.query(
        "WindowsSecurity.schdld_tasks_and_services", host_name="WKSTN-042", **EVER
    )
    assert set(tasks["Type"]) == {"Scheduled Task", "Service"}
    service = tasks[tasks["Type"] == "Service"].iloc[0]
    assert service["ServiceStartType"] == "Automatic"
    procs = demo_source.query("WindowsSecurity.list_host_processes", host_name="WKSTN-042", **EVER)
    bobs = procs[procs["Account"] == "CONTOSO\\bob"]
    assert bobs["CommandLine"].str.contains(" -enc ", regex=False).any()
    assert (
        bobs["CommandLine"].str.contains('<script>alert("nbcatalog")</script>', regex=False).any()
    )


def test_demo_ssh_spray_on_lnx_web01(demo_source):
    fails = demo_source.query("LinuxSyslog.list_host_logon_failures", host_name="LNX-WEB01", **EVER)
    spray = fails[fails["SourceIP"] == "198.51.100.23"]
    assert len(spray) >= 200
    assert spray.loc[spray["User"] != "", "User"].nunique() >= 30
    accepted = demo_source.query(
        "LinuxSyslog.list_logons_for_source_ip", ip_address="198.51.100.23", **EVER
    )
    assert accepted["Computer"].tolist() == ["LNX-WEB01"]
    assert accepted["SyslogMessage"].iloc[0].startswith("Accepted password for deploy from")


def test_demo_bob_signs_in_from_the_attacker_address(demo_source):
    by_ip = demo_source.query(
        "Azure.list_aad_signins_for_ip", ip_address_list=["203.0.113.77"], **EVER
    )
    assert set(by_ip["UserPrincipalName"]) == {"bob@contoso.com"}
    assert (by_ip["ResultType"] == "0").any()
    # bob in any of his forms is the same person; bobby.jones is not him.
    forms = [
        demo_source.query("Azure.list_aad_signins_for_account", account_name=a, **EVER)
        for a in ("bob", "bob@contoso.com", "CONTOSO\\bob")
    ]
    assert set(forms[0]["UserPrincipalName"]) == {"bob@contoso.com"}
    assert len(forms[0]) == len(forms[1]) == len(forms[2]) > 1
    office = demo_source.query("Office365.list_activity_for_account", account_name="bob", **EVER)
    assert (office["Operation"] == "FileDownloaded").sum() >= 20
    azure = demo_source.query(
        "Azure.list_azure_activity_for_account", account_name="bob@contoso.com", **EVER
    )
    assert azure["OperationNameValue"].str.contains("roleAssignments/write").any()


def test_demo_alerts_and_bookmarks(demo_source):
    alerts = demo_source.query("SecurityAlert.list_alerts", **EVER)
    assert len(alerts) >= 5 and alerts["Severity"].nunique() >= 2
    related = demo_source.query("SecurityAlert.list_related_alerts", host_name="WKSTN-042", **EVER)
    assert len(related) >= 1 and related["host_match"].all()
    assert related["Entities"].str.contains("WKSTN-042").all()
    for_ip = demo_source.query(
        "SecurityAlert.list_alerts_for_ip", source_ip_list="203.0.113.77", **EVER
    )
    assert len(for_ip) >= 1
    assert all("203.0.113.77" in list(ips) for ips in for_ip["MatchingIps"])
    marks = demo_source.query("AzureSentinel.list_bookmarks_for_entity", account_name="bob", **EVER)
    assert len(marks) >= 1
    assert len(demo_source.query("AzureSentinel.list_bookmarks", **EVER)) == 2


def test_demo_flows_and_threat_intel(demo_source):
    web = demo_source.query(
        "Network.list_azure_network_flows_by_host", host_name="LNX-WEB01", **EVER
    )
    c2 = web[(web["DestIP"] == "192.0.2.66") & (web["DestPort"] == 4444)]
    assert len(c2) >= 1 and set(c2["VMName"]) == {"LNX-WEB01"}
    rdp = demo_source.query(
        "Network.list_azure_network_flows_by_ip", ip_address_list=["203.0.113.77"], **EVER
    )
    assert ((rdp["DestPort"] == 3389) & (rdp["VMName"] == "WKSTN-042")).any()
    ti = demo_source.query(
        "ThreatIntelligence.list_indicators_by_ip",
        ip_address_list=["203.0.113.77", "192.0.2.66", "198.51.100.200"],
        **EVER,
    )
    assert sorted(ti["IoC"]) == ["192.0.2.66", "203.0.113.77"]
    url = "http://malicious.example/payload.ps1"
    assert demo_source.query("ThreatIntelligence.list_indicators_by_url", url_list=[url], **EVER)[
        "IoC"
    ].tolist() == [url]
    assert demo_source.query(
        "ThreatIntelligence.list_indicators_by_domain", domain_list="MALICIOUS.example", **EVER
    )["IoC"].tolist() == ["malicious.example"]
    heartbeat = demo_source.query("Network.get_heartbeat_for_host", host_name="wkstn-042")
    assert heartbeat["Computer"].tolist() == ["WKSTN-042"]


def test_sql_reads_the_store_and_nothing_else(src, tmp_path):
    target = tmp_path / "leak.csv"
    for text in (
        f"COPY (SELECT 1) TO '{target}'",
        "SELECT * FROM read_csv('/etc/passwd')",
        f"ATTACH '{tmp_path / 'other.duckdb'}'",
        "SET enable_external_access = true",
        'DELETE FROM "SecurityEvent"',
    ):
        with pytest.raises(DataSourceError):
            src.sql(text)
    assert not target.exists()
    assert src.sql('SELECT count(*) AS n FROM "SecurityEvent"')["n"].item() == 8
