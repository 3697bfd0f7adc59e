"""The HTML a user opens, checked in headless Chromium (Debian's package, driven by Playwright).

Reports of each notebooklet, a 600-row fixture report and output/index.html are
produced by the scheduler (``nbcatalog schedule run-due``) from the demo store,
then opened from disk with every network request blocked. A page passes when it
logs no console error, raises no dialog, fetches nothing, opens with the verdict
block, has contents links that reach their sections, shows every section heading,
renders its tables (each one searchable and paged over all its rows) and charts
(timelines answer hover with a tooltip), and shows the planted
``<script>alert("nbcatalog")</script>`` command line as text. The host summary job
also asks for a PDF, printed by the same Chromium.

Chromium missing: skipped on a developer machine, a failure in CI (CI=true).
`scripts/install-browser.sh` installs it. Set NBCATALOG_SCREENSHOT=PATH to also
save a screenshot of the host summary report there (README's docs/report.png).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLANTED = '<script>alert("nbcatalog")</script>'
# Jobs with their own names (the index test reads them); every other built-in
# notebooklet gets a job named after it, run with its metadata's example parameters.
NAMED_JOBS = {"host_summary": "jump-host", "account_summary": "bob-daily"}
BIG_TABLE_ROWS = 600  # fixture_big_table's default: longer than any page size
# Findings of the planted incidents each report's verdict must show (key prefix -> words of
# its title): the beacon (planted_network.py) on LNX-WEB01, the encoded PowerShell decoded
# on WKSTN-042 (planted_windows.py), the RDP brute force on WKSTN-042.
PLANTED_FINDINGS = {
    "network_flow_summary": {"beacon:192.0.2.66:4444": ["192.0.2.66:4444", "every 10 min"]},
    "host_network_summary": {"beacon:192.0.2.66:4444": ["192.0.2.66:4444", "every 10 min"]},
    "host_summary": {
        "encoded_powershell:WKSTN-042:": ["Encoded PowerShell", "decoded, it runs: IEX"]
    },
}
# Notebooklets that show process command lines: the planted one must be on the page.
SHOW_COMMAND_LINES = ("host_summary", "logon_session_rarity")


def _builtin_notebooklets() -> list:
    """Every notebooklet of the built-in catalogue (those in templates/ when the test runs)."""
    from nbcatalog.catalog import catalog

    return sorted((t for t in catalog() if t.origin == "built-in"), key=lambda t: t.name)


NOTEBOOKLETS = tuple(t.name for t in _builtin_notebooklets())
# Planted demo entities, for a notebooklet whose metadata gives no example.
DEMO_ENTITIES = {
    "host": "WKSTN-042",
    "account": "bob",
    "ip": "203.0.113.77",
    "url": "http://malicious.example/payload.ps1",
    "domain": "malicious.example",
}


def _job_name(name: str) -> str:
    return NAMED_JOBS.get(name, name.replace("_", "-"))


def _browser_or_skip() -> str:
    """Chromium's path; skip (developer machine) or fail (CI) when it or Playwright is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        chromium = None
    if chromium is None:
        message = "Debian's chromium and Playwright are needed: run scripts/install-browser.sh"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return chromium


@pytest.fixture(scope="module")
def chromium_path() -> str:
    return _browser_or_skip()


