"""`nbcatalog data demo --keep-entity NAME --keep-scale N`: the "grow-others" build from the CLI.

The real command (a subprocess of the venv's `nbcatalog`) builds a small plain store
and a grown one keeping WKSTN-042 and bob as in the plain one; the rows are counted
with SQL on both files. Small scales keep it fast: what is checked does not depend
on them. Refused combinations exit 2, say why and leave the target as it was.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers.store_sql import count

NBCATALOG = Path(sys.executable).with_name("nbcatalog")
NOW = "2026-12-01T12:00:00Z"
KEPT_SCALE, GROWN_SCALE = "0.03", "0.12"
# (table, column, value) of the kept entities' rows: each count grows in a build to
# GROWN_SCALE that does not keep its entity (measured), so each case can fail.
KEPT_ROWS = [
    ("SecurityEvent", "Computer", "WKSTN-042"),
    ("AzureNetworkAnalytics_CL", "VM_s", "contoso-rg/WKSTN-042"),
    ("SecurityEvent", "TargetUserName", "bob"),
    ("OfficeActivity", "UserId", "bob@contoso.com"),
]


def _demo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(NBCATALOG), "data", "demo", "--now", NOW, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(the plain store at KEPT_SCALE, the grown one, what the grown build printed)."""
    folder = tmp_path_factory.mktemp("keep")
    base, grown = folder / "base.duckdb", folder / "grown.duckdb"
    done = _demo("--db", str(base), "--scale", KEPT_SCALE)
    assert done.returncode == 0, done.stderr
    done = _demo(
        "--db",
        str(grown),
        "--scale",
        GROWN_SCALE,
        "--keep-entity",
        "WKSTN-042",
        "--keep-entity",
        "bob",
        "--keep-scale",
        KEPT_SCALE,
    )
    assert done.returncode == 0, done.stderr
    return base, grown, done.stdout


@pytest.mark.parametrize(("table", "column", "value"), KEPT_ROWS)
def test_a_kept_entity_has_the_rows_of_the_smaller_store(stores, table, column, value):
    base, grown, _ = stores
    sql = f'SELECT count(*) FROM "{table}" WHERE "{column}" = ?'  # noqa: S608 - names are ours
    want = count(base, sql, [value])
    assert want > 0, f"the plain build has no {table} rows of {value}"
    assert count(grown, sql, [value]) == want


def test_another_entity_and_the_estate_grow(stores):
    base, grown, printed = stores
    sql = 'SELECT count(*) FROM "SecurityEvent" WHERE Computer = ?'
    for host in ("WIN-FS01", "WKSTN-017"):
        before, after = count(base, sql, [host]), count(grown, sql, [host])
        assert after > 2.5 * before > 0, (host, before, after)  # 4x the background
    total = 'SELECT count(*) FROM "SecurityEvent"'
    assert count(grown, total) > 3 * count(base, total)
    assert f"rows of WKSTN-042, bob as at scale {KEPT_SCALE}" in printed


def test_the_summary_counts_the_rows_each_kept_entity_has(stores):
    """What the build prints per kept name is what the store holds (counted with SQL)."""
    _, grown, printed = stores
    line = next(x for x in printed.splitlines() if x.startswith("rows mentioning each"))
    shown = {name: int(n.replace(",", "")) for name, n in re.findall(r"(\S+) ([\d,]+)", line)}
    # The same whole-word, any-case rule --keep-entity keeps rows by, in SQL on every
    # text column of every table.
    with duckdb.connect(str(grown), read_only=True) as con:
        for name in ("WKSTN-042", "bob"):
            pattern = f"(?i)(^|[^a-z0-9])({re.escape(name.lower())})([^a-z0-9]|$)"
            total = 0
            for (table,) in con.execute("SHOW TABLES").fetchall():
                cols = [
                    c
                    for c, typ, *_ in con.execute(f'DESCRIBE "{table}"').fetchall()
                    if typ == "VARCHAR"
                ]
                if cols:
                    where = " OR ".join(f'regexp_matches("{c}", $1)' for c in cols)
                    sql = f'SELECT count(*) FROM "{table}" WHERE {where}'  # noqa: S608
                    total += con.execute(sql, [pattern]).fetchone()[0]
            assert shown[name] == total > 0, (name, shown, total)


def test_a_misspelt_kept_name_exits_2_before_growing_naming_the_closest(tmp_path):
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:  # a store the refused build must leave as it was
        con.execute("CREATE TABLE marker AS SELECT 'the store as it was' AS text")
    before = old.read_bytes()
    new = tmp_path / "sub" / "new.duckdb"
    for target in (old, new):
        done = _demo(
            "--db",
            str(target),
            "--scale",
            GROWN_SCALE,
            "--keep-entity",
            "bob",
            "--keep-entity",
            "WKSTN-42",
            "--keep-scale",
            KEPT_SCALE,
        )
        assert done.returncode == 2, done.stdout + done.stderr
        assert "'WKSTN-42' (closest estate names: WKSTN-042" in done.stderr
        assert "no row" in done.stderr and "'bob'" not in done.stderr  # bob has rows
        assert done.stdout == ""
    assert old.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.duckdb"]  # no sub/, no temp


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--scale", "0.5", "--keep-entity", "bob"], "got 1 (the default)"),
        (["--scale", "0.5", "--keep-entity", "bob", "--keep-scale", "0"], "above 0"),
        (["--scale", "0.5", "--keep-entity", "bob", "--keep-scale", "0.6"], "at most --scale"),
        (["--scale", "0.5", "--keep-entity", "bob", "--keep-scale", "0.5"], "give a larger"),
        (["--scale", "0.5", "--keep-scale", "0.1"], "only with --keep-entity"),
        (["--scale", "0.5", "--keep-entity", " ", "--keep-scale", "0.1"], "needs a name"),
    ],
)
def test_refused_combinations_exit_2_and_leave_the_store_as_it_was(tmp_path, args, says):
    old = tmp_path / "old.duckdb"
    old.write_bytes(b"the store as it was")  # refused before the file is even opened
    new = tmp_path / "sub" / "new.duckdb"
    for target in (old, new):
        done = _demo("--db", str(target), *args)
        assert done.returncode == 2, done.stderr
        assert says in done.stderr
    assert old.read_bytes() == b"the store as it was"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.duckdb"]  # no sub/, no temp
