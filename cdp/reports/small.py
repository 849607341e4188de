"""Small-cell suppression: reports travel further than the store, so no group small enough
to point at a person is shown (PRIVACY.md §1, issue 9)."""

from __future__ import annotations

__all__ = ["shown", "suppressed", "DEFAULT_MIN_CELL"]

DEFAULT_MIN_CELL = 10


def suppressed(n: int | None, threshold: int = DEFAULT_MIN_CELL) -> bool:
    """True when a count is positive but below the threshold."""
    return n is not None and 0 < n < threshold


def shown(n: int | None, threshold: int = DEFAULT_MIN_CELL) -> str:
    """The text a report shows for a customer count: "<10" for 1..9, the number otherwise."""
    if n is None:
        return "–"
    if suppressed(n, threshold):
        return f"<{threshold}"
    return f"{n:,}".replace(",", " ")
