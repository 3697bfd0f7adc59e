"""Setups the execution tests share: a full disk on demand and a short fixture_ok run.

Example:
    no_space_left(monkeypatch, os, "replace")        # os.replace now fails as on a full disk
    res = run_fixture_ok(tmp_path, host="SRV-01")    # one quiet run of fixture_ok
"""

from __future__ import annotations

import errno
import os
from typing import Any

import pytest
from run_helpers import fixture_path

NO_SPACE = "No space left on device"


def no_space_left(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    """Make `owner.name` raise the OSError a full disk raises (ENOSPC), for one test."""

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, NO_SPACE)

    monkeypatch.setattr(owner, name, full)


def run_fixture_ok(output_dir: str | os.PathLike, host: str = "WKSTN-042") -> Any:
    """fixture_ok on `host` (count 1, 2024-05-01), silent and quiet, into `output_dir`."""
    import nbcatalog

    return nbcatalog.run(
        fixture_path("fixture_ok"),
        host=host,
        count="1",
        start="2024-05-01T00:00:00Z",
        end="2024-05-02T00:00:00Z",
        output_dir=output_dir,
        silent=True,
        quiet=True,
    )
