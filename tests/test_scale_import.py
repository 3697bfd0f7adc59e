"""Issue 14: imported rows are stored in the store's order (entity, then time).

A file's rows come in time order across hosts; stored as they come, one host's
rows would be spread over every row group. The importer sorts each batch by
CLUSTER_KEYS (stable), as the demo build does.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from nbcatalog.data.importers import import_paths
from nbcatalog.data.store import Store
from nbcatalog.nblib import Investigation
from nbcatalog.nblib.logons import linux_logons_on

LINES = [
    "Mar  3 10:00:00 lnx-b sshd[10]: Failed password for bob from 198.51.100.7 port 1 ssh2",
    "Mar  3 10:00:00 lnx-a sshd[20]: Accepted password for eve from 198.51.100.8 port 2 ssh2",
    "Mar  3 10:00:00 lnx-b sshd[10]: Failed password for bob from 198.51.100.7 port 1 ssh2",
    "Mar  3 10:00:00 lnx-b last message repeated 3 times",
    "Mar  3 09:59:59 lnx-a sshd[21]: Failed password for eve from 198.51.100.8 port 3 ssh2",
    "Mar  3 10:00:01 lnx-b sshd[10]: Accepted password for bob from 198.51.100.7 port 1 ssh2",
    "Mar  3 10:00:02 lnx-a sshd[22]: Accepted password for x' OR '1'='1 from 10.0.0.1 port 4 ssh2",
]


def test_imported_syslog_is_stored_by_host_then_time_keeping_file_order(tmp_path: Path) -> None:
    path = tmp_path / "auth.log"
    path.write_text("\n".join(LINES) + "\n")
    when = datetime(2026, 3, 10, tzinfo=timezone.utc).timestamp()
    os.utime(path, (when, when))
    db = tmp_path / "store.duckdb"
    assert import_paths([path], db=db).files[0].rows_stored == len(LINES)
    with Store.open(db, read_only=True) as store:
        rows = store.con.execute(
            'SELECT Computer, TimeGenerated, SyslogMessage FROM "Syslog" ORDER BY rowid'
        ).fetchall()
    hosts_times = [(c, t) for c, t, _ in rows]
    assert hosts_times == sorted(hosts_times)  # host, then time
    # Same host and second: the file's order (the marker after the line it repeats).
    b_at_10 = [m for c, t, m in rows if c == "lnx-b" and t.second == 0]
    assert b_at_10 == [
        "Failed password for bob from 198.51.100.7 port 1 ssh2",
        "Failed password for bob from 198.51.100.7 port 1 ssh2",
        "last message repeated 3 times",
    ]
    # And the attempts counted from the sorted rows: 2 + 3 repeated failures, 1 success.
    inv = Investigation.open(f"duckdb:{db}", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z")
    bob = linux_logons_on(inv, ["lnx-b"]).data
    assert bob["LogonResult"].value_counts().to_dict() == {"Failure": 5, "Success": 1}


def test_the_same_file_imported_unsorted_gives_the_same_rows(tmp_path: Path) -> None:
    """Sorting moves rows, never changes or drops one (compared with the reader's rows)."""
    from nbcatalog.data.importers.run import _clustered

    frame = pd.DataFrame(
        {
            "Computer": ["b", None, "a", "b", "a"],
            "TimeGenerated": pd.to_datetime([3, 1, 2, 1, 2], unit="s", utc=True),
            "SyslogMessage": ["1", "2", "3", "4", "5"],
        }
    )
    out = _clustered("Syslog", frame)
    assert list(out["SyslogMessage"]) == ["3", "5", "4", "1", "2"]
    pd.testing.assert_frame_equal(out.sort_values("SyslogMessage").reset_index(drop=True), frame)
    # Tables without cluster keys keep the file's order.
    assert _clustered("SecurityAlert", frame) is frame
