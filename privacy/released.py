"""The released audience: the only thing a destination accepts (PRIVACY.md §4).

Only :func:`privacy.gate.release` creates one; destinations check
``isinstance(x, ReleasedAudience)`` and ``x.is_sealed()`` and refuse anything else.
Members are kept as a pyarrow table (``customer_id``, ``consent_seq``, ``basis``) so a
million-member audience stays compact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

__all__ = ["ReleasedAudience", "MEMBER_SCHEMA"]

MEMBER_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("consent_seq", pa.int64()),   # the consent event that justified the release (null: opt-out basis)
        ("basis", pa.string()),        # consent | opt_out
    ]
)

_SEAL = object()


@dataclass(frozen=True)
class ReleasedAudience:
    """Members of one build released to one destination for one purpose at one time."""

    segment: str
    build_id: int
    destination: str
    purpose: str
    channel: str
    at: datetime
    members: pa.Table
    exclusions: dict[str, int]
    justification_digest: str
    removals: pa.Table | None = None          # customers who must leave (withdrawn, objected, erased)
    meta: dict[str, Any] = field(default_factory=dict)
    # not an init field: dataclasses.replace() builds a new, unsealed audience
    _seal: object = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return self.members.num_rows

    def is_sealed(self) -> bool:
        return self._seal is _SEAL

    def customer_ids(self) -> list[str]:
        return self.members.column("customer_id").to_pylist()


def _sealed(**kwargs: Any) -> ReleasedAudience:
    """Internal: used by privacy.gate only."""
    audience = ReleasedAudience(**kwargs)
    object.__setattr__(audience, "_seal", _SEAL)
    return audience
