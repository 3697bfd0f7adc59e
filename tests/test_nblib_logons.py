"""nblib.logons and nblib.logonplots: Windows and Linux logon attempts as one frame.

Pure-pandas tests on small frames, then the demo store's planted attacks, counted
again directly with SQL so the notebooklet's numbers are checked, not trusted.
"""

from __future__ import annotations

import pandas as pd
import pytest

from nbcatalog.nblib import Investigation, hosts, logonplots, logons

ATTACKER = "203.0.113.77"
SPRAYER = "198.51.100.23"


def _syslog(messages: list[str], host: str = "LNX-WEB01", process: str = "sshd") -> pd.DataFrame:
    times = pd.date_range("2024-05-01 10:00", periods=len(messages), freq="s", tz="UTC")
    return pd.DataFrame(
        {
            "TimeGenerated": times,
            "Computer": host,
            "Facility": "auth",
            "ProcessName": process,
            "SyslogMessage": messages,
        }
    )


def _windows(rows: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    """(EventID, TargetUserName, IpAddress, LogonType) rows of one Windows host."""
    times = pd.date_range("2024-05-01 10:00", periods=len(rows), freq="min", tz="UTC")
    return pd.DataFrame(
        {
            "TimeGenerated": times,
            "Computer": "WKSTN-042",
            "EventID": [r[0] for r in rows],
            "TargetDomainName": "CONTOSO",
            "TargetUserName": [r[1] for r in rows],
            "IpAddress": [r[2] for r in rows],
            "LogonType": [r[3] for r in rows],
            "LogonProcessName": "User32",
        }
    )


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Accepted publickey for dave from 10.20.0.30 port 49629 ssh2: ED25519 SHA256:x",
            ("Success", "sshd", "dave", "10.20.0.30", "49629", "publickey"),
        ),
        (
            "Failed password for invalid user hadoop from 198.51.100.23 port 50971 ssh2",
            ("Failure", "sshd", "hadoop", SPRAYER, "50971", "password"),
        ),
        (
            "Failed password for www-data from 198.51.100.23 port 54332 ssh2",
            ("Failure", "sshd", "www-data", SPRAYER, "54332", "password"),
        ),
        (
            "Invalid user admin from 193.32.162.119 port 39887",
            ("Failure", "sshd", "admin", "193.32.162.119", "39887", "invalid user"),
        ),
        (
            "pam_unix(su:auth): authentication failure; logname=bob uid=1000 euid=0 "
            "tty=pts/0 ruser=bob rhost=  user=root",
            ("Failure", "su", "root", "", "", "su"),
        ),
        (
            "pam_unix(su-l:session): session opened for user root(uid=0) by bob(uid=1000)",
            ("Success", "su", "root", "", "", "su"),
        ),
        (
            "FAILED LOGIN (1) on '/dev/tty1' FOR 'alice', Authentication failure",
            ("Failure", "login", "alice", "", "", "login"),
        ),
    ],
)
def test_linux_attempt_lines_are_parsed(message, expected):
    parsed = logons.parse_linux_message(message)
    keys = ("LogonResult", "LogonProcessName", "Account", "SourceIP", "SourcePort", "LogonType")
    assert tuple(parsed[k] for k in keys) == expected


@pytest.mark.parametrize(
    "message",
    [
        "Received disconnect from 80.82.77.113 port 60699:11: Bye Bye [preauth]",
        "pam_unix(sshd:auth): check pass; user unknown",
        "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= "
        "rhost=198.51.100.23  user=root",
        "pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/0 "
        "ruser=bob rhost=  user=bob",
        "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
        "New session 12 of user dave.",
        "",
        None,
        42,
    ],
)
def test_other_lines_are_not_attempts(message):
    assert logons.parse_linux_message(message) is None


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "pam_unix(sshd:session): session opened for user dave(uid=1003) by (uid=0)",
            ("Success", "sshd", "dave", ""),
        ),
        (
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 rhost=198.51.100.23",
            ("Failure", "sshd", "", SPRAYER),
        ),
    ],
)
def test_pam_lines_are_attempts_only_when_alone(message, expected):
    # Formerly never attempts; RHEL 4 era logs hold only these, so the group decides.
    parsed = logons.parse_linux_message(message)
    keys = ("LogonResult", "LogonProcessName", "Account", "SourceIP")
    assert tuple(parsed[k] for k in keys) == expected and parsed["Role"] == "pam"
    alone = logons.linux_logons(_syslog([message]))
    assert len(alone) == 1
    echoed = logons.linux_logons(
        _syslog([message, "Accepted password for dave from 10.20.0.30 port 4 ssh2"])
        if expected[0] == "Success"
        else _syslog([message, f"Failed password for root from {SPRAYER} port 4 ssh2"])
    )
    assert len(echoed) == 1 and not echoed["Detail"].str.startswith("pam_unix").any()


