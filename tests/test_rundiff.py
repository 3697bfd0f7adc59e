"""Run-to-run diff on constructed run folders: findings by key, key tables by diff_keys,
run.json ``diff`` for a scheduled run, the report's block, the index, `nbcatalog diff`.

Real parquet files, run.json and SQLite history; no kernel (the kernel runs are in
test_rundiff_schedule_e2e.py and test_rundiff_results.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from nbcatalog import history
from nbcatalog.report_layout import SINCE_MARKER, verdict_html
from nbcatalog.rundiff import MAX_ROWS, diff_runs, diff_table
from nbcatalog.schedules.index import write_index
from nbcatalog.schedules.since import attach_diff

HOSTILE = '<img src=x onerror="alert(1)">'


def _alerts(*ids: str, severity: str = "Medium") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "SystemAlertId": list(ids),
            "AlertDisplayName": [f"alert {i}" for i in ids],
            "Severity": [severity] * len(ids),
            "TimeGenerated": pd.to_datetime(["2026-03-01T05:00:00Z"] * len(ids), utc=True),
        }
    )


def _run(
    root: Path,
    stamp: str,
    *,
    alerts: pd.DataFrame | None = None,
    findings: list | None = None,
    status: str = "ok",
    fire: str | None = None,
    template: str = "host_summary",
    report: bool = True,
) -> Path:
    run_dir = root / template / f"{stamp}-{abs(hash(stamp)) % 0xFFFFFF:06x}"
    (run_dir / "data").mkdir(parents=True)
    if alerts is not None:
        alerts.to_parquet(run_dir / "data" / "related_alerts.parquet")
    info = {
        "run_id": run_dir.name,
        "template": template,
        "status": status,
        "parameters": {"host": "WKSTN-042"},
        "start": "2026-02-28T06:00:00Z",
        "end": fire,
        "started": fire,
        "labels": {"job": "dc", "param_set": "p1", "fire_time": fire, "trigger": "schedule"},
    }
    if findings is not None:
        info["findings"] = findings
    (run_dir / "run.json").write_text(json.dumps(info))
    if report:
        (run_dir / "report.html").write_text(
            "<html><body><header>"
            + verdict_html(info)
            + '<table class="nbc-details"></table></header></body></html>'
        )
    history.record_run(run_dir, update_index=False)
    return run_dir


def _finding(key: str, severity: str = "high", count: int = 1, title: str = "Brute force"):
    return {"severity": severity, "title": title, "section": "alerts", "count": count, "key": key}


def test_table_rows_new_gone_changed_by_key():
    old = _alerts("a1", "a2", "a3")
    new = pd.concat([_alerts("a2", "a4"), _alerts("a3", severity="High")], ignore_index=True)
    table = diff_table(old, new, ["SystemAlertId"])
    assert table.counts == {"new": 1, "gone": 1, "changed": 1}
    assert [r["SystemAlertId"] for r in table.new] == ["a4"]
    assert [r["SystemAlertId"] for r in table.gone] == ["a1"]
    assert table.changed == [
        {"key": {"SystemAlertId": "a3"}, "columns": {"Severity": ["Medium", "High"]}}
    ]
    assert table.new[0]["TimeGenerated"].startswith("2026-03-01T05:00:00")  # JSON-ready


def test_counts_stay_exact_past_the_rows_kept():
    ids = [f"n{i}" for i in range(MAX_ROWS + 7)]
    table = diff_table(_alerts(), _alerts(*ids), ["SystemAlertId"])
    assert table.counts["new"] == MAX_ROWS + 7 and len(table.new) == MAX_ROWS


def test_missing_key_column_is_a_note_not_a_crash():
    table = diff_table(_alerts("a"), pd.DataFrame({"Other": [1]}), ["SystemAlertId"])
    assert "no column SystemAlertId" in table.note


def test_findings_matched_by_key(tmp_path):
    a = _run(
        tmp_path,
        "20260301T060000Z",
        alerts=_alerts("a1"),
        fire="2026-03-01T06:00:00Z",
        findings=[_finding("brute:192.0.2.10"), _finding("spray:198.51.100.7", "medium")],
    )
    b = _run(
        tmp_path,
        "20260302T060000Z",
        alerts=_alerts("a1", "a2"),
        fire="2026-03-02T06:00:00Z",
        findings=[_finding("brute:192.0.2.10", count=4), _finding("beacon:192.0.2.66:4444")],
    )
    diff = diff_runs(a, b).to_json()
    assert [f["key"] for f in diff["new"]] == ["beacon:192.0.2.66:4444"]
    assert [f["key"] for f in diff["gone"]] == ["spray:198.51.100.7"]
    assert [(f["key"], f["before"]) for f in diff["changed"]] == [
        ("brute:192.0.2.10", {"count": 1})
    ]
    assert diff["tables"]["related_alerts"]["counts"] == {"new": 1, "gone": 0, "changed": 0}
    assert diff["summary"] == (
        "1 new finding, 1 gone finding, 1 changed finding, 1 new related_alerts row "
        "since 2026-03-01 06:00 UTC"
    )


def test_attach_diff_compares_with_previous_ok_run_of_the_job(tmp_path):
    first = _run(tmp_path, "20260301T060000Z", alerts=_alerts("a1"), fire="2026-03-01T06:00:00Z")
    failed = _run(tmp_path, "20260301T120000Z", status="failed", fire="2026-03-01T12:00:00Z")
    hostile = _alerts("a1", "a2")
    hostile.loc[1, "AlertDisplayName"] = HOSTILE
    second = _run(tmp_path, "20260301T180000Z", alerts=hostile, fire="2026-03-01T18:00:00Z")
    assert attach_diff(tmp_path, first)["previous"] is None
    diff = attach_diff(tmp_path, second)
    assert diff["previous"] == first.name != failed.name  # the failed run is skipped
    assert diff["summary"] == "1 new related_alerts row since 06:00 UTC"
    assert json.loads((second / "run.json").read_text())["diff"] == diff
    page = (second / "report.html").read_text()
    assert SINCE_MARKER not in page
    block = page[page.index('id="since-last-run"') :]
    assert "a2" in block and "&lt;img src=x onerror=" in block and "<img" not in page
    # Attaching again replaces the block rather than adding a second one.
    attach_diff(tmp_path, second)
    assert (second / "report.html").read_text().count('id="since-last-run"') == 1


def test_no_diff_for_unscheduled_or_no_data_runs(tmp_path):
    run = _run(
        tmp_path,
        "20260301T060000Z",
        alerts=_alerts("a1"),
        status="no_data",
        fire="2026-03-01T06:00:00Z",
    )
    assert attach_diff(tmp_path, run) is None
    assert "diff" not in json.loads((run / "run.json").read_text())


def test_index_shows_since_last_run(tmp_path):
    _run(tmp_path, "20260301T060000Z", alerts=_alerts("a1"), fire="2026-03-01T06:00:00Z")
    second = _run(
        tmp_path, "20260302T060000Z", alerts=_alerts("a1", "a9"), fire="2026-03-02T06:00:00Z"
    )
    attach_diff(tmp_path, second)
    page = write_index(tmp_path).read_text()
    assert "<th>Since last run</th>" in page
    assert "new related_alerts: a9" in page
    assert "1 new related_alerts row since 2026-03-01 06:00 UTC" in page


# --- nbcatalog diff ----------------------------------------------------------------


@pytest.fixture
def two_runs(tmp_path):
    a = _run(
        tmp_path,
        "20260301T060000Z",
        alerts=_alerts("a1", "a2"),
        fire="2026-03-01T06:00:00Z",
        findings=[],
    )
    b = _run(
        tmp_path,
        "20260302T060000Z",
        alerts=_alerts("a2", "a3"),
        fire="2026-03-02T06:00:00Z",
        findings=[_finding("k", title="New\x1b[2Jadmin")],
    )
    return tmp_path, a, b


def test_cli_diff_text_and_json(two_runs):
    from nbcatalog.cli.main import main

    root, a, b = two_runs
    runner = CliRunner()
    text = runner.invoke(main, ["diff", str(a), str(b)])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0] == (
        "1 new finding, 1 new related_alerts row, 1 gone related_alerts row "
        "since 2026-03-01 06:00 UTC"
    )
    assert "  new related_alerts row SystemAlertId=a3" in lines
    assert "  gone related_alerts row SystemAlertId=a1" in lines
    assert "\x1b" not in text.output  # a log field cannot drive the terminal
    by_id = runner.invoke(main, ["diff", a.name, b.name, "--output", str(root), "--json"])
    assert by_id.exit_code == 0, by_id.output
    data = json.loads(by_id.output)
    assert data["previous"] == a.name and data["current"] == b.name
    assert [r["SystemAlertId"] for r in data["tables"]["related_alerts"]["new"]] == ["a3"]


def test_cli_diff_bad_input_exits_2_naming_it(two_runs, tmp_path):
    from nbcatalog.cli.main import main

    root, a, b = two_runs
    runner = CliRunner()
    missing = runner.invoke(main, ["diff", str(tmp_path / "nowhere"), str(b)])
    assert missing.exit_code == 2
    assert "neither a run folder (with run.json) nor a run id" in missing.output
    unknown = runner.invoke(
        main, ["diff", "20990101T000000Z-abcdef", str(b), "--output", str(root)]
    )
    assert unknown.exit_code == 2 and "no run '20990101T000000Z-abcdef'" in unknown.output
    other = _run(root, "20260303T060000Z", fire="2026-03-03T06:00:00Z", template="ip_summary")
    mixed = runner.invoke(main, ["diff", str(a), str(other)])
    assert mixed.exit_code == 2 and "different notebooklets" in mixed.output


def test_every_builtin_template_declares_diff_keys_for_its_results():
    import nbcatalog.templates

    from nbcatalog.template import load_template

    folder = Path(nbcatalog.templates.__file__).parent
    builtin = [load_template(p, origin="builtin") for p in sorted(folder.glob("*/*.ipynb"))]
    assert len(builtin) >= 9
    for template in builtin:
        declared = template.metadata.get("diff_keys")
        assert declared, f"{template.name} declares no diff_keys"
        for name, keys in declared.items():
            assert name in template.metadata.get("results", {}), (template.name, name)
            assert keys and all(isinstance(k, str) and k for k in keys), (template.name, name)
