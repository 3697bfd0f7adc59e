"""Issue 14: account_summary counts an account's Linux attempts from its own lines.

`LinuxSyslog.list_logons_for_host_account` returns only the lines of a host that
counting one account's attempts needs. The attempts of that account must be the
ones counted on all of the host's lines (the old way, kept as the reference): on
the demo store for every Linux account, and on crafted lines that exercise the
model's edges (repeat markers, a PID reused within and after 10 minutes, sshd's
own failure in another process deciding a PAM echo, logind lines, look-alike names).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nbcatalog.data.store import Store
from nbcatalog.nblib import Investigation
from nbcatalog.nblib.attempts import PID_GAP
from nbcatalog.nblib.entities import account_matches
from nbcatalog.nblib.logons import linux_logons_on


def _mine(frame: pd.DataFrame, account: str) -> pd.DataFrame:
    keep = [account_matches(account, str(a)) for a in frame["Account"].fillna("")]
    return frame[keep].reset_index(drop=True)


def _compare(inv: Investigation, hosts: list[str], account: str) -> pd.DataFrame:
    old = _mine(linux_logons_on(inv, hosts).data, account)
    new = _mine(linux_logons_on(inv, hosts, account=account).data, account)
    pd.testing.assert_frame_equal(new, old)
    return new


@pytest.fixture(scope="module")
def demo_inv(demo_db: Path) -> Investigation:
    return Investigation.open(
        f"duckdb:{demo_db}", "2020-01-01T00:00:00Z", pd.Timestamp.now(tz="UTC").isoformat()
    )


def test_every_linux_account_of_the_demo_has_the_same_attempts(demo_inv: Investigation) -> None:
    hosts = list(demo_inv.source.sql('SELECT DISTINCT Computer FROM "Syslog"')["Computer"])
    everyone = linux_logons_on(demo_inv, hosts).data
    accounts = sorted(set(everyone["Account"].dropna()) - {"", "root"})
    assert "bob" in accounts and len(accounts) > 3
    counted = 0
    for account in accounts:
        counted += len(_compare(demo_inv, hosts, account))
    assert counted > 100  # the comparisons saw attempts, not empty frames


def test_the_sql_gap_is_the_models_gap() -> None:
    # The query splits a process's lines at 10 minutes, as the model does.
    assert pd.Timedelta(minutes=10) == PID_GAP


T0 = pd.Timestamp("2026-11-30T10:00:00Z")


def _line(sec: float, pid: int | None, proc: str, msg: str, host: str = "LNX-T1") -> dict:
    return {
        "TimeGenerated": T0 + pd.Timedelta(seconds=sec),
        "Computer": host,
        "Facility": "authpriv",
        "ProcessName": proc,
        "ProcessID": pid,
        "SyslogMessage": msg,
    }


CRAFTED = [
    # bob: failed then accepted in one process; a repeat marker after the failure.
    _line(0, 100, "sshd", "Failed password for bob from 198.51.100.7 port 4000 ssh2"),
    _line(1, None, "", "last message repeated 3 times"),
    _line(2, 100, "sshd", "Accepted password for bob from 198.51.100.7 port 4000 ssh2"),
    _line(3, 612, "systemd-logind", "New session 7 of user bob."),
    _line(4, None, "", "last message repeated 2 times"),  # follows logind: no attempt
    # PID 100 reused 5 minutes later (same group) and 30 minutes later (a new one).
    _line(300, 100, "sshd", "Invalid user admin from 198.51.100.7 port 4100"),
    _line(1800, 100, "sshd", "Failed password for alice from 198.51.100.8 port 4200 ssh2"),
    # A PAM echo of bob whose sshd failure is written by another process.
    _line(2000, 200, "sshd(pam_unix)", "authentication failure; logname= uid=0 euid=0 "
          "tty=ssh ruser= rhost=198.51.100.9  user=bob"),
    _line(2001, 201, "sshd", "Failed password for bob from 198.51.100.9 port 4300 ssh2"),
    _line(2002, None, "", "last message repeated 1 time"),
    # A PAM echo of bob with no sshd failure near it: counts.
    _line(3000, 300, "sshd(pam_unix)", "authentication failure; logname= uid=0 euid=0 "
          "tty=ssh ruser= rhost=198.51.100.10  user=bob"),
    # Look-alikes and case.
    _line(4000, 400, "sshd", "Accepted publickey for bobby from 10.0.0.5 port 1 ssh2"),
    _line(4001, 401, "sshd", "Accepted publickey for BOB from 10.0.0.6 port 2 ssh2"),
    _line(4002, 402, "su", "(to bob) carol on pts/0"),
    _line(4003, None, "", "last message repeated 4 times"),
    # Hostile text and another host.
    _line(5000, 500, "sshd", "Failed password for x' OR '1'='1 from 10.0.0.7 port 3 ssh2"),
    _line(5001, 501, "sshd", "Accepted password for bob from 10.0.0.8 port 4 ssh2", "LNX-T2"),
]  # fmt: skip


@pytest.fixture(scope="module")
def crafted_inv(tmp_path_factory: pytest.TempPathFactory) -> Investigation:
    path = tmp_path_factory.mktemp("lines") / "lines.duckdb"
    with Store.open(path) as store:
        store.append("Syslog", pd.DataFrame(CRAFTED))
    return Investigation.open(f"duckdb:{path}", "2026-11-29T00:00:00Z", "2026-12-01T00:00:00Z")


@pytest.mark.parametrize(
    "account", ["bob", "BOB", "alice", "admin", "bobby", "carol", "x' OR '1'='1", "%", "b"]
)
def test_crafted_lines_give_the_same_attempts(crafted_inv: Investigation, account: str) -> None:
    got = _compare(crafted_inv, ["LNX-T1", "LNX-T2"], account)
    if account.casefold() == "bob":
        # failure x4 (marker), accepted, echo with no sshd line near, BOB, su, su x4 ...
        assert len(got) >= 6, got
        assert set(got["Computer"]) == {"LNX-T1", "LNX-T2"}