@pytest.fixture(scope="module")
def output(chromium_path, demo_db, tmp_path_factory) -> Path:
    """An output root holding scheduled reports of each notebooklet, a failed run, the index."""
    from run_helpers import fixture_path

    work = tmp_path_factory.mktemp("browser")
    jobs = []
    for template in _builtin_notebooklets():
        example = template.metadata.get("example") or {
            param: DEMO_ENTITIES[kind]
            for param, kind in (template.metadata.get("entity_kinds") or {}).items()
            if kind in DEMO_ENTITIES
        }
        jobs.append(
            {
                "name": _job_name(template.name),
                "notebooklet": template.name,
                "parameters": example,
                "cron": "0 * * * *",
                "covers": "7d",
            }
        )
        if template.name == "host_summary":
            jobs[-1]["formats"] = ["html", "notebook", "pdf"]
    jobs.append(
        {"name": "broken", "notebooklet": fixture_path("fixture_raises"), "cron": "0 * * * *"}
    )
    jobs.append(
        {"name": "big-table", "notebooklet": fixture_path("fixture_big_table"), "cron": "0 * * * *"}
    )
    # JSON is YAML: no quoting of hostile-looking values to get wrong.
    (work / "schedules.yaml").write_text(json.dumps({"jobs": jobs}, indent=2), encoding="utf-8")
    env = dict(
        os.environ,
        NBCATALOG_SOURCE=f"duckdb:{demo_db}",
        NBCATALOG_OUTPUT=str(work / "output"),
        NBCATALOG_SCHEDULES=str(work / "schedules.yaml"),
        NBCATALOG_CONFIG=str(work / "no-config.toml"),
    )
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    for now in (hour - timedelta(minutes=5), hour + timedelta(minutes=1)):
        subprocess.run(
            [sys.executable, "-m", "nbcatalog.cli.main", "schedule", "run-due", "--now"]
            + [now.isoformat()],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    return work / "output"


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # --no-sandbox: CI and these machines run as root, where Chromium's sandbox refuses.
        browser = pw.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield browser
        browser.close()


class Visit:
    """A page opened from disk with the network blocked, and what it did meanwhile."""

    def __init__(self, browser, path: Path):
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_clean(self) -> None:
        """No console errors, no dialog, nothing fetched from the network."""
        assert self.errors == []
        assert self.dialogs == []
        assert self.blocked == []

    def assert_tables_rendered(self, at_least: int) -> None:
        # Visible tables: a table made interactive keeps its static copy hidden for print.
        tables = self.page.locator("table").filter(visible=True)
        assert tables.count() >= at_least
        for i in range(tables.count()):
            table = tables.nth(i)
            table.scroll_into_view_if_needed()
            assert table.locator("tr").count() >= 2  # a header and at least one row
            box = table.bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0
        boxes = self.page.locator(".nbc-table")
        assert boxes.count() == self.page.locator(".nbc-table.nbc-enhanced").count()

    def assert_charts_rendered(self, at_least: int) -> None:
        """Each chart drawn: a Bokeh canvas where it is interactive, else decoded PNG pixels."""
        charts = self.page.locator(".nbc-chart")
        for i in range(charts.count()):
            live = charts.nth(i).locator(".nbc-chart-live")
            live.scroll_into_view_if_needed()
            box = live.bounding_box()
            assert box and box["height"] > 100, "the interactive chart did not draw"
        images = self.page.locator("img").filter(visible=True)
        assert charts.count() + images.count() >= at_least
        for i in range(images.count()):
            image = images.nth(i)
            image.scroll_into_view_if_needed()
            # Decoded pixels, not a broken-image icon.
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")

    def assert_verdict_first_and_contents_work(self) -> None:
        """The verdict is the first block under the title; contents links reach their sections."""
        page = self.page
        order = page.evaluate(
            """() => [...document.querySelectorAll(
                 '.nbcatalog-header h1, #verdict, .nbc-details, .nbc-toc, .jp-Cell')]
               .map(e => e.id || e.className.split(' ')[0] || e.tagName)"""
        )
        assert order[:4] == ["H1", "verdict", "nbc-details", "nbc-toc"], order[:5]
        verdict = page.locator("#verdict")
        assert verdict.is_visible() and verdict.bounding_box()["y"] < 400
        links = page.locator(".nbc-toc a")
        assert links.count() >= 1
        for i in range(links.count()):
            link = links.nth(i)
            target = link.get_attribute("href")
            assert target and target.startswith("#")
            link.click()
            top = page.evaluate(
                "id => document.getElementById(id).getBoundingClientRect().top", target[1:]
            )
            # In view: at the top, or lower when the page ends before it can scroll further.
            assert page.url.endswith(target) and -5 <= top < 860, (target, top)
            page.evaluate("window.scrollTo(0, 0)")

    def close(self) -> None:
        self.context.close()


def _reports(output: Path) -> dict[str, Path]:
    reports = {}
    for name in (*NOTEBOOKLETS, "fixture_big_table"):
        found = sorted(output.glob(f"{name}/*/report.html"))
        assert found, f"no report of {name} in {output}: {list(output.rglob('run.json'))}"
        reports[name] = found[-1]
    return reports


def _charts_in_notebook(report: Path) -> int:
    """Images the executed notebook's outputs hold (what the report must show as charts)."""
    nb = nbformat.read(report.parent / "notebook.ipynb", as_version=4)
    count = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            count += "image/png" in data or "image/svg+xml" in data
            count += str(data.get("text/html", "")).count("<img")
    return count


def _linked_files(page, selector: str) -> list[Path]:
    hrefs = page.locator(selector).evaluate_all("links => links.map(a => a.href)")
    return [Path(unquote(urlparse(h).path)) for h in hrefs if h.startswith("file:")]


def _tooltip_texts(page) -> list[str]:
    """Texts of Bokeh tooltips now shown (Bokeh draws them inside shadow roots)."""
    return page.evaluate(
        """() => { const out = [];
          const walk = (n) => { if (n.shadowRoot) walk(n.shadowRoot);
            for (const c of n.children || []) walk(c);
            if (n.classList && [...n.classList].some(k => k.includes('tooltip'))
                && n.offsetParent !== null) out.push(n.textContent); };
          walk(document.body); return out.filter(s => s && s.trim()); }"""
    )


def _hover_until_tooltip(page, chart) -> list[str]:
    """Sweep the mouse over a chart's plot area until a tooltip shows; its texts."""
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box, "chart not laid out"
    for y in range(int(box["y"]) + 30, int(box["y"] + box["height"]) - 30, 5):
        for x in range(int(box["x"]) + 40, int(box["x"] + box["width"]) - 10, 12):
            page.mouse.move(x, y)
            texts = _tooltip_texts(page)
            if texts:
                return texts
    return []


def test_every_template_file_shipped_gets_a_report_checked():
    """A template the catalogue failed to load would drop out of the checks silently."""
    import nbcatalog.templates

    shipped = Path(nbcatalog.templates.__file__).parent
    names = {
        nbformat.read(p, as_version=4).metadata["nbcatalog"]["name"]
        for p in shipped.glob("*/*.ipynb")
    }
    assert names == set(NOTEBOOKLETS) and "host_network_summary" in names


@pytest.mark.parametrize("name", NOTEBOOKLETS)
def test_report_renders_offline_with_log_text_escaped(browser, output, name):
    from nbcatalog.catalog import get_template

    report = _reports(output)[name]
    visit = Visit(browser, report)
    try:
        visit.assert_clean()
        page = visit.page
        visit.assert_verdict_first_and_contents_work()
        # The verdict lists the run's findings, the planted incidents among them.
        findings = json.loads((report.parent / "run.json").read_text())["findings"]
        assert findings, f"{name} recorded no findings on the demo estate"
        listed = page.locator("#verdict ol.nbc-top-findings > li")
        assert listed.count() == min(5, len(findings))
        assert findings[0]["title"] in listed.first.inner_text()
        for key_start, words in PLANTED_FINDINGS.get(name, {}).items():
            found = [f for f in findings if f["key"].startswith(key_start)]
            assert found, f"{name}: no {key_start} finding in {[f['key'] for f in findings]}"
            shown = page.locator("#verdict").inner_text()
            assert found[0]["title"] in shown and all(w in shown for w in words)
        for section in get_template(name).sections:
            heading = page.get_by_role("heading", name=section.title, exact=True).first
            heading.scroll_into_view_if_needed()
            assert heading.is_visible(), f"section heading {section.title!r} not visible"
        visit.assert_tables_rendered(at_least=2)  # the report header's and the template's
        charts = _charts_in_notebook(report)
        if name in ("host_summary", "host_logons_summary", "network_flow_summary"):
            assert charts >= 1  # timelines, logon charts, flow charts: drawn on the demo data
        visit.assert_charts_rendered(at_least=charts)
        # Back to the index, the notebook, run.json, each data file: all there.
        files = _linked_files(page, ".nbc-links a[href], .nbc-files a[href]")
        assert report.parent.parent.parent / "index.html" in files
        assert report.parent / "run.json" in files
        assert all(f.exists() for f in files), [f for f in files if not f.exists()]
        assert page.locator("script", has_text="alert(").count() == 0
        body = page.inner_text("body")
        if name in SHOW_COMMAND_LINES:
            # The planted command line is on the page as text, and no dialog opened.
            cell = page.get_by_text(PLANTED, exact=False).filter(visible=True).first
            cell.scroll_into_view_if_needed()
            assert cell.is_visible()
            assert PLANTED in body
        if name == "host_summary":
            # Hovering the alert timeline names the alert under the mouse.
            tips = _hover_until_tooltip(page, page.locator(".nbc-chart-live").first)
            assert "Lane:" in " ".join(tips) and "Time (UTC):" in " ".join(tips), tips
            pdf = report.with_name("report.pdf").read_bytes()  # the job asked for a PDF
            assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000
            shot = os.environ.get("NBCATALOG_SCREENSHOT")
            if shot:
                page.mouse.move(0, 0)
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=shot)
            png = page.screenshot()
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        assert visit.dialogs == [] and visit.errors == [] and visit.blocked == []
    finally:
        visit.close()


