"""Defender for Endpoint test fixtures: a saved advanced hunting API answer of one table
(plus a Windows Security export of the mixed host), read by the tests themselves, the
store the real importer fills from them, and a workspace stand-in.

The fixture folders (tests/fixtures/mde_processes/, mde_logons/) are written by their
make_fixtures.py: wkstn-077 is known only to Defender, WIN-DC01 has Windows events too.

Example:
    FIX = Hunting("mde_logons", "DeviceLogonEvents_api.json", "SecurityEvent_win-dc01.json")
    store = FIX.store_fixture()                             # a module fixture named store

    def test_it(store):
        inv = investigation(connect(f"duckdb:{store}"))
        assert len(FIX.device_rows(MDE_ONLY)) > 0
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nbcatalog.data import connect
from nbcatalog.data.source import DataSource
from nbcatalog.nblib import Investigation

NBCATALOG = Path(sys.executable).parent / "nbcatalog"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
START, END = "2026-11-29T00:00:00Z", "2026-12-01T00:00:00Z"
MDE_ONLY, MIXED = "wkstn-077", "win-dc01"  # short names, as an analyst types them


class Hunting:
    """One fixture folder: the API answer (`answer`), the Windows export, other files."""

    def __init__(self, folder: str, answer: str, security: str, *others: str) -> None:
        self.folder = FIXTURES / folder
        self.answer = self.folder / answer
        self.security = self.folder / security
        self.others = [self.folder / o for o in others]

    def results(self) -> list[dict]:
        return json.loads(self.answer.read_text(encoding="utf-8"))["Results"]

    def security_events(self) -> list[dict]:
        return json.loads(self.security.read_text(encoding="utf-8"))

    def device_rows(self, short: str) -> list[dict]:
        """The answer's rows of one device in the time range (the device's short name)."""
        return [
            r
            for r in self.results()
            if r["DeviceName"].split(".")[0].lower() == short and START[:10] <= r["Timestamp"] < END
        ]

    def store_fixture(self) -> Any:
        """A module fixture: a store filled by `nbcatalog data import` of every file,
        checked to hold each answer row as defender-json."""

        @pytest.fixture(scope="module")
        def store(tmp_path_factory) -> Path:
            db = tmp_path_factory.mktemp("mde") / "store.duckdb"
            files = [self.answer, self.security, *self.others]
            proc = subprocess.run(
                [str(NBCATALOG), "data", "import", "--db", str(db), *map(str, files)],
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert proc.returncode == 0, proc.stdout + proc.stderr
            rows = len(self.results())
            read = f"{self.answer} [defender-json]: read {rows}, stored {rows} "
            assert read in proc.stdout
            return db

        return store


def investigation(source: Any) -> Investigation:
    """An nblib investigation of `source` over the fixtures' time range."""
    return Investigation(source, pd.Timestamp(START), pd.Timestamp(END))


class Workspace(DataSource):
    """A workspace answering queries by name as msticpy does (from the test's store),
    unable to run SQL; `tables` is what it says it has, `asked` what it was asked."""

    spec = "msticpy:Workspace"

    def __init__(self, store: Path, tables: list[str]):
        self.store = connect(f"duckdb:{store}")
        self.listed = tables
        self.asked: list[str] = []

    def list_queries(self) -> pd.DataFrame:
        return self.store.list_queries()

    def tables(self) -> list[str]:
        return self.listed

    def query(self, name: str, **params):
        self.asked.append(name)
        return self.store.query(name, **params)
