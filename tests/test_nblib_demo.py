"""nblib steps on the demo store: the planted incident as an analyst would check it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nbcatalog.nblib import Investigation, accounts, alerts, bookmarks, hosts, processes
from nbcatalog.nblib.queries import run_query

SCRIPT = '<script>alert("nbcatalog")</script>'


@pytest.fixture(scope="module")
def inv(demo_db):
    """The demo store over the last 7 days (the demo's window ends at build time)."""
    return Investigation.open(f"duckdb:{demo_db}")


def _all_alerts(inv) -> pd.DataFrame:
    return inv.source.sql('SELECT * FROM "SecurityAlert"')


def _entity_names(entities_text: str, kind: str, key: str) -> set[str]:
    try:
        items = json.loads(entities_text or "[]")
    except ValueError:
        return set()
    return {
        str(e.get(key, "")).casefold()
        for e in items
        if isinstance(e, dict) and str(e.get("Type", "")).casefold() == kind
    }


def test_find_host_exact_partial_missing(inv):
    found = hosts.find_host(inv, "wkstn-042")
    assert found.name == "WKSTN-042" and found.os_family == "Windows"
    several = hosts.find_host(inv, "WKSTN-04")
    assert several.name is None
    assert several.candidates == [f"WKSTN-04{i}" for i in range(10)]
    assert "10 hosts match" in " ".join(several.messages())
    missing = hosts.find_host(inv, "WKSTN-42x")
    assert missing.name is None
    assert "closest names: WKSTN-042" in " ".join(missing.messages())
    assert "pass host=" in " ".join(hosts.find_host(inv, "").messages())


def test_host_details_has_the_planted_address(inv):
    from nbcatalog.data.demo.estate import HOSTS_BY_NAME

    details = hosts.host_details(inv, hosts.find_host(inv, "WKSTN-042"))
    assert HOSTS_BY_NAME["WKSTN-042"].ip in details.entity["IpAddresses"]
    assert details.entity["OSFamily"] == "Windows"
    row = details.data[details.data["IpAddress"] == HOSTS_BY_NAME["WKSTN-042"].ip]
    assert set(row["IpClass"]) == {"private"}


def test_related_alerts_for_a_host_are_exactly_those_naming_it(inv):
    found = alerts.related_alerts(inv, host="WKSTN-042")
    everything = _all_alerts(inv)
    everything = everything[
        (everything["TimeGenerated"] >= inv.start) & (everything["TimeGenerated"] <= inv.end)
    ]
    naming = everything[
        [
            "wkstn-042" in {n.split(".")[0] for n in _entity_names(e, "host", "HostName")}
            for e in everything["Entities"]
        ]
    ]
    assert len(naming) > 0, "the demo plants alerts naming WKSTN-042"
    assert sorted(found.data["SystemAlertId"]) == sorted(naming["SystemAlertId"])


def test_related_alerts_for_bob_not_bobby(inv):
    found = alerts.related_alerts(inv, account="bob")
    assert not found.empty
    for text in found.data["Entities"]:
        names = _entity_names(text, "account", "Name")
        assert "bob" in names or any(n.endswith("\\bob") for n in names)
    assert alerts.related_alerts(inv, account="alice").empty


def test_related_bookmarks_name_the_host(inv):
    found = bookmarks.related_bookmarks(inv, host="WKSTN-042")
    assert not found.empty
    for rec in found.data.to_dict("records"):
        assert "wkstn-042" in json.dumps(rec, default=str).casefold()


def test_notable_processes_show_the_script_command_line(inv):
    found = processes.notable_processes(inv, "WKSTN-042")
    hits = found.data[found.data["CommandLine"].str.contains(SCRIPT, regex=False)]
    assert len(hits) == 1
    assert "markup" in hits["Reasons"].iloc[0]
    assert "&lt;script&gt;alert(&quot;nbcatalog&quot;)" in found._repr_html_()
    assert SCRIPT not in found._repr_html_()


def test_find_accounts_for_bob(inv):
    found = accounts.find_accounts(inv, "bob")
    ids = set(found.data["AccountId"])
    assert {"entra:bob@contoso.com", "windows:contoso\\bob", "linux:bob"} <= ids
    assert not any("bobby" in i for i in ids)
    assert set(found.selected) == ids
    events = found.selected_events
    from_attacker = events[
        (events["IpAddress"] == "203.0.113.77") & (events["Result"] == "Success")
    ]
    assert len(from_attacker) >= 1
    activity = accounts.account_activity(found).data
    assert set(activity["Source"]) == {"Entra ID sign-ins", "Windows logons", "Linux logons"}
    assert (activity["Successes"] > 0).all()
    counted = events.groupby("AccountId").size()
    assert activity.set_index("AccountId")["Events"].to_dict() == counted.to_dict()


def test_select_one_account_by_id_or_exact_name(inv):
    by_id = accounts.find_accounts(inv, "bob", account_id="linux:bob")
    assert by_id.selected == ["linux:bob"]
    assert set(by_id.selected_events["Source"]) == {"Linux logons"}
    exact = accounts.find_accounts(inv, "CONTOSO\\bob")
    assert exact.selected == ["windows:contoso\\bob"]
    wrong = accounts.find_accounts(inv, "bob", account_id="linux:nobody")
    assert "Accepted ids" in " ".join(wrong.messages())


def test_unknown_account_suggests_close_names(inv):
    found = accounts.find_accounts(inv, "alicee")
    assert found.empty
    assert "closest names" in " ".join(found.messages())


def test_a_missing_table_is_a_note_not_an_exception(tmp_path):
    import duckdb

    from nbcatalog.data import connect

    db = tmp_path / "bare.duckdb"
    duckdb.connect(str(db)).close()  # a store file with no tables at all
    bare = Investigation.open(f"duckdb:{db}")
    found = alerts.related_alerts(bare, host="WKSTN-042")
    assert found.empty and found.missing
    assert "SecurityAlert" in " ".join(found.messages())
    assert hosts.find_host(bare, "WKSTN-042").name is None
    assert run_query(connect(f"duckdb:{db}"), "No.such_query").missing


def test_notable_commands_on_lnx_web01_show_the_payload_download(inv):
    from nbcatalog.data.demo.estate import MALICIOUS_URL

    found = processes.notable_processes(inv, "LNX-WEB01", "Linux")
    download = found.data[found.data["CommandLine"].str.contains(MALICIOUS_URL, regex=False)]
    assert download["Account"].tolist() == ["deploy"]
    assert "download cradle" in download["Reasons"].iloc[0]