def test_a_long_table_is_searched_sorted_and_paged_to_its_last_row(browser, output):
    report = _reports(output)["fixture_big_table"]
    visit = Visit(browser, report)
    try:
        visit.assert_clean()
        page = visit.page
        visit.assert_verdict_first_and_contents_work()
        table = page.locator(".nbc-table.nbc-enhanced").first
        table.scroll_into_view_if_needed()
        status = table.locator(".nbc-status")
        body_rows = table.locator(".nbc-live tbody tr")
        last_id = f"EVT-{BIG_TABLE_ROWS - 1:04d}"
        assert status.inner_text().startswith(f"Rows 1–25 of {BIG_TABLE_ROWS}")
        assert body_rows.count() == 25
        # To the last page: the last event is there, though the template showed 25 rows.
        table.get_by_role("button", name="Last page of events").click()
        assert f"of {BIG_TABLE_ROWS}" in status.inner_text()
        assert body_rows.last.locator("td").nth(1).inner_text() == last_id
        # Search over every row, not just the page shown.
        search = table.get_by_role("searchbox")
        search.fill(last_id)
        assert status.inner_text().startswith(f"Rows 1–1 of 1 (filtered from {BIG_TABLE_ROWS})")
        assert body_rows.count() == 1
        # Hostile strings are found as text and stay text: no dialog, no new element.
        search.fill("<img src=x onerror")
        assert body_rows.count() == 25 and visit.dialogs == []
        assert table.locator(".nbc-live img").count() == 0
        assert "<img src=x onerror=alert(2)>" in body_rows.first.inner_text()
        search.fill(PLANTED)
        assert PLANTED in body_rows.first.inner_text()
        search.fill("")
        # Sorting by EventId, twice: descending, the last event first.
        header = table.locator(".nbc-live th button", has_text="EventId")
        header.click()
        header.click()
        assert body_rows.first.locator("td").nth(1).inner_text() == last_id
        # The full frame is one click away, as CSV with the formula defused.
        csv = report.parent / "data" / "events.csv"
        assert csv in _linked_files(page, ".nbc-files a[href]")
        lines = csv.read_text(encoding="utf-8").splitlines()
        assert len(lines) == BIG_TABLE_ROWS + 1 and "'=cmd|" in csv.read_text(encoding="utf-8")
        # The timeline answers hover with the lane under the mouse, drawn as text.
        tips = " ".join(_hover_until_tooltip(page, page.locator(".nbc-chart-live").first))
        assert "Lane:" in tips and "2024-05-" in tips, tips
        assert visit.dialogs == [] and visit.errors == [] and visit.blocked == []
    finally:
        visit.close()