def test_one_failed_ssh_attempt_is_counted_once():
    rows = logons.linux_logons(
        _syslog(
            [
                "Invalid user hadoop from 198.51.100.23 port 50971",
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 rhost=198.51.100.23",
                "Failed password for invalid user hadoop from 198.51.100.23 port 50971 ssh2",
                "Connection closed by invalid user hadoop 198.51.100.23 port 50971 [preauth]",
                # a scanner that only probes the name: one attempt, from its own line
                "Invalid user test from 80.82.77.72 port 58344",
                # a second password on the same connection is a second attempt
                "Failed password for root from 198.51.100.23 port 4000 ssh2",
                "Failed password for root from 198.51.100.23 port 4000 ssh2",
            ]
        )
    )
    assert len(rows) == 4
    assert rows["LogonResult"].eq("Failure").all()
    assert rows.groupby("SourceIP").size().to_dict() == {SPRAYER: 3, "80.82.77.72": 1}
    assert rows["Platform"].eq("Linux").all()
    assert list(rows.columns) == logons.LOGON_COLUMNS


def test_windows_rows_become_logon_sessions():
    rows = logons.windows_logons(
        _windows(
            [
                (4625, "admin", ATTACKER, 10),
                (4624, "bob", ATTACKER, 10),
                (4624, "SYSTEM", "-", 5),
                (4688, "bob", "", 0),  # a process event is not a logon
            ]
        )
    )
    assert rows["LogonResult"].tolist() == ["Failure", "Success", "Success"]
    assert rows["Account"].tolist() == ["CONTOSO\\admin", "CONTOSO\\bob", "CONTOSO\\SYSTEM"]
    assert rows["LogonTypeName"].tolist() == ["RemoteInteractive", "RemoteInteractive", "Service"]
    assert rows["LogonType"].tolist() == ["10", "10", "5"]
    assert rows["SourceIP"].tolist() == [ATTACKER, ATTACKER, ""]  # "-" means no address


def test_mixed_frames_are_normalised_by_row():
    mixed = pd.concat(
        [
            _windows([(4625, "admin", ATTACKER, 10)]),
            _syslog(["Accepted password for deploy from 198.51.100.23 port 51234 ssh2"]),
        ],
        ignore_index=True,
    )
    rows = logons.normalise_logons(mixed)
    assert sorted(rows["Platform"]) == ["Linux", "Windows"]
    assert logons.normalise_logons(rows).equals(rows)  # already normalised: unchanged
    assert logons.normalise_logons(pd.DataFrame({"x": [1]})).empty


# ------------------------------------------------------------------ analysis


def _attack(ip: str, accounts: int, per_account: int, then: str | None = None) -> pd.DataFrame:
    names = [f"user{i}" for i in range(accounts)] * per_account
    rows = [(4625, n, ip, 10) for n in names] + ([(4624, then, ip, 10)] if then else [])
    return logons.windows_logons(_windows(rows))


def test_brute_force_and_spray_are_told_apart():
    sessions = pd.concat(
        [
            _attack(ATTACKER, accounts=3, per_account=20, then="bob"),
            _attack(SPRAYER, accounts=30, per_account=2),
            _attack("192.0.2.9", accounts=2, per_account=3),  # a few typos: no finding
        ],
        ignore_index=True,
    )
    found = logons.attack_findings(sessions)
    table = found.data.set_index("SourceIP")
    assert table.loc[ATTACKER, "Kind"] == "brute force"
    assert table.loc[SPRAYER, "Kind"] == "password spray"
    assert "192.0.2.9" not in table.index
    assert table.loc[ATTACKER, "SucceededAs"] == "CONTOSO\\bob"
    texts = sorted(n.text for n in found.notes if n.kind == "finding")
    assert len(texts) == 2
    assert texts[0].startswith(f"Brute force from {ATTACKER}: 60 failed logons on 3 accounts")
    assert "then a successful logon as CONTOSO\\bob" in texts[0]
    assert texts[1].startswith(f"Password spray from {SPRAYER}: 60 failed logons on 30 accounts")
    assert "successful" not in texts[1]


