"""host_summary and account_summary run end to end on the demo store, in a real kernel.

Each run below happens once per module (kernels are expensive); the tests read its
Results, its saved notebook and its HTML report the way an analyst would.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from run_helpers import outputs_text

import nbcatalog
from nbcatalog.catalog import get_template

pytestmark = pytest.mark.slow

SCRIPT = '<script>alert("nbcatalog")</script>'
ATTACKER = "203.0.113.77"


@pytest.fixture(scope="module")
def runner(demo_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    cache: dict[tuple, object] = {}

    def run(name: str, **params):
        key = (name, json.dumps(params, sort_keys=True, default=str))
        if key not in cache:
            settings = {"data_source": f"duckdb:{demo_db}", "silent": True, "quiet": True}
            cache[key] = nbcatalog.run(name, output_dir=out, **{**settings, **params})
        return cache[key]

    return run


# ------------------------------------------------------------------ host_summary


@pytest.mark.parametrize("name", ["host_summary", "account_summary"])
def test_every_listed_option_is_used_and_the_defaults_agree(name):
    import re

    t = get_template(name)
    nb = nbformat.read(t.path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    used = set(re.findall(r"inv\.wants\(\"(\w+)\"\)", code))
    if "enabled_sources(inv)" in code:  # the account sources, each gated by its option
        from nbcatalog.nblib.accounts import SOURCES

        used |= set(SOURCES)
    assert used == set(t.all_options)
    assert t.parameter("options").default == t.default_options
    assert set(t.option_descriptions) == set(t.all_options) and all(t.option_descriptions.values())


def test_host_summary_contract():
    t = get_template("host-summary")
    assert [p.name for p in t.parameters] == ["host", "start", "end", "data_source", "options"]
    assert [s.id for s in t.sections] == [
        "host",
        "alerts",
        "bookmarks",
        "notable",
        "changes",
        "processes",
        "ti",
        "beacons",
        "summary",
        "verdict",
    ]
    for name in ("host_entity", "related_alerts", "related_bookmarks", "summary"):
        assert name in t.glue_names


def test_host_summary_on_wkstn_042(runner, demo_source):
    from nbcatalog.data.demo.estate import HOSTS_BY_NAME

    res = runner("host_summary", host="WKSTN-042", html=True)
    assert res.status == "ok"
    assert res["host_entity"]["HostName"] == "WKSTN-042"
    assert HOSTS_BY_NAME["WKSTN-042"].ip in res["host_entity"]["IpAddresses"]
    ips = res["host_ips"].set_index("IpAddress")
    assert ips.loc[HOSTS_BY_NAME["WKSTN-042"].ip, "Sources"] == "Heartbeat, Network flows"

    alerts = res["related_alerts"]
    assert len(alerts) > 0
    for text in alerts["Entities"]:
        hosts = {e.get("HostName", "").upper() for e in json.loads(text) if e.get("Type") == "host"}
        assert "WKSTN-042" in hosts
    assert sorted(res["alert_names"]) == sorted(set(alerts["AlertDisplayName"]))
    assert len(res["related_bookmarks"]) > 0
    assert all("WKSTN-042" in r.upper() for r in res["related_bookmarks"]["QueryResultRow"])

    notable = res["notable_processes"]
    assert notable["CommandLine"].str.contains(SCRIPT, regex=False).sum() == 1

    summary = res["summary"].set_index("Item")["Count"]
    assert summary["Related alerts"] == len(alerts)
    assert summary["Related bookmarks"] == len(res["related_bookmarks"])
    assert summary["Suspicious processes"] == len(notable)


def test_host_summary_report_shows_log_text_as_text(runner):
    res = runner("host_summary", host="WKSTN-042", html=True)
    html = res.report_path.read_text(encoding="utf-8")
    # Shown as text (the report may write the quotes either way), never as a tag.
    assert "echo &lt;script&gt;alert(" in html
    assert SCRIPT not in html and "<script>alert(" not in html
    assert "nblib.alerts.related_alerts" not in html  # no source code in the report
    assert "data:image/png;base64" in html  # the alert timeline, inline


def test_host_summary_options_are_honoured(runner):
    res = runner(
        "host_summary",
        host="WKSTN-042",
        options=["heartbeat"],  # a plain list replaces the defaults
    )
    assert res.status == "ok"
    assert res["related_alerts"].empty and res["related_bookmarks"].empty
    assert res["notable_processes"].empty and res["notable_events"].empty
    assert res["host_ips"]["Sources"].tolist() == ["Heartbeat"]  # flows off
    for section, option in (
        ("alerts", "alerts"),
        ("bookmarks", "bookmarks"),
        ("notable", "notable"),
    ):
        assert f"option &#x27;{option}&#x27; is off" in outputs_text(res, section)
    assert "option &#x27;timeline&#x27; is off" in outputs_text(res, "alerts")


def test_host_summary_without_a_host_is_refused_before_any_kernel(runner):
    # It used to run and report every section empty, status ok: now a usage error.
    with pytest.raises(nbcatalog.ParameterError, match=r"host_summary needs host \(host name"):
        runner("host_summary")


# Unknown and partial host names are checked without a kernel in test_nblib_demo.py.


# --------------------------------------------------------------- account_summary


def test_account_summary_on_bob(runner):
    res = runner("account_summary", account="bob")
    assert res.status == "ok"
    ids = set(res["accounts"]["AccountId"])
    assert {"entra:bob@contoso.com", "windows:contoso\\bob", "linux:bob"} <= ids
    assert not any("bobby" in i for i in ids)
    assert set(res["selected_accounts"]) == ids  # several match: all are shown

    activity = res["account_activity"]
    assert set(activity["AccountId"]) == ids
    events = res["account_events"]
    assert not events["Account"].str.contains("bobby", case=False).any()
    assert ((events["IpAddress"] == ATTACKER) & (events["Result"] == "Success")).any()

    alerts = res["related_alerts"]
    assert len(alerts) > 0
    for text in alerts["Entities"]:
        names = {e.get("Name", "").lower() for e in json.loads(text) if e.get("Type") == "account"}
        assert "bob" in names
    assert "account_id=" in outputs_text(res, "accounts")  # how to pick one


def test_account_picker_reruns_for_the_chosen_account(runner):
    from nbcatalog.nblib.pickers import picker

    res = runner("account_summary", account="bob")
    box = picker(res, "account_id", run=runner)
    values = [value for _, value in box.dropdown.options]
    assert values == sorted(res["accounts"]["AccountId"])
    box.dropdown.value = "linux:bob"
    box.pick()  # what the Show button does
    chosen = box.last_results
    assert chosen.parameters["account_id"] == "linux:bob"
    assert chosen.parameters["start"] == res.parameters["start"]  # same time range
    assert chosen["selected_accounts"] == ["linux:bob"]
    assert chosen["account_activity"]["Source"].tolist() == ["Linux logons"]


def test_account_summary_alice_has_no_alerts(runner):
    res = runner("account_summary", account="alice")
    assert res.status == "ok"
    assert len(res["accounts"]) > 0
    assert res["related_alerts"].empty
    assert "no alerts name" in outputs_text(res, "alerts")


def test_account_summary_options_and_empty_account(runner):
    res = runner("account_summary", account="bob", options=["-signins", "-linux", "-alerts"])
    assert set(res["accounts"]["AccountId"]) == {"windows:contoso\\bob"}
    assert res["related_alerts"].empty
    assert "option &#x27;alerts&#x27; is off" in outputs_text(res, "alerts")
    with pytest.raises(nbcatalog.ParameterError, match="account_summary needs account or"):
        runner("account_summary")  # used to run with every section empty, status ok


def test_templates_explain_missing_tables(runner, tmp_path_factory):
    from nbcatalog.data.store import Store

    bare = tmp_path_factory.mktemp("bare") / "partial.duckdb"
    with Store.open(bare) as store:  # an estate without agents, Linux, Entra ID or bookmarks
        for table in ("Heartbeat", "Syslog", "SigninLogs", "HuntingBookmark"):
            store.con.execute(f'DROP TABLE "{table}"')
    host = runner("host_summary", host="WKSTN-042", data_source=f"duckdb:{bare}")
    # Nothing found is no_data (it used to be ok), naming what is absent.
    assert host.status == "no_data" and host["related_alerts"].empty
    assert host["host_matches"]["HostName"].tolist() == []  # no host table left to search
    assert "no Heartbeat or Syslog table" in outputs_text(host, "host")
    assert {"Heartbeat", "Syslog"} <= set(host.no_data["missing_tables"])
    account = runner("account_summary", account="bob", data_source=f"duckdb:{bare}")
    assert account.status == "no_data" and account["accounts"].empty
    assert account.no_data["reason"].startswith("no account named 'bob'")
    assert {"SigninLogs", "Syslog"} <= set(account.no_data["missing_tables"])
    text = outputs_text(account, "accounts")
    assert "no SigninLogs table" in text and "no Syslog table" in text
