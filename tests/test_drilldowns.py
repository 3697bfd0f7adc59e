"""Drill-downs on Results: declared in template metadata, run on harvested data or as a
companion template.

The first part builds real Results objects around small tables (no kernel) to check
the mechanism: parsing and checking declarations, picking rows, parameters carried
to the companion run, glued results winning over methods. The declarations come from
an installed test template (a real notebook in a folder added to the catalogue), as
they always do: never from the run's own notebook. The second part drills down from
real host_summary / account_summary runs on the demo store (kernels shared with
test_templates_summary_full.py through tests/summary_runs.py).
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
from template_factory import write_template

from nbcatalog.catalog import add_path, get_template, remove_path
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

PROBE = "drill_probe"  # the installed test template declaring the drill-downs below
DRILLDOWNS = {
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
        "template": PROBE,
        "result": "host_matches",
        "parameters": {"host": "row:HostName"},
    },
    "count_ips": {
        "description": "how many addresses",
        "function": "tests_drill_functions:count_rows",
        "result": "host_ips",
    },
}


@pytest.fixture
def install(tmp_path_factory):
    """`install(name, drilldowns)`: a test template installed in the catalogue (a folder
    added with add_path, removed again after the test)."""
    folders = []

    def install(name: str, drilldowns: dict):
        folder = tmp_path_factory.mktemp("installed")
        write_template(folder, name, drilldowns=drilldowns)
        add_path(folder)
        folders.append(folder)
        return get_template(name)

    yield install
    for folder in folders:
        remove_path(folder)


@pytest.fixture
def probe(install):
    """The installed template `drill_probe`."""
    return install(PROBE, DRILLDOWNS)


def _results(
    tmp_path: Path,
    data: dict,
    template: str = PROBE,
    notebook_meta: dict | None = None,
    content_hash: str | None = None,
    **params,
) -> Results:
    """Results as the runner makes them; run_info records the installed template's hash."""
    notebook = nbformat.v4.new_notebook(metadata={"nbcatalog": notebook_meta or {}})
    recorded = content_hash if content_hash is not None else get_template(template).content_hash
    return Results(
        template=template,
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
        run_info={"template": template, "content_hash": recorded},
    )


def _probe_data() -> dict:
    ips = pd.DataFrame(
        {
            "IpAddress": ["10.0.0.5", "203.0.113.77", "198.51.100.23"],
            "IpClass": ["private", "public", "public"],
        }
    )
    return {
        "host_ips": ips,
        "host_entity": {"HostName": "WKSTN-042"},
        "host_matches": pd.DataFrame({"HostName": ["WKSTN-041", "WKSTN-042"]}),
        "summary": pd.DataFrame({"Item": ["a"], "Count": [1]}),
    }


@pytest.fixture
def res(tmp_path, probe):
    return _results(tmp_path, _probe_data())


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


def test_glued_results_win_over_methods_and_drilldowns(tmp_path, probe):
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
    # in the order of the installed notebook's metadata (written with sorted keys)
    assert table["Name"].tolist() == ["again", "count_ips", "expand_events", "pick_ip"]
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
        PROBE,
        {**res.parameters, "host": "WKSTN-041", "silent": True},
    )
    secret = _results(tmp_path, dict(res.data), api_token="<redacted>")
    spec = drilldown_specs({"drilldowns": DRILLDOWNS})["again"]
    params = companion_parameters(secret, spec, {"HostName": "x"}, {})
    assert "api_token" not in params  # never re-sent as the literal '<redacted>'


def test_missing_results_and_names(tmp_path, probe):
    res = _results(tmp_path, {"host_entity": {}})
    with pytest.raises(UsageError, match="no result 'host_ips' for drill-down 'pick_ip'"):
        res.pick_ip(0, run=Recorder())
    with pytest.raises(UsageError, match="has no 'HostName'"):
        res.expand_events(run=Recorder())
    with pytest.raises(
        UsageError,
        match="no drill-down 'nope'; drill-downs: again, count_ips, expand_events, pick_ip",
    ):
        res.drilldown("nope")


def test_shell_command_resolves_like_the_python_call(res):
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


def test_shell_command_keeps_paths_as_they_are(tmp_path, probe):
    store = "duckdb:/srv/case_files/INC_2024_017/evidence_store.duckdb"
    res = _results(tmp_path, _probe_data(), data_source=store)
    words = shlex.split(shell_command(res, "expand_events", event_ids=[4720]))
    assert words[words.index("--source") + 1] == store  # underscores kept inside the path
    assert "--event-ids" in words and "--event_ids" not in words  # option names use '-'
    assert words[2] == "win-host-events"


