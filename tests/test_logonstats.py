"""Logon summaries computed in the store give the same tables as pandas on the rows.

`nblib.logonstats` switches to store-side aggregation above a number of attempts;
here the switch is forced (``large=0``) on the demo store, so both ways run on the
same hosts and their tables are compared cell for cell.
"""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def inv(demo_db):
    from nbcatalog import nblib

    return nblib.Investigation.open(f"duckdb:{demo_db}", "", "", [])


@pytest.mark.parametrize("host", ["WKSTN-042", "WIN-DC01"])
def test_store_summaries_equal_the_row_tables(inv, host):
    from nbcatalog.nblib import logons
    from nbcatalog.nblib import logonstats as ls

    found = logons.select_host(inv, host)
    rows = ls.host_logon_stats(inv, found.name, found.os_family)
    summed = ls.host_logon_stats(inv, found.name, found.os_family, large=0, keep=50)
    assert not rows.aggregated and summed.aggregated
    assert summed.total == len(rows.sessions.data) > 50
    # Only the latest attempts are kept as rows.
    assert len(summed.sessions.data) == 50
    latest = rows.sessions.data.sort_values("TimeGenerated").tail(50)
    assert summed.sessions.data["TimeGenerated"].min() == latest["TimeGenerated"].min()
    for table in (ls.logon_matrix, ls.failed_success, ls.remote_addresses):
        pd.testing.assert_frame_equal(table(rows), table(summed))
    for by in ("Account", ["LogonProcessName", "LogonTypeName"]):
        pd.testing.assert_frame_equal(ls.success_rate(rows, by), ls.success_rate(summed, by))
    attacks = ls.attack_findings(rows, min_failures=20)
    pd.testing.assert_frame_equal(attacks.data, ls.attack_findings(summed, min_failures=20).data)
    assert [n.text for n in attacks.notes] == [
        n.text for n in ls.attack_findings(summed, min_failures=20).notes
    ]
    assert type(ls.timeline(summed)).__name__ == "Image"


def test_planted_brute_force_is_found_from_the_summaries(inv):
    from nbcatalog.nblib import logonstats as ls

    summed = ls.host_logon_stats(inv, "WKSTN-042", "Windows", large=0)
    attacks = ls.attack_findings(summed).data
    row = attacks.set_index("SourceIP").loc["203.0.113.77"]
    assert row["Kind"] == "brute force" and row["SucceededAs"] == "CONTOSO\\bob"
    counts = summed.timeline_counts
    assert counts["Count"].sum() == summed.total
    assert set(counts["LogonResult"]) == {"Success", "Failure"}


def test_linux_hosts_and_passed_frames_stay_on_rows(inv):
    from nbcatalog.nblib import logonstats as ls

    assert not ls.host_logon_stats(inv, "LNX-WEB01", "Linux", large=0).aggregated
    frame = pd.DataFrame({"EventID": [4625], "TimeGenerated": ["2024-05-01"]})
    assert not ls.host_logon_stats(inv, "", None, data=frame, large=0).aggregated
