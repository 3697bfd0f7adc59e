"""The demo estate's Defender-only laptop, LT-MDE07, reads as the story it plants.

Figures are counted from the demo store's own Defender rows with SQL here, and the
encoded command is decoded by the test itself; the nblib steps the notebooklets use
must find the same.
"""

from __future__ import annotations

import base64
import re

import duckdb
import pandas as pd
import pytest

from nbcatalog.nblib import Investigation, hostactivity, hosts, logons, processes, rarity

DEVICE = "lt-mde07.contoso.com"


@pytest.fixture(scope="module")
def inv(demo_source) -> Investigation:
    now = pd.Timestamp.now(tz="UTC")
    return Investigation(demo_source, now - pd.Timedelta(days=8), now)


def _rows(demo_db, sql: str) -> list[tuple]:
    with duckdb.connect(str(demo_db), read_only=True) as con:
        return con.execute(sql, [DEVICE]).fetchall()


def test_only_defender_knows_the_laptop(inv):
    found = hosts.find_host(inv, "lt-mde07")
    assert found.name is not None and found.name.casefold() == DEVICE
    assert set(found.defender) >= {"DeviceProcessEvents", "DeviceLogonEvents"}


def test_its_failed_logons_are_a_brute_force_from_one_address(inv, demo_db):
    failed = _rows(
        demo_db,
        'SELECT RemoteIP, AccountName FROM "DeviceLogonEvents" '
        "WHERE DeviceName = ? AND ActionType = 'LogonFailed'",
    )
    (address,) = {ip for ip, _ in failed}
    sessions = logons.host_logons(inv, DEVICE).data
    assert int((sessions["LogonResult"] == "Failure").sum()) == len(failed)
    found = logons.attack_findings(sessions)
    assert len(found.data) == 1
    row = found.data.iloc[0]
    assert row["SourceIP"] == address and int(row["Failures"]) == len(failed)


def test_the_encoded_powershell_decodes_to_the_payload_download(inv, demo_db):
    [(command,)] = _rows(
        demo_db,
        'SELECT ProcessCommandLine FROM "DeviceProcessEvents" '
        "WHERE DeviceName = ? AND FileName = 'powershell.exe'",
    )
    encoded = re.search(r"-EncodedCommand (\S+)", command)[1]
    script = base64.b64decode(encoded).decode("utf-16-le")
    assert "http://malicious.example/payload.ps1" in script
    rows = hostactivity.host_processes(inv, DEVICE).data
    assert set(rows["Log"]) == {"DeviceProcessEvents"}
    assert len(rows) == _rows(demo_db, 'SELECT count(*) FROM "DeviceProcessEvents" '
                              "WHERE DeviceName = ?")[0][0]  # fmt: skip
    notable = processes.notable_processes(inv, DEVICE, None).data
    decoded = processes.encoded_powershell(notable)
    assert decoded["DecodedCommand"].tolist() == [script]
    assert decoded["ParentProcessName"].str.endswith("WINWORD.EXE").all()


def test_session_rarity_reads_the_defender_processes(inv, demo_db):
    [(count,)] = _rows(demo_db, 'SELECT count(*) FROM "DeviceProcessEvents" WHERE DeviceName = ?')
    found = rarity.host_processes(inv, DEVICE)
    assert len(found.data) == count and set(found.data["Log"]) == {"DeviceProcessEvents"}
    clustered = rarity.cluster_processes(found.data)
    sessions = rarity.session_rarity(clustered)
    assert len(sessions) == 1  # heidi's one logon session (Defender's LogonId)
    rare = clustered[clustered["Rarity"] == clustered["Rarity"].max()]
    assert rare["CommandLine"].str.contains("-EncodedCommand").all()
