"""Turkish business days (PRIVACY.md §4): weekends and public holidays excluded.

Used for the 3-business-day deadlines of İYS registration and opt-outs (Law 6563
Regulation) and the 5-business-day notification of standard contracts (KVKK Art. 9).
Türkiye's calendar comes from the ``holidays`` package; religious holidays, including
half-day eves (arife), count as non-business days (the conservative reading).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

__all__ = ["add_business_days", "business_days_between", "is_business_day", "last_day_older_than"]


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("TR", years=year).keys())


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def is_business_day(day: date | datetime) -> bool:
    d = _as_date(day)
    return d.weekday() < 5 and d not in _holidays(d.year)


def add_business_days(start: date | datetime, n: int) -> date:
    """The date ``n`` business days after ``start`` (``start`` itself not counted)."""
    d = _as_date(start)
    while n > 0:
        d += timedelta(days=1)
        if is_business_day(d):
            n -= 1
    return d


def last_day_older_than(end: date | datetime, n: int) -> date:
    """The latest date ``d`` with more than ``n`` business days after it up to ``end``: every
    date on or before it is older than ``n`` business days (a cutoff to compare in SQL)."""
    d = _as_date(end)
    while business_days_between(d, end) <= n:
        d -= timedelta(days=1)
    return d


def business_days_between(start: date | datetime, end: date | datetime) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    a, b = _as_date(start), _as_date(end)
    count = 0
    while a < b:
        a += timedelta(days=1)
        count += is_business_day(a)
    return count