def test_pick_uses_the_template_picker(tmp_path):
    # account_summary's own picker (installed metadata): account_id from AccountId of accounts.
    accounts = pd.DataFrame({"AccountId": ["linux:bob", "entra:bob@contoso.com"]})
    res = _results(tmp_path, {"accounts": accounts}, template="account_summary", account="bob")
    run = Recorder()
    res.pick("account_id", "linux:bob", run=run)
    assert run.calls[0][0] == "account_summary"
    assert run.calls[0][1]["account_id"] == "linux:bob"
    assert run.calls[0][1]["account"] == "bob"
    with pytest.raises(UsageError, match="not among the choices"):
        res.pick("account_id", "windows:nobody", run=run)
    with pytest.raises(UsageError, match="no picker for 'host'"):
        res.pick("host")
    box = res.pick("account_id", run=run)  # no value: the widget
    assert [v for _, v in box.dropdown.options] == ["linux:bob", "entra:bob@contoso.com"]
    box.pick()
    assert run.calls[-1][0] == "account_summary"


# ------------------------------------------- where drill-downs come from (issue 10)

PLANTED_DRILLDOWNS = {
    "pick_ip": {"template": "/tmp/planted/planted.ipynb", "parameters": {}},
    "planted": {"template": "/tmp/planted/planted.ipynb"},
    "count_ips": {"function": "os:system"},
}


def test_the_run_notebook_metadata_is_never_read(tmp_path, probe):
    # A run folder's notebook naming a planted notebook and os.system: only the installed
    # template's declarations count.
    res = _results(tmp_path, _probe_data(), notebook_meta={"drilldowns": PLANTED_DRILLDOWNS})
    assert sorted(res.drilldown()["Runs"]) == sorted(
        ["ip_summary", "win_host_events", PROBE, "tests_drill_functions:count_rows"]
    )
    run = Recorder()
    res.pick_ip("203.0.113.77", run=run)
    assert [name for name, _ in run.calls] == ["ip_summary"]
    with pytest.raises(UsageError, match="no drill-down 'planted'"):
        res.drilldown("planted", run=run)
    assert len(run.calls) == 1


@pytest.mark.parametrize(
    "named",
    ["/tmp/planted/planted.ipynb", "planted.ipynb", "../host/host_summary", "host summary"],
)
def test_a_run_naming_a_path_as_its_template_is_refused(tmp_path, named):
    res = _results(tmp_path, _probe_data(), template="host_summary")
    res.template = named  # what a crafted run.json "template" gives results_from_run_dir
    run = Recorder()
    with pytest.raises(UsageError, match="is not a template name .* never from a path"):
        res.drilldown("pick_ip", 0, run=run)
    with pytest.raises(UsageError, match="is not a template name"):
        res.pick("account_id", "x", run=run)
    assert run.calls == []
    assert "pick_ip" not in dir(res)  # nothing is offered for a template that is a path


def test_a_changed_template_is_refused_unless_allowed(tmp_path, probe):
    res = _results(tmp_path, _probe_data(), content_hash="0" * 64)
    run = Recorder()
    with pytest.raises(UsageError, match="drill_probe changed since this run .* --allow-changed"):
        res.pick_ip("203.0.113.77", run=run)
    with pytest.raises(UsageError, match="changed since this run"):
        shell_command(res, "pick_ip", "203.0.113.77")
    assert run.calls == []
    assert "pick_ip" in dir(res)  # still listed: it is the installed template's
    res.pick_ip("203.0.113.77", run=run, allow_changed=True)
    assert run.calls[0][1]["ip"] == "203.0.113.77"
    unrecorded = _results(tmp_path, _probe_data(), content_hash="")
    with pytest.raises(UsageError, match="records no content hash"):
        unrecorded.pick_ip("203.0.113.77", run=run)


def test_a_template_that_is_not_installed_says_so(tmp_path, install):
    install("drill_gone", DRILLDOWNS)
    res = _results(tmp_path, _probe_data(), template="drill_gone")
    remove_path(get_template("drill_gone").path.parent.parent)
    with pytest.raises(UsageError, match="'drill_gone' is not installed.*NBCATALOG_PATH"):
        res.drilldown("pick_ip", 0, run=Recorder())
    assert "pick_ip" not in dir(res)


def test_companions_must_be_catalogue_names():
    problems = check_drilldowns(
        {
            "drilldowns": {
                "x": {"template": "/tmp/planted/planted.ipynb"},
                "y": {"function": "a b:c"},
            }
        }
    )
    assert any(
        "'x': template '/tmp/planted/planted.ipynb' must be a catalogue name" in p for p in problems
    )
    assert any("'y': function 'a b:c' must read 'module:callable'" in p for p in problems)


# ----------------------------------------------------- function drill-downs


def _write_module(folder: Path, name: str, marker: Path) -> None:
    """A module whose import (and whose function) leaves `marker` behind."""
    (folder / f"{name}.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(marker)!r}).write_text('imported')\n"
        "def f(results):\n"
        f"    Path({str(marker)!r}).write_text('called')\n"
    )


def test_function_names_are_checked_before_anything_is_imported(tmp_path, install, monkeypatch):
    import sys

    marker = tmp_path / "imported.txt"
    _write_module(tmp_path, "nbc_planted_probe", marker)
    monkeypatch.syspath_prepend(str(tmp_path))
    install(
        "drill_funcs",
        {
            "planted": {"function": "nbc_planted_probe:f"},
            "own_but_not_a_drilldown": {"function": "nbcatalog.catalog:add_path"},
            "builtin": {"function": "os:getcwd"},
        },
    )
    res = _results(tmp_path, {}, template="drill_funcs")
    for name in ("planted", "own_but_not_a_drilldown", "builtin"):
        with pytest.raises(UsageError, match="is not one nbcatalog calls \\(nothing was imported"):
            res.drilldown(name)
    assert not marker.exists()
    assert "nbc_planted_probe" not in sys.modules


