"""Only the gate seals an audience; copying one with new members breaks the seal."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pyarrow as pa

from privacy.released import MEMBER_SCHEMA, ReleasedAudience, _sealed


def _members(ids: list[str]) -> pa.Table:
    return pa.table({"customer_id": ids, "consent_seq": [1] * len(ids), "basis": ["consent"] * len(ids)},
                    schema=MEMBER_SCHEMA)


def _kwargs() -> dict:
    return dict(segment="gold", build_id=1, destination="meta", purpose="ads_targeting", channel="ads",
                at=datetime(2026, 10, 1), members=_members(["c_1"]), exclusions={}, justification_digest="d")


def test_the_gate_seals_and_a_copy_is_not_sealed() -> None:
    sealed = _sealed(**_kwargs())
    assert sealed.is_sealed()
    forged = dataclasses.replace(sealed, members=_members(["c_1", "c_2"]))
    assert not forged.is_sealed()
    assert not ReleasedAudience(**_kwargs()).is_sealed()
