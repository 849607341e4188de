"""Segment builds: memberships with their control group, history, diff and preview.

``SegmentService`` (``ws.segments``) is the API; it is imported lazily so that
``cdp segment check`` starts fast.
"""

from __future__ import annotations

from typing import Any

from cdp.segments.asof import AsOf, parse_as_of

__all__ = ["AsOf", "SegmentService", "parse_as_of"]


def __getattr__(name: str) -> Any:
    if name == "SegmentService":
        from cdp.segments.service import SegmentService

        return SegmentService
    raise AttributeError(name)
