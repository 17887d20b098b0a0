"""report.html in a real browser with the network blocked: every plot drawn, no console error.

Debian's Chromium driven by Playwright (as tests/browser/test_web_browser.py); never runs
``playwright install``. Any request that is not the file itself is aborted and counted.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is missing; install it with scripts/ci/setup-chromium.sh", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")
pytest.importorskip("plotly", reason="plotly (the audit extra) is not installed")


def test_report_draws_every_plot_offline_without_console_errors(tmp_path):
    from workup.audit.demo import order_log, write_order_log
    from workup.audit.run import audit_orders

    src = tmp_path / "log.csv"
    write_order_log(order_log(500, 2), src)
    audit_orders(src, tmp_path / "out", workers=1, as_of=date(2026, 1, 1), use_imported=False, progress=False)
    report = tmp_path / "out" / "report.html"
    expected = report.read_text(encoding="utf-8").count('<div id="plot-')
    assert expected >= 9
    errors: list[str] = []
    blocked: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def route(r):
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.goto(report.as_uri())
            page.wait_for_function(f"document.querySelectorAll('div.js-plotly-plot .main-svg').length >= {expected}",
                                   timeout=30_000)
            drawn = page.evaluate("""() => [...document.querySelectorAll('div[id^="plot-"]')].map(d =>
                [d.id, d.querySelectorAll('.main-svg').length, d.querySelectorAll('.trace, .bars .point, .scatterlayer .point').length])""")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        finally:
            browser.close()
    assert len(drawn) == expected
    for div_id, svgs, marks in drawn:
        assert svgs >= 1, div_id
        assert marks >= 1, f"{div_id} has no drawn data"
    assert errors == []
    assert blocked == []
