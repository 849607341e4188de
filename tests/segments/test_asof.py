"""--as-of: dates are local midnight, timestamps local wall time, offsets converted (DSL.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdp.errors import CDPError, ConfigError
from cdp.segments import parse_as_of

ZONES = ["Europe/Istanbul", "Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"]


@given(d=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), zone=st.sampled_from(ZONES))
def test_a_bare_date_is_local_midnight(d: date, zone: str) -> None:
    got = parse_as_of(d.isoformat(), zone)
    assert got.local == datetime(d.year, d.month, d.day)
    aware = datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(zone))
    assert got.utc == aware.astimezone(UTC).replace(tzinfo=None)


@given(
    instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2080, 1, 1)),
    offset_minutes=st.integers(min_value=-12 * 60, max_value=14 * 60),
    zone=st.sampled_from(ZONES),
)
def test_an_offset_timestamp_is_the_same_instant(instant: datetime, offset_minutes: int, zone: str) -> None:
    tz = timezone(timedelta(minutes=offset_minutes))
    aware = instant.replace(microsecond=0, tzinfo=tz)
    got = parse_as_of(aware.isoformat(), zone)
    assert got.utc == aware.astimezone(UTC).replace(tzinfo=None)
    assert got.local == aware.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def test_examples() -> None:
    assert parse_as_of("2026-01-31", "Europe/Istanbul").utc == datetime(2026, 1, 30, 21, 0)
    assert parse_as_of("2026-01-31 10:30", "Europe/Istanbul").local == datetime(2026, 1, 31, 10, 30)
    assert parse_as_of("2026-01-31T10:30:00Z", "Europe/Istanbul").local == datetime(2026, 1, 31, 13, 30)
    fixed = datetime(2026, 3, 1, 12, 0, 0, 123, tzinfo=UTC)
    assert parse_as_of(None, "Europe/Istanbul", now=fixed).local == datetime(2026, 3, 1, 15, 0, 0)
    assert parse_as_of("today", "Europe/Istanbul", now=fixed).local == datetime(2026, 3, 1)


@pytest.mark.parametrize("bad", ["2026-02-30", "31.01.2026", "soon", ""])
def test_bad_values(bad: str) -> None:
    with pytest.raises(CDPError) as info:
        parse_as_of(bad, "Europe/Istanbul")
    assert "--as-of" in str(info.value)


def test_unknown_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        parse_as_of("2026-01-01", "Mars/Olympus")
