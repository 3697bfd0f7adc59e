"""A DataFrame parameter written `data: pd.DataFrame = None`, with pandas imported in the
parameters cell, runs in a real kernel (the cell runs as written, annotation included)
and passes `nbcatalog check`; without the import, `check` says what to do."""

from __future__ import annotations

import pandas as pd
import pytest
from template_factory import write_template

import nbcatalog
from nbcatalog.scaffold import check_template
from nbcatalog.template import load_template

pytestmark = pytest.mark.slow

STANDARD = """\
start: str = ""  # start of the time range (ISO-8601)
end: str = ""  # end of the time range (ISO-8601)
data_source: str = ""  # data source spec
"""
COUNT = """\
from nbcatalog.nblib.glue import glue
glue("rows", len(data))
glue("hosts", sorted(data["Computer"]))
"""


def _template(folder, name, parameters):
    return write_template(
        folder,
        name,
        parameters=parameters + STANDARD,
        sections=[("main", "## Main", [COUNT])],
        options={},
        entity_kinds={},
    )


def test_pd_dataframe_annotation_runs_and_checks(tmp_path):
    path = _template(
        tmp_path, "frame_in", "import pandas as pd\ndata: pd.DataFrame = None  # rows you have\n"
    )
    assert check_template(path) == []
    (spec,) = [p for p in load_template(path).parameters if p.name == "data"]
    assert spec.type == "DataFrame" and spec.help == "rows you have"
    frame = pd.DataFrame({"Computer": ["WKSTN-042", "WIN-DC01"], "EventID": [4624, 4625]})
    res = nbcatalog.run(
        str(path),
        data=frame,
        output_dir=tmp_path / "out",
        fresh_kernel=True,
        silent=True,
        quiet=True,
    )
    assert res.status == "ok"
    assert res["rows"] == 2 and res["hosts"] == ["WIN-DC01", "WKSTN-042"]


def test_unimported_annotation_is_reported_by_check(tmp_path):
    path = _template(tmp_path, "frame_bad", "data: pd.DataFrame = None  # rows you have\n")
    (problem,) = check_template(path)
    assert problem.cell == 1
    assert "'pd.DataFrame' is evaluated when the cell runs" in str(problem)
    assert "import pandas as pd" in str(problem)
