"""A pooled kernel started before PYTHONPATH (or another interpreter-start variable)
changed is not lent for a run: a fresh kernel would run the new sitecustomize, so the
run gets a kernel started under today's settings. Real kernels, one small pool."""

from __future__ import annotations

import pytest
from template_factory import write_template

import nbcatalog
from nbcatalog.pool import KernelPool

pytestmark = pytest.mark.slow

PARAMETERS = """\
start: str = ""  # start of the time range (ISO-8601)
end: str = ""  # end of the time range (ISO-8601)
data_source: str = ""  # data source spec
"""
PROBE = """\
import sys
from nbcatalog.nblib.glue import glue
glue("site_hook", getattr(sys, "nbcatalog_test_site_hook", "not run"))
"""


def test_pythonpath_set_after_the_pool_started_reaches_the_run(tmp_path, monkeypatch):
    template = write_template(
        tmp_path, "site_probe", parameters=PARAMETERS, sections=[("main", "## Main", [PROBE])],
        options={}, entity_kinds={},
    )  # fmt: skip
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        'import sys\nsys.nbcatalog_test_site_hook = "ran"\n', encoding="utf-8"
    )

    def run(pool):
        res = nbcatalog.run(str(template), pool=pool, output_dir=tmp_path / "out",
                            silent=True, quiet=True)  # fmt: skip
        return res["site_hook"]

    with KernelPool(size=1) as pool:
        assert run(pool) == "not run"
        assert pool.started_kernels == 1
        monkeypatch.setenv("PYTHONPATH", str(hooks))  # as a test's network blocker does
        assert run(pool) == "ran"  # the old kernel was not lent: a new one started
        assert pool.started_kernels == 2
        assert run(pool) == "ran"  # and it is reused while the settings stay
        assert pool.started_kernels == 2
