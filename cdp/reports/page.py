"""HTML building blocks of the self-contained report: no CDN, no script, inline CSS and SVG."""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["table", "section", "page", "esc", "kpis"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#1f3b63;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;opacity:.85;font-size:13px}
main{max-width:1100px;margin:0 auto;padding:12px 24px 40px}
section{background:#fff;border-radius:8px;padding:14px 20px;margin:16px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:18px;margin:4px 0 12px} h3{font-size:15px;margin:14px 0 8px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 10px}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 10px;text-align:right} th{background:#f0f2f5}
td:first-child,th:first-child{text-align:left}
.kpis{display:flex;flex-wrap:wrap;gap:12px}
.kpi{background:#f0f4fa;border-radius:6px;padding:10px 14px;min-width:150px}
.kpi b{display:block;font-size:20px} .kpi span{font-size:12px;color:#555}
.note{font-size:12px;color:#666} .chart{max-width:100%;height:auto;display:block;margin:6px 0}
.verdict{font-weight:600}
"""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def kpis(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="kpis">' + "".join(
        f'<div class="kpi"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for k, v in items
    ) + "</div>"


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def page(*, lang: str, title: str, subtitle: str, sections: Sequence[str], footer: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{esc(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header><main>"
        + "".join(sections)
        + f'<p class="note">{esc(footer)}</p></main></body></html>'
    )
