"""Every built-in notebooklet states its findings, on the demo store, as the contract says.

Each template runs once (its catalogue example, HTML report on) through the real
runner, kernel and nbconvert. The findings must be well-formed, name a section the
template has and a glued frame holding at least `count` rows, and reach run.json,
``Results.findings``, ``to_json_summary`` and the report's verdict. host_summary on
WKSTN-042 must report the planted encoded PowerShell, decoded, everywhere.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from nbcatalog.catalog import catalog
from nbcatalog.findings_model import FIELDS, SEVERITIES

pytestmark = pytest.mark.slow

TEMPLATES = sorted(t.name for t in catalog() if t.origin == "built-in")


@pytest.fixture(scope="module")
def runs(demo_db: Path):
    """name -> Results of the template's example on the demo store (run on first use)."""
    import nbcatalog

    out = Path(tempfile.mkdtemp(prefix="nbcatalog-findings-"))
    done: dict[str, object] = {}

    def get(name: str):
        if name not in done:
            template = next(t for t in catalog() if t.name == name)
            done[name] = nbcatalog.run(
                name,
                data_source=f"duckdb:{demo_db}",
                output_dir=out,
                html=True,
                silent=True,
                quiet=True,
                **template.example,
            )
        return done[name]

    yield get
    shutil.rmtree(out, ignore_errors=True)


def test_every_template_is_checked():
    assert len(TEMPLATES) == 10 and "host_network_summary" in TEMPLATES


@pytest.mark.parametrize("name", TEMPLATES)
def test_findings_are_well_formed_and_point_at_evidence(runs, name):
    res = runs(name)
    assert res.status == "ok", res.reason
    findings = res.findings
    assert isinstance(findings, list) and findings, f"{name} stated no findings on the demo"
    for f in findings:
        assert set(f) == set(FIELDS)
        assert f["severity"] in SEVERITIES
        assert f["title"] and "\n" not in f["title"]
        assert f["section"] in res.sections, f"{f['section']!r} is not a section of {name}"
        assert f["result"] in res.data, f"{f['result']!r} is not a glued result of {name}"
        evidence = res[f["result"]]
        assert isinstance(evidence, pd.DataFrame)
        assert isinstance(f["count"], int) and 1 <= f["count"] <= len(evidence)
    keys = [f["key"] for f in findings]
    assert len(keys) == len(set(keys)), "finding keys must tell findings apart"
    # Most severe first.
    order = [SEVERITIES.index(f["severity"]) for f in findings]
    assert order == sorted(order)
    # The same list in run.json and in the JSON summary.
    run_json = json.loads((res.run_dir / "run.json").read_text())
    assert sorted(f["key"] for f in run_json["findings"]) == sorted(keys)
    assert json.loads(json.dumps(res.to_json_summary()))["findings"] == findings
    assert "findings" not in res.data  # the conclusions, not a result


@pytest.mark.parametrize("name", TEMPLATES)
def test_report_opens_with_the_verdict_listing_the_findings(runs, name):
    res = runs(name)
    page = res.report_path.read_text(encoding="utf-8")
    verdict = page.index('class="nbc-verdict')
    assert verdict < page.index('class="nbc-details"') < page.index('class="nbc-toc"')
    top = page[verdict : page.index("</section>", verdict)]
    first = res.findings[0]
    assert first["title"] in html.unescape(top)
    assert f'href="#sec-{first["section"]}"' in top
    assert f"{len(res.findings)} finding" in top


def test_host_summary_reports_the_planted_encoded_powershell_decoded(runs):
    from nbcatalog.data.demo.planted_windows import encoded_command

    res = runs("host_summary")
    script = base64.b64decode(encoded_command()).decode("utf-16-le")
    decoded = [f for f in res.findings if script in f["title"]]
    assert len(decoded) == 1 and decoded[0]["severity"] == "high"
    assert decoded[0]["section"] == "notable" and decoded[0]["result"] == "decoded_powershell"
    rows = res.decoded_powershell
    assert decoded[0]["count"] == len(rows) >= 1
    assert all(encoded_command() in c for c in rows["CommandLine"])
    assert set(rows["DecodedCommand"]) == {script}
    # Beside the command line in the notable processes table.
    notable = res.notable_processes
    assert script in set(notable["DecodedCommand"])
    # In --json's summary and in the HTML verdict (escaped: the script has quotes).
    summary = json.loads(json.dumps(res.to_json_summary()))
    assert any(script in f["title"] for f in summary["findings"])
    page = res.report_path.read_text(encoding="utf-8")
    top = page[page.index('class="nbc-verdict') : page.index('class="nbc-toc"')]
    assert script in html.unescape(top) and '<a href="#sec-notable">Encoded' in top
    assert re.search(r"nbc-sev-high\">high</span><a href=\"#sec-notable\">Encoded PowerShell", top)


def test_repr_html_shows_the_verdict_and_sections_not_the_report(runs):
    res = runs("host_summary")
    text = res._repr_html_()
    assert "Verdict:" in text and "Encoded PowerShell ran on WKSTN-042" in text
    for sid in res.sections:
        assert f"res.show(&quot;{sid}&quot;)" in text
    assert "data:image/png" not in text and '<table class="nbcatalog-table"' not in text
    assert len(text) < 20_000


def test_host_logons_summary_names_the_brute_force_address(runs):
    res = runs("host_logons_summary")
    attacks = res.attack_findings
    assert len(attacks)
    for ip in attacks["SourceIP"]:
        assert any(ip in f["title"] for f in res.findings)


# A cell squeezed to a word per line, or a long text cell narrower than 300 px.
_SQUEEZED_CELLS = """() => {
  const bad = [];
  for (const td of document.querySelectorAll('td')) {
    if (!td.offsetParent) continue;
    const text = td.textContent.trim();
    const words = text.split(/\\s+/).filter(Boolean);
    const range = document.createRange();
    range.selectNodeContents(td);
    const lines = new Set([...range.getClientRects()].filter(r => r.width > 0)
      .map(r => Math.round(r.top))).size;
    const width = td.getBoundingClientRect().width;
    const longest = Math.max(0, ...words.map(w => w.length));
    if ((words.length >= 3 && longest <= 30 && lines >= words.length)
        || (text.length > 80 && width < 300)) {
      bad.push([text.slice(0, 60), lines, Math.round(width)]);
    }
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def chromium():
    import os
    import shutil as sh

    path = sh.which("chromium") or sh.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        path = None
    if path is None:
        message = "Debian's chromium and Playwright are needed: run scripts/install-browser.sh"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.mark.parametrize("name", TEMPLATES)
def test_chromium_shows_the_verdict_first_and_wide_tables_readable(runs, chromium, name):
    res = runs(name)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
        )
        page.goto(res.report_path.resolve().as_uri(), wait_until="load")
        first = page.evaluate(
            """() => [...document.querySelectorAll('.nbcatalog-header h1 ~ *, .jp-Cell')]
                 .filter(e => e.offsetParent)[0].id"""
        )
        assert first == "verdict"
        items = page.locator("#verdict ol.nbc-top-findings > li")
        assert items.count() == min(5, len(res.findings))
        assert res.findings[0]["title"] in items.first.inner_text()
        for i in range(items.count()):
            target = items.nth(i).locator("a").first.get_attribute("href")
            assert page.locator(target).count() == 1  # the section's anchor exists
        assert page.evaluate(_SQUEEZED_CELLS) == []
    finally:
        page.close()
