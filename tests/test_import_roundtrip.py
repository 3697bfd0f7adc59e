"""Every table of the demo store, exported as Parquet and CSV, re-imports unchanged."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from nbcatalog.data.importers import import_paths
from nbcatalog.data.schema import TABLES

SAMPLE = 150


def _sample(db, name: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        # Table names come from the schema module, never from data.
        sql = f'SELECT * FROM "{name}" ORDER BY ALL LIMIT {SAMPLE}'  # noqa: S608
        return con.execute(sql).df()


def _text_as_kusto(frame: pd.DataFrame) -> pd.DataFrame:
    """NULL and "" are the same string to Log Analytics, and CSV cannot tell them apart."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = out[name].fillna("")
    return out


@pytest.fixture(scope="module")
def exported(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    frames = {name: _sample(demo_db, name) for name in TABLES}
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
        frame.to_parquet(folder / f"{name}.parquet")
    return folder, frames


def test_parquet_export_of_every_table_round_trips_and_csv_adds_nothing(exported, tmp_path):
    folder, frames = exported
    db = tmp_path / "again.duckdb"
    report = import_paths(sorted(folder.glob("*.parquet")), db=db)
    assert report.rows_rejected == 0 and not any(f.warnings for f in report.files)
    stored = {name: n for f in report.files for name, n in f.tables.items()}
    assert stored == {name: len(frame) for name, frame in frames.items() if len(frame)}
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(_sample(db, name), frame, check_dtype=False, obj=name)

    # The same rows as CSV are recognised row by row: nothing is stored twice.
    again = import_paths(sorted(folder.glob("*.csv")), db=db)
    assert again.rows_stored == 0 and again.rows_rejected == 0
    assert again.rows_duplicate == sum(len(f) for f in frames.values())


def test_csv_export_of_every_table_round_trips(exported, tmp_path):
    folder, frames = exported
    db = tmp_path / "from_csv.duckdb"
    report = import_paths(sorted(folder.glob("*.csv")), db=db)
    assert report.rows_rejected == 0
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(
            _text_as_kusto(_sample(db, name)), _text_as_kusto(frame), check_dtype=False, obj=name
        )
