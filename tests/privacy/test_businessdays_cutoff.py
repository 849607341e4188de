"""The İYS-registration cutoff equals counting business days one consent at a time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.businessdays import business_days_between, last_day_older_than


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)), st.integers(0, 5))
def test_cutoff_matches_the_count(end: date, n: int) -> None:
    now = datetime(end.year, end.month, end.day, 15, 30)
    cutoff = last_day_older_than(now, n)
    for back in range(0, 25):
        d = end - timedelta(days=back)
        assert (business_days_between(d, now) > n) == (d <= cutoff)


def test_a_holiday_week() -> None:
    # Republic Day 2026-10-29 (Thursday) is no business day: after Wed 28 come only Fri 30 and
    # Mon 2 (exactly 2), after Tue 27 three, so the 27th is the last day older than 2
    assert last_day_older_than(datetime(2026, 11, 2, 9, 0), 2) == date(2026, 10, 27)
