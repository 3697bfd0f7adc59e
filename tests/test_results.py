"""Results: typed values, sections, show(), the HTML summary, and a real caller notebook."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from run_helpers import fixture_path, ok_run

from nbcatalog.errors import UsageError

pytestmark = pytest.mark.slow


def test_values_keep_their_types():
    res = ok_run()
    assert res.count == 5 and type(res.count) is int  # glued as numpy.int64
    assert res.nothing is None and "nothing" in res.data
    assert isinstance(res.ratio, float) and math.isnan(res.ratio)
    assert res.when == dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.timezone.utc)
    assert res.when.tzinfo is not None
    assert res.tags == ["a", "b"]


def test_dataframes_keep_dtypes_including_time_zones():
    res = ok_run()
    lines = res["lines"]
    assert isinstance(lines, pd.DataFrame)
    assert str(lines["TimeGenerated"].dtype) == "datetime64[ns, UTC]"
    assert lines["Count"].dtype == "int64"
    assert lines["CommandLine"][0] == '<script>alert("nbcatalog")</script>'


def test_big_frame_goes_to_a_sidecar_file():
    res = ok_run()
    assert len(res.big) == 60_000
    assert str(res.big["t"].dtype) == "datetime64[ns, UTC]"
    sidecar = res.run_dir / "data" / "big.parquet"
    assert sidecar.is_file()
    assert pd.read_parquet(sidecar).shape == (60_000, 3)
    # The notebook holds a reference, not the data.
    assert res.notebook_path.stat().st_size < sidecar.stat().st_size
    # Small frames stay inline in the notebook (the report's export may still write
    # data/lines.parquet for its download link: that file is not what the scrap reads).
    text = res.notebook_path.read_text()
    assert text.count('"sidecar"') == 1 and '"sidecar": "data/big.parquet"' in text


def test_big_frame_is_only_referenced_in_the_notebook_and_read_on_first_use(tmp_path):
    import shutil

    from nbcatalog.harvest import harvest
    from nbcatalog.nblib.glue import GlueError
    from nbcatalog.results import ResultData, json_safe
    from nbcatalog.scraps import SidecarFrame

    res = ok_run()
    nb = json.loads(res.notebook_path.read_text())
    stored = [
        value["data"]
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        for mime, value in output.get("data", {}).items()
        if mime.startswith("application/scrapbook.scrap") and value.get("name") == "big"
    ]
    assert stored == [
        {
            "kind": "frame",
            "rows": 60_000,
            "columns": ["n", "s", "t"],
            "stringified": [],
            "sidecar": "data/big.parquet",
        }
    ]

    data = ResultData(harvest(res.notebook_path, lazy=True).data)
    assert isinstance(data.stored("big"), SidecarFrame)  # nothing read yet
    assert "big" in data and json_safe(data.stored("big"))["rows"] == 60_000
    assert isinstance(data.stored("big"), SidecarFrame)
    frame = data["big"]
    pd.testing.assert_frame_equal(frame, pd.read_parquet(res.run_dir / "data" / "big.parquet"))
    assert data.stored("big") is frame  # read once, kept

    moved = tmp_path / "copy"
    shutil.copytree(res.run_dir, moved)
    (moved / "data" / "big.parquet").unlink()
    lazy = ResultData(harvest(moved / "notebook.ipynb", lazy=True).data)
    with pytest.raises(GlueError, match="big.parquet is missing"):
        lazy["big"]


def test_attribute_and_key_access_agree_and_name_the_results():
    res = ok_run()
    assert res.host_name == res["host_name"] == "WKSTN-042"
    with pytest.raises(AttributeError, match="no result 'hots'.*host_name"):
        _ = res.hots
    with pytest.raises(KeyError, match="no result"):
        _ = res["hots"]
    assert "lines" in dir(res)
    assert res.sections == {
        "facts": "Facts",
        "lines": "Log lines",
        "big": "Big frame",
        "chart": "Chart",
    }
    assert res.status == "ok" and res.duration > 0
    assert res.notebook_path == res.run_dir / "notebook.ipynb"


def test_section_bundles_carry_original_rich_outputs():
    res = ok_run()
    chart = res.section_bundles("chart")
    assert chart[0][0]["text/markdown"].startswith("## Chart")
    assert any("image/png" in data for data, _ in chart)
    lines = res.section_bundles("lines")
    html_tables = [d["text/html"] for d, _ in lines if "text/html" in d]
    assert html_tables and "&lt;script&gt;alert" in html_tables[0]
    # scrapbook's data payloads are not shown again
    assert not any(k.startswith("application/scrapbook") for d, _ in lines for k in d)
    with pytest.raises(UsageError, match="no section 'nope'.*facts"):
        res.section_bundles("nope")


def test_repr_html_is_the_verdict_and_section_list_not_the_report():
    res = ok_run()
    text = res._repr_html_()
    assert "fixture_ok" in text and "Log lines" in text and "Chart" in text
    assert "Verdict:" in text and "recorded no findings list" in text  # it glues none
    for sid in res.sections:
        assert f"res.show(&quot;{sid}&quot;)" in text
    assert "data:image/png;base64," not in text  # res.show() displays the sections
    assert '<script>alert("nbcatalog")' not in text


def test_summary_is_json_with_frames_summarised():
    summary = json.loads(json.dumps(ok_run().to_json_summary()))
    assert summary["status"] == "ok"
    assert summary["results"]["count"] == 5
    assert summary["results"]["ratio"] is None
    assert summary["results"]["big"]["rows"] == 60_000
    assert summary["results"]["lines"]["columns"] == ["TimeGenerated", "CommandLine", "Count"]
    assert summary["parameters"]["api_token"] == "<redacted>"


def _caller_notebook(out: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    template = fixture_path("fixture_ok")
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import nbcatalog\n"
            f"res = nbcatalog.run({template!r}, host='WKSTN-042', output_dir={str(out)!r})"
        ),
        nbformat.v4.new_code_cell("res.show('chart')"),
        nbformat.v4.new_code_cell("res"),
        nbformat.v4.new_code_cell(
            f"quiet = nbcatalog.run({template!r}, silent=True, output_dir={str(out)!r})"
        ),
    ]
    return nb


def test_caller_notebook_embeds_sections(tmp_path):
    from nbclient import NotebookClient

    from nbcatalog.kernel import KERNEL_NAME, ProjectKernelManager

    nb = _caller_notebook(tmp_path / "out")
    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        kernel_manager_class=ProjectKernelManager,
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    nbformat.write(nb, tmp_path / "caller.ipynb")
    saved = nbformat.read(tmp_path / "caller.ipynb", as_version=4)

    run_cell = saved.cells[0].outputs
    markdown = [o.data["text/markdown"] for o in run_cell if "text/markdown" in o.get("data", {})]
    assert [m.splitlines()[0] for m in markdown] == [
        "## Facts",
        "## Log lines",
        "## Big frame",
        "## Chart",
    ]
    html = [o.data["text/html"] for o in run_cell if "text/html" in o.get("data", {})]
    assert any(
        "&lt;script&gt;alert(&quot;nbcatalog&quot;)" in h or "&lt;script&gt;alert" in h
        for h in html
    )
    assert any("image/png" in o.get("data", {}) for o in run_cell)
    assert any("host is WKSTN-042" in o.get("data", {}).get("text/plain", "") for o in run_cell)
    assert not any("application/scrapbook" in k for o in run_cell for k in o.get("data", {}))

    shown = saved.cells[1].outputs
    assert any("image/png" in o.get("data", {}) for o in shown)
    assert not any("Log lines" in str(o.get("data", {})) for o in shown)

    summary = saved.cells[2].outputs
    assert summary[0].output_type == "execute_result"
    assert "nbcatalog-results" in summary[0].data["text/html"]

    silent = [o for o in saved.cells[3].outputs if o.output_type in ("display_data",)]
    assert not any("text/markdown" in o.get("data", {}) for o in silent)


def test_show_brings_the_loader_a_plot_needs():
    from nbcatalog.results import Results

    nb = nbformat.v4.new_notebook()
    setup = nbformat.v4.new_code_cell("output_notebook(INLINE)")
    setup.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.bokehjs_load.v0+json": "/* BokehJS */",
                "application/javascript": "/* BokehJS */",
                "text/html": "<div>loading BokehJS</div>",
            },
        )
    ]
    heading = nbformat.v4.new_markdown_cell("## Timeline")
    plot = nbformat.v4.new_code_cell("show(fig)")
    plot.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": '<div id="p1"></div><script>embed("p1")</script>',
                "application/vnd.bokehjs_exec.v0+json": "",
            },
        )
    ]
    table = nbformat.v4.new_code_cell("alerts")
    table.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<table/>"})]
    for cell in (heading, plot):
        cell.metadata["tags"] = ["section:timeline"]
    table.metadata["tags"] = ["section:alerts"]
    nb.cells = [setup, heading, plot, table]
    res = Results(
        template="t",
        data={},
        displays={},
        sections={"timeline": "Timeline", "alerts": "Alerts"},
        notebook=nb,
        parameters={},
        run_dir=Path("."),
        notebook_path=Path("nb.ipynb"),
        report_path=None,
        status="ok",
        duration=1.0,
    )
    bundles = [data for data, _ in res.section_bundles("timeline")]
    assert "application/vnd.bokehjs_load.v0+json" in bundles[0]  # the loader comes first
    assert bundles[1]["text/markdown"] == "## Timeline"
    assert "application/vnd.bokehjs_exec.v0+json" in bundles[2]
    # A section without scripts does not drag the loader along.
    assert [list(d) for d, _ in res.section_bundles("alerts")] == [["text/html"]]
