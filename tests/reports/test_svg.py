"""The report's SVG charts: well-formed, escaped, and they count their marks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cdp.reports.svg import bar_chart, heatmap, interval_chart, line_chart, scatter


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_each_chart_is_well_formed_and_counts_marks() -> None:
    charts = {
        "bar": bar_chart([("platinum", 50), ("gold", 200), ("<10", None, "<10")], title="sizes"),
        "line": line_chart({"gold": [("2026-01", 10), ("2026-02", 12)]}, title="history"),
        "heatmap": heatmap(["5", "4"], ["1", "2"], {("5", "1"): (3, "3"), ("4", "2"): (None, "<10")}, title="rfm"),
        "scatter": scatter([(0.1, 0.2, "A"), (0.3, 0.1, "B")], title="pca"),
        "interval": interval_chart([("response", 0.05, 0.01, 0.09)], title="uplift"),
    }
    expected_marks = {"bar": 2, "line": 2, "heatmap": 4, "scatter": 2, "interval": 1}
    for kind, svg in charts.items():
        root = _parse(svg)
        assert root.get("data-chart") == kind
        assert int(root.get("data-marks")) == expected_marks[kind]


def test_empty_data_says_so_with_zero_marks() -> None:
    root = _parse(bar_chart([], title="nothing", empty_note="veri yok"))
    assert root.get("data-marks") == "0"
    assert "veri yok" in ET.tostring(root, encoding="unicode")


def test_labels_are_escaped() -> None:
    svg = bar_chart([('<script>alert("x")</script> & İstanbul', 3)], title="t")
    assert "<script>" not in svg
    assert "İstanbul" in _parse(svg).find("{http://www.w3.org/2000/svg}text").text
