"""Transitions between builds: priority among overlapping segments, (none), merges."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from cdp.errors import NotFoundError
from cdp.reports.transitions import NONE, resolve_point, transitions
from cdp.store import open_store


def _build(con, build_id: int, segment: str, as_of: datetime, members: list[str]) -> None:
    con.execute(
        "INSERT INTO segment_builds (build_id, segment, as_of, built_at, members, control) VALUES (?, ?, ?, now()::TIMESTAMP, ?, 0)",
        [build_id, segment, as_of, len(members)],
    )
    for cid in members:
        con.execute("INSERT INTO segment_members VALUES (?, ?, ?, false)", [build_id, segment, cid])


@pytest.fixture()
def con(tmp_path: Path):
    with open_store(tmp_path / "s.duckdb") as c:
        t1, t2 = datetime(2026, 9, 1), datetime(2026, 10, 1)
        _build(c, 1, "platinum", t1, ["a", "b"])
        _build(c, 2, "gold", t1, ["a", "c", "d"])          # a is in both: counts as platinum
        _build(c, 3, "platinum", t2, ["c"])
        _build(c, 4, "gold", t2, ["a", "e2"])
        c.execute("INSERT INTO customer_merges VALUES ('d', 'e2', now()::TIMESTAMP)")  # d merged into e2
        yield c


def test_matrix_follows_priority_and_merges(con) -> None:
    tr = transitions(con, ["platinum", "gold"], datetime(2026, 9, 1), datetime(2026, 10, 1))
    m = tr.matrix
    assert m[("platinum", "gold")] == 1      # a
    assert m[("platinum", NONE)] == 1        # b left
    assert m[("gold", "platinum")] == 1      # c moved up
    assert m[("gold", "gold")] == 1          # d, now e2, stayed
    assert sum(m.values()) == 4
    assert tr.stayed() == 1


def test_points_default_to_the_two_latest_builds(con) -> None:
    assert resolve_point(con, None, which="to") == datetime(2026, 10, 1)
    assert resolve_point(con, None, which="from") == datetime(2026, 9, 1)
    assert resolve_point(con, "3", which="from") == datetime(2026, 10, 1)
    assert resolve_point(con, "2026-09-15", which="from") == datetime(2026, 9, 15)
    with pytest.raises(NotFoundError):
        resolve_point(con, "999", which="from")
