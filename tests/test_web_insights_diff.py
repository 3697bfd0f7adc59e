"""The web app's "Changes since the previous run": run.json's diff as a summary and counts.

The diff comes from `nbcatalog.rundiff` (the same object a scheduled run writes into
run.json); the page shows its summary line and how many findings and rows changed,
never the rows themselves, and every value stays text.
"""

from __future__ import annotations

import pandas as pd

from nbcatalog.rundiff import RunDiff, Snapshot, diff_snapshots
from nbcatalog.web.insights import run_insights
from nbcatalog.web.render import environment

HOSTILE = '<script>alert("x")</script>'


def _diff() -> dict:
    """A real RunDiff between two runs: 1 new and 1 gone finding, alert rows new/changed."""
    before = pd.DataFrame({"SystemAlertId": ["a1", "a2", "a3"], "Severity": ["low", "high", "low"]})
    after = pd.DataFrame(
        {
            "SystemAlertId": ["a1", "a2", "a4", "a5"],
            "Severity": ["medium", "high", HOSTILE, "low"],
        }
    )
    old = Snapshot(
        "r1",
        "2026-01-02T06:00:00Z",
        findings=[{"severity": "high", "title": "beacon to 192.0.2.66", "count": 3}],
        load_table=lambda name: before if name == HOSTILE else None,
    )
    new = Snapshot(
        "r2",
        "2026-01-02T12:00:00Z",
        findings=[{"severity": "high", "title": HOSTILE, "count": 1}],
        load_table=lambda name: after if name == HOSTILE else None,
    )
    return diff_snapshots(old, new, {HOSTILE: ["SystemAlertId"]}).to_json()


def test_diff_shows_the_summary_and_counts_not_the_rows():
    diff = _diff()
    lines = run_insights({"diff": diff}).diff
    # Counted from the frames above: a4, a5 new; a1 changed; a3 gone; 1 new, 1 gone finding.
    assert lines == (
        diff["summary"],
        "findings: 1 new, 1 gone",
        f"{HOSTILE} rows: 2 new, 1 gone, 1 changed",
    )
    assert diff["summary"].startswith("1 new finding, 1 gone finding, 2 new")
    text = "\n".join(lines)
    for raw in ("SystemAlertId", "a4", "192.0.2.66", "keys", "{", "["):
        assert raw not in text  # no row, key list or JSON dump on the page


def test_diff_lines_are_escaped_on_the_page():
    ins = run_insights({"diff": _diff()})
    page = environment().get_template("_insights.html").render(insights=ins)
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; rows: 2 new, 1 gone, 1 changed" in page
    assert page.count("<li>") == 3


def test_first_runs_notes_and_hostile_counts():
    first = run_insights({"diff": RunDiff(previous=None, current="r1").to_json()}).diff
    assert first == ("first run: nothing to compare with",)
    diff = {
        "previous": "r1",
        "summary": "",
        "findings_compared": False,
        "new": [],
        "gone": [],
        "changed": [],
        "tables": {
            "alerts": {"counts": {"new": 0}, "note": "the previous run has no alerts table"},
            "flows": {"counts": {"new": "3", "gone": True, "changed": -4}},
            "junk": "not a table",
        },
    }
    lines = run_insights({"diff": diff}).diff  # no summary line written: the counts only
    assert lines == (
        "findings: not compared (a run recorded none)",
        "alerts: not compared (the previous run has no alerts table)",
        "flows rows: 3 new",
    )
