"""Connectors: ``sources`` read raw rows from files and databases; ``destinations`` push released
audiences to platforms. Third-party destinations plug in through the ``cdp.connectors`` entry-point
group (docs/destinations.md)."""

from __future__ import annotations

__all__ = ["sources", "destinations"]
