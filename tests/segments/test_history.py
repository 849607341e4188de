"""history, diff, list and `was in segment` over stored builds."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.segments.conftest import AS_OF, SegWorkspace
from tests.segments.reference import recency

EARLIER = "2025-12-31"

RULES = """
metric recency = days_since(last purchase)

segment recent "Bought in the last 30 days":
    where recency <= 30

segment was_recent:
    where was in segment recent 30 days ago

segment never_built:
    where recency is null
"""


def _recent(ws: SegWorkspace, when: datetime) -> set[str]:
    return {c for c, d in recency(ws.data, when).items() if d is not None and d <= 30}


def test_history_and_diff(ws: SegWorkspace) -> None:
    ws.write_rules("r.seg", RULES)
    first = ws.cli_json("segment", "build", "recent", "--as-of", EARLIER)["recent"]
    second = ws.cli_json("segment", "build", "recent", "--as-of", AS_OF)["recent"]
    a, b = _recent(ws, datetime(2025, 12, 31)), _recent(ws, datetime(2026, 1, 31))
    assert (first["members"], second["members"]) == (len(a), len(b))
    assert b - a and a - b  # the generated data moves people both ways

    hist = ws.cli_json("segment", "history", "recent")
    assert [h["build_id"] for h in hist] == [first["build_id"], second["build_id"]]
    assert hist[0]["entered"] is None
    assert (hist[1]["entered"], hist[1]["left"]) == (len(b - a), len(a - b))
    assert hist[1]["members"] == len(b)

    for args in ((), (str(first["build_id"]), str(second["build_id"]))):
        d = ws.cli_json("segment", "diff", "recent", *args)
        assert (d["entered"], d["left"], d["stayed"]) == (len(b - a), len(a - b), len(a & b))
        assert d["entered_sample"] == sorted(b - a)[:10]
        assert d["left_sample"] == sorted(a - b)[:10]

    result = ws.cli("segment", "diff", "recent", str(first["build_id"]), "999")
    assert result.exit_code == 1


def test_people_output_of_history_and_diff(ws: SegWorkspace) -> None:
    ws.write_rules("r.seg", RULES)
    result = ws.cli("segment", "build", "recent", "--as-of", EARLIER)
    assert result.exit_code == 0 and "recent" in result.stdout
    ws.cli_json("segment", "build", "recent", "--as-of", AS_OF)
    result = ws.cli("segment", "history", "recent")
    assert result.exit_code == 0 and "2025-12-31" in result.output
    result = ws.cli("segment", "diff", "recent")
    assert result.exit_code == 0 and "entered" in result.output


def test_diff_needs_two_builds_and_history_a_known_segment(ws: SegWorkspace) -> None:
    ws.write_rules("r.seg", RULES)
    ws.cli_json("segment", "build", "recent", "--as-of", AS_OF)
    assert ws.cli("segment", "diff", "recent").exit_code == 1
    result = ws.cli("segment", "history", "recnt")
    assert result.exit_code == 1
    assert "did you mean 'recent'" in result.stderr
    from cdp.errors import NotFoundError
    from cdp.workspace import Workspace

    with pytest.raises(NotFoundError) as info:
        Workspace(ws.root).segments.history("recnt")
    assert info.value.suggestion == "recent"


def test_was_in_segment_reads_the_latest_build_at_or_before_the_cutoff(ws: SegWorkspace) -> None:
    ws.write_rules("r.seg", RULES)
    # no earlier build yet: nobody "was" in it (this run's own build of recent is too late)
    out = ws.cli_json("segment", "build", "recent", "was_recent", "--as-of", AS_OF)
    assert out["was_recent"]["members"] == 0
    # a build at 2025-12-31 is at or before 2026-01-31 minus 30 days
    ws.cli_json("segment", "build", "recent", "--as-of", EARLIER)
    # a build after the cutoff must not count
    ws.cli_json("segment", "build", "recent", "--as-of", "2026-01-15")
    out = ws.cli_json("segment", "build", "was_recent", "--as-of", AS_OF)
    expected = _recent(ws, datetime(2025, 12, 31))
    with ws.store() as con:
        got = {r[0] for r in con.execute(
            "SELECT customer_id FROM segment_members WHERE build_id = ?", [out["was_recent"]["build_id"]]
        ).fetchall()}
    assert got == expected and expected


def test_list_shows_latest_builds_and_unbuilt_segments(ws: SegWorkspace) -> None:
    ws.write_rules("r.seg", RULES)
    ws.cli_json("segment", "build", "recent", "--as-of", EARLIER)
    latest = ws.cli_json("segment", "build", "recent", "--as-of", AS_OF)["recent"]
    items = {i["segment"]: i for i in ws.cli_json("segment", "list")}
    assert items["recent"]["build_id"] == latest["build_id"]
    assert items["recent"]["members"] == latest["members"]
    assert items["recent"]["label"] == "Bought in the last 30 days"
    assert items["never_built"]["build_id"] is None
    result = ws.cli("segment", "list")
    assert result.exit_code == 0 and "never_built" in result.output


def test_profile_and_transitions_commands(ws: SegWorkspace) -> None:
    ws.write_rules("r.seg", RULES)
    first = ws.cli_json("segment", "build", "recent", "--as-of", EARLIER)["recent"]
    second = ws.cli_json("segment", "build", "recent", "--as-of", AS_OF)["recent"]
    prof = ws.cli_json("segment", "profile", "recent")
    assert (prof["build_id"], prof["members"]) == (second["build_id"], second["members"])
    assert ws.cli("segment", "profile", "recent").exit_code == 0

    moves = ws.cli_json("segment", "transitions", "recent")
    stayed = sum(m["customers"] for m in moves["matrix"] if m["from"] == m["to"] == "recent")
    a, b = _recent(ws, datetime(2025, 12, 31)), _recent(ws, datetime(2026, 1, 31))
    assert stayed == len(a & b)
    assert first["members"] == len(a)
    assert ws.cli("segment", "transitions").exit_code == 0


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    days=st.lists(st.integers(min_value=0, max_value=400), min_size=2, max_size=2, unique=True),
)
def test_diff_matches_the_two_memberships(ws: SegWorkspace, days: list[int]) -> None:
    """For any two evaluation days: entered = B - A, left = A - B, stayed = A & B."""
    from datetime import timedelta

    ws.write_rules("r.seg", RULES)
    a_day, b_day = (datetime(2026, 1, 31) - timedelta(days=d) for d in sorted(days, reverse=True))
    a_id = ws.cli_json("segment", "build", "recent", "--as-of", a_day.date().isoformat())["recent"]["build_id"]
    b_id = ws.cli_json("segment", "build", "recent", "--as-of", b_day.date().isoformat())["recent"]["build_id"]
    d = ws.cli_json("segment", "diff", "recent", str(a_id), str(b_id))
    a, b = _recent(ws, a_day), _recent(ws, b_day)
    assert (d["entered"], d["left"], d["stayed"]) == (len(b - a), len(a - b), len(a & b))
    assert d["build_b"]["members"] - d["build_a"]["members"] == d["entered"] - d["left"]
