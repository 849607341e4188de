"""Data of the HTML report's sections, aggregated in SQL (never per-customer rows, except a
small sample of feature vectors for the cluster projection)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cdp.reports.transitions import Transitions, transitions

__all__ = [
    "overview",
    "latest_segments",
    "size_history",
    "consent_coverage",
    "last_syncs",
    "disjoint_segments",
    "transition_points",
    "transition_matrix",
]


def overview(con: Any, as_of_local: datetime) -> dict[str, Any]:
    since = as_of_local.replace(year=as_of_local.year - 1) if not (as_of_local.month == 2 and as_of_local.day == 29) \
        else as_of_local.replace(year=as_of_local.year - 1, day=28)
    customers = con.execute("SELECT count(*) FROM customers").fetchone()[0]
    events = con.execute("SELECT count(*) FROM events WHERE ts < ?", [as_of_local]).fetchone()[0]
    buyers, revenue = con.execute(
        "SELECT count(DISTINCT customer_id), coalesce(sum(amount), 0)::DOUBLE FROM events "
        "WHERE event_type = 'purchase' AND ts >= ? AND ts < ?",
        [since, as_of_local],
    ).fetchone()
    consents = con.execute("SELECT count(*) FROM consent_events").fetchone()[0]
    return {"customers": customers, "events": events, "buyers_12m": buyers, "revenue_12m": revenue,
            "consent_events": consents}


def latest_segments(con: Any, as_of_local: datetime | None = None) -> list[dict[str, Any]]:
    """Each segment's latest build at or before ``as_of_local`` (all builds when None)."""
    rows = con.execute(
        """
        SELECT segment, build_id, as_of, members, control FROM segment_builds
        WHERE ?::TIMESTAMP IS NULL OR as_of <= ?::TIMESTAMP
        QUALIFY row_number() OVER (PARTITION BY segment ORDER BY as_of DESC, build_id DESC) = 1
        ORDER BY members DESC, segment
        """,
        [as_of_local, as_of_local],
    ).fetchall()
    return [dict(zip(("segment", "build_id", "as_of", "members", "control"), r)) for r in rows]


def size_history(con: Any, as_of_local: datetime, limit_points: int = 24) -> dict[str, list[tuple[str, int]]]:
    """Members per segment and build date (the day's last build), up to ``as_of_local``."""
    rows = con.execute(
        """
        SELECT segment, as_of::DATE AS d, arg_max(members, build_id) FROM segment_builds
        WHERE as_of <= ? GROUP BY segment, d ORDER BY d
        """,
        [as_of_local],
    ).fetchall()
    out: dict[str, list[tuple[str, int]]] = {}
    for seg, d, members in rows:
        out.setdefault(seg, []).append((d.isoformat(), int(members)))
    return {k: v[-limit_points:] for k, v in out.items()}


def consent_coverage(con: Any, as_of_utc: datetime) -> list[dict[str, Any]]:
    """Customers by purpose × channel: granted (unexpired), withdrawn or refused, no record."""
    total = con.execute("SELECT count(*) FROM customers").fetchone()[0]
    rows = con.execute(
        """
        WITH latest AS (
            SELECT customer_id, purpose, channel, status, expires_at FROM consent_events
            WHERE customer_id IS NOT NULL AND effective_at <= ?
              AND customer_id IN (SELECT customer_id FROM customers)
            QUALIFY row_number() OVER (PARTITION BY customer_id, purpose, channel ORDER BY effective_at DESC, seq DESC) = 1
        )
        SELECT purpose, channel,
               count(*) FILTER (WHERE status = 'granted' AND (expires_at IS NULL OR expires_at > ?)),
               count(*) FILTER (WHERE status IN ('withdrawn', 'refused')),
               count(*)
        FROM latest GROUP BY purpose, channel ORDER BY purpose, channel
        """,
        [as_of_utc, as_of_utc],
    ).fetchall()
    return [
        {"purpose": p, "channel": ch, "granted": int(g), "withdrawn": int(w), "no_record": int(total - n)}
        for p, ch, g, w, n in rows
    ]


def last_syncs(con: Any, limit: int = 20) -> list[dict[str, Any]]:
    rows = con.execute(
        """
        SELECT sync, destination, segment, purpose, status, dry_run, adds, removes, exclusions, started_at
        FROM sync_runs
        QUALIFY row_number() OVER (PARTITION BY sync ORDER BY started_at DESC, run_id DESC) = 1
        ORDER BY started_at DESC LIMIT ?
        """,
        [limit],
    ).fetchall()
    keys = ("sync", "destination", "segment", "purpose", "status", "dry_run", "adds", "removes", "exclusions", "started_at")
    out = []
    for r in rows:
        d = dict(zip(keys, r))
        ex = d["exclusions"]
        d["exclusions"] = json.loads(ex) if isinstance(ex, str) else (ex or {})
        out.append(d)
    return out


def disjoint_segments(con: Any, candidates: list[dict[str, Any]]) -> list[str]:
    """A greedy set of non-overlapping segments of the latest builds, largest first: the
    default rows and columns of the transition matrix (value tiers and RFM segments are
    disjoint by construction)."""
    chosen: list[tuple[str, int]] = []
    for seg in sorted(candidates, key=lambda s: (-int(s["members"]), s["segment"])):
        if not seg["members"]:
            continue
        overlaps = False
        for _name, other in chosen:
            n = con.execute(
                "SELECT count(*) FROM segment_members a JOIN segment_members b USING (customer_id) "
                "WHERE a.build_id = ? AND b.build_id = ?",
                [seg["build_id"], other],
            ).fetchone()[0]
            if n:
                overlaps = True
                break
        if not overlaps:
            chosen.append((seg["segment"], seg["build_id"]))
    return [name for name, _ in chosen]


def transition_points(con: Any, as_of_local: datetime | None = None) -> tuple[datetime, datetime] | None:
    """(from, to): the latest build time up to ``as_of_local`` and the latest one on an earlier
    day, so builds minutes apart (a build and a sync's rebuild) are not compared."""
    row = con.execute(
        "SELECT max(as_of) FROM segment_builds WHERE ?::TIMESTAMP IS NULL OR as_of <= ?::TIMESTAMP",
        [as_of_local, as_of_local],
    ).fetchone()
    if row is None or row[0] is None:
        return None
    to = row[0]
    prev = con.execute("SELECT max(as_of) FROM segment_builds WHERE as_of::DATE < ?::DATE", [to]).fetchone()
    if prev is None or prev[0] is None:
        return None
    return prev[0], to


def transition_matrix(con: Any, segments: list[str], as_of_local: datetime | None = None) -> Transitions | None:
    points = transition_points(con, as_of_local)
    if points is None or not segments:
        return None
    return transitions(con, segments, points[0], points[1])
