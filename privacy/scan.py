"""PII scan: direct identifiers hiding in traits and properties (PRIVACY.md §2).

Detects emails, Turkish phone numbers, TCKN (checksum), VKN (checksum), TR IBANs (mod-97)
and payment card numbers (IIN prefix + Luhn). Findings carry counts, never values.

False positives are kept low in two ways: every numeric detector validates a checksum,
and the *weak* detectors (a bare number that is a TCKN, VKN, mobile or card number by
chance: 1 in 100 random 11-digit numbers passes the TCKN check, 1 in 10 the others) only
report a column when most of the values that could match do match. In a numeric column
that is most of its non-empty values, which is what a column of identifiers looks like and
a column of order numbers does not. In a column declared as text it is most of its bare
numbers of that length: a TCKN typed into one of three `city` values is reported, a text
column of 11-digit account codes (1% of which pass the check by chance) is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["KINDS", "Finding", "is_tckn", "is_tr_iban", "is_vkn", "luhn_ok", "scan_values"]

KINDS = ("email", "phone", "national_id", "tax_id", "iban", "card")

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# +90 / 0090 / 0 prefix, area or mobile code 2-5xx, then 7 digits with optional separators
_PHONE_PREFIXED = re.compile(
    r"(?<![\d+])(?:\+90|0090|90|0)[\s.-]?\(?[2-5]\d{2}\)?[\s.-]?\d{3}[\s.-]?\d{2}[\s.-]?\d{2}(?!\d)"
)
_PHONE_BARE = re.compile(r"^\(?5\d{2}\)?[\s.-]?\d{3}[\s.-]?\d{2}[\s.-]?\d{2}$")
_DIGITS11 = re.compile(r"(?<!\d)[1-9]\d{10}(?!\d)")
_IBAN = re.compile(r"(?<![A-Za-z0-9])TR\d{2}(?:[ ]?\d){22}(?![0-9])", re.IGNORECASE)
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


@dataclass(frozen=True)
class Finding:
    """``count`` values of ``column`` look like a ``kind`` identifier."""

    column: str
    kind: str
    count: int


def is_tckn(s: str) -> bool:
    """Turkish national id: 11 digits, not starting with 0, two check digits."""
    if len(s) != 11 or not s.isdigit() or s[0] == "0":
        return False
    d = [int(c) for c in s]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return d10 == d[9] and sum(d[:10]) % 10 == d[10]


def is_vkn(s: str) -> bool:
    """Turkish tax number (vergi kimlik no): 10 digits, last one a check digit."""
    if len(s) != 10 or not s.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(s[:9]), 1):
        c1 = (int(ch) + i) % 10
        if c1:
            total += (c1 * 2**i) % 9 or 9
    return (10 - total % 10) % 10 == int(s[9])


def is_tr_iban(s: str) -> bool:
    """TR IBAN: 26 characters, ISO 13616 mod-97 check."""
    s = s.replace(" ", "").upper()
    if len(s) != 26 or not s.startswith("TR") or not s[2:].isdigit():
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _card_like(raw: str) -> bool:
    digits = re.sub(r"[ -]", "", raw)
    if not 13 <= len(digits) <= 19:
        return False
    iin = (
        digits[0] == "4"
        or 51 <= int(digits[:2]) <= 55
        or 2221 <= int(digits[:4]) <= 2720
        or digits[:2] in ("34", "37", "65", "62")
        or digits[:4] == "9792"          # Troy (Türkiye's domestic scheme)
    )
    return iin and luhn_ok(digits)


#: digit counts of a bare number that a weak detector could match by chance
_BARE_LENGTHS = {"national_id": (11,), "tax_id": (10,), "phone": (10, 11), "card": tuple(range(13, 20))}


def _bare_digits(value: str) -> str:
    """The digits of a cell that is one number and nothing else (spaces allowed), else ``""``."""
    compact = "".join(value.split())
    return compact if compact.isascii() and compact.isdigit() else ""


def _kinds_in(value: str) -> tuple[set[str], set[str]]:
    """(strong kinds, weak kinds) found in one value."""
    strong: set[str] = set()
    weak: set[str] = set()
    if "@" in value and _EMAIL.search(value):
        strong.add("email")
    if "TR" in value.upper() and any(is_tr_iban(m.group(0)) for m in _IBAN.finditer(value)):
        strong.add("iban")
    if not any(ch.isdigit() for ch in value):
        return strong, weak
    stripped = value.strip()
    bare = _bare_digits(value)
    if any(is_tckn(m.group(0)) for m in _DIGITS11.finditer(value)):
        (weak if stripped.isdigit() else strong).add("national_id")
    elif len(bare) == 11 and is_tckn(bare):      # written in groups: "100 000 001 46"
        weak.add("national_id")
    if _PHONE_PREFIXED.search(value):
        (weak if _DIGITS11.fullmatch(stripped) else strong).add("phone")
    elif _PHONE_BARE.match(stripped):
        weak.add("phone")
    if len(bare) == 10 and is_vkn(bare):
        weak.add("tax_id")
    for m in _CARD.finditer(value):
        raw = m.group(0)
        if _card_like(raw):
            (weak if raw.isdigit() else strong).add("card")
            break
    return strong, weak


def scan_values(column: str, values: Iterable[str | None], *, weak_share: float = 0.5,
                text: bool = False) -> list[Finding]:
    """Identifiers found in one column's values, as counts per kind (no values kept).

    A strong hit (an email, an IBAN, a formatted phone or card number, a TCKN inside text)
    always counts; a weak one (a bare number that passes a chance-level check) only when at
    least ``weak_share`` of the values that could match are of that kind: of all non-empty
    values, or, for a column declared as ``text``, of its bare numbers of that kind's length
    (so one checksum-valid TCKN among city names counts, one among account codes does not).
    """
    strong_counts: dict[str, int] = {}
    weak_counts: dict[str, int] = {}
    candidates: dict[str, int] = {}
    nonempty = 0
    for v in values:
        if v is None:
            continue
        cell = str(v)
        if not cell.strip():
            continue
        nonempty += 1
        strong, weak = _kinds_in(cell)
        for k in strong:
            strong_counts[k] = strong_counts.get(k, 0) + 1
        for k in weak - strong:
            weak_counts[k] = weak_counts.get(k, 0) + 1
        if text:
            n = len(_bare_digits(cell))
            for k, lengths in _BARE_LENGTHS.items():
                if k not in strong and (k in weak or n in lengths):
                    candidates[k] = candidates.get(k, 0) + 1
    out: dict[str, int] = dict(strong_counts)
    for k, n in weak_counts.items():
        base = candidates.get(k, 0) if text else nonempty
        if base and n / base >= weak_share:
            out[k] = out.get(k, 0) + n
        elif k in out:
            out[k] += n
    return [Finding(column, k, n) for k, n in sorted(out.items(), key=lambda kv: KINDS.index(kv[0]))]
