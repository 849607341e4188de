"""Small, dependency-free SVG charts for the offline HTML report.

Each function returns an ``<svg class="chart" data-chart=KIND data-marks=N>`` string; N is the
number of drawn data marks, which the browser test reads to check that a chart is not empty.
All text goes through :func:`html.escape`. No JavaScript is needed to draw them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

__all__ = ["bar_chart", "line_chart", "heatmap", "scatter", "interval_chart", "PALETTE"]

PALETTE = ["#2f6db5", "#e07b39", "#3a9a5b", "#c94a4a", "#8b62b8", "#8c6d4f", "#d36fb0", "#7f7f7f", "#b5b02f", "#2fb5b0"]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _open(kind: str, width: int, height: int, title: str, marks: int) -> str:
    return (
        f'<svg class="chart" data-chart="{_e(kind)}" data-marks="{marks}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{_e(title)}">'
        f"<title>{_e(title)}</title>"
    )


def _empty(kind: str, width: int, height: int, title: str, note: str) -> str:
    return (
        _open(kind, width, height, title, 0)
        + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#777">{_e(note)}</text></svg>'
    )


def _fmt(v: float) -> str:
    if abs(v) >= 1_000_000:
        return f"{v / 1_000_000:.1f}M"
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    if float(v).is_integer():
        return f"{int(v)}"
    return f"{v:.2f}"


def bar_chart(
    items: Sequence[tuple[str, float | None, str | None]] | Sequence[tuple[str, float | None]],
    *,
    title: str,
    width: int = 640,
    bar_height: int = 22,
    empty_note: str = "no data",
) -> str:
    """Horizontal bars. An item is (label, value) or (label, value, shown_text); a None value
    (e.g. a suppressed small cell) draws no bar and shows its text."""
    rows = [(it[0], it[1], it[2] if len(it) > 2 else None) for it in items]  # type: ignore[misc]
    if not rows:
        return _empty("bar", width, 60, title, empty_note)
    label_w = 200
    height = bar_height * len(rows) + 20
    top = max((v for _, v, _ in rows if v is not None), default=0) or 1
    parts = []
    marks = 0
    for i, (label, value, shown) in enumerate(rows):
        y = 10 + i * bar_height
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_height * 0.65:.1f}" text-anchor="end" font-size="12">{_e(label)}</text>')
        if value is not None and value > 0:
            w = (width - label_w - 70) * value / top
            parts.append(
                f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{bar_height - 6}" fill="{PALETTE[0]}"><title>{_e(label)}: {_e(shown or _fmt(value))}</title></rect>'
            )
            marks += 1
        else:
            w = 0
        text = shown if shown is not None else (_fmt(value) if value is not None else "")
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height * 0.65:.1f}" font-size="12">{_e(text)}</text>')
    return _open("bar", width, height, title, marks) + "".join(parts) + "</svg>"


def line_chart(
    series: dict[str, Sequence[tuple[str, float]]],
    *,
    title: str,
    width: int = 640,
    height: int = 260,
    empty_note: str = "no data",
) -> str:
    """One line per series over shared x labels (e.g. build dates)."""
    xs: list[str] = []
    for points in series.values():
        for x, _ in points:
            if x not in xs:
                xs.append(x)
    values = [v for points in series.values() for _, v in points]
    if not xs or not values:
        return _empty("line", width, height, title, empty_note)
    left, right, top, bottom = 50, 150, 15, 30
    vmax = max(values) or 1
    step = (width - left - right) / max(len(xs) - 1, 1)
    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#999"/>']
    parts.append(f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="10">{_e(_fmt(vmax))}</text>')
    for i, x in enumerate(xs):
        if len(xs) <= 12 or i % math.ceil(len(xs) / 12) == 0:
            parts.append(f'<text x="{left + i * step:.1f}" y="{height - 10}" text-anchor="middle" font-size="10">{_e(x)}</text>')
    marks = 0
    for s, (name, points) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        coords = [
            (left + xs.index(x) * step, height - bottom - (height - top - bottom) * v / vmax) for x, v in points
        ]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for x, y in coords:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
            marks += 1
        parts.append(
            f'<text x="{width - right + 8}" y="{top + 14 * s + 10}" font-size="11" fill="{colour}">{_e(name)}</text>'
        )
    return _open("line", width, height, title, marks) + "".join(parts) + "</svg>"


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    cells: dict[tuple[str, str], tuple[float | None, str]],
    *,
    title: str,
    cell: int = 56,
    row_title: str = "",
    col_title: str = "",
    empty_note: str = "no data",
) -> str:
    """A grid; ``cells[(row, col)] = (value for the colour or None, text shown)``."""
    if not rows or not cols or not cells:
        return _empty("heatmap", 400, 80, title, empty_note)
    left, top = 130, 40
    width, height = left + cell * len(cols) + 10, top + cell * len(rows) + 10
    vmax = max((v for v, _ in cells.values() if v is not None), default=0) or 1
    parts = [f'<text x="{left + cell * len(cols) / 2}" y="14" text-anchor="middle" font-size="11">{_e(col_title)}</text>']
    for j, c in enumerate(cols):
        parts.append(f'<text x="{left + cell * j + cell / 2}" y="{top - 6}" text-anchor="middle" font-size="11">{_e(c)}</text>')
    marks = 0
    for i, r in enumerate(rows):
        parts.append(f'<text x="{left - 6}" y="{top + cell * i + cell / 2 + 4}" text-anchor="end" font-size="11">{_e(r)}</text>')
        for j, c in enumerate(cols):
            value, text = cells.get((r, c), (None, ""))
            shade = 0.08 + 0.85 * (value / vmax) if value else 0.04
            parts.append(
                f'<rect x="{left + cell * j}" y="{top + cell * i}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{PALETTE[0]}" fill-opacity="{shade:.2f}"><title>{_e(r)} × {_e(c)}: {_e(text)}</title></rect>'
                f'<text x="{left + cell * j + cell / 2 - 1}" y="{top + cell * i + cell / 2 + 4}" text-anchor="middle" '
                f'font-size="11">{_e(text)}</text>'
            )
            marks += 1
    if row_title:
        parts.append(f'<text x="10" y="{top - 6}" font-size="11">{_e(row_title)}</text>')
    return _open("heatmap", width, height, title, marks) + "".join(parts) + "</svg>"


def scatter(
    points: Sequence[tuple[float, float, str]],
    *,
    title: str,
    width: int = 520,
    height: int = 360,
    empty_note: str = "no data",
) -> str:
    """Points (x, y, group) coloured by group, with a legend."""
    if not points:
        return _empty("scatter", width, height, title, empty_note)
    groups = sorted({g for _, _, g in points})
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (width - 170) / ((x1 - x0) or 1)
    sy = (height - 40) / ((y1 - y0) or 1)
    parts = [f'<rect x="20" y="20" width="{width - 170}" height="{height - 40}" fill="none" stroke="#ccc"/>']
    for x, y, g in points:
        colour = PALETTE[groups.index(g) % len(PALETTE)]
        parts.append(
            f'<circle cx="{20 + (x - x0) * sx:.1f}" cy="{height - 20 - (y - y0) * sy:.1f}" r="2.5" fill="{colour}" fill-opacity="0.7"/>'
        )
    for k, g in enumerate(groups):
        colour = PALETTE[k % len(PALETTE)]
        parts.append(f'<circle cx="{width - 140}" cy="{30 + 16 * k}" r="5" fill="{colour}"/>')
        parts.append(f'<text x="{width - 130}" y="{34 + 16 * k}" font-size="11">{_e(g)}</text>')
    return _open("scatter", width, height, title, len(points)) + "".join(parts) + "</svg>"


def interval_chart(
    items: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    title: str,
    width: int = 640,
    row: int = 34,
    percent: bool = True,
    empty_note: str = "no data",
) -> str:
    """Estimates with their confidence intervals around a zero line (uplift results)."""
    rows = [it for it in items if it[1] is not None and it[2] is not None and it[3] is not None]
    if not rows:
        return _empty("interval", width, 60, title, empty_note)
    left, right = 200, 40
    lo = min(0.0, *(r[2] for r in rows))  # type: ignore[misc]
    hi = max(0.0, *(r[3] for r in rows))  # type: ignore[misc]
    span = (hi - lo) or 1
    height = row * len(rows) + 30

    def sx(v: float) -> float:
        return left + (width - left - right) * (v - lo) / span

    shown = (lambda v: f"{v * 100:+.1f}%") if percent else (lambda v: _fmt(v))
    parts = [f'<line x1="{sx(0):.1f}" y1="5" x2="{sx(0):.1f}" y2="{height - 20}" stroke="#999" stroke-dasharray="3,3"/>']
    for i, (label, est, low, high) in enumerate(rows):
        y = 20 + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" font-size="12">{_e(label)}</text>')
        parts.append(f'<line x1="{sx(low):.1f}" y1="{y}" x2="{sx(high):.1f}" y2="{y}" stroke="{PALETTE[0]}" stroke-width="3"/>')  # type: ignore[arg-type]
        parts.append(
            f'<circle cx="{sx(est):.1f}" cy="{y}" r="5" fill="{PALETTE[1]}"><title>{_e(shown(est))} '  # type: ignore[arg-type]
            f"[{_e(shown(low))}, {_e(shown(high))}]</title></circle>"  # type: ignore[arg-type]
        )
        parts.append(f'<text x="{sx(high) + 6:.1f}" y="{y + 4}" font-size="11">{_e(shown(est))}</text>')  # type: ignore[arg-type]
    return _open("interval", width, height, title, len(rows)) + "".join(parts) + "</svg>"