def test_marked_functions_of_imported_modules_are_called(res, tmp_path, monkeypatch, install):
    import importlib

    (tmp_path / "tests_drill_functions.py").write_text(
        "from nbcatalog.drilldown_registry import drilldown_function\n"
        "@drilldown_function\n"
        "def count_rows(results):\n    return len(results['host_ips'])\n"
        "def unmarked(results):\n    return 'called'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("tests_drill_functions")  # the analyst imports their own module
    assert res.count_ips() == 3
    install("drill_unmarked", {"f": {"function": "tests_drill_functions:unmarked"}})
    with pytest.raises(UsageError, match="not one nbcatalog calls"):
        run_drilldown(_results(tmp_path, {}, template="drill_unmarked"), "f")


def _asn_results(tmp_path: Path) -> Results:
    """An account_summary Results with the two results pick_asn reads."""
    addresses = pd.DataFrame(
        {
            "IpAddress": ["24.16.39.94", "20.190.151.68", "10.10.1.52"],
            "AsnOrg": ["COMCAST-7922", "MICROSOFT-CORP-MSN-AS-BLOCK", None],
            "Asn": [7922, 8075, None],
        }
    )
    events = pd.DataFrame(
        {"IpAddress": ["24.16.39.94", "24.16.39.94", "10.10.1.52"], "Operation": ["a", "b", "c"]}
    )
    data = {"ip_summary": addresses, "ip_all_data": events}
    return _results(tmp_path, data, template="account_summary", account="bob")


def test_a_function_missing_its_value_lists_the_accepted_values(tmp_path):
    res = _asn_results(tmp_path)
    with pytest.raises(UsageError) as caught:
        res.pick_asn()  # not a TypeError: the values it takes, from the run's rows
    text = str(caught.value)
    assert "drill-down 'pick_asn' needs asn" in text and "--param asn=VALUE" in text
    assert "COMCAST-7922, MICROSOFT-CORP-MSN-AS-BLOCK" in text
    assert len(res.pick_asn(asn="COMCAST-7922")) == 2
    with pytest.raises(UsageError, match="takes no colour; accepted: asn"):
        res.pick_asn(asn="COMCAST-7922", colour="red")


def test_in_a_notebook_a_function_missing_its_value_shows_a_picker(tmp_path, monkeypatch):
    import nbcatalog.drilldowns as drilldowns

    monkeypatch.setattr(drilldowns, "_in_notebook", lambda: True)
    res = _asn_results(tmp_path)
    box = res.pick_asn()
    assert [v for _, v in box.dropdown.options] == ["COMCAST-7922", "MICROSOFT-CORP-MSN-AS-BLOCK"]
    box.pick()  # what the Run button does
    assert box.last_results["IpAddress"].tolist() == ["24.16.39.94", "24.16.39.94"]


def test_hostile_values_are_shortened_and_escaped_in_messages(tmp_path, probe):
    res = _results(tmp_path, _probe_data())
    hostile = "\x1b]0;owned\x07" + "A" * 100_000
    for call in (
        lambda: res.pick_ip(hostile, run=Recorder()),
        lambda: res.drilldown(hostile),
        lambda: res.pick_ip("203.0.113.77", run=Recorder(), **{hostile: 1}),
    ):
        with pytest.raises(UsageError) as caught:
            call()
        text = str(caught.value)
        assert len(text) < 1500 and "\x1b" not in text and "\x07" not in text
        assert "100010 characters" in text or "…" in text


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


def test_printed_commands_carry_no_terminal_controls(tmp_path, probe):
    # A crafted run.json start value with a terminal escape: not printed as a command.
    res = _results(tmp_path, _probe_data(), start="2024-05-01\x1b]0;owned\x07")
    with pytest.raises(UsageError, match="value for --start holds control characters"):
        shell_command(res, "expand_events")
    clean = _results(tmp_path, _probe_data())
    words = shlex.split(shell_command(clean, "expand_events", event_ids=["4720; rm -rf ~"]))
    assert words[words.index("--event-ids") + 1] == "4720; rm -rf ~"  # one quoted word


def test_silent_and_quiet_reach_the_companion_run(res):
    run = Recorder()
    res.pick_ip("203.0.113.77", run=run, silent=False, quiet=True)
    res.expand_events(event_ids=[4720], run=run, quiet=True)
    (_, shown), (_, hidden) = run.calls
    assert shown["silent"] is False and shown["quiet"] is True
    assert hidden["silent"] is True and hidden["quiet"] is True
    assert "silent" not in shown.get("options", [])  # not taken for template parameters
    with pytest.raises(UsageError, match="silent='yes'"):
        res.pick_ip("203.0.113.77", run=run, silent="yes")
