"""Fixtures for connector tests: a sealed audience straight from privacy.released.

Connector tests exercise one platform module against its fake; the privacy gate that
normally seals audiences is tested in tests/privacy and end to end in tests/sync.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from privacy.released import MEMBER_SCHEMA, ReleasedAudience, _sealed


def sealed_audience(ids: list[str], *, channel: str = "ads", destination: str = "d") -> ReleasedAudience:
    members = pa.table({"customer_id": ids, "consent_seq": list(range(1, len(ids) + 1)),
                        "basis": ["consent"] * len(ids)}, schema=MEMBER_SCHEMA)
    return _sealed(segment="vip", build_id=1, destination=destination, purpose="ads_targeting", channel=channel,
                   at=datetime(2026, 6, 1), members=members, exclusions={}, justification_digest="0" * 64)


@pytest.fixture
def audience() -> ReleasedAudience:
    return sealed_audience(["c1", "c2", "c3"])
