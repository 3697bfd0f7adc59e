"""ip_summary's activity sections (issue 12): Azure and Office 365 activity by address,
CommonSecurityLog, and the accounts seen from the address.

The attacker run on the demo store is the one tests/test_drill_onward.py reaches with
alert_ti_enrich's pick_ip (shared through tests/summary_runs.py); every expected figure
is counted by SQL on the store file itself. A second, small store holds hostile cloud
and CEF rows (markup, quotes, SQL) and a CommonSecurityLog table with Sentinel's
columns: its run shows them escaped, matches the address exactly, and its drill-downs
print them safely.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from nbcatalog.cli.main import main
from run_helpers import outputs_text
from summary_runs import cached_runner, summary_run

import nbcatalog

pytestmark = pytest.mark.slow

ATTACKER = "203.0.113.77"


def attacker_run(db: Path):
    """ip_summary on the attacker, reached from alert_ti_enrich (as test_drill_onward)."""
    alerts = summary_run(db, "alert_ti_enrich")
    return alerts.pick_ip(ATTACKER, run=cached_runner(db))


@pytest.fixture(scope="module")
def res(demo_db):
    run = attacker_run(demo_db)
    assert run.status == "ok"
    return run


def _rows(db: Path, res, sql: str) -> pd.DataFrame:
    """`sql` on the store file, read-only; ``$ip`` is the attacker and ``$start`` /
    ``$end`` the run's time range (bound, as every test here binds values)."""
    params = {"ip": ATTACKER, "start": res.parameters["start"], "end": res.parameters["end"]}
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).df()


def test_azure_activity_called_from_the_address(res, demo_db):
    rows = _rows(
        demo_db,
        res,
        "SELECT Caller, OperationNameValue FROM AzureActivity "
        "WHERE CallerIpAddress = $ip AND TimeGenerated BETWEEN $start AND $end",
    )
    azure = res["azure_activity"]
    assert len(azure) == len(rows) > 0
    assert set(azure["CallerIpAddress"]) == {ATTACKER}
    assert sorted(azure["Caller"]) == sorted(rows["Caller"])
    text = outputs_text(res, "azure")
    role_changes = rows["OperationNameValue"].str.contains("roleAssignments/write").sum()
    assert f"{role_changes} role or access change(s) called from {ATTACKER}" in text


def test_office_activity_from_the_address_and_its_burst(res, demo_db):
    rows = _rows(
        demo_db,
        res,
        "SELECT TimeGenerated, Operation FROM OfficeActivity WHERE ClientIP = $ip "
        "AND TimeGenerated BETWEEN $start AND $end ORDER BY TimeGenerated",
    )
    office = res["office_activity"]
    assert len(office) == len(rows) > 0 and set(office["ClientIP"]) == {ATTACKER}
    # The busiest 10 minutes of downloads, counted here from the store's rows.
    times = pd.to_datetime(rows.loc[rows["Operation"] == "FileDownloaded", "TimeGenerated"])
    busiest = max(((times >= t) & (times <= t + pd.Timedelta(minutes=10))).sum() for t in times)
    assert busiest >= 20
    assert f"{busiest} FileDownloaded operations in 10 minutes from {ATTACKER}" in outputs_text(
        res, "office"
    )
    summary = res["cloud_activity_summary"]
    assert summary["Operations"].sum() == len(office) + len(res["azure_activity"])
    downloads = summary.set_index("Operation").loc["FileDownloaded", "Operations"]
    assert downloads == len(times)


