"""A pooled kernel reads the msticpy config the run names, as a fresh kernel would.

msticpy reads msticpyconfig.yaml once, when it is imported. A pooled kernel keeps
msticpy loaded from one run to the next, so an analyst who pointed MSTICPYCONFIG at
another workspace's config, or edited the file, between two runs in one notebook got
the first config's workspace or LocalData folders. Here one kernel serves three runs:
config A, config B, then B edited in place; each run must see its own folders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nbcatalog.pool import KernelPool, _evaluate

pytestmark = pytest.mark.slow

READ_PATHS = (
    "from msticpy.common import pkg_config as _nbc_config\n"
    "_nbc_paths = list(_nbc_config.get_config('DataProviders.LocalData.data_paths', []))"
)


def _config(path: Path, folder: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"DataProviders:\n  LocalData:\n    data_paths:\n      - {folder}\n", encoding="utf-8"
    )
    return path


def _paths_seen(pool: KernelPool, config: Path, cwd: Path) -> tuple[int, list[str]]:
    kernel = pool.checkout(env={"MSTICPYCONFIG": str(config)}, cwd=cwd)
    try:
        return kernel.pid, _evaluate(kernel, READ_PATHS, "_nbc_paths", timeout=300)
    finally:
        pool.release(kernel)


def test_each_run_on_one_pooled_kernel_sees_its_own_msticpy_config(tmp_path):
    first = _config(tmp_path / "a" / "msticpyconfig.yaml", tmp_path / "pickles-a")
    second = _config(tmp_path / "b" / "msticpyconfig.yaml", tmp_path / "pickles-b")
    with KernelPool(size=1) as pool:
        pid_a, seen_a = _paths_seen(pool, first, tmp_path)
        pid_b, seen_b = _paths_seen(pool, second, tmp_path)
        _config(second, tmp_path / "pickles-b-moved")  # edited between two runs
        pid_c, seen_c = _paths_seen(pool, second, tmp_path)
        pid_d, seen_d = _paths_seen(pool, second, tmp_path)  # nothing changed
    assert pid_a == pid_b == pid_c == pid_d  # one kernel served every run
    assert seen_a == [str(tmp_path / "pickles-a")]
    assert seen_b == [str(tmp_path / "pickles-b")]
    assert seen_c == seen_d == [str(tmp_path / "pickles-b-moved")]
