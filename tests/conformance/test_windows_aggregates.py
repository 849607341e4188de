"""Values and windows of DSL.md (aggregates, windows, days_since, arithmetic, let) on hand data.

Rule file: rules/windows.seg. As-of is the bare date 2026-03-31 (00:00 local, Europe/Istanbul),
so the purchase at 2026-03-31 00:00 and everything later is never seen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Ws, customer, make_workspace

AS_OF = "2026-03-31"
RULES = Path(__file__).parent / "rules"

CUSTOMERS = [
    customer("A", credit=100, city="İstanbul", signup_date="2024-05-01"),
    customer("B", credit=50, city="Ankara", signup_date="2026-03-01"),
    customer("C", credit=0, city="Ankara", signup_date="2025-01-10"),
    customer("D", credit=30, city="İzmir", signup_date="2025-06-01"),
    customer("E", credit=10, city="Bursa", signup_date="2025-01-31"),
    customer("F", credit=None, city="İstanbul", signup_date="2025-02-01"),
    customer("G", credit=5, city="Ankara", signup_date="2025-03-01"),
    customer("H", credit=20, city="İzmir", signup_date="2024-01-01"),
]

EVENTS = [
    # A: the day before as_of (days_since 1, inside `over last 1 day`), then at and after as_of.
    {"code": "A", "ts": "2026-03-30 23:59:59", "amount": 100, "quantity": 3},
    {"code": "A", "ts": "2026-03-31 00:00:00", "amount": 5000, "quantity": 4},
    {"code": "A", "ts": "2026-04-01 10:00:00", "amount": 9999},
    # B: exactly as_of - 1 month (2026-03-31 - 1 month clamps to 2026-02-28).
    {"code": "B", "ts": "2026-02-28 00:00:00", "amount": 200, "category": "beverages", "quantity": 7},
    # C: one second before that.
    {"code": "C", "ts": "2026-02-27 23:59:59", "amount": 300, "category": "beverages"},
    # D: first at the start of as_of - 1 day, one just before it.
    {"code": "D", "ts": "2026-03-30 00:00:00", "amount": 50, "category": "food"},
    {"code": "D", "ts": "2026-03-29 23:59:59", "amount": 70, "category": "food"},
    # E: never buys.
    {"code": "E", "ts": "2026-03-01 10:00:00", "event_type": "visit"},
    # F: from 2025-01-01 to 2025-01-31 holds 1000 + 10; 2025-02-01 00:00 is outside.
    {"code": "F", "ts": "2025-01-01 00:00:00", "amount": 1000, "category": "food"},
    {"code": "F", "ts": "2025-01-31 23:00:00", "amount": 10, "category": "food"},
    {"code": "F", "ts": "2025-02-01 00:00:00", "amount": 1, "category": "food"},
    # G: exactly as_of - 1 year is inside, one second before is outside.
    {"code": "G", "ts": "2025-03-31 00:00:00", "amount": 40},
    {"code": "G", "ts": "2025-03-30 23:59:59", "amount": 65},
    {"code": "G", "ts": "2025-06-01 12:00:00", "amount": 40, "event_type": "return"},
    # H: a purchase without amount, two categories.
    {"code": "H", "ts": "2026-01-15 10:00:00", "amount": None, "category": "food"},
    {"code": "H", "ts": "2026-01-16 10:00:00", "amount": 20, "category": "beverages"},
]

EXPECTED: dict[str, set[str]] = {
    "seen_any": set("ABCDFGH"),
    "spend_a": {"A"},
    "last_1_day": {"A", "D"},
    "last_1_month": {"A", "B", "D"},
    "last_4_weeks": {"A", "D"},
    "last_30_days": {"A", "D"},
    "last_1_year": set("ABCDGH"),
    "year_exact": {"G"},
    "months_12": {"G"},
    "from_to": {"F"},
    "from_to_between": {"F"},
    "since_date": {"A", "B", "D"},
    "days_1": {"A", "D"},
    "days_31": {"B"},
    "first_2": {"D"},
    "never": {"E"},
    "recent_not": {"A", "D"},
    "not_recent": set("BCFGH"),
    "zero_sum": set("BCEFGH"),
    "avg_null": set("BCEFGH"),
    "count_prop": {"H"},
    "inner_where": {"B", "C", "H"},
    "inner_where_window": {"B"},
    "distinct_2": {"H"},
    "max_1000": {"F"},
    "min_1": {"F"},
    "avg_60": {"D"},
    "qty_sum": {"B"},
    "returns": {"G"},
    "prec_mul": {"A"},
    "prec_paren": {"A"},
    "left_sub": {"A"},
    "left_div": {"A"},
    "unary": {"A"},
    "div_zero": set("BCEFGH"),
    "div_zero_not": set(),
    "big_spender": {"F"},
    "early": {"A", "C", "E", "H"},
    "signup_30": {"B"},
    "ankara": {"B", "C", "G"},
    "upper_agg": {"A", "D"},
    "upper_days": {"B"},
    "upper_from": {"F"},
    "upper_since": {"B"},
    "upper_null": {"E"},
    "plural_units": {"A", "D"},
    "null_arith": {"E", "F"},  # E: no purchase (recency null); F: credit null
    "distinct_zero": {"A", "E", "G"},  # count_distinct over no (non-null) values is 0
    "min_null": {"E"},
    "decimal_div": {"B"},  # 50 / 4 = 12.5, not 12
    "date_literal": {"B"},
    "decimal_literal": {"B"},
    "neg_let": {"A", "B"},
    "avg_order_60": {"D"},  # a metric built from a metric: (50 + 70) / 2
    "signup_2025": {"C", "D", "E", "F", "G"},
    "half_let": {"B"},
    "new_signup": {"B"},
    "from_future": {"A"},  # a window reaching past as_of still stops at as_of
    "since_future": {"A"},
    "before_first": set("ABCDEFGH"),
}


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    return make_workspace(module_dir / "ws", CUSTOMERS, EVENTS,
                          segments={"windows.seg": (RULES / "windows.seg").read_text("utf-8")})


@pytest.fixture(scope="module")
def built(ws: Ws) -> dict[str, set[str]]:
    return ws.build(AS_OF)


def test_every_segment_of_the_file_is_built(built: dict[str, set[str]]) -> None:
    assert set(built) == set(EXPECTED)


@pytest.mark.parametrize("segment", sorted(EXPECTED))
def test_build_members(built: dict[str, set[str]], segment: str) -> None:
    assert built[segment] == EXPECTED[segment]


@pytest.mark.parametrize("segment", ["last_1_day", "last_1_month", "days_1", "qty_sum", "never"])
def test_preview_agrees_with_build(ws: Ws, segment: str) -> None:
    assert ws.preview(segment, AS_OF) == EXPECTED[segment]


def test_timestamp_as_of_sees_the_midnight_event(ws: Ws) -> None:
    """A timestamp as_of one second after midnight sees A's purchase at 2026-03-31 00:00."""
    got = ws.build("2026-03-31 00:00:01", "spend_a", "qty_sum")
    assert got["spend_a"] == set()  # A now has 100 + 5000
    assert got["qty_sum"] == {"A", "B"}  # A: 3 + 4


def test_timestamp_as_of_moves_the_windows(ws: Ws) -> None:
    """as_of 2026-03-31 12:00: `over last 1 day` is [03-30 12:00, 03-31 12:00); days_since uses
    the date of as_of, so A's purchase at 03-31 00:00 is 0 days ago and D's on 03-30 is 1."""
    got = ws.build("2026-03-31 12:00:00", "last_1_day", "days_1")
    assert got["last_1_day"] == {"A"}
    assert got["days_1"] == {"D"}


def test_as_of_with_an_offset_is_converted_to_the_workspace_zone(ws: Ws) -> None:
    """2026-03-30 21:00 UTC is 2026-03-31 00:00 in Istanbul: the same answers as the bare date."""
    got = ws.build("2026-03-30 21:00:00+00:00", "spend_a", "last_1_day", "days_1")
    assert got == {name: EXPECTED[name] for name in ("spend_a", "last_1_day", "days_1")}