def test_accounts_seen_from_the_address(res, demo_db):
    windows = _rows(
        demo_db,
        res,
        "SELECT Account, EventID FROM SecurityEvent WHERE IpAddress = $ip "
        "AND EventID IN (4624, 4625) AND TimeGenerated BETWEEN $start AND $end",
    )
    signins = _rows(
        demo_db,
        res,
        "SELECT UserPrincipalName, ResultType FROM SigninLogs WHERE IPAddress = $ip "
        "AND TimeGenerated BETWEEN $start AND $end",
    )
    office = _rows(
        demo_db,
        res,
        "SELECT UserId FROM OfficeActivity WHERE ClientIP = $ip "
        "AND TimeGenerated BETWEEN $start AND $end",
    )
    accounts = res["ip_accounts"].set_index("Account")
    expected = set(windows["Account"]) | set(signins["UserPrincipalName"]) | set(office["UserId"])
    expected = {a for a in expected if a and a != "-"}
    assert set(accounts.index) == expected
    linux = res["logons"].query("Source == 'Linux' and Result == 'Failure'")
    failed = (windows["EventID"] == 4625).sum() + (signins["ResultType"].astype(str) != "0").sum()
    assert accounts["Failures"].sum() == failed + len(linux)
    assert accounts.loc["bob@contoso.com", "Operations"] == len(office) + len(res["azure_activity"])
    text = outputs_text(res, "accounts")
    failing = (accounts["Failures"] > 0).sum()
    assert failing >= 20 and f"{failing} accounts failed to log on from {ATTACKER}" in text
    got_in = accounts[(accounts["Failures"] > 0) & (accounts["Successes"] > 0)].index
    assert "CONTOSO\\bob" in got_in
    assert "logged on after failures from" in text
    # The summary counts every new part.
    summary = res["summary"].set_index("Item")["Count"]
    assert summary["Azure activity"] == len(res["azure_activity"])
    assert summary["Office 365 activity"] == len(office)
    assert summary["Accounts seen"] == len(accounts)


def test_security_log_counts_or_states_its_absence(res, demo_db):
    present = _rows(
        demo_db,
        res,
        "SELECT count(*) AS n FROM information_schema.tables "
        "WHERE table_name = 'CommonSecurityLog'",
    ).n[0]
    events = res["security_log"]
    text = outputs_text(res, "securitylog")
    if present:  # the demo estate has CEF logs (the network part adds them)
        n = _rows(
            demo_db,
            res,
            "SELECT count(*) AS n FROM CommonSecurityLog WHERE (SourceIP = $ip "
            "OR DestinationIP = $ip) AND TimeGenerated BETWEEN $start AND $end",
        ).n[0]
        assert len(events) == n
        assert n > 0 or f"no CommonSecurityLog event from or to {ATTACKER}" in text
    else:
        assert events.empty
        assert "Missing data" in text and "no CommonSecurityLog table in this data source" in text
        assert res["security_log_summary"].empty


# ------------------------------------------------------------------ hostile rows

HOSTILE_CALLER = '<script>alert("caller")</script>@contoso.com'
HOSTILE_OPERATION = "Microsoft.Authorization/roleAssignments/write<img src=x onerror=alert(1)>"
HOSTILE_USER = "'; DROP TABLE OfficeActivity; --<b>bold</b>"
HOSTILE_VENDOR = "<iframe src=//evil.example></iframe>"
RAW = ['<script>alert("caller")', "<img src=x onerror", "<b>bold</b>", "<iframe src=//evil"]
CSL_COLUMNS = {
    "TimeGenerated": "TIMESTAMPTZ",
    "DeviceVendor": "VARCHAR",
    "DeviceProduct": "VARCHAR",
    "Activity": "VARCHAR",
    "SourceIP": "VARCHAR",
    "SourcePort": "INTEGER",
    "DestinationIP": "VARCHAR",
    "DestinationPort": "INTEGER",
    "Protocol": "VARCHAR",
    "DeviceAction": "VARCHAR",
    "SourceUserName": "VARCHAR",
}


