"""Sizes over time and who entered or left a segment between two builds."""

from __future__ import annotations

from typing import Any

from cdp.errors import CDPError, NotFoundError
from cdp.segments.storage import StoredBuild, builds_of, get_build, segment_names

__all__ = ["diff", "history", "require_segment"]

SAMPLE = 10


def require_segment(con: Any, segment: str) -> list[StoredBuild]:
    """The builds of ``segment``; NotFoundError with a did-you-mean when it was never built."""
    found = builds_of(con, segment)
    if found:
        return found
    import difflib

    close = difflib.get_close_matches(segment, segment_names(con), n=1)
    raise NotFoundError(
        "segment",
        segment,
        suggestion=close[0] if close else None,
        hint="no stored build of this segment; run `cdp segment build` first",
    )


def history(con: Any, segment: str) -> list[dict[str, Any]]:
    """Every build of ``segment`` (oldest first) with how many entered and left since the previous one."""
    found = require_segment(con, segment)
    rows = con.execute(
        """
        WITH b AS (
            SELECT build_id, lag(build_id) OVER (ORDER BY as_of, build_id) AS prev
            FROM segment_builds WHERE segment = ?
        )
        SELECT b.build_id, count(*) FILTER (WHERE p.customer_id IS NULL) AS entered
        FROM b
        JOIN segment_members m ON m.build_id = b.build_id
        LEFT JOIN segment_members p ON p.build_id = b.prev AND p.customer_id = m.customer_id
        WHERE b.prev IS NOT NULL
        GROUP BY b.build_id
        """,
        [segment],
    ).fetchall()
    entered = {int(bid): int(n) for bid, n in rows}
    out: list[dict[str, Any]] = []
    prev: StoredBuild | None = None
    for build in found:
        item = build.to_dict()
        if prev is None:
            item["entered"] = None
            item["left"] = None
        else:
            e = entered.get(build.build_id, 0)
            item["entered"] = e
            item["left"] = prev.members - (build.members - e)
        out.append(item)
        prev = build
    return out


def diff(con: Any, segment: str, build_a: int | None = None, build_b: int | None = None,
         *, sample: int = SAMPLE) -> dict[str, Any]:
    """Who entered (in B, not in A) and left (in A, not in B); default: the last two builds.

    Control members count as members (they match the rule). Sample ids are pseudonymous
    customer ids, the first ``sample`` in id order so the output is stable.
    """
    found = require_segment(con, segment)
    if (build_a is None) != (build_b is None):
        raise CDPError("give both BUILD_A and BUILD_B, or neither (the last two builds)")
    if build_a is None:
        if len(found) < 2:
            raise CDPError(
                f"segment '{segment}' has only one stored build; nothing to compare",
                hint="build it again later (or with another --as-of), then run diff",
            )
        a, b = found[-2], found[-1]
    else:
        assert build_b is not None
        a, b = get_build(con, segment, int(build_a)), get_build(con, segment, int(build_b))

    def side(x: StoredBuild, y: StoredBuild) -> tuple[int, list[str]]:
        sql = (
            "FROM segment_members m WHERE m.build_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM segment_members o WHERE o.build_id = ? AND o.customer_id = m.customer_id)"
        )
        n = con.execute(f"SELECT count(*) {sql}", [y.build_id, x.build_id]).fetchone()[0]
        ids = [r[0] for r in con.execute(
            f"SELECT m.customer_id {sql} ORDER BY m.customer_id LIMIT ?", [y.build_id, x.build_id, sample]
        ).fetchall()]
        return int(n), ids

    entered, entered_ids = side(a, b)
    left, left_ids = side(b, a)
    return {
        "segment": segment,
        "build_a": a.to_dict(),
        "build_b": b.to_dict(),
        "entered": entered,
        "left": left,
        "stayed": b.members - entered,
        "entered_sample": entered_ids,
        "left_sample": left_ids,
    }