def test_index_lists_runs_by_job_and_notebooklet_with_working_links(browser, output):
    history = json.loads(
        subprocess.run(
            [sys.executable, "-m", "nbcatalog.cli.main", "history", "--json"]
            + ["--output", str(output)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    jobs = sorted([_job_name(name) for name in NOTEBOOKLETS] + ["broken", "big-table"])
    assert sorted(r["job"] for r in history) == jobs
    visit = Visit(browser, output / "index.html")
    try:
        visit.assert_clean()
        page = visit.page
        for heading in ("By job", "By notebooklet", *jobs):
            assert page.get_by_role("heading", name=heading, exact=True).first.is_visible()
        for name in NOTEBOOKLETS:
            assert page.get_by_role("heading", name=name, exact=True).first.is_visible()
        visit.assert_tables_rendered(at_least=6)
        assert page.locator(".status-failed").first.is_visible()
        assert page.get_by_role("link", name="partial notebook").count() == 2
        hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
        files = [Path(unquote(urlparse(h).path)) for h in hrefs if h.startswith("file:")]
        assert len(files) >= 3 * 2 and all(f.exists() for f in files)
        # Each run shows its verdict; the jump host's printed PDF is linked.
        assert page.locator("p.verdict, td .empty").count() >= len(history)
        assert page.get_by_role("link", name="PDF").count() == 2  # by job and by notebooklet
        # Filters: only failed runs, then only one job's runs.
        rows = page.locator("tr[data-status]")
        page.get_by_label("Filter by status").select_option("failed")
        visible = rows.filter(visible=True)
        assert visible.count() == 2  # the broken job's run, under its job and its notebooklet
        assert all(
            s == "failed" for s in visible.evaluate_all("rs => rs.map(r => r.dataset.status)")
        )
        assert not page.get_by_role("heading", name="jump-host", exact=True).is_visible()
        page.get_by_label("Filter by status").select_option("")
        page.get_by_label("Filter by job").select_option("jump-host")
        assert rows.filter(visible=True).count() == 2
        page.get_by_label("Filter by job").select_option("")
        assert rows.filter(visible=True).count() == rows.count()
        # Following a report link opens that report, still offline and clean.
        page.get_by_role("link", name="report").first.click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/report.html")
        assert page.get_by_role("heading").count() > 2
        visit.assert_clean()
    finally:
        visit.close()
