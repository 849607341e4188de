"""`cdp segment profile NAME`: who is in a segment, next to all customers.

Reads the segment's latest build at or before ``as_of`` and compares its members with all
customers on: spend, orders and recency over the last 12 months (purchase events), top
product categories (when events have a ``category`` column), the distribution of every
low-cardinality text trait (city, business type, ...), and consent coverage per purpose.
Counts under the small-cell threshold are returned as they are; the CLI and the HTML report
show them as "<10".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cdp.errors import NotFoundError

__all__ = ["segment_profile", "columns_of"]

_TRAIT_MAX_DISTINCT = 50


def columns_of(con: Any, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {name: dtype for name, dtype in rows}


def _twelve_months_before(as_of: datetime) -> datetime:
    year, month = as_of.year - 1, as_of.month
    import calendar

    day = min(as_of.day, calendar.monthrange(year, month)[1])
    return as_of.replace(year=year, day=day)


def segment_profile(
    con: Any, segment: str, as_of_local: datetime, as_of_utc: datetime, *, purchase: str = "purchase", top: int = 5
) -> dict[str, Any]:
    build = con.execute(
        "SELECT build_id, as_of FROM segment_builds WHERE segment = ? AND as_of <= ? ORDER BY as_of DESC, build_id DESC LIMIT 1",
        [segment, as_of_local],
    ).fetchone()
    if build is None:
        raise NotFoundError("build of segment", segment, hint=f"run `cdp segment build {segment}` first")
    build_id, build_as_of = build
    since = _twelve_months_before(build_as_of)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _pm AS SELECT DISTINCT customer_id, control FROM segment_members WHERE build_id = ?",
        [build_id],
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _pv AS
        SELECT c.customer_id,
               coalesce(sum(e.amount) FILTER (WHERE e.ts >= ? AND e.ts < ?), 0)::DOUBLE AS spend_12m,
               count(e.event_id) FILTER (WHERE e.ts >= ? AND e.ts < ?) AS orders_12m,
               date_diff('day', max(e.ts)::DATE, ?::DATE) AS recency
        FROM customers c LEFT JOIN events e
          ON e.customer_id = c.customer_id AND e.event_type = ? AND e.ts < ?
        GROUP BY c.customer_id
        """,
        [since, build_as_of, since, build_as_of, build_as_of, purchase, build_as_of],
    )
    total = con.execute("SELECT count(*) FROM customers").fetchone()[0]

    def summary(where: str) -> dict[str, Any]:
        row = con.execute(
            f"""SELECT count(*), avg(spend_12m), median(spend_12m), avg(orders_12m),
                       median(recency), avg((orders_12m > 0)::INT)
                FROM _pv WHERE {where}"""
        ).fetchone()
        keys = ("customers", "spend_12m_avg", "spend_12m_median", "orders_12m_avg", "recency_median_days", "buyer_share")
        return {k: (float(v) if isinstance(v, (int, float)) and k != "customers" else v) for k, v in zip(keys, row)}

    seg_where = "customer_id IN (SELECT customer_id FROM _pm)"
    members = con.execute("SELECT count(*), count(*) FILTER (WHERE control) FROM _pm").fetchone()
    out: dict[str, Any] = {
        "segment": segment,
        "build_id": build_id,
        "as_of": build_as_of,
        "members": members[0],
        "control": members[1],
        "share": members[0] / total if total else 0.0,
        "customers": total,
        "segment_values": summary(seg_where),
        "all_values": summary("true"),
    }

    ev_cols = columns_of(con, "events")
    if "category" in ev_cols:
        rows = con.execute(
            f"""
            SELECT category,
                   sum(amount) FILTER (WHERE customer_id IN (SELECT customer_id FROM _pm))::DOUBLE AS seg,
                   sum(amount)::DOUBLE AS all_
            FROM events WHERE event_type = ? AND ts >= ? AND ts < ? AND category IS NOT NULL
            GROUP BY category ORDER BY seg DESC NULLS LAST LIMIT {int(top)}
            """,
            [purchase, since, build_as_of],
        ).fetchall()
        seg_total = sum(r[1] or 0 for r in rows) or 1
        all_total = sum(r[2] or 0 for r in rows) or 1
        out["top_categories"] = [
            {"category": c, "segment_share": (s or 0) / seg_total, "all_share": (a or 0) / all_total} for c, s, a in rows
        ]

    traits: dict[str, list[dict[str, Any]]] = {}
    for name, dtype in columns_of(con, "customers").items():
        if dtype != "VARCHAR" or name == "customer_id":
            continue
        distinct = con.execute(f'SELECT count(DISTINCT "{name}") FROM customers').fetchone()[0]
        if not 0 < distinct <= _TRAIT_MAX_DISTINCT:
            continue
        rows = con.execute(
            f"""
            SELECT "{name}" AS v,
                   count(*) FILTER (WHERE customer_id IN (SELECT customer_id FROM _pm)) AS seg, count(*) AS all_
            FROM customers GROUP BY 1 ORDER BY seg DESC, v LIMIT {int(top)}
            """
        ).fetchall()
        traits[name] = [{"value": v, "segment": int(s), "all": int(a)} for v, s, a in rows]
    out["traits"] = traits

    rows = con.execute(
        """
        WITH latest AS (
            SELECT customer_id, purpose, status, expires_at FROM consent_events
            WHERE customer_id IN (SELECT customer_id FROM _pm) AND effective_at <= ?
            QUALIFY row_number() OVER (PARTITION BY customer_id, purpose ORDER BY effective_at DESC, seq DESC) = 1
        )
        SELECT purpose, count(*) FILTER (WHERE status = 'granted' AND (expires_at IS NULL OR expires_at > ?))
        FROM latest GROUP BY purpose ORDER BY purpose
        """,
        [as_of_utc, as_of_utc],
    ).fetchall()
    out["consent_coverage"] = [
        {"purpose": p, "granted": int(n), "share": int(n) / members[0] if members[0] else 0.0} for p, n in rows
    ]
    con.execute("DROP TABLE IF EXISTS _pm")
    con.execute("DROP TABLE IF EXISTS _pv")
    return out
