"""Did-you-mean: the closest known name to an unknown one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest"]


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The known name most like ``name`` (case-insensitive), or None when none is close."""
    pool = {c.lower(): c for c in candidates}
    if name.lower() in pool:
        return pool[name.lower()]
    match = difflib.get_close_matches(name.lower(), list(pool), n=1, cutoff=0.6)
    return pool[match[0]] if match else None
