"""Syncs: push released audiences to destinations (DESTINATIONS.md).

``service`` (``ws.sync``), ``runner`` (one run), ``sending`` (its batches), ``diff``, ``batches``, ``retry``,
``locks``, ``receipts``, ``scheduler``; ``demo`` (what `cdp demo` adds).
"""

from __future__ import annotations

__all__ = ["batches", "demo", "diff", "locks", "receipts", "retry", "runner", "scheduler", "sending", "service"]
