"""Shared pytest fixtures: one demo store per test session.

`demo_db` builds the demo estate (default seed, generated "now") once into a temp dir;
`demo_source` opens it through `nbcatalog.data.connect`. Tests must not write to it.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a demo store built once per test session (seed 42, scale 1)."""
    from nbcatalog.data.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path)
    return path


@pytest.fixture(scope="session")
def demo_source(demo_db: Path):
    """`nbcatalog.data.connect("duckdb:<demo_db>")`: the demo store as a DataSource."""
    # Imported here: the data source module is written in parallel with this fixture.
    from nbcatalog.data import connect

    return connect(f"duckdb:{demo_db}")
