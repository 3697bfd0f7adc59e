"""The runner's side of findings, on small real templates: carried, checked, escaped.

A template that glues a malformed ``findings`` scrap fails the run with a message
naming the bad field (not a report with a wrong verdict); hostile finding text stays
text in the report; a template with no findings list leaves run.json without one.
"""

from __future__ import annotations

import json

import pytest
from template_factory import write_template

from nbcatalog.errors import RunError

pytestmark = pytest.mark.slow

HOSTILE = "<img src=x onerror=alert(1)> bob"


def _template(tmp_path, name: str, findings: str):
    code = (
        "from nbcatalog.nblib.glue import glue\n"
        "import pandas as pd\n"
        'glue("logons", pd.DataFrame({"Account": ["bob"]}))\n'
        f'glue("findings", {findings})'
    )
    return write_template(tmp_path, name, sections=[("summary", "## Summary", [code])])


def _run(path, out, pool):
    import nbcatalog

    return nbcatalog.run(
        str(path), host="x", output_dir=out, html=True, silent=True, quiet=True, pool=pool
    )


@pytest.fixture(scope="module")
def pool():
    from nbcatalog.pool import KernelPool

    pool = KernelPool(size=1)
    yield pool
    pool.shutdown()


def test_hostile_finding_text_is_carried_and_escaped(tmp_path, pool):
    found = [
        {
            "severity": "high",
            "title": f"Logon as {HOSTILE}",
            "section": "summary",
            "result": "logons",
            "count": 1,
            "key": "logon:bob",
        }
    ]
    res = _run(_template(tmp_path, "probe_findings", repr(found)), tmp_path / "out", pool)
    assert res.findings[0]["title"] == f"Logon as {HOSTILE}"
    run_json = json.loads((res.run_dir / "run.json").read_text())
    assert run_json["findings"] == res.findings
    page = res.report_path.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; bob" in page


def test_a_malformed_findings_scrap_fails_the_run_naming_the_field(tmp_path, pool):
    bad = [{"severity": "critical", "title": "x"}]
    path = _template(tmp_path, "probe_bad_findings", repr(bad))
    with pytest.raises(RunError, match=r"findings\[0\]: severity 'critical' is not one of high"):
        _run(path, tmp_path / "out", pool)
    run_json = json.loads(next((tmp_path / "out").rglob("run.json")).read_text())
    assert run_json["status"] == "failed" and "critical" in run_json["error"]["message"]
