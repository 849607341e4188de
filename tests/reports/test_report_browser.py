"""The HTML report opened in headless Chromium: no console errors, every chart present and
non-empty, a screenshot kept under test-artifacts/ (issue 9)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cdp.reports.service import ReportService

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _browser_or_skip():  # noqa: ANN202
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright not installed")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed: apt-get install chromium")
    return sync_playwright


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "tr"])
def test_report_renders_in_chromium(report_ws, tmp_path: Path, lang: str) -> None:
    sync_playwright = _browser_or_skip()
    out = tmp_path / f"report-{lang}.html"
    ReportService(report_ws).html(out, lang=lang, as_of="2026-10-02")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(out.as_uri())
            charts = page.eval_on_selector_all(
                "svg.chart",
                "els => els.map(e => [e.dataset.chart, Number(e.dataset.marks), e.getBoundingClientRect().width])",
            )
            headings = page.eval_on_selector_all("section h2", "els => els.map(e => e.textContent)")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"report-{lang}.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert len(headings) == 8
    kinds = {kind for kind, _marks, _w in charts}
    assert {"bar", "line", "heatmap"} <= kinds
    # every chart with data draws marks and has a size on the page
    drawn = [c for c in charts if c[1] > 0]
    assert len(drawn) >= 4 and all(width > 0 for _k, _m, width in charts)
