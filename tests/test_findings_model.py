"""The findings contract without a kernel: checking, the builder, CLI lines, notebook displays."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter

from nbcatalog.findings_model import (
    FindingsError,
    check_finding,
    check_findings,
    headline_lines,
    terminal_text,
)
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.verdicts import Verdicts, alert_severity, key

HOSTILE = "<img src=x onerror=alert(1)>\x1b[2J\u202ebob"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"severity": "critical", "title": "x"}, "severity 'critical' is not one of high"),
        ({"severity": "high"}, "'title' is required"),
        ({"severity": "high", "title": 3}, "'title' must be text, got int"),
        ({"severity": "high", "title": "x", "count": -1}, "count -1 must be a whole number"),
        ({"severity": "high", "title": "x", "count": True}, "count True must be"),
        ({"severity": "high", "title": "x", "colour": "red"}, "unknown field.*colour.*accepted"),
        ("high: x", "must be a dict"),
    ],
)
def test_bad_findings_say_what_is_wrong_and_what_is_accepted(item, message):
    with pytest.raises(FindingsError, match=message):
        check_findings([{"severity": "low", "title": "fine"}, item])
    with pytest.raises(FindingsError, match=r"findings\[1\]"):
        check_findings([{"severity": "low", "title": "fine"}, item])


def test_a_finding_is_one_line_and_numpy_counts_are_ints():
    import numpy as np

    item = check_finding({"severity": "High", "title": "two\nlines", "count": np.int64(3)})
    assert item["severity"] == "high" and item["title"] == "two lines"
    assert item["count"] == 3 and type(item["count"]) is int
    assert item["key"] == "run:two lines"
    with pytest.raises(FindingsError, match="list of dicts"):
        check_findings({"severity": "high"})


def test_builder_adds_evidence_only_when_there_are_rows():
    verdict = Verdicts()
    assert not verdict.evidence("high", "x", pd.DataFrame(), section="s", result="r")
    assert verdict.evidence("low", "y", pd.DataFrame({"a": [1, 2]}), section="s", result="r")
    assert [(f["title"], f["count"]) for f in verdict.records()] == [("y", 2)]
    with pytest.raises(FindingsError, match="severity 'urgent'"):
        verdict.add("urgent", "z", section="s")


def test_builder_turns_step_notes_alerts_and_ti_into_findings():
    verdict = Verdicts()
    step = Finding("Account changes", pd.DataFrame({"a": [1, 2, 3]}))
    step.note("info", "not a finding")
    step.note("finding", "3 account change(s) on WKSTN-042")
    assert verdict.notes(step, "medium", section="changes", result="account_changes") == 1
    alerts = pd.DataFrame(
        {"Severity": ["High", "Informational", "High"], "AlertDisplayName": ["A", "B", "A"]}
    )
    assert verdict.alerts(alerts, "WKSTN-042", section="alerts", result="related_alerts") == 2
    ti = pd.DataFrame(
        {
            "Ioc": ["198.51.100.1", "203.0.113.77"],
            "Result": [False, True],
            "Severity": ["high", "warning"],
            "ThreatType": [None, "Scanner"],
            "Provider": ["local", "local"],
        }
    )
    assert verdict.ti(ti, section="ti", result="ti_results") == 1
    found = {f["key"]: f for f in verdict.records()}
    assert found["account_changes"]["title"] == "3 account change(s) on WKSTN-042"
    assert found["alerts:high:WKSTN-042"]["count"] == 2
    assert found["alerts:info:WKSTN-042"]["title"] == "1 info-severity alert names WKSTN-042: B"
    assert found["ti:203.0.113.77"]["severity"] == "medium"
    assert alert_severity("Critical") == "high" and key("a", " b  c ") == "a:b c"


def test_no_data_is_never_shown_as_nothing_notable():
    class Outcome:
        status, reason = "no_data", "no host named 'WKSTN-999'"

    class Inv:
        outcome = Outcome()

    assert Verdicts(Inv()).summary().startswith("No data")
    assert Verdicts().summary().startswith("Nothing notable")
    assert headline_lines([], "no_data") == []
    assert headline_lines(None, "ok") == []
    assert headline_lines([], "ok")[0].startswith("findings: none")


def test_builder_html_and_cli_lines_keep_log_text_inert():
    verdict = Verdicts()
    verdict.add("high", f"Logon as {HOSTILE}", section="logons", result="logons", count=1)
    page = verdict._repr_html_()
    assert "<img" not in page and "&lt;img src=x" in page
    lines = headline_lines(verdict.records(), "ok")
    assert lines[0] == "1 finding (1 high):"
    assert "\x1b" not in lines[1] and "\u202e" not in lines[1] and "?[2J?bob" in lines[1]
    assert terminal_text("a\tb\nc") == "a?b?c"


def test_cli_lines_rank_and_cut_at_five():
    findings = [{"severity": "low", "title": f"low {i}", "count": i} for i in range(6)]
    findings.append({"severity": "high", "title": "the worst", "section": "alerts"})
    lines = headline_lines(findings, "ok")
    assert lines[0] == "7 findings (1 high, 6 low):"
    assert lines[1] == "  [high] the worst (section alerts)"
    assert lines[2] == "  [low] low 5 (5 rows)"
    assert lines[-1] == "  … 2 more in run.json and the report"


def _html(obj) -> str:
    data, _ = DisplayFormatter().format(obj)
    return data.get("text/html", "")


def test_find_and_the_nblts_tree_display_as_short_tables():
    import nbcatalog
    from nbcatalog.catalog import catalog

    found = nbcatalog.find("logon linux")
    assert [t.name for t in found] and isinstance(found, list)
    table = _html(found)
    assert table.count("<tr>") == len(found) + 1 and "host_logons_summary" in table
    assert "description" not in table and len(table) < 4000
    assert repr(found).splitlines()[0].split() == ["name", "category", "entities", "title"]
    tree = _html(nbcatalog.nblts)
    assert tree.count("<tr>") == len(catalog()) + 1
    assert "<code>nblts.host.host_summary</code>" in tree
    host = _html(nbcatalog.nblts.host)
    assert "win_host_events" in host and "ip_summary" not in host
