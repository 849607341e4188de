"""The report of a real demo workspace (ingested, models trained, two build dates, a campaign,
dry-run syncs) opened in headless Chromium: every section's chart is drawn with data, no
console error, no identifier anywhere in the file; a screenshot kept under test-artifacts/."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from cdp.demo import run_demo
from cdp.workspace import Workspace
from tests.reports.test_report_browser import ARTIFACTS, CHROMIUM, _browser_or_skip

END = date(2026, 10, 31)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path, dict]:
    root = tmp_path_factory.mktemp("demo") / "ws"
    summary = run_demo(root, customers=1500, seed=3, end_date=END)
    ws = Workspace(root)
    ws.segments.build(as_of="2026-10-01")           # two build dates before the report: transitions
    ws.segments.build(as_of="2026-11-01")
    from cdp.campaigns.service import CampaignService

    CampaignService(ws).create("ekim_icecek", "beverages_lovers", "2026-10-01", "2026-10-30")
    out = root / "reports" / "demo.html"
    ws.reports.html(out, lang="tr", as_of="2026-11-02")
    return ws, out, summary


@pytest.mark.browser
def test_every_chart_has_data_in_chromium(demo_report) -> None:
    sync_playwright = _browser_or_skip()
    _ws, out, _summary = demo_report
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(out.as_uri())
            per_section = page.eval_on_selector_all(
                "section",
                "els => els.map(s => [s.id, Array.from(s.querySelectorAll('svg.chart')).map(c => Number(c.dataset.marks))])",
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "demo-report-tr.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    charts = dict((sid, marks) for sid, marks in per_section)
    for sid in ("segments", "rfm", "clusters", "transitions", "campaigns", "consent"):
        assert charts.get(sid) and all(m > 0 for m in charts[sid]), f"section {sid}: {charts.get(sid)}"


def test_report_holds_no_identifier_and_stays_small(demo_report) -> None:
    ws, out, _summary = demo_report
    text = out.read_text(encoding="utf-8")
    assert len(text.encode()) < 10 * 1024 * 1024
    data = ws.root / "data"
    emails = re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", (data / "customers.csv").read_text(encoding="utf-8"))
    assert emails
    lowered = text.lower()
    assert not any(e.strip().lower() in lowered for e in emails[:500])
    phones = {re.sub(r"\D", "", p)[-10:] for p in re.findall(r"\+?\d[\d ()-]{9,}\d", (data / "customers.csv").read_text(encoding="utf-8"))}
    phones = {p for p in phones if len(p) == 10}
    assert phones
    runs = re.findall(r"\d{10,}", text)        # any digit run long enough to hold a phone number
    assert not any(p in run for run in runs for p in phones)
    assert "@" not in re.sub(r"<[^>]+>", "", text)


def test_campaign_report_json_from_the_cli(demo_report) -> None:
    from typer.testing import CliRunner

    from cdp.cli import app

    ws, _out, _summary = demo_report
    result = CliRunner().invoke(app, ["campaign", "report", "ekim_icecek", "--json"], env={"CDP_WORKSPACE": str(ws.root)})
    assert result.exit_code == 0, result.output
    r = json.loads(result.stdout)
    assert r["groups"]["treatment_after"] > 0 and r["groups"]["control_after"] > 0
    assert r["verdict"] in {"uplift", "negative", "no_significant_difference"}
