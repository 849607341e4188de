"""Campaign measurement against the segment holdout."""

from __future__ import annotations

__all__: list[str] = []
