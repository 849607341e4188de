"""Hashing and normalization helpers shared by the platform modules.

Each platform module decides which of these it applies (DESTINATIONS.md, "Identifier
normalization and hashing"); the rules differ, so nothing here picks a platform.

Turkish names: ``turkish_lower`` lower-cases with the Turkish rule for dotted and dotless
I (``İ`` → ``i``, ``I`` → ``ı``), never producing a combining dot, then NFC. Generic
Unicode lower-casing turns ``İ`` into ``i`` + U+0307 and ``I`` into ``i``; for names
written in Turkish the Turkish rule is what the person typed (docs/destinations.md).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from privacy.normalize import normalize_email, normalize_phone

__all__ = [
    "email_lower",
    "is_sha256_hex",
    "letters_only",
    "md5_hex",
    "phone_digits",
    "phone_e164",
    "redact",
    "sha256_hex",
    "turkish_lower",
]

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(value: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 bytes."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def md5_hex(value: str) -> str:
    """Lower-case hex MD5 (Mailchimp's subscriber hash)."""
    return hashlib.md5(value.encode("utf-8"), usedforsecurity=False).hexdigest()


def is_sha256_hex(value: str) -> bool:
    return bool(_SHA256_RE.match(value))


def turkish_lower(text: str) -> str:
    """Lower-case with the Turkish I rule (``İ``→``i``, ``I``→``ı``), trimmed, NFC."""
    text = unicodedata.normalize("NFC", text.strip())
    text = text.replace("İ", "i").replace("I", "ı")
    return unicodedata.normalize("NFC", text.lower())


def letters_only(text: str) -> str:
    """Keep Unicode letters only (Meta: 'non-letters removed', Turkish letters kept)."""
    return "".join(ch for ch in text if ch.isalpha())


def email_lower(value: str | None) -> str | None:
    """Trimmed, lower-cased email or None when unusable."""
    if not value:
        return None
    return normalize_email(value)


def phone_e164(value: str | None, default_country: str = "TR") -> str | None:
    """E.164 with '+' (``+905321234567``) or None."""
    if not value:
        return None
    return normalize_phone(value, default_country)


def phone_digits(value: str | None, default_country: str = "TR") -> str | None:
    """Digits with the country code and no '+' (``905321234567``), Meta's form."""
    e164 = phone_e164(value, default_country)
    return e164[1:] if e164 else None


def redact(value: str | None) -> str | None:
    """How a plain identifier appears in a dry-run sample: its SHA-256, marked."""
    return None if value is None else f"sha256:{sha256_hex(value)}"