def test_thresholds_are_parameters_and_quiet_data_says_so():
    sessions = _attack(SPRAYER, accounts=30, per_account=2)
    assert logons.attack_findings(sessions, min_failures=61).empty
    note = logons.attack_findings(sessions, min_failures=61).messages()[0]
    assert "no source address has 61 or more failed logons" in note
    assert f"at most 60 from {SPRAYER}" in note
    assert logons.attack_findings(sessions, spray_accounts=31).data["Kind"].tolist() == [
        "brute force"
    ]
    assert logons.attack_findings(logons.normalise_logons(None)).empty


def test_failed_success_needs_a_success_after_a_failure():
    sessions = _attack(ATTACKER, accounts=2, per_account=2, then="bob")
    table = logons.failed_success(sessions)
    assert table[["SourceIP", "Failures", "AccountsTried", "SucceededAs"]].values.tolist() == [
        [ATTACKER, 4, 2, "CONTOSO\\bob"]
    ]
    # a success before any failure is not "failed, then succeeded"
    early = logons.windows_logons(
        _windows([(4624, "bob", ATTACKER, 10), (4625, "x", ATTACKER, 10)])
    )
    assert logons.failed_success(early).empty


def test_success_rate_and_logon_matrix():
    sessions = _attack(ATTACKER, accounts=1, per_account=3, then="bob")
    by_account = logons.success_rate(sessions, "Account")
    assert by_account.values.tolist() == [
        ["CONTOSO\\user0", 0, 3, 3, 0.0],
        ["CONTOSO\\bob", 1, 0, 1, 100.0],
    ]
    matrix = logons.logon_matrix(sessions)
    assert matrix["Count"].sum() == len(sessions)
    assert matrix.iloc[0].tolist() == [
        "CONTOSO\\user0",
        "User32",
        "RemoteInteractive",
        "Failure",
        3,
    ]
    assert logons.success_rate(sessions.iloc[0:0], "Account").empty


def test_remote_addresses_locate_only_public_addresses():
    sessions = logons.windows_logons(
        _windows([(4625, "a", "10.1.2.3", 3), (4625, "b", ATTACKER, 3), (4624, "c", "8.8.8.8", 3)])
    )
    table = logons.remote_addresses(sessions).set_index("IpAddress")
    assert table.loc["10.1.2.3", "IpClass"] == "private"
    assert table.loc[ATTACKER, "IpClass"] == "documentation"
    assert pd.isna(table.loc[ATTACKER, "Latitude"])
    assert table.loc["8.8.8.8", "IpClass"] == "public"
    assert not pd.isna(table.loc["8.8.8.8", "Latitude"])
    assert table.loc["8.8.8.8", "Success"] == 1


def test_charts_draw_or_say_why_not():
    sessions = _attack(ATTACKER, accounts=3, per_account=2, then="bob")
    bars = logonplots.result_bars(logons.success_rate(sessions, "Account"), "Account", title="x")
    assert bars.data[:8] == b"\x89PNG\r\n\x1a\n"
    heat = logonplots.matrix_heatmap(logons.logon_matrix(sessions))
    assert heat.data[:4] == b"\x89PNG"
    empty = logonplots.result_bars(pd.DataFrame(), "Account", title="Logons by account")
    assert "nothing to draw" in empty.text
    unlocated = logonplots.address_map(logons.remote_addresses(sessions))
    assert "none of the 1 remote addresses has a location" in unlocated.text
    both = logonplots.side_by_side(bars, empty)
    assert both.data.count("data:image/png;base64,") == 1 and "nothing to draw" in both.data


# ------------------------------------------------------------------ demo store


@pytest.fixture(scope="module")
def inv(demo_db):
    return Investigation.open(f"duckdb:{demo_db}")


