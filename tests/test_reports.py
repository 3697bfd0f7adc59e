"""HTML reports: no code, a truthful escaped header, log text as text, nothing fetched."""

from __future__ import annotations

import re

import pytest
from run_helpers import SECRET, ok_run

from nbcatalog.reports import header_html, render_report


@pytest.fixture(scope="module")
def report_html() -> str:
    res = ok_run()
    assert res.report_path == res.run_dir / "report.html"
    return res.report_path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_report_has_no_code_no_parameters_cell_no_prompts(report_html):
    for code in ("glue(", "import pandas", "hashlib.sha256", "matplotlib.use"):
        assert code not in report_html
    assert "count: int = 3" not in report_html  # the template's parameters cell
    assert "# Parameters" not in report_html  # papermill's injected cell
    assert not re.search(r'class="[^"]*jp-(Input|Output)Prompt', report_html)
    assert not re.search(r"(In|Out)&nbsp;\[\d", report_html)


@pytest.mark.slow
def test_report_header_names_template_parameters_range_and_source(report_html):
    res = ok_run()
    header = report_html[report_html.index('<header class="nbcatalog-header">') :]
    header = header[: header.index("</header>")]
    assert "Fixture: everything works" in header and "fixture_ok" in header
    assert "WKSTN-042" in header
    assert "2024-05-01T00:00:00Z to 2024-05-02T00:00:00Z" in header
    assert res.parameters["data_source"] in header
    assert "&lt;redacted&gt;" in header
    assert SECRET not in report_html


@pytest.mark.slow
def test_report_shows_log_text_as_text(report_html):
    assert '<script>alert("nbcatalog")</script>' not in report_html
    assert "&lt;script&gt;alert(" in report_html
    assert "host is WKSTN-042" in report_html
    assert "Log lines" in report_html and "Chart" in report_html


@pytest.mark.slow
def test_report_opens_offline(report_html):
    fetched = re.findall(
        r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']?(?:https?:)?//""", report_html
    )
    assert fetched == []
    assert "cdnjs" not in report_html and "unpkg" not in report_html
    assert "mathjax" not in report_html.lower()
    assert 'src="data:image/png;base64,' in report_html  # the chart is inlined
    assert "<style" in report_html


def test_header_escapes_hostile_values():
    info = {
        "template": "host_summary",
        "title": "Host <b>summary</b>",
        "parameters": {"host": '"><img src=x onerror=alert(1)>'},
        "start": "2024-05-01T00:00:00Z",
        "end": "<script>x</script>",
        "data_source": "duckdb:/tmp/<evil>.duckdb",
    }
    text = header_html(info)
    assert "<img" not in text and "<script>" not in text and "<b>" not in text
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    assert "duckdb:/tmp/&lt;evil&gt;.duckdb" in text


def test_markdown_cells_keep_and_hidden_cells_go():
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("host = 'x'")
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell("host = 'SECRET-INJECTED'")
    injected.metadata["tags"] = ["injected-parameters"]
    injected.outputs = [nbformat.v4.new_output("stream", name="stdout", text="INJECTED-OUT")]
    warn = nbformat.v4.new_code_cell("warn()")
    warn.outputs = [nbformat.v4.new_output("stream", name="stderr", text="NOISY-WARNING")]
    nb.cells = [nbformat.v4.new_markdown_cell("## Kept heading"), params, injected, warn]
    html = render_report(nb, {"template": "t"})
    assert "Kept heading" in html
    assert "INJECTED" not in html and "NOISY-WARNING" not in html
