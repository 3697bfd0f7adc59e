"""display_alert_timeline's page in headless Chromium: interactive, offline, hostile text inert.

The page is built from a small alert table (no kernel) holding markup in alert names,
opened from disk with the network blocked, as an analyst opens a saved file; and the
same chart inside the sandboxed frame a notebook shows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_browser import Visit, _browser_or_skip, _hover_until_tooltip

from nbcatalog.nblib.alerttimeline import timeline_of

pytestmark = pytest.mark.browser

HOSTILE = ['<img src=x onerror=alert("name")>', "<script>alert('script')</script>"]


@pytest.fixture(scope="module")
def browser():
    chromium = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # --no-sandbox: these machines run as root, where Chromium's sandbox refuses.
        launched = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shown():
    times = pd.to_datetime(
        ["2024-05-01T10:00Z", "2024-05-01T10:20Z", "2024-05-01T11:00Z", "2024-05-01T12:00Z"]
    )
    alerts = pd.DataFrame(
        {
            "TimeGenerated": times,
            "AlertSeverity": ["High", "Medium", "High", "Low"],
            "AlertDisplayName": [*HOSTILE, "RDP brute force", "Rare process"],
            "CompromisedEntity": ["WKSTN-042"] * 4,
            "SystemAlertId": [f"id-{i}" for i in range(4)],
        }
    )
    return timeline_of(alerts, title="Alerts <b>of</b> a run")


def test_the_saved_page_draws_an_interactive_timeline_offline(browser, shown, tmp_path: Path):
    page_file = shown.save(tmp_path / "alerts.html")
    visit = Visit(browser, page_file)
    try:
        page = visit.page
        page.wait_for_selector(".nbc-chart.nbc-enhanced", timeout=15_000)
        live = page.locator(".nbc-chart-live")
        assert live.bounding_box()["height"] > 100, "the Bokeh chart did not draw"
        # The PNG stays for print, hidden once the interactive chart is in place.
        assert not page.locator(".nbc-chart-static").is_visible()
        tips = " ".join(_hover_until_tooltip(page, live))
        assert "AlertDisplayName" in tips and "WKSTN-042" in tips, tips
        # Markup in alert names is text: in the table and in the title, nothing runs.
        body = page.locator("body").inner_text()
        for name in HOSTILE:
            assert name in body
        assert "Alerts <b>of</b> a run" in page.locator("h1").inner_text()
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("table tbody tr").count() == len(shown.alerts)
        visit.assert_clean()  # no console error, no dialog, nothing fetched
    finally:
        visit.close()


def test_the_notebook_frame_draws_the_same_chart(browser, shown, tmp_path: Path):
    holder = tmp_path / "cell.html"
    holder.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f"<body>{shown._repr_mimebundle_()['text/html']}</body></html>",
        encoding="utf-8",
    )
    visit = Visit(browser, holder)
    try:
        frame = visit.page.frame_locator("iframe")
        frame.locator(".nbc-chart.nbc-enhanced").wait_for(timeout=15_000)
        assert frame.locator(".nbc-chart-live canvas").count() >= 1
        visit.assert_clean()
    finally:
        visit.close()