def test_wkstn_042_brute_force_matches_a_direct_count(inv):
    found = hosts.find_host(inv, "wkstn-042")
    sessions = logons.host_logons(inv, found.name, found.os_family).data
    direct = inv.source.sql(
        'SELECT count(*) AS n FROM "SecurityEvent" WHERE EventID = 4625 '
        "AND Computer = 'WKSTN-042' AND IpAddress = $ip AND TimeGenerated >= $start",
        {"ip": ATTACKER, "start": inv.start},
    )["n"][0]
    from_attacker = sessions[(sessions["SourceIP"] == ATTACKER)]
    assert (from_attacker["LogonResult"] == "Failure").sum() == direct >= 300
    attack = logons.attack_findings(sessions).data.set_index("SourceIP")
    assert attack.loc[ATTACKER, "Kind"] == "brute force"
    assert attack.loc[ATTACKER, "SucceededAs"].lower() == "contoso\\bob"
    assert set(sessions["Platform"]) == {"Windows"}


def test_lnx_web01_spray_matches_a_direct_count(inv):
    found = hosts.find_host(inv, "LNX-WEB01")
    sessions = logons.host_logons(inv, found.name, found.os_family).data
    # Each failed password is one "Failed password" line; names sshd rejected outright
    # log "Invalid user" without one. Count both kinds straight from the table.
    direct = inv.source.sql(
        "SELECT count(*) FILTER (WHERE SyslogMessage LIKE 'Failed %') AS failed, "
        "count(*) FILTER (WHERE SyslogMessage LIKE 'Accepted % for deploy %') AS deploy "
        "FROM \"Syslog\" WHERE Computer = 'LNX-WEB01' AND SyslogMessage LIKE $ip "
        "AND TimeGenerated >= $start",
        {"ip": f"% {SPRAYER} %", "start": inv.start},
    ).iloc[0]
    mine = sessions[sessions["SourceIP"] == SPRAYER]
    assert (mine["LogonResult"] == "Failure").sum() == direct["failed"] >= 200
    wins = mine[mine["LogonResult"] == "Success"]
    assert wins["Account"].tolist() == ["deploy"] and direct["deploy"] == 1
    attack = logons.attack_findings(sessions).data.set_index("SourceIP")
    assert attack.loc[SPRAYER, "Kind"] == "password spray"
    assert attack.loc[SPRAYER, "SucceededAs"] == "deploy"
    assert logons.failed_success(sessions)["SourceIP"].tolist() == [SPRAYER]


def test_data_passed_in_is_used_and_limited_to_the_host(inv):
    raw = inv.source.sql(
        "SELECT * FROM \"Syslog\" WHERE Computer IN ('LNX-WEB01', 'LNX-DB01') "
        "AND Facility IN ('auth', 'authpriv')"
    )
    everything = logons.host_logons(inv, None, data=raw)
    assert set(everything.data["Computer"]) <= {"LNX-WEB01", "LNX-DB01"}
    only_web = logons.host_logons(inv, "lnx-web01", data=raw)
    assert set(only_web.data["Computer"]) == {"LNX-WEB01"}
    elsewhere = logons.host_logons(inv, "WKSTN-042", data=raw)
    assert elsewhere.empty and "none of the" in elsewhere.messages()[0]
    junk = logons.host_logons(inv, None, data=pd.DataFrame({"a": [1, 2]}))
    assert junk.empty and "are logon attempts" in " ".join(junk.messages())


def test_missing_tables_are_notes_not_errors(tmp_path):
    import duckdb

    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    empty_inv = Investigation.open(f"duckdb:{bare}")
    found = logons.host_logons(empty_inv, "WKSTN-042", "Windows")
    assert found.empty and "SecurityEvent table" in " ".join(found.messages())
    both = logons.host_logons(empty_inv, "WKSTN-042", None)  # unknown OS: tries both quietly
    assert both.empty and "no logon attempts on WKSTN-042" in " ".join(both.messages())
    selected = logons.select_host(empty_inv, "", data=pd.DataFrame({"a": [1]}))
    assert selected.name is None and "1 rows passed as data" in selected.messages()[0]


# ------------------------------------------------------------------ imported logs


