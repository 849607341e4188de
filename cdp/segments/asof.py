"""``--as-of``: the evaluation time of a segment, in the workspace time zone.

DSL.md: a bare date means 00:00 of that day in the workspace time zone (so that day's
events are not seen); a timestamp is local wall time unless it carries an offset (then it
is converted to local time); no value means now. Both the local wall time (events.ts is
local) and the same instant in UTC (every other store timestamp is UTC) are returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cdp.errors import CDPError, ConfigError

__all__ = ["AsOf", "parse_as_of"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class AsOf:
    """One evaluation instant: ``local`` naive wall time, ``utc`` naive UTC, the zone name."""

    local: datetime
    utc: datetime
    timezone: str

    def __str__(self) -> str:
        return self.local.isoformat(sep=" ")


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown time zone '{timezone}'", key="workspace.timezone") from exc


def parse_as_of(value: str | date | datetime | None, timezone: str, *, now: datetime | None = None) -> AsOf:
    """Parse ``--as-of`` (``2026-01-31``, ``2026-01-31 10:30``, ``2026-01-31T10:30:00+03:00``, ``now``, ``today``).

    >>> parse_as_of("2026-01-31", "Europe/Istanbul").utc
    datetime.datetime(2026, 1, 30, 21, 0)
    """
    tz = _zone(timezone)
    if value is None or (isinstance(value, str) and value.strip().lower() == "now"):
        aware = (now or datetime.now(UTC)).astimezone(tz)
        # whole microseconds are noise in stored builds; keep seconds
        aware = aware.replace(microsecond=0)
    elif isinstance(value, str) and value.strip().lower() == "today":
        today = (now or datetime.now(UTC)).astimezone(tz).date()
        aware = datetime(today.year, today.month, today.day, tzinfo=tz)
    elif isinstance(value, datetime):
        aware = value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
    elif isinstance(value, date):
        aware = datetime(value.year, value.month, value.day, tzinfo=tz)
    else:
        text = value.strip()
        try:
            if _DATE.match(text):
                d = date.fromisoformat(text)
                aware = datetime(d.year, d.month, d.day, tzinfo=tz)
            else:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
                aware = parsed.astimezone(tz) if parsed.tzinfo else parsed.replace(tzinfo=tz)
        except ValueError as exc:
            raise CDPError(
                f"--as-of: cannot read '{text}' as a date or timestamp",
                hint="use YYYY-MM-DD (00:00 local) or YYYY-MM-DD HH:MM[:SS][+HH:MM]",
            ) from exc
    local = aware.replace(tzinfo=None)
    utc = aware.astimezone(UTC).replace(tzinfo=None)
    return AsOf(local=local, utc=utc, timezone=timezone)
