"""Normalization of direct identifiers before they are pseudonymized (PRIVACY.md §1).

The same person must give the same pseudonym whatever the spelling in the source:
emails are trimmed and lower-cased, phones become E.164 (Turkish numbers in any common
form: ``0532 123 45 67``, ``+90 (532) 123-45-67``, ``905321234567``, ``5321234567``,
``0090 532 ...``), tax ids and national ids are reduced to their digits. Every function
returns ``None`` when the value is not a usable identifier of that kind; callers count
such rows, they never log the value.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "COUNTRY_CODES",
    "canonical_kind",
    "nfc",
    "normalize_email",
    "normalize_identifier",
    "normalize_phone",
]

# calling codes of the countries a Turkish wholesaler meets most; extend as needed
COUNTRY_CODES: dict[str, str] = {
    "TR": "90", "DE": "49", "NL": "31", "GB": "44", "FR": "33", "AT": "43", "BE": "32",
    "US": "1", "AZ": "994", "GE": "995", "BG": "359", "GR": "30", "CY": "357", "RU": "7",
    "UA": "380", "IQ": "964", "IR": "98", "SY": "963",
}

_KIND_ALIASES = {
    "vkn": "tax_id",
    "tax_number": "tax_id",
    "tckn": "national_id",
    "gsm": "phone",
    "mobile": "phone",
    "e_mail": "email",
    "mail": "email",
}

_EMAIL_RE = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]{2,}$")
_PHONE_CHARS_RE = re.compile(r"[\s\-./()\u00a0]")
_DIGITS_RE = re.compile(r"\D")
_EXT_HINT_RE = re.compile(r"(?i)[x#]|dahili")
_EXT_RE = re.compile(r"(?i)\s*(?:ext\.?|x|dahili|#)\s*\d+\s*$")


def nfc(text: str) -> str:
    """Unicode NFC form (so ``İ`` typed two ways compares equal)."""
    return unicodedata.normalize("NFC", text)


def canonical_kind(kind: str) -> str:
    """The canonical identifier kind: ``vkn`` → ``tax_id``, ``tckn`` → ``national_id``."""
    k = kind.strip().lower()
    return _KIND_ALIASES.get(k, k)


def normalize_email(value: str) -> str | None:
    """Trimmed, lower-cased email; ``None`` when the value is not an email address."""
    if not isinstance(value, str):
        return None
    ascii_only = value.isascii()   # NFC leaves ASCII as it is
    text = (value if ascii_only else nfc(value)).strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.lower() if ascii_only else nfc(text.lower())
    if not _EMAIL_RE.match(text):
        return None
    return text


def _tr_national(digits: str) -> str | None:
    """A Turkish national significant number: 10 digits, mobile (5xx) or geographic/850."""
    if len(digits) == 10 and digits[0] in "23458":
        return "+90" + digits
    return None


def normalize_phone(value: str, default_country: str = "TR") -> str | None:
    """E.164 phone number (``+905321234567``); ``None`` when the value is not a valid number.

    Numbers without a country prefix are read in ``default_country`` (only the national
    trunk ``0`` is stripped). Turkish numbers are checked for length and leading digit;
    other countries only for an E.164 length of 8–15 digits.
    """
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = (value if value.isascii() else nfc(value)).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):   # the common all-digits form needs no cleaning
        # an extension ("x12", "dahili 12") is not part of the identifier
        if _EXT_HINT_RE.search(text):
            text = _EXT_RE.split(text)[0]
        text = _PHONE_CHARS_RE.sub("", text)
        if text.endswith(".0") and text[:-2].isdigit():  # a number that went through a spreadsheet
            text = text[:-2]
    plus = text.startswith("+")
    body = text[1:] if plus else text
    if not body.isdigit():
        return None
    if not plus and body.startswith("00"):
        plus, body = True, body[2:]
    if plus:
        if body.startswith("90"):
            return _tr_national(body[2:])
        if 8 <= len(body) <= 15 and body[0] != "0":
            return "+" + body
        return None
    country = default_country.upper()
    if country == "TR":
        if len(body) == 12 and body.startswith("90"):
            return _tr_national(body[2:])
        if len(body) == 11 and body.startswith("0"):
            return _tr_national(body[1:])
        if len(body) == 10:
            return _tr_national(body)
        return None
    code = COUNTRY_CODES.get(country)
    if code is None:
        return None
    national = body.removeprefix("0")
    full = code + national
    if 8 <= len(full) <= 15:
        return "+" + full
    return None


def _digits(value: str) -> str:
    return _DIGITS_RE.sub("", nfc(value))


def normalize_identifier(kind: str, value: object) -> str | None:
    """Normalize ``value`` as an identifier of ``kind``; ``None`` when it is not one.

    ``email``, ``phone``, ``tax_id``/``vkn`` (10 digits), ``national_id``/``tckn``
    (11 digits, not starting with 0), ``card`` (digits); any other kind (a source
    system's own key) is NFC-normalized and trimmed.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        if isinstance(value, float) and value.is_integer():
            value = str(int(value))
        else:
            value = str(value)
    k = canonical_kind(kind)
    if k == "email":
        return normalize_email(value)
    if k == "phone":
        return normalize_phone(value)
    if k == "tax_id":
        d = _digits(value)
        return d if len(d) == 10 else None
    if k == "national_id":
        d = _digits(value)
        return d if len(d) == 11 and d[0] != "0" else None
    if k == "card":
        d = _digits(value)
        return d if 4 <= len(d) <= 24 else None
    text = nfc(value).strip()
    return text or None
