"""The warm kernel pool: runs as isolated as on fresh kernels, failures, recycling.

Real kernels throughout. Each test says which kernel (process id) ran what, so a
test cannot pass by quietly starting a new kernel where the pool should reuse one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from run_helpers import fixture_path
from template_factory import write_template

import nbcatalog
from nbcatalog.errors import RunError
from nbcatalog.pool import KernelPool

pytestmark = pytest.mark.slow

PARAMETERS = """\
probe_dir: str = ""  # folder holding the probe's own module
start: str = ""  # start of the time range (ISO-8601)
end: str = ""  # end of the time range (ISO-8601)
data_source: str = ""  # data source spec
"""

# Everything a template can observe that a previous run could have changed.
OBSERVE = """\
import logging, os, sys, warnings
import matplotlib
import pandas as pd
import nbcatalog.config
from nbcatalog.nblib.glue import glue
sys.path.insert(0, probe_dir)
import pool_probe_mod
glue("pid", os.getpid())
glue("observed", {
    "leftover_defined": "leftover" in globals(),
    "pd_defined_before_import": "pd" in dir(__import__("builtins")),
    "cwd": os.getcwd(),
    "polluted_env": os.environ.get("NBC_POLLUTED"),
    "caller_env": os.environ.get("NBC_CALLER"),
    "max_rows": pd.get_option("display.max_rows"),
    "linewidth": float(matplotlib.rcParams["lines.linewidth"]),
    "data_source": nbcatalog.config.default_data_source(),
    "warnings_are_errors": any(f[0] == "error" and f[2] is Warning for f in warnings.filters),
    "root_log_level": logging.getLogger().level,
    "polluted_path": "/polluted" in sys.path,
    "module_counter": pool_probe_mod.counter,
    "execution_count": get_ipython().execution_count,
    "recursion_limit": sys.getrecursionlimit(),
    "socket_timeout": __import__("socket").getdefaulttimeout(),
    # Whether this run's random numbers continue the stream the last run seeded.
    "numpy_follows_seed_7": __import__("numpy").random.random_sample()
    in __import__("numpy").random.RandomState(7).random_sample(10_000),
})
"""

POLLUTE = """\
import logging, os, sys, warnings
import matplotlib
import pandas as pd
import nbcatalog.config
from nbcatalog.nblib.glue import glue
leftover = 42
os.chdir(probe_dir)
os.environ["NBC_POLLUTED"] = "yes"
pd.set_option("display.max_rows", 3)
matplotlib.rcParams["lines.linewidth"] = 9.0
nbcatalog.config.init(data_source="duckdb:/polluted.duckdb")
logging.getLogger().setLevel(logging.DEBUG)
warnings.simplefilter("error")
__import__("numpy").random.seed(7)
sys.setrecursionlimit(4321)
__import__("socket").setdefaulttimeout(3)
sys.path.append("/polluted")
sys.path.insert(0, probe_dir)
import pool_probe_mod
pool_probe_mod.counter += 100
glue("pid", os.getpid())
glue("polluted", {
    "cwd": os.getcwd(),
    "max_rows": pd.get_option("display.max_rows"),
    "linewidth": float(matplotlib.rcParams["lines.linewidth"]),
    "data_source": nbcatalog.config.default_data_source(),
    "module_counter": pool_probe_mod.counter,
    "warnings_are_errors": any(f[0] == "error" and f[2] is Warning for f in warnings.filters),
})
"""

HOG = """\
import os
from nbcatalog.nblib.glue import glue
hog = bytearray(400 * 1024 * 1024)
hog[::4096] = b"x" * len(hog[::4096])  # touch every page so it is resident
glue("pid", os.getpid())
"""


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("pool-probes")
    (root / "pool_probe_mod.py").write_text("counter = 1\n")
    paths = {"dir": str(root)}
    for name, code in (("observe", OBSERVE), ("pollute", POLLUTE), ("hog", HOG)):
        section = [(name, f"## {name.title()}", [code])]
        path = write_template(
            root / "templates",
            f"pool_{name}",
            parameters=PARAMETERS,
            sections=section,
            options={},
            entity_kinds={},
            tables=[],
        )
        paths[name] = str(path)
    return paths


@pytest.fixture(scope="module")
def pool():
    with KernelPool(size=1) as pool:
        yield pool


def _run(path: str, probes: dict, output: Path, **kw):
    return nbcatalog.run(
        path, probe_dir=probes["dir"], output_dir=output, silent=True, quiet=True, **kw
    )


def test_pooled_runs_see_what_a_fresh_kernel_sees(pool, probes, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fresh = _run(probes["observe"], probes, tmp_path, fresh_kernel=True)

    polluting = _run(probes["pollute"], probes, tmp_path, pool=pool)
    assert polluting.polluted == {  # the pollution did take effect in that kernel
        "cwd": probes["dir"],
        "max_rows": 3,
        "linewidth": 9.0,
        "data_source": "duckdb:/polluted.duckdb",
        "module_counter": 101,
        "warnings_are_errors": True,
    }
    monkeypatch.setenv("NBC_CALLER", "set after the pool started")
    pooled = _run(probes["observe"], probes, tmp_path, pool=pool)

    assert pooled.pid == polluting.pid != fresh.pid  # the same warm kernel, reused
    assert fresh.observed["cwd"] == str(tmp_path)
    assert fresh.observed["caller_env"] is None
    expected = dict(fresh.observed, caller_env="set after the pool started")
    assert pooled.observed == expected


def test_killed_kernel_fails_the_run_and_is_replaced(pool, probes, tmp_path):
    before = _run(probes["observe"], probes, tmp_path, pool=pool)
    with pytest.raises(RunError) as caught:
        nbcatalog.run(
            fixture_path("fixture_dies"), output_dir=tmp_path, silent=True, quiet=True, pool=pool
        )
    assert caught.value.failure.kind == "dead-kernel"
    assert caught.value.failure.section == "die"
    after = _run(probes["observe"], probes, tmp_path, pool=pool)
    assert after.pid != before.pid
    assert not after.observed["leftover_defined"]
    assert pool.stats()["live"] == 1


def test_timed_out_cell_fails_the_run_and_the_next_run_is_clean(pool, probes, tmp_path):
    with pytest.raises(RunError) as caught:
        nbcatalog.run(
            fixture_path("fixture_sleeps"),
            output_dir=tmp_path,
            timeout=3,
            silent=True,
            quiet=True,
            pool=pool,
        )
    assert caught.value.failure.kind == "timeout"
    assert caught.value.failure.section == "slow"
    assert caught.value.failure.cell_index == 3
    after = _run(probes["observe"], probes, tmp_path, pool=pool)
    assert after.observed["leftover_defined"] is False
    assert after.observed["execution_count"] > 0


def test_kernels_are_recycled_after_max_runs(probes, tmp_path):
    with KernelPool(size=1, max_runs=2, preload=("pandas",)) as small:
        pids = [_run(probes["observe"], probes, tmp_path, pool=small).pid for _ in range(3)]
    assert pids[0] == pids[1] != pids[2]


def test_kernels_are_recycled_above_the_memory_limit(probes, tmp_path):
    with KernelPool(size=1, preload=("pandas",)) as small:
        small.warm()
        baseline = max(k.rss_mb() for k in small._idle)
        small.max_memory_mb = baseline + 200  # the hog keeps 400 MiB until the reset
        first = _run(probes["observe"], probes, tmp_path, pool=small).pid
        second = _run(probes["hog"], probes, tmp_path, pool=small).pid
        third = _run(probes["observe"], probes, tmp_path, pool=small).pid
    assert first == second  # small runs do not recycle
    assert third != second  # the hog's kernel went over the limit


def test_threads_share_a_pool_without_sharing_a_kernel(probes, tmp_path):
    results: list = []
    errors: list = []

    def one_run() -> None:
        try:
            results.append(_run(probes["pollute"], probes, tmp_path, pool=shared))
        except Exception as exc:  # reported below
            errors.append(exc)

    with KernelPool(size=2, preload=("pandas",)) as shared:
        threads = [threading.Thread(target=one_run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert shared.stats()["started"] == 2
    assert errors == []
    # Each run found a clean kernel: its own += 100 on a freshly imported module.
    assert [r.polluted["module_counter"] for r in results] == [101] * 4
    assert len({r.pid for r in results}) == 2
    assert len({r.run_dir for r in results}) == 4
    assert all(os.path.isdir(r.run_dir) for r in results)
