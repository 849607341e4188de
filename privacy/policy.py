"""The policy the privacy layer enforces, as plain dataclasses.

``privacy/`` may not import ``cdp.config``; ``cdp.compliance`` builds these from
cdp.toml (``[privacy]`` and ``[destinations.NAME]``). Defaults are the strict ones
(PRIVACY.md: a workspace may tighten them, never silently loosen them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

__all__ = [
    "ABROAD_KINDS",
    "AD_KINDS",
    "BUILTIN_PURPOSES",
    "CHANNELS",
    "MESSAGE_CHANNELS",
    "PURPOSE_CHANNELS",
    "TRANSFER_BASES",
    "DestinationTerms",
    "Policy",
    "Purpose",
    "TransferRecord",
    "channel_for",
    "duration_days",
    "parse_duration",
    "subtract_duration",
]

#: purpose -> its own channel (DSL.md, `consented to`); any other purpose -> "any"
PURPOSE_CHANNELS: dict[str, str] = {
    "email_marketing": "email",
    "sms_marketing": "sms",
    "call_marketing": "call",
    "ads_targeting": "ads",
    "analytics": "any",
}
BUILTIN_PURPOSES: tuple[str, ...] = tuple(PURPOSE_CHANNELS)
CHANNELS: tuple[str, ...] = ("email", "sms", "call", "ads", "any")
#: channels of commercial electronic messages (Law 6563), where the TACIR opt-out may apply
MESSAGE_CHANNELS: frozenset[str] = frozenset({"email", "sms", "call"})
#: destination kinds that are ad platforms (min audience size 100 by default)
AD_KINDS: frozenset[str] = frozenset({"meta", "google_ads"})
#: destination kinds whose servers are outside Türkiye unless the config says otherwise
ABROAD_KINDS: frozenset[str] = frozenset({"meta", "google_ads", "mailchimp", "klaviyo"})
#: KVKK Art. 9 (2024): the bases for a regular transfer abroad
TRANSFER_BASES: frozenset[str] = frozenset({"adequacy", "standard_contract", "binding_corporate_rules", "undertaking"})


def channel_for(purpose: str, purposes: dict[str, Purpose] | None = None) -> str:
    """The channel a purpose uses by default (its own, else ``any``)."""
    if purposes and purpose in purposes and purposes[purpose].channel:
        return purposes[purpose].channel
    return PURPOSE_CHANNELS.get(purpose, "any")


@dataclass(frozen=True)
class Purpose:
    """A processing purpose (built in or declared in ``[privacy.purposes.NAME]``)."""

    name: str
    channel: str = "any"
    description: str = ""
    explicit_consent: bool = True     # a purpose that may process special categories must say so


@dataclass(frozen=True)
class TransferRecord:
    """The KVKK Art. 9 basis of a transfer abroad, from ``[destinations.NAME] transfer``."""

    basis: str | None
    signed_at: date | datetime | None = None
    notified_at: date | datetime | None = None

    def missing(self) -> list[str]:
        """What is missing for this record to be complete (empty when complete)."""
        out: list[str] = []
        if not self.basis:
            out.append("basis")
        elif self.basis not in TRANSFER_BASES:
            out.append(f"a valid basis (one of {', '.join(sorted(TRANSFER_BASES))})")
        if self.basis == "standard_contract":
            if self.signed_at is None:
                out.append("signed_at")
            if self.notified_at is None:
                out.append("notified_at (the Board must be notified within 5 business days)")
        return out


@dataclass(frozen=True)
class DestinationTerms:
    """What the gate must know about a destination."""

    name: str
    kind: str
    channel: str | None = None            # None: the purpose's own channel
    country: str | None = None            # ISO-2; None: "TR" unless the kind is abroad
    transfer: TransferRecord | None = None
    min_audience_size: int | None = None  # None: the policy default for ad platforms, none otherwise

    @property
    def abroad(self) -> bool:
        country = (self.country or ("US" if self.kind in ABROAD_KINDS else "TR")).upper()
        return country != "TR"


@dataclass(frozen=True)
class Policy:
    """The ``[privacy]`` section as the privacy layer needs it."""

    tacir_opt_out: bool = False
    min_audience_size_ads: int = 100
    purposes: dict[str, Purpose] = field(
        default_factory=lambda: {p: Purpose(p, channel=c) for p, c in PURPOSE_CHANNELS.items()}
    )
    special_categories: tuple[str, ...] = ()
    data_purposes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    retention: dict[str, str] = field(default_factory=dict)
    periodic_destruction_months: int = 6
    request_due_days: int = 30


_DURATION_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}


def parse_duration(text: str) -> tuple[int, str]:
    """``"3 years"`` -> ``(3, "year")``; units day/week/month/year, singular or plural."""
    parts = str(text).strip().lower().split()
    if len(parts) != 2 or not parts[0].isdigit():
        raise ValueError(f"'{text}' is not a duration like '3 years', '24 months' or '90 days'")
    unit = parts[1].rstrip("s")
    if unit not in _DURATION_UNITS:
        raise ValueError(f"unknown unit in '{text}': use days, weeks, months or years")
    return int(parts[0]), unit


def subtract_duration(at: datetime, text: str) -> datetime:
    """``at`` minus a duration, calendar-aware for months and years (clamped to the month's end)."""
    from datetime import timedelta

    n, unit = parse_duration(text)
    if unit in ("day", "week"):
        return at - timedelta(days=n * _DURATION_UNITS[unit])
    months = n * (12 if unit == "year" else 1)
    y, m = divmod(at.year * 12 + (at.month - 1) - months, 12)
    import calendar

    day = min(at.day, calendar.monthrange(y, m + 1)[1])
    return at.replace(year=y, month=m + 1, day=day)


def duration_days(text: str) -> int:
    """Approximate length in days (for comparing a configured period with a legal minimum)."""
    n, unit = parse_duration(text)
    return n * _DURATION_UNITS[unit]
