"""The report's top, its tables' data and its CSP, checked without a kernel.

Notebooks here are built with nbformat in the shapes an executed template has
(scrap outputs tagged with their names, `nblib.tables` HTML, section tags), and
run.json dicts in the shape of the findings contract. Expected figures are
computed here from the inputs, never with the code under test.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nbcatalog.nblib.tables import html_table
from nbcatalog.report_data import export_frames
from nbcatalog.report_layout import Links, Section, toc_html, verdict_html
from nbcatalog.reports import render_report

HOSTILE = '<script>alert("nbcatalog")</script>'
FRAME_MIME = "application/scrapbook.scrap.nbcatalog-frame+json"


def _scrap_output(name: str) -> dict:
    """What glue(name, frame) leaves in a cell: a scrap output carrying the name."""
    return new_output(
        "display_data",
        data={FRAME_MIME: {"kind": "frame"}},
        metadata={"scrapbook": {"name": name, "data": True, "display": False}},
    )


def _notebook(frames: dict[str, pd.DataFrame], shown: int = 25) -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# Probe")]
    for name, frame in frames.items():
        tag = {"tags": [f"section:{name}"]}
        cells.append(new_markdown_cell(f"## Section {name}\n\nAbout {name}.", metadata=tag))
        table = html_table(frame, max_rows=shown)
        cell = new_code_cell("...", metadata=tag)
        cell.outputs = [
            _scrap_output(name),
            new_output("execute_result", data={"text/html": table}, execution_count=1),
        ]
        cells.append(cell)
    return new_notebook(cells=cells)


def _events(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "EventId": [f"EVT-{i:04d}" for i in range(n)],
            "Account": [HOSTILE if i % 2 else "alice" for i in range(n)],
            "Count": list(range(n)),
        }
    )


def _json_blocks(page: str) -> dict[str, object]:
    blocks = re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', page, re.S)
    return {key: json.loads(text) for key, text in blocks}


def _csp(page: str) -> str:
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert match, "no CSP meta tag"
    return match.group(1)


def test_a_table_carries_every_row_of_its_frame_as_text():
    events = _events(120)
    page = render_report(
        _notebook({"events": events}), {"template": "t"}, frames={"events": events}
    )
    (rows,) = [b for k, b in _json_blocks(page).items() if k.startswith("nbc-rows")]
    assert rows["columns"] == list(events.columns)
    assert len(rows["rows"]) == 120
    assert rows["rows"][-1] == ["EVT-0119", HOSTILE, "119"]
    # Only escaped forms of the planted script are in the page's text.
    assert HOSTILE not in page
    assert page.count("<script>") == 1  # the table script only: no chart in this report


def test_a_table_whose_rows_are_not_the_frames_stays_static():
    events = _events(30)
    other = events.assign(EventId=[f"X-{i}" for i in range(30)])
    page = render_report(_notebook({"events": events}), {"template": "t"}, frames={"events": other})
    assert "nbc-rows" not in page and 'class="nbc-table"' not in page
    assert "script-src 'none'" in _csp(page)


def test_csp_allows_exactly_the_inline_scripts_of_the_page():
    events = _events(40)
    page = render_report(
        _notebook({"events": events}), {"template": "t"}, frames={"events": events}
    )
    policy = _csp(page)
    assert "unsafe-eval" not in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy
    allowed = set(re.findall(r"'sha256-([^']+)'", policy))
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    digests = {base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in scripts}
    assert scripts and digests == allowed


def test_the_top_is_links_title_verdict_details_then_contents():
    events = _events(3)
    info = {
        "template": "probe",
        "status": "ok",
        "findings": [
            {"severity": "medium", "title": "Odd account", "text": HOSTILE, "section": "events"},
            {"severity": "high", "title": "Brute force", "text": "320 failures", "count": 320,
             "section": "events", "result": "events"},
        ],
        "verdict": {"text": "1 high, 1 medium", "counts": {"high": 1, "medium": 1}},
    }  # fmt: skip
    links = Links(index="../../index.html", notebook="notebook.ipynb", run_json="run.json")
    page = render_report(
        _notebook({"events": events}), info, frames={"events": events}, links=links
    )
    top = page.index('<header class="nbcatalog-header">')
    marks = [
        page.index(m, top)
        for m in ('class="nbc-links"', "<h1>", 'id="verdict"', 'class="nbc-details"', "nbc-toc")
    ]
    assert marks == sorted(marks)
    assert page.index("nbc-toc") < page.index("Section events")
    # The most severe finding first, linked to its section, which carries the anchor.
    verdict = page[
        page.index('id="verdict"') : page.index("</section>", page.index('id="verdict"'))
    ]
    assert verdict.index("Brute force") < verdict.index("Odd account")
    assert 'href="#sec-events"' in verdict and 'id="sec-events"' in page
    assert HOSTILE not in page and "&lt;script&gt;" in verdict
    assert 'href="../../index.html"' in page


def test_verdict_from_status_alone_when_no_findings_were_recorded():
    no_data = {"status": "no_data", "no_data": {"reason": f"no host named {HOSTILE!r}"}}
    block = verdict_html(no_data)
    assert "level-no_data" in block and "NO DATA" in block and HOSTILE not in block
    assert "level-ok" in verdict_html({"status": "ok"})
    assert "Nothing found" in verdict_html({"status": "ok", "findings": []})
    assert "level-failed" in verdict_html({"status": "failed", "error": {"message": "boom"}})


def test_contents_count_findings_per_section():
    sections = [Section("alerts", "Related alerts"), Section("ti", "Threat intelligence")]
    info = {"findings": [{"section": "alerts"}, {"section": "alerts"}]}
    toc = toc_html(info, sections)
    items = re.findall(r"<li>(.*?)</li>", toc)
    assert "2 findings" in items[0] and "no findings" in items[1]


def test_huge_frames_are_capped_with_a_note_and_a_link(monkeypatch):
    import nbcatalog.report_data as report_data

    monkeypatch.setattr(report_data, "MAX_INLINE_ROWS", 50)
    events = _events(80)
    links = Links(data=[report_data.DataFile("events", 80, "data/events.csv", None)])
    page = render_report(
        _notebook({"events": events}), {"template": "t"}, frames={"events": events}, links=links
    )
    (rows,) = [b for k, b in _json_blocks(page).items() if k.startswith("nbc-rows")]
    assert len(rows["rows"]) == 50
    assert "the first 50 of 80 rows are in this report" in page
    assert 'href="data/events.csv"' in page


@pytest.mark.parametrize(
    "value, shown",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd", "'+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2.5", "-2.5"),
        ("plain", "plain"),
    ],
)
def test_exported_csv_defuses_formulas_and_parquet_keeps_values(tmp_path, value, shown):
    frame = pd.DataFrame({"v": [value], "n": [7]})
    files = export_frames({"cells": frame, "scalar": 3}, tmp_path)
    assert list(files) == ["cells"]
    rows = list(csv.reader(io.StringIO((tmp_path / "data/cells.csv").read_text())))
    assert rows == [["v", "n"], [shown, "7"]]
    assert pd.read_parquet(tmp_path / "data/cells.parquet")["v"].tolist() == [value]


def test_an_existing_parquet_sidecar_is_kept(tmp_path):
    (tmp_path / "data").mkdir()
    sidecar = tmp_path / "data" / "big.parquet"
    sidecar.write_bytes(b"sidecar")
    export_frames({"big": pd.DataFrame({"a": [1]})}, tmp_path)
    assert sidecar.read_bytes() == b"sidecar"
    assert (tmp_path / "data" / "big.csv").read_text().splitlines() == ["a", "1"]
