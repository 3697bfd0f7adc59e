"""Drill-downs on Results: declared in template metadata, run on harvested data or as a
companion template.

The first part builds real Results objects around small tables (no kernel) to check
the mechanism: parsing and checking declarations, picking rows, parameters carried
to the companion run, glued results winning over methods. The second part drills
down from real host_summary / account_summary runs on the demo store (kernels shared
with test_templates_summary_full.py through tests/summary_runs.py).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from run_helpers import Recorder
from summary_runs import cached_runner, summary_run

from nbcatalog.catalog import get_template
from nbcatalog.drilldowns import (
    check_drilldowns,
    companion_parameters,
    drilldown_specs,
    help_lines,
    listing,
    run_drilldown,
    shell_command,
)
from nbcatalog.errors import UsageError
from nbcatalog.results import Results

META = {
    "name": "host_summary",
    "drilldowns": {
        "pick_ip": {
            "description": "summarise an address",
            "template": "ip_summary",
            "result": "host_ips",
            "where": {"IpClass": "public"},
            "parameters": {"ip": "row:IpAddress"},
        },
        "expand_events": {
            "description": "EventData as columns",
            "template": "win_host_events",
            "parameters": {"host": "result:host_entity.HostName"},
            "set": {"options": ["+expand_events"]},
            "pass": ["event_ids"],
        },
        "again": {
            "description": "same template, other host",
            "template": "host_summary",
            "result": "host_matches",
            "parameters": {"host": "row:HostName"},
        },
        "count_ips": {
            "description": "how many addresses",
            "function": "tests_drill_functions:count_rows",
            "result": "host_ips",
        },
    },
}


def _results(tmp_path: Path, data: dict, meta: dict = META, **params) -> Results:
    notebook = nbformat.v4.new_notebook(metadata={"nbcatalog": meta})
    return Results(
        template=meta["name"],
        data=data,
        displays={},
        sections={},
        notebook=notebook,
        parameters={
            "host": "WKSTN",
            "start": "2024-05-01T00:00:00Z",
            "end": "2024-05-08T00:00:00Z",
            "data_source": "duckdb:/tmp/x.duckdb",
            "options": ["alerts"],
            **params,
        },
        run_dir=tmp_path,
        notebook_path=tmp_path / "notebook.ipynb",
        report_path=None,
        status="ok",
        duration=1.0,
    )


@pytest.fixture
def res(tmp_path):
    ips = pd.DataFrame(
        {
            "IpAddress": ["10.0.0.5", "203.0.113.77", "198.51.100.23"],
            "IpClass": ["private", "public", "public"],
        }
    )
    return _results(
        tmp_path,
        {
            "host_ips": ips,
            "host_entity": {"HostName": "WKSTN-042"},
            "host_matches": pd.DataFrame({"HostName": ["WKSTN-041", "WKSTN-042"]}),
            "summary": pd.DataFrame({"Item": ["a"], "Count": [1]}),
        },
    )


# ------------------------------------------------------------- declarations


def test_malformed_declarations_are_reported():
    problems = check_drilldowns(
        {
            "drilldowns": {
                "both": {"function": "m:f", "template": "t"},
                "neither": {"description": "x"},
                "bad_path": {"function": "no_colon"},
                "rowless": {"template": "ip_summary", "parameters": {"ip": "row:IpAddress"}},
                "typo": {"template": "ip_summary", "paramters": {}},
            }
        }
    )
    text = "\n".join(problems)
    assert "'both': give either" in text and "'neither': give either" in text
    assert "must read 'module:callable'" in text
    assert "'rowless': row: values need 'result'" in text
    assert "'typo': unknown keys ['paramters']" in text
    with pytest.raises(UsageError, match="give either"):
        drilldown_specs({"drilldowns": {"x": {}}})


def test_every_catalogue_drilldown_is_well_formed_and_its_targets_exist():
    from nbcatalog.catalog import catalog, get_template
    from nbcatalog.drilldowns import load_function

    seen = 0
    for template in catalog():
        for spec in drilldown_specs(template.metadata).values():
            seen += 1
            if spec.function:
                assert callable(load_function(spec.function))
            else:
                companion = get_template(spec.template)
                names = {p.name for p in companion.parameters}
                assert set(spec.parameters) | set(spec.passed) <= names, spec.name
            if spec.result:
                assert spec.result in template.glue_names, (template.name, spec.name)
    assert seen >= 10


def test_show_lists_drilldowns_with_their_shell_form():
    from nbcatalog.catalog import get_template, help_html, help_text

    text = help_text(get_template("host_summary"))
    assert "Drill-downs" in text
    assert "expand_events: " in text
    assert (
        "nbcatalog run win-host-events --host <host_entity.HostName> --option +expand_events"
        in (text)
    )
    assert "Drill-downs" in help_html(get_template("account_summary"))
    assert help_lines({"drilldowns": {"x": {}}})[0].startswith("(drill-downs not usable")


# ------------------------------------------------------------------ Results


def test_glued_results_win_over_methods_and_drilldowns(tmp_path):
    data = {"summary": pd.DataFrame({"Item": ["x"]}), "pick_ip": "a glued value"}
    res = _results(tmp_path, data)
    assert isinstance(res.summary, pd.DataFrame)  # not Results.to_json_summary
    assert res.pick_ip == "a glued value"
    assert callable(res.expand_events)
    assert res.to_json_summary()["results"]["pick_ip"] == "a glued value"
    with pytest.raises(AttributeError, match="no result 'nothing'"):
        _ = res.nothing
    assert {"expand_events", "pick_ip", "summary"} <= set(dir(res))


def test_listing_and_html(res):
    table = res.drilldown()
    assert table["Name"].tolist() == ["pick_ip", "expand_events", "again", "count_ips"]
    assert table.set_index("Name").loc["expand_events", "Call"] == (
        "res.expand_events(event_ids=…)"
    )
    assert listing(res).equals(table)
    assert "res.pick_ip(row=…)" in res._repr_html_()


def test_row_picked_by_value_position_or_mapping(res):
    run = Recorder()
    res.pick_ip("203.0.113.77", run=run)
    res.pick_ip(1, run=run)  # positions count the filtered rows (public only)
    res.drilldown("pick_ip", row={"IpAddress": "192.0.2.66"}, run=run)
    assert [c[1]["ip"] for c in run.calls] == ["203.0.113.77", "198.51.100.23", "192.0.2.66"]
    name, params = run.calls[0]
    assert name == "ip_summary"
    # Only the time range and source are carried to another template.
    assert params == {
        "start": "2024-05-01T00:00:00Z",
        "end": "2024-05-08T00:00:00Z",
        "data_source": "duckdb:/tmp/x.duckdb",
        "ip": "203.0.113.77",
        "silent": True,
    }


def test_bad_rows_say_what_can_be_chosen(res):
    with pytest.raises(UsageError, match="choose a row of host_ips .* 203.0.113.77, 198.51.100.23"):
        res.pick_ip(run=Recorder())  # two rows and no notebook to show a picker in
    with pytest.raises(UsageError, match="no row with IpAddress '10.0.0.5'"):
        res.pick_ip("10.0.0.5", run=Recorder())  # filtered out by where: private
    with pytest.raises(UsageError, match="out of range"):
        res.pick_ip(7, run=Recorder())


def test_values_from_results_fixed_settings_and_passed_keywords(res):
    run = Recorder()
    res.expand_events(event_ids=[4720], run=run)
    name, params = run.calls[0]
    assert name == "win_host_events"
    assert params["host"] == "WKSTN-042"  # from the glued host_entity
    assert params["options"] == ["+expand_events"]  # not this run's options
    assert params["event_ids"] == [4720]
    with pytest.raises(UsageError, match="takes no host_name; accepted: event_ids"):
        res.expand_events(host_name="x", run=run)


def test_same_template_carries_every_parameter_but_secrets(tmp_path, res):
    run = Recorder()
    res.again("WKSTN-041", run=run)
    assert run.calls[0] == (
        "host_summary",
        {**res.parameters, "host": "WKSTN-041", "silent": True},
    )
    secret = _results(tmp_path, dict(res.data), api_token="<redacted>")
    spec = drilldown_specs(META)["again"]
    params = companion_parameters(secret, spec, {"HostName": "x"}, {})
    assert "api_token" not in params  # never re-sent as the literal '<redacted>'


def test_missing_results_and_names(tmp_path):
    res = _results(tmp_path, {"host_entity": {}})
    with pytest.raises(UsageError, match="no result 'host_ips' for drill-down 'pick_ip'"):
        res.pick_ip(0, run=Recorder())
    with pytest.raises(UsageError, match="has no 'HostName'"):
        res.expand_events(run=Recorder())
    with pytest.raises(UsageError, match="no drill-down 'nope'; drill-downs: pick_ip"):
        res.drilldown("nope")


def test_function_drilldowns_get_the_results(res, tmp_path, monkeypatch):
    module = tmp_path / "tests_drill_functions.py"
    module.write_text(
        "from nbcatalog.drilldowns import drilldown_function\n"
        "@drilldown_function\n"
        "def count_rows(results):\n    return len(results['host_ips'])\n"
        "def unmarked(results):\n    return 'called'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert res.count_ips() == 3
    unmarked = {"name": "x", "drilldowns": {"f": {"function": "tests_drill_functions:unmarked"}}}
    with pytest.raises(UsageError, match="not marked with nbcatalog.drilldowns.drilldown_function"):
        run_drilldown(_results(tmp_path, {}, meta=unmarked), "f")
    builtin = {"name": "x", "drilldowns": {"f": {"function": "os:getcwd"}}}
    with pytest.raises(UsageError, match="not marked"):
        run_drilldown(_results(tmp_path, {}, meta=builtin), "f")
    with pytest.raises(UsageError, match="cannot be loaded"):
        run_drilldown(
            _results(
                tmp_path,
                {},
                meta={"name": "x", "drilldowns": {"f": {"function": "nowhere_at_all:f"}}},
            ),
            "f",
        )


def test_shell_command_resolves_like_the_python_call(res):
    from nbcatalog.catalog import get_template
    from nbcatalog.parameters import resolve

    command = shell_command(res, "expand_events", event_ids=[4720, 4732])
    words = shlex.split(command)
    assert words[:3] == ["nbcatalog", "run", "win-host-events"]
    raw: dict = {}
    flags = iter(words[3:])
    for flag in flags:
        value = next(flags)
        key = {"--source": "data_source", "--option": "options"}.get(flag, flag[2:])
        key = key.replace("-", "_")
        raw[key] = raw.get(key, []) + [value] if key == "options" else value
    values = resolve(get_template("win_host_events"), raw).values
    assert values["host"] == "WKSTN-042"
    assert values["event_ids"] == ["4720", "4732"] or values["event_ids"] == [4720, 4732]
    assert "expand_events" in values["options"]
    with pytest.raises(UsageError, match="works on this run's data in Python"):
        shell_command(res, "count_ips")


def test_pick_uses_the_template_picker(tmp_path):
    meta = {
        "name": "account_summary",
        "pickers": {"account_id": {"result": "accounts", "column": "AccountId"}},
    }
    accounts = pd.DataFrame({"AccountId": ["linux:bob", "entra:bob@contoso.com"]})
    res = _results(tmp_path, {"accounts": accounts}, meta=meta, account="bob")
    run = Recorder()
    res.pick("account_id", "linux:bob", run=run)
    assert run.calls[0][1]["account_id"] == "linux:bob"
    assert run.calls[0][1]["account"] == "bob"
    with pytest.raises(UsageError, match="not among the choices"):
        res.pick("account_id", "windows:nobody", run=run)
    with pytest.raises(UsageError, match="no picker for 'host'"):
        res.pick("host")
    box = res.pick("account_id", run=run)  # no value: the widget
    assert [v for _, v in box.dropdown.options] == ["linux:bob", "entra:bob@contoso.com"]


# --------------------------------------------------- from real runs (kernels)


@pytest.mark.slow
def test_host_summary_expand_events_runs_win_host_events(demo_db):
    res = summary_run(demo_db, "host_summary", host="WKSTN-042", html=True)
    events = res.expand_events(event_ids=[4720, 4732], run=cached_runner(demo_db))
    assert events.template == "win_host_events"
    assert events.parameters["start"] == res.parameters["start"]
    expanded = events["expanded_events"]
    assert sorted(expanded["EventID"].astype(int)) == [4720, 4732]
    assert "svc_backup" in set(expanded["TargetUserName"]) | set(expanded.get("SamAccountName", []))


@pytest.mark.slow
def test_host_summary_browse_alerts_and_pick_url(demo_db):
    res = summary_run(demo_db, "host_summary", host="WKSTN-042", html=True)
    box = res.browse_alerts()
    assert len(box.dropdown.options) == len(res["related_alerts"])
    detail, entities = box.details(0)
    assert any(v.upper().startswith("WKSTN-042") for v in entities.data["Value"])
    run = Recorder()
    res.pick_url(0, run=run)  # URL rows of the ranked TI results: the listed one first
    assert run.calls[0][0] == "url_summary"
    assert run.calls[0][1]["url"] == "http://malicious.example/payload.ps1"
    bookmarks = res.browse_bookmarks()
    assert len(bookmarks.dropdown.options) == len(res["related_bookmarks"]) > 0


@pytest.mark.slow
def test_account_summary_pick_account_and_asn(demo_db):
    res = summary_run(demo_db, "account_summary", account="bob", html=True)
    linux = res.pick_account("linux:bob", run=cached_runner(demo_db))
    assert linux["selected_accounts"] == ["linux:bob"]
    assert set(linux["host_logons"]["Source"]) == {"Linux logons"}
    assert linux["azure_activity"].empty  # a Linux account has no Azure activity
    nb = nbformat.read(linux.notebook_path, as_version=4)
    azure_text = "".join(
        str(o.get("data", {}).get("text/html", ""))
        for c in nb.cells
        if "section:azure" in c.metadata.get("tags", [])
        for o in c.get("outputs", [])
    )
    assert "pick entra:bob@contoso.com to see it" in azure_text

    comcast = res.pick_asn(asn="COMCAST-7922")
    assert len(comcast) > 0 and set(comcast["IpAddress"]) == {"24.16.39.94"}
    with pytest.raises(UsageError, match="owners: "):
        res.pick_asn(asn="NO-SUCH-OWNER")
    run = Recorder()
    res.pick_ip("203.0.113.77", run=run)
    assert run.calls[0][:1] == ("ip_summary",)
    res.find_additional_data("entra:bob@contoso.com", run=run)
    name, params = run.calls[-1]
    assert (name, params["account_id"]) == ("account_summary", "entra:bob@contoso.com")
    assert params["options"] == get_template("account_summary").all_options  # every part on


@pytest.mark.slow
def test_drill_from_a_shell(demo_db):
    from click.testing import CliRunner
    from nbcatalog.cli.main import main

    res = summary_run(demo_db, "account_summary", account="bob", html=True)
    cli = CliRunner()
    listed = cli.invoke(main, ["drill", str(res.run_dir)])
    assert listed.exit_code == 0
    assert "pick_ip (template: ip_summary)" in listed.output
    printed = cli.invoke(
        main, ["drill", str(res.run_dir), "pick_ip", "--row", "203.0.113.77", "--print"]
    )
    assert printed.exit_code == 0
    words = shlex.split(printed.output)
    assert words[:3] == ["nbcatalog", "run", "ip-summary"]
    assert words[words.index("--ip") + 1] == "203.0.113.77"
    assert words[words.index("--start") + 1] == res.parameters["start"]
    asn = cli.invoke(
        main, ["drill", str(res.run_dir), "pick_asn", "--param", "asn=COMCAST-7922", "--json"]
    )
    assert asn.exit_code == 0
    assert {r["IpAddress"] for r in json.loads(asn.output)} == {"24.16.39.94"}
    bad = cli.invoke(main, ["drill", str(res.run_dir), "pick_ip", "--row", "1.1.1.1"])
    assert bad.exit_code == 2 and "4 to choose from" in bad.output + (bad.stderr or "")
    widget = cli.invoke(main, ["drill", str(res.run_dir), "browse_alerts"])
    assert widget.exit_code == 2
