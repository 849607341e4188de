"""Treatment versus control for one campaign (docs/measurement.md).

- **Build**: the segment's latest build with ``as_of`` at or before the campaign start.
- **Treatment**: its members outside the holdout that the release gate lets through at the
  start (consent, suppression, objections) for the campaign's purpose and channel.
- **Control**: its holdout members filtered by the same gate rules at the same time, all but
  the holdout itself, so both groups are comparable. Both sizes are reported before and after.
- **Response**: at least one ``outcome`` event in [start, end] (local dates, inclusive);
  **revenue**: the sum of those events' amounts (0 for non-responders).
- **Pre-period**: the same measures over the equally long period just before the start; the
  groups should look alike there (|standardized difference| < 0.1, no significant gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cdp.campaigns.stats import compare_means, compare_proportions, standardized_difference

__all__ = ["GroupOutcomes", "outcomes", "compare", "ALIKE_SMD"]

ALIKE_SMD = 0.1


@dataclass(frozen=True)
class GroupOutcomes:
    responded: list[bool]
    revenue: list[float]

    @property
    def n(self) -> int:
        return len(self.responded)

    @property
    def responders(self) -> int:
        return sum(self.responded)


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime(start.year, start.month, start.day), datetime(end.year, end.month, end.day) + timedelta(days=1)


def outcomes(con: Any, table: str, outcome: str, start: date, end: date) -> dict[bool, GroupOutcomes]:
    """Per-customer response and revenue for the members in ``table`` (customer_id, treated).

    ``table`` is a temp table name we create ourselves (never user text).
    """
    lo, hi = _window(start, end)
    rows = con.execute(
        f"""
        SELECT g.treated, g.customer_id, count(e.event_id) > 0 AS responded,
               coalesce(sum(e.amount), 0)::DOUBLE AS revenue
        FROM {table} g
        LEFT JOIN customer_merges mg ON mg.old_id = g.customer_id
        LEFT JOIN events e ON e.customer_id = coalesce(mg.new_id, g.customer_id)
             AND e.event_type = ? AND e.ts >= ? AND e.ts < ?
        GROUP BY ALL ORDER BY g.customer_id
        """,
        [outcome, lo, hi],
    ).fetchall()
    out: dict[bool, GroupOutcomes] = {True: GroupOutcomes([], []), False: GroupOutcomes([], [])}
    for treated, _cid, responded, revenue in rows:
        out[bool(treated)].responded.append(bool(responded))
        out[bool(treated)].revenue.append(float(revenue))
    return out


def compare(groups: dict[bool, GroupOutcomes]) -> dict[str, Any]:
    """Uplift of treatment over control with intervals and p-values."""
    t, c = groups[True], groups[False]
    rate = compare_proportions(t.responders, t.n, c.responders, c.n)
    money = compare_means(t.revenue, c.revenue)
    incremental = None
    if money.difference.estimate is not None:
        d = money.difference
        incremental = {
            "estimate": d.estimate * t.n,
            "low": d.low * t.n if d.low is not None else None,
            "high": d.high * t.n if d.high is not None else None,
        }
    return {
        "treatment": {"members": t.n, "responders": t.responders, "revenue": sum(t.revenue)},
        "control": {"members": c.n, "responders": c.responders, "revenue": sum(c.revenue)},
        "response_rate": rate.to_dict(),
        "revenue_per_member": money.to_dict(),
        "incremental_revenue": incremental,
        "standardized_difference": {
            "response": standardized_difference([float(x) for x in t.responded], [float(x) for x in c.responded]),
            "revenue": standardized_difference(t.revenue, c.revenue),
        },
    }