def _write_logs(folder):
    """A Security.evtx with an RDP brute force and an auth.log with an SSH spray.

    Returns the files and what they hold, counted while writing them.
    """
    import os
    from datetime import datetime, timedelta, timezone

    from helpers.evtx_writer import EvtxEvent, write_evtx

    base = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
    events, rdp_failures = [], 0
    for i in range(45):
        events.append(
            EvtxEvent(
                4625,
                base + timedelta(seconds=10 * i),
                "WKSTN-042",
                data={
                    "TargetUserName": ["admin", "bob", "scanner"][i % 3],
                    "TargetDomainName": "CONTOSO",
                    "LogonType": "10",
                    "IpAddress": ATTACKER,
                    "LogonProcessName": "User32",
                },
            )
        )
        rdp_failures += 1
    events.append(
        EvtxEvent(
            4624,
            base + timedelta(minutes=9),
            "WKSTN-042",
            data={
                "TargetUserName": "bob",
                "TargetDomainName": "CONTOSO",
                "LogonType": "10",
                "IpAddress": ATTACKER,
                "LogonProcessName": "User32",
            },
        )
    )
    evtx = write_evtx(folder / "Security.evtx", events)
    lines = []
    for i in range(30):
        user, port = f"user{i}", 40000 + i
        stamp = f"Nov 27 11:{i:02d}:0"
        lines += [
            f"{stamp}1 lnx-web01 sshd[{i}]: Invalid user {user} from {SPRAYER} port {port}",
            f"{stamp}2 lnx-web01 sshd[{i}]: pam_unix(sshd:auth): authentication failure; "
            f"logname= uid=0 euid=0 tty=ssh ruser= rhost={SPRAYER}",
            f"{stamp}3 lnx-web01 sshd[{i}]: Failed password for invalid user {user} "
            f"from {SPRAYER} port {port} ssh2",
            f"{stamp}4 lnx-web01 sshd[{i}]: Connection closed by invalid user {user} "
            f"{SPRAYER} port {port} [preauth]",
        ]
    lines.append(
        f"Nov 27 11:45:00 lnx-web01 sshd[99]: Accepted password for deploy from {SPRAYER} "
        "port 45000 ssh2"
    )
    auth = folder / "auth.log"
    auth.write_text("\n".join(lines) + "\n")
    when = datetime(2026, 11, 28, tzinfo=timezone.utc).timestamp()
    os.utime(auth, (when, when))  # the syslog year comes from the file's time
    spray_failures = sum(" sshd[" in ln and ": Failed password " in ln for ln in lines)
    return [evtx, auth], rdp_failures, spray_failures


def test_imported_evtx_and_auth_log_agree_with_the_files(tmp_path):
    from nbcatalog.data.importers import import_paths

    files, rdp_failures, spray_failures = _write_logs(tmp_path)
    db = tmp_path / "case.duckdb"
    import_paths(files, db=db)
    case = Investigation.open(f"duckdb:{db}", "2026-11-26T00:00:00Z", "2026-11-28T00:00:00Z")

    windows = logons.host_logons(case, "WKSTN-042", "Windows").data
    assert (windows["LogonResult"] == "Failure").sum() == rdp_failures
    attack = logons.attack_findings(windows).data.set_index("SourceIP").loc[ATTACKER]
    assert attack["Kind"] == "brute force" and attack["Failures"] == rdp_failures
    assert attack["Accounts"] == 3 and attack["SucceededAs"] == "CONTOSO\\bob"

    linux = logons.host_logons(case, "lnx-web01", "Linux").data
    assert (linux["LogonResult"] == "Failure").sum() == spray_failures
    spray = logons.attack_findings(linux).data.set_index("SourceIP").loc[SPRAYER]
    assert spray["Kind"] == "password spray" and spray["Accounts"] == 30
    assert spray["SucceededAs"] == "deploy"


def test_frames_with_repeated_index_labels_or_no_time():
    linux = _syslog(["Failed password for root from 198.51.100.9 port 1 ssh2"] * 2)
    repeated = pd.concat([linux, linux])  # index 0, 1, 0, 1
    assert len(logons.normalise_logons(repeated)) == 4
    windows = _windows([(4625, "a", ATTACKER, 3)] * 2)
    assert len(logons.windows_logons(pd.concat([windows, windows]))) == 4
    no_time = logons.linux_logons(linux.drop(columns="TimeGenerated"))
    assert len(no_time) == 2 and no_time["TimeGenerated"].isna().all()
