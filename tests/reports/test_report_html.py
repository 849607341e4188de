"""The HTML report: one self-contained file, both languages, small cells hidden."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from cdp.reports.service import ReportService


class _Checker(HTMLParser):
    """Collects tags; fails on external resources or scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href") and v and re.match(r"https?:|//", v):
                self.external.append(v)


def test_report_has_every_section_and_no_external_resource(report_ws, tmp_path) -> None:
    out = tmp_path / "r.html"
    info = ReportService(report_ws).html(out, lang="en", as_of="2026-10-02")
    text = out.read_text(encoding="utf-8")
    assert info["bytes"] == len(text.encode())
    checker = _Checker()
    checker.feed(text)
    assert checker.external == [] and "script" not in checker.tags
    for anchor in ("overview", "segments", "rfm", "clusters", "transitions", "campaigns", "consent", "syncs"):
        assert f'id="{anchor}"' in text
    assert 'data-chart="bar"' in text and 'data-chart="heatmap"' in text
    # the tiny segment has 3 members: shown as <10, never as 3
    assert re.search(r"<td>tiny</td><td>&lt;10</td>", text)


def test_turkish_report(report_ws, tmp_path) -> None:
    out = tmp_path / "tr.html"
    ReportService(report_ws).html(out, lang="tr", as_of="2026-10-02")
    text = out.read_text(encoding="utf-8")
    assert 'lang="tr"' in text and "Müşteri segmentasyonu raporu" in text and "Amaç ve kanala göre izin kapsamı" in text


def test_transitions_default_to_disjoint_segments(report_ws) -> None:
    tr = ReportService(report_ws).transitions()
    assert tr.segments == ["gold", "platinum", "tiny"]   # largest first, all pairwise disjoint
    seen = {*range(0, 80), *range(5, 90), *range(290, 293)}   # customers at either point
    assert sum(tr.matrix.values()) == len(seen)


def test_profile_compares_with_all_customers(report_ws) -> None:
    p = ReportService(report_ws).profile("gold", as_of="2026-10-02")
    assert p["members"] == 70 and p["customers"] == 300
    assert {row["value"] for row in p["traits"]["city"]} >= {"İstanbul"}
    assert p["consent_coverage"][0]["purpose"] == "email_marketing"
    assert p["top_categories"] and 0.99 < sum(c["segment_share"] for c in p["top_categories"]) < 1.01
