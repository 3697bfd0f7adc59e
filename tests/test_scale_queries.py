"""Issue 14: cost follows the entity. The faster paths give what the old ones gave.

- the demo store is written sorted by entity and time, with the same rows;
- `Store.copy_sorted` keeps every row (compared with EXCEPT ALL both ways), also
  from a path with a quote in it;
- host_summary's indicator extraction and suspicious-command rules, now run once per
  distinct command line, match the row-by-row versions they replaced (kept below as
  the reference) on the demo store's busiest host;
- host look-ups bind hostile values: no SQL from a host name runs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nbcatalog.data.store import CLUSTER_KEYS, Store
from nbcatalog.nblib import Investigation
from nbcatalog.nblib.hostactivity import IOC_COLUMNS, command_iocs, command_lines
from nbcatalog.nblib.processes import notable_processes, suspicious_reasons


def _reference_command_iocs(commands: pd.DataFrame) -> pd.DataFrame:
    """command_iocs as it was before issue 14: extraction over every row."""
    from nbcatalog.enrich.iocs import extract_iocs

    texts = commands["CommandLine"].reset_index(drop=True)
    types = ["url", "dns", "ipv4", "ipv6", "hash"]
    found = extract_iocs(texts, types=types)
    if found.empty:
        return pd.DataFrame(columns=IOC_COLUMNS)
    plain = extract_iocs(texts, types=types, decode=False)
    seen = set(zip(plain["Ioc"], plain["SourceIndex"], strict=True))
    times = pd.to_datetime(commands["TimeGenerated"], utc=True).reset_index(drop=True)
    found = found.assign(
        Decoded=[
            (i, s) not in seen for i, s in zip(found["Ioc"], found["SourceIndex"], strict=True)
        ],
        t=times.iloc[found["SourceIndex"]].to_numpy(),
        CommandLine=texts.iloc[found["SourceIndex"]].to_numpy(),
    )
    table = (
        found.sort_values("t", kind="stable")
        .groupby(["Ioc", "IocType"], sort=False)
        .agg(
            Decoded=("Decoded", "all"),
            Commands=("SourceIndex", "nunique"),
            FirstSeen=("t", "min"),
            CommandLine=("CommandLine", "first"),
        )
        .reset_index()
    )
    return table[IOC_COLUMNS]


@pytest.fixture(scope="module")
def busiest_host(demo_db: Path) -> str:
    with Store.open(demo_db, read_only=True) as store:
        return store.con.execute(
            'SELECT Computer FROM "SecurityEvent" WHERE EventID = 4688 '
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]


@pytest.fixture(scope="module")
def inv(demo_db: Path) -> Investigation:
    with Store.open(demo_db, read_only=True) as store:
        first, last = store.con.execute(
            'SELECT min(TimeGenerated), max(TimeGenerated) FROM "SecurityEvent"'
        ).fetchone()
    return Investigation.open(f"duckdb:{demo_db}", first.isoformat(), last.isoformat())


def test_demo_store_rows_lie_sorted_by_entity_then_time(demo_db: Path) -> None:
    with Store.open(demo_db, read_only=True) as store:
        for table, (entity, time) in CLUSTER_KEYS.items():
            rows, out_of_order = store.con.execute(
                f"""SELECT count(*), count(*) FILTER (WHERE pe > e OR (pe = e AND pt > t))
                FROM (SELECT "{entity}" AS e, "{time}" AS t,
                        lag("{entity}") OVER (ORDER BY rowid) AS pe,
                        lag("{time}") OVER (ORDER BY rowid) AS pt
                      FROM "{table}")"""  # noqa: S608 - names from the schema
            ).fetchone()
            assert out_of_order == 0, f"{table}: {out_of_order} of {rows} rows out of order"
        assert store.table_stats()["SecurityEvent"].rows > 50_000


def test_copy_sorted_keeps_every_row_from_a_quoted_path(tmp_path: Path) -> None:
    src = tmp_path / "it's unsorted.duckdb"
    hosts = ["WKSTN-9", "A-1", None, "z'; DROP TABLE x; --", "WKSTN-10"] * 40
    times = pd.date_range("2026-01-01", periods=len(hosts), freq="7min", tz="UTC")[::-1]
    frame = pd.DataFrame({"Computer": hosts, "TimeGenerated": times, "EventID": range(len(hosts))})
    with Store.open(src) as store:
        store.append("SecurityEvent", frame)
        store.append("ThreatIntelligenceIndicator", pd.DataFrame({"TimeGenerated": times[:3]}))
    with Store.open(tmp_path / "sorted.duckdb") as store:
        counts = store.copy_sorted(src)
        store.con.execute(f"ATTACH '{str(src).replace(chr(39), chr(39) * 2)}' AS s (READ_ONLY)")
        for table in ("SecurityEvent", "ThreatIntelligenceIndicator"):
            for a, b in ((table, f"s.{table}"), (f"s.{table}", table)):
                left = store.con.execute(
                    f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})"  # noqa: S608
                ).fetchone()[0]
                assert left == 0, f"{a} has {left} rows {b} lacks"
        stored = store.con.execute(
            'SELECT Computer, TimeGenerated FROM "SecurityEvent" ORDER BY rowid'
        ).df()
    assert counts["SecurityEvent"] == len(frame)
    assert counts["ThreatIntelligenceIndicator"] == 3
    expected = frame.sort_values(["Computer", "TimeGenerated"], na_position="last")
    assert stored["Computer"].tolist() == expected["Computer"].tolist()
    assert stored["TimeGenerated"].tolist() == expected["TimeGenerated"].tolist()


def test_command_iocs_match_the_row_by_row_version(inv: Investigation) -> None:
    # The planted host carries encoded PowerShell with URLs; doubling every line (an
    # hour later) makes the repeated-line path matter: Commands must double too.
    commands = command_lines(inv, "WKSTN-042", "Windows")
    later = commands.assign(TimeGenerated=commands["TimeGenerated"] + pd.Timedelta("1h"))
    doubled = pd.concat([commands, later], ignore_index=True)
    for frame in (commands, doubled):
        got = command_iocs(frame)
        want = _reference_command_iocs(frame)
        assert not want.empty and want["Decoded"].any()
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    once = command_iocs(commands).set_index("Ioc")["Commands"]
    twice = command_iocs(doubled).set_index("Ioc")["Commands"]
    assert (twice == 2 * once).all()


def test_notable_processes_give_each_row_its_own_reasons(
    inv: Investigation, busiest_host: str
) -> None:
    found = notable_processes(inv, busiest_host, "Windows")
    everything = inv.query(
        "WindowsSecurity.list_host_processes", title="all", host_name=busiest_host
    ).data
    expected = everything["CommandLine"].map(suspicious_reasons)
    assert len(found.data) == int(expected.map(bool).sum())
    assert sorted(found.data["Reasons"]) == sorted(", ".join(r) for r in expected if r)


@pytest.mark.parametrize(
    "hostile",
    ["x' OR '1'='1", 'WKSTN-042\'; DROP TABLE "SecurityEvent"; --', "%", "$host_name", "\\"],
)
def test_host_lookups_bind_hostile_names(inv: Investigation, demo_db: Path, hostile: str) -> None:
    result = inv.query("WindowsSecurity.list_host_processes", title="t", host_name=hostile)
    assert result.data.empty
    with Store.open(demo_db, read_only=True) as store:
        assert store.table_stats()["SecurityEvent"].rows > 0


# WindowsSecurity.notable_events before issue 14: a CTE of every column of the host's rows.
_OLD_NOTABLE_EVENTS = """
WITH host_events AS (
  SELECT * FROM "SecurityEvent"
  WHERE TimeGenerated >= $start AND TimeGenerated <= $end AND kql_has(Computer, $host_name)
),
rare_events AS (
  SELECT EventID FROM host_events WHERE AccountType IS DISTINCT FROM 'Machine'
  GROUP BY EventID HAVING count(DISTINCT coalesce(Account, '')) = 1 AND count(*) < 100
)
SELECT Activity, Account, * EXCLUDE (Activity, Account) FROM host_events
WHERE (EventID IN (1102, 4657)
       OR (EventID IN (SELECT EventID FROM rare_events)
           AND EventID NOT IN (4625, 4624, 4688, 4720, 4725, 4727, 4728, 4731,
                               4732, 4740, 4754, 4756, 4767, 4702)))
  AND coalesce(Account, '') <> ''
ORDER BY TimeGenerated
"""


@pytest.mark.parametrize("host", ["WKSTN-042", "wkstn-042", "DC01", "WIN-FS01", "x' OR '1'='1"])
def test_notable_events_query_matches_the_old_one(inv: Investigation, host: str) -> None:
    got = inv.source.query(
        "WindowsSecurity.notable_events", host_name=host, start=inv.start, end=inv.end
    )
    want = inv.source.sql(
        _OLD_NOTABLE_EVENTS,
        {"host_name": host, "start": inv.start.to_pydatetime(), "end": inv.end.to_pydatetime()},
    )
    pd.testing.assert_frame_equal(got, want)
    if host.lower() == "wkstn-042":
        assert not got.empty  # the planted host has notable events: the check compares rows
