"""No silent empties, without a kernel: required entities, the outcome a template declares,
host look-ups in frames and on sources that cannot list hosts, and the built-in templates'
contract. The kernel-side runs are in test_nodata_templates.py."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from template_factory import write_template

from nbcatalog.catalog import catalog
from nbcatalog.data.source import DuckDBSource
from nbcatalog.errors import MissingParameterError, ParameterError
from nbcatalog.harvest import harvest
from nbcatalog.nblib import Finding, Investigation
from nbcatalog.nblib.findings import skipped
from nbcatalog.nblib.hosts import find_host, host_activity
from nbcatalog.nblib.outcome import missing_from_notes
from nbcatalog.nblib.queries import has_table
from nbcatalog.parameters import is_given, resolve
from nbcatalog.scaffold import check_warnings, declares_outcome
from nbcatalog.template import load_template

T0 = pd.Timestamp("2024-05-01", tz="UTC")
SOURCE = "msticpy:LocalData"


def inv_on(source) -> Investigation:
    return Investigation(source, T0, T0 + pd.Timedelta("7d"))


# ----------------------------------------------------------- required entities


@pytest.fixture(scope="module")
def either(tmp_path_factory):
    params = (
        "import pandas as pd\n"
        'host: str = ""  # host name, or the start of one\n'
        'ip: str = ""  # IP address\n'
        "data: pd.DataFrame = None  # rows you have\n"
        'start: str = ""  # start\nend: str = ""  # end\ndata_source: str = ""  # source\n'
    )
    path = write_template(
        tmp_path_factory.mktemp("either"),
        "either_probe",
        parameters=params,
        required=[["host", "ip", "data"]],
        entity_kinds={"host": "host", "ip": "ip"},
        options={},
    )
    return load_template(path)


def test_a_group_needs_one_of_its_names(either):
    assert either.required_groups == [("host", "ip", "data")]
    assert either.required == []  # no single name is required on its own
    with pytest.raises(MissingParameterError) as info:
        resolve(either, {"data_source": SOURCE})
    assert str(info.value) == (
        "either_probe needs host or ip or data; host: host name, or the start of one; "
        "ip: IP address; data: rows you have"
    )
    # The shell cannot pass a DataFrame: its message names the flags, data as Python's.
    assert info.value.cli_message == (
        "either_probe needs --host or --ip; --host: host name, or the start of one; "
        "--ip: IP address; from Python, data= works too"
    )
    assert isinstance(info.value, ParameterError) and info.value.exit_code == 2
    for given in ({"host": "WKSTN-042"}, {"ip": "10.0.0.5"}, {"data": pd.DataFrame()}):
        resolve(either, {"data_source": SOURCE, **given})  # any one is enough


def test_blank_text_is_not_given(either):
    assert not is_given("  ") and not is_given([]) and is_given(pd.DataFrame())
    with pytest.raises(MissingParameterError):
        resolve(either, {"data_source": SOURCE, "host": "   ", "ip": ""})


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("host_summary", ("host",)),
        ("host_logons_summary", ("host", "data")),
        ("win_host_events", ("host", "data")),
        ("logon_session_rarity", ("host", "data")),
        ("network_flow_summary", ("host", "ip", "data")),
        ("host_network_summary", ("host",)),
        ("ip_summary", ("ip",)),
        ("account_summary", ("account", "account_id")),
        ("url_summary", ("url",)),
    ],
)
def test_built_in_entity_parameters_are_required(name, group):
    template = next(t for t in catalog() if t.name == name)
    assert group in template.required_groups
    with pytest.raises(MissingParameterError, match=f"^{name} needs {group[0]}"):
        resolve(template, {"data_source": SOURCE})


def test_alert_ti_enrich_runs_on_every_alert_without_an_entity():
    template = next(t for t in catalog() if t.name == "alert_ti_enrich")
    assert template.required_groups == []
    assert resolve(template, {"data_source": SOURCE}).values["entity"] == ""


# ------------------------------------------------------------- built-in contract


def test_every_built_in_template_declares_its_outcome():
    for template in catalog():
        if template.origin != "built-in":
            continue
        nb = nbformat.read(template.path, as_version=4)
        assert declares_outcome(nb), template.name
        assert check_warnings(template.path) == [], template.name
        # The rule is written where analysts read it: the template's first cell.
        assert "**When it reports no data.**" in nb.cells[0].source, template.name


def test_check_warns_about_a_template_that_never_says(tmp_path):
    path = write_template(tmp_path, "silent_probe")
    (warning,) = check_warnings(path)
    assert "never states whether it found its data" in str(warning)
    assert "inv.require" in str(warning)


# ---------------------------------------------------------------- the outcome


class Store(DuckDBSource):
    """A stand-in embedded store whose host names live in SecurityEvent (as sql answers)."""

    def __init__(self, names, tables=("SecurityEvent",)):
        self.names = list(names)
        self._tables = list(tables)

    def tables(self):
        return self._tables

    def sql(self, text, params=None):
        if "DISTINCT" in text and '"SecurityEvent"' in text:
            return pd.DataFrame({"v": self.names})
        raise RuntimeError("no such table")

    def query(self, name, **params):
        raise AssertionError(f"not asked: {name}")


def test_an_unknown_host_is_no_data_with_the_closest_names():
    inv = inv_on(Store(["WKSTN-041", "WKSTN-042", "WIN-DC01"]))
    found = find_host(inv, "WKSTN-42")
    assert found.name is None and found.closest[0] == "WKSTN-042"
    assert inv.require_entity(found) is False
    out = inv.outcome.to_json()
    assert out["status"] == "no_data"
    assert out["entity"] == {"kind": "host", "value": "WKSTN-42"}
    assert out["reason"].startswith("no host named 'WKSTN-42' in this data source (closest: ")
    assert "WKSTN-042" in out["closest"]


def test_several_matches_are_no_data_listing_them():
    inv = inv_on(Store(["WKSTN-041", "WKSTN-042", "WIN-DC01"]))
    assert inv.require_entity(find_host(inv, "wkstn-04")) is False
    assert inv.outcome.candidates == ["WKSTN-041", "WKSTN-042"]
    assert inv.outcome.reason == "2 hosts match 'wkstn-04': WKSTN-041, WKSTN-042; give one of them"


def test_require_names_absent_tables_or_the_empty_period():
    inv = inv_on(Store([]))
    absent = Finding("Logons")
    absent.note("missing", "no Syslog table in this data source, so X returned nothing")
    assert inv.require([absent, pd.DataFrame()], "logon attempts on LNX-01") is False
    assert inv.outcome.reasons == [
        f"no logon attempts on LNX-01 in {inv.period}"  # one part had its table
    ]
    assert inv.outcome.missing_tables == ["Syslog"]
    other = inv_on(Store([]))
    assert other.require(absent, "logon attempts") is False
    assert other.outcome.reason == "no logon attempts: Syslog absent from this data source"


def test_require_accepts_any_evidence_and_ignores_parts_switched_off():
    inv = inv_on(Store([]))
    assert inv.require({"a": Finding("a"), "b": pd.DataFrame({"x": [1]})}, "rows")
    assert inv.require(skipped("Alerts", "alerts"), "alerts")  # option off: not looked at
    assert inv.outcome.status == "ok"
    assert [c["rows"] for c in inv.outcome.checks] == [1, 0]


def test_one_cause_is_reported_once():
    inv = inv_on(Store(["WKSTN-042"]))
    inv.require_entity(find_host(inv, "nosuch"))
    inv.require(Finding("Logons"), "logon attempts")  # empty because the host is unknown
    assert len(inv.outcome.reasons) == 1 and inv.outcome.reasons[0].startswith("no host named")


def test_missing_notes_name_tables_and_queries():
    f = Finding("x")
    f.note("missing", "no Heartbeat or SecurityEvent table in this data source to find hosts in")
    f.note("missing", "Q.q could not run: the Event table is missing (Table with name ...)")
    f.note("missing", "this data source has no query Network.get_heartbeat_for_host (...)")
    f.note("info", "no SecurityAlert table in this data source")  # not a missing note
    assert missing_from_notes(f.notes) == (
        ["Heartbeat", "SecurityEvent", "Event"],
        ["Network.get_heartbeat_for_host"],
    )


# ------------------------------------------------- hosts in frames and msticpy


def test_a_host_is_looked_for_in_the_rows_passed_as_data():
    inv = inv_on(object())  # a source that must not be asked
    rows = pd.DataFrame({"Computer": ["WKSTN-042", "wkstn-042.contoso.com", "WIN-DC01"]})
    found = find_host(inv, "wkstn-042", data=rows)
    assert found.name == "WKSTN-042" and found.names == ["WKSTN-042", "wkstn-042.contoso.com"]
    missing = find_host(inv, "LNX-WEB01", data=rows)
    assert missing.name is None
    assert "no host named 'LNX-WEB01' in the rows passed as data" in missing.messages()[-1]
    unnamed = find_host(inv, "WKSTN-042", data=pd.DataFrame({"SrcIP": ["10.0.0.5"]}))
    assert unnamed.name is None and "no column naming hosts" in unnamed.messages()[0]
    everything = find_host(inv, "", data=rows)
    assert everything.matched and everything.described == "the rows passed as data"


class Files:
    """msticpy LocalData as nbcatalog sees it: files for tables, no Heartbeat query."""

    def __init__(self, logons: pd.DataFrame):
        self.logons = logons
        self.asked: list[str] = []

    def tables(self):
        return ["host_logons.pkl", "processes_on_host.pkl"]

    def query(self, name, **params):
        self.asked.append(name)
        if name == "WindowsSecurity.list_host_logons":
            return self.logons  # LocalData ignores the parameters: every host's rows
        from nbcatalog.errors import DataSourceError

        raise DataSourceError(f"unknown query {name!r} in msticpy LocalData")


def test_sources_that_list_files_are_asked_through_their_queries():
    times = pd.to_datetime(["2024-05-02T10:00:00Z", "2024-05-03T10:00:00Z", "2023-01-01T00:00:00Z"])
    logons = pd.DataFrame(
        {"TimeGenerated": times, "Computer": ["WKSTN-042", "WIN-DC01", "WKSTN-042"]}
    )
    source = Files(logons)
    assert has_table(source, "SecurityEvent") is None  # cannot say: try the query
    inv = inv_on(source)
    found = find_host(inv, "wkstn-042")
    assert found.name == "WKSTN-042" and found.os_family == "Windows"
    assert source.asked == ["Network.get_heartbeat_for_host", "WindowsSecurity.list_host_logons"]
    activity = host_activity(inv, found)  # the rows already read, counted in the period
    assert activity.data[["Source", "Rows"]].values.tolist() == [
        ["WindowsSecurity.list_host_logons", 1]
    ]
    nosuch = find_host(inv, "WKSTN-99")
    assert nosuch.name is None and nosuch.closest == ["WKSTN-042"]


# ------------------------------------------------------------------- harvest


def test_harvest_reads_the_outcome_apart_from_the_results(tmp_path):
    from nbcatalog.scraps import OUTCOME_SCRAP, VALUE_ENCODER, _encode_value

    def output(name, value):
        mime = "application/scrapbook.scrap.json+json"
        payload = {"name": name, "data": {"value": _encode_value(value)}, "encoder": VALUE_ENCODER,
                   "version": 1}  # fmt: skip
        return nbformat.v4.new_output(
            "display_data", data={mime: payload}, metadata={"scrapbook": {"name": name}}
        )

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    outcome = {"status": "no_data", "reasons": ["no host named 'X'"]}
    cell.outputs = [output("hosts", 0), output(OUTCOME_SCRAP, outcome)]
    nb.cells.append(cell)
    path = tmp_path / "notebook.ipynb"
    nbformat.write(nb, path)
    got = harvest(path)
    assert got.status == "no_data" and got.outcome["reasons"] == ["no host named 'X'"]
    assert list(got.data) == ["hosts"]  # the outcome is the run's state, not a result


# ------------------------------------------------------ what the analyst sees

HOSTILE = "<img src=x onerror=alert(1)>"


def test_results_of_a_no_data_run_are_loud_and_escaped(tmp_path):
    from nbcatalog.results import Results

    outcome = {
        "status": "no_data",
        "reasons": [f"no host named 'WKSTN-999' in this data source (closest: {HOSTILE})"],
        "closest": [HOSTILE],
        "entity": {"kind": "host", "value": "WKSTN-999"},
        "missing_tables": ["Heartbeat"],
    }
    res = Results(
        template="host_summary",
        data={"host_matches": pd.DataFrame()},
        displays={},
        sections={},
        notebook=nbformat.v4.new_notebook(),
        parameters={"host": "WKSTN-999"},
        run_dir=tmp_path,
        notebook_path=tmp_path / "notebook.ipynb",
        report_path=None,
        status="no_data",
        duration=1.0,
        outcome=outcome,
    )
    page = res._repr_html_()
    assert "NO DATA" in page and HOSTILE not in page and "&lt;img src=x" in page
    assert "Absent from this data source: Heartbeat" in page
    summary = res.to_json_summary()
    assert summary["status"] == "no_data" and summary["no_data"]["closest"] == [HOSTILE]
    assert summary["no_data"]["missing_tables"] == ["Heartbeat"]
    assert "host_summary no_data (no host named 'WKSTN-999'" in repr(res)


def test_the_report_header_carries_the_banner_escaped():
    from nbcatalog.reports import header_html

    info = {
        "template": "host_summary",
        "status": "no_data",
        "no_data": {"reason": f"no host named {HOSTILE!r}", "reasons": [f"no host {HOSTILE}"]},
    }
    header = header_html(info)
    assert "NO DATA" in header and HOSTILE not in header
    assert "<th>Status</th><td>no_data</td>" in header
    assert "NO DATA" not in header_html({**info, "status": "ok"})
