"""Module fixtures for tests whose kernels run offline (see tests/helpers/offline.py).

A pytest plugin, separate from `helpers.offline` so that test modules can import that
one's functions and still load these fixtures: `pytest_plugins = ["helpers.offline_plugin"]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.offline import network_blocked


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The attempts log of this module's processes, all started without internet."""
    with network_blocked(tmp_path_factory.mktemp("offline")) as log:
        yield log


@pytest.fixture(scope="module")
def offline_pool(offline: Path) -> Iterator[Any]:
    """This module's own warm kernel, started inside the block (a default-pool kernel
    may have started before it, and sitecustomize runs only when a kernel starts)."""
    from nbcatalog.pool import KernelPool

    with KernelPool(size=1) as kernels:
        yield kernels
