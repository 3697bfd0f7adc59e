"""Imported logs are found by the same query names templates use (the analyst's path)."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from helpers.evtx_writer import EvtxEvent, write_evtx

from nbcatalog.data import connect
from nbcatalog.data.importers import import_paths

START, END = "2026-11-26T00:00:00Z", "2026-11-28T00:00:00Z"


def test_imported_evtx_and_auth_log_answer_logon_queries(tmp_path):
    logon = {
        "TargetUserName": "bob",
        "TargetDomainName": "CONTOSO",
        "LogonType": "10",
        "IpAddress": "203.0.113.77",
        "LogonProcessName": "User32",
        "WorkstationName": "ATTACKER",
    }
    evtx = write_evtx(
        tmp_path / "Security.evtx",
        [EvtxEvent(4624, datetime(2026, 11, 27, 10, 5, tzinfo=timezone.utc), "WKSTN-042",
                   data=logon)],
    )  # fmt: skip
    auth = tmp_path / "auth.log"
    auth.write_text(
        "Nov 27 10:00:02 lnx-web01 sshd[42]: Accepted password for deploy from "
        "198.51.100.23 port 5000 ssh2\n"
    )
    when = datetime(2026, 11, 28, tzinfo=timezone.utc).timestamp()
    os.utime(auth, (when, when))
    db = tmp_path / "case.duckdb"
    import_paths([evtx, auth], db=db)

    source = connect(f"duckdb:{db}")
    logons = source.query(
        "WindowsSecurity.list_host_logons", host_name="WKSTN-042", start=START, end=END
    )
    assert logons[["Account", "LogonType", "IpAddress"]].values.tolist() == [
        ["CONTOSO\\bob", 10, "203.0.113.77"]
    ]
    linux = source.query(
        "LinuxSyslog.list_logons_for_host", host_name="lnx-web01", start=START, end=END
    )
    assert linux["LogonResult"].tolist() == ["Success"]
    assert linux["SourceIP"].tolist() == ["198.51.100.23"]
