"""Plain-Python answers for the test rules, computed from the generated data, not from SQL."""

from __future__ import annotations

import hashlib
from datetime import datetime

from tests.segments.conftest import Dataset


def spend(data: Dataset, start: datetime, end: datetime) -> dict[str, float]:
    """sum(purchase.amount) in [start, end) per customer (0 for customers without any)."""
    out = {c["customer_id"]: 0.0 for c in data.customers}
    for e in data.events:
        if e["event_type"] == "purchase" and start <= e["ts"] < end and e["amount"] is not None:
            out[e["customer_id"]] += e["amount"]
    return out


def recency(data: Dataset, as_of: datetime) -> dict[str, int | None]:
    """days_since(last purchase) at as_of (calendar days), None without purchases before as_of."""
    last: dict[str, datetime] = {}
    for e in data.events:
        is_later = e["customer_id"] not in last or e["ts"] > last[e["customer_id"]]
        if e["event_type"] == "purchase" and e["ts"] < as_of and is_later:
            last[e["customer_id"]] = e["ts"]
    return {
        c["customer_id"]: ((as_of.date() - last[c["customer_id"]].date()).days if c["customer_id"] in last else None)
        for c in data.customers
    }


def in_control(segment: str, customer_id: str, pct: float) -> bool:
    """DSL.md, "Holdout"."""
    digest = hashlib.sha256(f"{segment}:{customer_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 10000 < pct * 100