def _hostile_store(path: Path, when: pd.Timestamp) -> None:
    from nbcatalog.data.store import Store

    with Store.open(path) as store:
        store.append(
            "AzureActivity",
            pd.DataFrame(
                {
                    "TimeGenerated": [when, when],
                    "Caller": [HOSTILE_CALLER, HOSTILE_CALLER],
                    "CallerIpAddress": [ATTACKER, f"{ATTACKER}' OR '1'='1"],
                    "OperationNameValue": [HOSTILE_OPERATION] * 2,
                    "ActivityStatusValue": ["Success"] * 2,
                }
            ),
        )
        store.append(
            "OfficeActivity",
            pd.DataFrame(
                {
                    "TimeGenerated": [when + pd.Timedelta(seconds=s) for s in range(25)],
                    "UserId": HOSTILE_USER,
                    "ClientIP": ATTACKER,
                    "Operation": "FileDownloaded",
                    "OfficeWorkload": "SharePoint",
                }
            ),
        )
    # CommonSecurityLog with Sentinel's columns, whether or not the schema has it yet.
    with duckdb.connect(str(path)) as con:
        columns = ", ".join(f'"{c}" {t}' for c, t in CSL_COLUMNS.items())
        con.execute(f'CREATE TABLE IF NOT EXISTS "CommonSecurityLog" ({columns})')
        names = ", ".join(f'"{c}"' for c in CSL_COLUMNS)
        marks = ", ".join("?" for _ in CSL_COLUMNS)
        rows = [
            (
                when,
                HOSTILE_VENDOR,
                "PAN-OS",
                "TRAFFIC",
                ATTACKER,
                50000,
                "10.10.1.52",
                3389,
                "TCP",
                "deny",
                HOSTILE_USER,
            ),
            (
                when,
                "Fortinet",
                "FortiGate",
                "TRAFFIC",
                "10.10.1.52",
                51000,
                ATTACKER,
                443,
                "TCP",
                "allow",
                "",
            ),
            (
                when,
                "Fortinet",
                "FortiGate",
                "TRAFFIC",
                "10.10.1.53",
                51000,
                "198.51.100.1",
                443,
                "TCP",
                "allow",
                "",
            ),
        ]
        insert = f'INSERT INTO "CommonSecurityLog" ({names}) VALUES ({marks})'  # noqa: S608 - names from CSL_COLUMNS
        con.executemany(insert, rows)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-ip")
    db = folder / "hostile.duckdb"
    when = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=5)).floor("s")
    _hostile_store(db, when)
    return nbcatalog.run(
        "ip_summary",
        ip=ATTACKER,
        options=["azure", "office", "securitylog", "accounts"],
        data_source=f"duckdb:{db}",
        output_dir=folder / "out",
        html=True,
        quiet=True,
        silent=True,
    )


def test_hostile_cloud_and_cef_rows_stay_escaped(hostile):
    assert hostile.status == "ok"
    # Exact matches, bound as parameters: the row whose address carries SQL is not found.
    assert len(hostile["azure_activity"]) == 1
    assert len(hostile["office_activity"]) == 25
    cef = hostile["security_log"]
    assert sorted(cef["Direction"]) == ["from", "to"]
    assert set(cef["DeviceVendor"]) == {HOSTILE_VENDOR, "Fortinet"}
    accounts = set(hostile["ip_accounts"]["Account"])
    assert accounts == {HOSTILE_CALLER, HOSTILE_USER}
    notebook = outputs_text(hostile)
    report = hostile.report_path.read_text(encoding="utf-8")
    for raw in RAW:
        assert raw not in notebook, raw
        assert raw not in report, raw
    assert "&lt;script&gt;alert(&quot;caller&quot;)" in notebook
    assert "&lt;iframe src=//evil.example&gt;" in outputs_text(hostile, "securitylog")


def test_hostile_accounts_are_quoted_in_the_printed_drilldown(hostile):
    cli = CliRunner()
    printed = cli.invoke(
        main, ["drill", str(hostile.run_dir), "pick_account", "--row", HOSTILE_USER, "--print"]
    )
    assert printed.exit_code == 0, printed.output
    words = shlex.split(printed.output)
    assert words[:3] == ["nbcatalog", "run", "account-summary"]
    assert words[words.index("--account") + 1] == HOSTILE_USER  # one word, as it was
    missing = cli.invoke(main, ["drill", str(hostile.run_dir), "pick_account"])
    assert missing.exit_code == 2
    assert "2 to choose from" in missing.output + (missing.stderr or "")
