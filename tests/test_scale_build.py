"""Issue 14: a "grow-others" demo build keeps a fixed entity's rows while the estate grows.

The scale benchmark needs a store where the entity it investigates has the same
rows at every scale; otherwise "scale 16 is slower" only says the entity grew.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from nbcatalog.data.demo import build_demo
from nbcatalog.data.demo.build import mention_pattern
from nbcatalog.data.store import Store
from nbcatalog.errors import UsageError

NOW = "2026-12-01T12:00:00Z"
FIXED = ("WKSTN-042", "bob")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A plain build at 0.03 and a grow-others build to 0.12 keeping FIXED at 0.03."""
    folder = tmp_path_factory.mktemp("grow")
    base = build_demo(folder / "base.duckdb", scale=0.03, now=NOW).path
    grown = build_demo(
        folder / "grown.duckdb", scale=0.12, now=NOW, fixed_entities=FIXED, fixed_scale=0.03
    ).path
    return base, grown


def _rows(db: Path, sql: str, params: list) -> list[tuple]:
    with Store.open(db, read_only=True) as store:
        return store.con.execute(sql, params).fetchall()


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("SecurityEvent", "Computer", "WKSTN-042"),
        ("SecurityEvent", "TargetUserName", "bob"),
        ("Event", "Computer", "WKSTN-042"),
        ("AzureNetworkAnalytics_CL", "VM_s", "contoso-rg/WKSTN-042"),
        ("SigninLogs", "UserPrincipalName", "bob@contoso.com"),
        ("OfficeActivity", "UserId", "bob@contoso.com"),
    ],
)
def test_fixed_entity_keeps_exactly_its_rows(
    stores: tuple[Path, Path], table: str, column: str, value: str
) -> None:
    base, grown = stores
    # Every column, in a total order: the same rows, not just as many.
    sql = f'SELECT * FROM "{table}" WHERE "{column}" = ? ORDER BY ALL'  # noqa: S608
    want = _rows(base, sql, [value])
    assert want, f"the base build has no {table} rows for {value}"
    assert _rows(grown, sql, [value]) == want


def test_the_rest_of_the_estate_grows(stores: tuple[Path, Path]) -> None:
    base, grown = stores
    sql = 'SELECT count(*) FROM "SecurityEvent" WHERE Computer = ?'
    for host in ("WIN-FS01", "WKSTN-017"):
        before, after = _rows(base, sql, [host])[0][0], _rows(grown, sql, [host])[0][0]
        assert after > 2.5 * before, (host, before, after)
    total = 'SELECT count(*) FROM "SecurityEvent"'
    assert _rows(grown, total, [])[0][0] > 3 * _rows(base, total, [])[0][0]
    # Heartbeats do not grow with the scale: no second copy of them.
    beats = 'SELECT count(*) FROM "Heartbeat"'
    assert _rows(grown, beats, []) == _rows(base, beats, [])


def test_the_grown_store_is_sorted_and_has_the_planted_incident_once(
    stores: tuple[Path, Path],
) -> None:
    _, grown = stores
    ok = _rows(
        grown,
        'SELECT count(*) FROM "SecurityEvent" WHERE IpAddress = ? AND EventID = 4624',
        ["203.0.113.77"],
    )
    base_ok = _rows(
        stores[0],
        'SELECT count(*) FROM "SecurityEvent" WHERE IpAddress = ? AND EventID = 4624',
        ["203.0.113.77"],
    )
    assert ok == base_ok and ok[0][0] >= 1
    out_of_order = _rows(
        grown,
        "SELECT count(*) FROM (SELECT Computer AS c, lag(Computer) OVER (ORDER BY rowid) AS p "
        'FROM "SecurityEvent") WHERE p > c',
        [],
    )
    assert out_of_order == [(0,)]


def test_mention_pattern_is_a_whole_word_and_escaped() -> None:
    pat = re.compile(mention_pattern(["bob", "a.b"]))
    assert pat.search("CONTOSO\\BOB") and pat.search("bob@contoso.com")
    assert pat.search("personal/bob_contoso_com/")
    assert not pat.search("bobby.jones@contoso.com")
    assert pat.search("x a.b y") and not pat.search("axb")  # the dot is literal


def test_fixed_scale_above_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="fixed_scale"):
        build_demo(tmp_path / "x.duckdb", scale=0.1, fixed_entities=["bob"], fixed_scale=0.2)


def test_copy_sorted_keeps_the_source_order_of_ties(tmp_path: Path) -> None:
    """Rows of one host and second keep their order (a repeat marker after its line)."""
    src = tmp_path / "unsorted.duckdb"
    n = 3000  # several vectors, so an unstable sort would show
    frame = pd.DataFrame(
        {
            "Computer": ["b", "a"] * (n // 2),
            "TimeGenerated": pd.Timestamp("2026-01-01", tz="UTC"),
            "SyslogMessage": [str(i) for i in range(n)],
        }
    )
    with Store.open(src) as store:
        store.append("Syslog", frame)
    with Store.open(tmp_path / "sorted.duckdb") as store:
        store.copy_sorted(src)
        got = store.con.execute('SELECT Computer, SyslogMessage FROM "Syslog" ORDER BY rowid').df()
    want = frame.sort_values("Computer", kind="stable")[["Computer", "SyslogMessage"]]
    assert got.values.tolist() == want.values.tolist()
