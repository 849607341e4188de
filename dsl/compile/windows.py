"""Windows as timestamp literals computed in Python (DSL.md "Windows").

Every cutoff is a literal: ``ts >= start AND ts < end``, never engine date arithmetic.
Day units are local calendar days (naive local wall time, so a DST change does not shift
them); months and years clamp to the end of the month (2026-03-31 minus 1 month is
2026-02-28).
"""

from __future__ import annotations

import calendar
import datetime as _dt

from sqlglot import exp

from dsl import ast

__all__ = ["cutoffs", "date_literal", "parse_duration", "shift", "ts_literal"]


def _minus_months(when: _dt.datetime, months: int) -> _dt.datetime:
    index = when.year * 12 + (when.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def shift(as_of: _dt.datetime, n: int, unit: str) -> _dt.datetime:
    """``as_of - n unit`` in local wall time, months and years clamped to month end."""
    if unit == "day":
        return as_of - _dt.timedelta(days=n)
    if unit == "week":
        return as_of - _dt.timedelta(days=7 * n)
    if unit == "month":
        return _minus_months(as_of, n)
    if unit == "year":
        return _minus_months(as_of, 12 * n)
    raise ValueError(f"unknown unit {unit!r}")


def cutoffs(window: ast.Window | None, as_of: _dt.datetime) -> tuple[_dt.datetime | None, _dt.datetime | None]:
    """``(start, end)`` of a window, ``None`` where the bound is only ``ts < as_of``."""
    if window is None:
        return None, None
    if isinstance(window, ast.Last):
        return shift(as_of, window.n, window.unit), None
    if isinstance(window, ast.DateRange):
        start = _dt.datetime.combine(window.start, _dt.time())
        end = _dt.datetime.combine(window.end + _dt.timedelta(days=1), _dt.time())
        return start, (end if end < as_of else None)
    return _dt.datetime.combine(window.start, _dt.time()), None


def parse_duration(text: str) -> ast.Last:
    """``"12 months"`` to a window (for the RFM settings)."""
    parts = text.strip().split()
    if len(parts) != 2 or not parts[0].isdigit():
        raise ValueError(f"not a duration: {text!r} (expected e.g. '12 months')")
    unit = parts[1].lower().rstrip("s")
    if unit not in ast.UNITS:
        raise ValueError(f"not a duration unit: {parts[1]!r}")
    return ast.Last(int(parts[0]), unit)


def ts_literal(when: _dt.datetime) -> exp.Expression:
    text = when.strftime("%Y-%m-%d %H:%M:%S") + (f".{when.microsecond:06d}" if when.microsecond else "")
    return exp.cast(exp.Literal.string(text), exp.DataType.Type.TIMESTAMP)


def date_literal(day: _dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.Type.DATE)
