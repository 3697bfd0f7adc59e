"""nblib.rarity: command-line clusters, logon-session rarity and process trees."""

from __future__ import annotations

import pandas as pd
import pytest

from nbcatalog.nblib import Investigation, rarity

ATTACK_SESSION_COMMAND = "net  user svc_backup"


def test_command_tokens_hide_variable_parts():
    tokens = rarity.command_tokens(
        '"C:\\Program Files\\App\\app.exe" --id {222A245B-E637-4AE9-A93F-A59CA119A75E} '
        "--pid 0x1f00 --port 4444 --to 192.0.2.66 --user C:\\Users\\bob\\x.txt "
        "-enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBj"
    )
    assert tokens == [
        "app.exe",
        "--id",
        "<guid>",
        "--pid",
        "<hex>",
        "--port",
        "<n>",
        "--to",
        "<ip>",
        "--user",
        "c:\\users\\<user>\\x.txt",
        "-enc",
        "<b64>",
    ]
    assert rarity.command_tokens(None) == []


def _processes(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """(LogonId, program path, command line) rows on one host, a minute apart."""
    times = pd.date_range("2024-05-01 10:00", periods=len(rows), freq="min", tz="UTC")
    return pd.DataFrame(
        {
            "TimeGenerated": times,
            "Computer": "WKSTN-042",
            "Account": "CONTOSO\\bob",
            "LogonId": [r[0] for r in rows],
            "NewProcessName": [r[1] for r in rows],
            "CommandLine": [r[2] for r in rows],
        }
    )


def test_similarity_decides_which_command_lines_share_a_cluster():
    rows = _processes(
        [
            ("s1", "C:\\w\\ping.exe", "ping 10.0.0.1 -n 4"),
            ("s1", "C:\\w\\ping.exe", "ping 10.0.0.9 -n 8"),  # same after placeholders
            ("s1", "C:\\w\\ping.exe", "ping host1 -n 4"),  # 3 of 5 words shared
            ("s2", "C:\\w\\notping.exe", "ping 10.0.0.1 -n 4"),  # another program
        ]
    )
    loose = rarity.cluster_processes(rows, similarity=0.5)
    assert loose["ClusterId"].tolist() == [1, 1, 1, 2]
    assert loose["ClusterSize"].tolist() == [3, 3, 3, 1]
    strict = rarity.cluster_processes(rows, similarity=1.0)
    assert strict["ClusterId"].nunique() == 3
    assert strict["Rarity"].tolist() == [0.5, 0.5, 1.0, 1.0]
    clusters = rarity.process_clusters(strict)
    assert clusters.iloc[0][["Process", "Processes", "Sessions"]].tolist() == ["ping.exe", 2, 1]
    empty = rarity.cluster_processes(rows.iloc[0:0])
    assert empty.empty and {"ClusterId", "Rarity"} <= set(empty.columns)


def test_sessions_with_one_off_commands_rank_first():
    daily = [("s1", "C:\\w\\outlook.exe", "outlook.exe")] * 5 + [
        ("s2", "C:\\w\\outlook.exe", "outlook.exe")
    ] * 5
    attack = [
        ("s3", "C:\\w\\outlook.exe", "outlook.exe"),
        ("s3", "C:\\w\\whoami.exe", "whoami /all"),
        ("s3", "C:\\w\\net.exe", "net user svc_backup P@ss /add"),
    ]
    sessions = rarity.session_rarity(rarity.cluster_processes(_processes(daily + attack)))
    assert sessions["LogonId"].tolist()[0] == "s3"
    top = sessions.iloc[0]
    assert top["Rank"] == 1 and top["Processes"] == 3 and top["RareProcesses"] == 2
    assert top["MaxRarity"] == 1.0
    assert sessions["Rank"].tolist() == [1, 2, 3]


def test_session_ids_prefer_the_target_session():
    frame = pd.DataFrame(
        {"SubjectLogonId": ["0x3e7", "0x3e7", None], "TargetLogonId": ["0x0", "0x5a3f", "-"]}
    )
    assert rarity.session_ids(frame).tolist() == ["0x3e7", "0x5a3f", ""]


def test_process_tree_by_id_then_by_parent_name():
    session = pd.DataFrame(
        {
            "TimeGenerated": pd.date_range("2024-05-01", periods=4, freq="min", tz="UTC"),
            "NewProcessName": [
                "C:\\Windows\\explorer.exe",
                "C:\\Windows\\System32\\cmd.exe",
                "C:\\Windows\\System32\\whoami.exe",
                "C:\\Windows\\System32\\net.exe",
            ],
            "NewProcessId": ["0x10", "0x20", "0x30", "0x40"],
            "ProcessId": ["0x1", "0x10", "0x20", "0x99"],  # net.exe's parent id was lost
            "ParentProcessName": [
                "C:\\Windows\\System32\\userinit.exe",
                "C:\\Windows\\explorer.exe",
                "C:\\Windows\\System32\\cmd.exe",
                "C:\\Windows\\System32\\cmd.exe",
            ],
            "CommandLine": ["explorer", "cmd", "whoami /all", "net user x /add"],
        }
    )
    tree = rarity.process_tree(session)
    assert tree["Depth"].tolist() == [0, 1, 2, 2]
    assert tree["ParentLink"].tolist() == ["", "process id", "process id", "parent name"]
    assert tree["Process"].str.strip("\u2003└ ").tolist() == [
        "explorer.exe",
        "cmd.exe",
        "whoami.exe",
        "net.exe",
    ]
    assert rarity.process_tree(session.iloc[0:0]).empty


# ------------------------------------------------------------------ demo store


@pytest.fixture(scope="module")
def inv(demo_db):
    return Investigation.open(f"duckdb:{demo_db}")


def test_bobs_attack_session_is_the_rarest_on_wkstn_042(inv):
    processes = rarity.host_processes(inv, "WKSTN-042").data
    direct = inv.source.sql(
        'SELECT count(*) AS n FROM "SecurityEvent" WHERE EventID = 4688 '
        "AND Computer = 'WKSTN-042' AND TimeGenerated >= $start",
        {"start": inv.start},
    )["n"][0]
    assert len(processes) == direct
    clustered = rarity.cluster_processes(processes)
    sessions = rarity.session_rarity(clustered)
    attack_ids = set(
        clustered.loc[
            clustered["CommandLine"].str.contains(ATTACK_SESSION_COMMAND, regex=False), "LogonId"
        ]
    )
    assert len(attack_ids) == 1
    top = sessions.head(3)
    assert attack_ids <= set(top["LogonId"])
    assert top.set_index("LogonId").loc[next(iter(attack_ids)), "Account"].lower() == "contoso\\bob"
    trees = rarity.rare_session_trees(clustered, sessions, top=1).data
    assert trees["CommandLine"].str.contains(ATTACK_SESSION_COMMAND, regex=False).any()


def test_process_data_passed_in(inv):
    raw = inv.source.sql("SELECT * FROM \"SecurityEvent\" WHERE Computer = 'WKSTN-042'")
    passed = rarity.host_processes(inv, None, data=raw).data
    assert len(passed) == (raw["EventID"] == 4688).sum()
    assert "LogonId" in passed.columns
    wrong = rarity.host_processes(inv, None, data=pd.DataFrame({"EventID": [4688]}))
    assert wrong.empty and "no NewProcessName or CommandLine" in wrong.messages()[0]


def test_trees_of_chosen_sessions_and_unknown_ones():
    rows = _processes(
        [
            ("s1", "C:\\w\\outlook.exe", "outlook.exe"),
            ("s1", "C:\\w\\outlook.exe", "outlook.exe"),
            ("s2", "C:\\w\\whoami.exe", "whoami /all"),
        ]
    )
    clustered = rarity.cluster_processes(rows)
    sessions = rarity.session_rarity(clustered)
    trees = rarity.rare_session_trees(clustered, sessions, top=1, logon_ids=["S1"])
    assert trees.data.groupby("LogonId").size().to_dict() == {"s1": 2, "s2": 1}
    assert trees.data.set_index("LogonId").loc["s2", "Rank"] == 1
    unknown = rarity.rare_session_trees(clustered, sessions, top=1, logon_ids=["0xdead"])
    assert "no logon session 0xdead" in unknown.messages()[0]
    assert "the rarest are s2, s1" in unknown.messages()[0]
