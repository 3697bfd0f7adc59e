"""Fixtures for the real-data tests: the public logs shipped in `files/`.

Every test here computes the figures it asserts from the file text itself (plain
`json` / `re`), never with nbcatalog's parsers: the point is to check those parsers
against logs nobody on the project wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FILES = Path(__file__).parent / "files"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The folder of shipped real logs (see files/README.md)."""
    return FILES
