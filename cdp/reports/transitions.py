"""Who moved between segments from one build to another (`cdp segment transitions`).

A "point" is a build id or a date: the state of each segment at a point is its latest stored
build with ``as_of`` at or before that point's ``as_of``. Customers in several of the chosen
segments count once, in the first segment of the given order (list tiers from best to worst,
e.g. platinum, gold, silver), so the matrix adds up to the number of customers seen at either
point. Customers merged between the builds are followed through ``customer_merges``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cdp.errors import NotFoundError

__all__ = ["Transitions", "transitions", "resolve_point", "NONE"]

NONE = "(none)"


@dataclass(frozen=True)
class Transitions:
    segments: list[str]
    from_as_of: datetime
    to_as_of: datetime
    matrix: dict[tuple[str, str], int]      # (from segment or NONE, to segment or NONE) -> customers

    def to_dict(self) -> dict[str, Any]:
        return {
            "segments": self.segments,
            "from_as_of": self.from_as_of.isoformat(),
            "to_as_of": self.to_as_of.isoformat(),
            "matrix": [{"from": a, "to": b, "customers": n} for (a, b), n in sorted(self.matrix.items())],
        }

    def stayed(self) -> int:
        return sum(n for (a, b), n in self.matrix.items() if a == b and a != NONE)


def resolve_point(con: Any, point: str | int | date | datetime | None, *, which: str) -> datetime:
    """A build id or a date → an as_of; None → the latest (to) or second latest (from) as_of."""
    if point is None:
        latest = con.execute("SELECT max(as_of) FROM segment_builds").fetchone()[0]
        if latest is None:
            raise NotFoundError("build", "(any)", hint="run `cdp segment build` first")
        if which == "to":
            return latest
        # the latest build on an earlier day: builds minutes apart are not worth comparing
        earlier = con.execute("SELECT max(as_of) FROM segment_builds WHERE as_of::DATE < ?::DATE", [latest]).fetchone()[0]
        return earlier if earlier is not None else latest
    if isinstance(point, datetime):
        return point
    if isinstance(point, date):
        return datetime(point.year, point.month, point.day)
    text = str(point).strip()
    if text.isdigit():
        row = con.execute("SELECT as_of FROM segment_builds WHERE build_id = ?", [int(text)]).fetchone()
        if row is None:
            raise NotFoundError("build", text, hint="`cdp segment history NAME` lists build ids")
        return row[0]
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise NotFoundError("build", text, hint="give a build id or a date like 2026-10-01") from exc


_STATE_SQL = """
WITH chosen AS (
    SELECT segment, max(as_of) AS as_of FROM segment_builds
    WHERE as_of <= ? AND list_contains(?::VARCHAR[], segment) GROUP BY segment
), builds AS (
    SELECT max(b.build_id) AS build_id, b.segment FROM segment_builds b
    JOIN chosen c ON b.segment = c.segment AND b.as_of = c.as_of GROUP BY b.segment
), ranked AS (
    SELECT coalesce(mg.new_id, m.customer_id) AS customer_id, m.segment,
           list_position(?::VARCHAR[], m.segment) AS priority
    FROM segment_members m JOIN builds USING (build_id)
    LEFT JOIN customer_merges mg ON mg.old_id = m.customer_id
)
SELECT customer_id, arg_min(segment, priority) AS segment FROM ranked GROUP BY customer_id
"""


def transitions(con: Any, segments: list[str], from_as_of: datetime, to_as_of: datetime) -> Transitions:
    """The matrix of customers between the chosen segments at two points."""
    if not segments:
        raise NotFoundError("segment", "(none given)", hint="name the segments, e.g. --segments platinum,gold,silver")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _tr_from AS {_STATE_SQL}", [from_as_of, segments, segments])
    con.execute(f"CREATE OR REPLACE TEMP TABLE _tr_to AS {_STATE_SQL}", [to_as_of, segments, segments])
    rows = con.execute(
        """
        SELECT coalesce(f.segment, ?) AS a, coalesce(t.segment, ?) AS b, count(*)
        FROM _tr_from f FULL OUTER JOIN _tr_to t ON f.customer_id = t.customer_id
        GROUP BY ALL
        """,
        [NONE, NONE],
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS _tr_from")
    con.execute("DROP TABLE IF EXISTS _tr_to")
    return Transitions(segments, from_as_of, to_as_of, {(a, b): int(n) for a, b, n in rows})
