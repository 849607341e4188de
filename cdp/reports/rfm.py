"""The RFM grid of the report: customers per (R, F) score, computed by the rule compiler."""

from __future__ import annotations

from typing import Any

__all__ = ["rfm_grid"]


def rfm_grid(ws: Any, con: Any, when: Any) -> dict[tuple[int, int], int] | None:
    """None until the rule compiler can evaluate ``rfm.r`` and ``rfm.f`` (filled in at integration)."""
    return None
