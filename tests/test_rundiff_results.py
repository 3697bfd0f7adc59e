"""`Results.diff` on real kernel runs: host_logons_summary of WKSTN-042 before and after
the demo estate's RDP brute force. The attack rows (diff_keys SourceIP, Kind) the
later run found and the earlier did not are exactly the diff's new rows.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from nbcatalog.errors import UsageError

pytestmark = pytest.mark.slow

HOST = "WKSTN-042"


@pytest.fixture(scope="module")
def runs(demo_db, tmp_path_factory):
    import nbcatalog

    with duckdb.connect(str(demo_db), read_only=True) as con:
        (attack,) = con.execute(
            "SELECT min(StartTime) FROM SecurityAlert WHERE CompromisedEntity = ? "
            "AND DisplayName ILIKE '%brute force%'",
            [HOST],
        ).fetchone()
    out = tmp_path_factory.mktemp("results-diff")
    common = {
        "host": HOST,
        "data_source": f"duckdb:{demo_db}",
        "output_dir": out,
        "silent": True,
        "quiet": True,
        "start": (attack - timedelta(days=3)).isoformat(),
    }
    before = nbcatalog.run(
        "host_logons_summary", end=(attack - timedelta(hours=1)).isoformat(), **common
    )
    after = nbcatalog.run(
        "host_logons_summary", end=(attack + timedelta(hours=3)).isoformat(), **common
    )
    return before, after


def _keys(frame) -> set[tuple]:
    return {(r.SourceIP, r.Kind) for r in frame.itertuples()}


def test_new_attack_rows_are_those_only_the_later_run_found(runs):
    before, after = runs
    diff = after.diff(before)
    table = diff.tables["attack_findings"]
    expected = _keys(after.attack_findings) - _keys(before.attack_findings)
    assert expected  # the brute force lies between the two ends
    assert {(r["SourceIP"], r["Kind"]) for r in table.new} == expected
    assert table.counts["new"] == len(expected)
    assert diff.previous == before.run_dir.name and diff.current == after.run_dir.name
    assert f"{len(expected)} new attack_findings row" in diff.summary
    assert "Since last run" in diff._repr_html_()


def test_diff_against_a_run_folder_matches_and_reverse_shows_them_gone(runs):
    before, after = runs
    by_folder = after.diff(before.run_dir).to_json()
    assert by_folder["tables"] == after.diff(before).to_json()["tables"]
    back = before.diff(after).tables["attack_findings"]
    assert back.counts["gone"] == after.diff(before).tables["attack_findings"].counts["new"]


def test_diff_refuses_other_notebooklets_and_non_runs(runs, tmp_path):
    before, after = runs
    with pytest.raises(UsageError, match="no run.json here"):
        after.diff(tmp_path)
    other = tmp_path / "ip_summary" / "20260101T000000Z-abcdef"
    other.mkdir(parents=True)
    (other / "run.json").write_text('{"template": "ip_summary", "status": "ok"}')
    with pytest.raises(UsageError, match="same notebooklet"):
        after.diff(other)
