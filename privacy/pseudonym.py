"""Keyed pseudonyms of identifiers and the customer surrogate key (PRIVACY.md §1).

``id_hash = HMAC-SHA256(pseudonym_key, kind ":" normalized)`` in hex, stored in
``identities``; ``customer_id = "c_" + first 20 hex of HMAC-SHA256(customer_id_key,
smallest id_hash of the customer when first seen)``, so the same data ingested in any
order gives the same ids and neither reveals anything without the keys.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING

from privacy.normalize import canonical_kind, normalize_identifier

if TYPE_CHECKING:
    from privacy.keys import KeyStore

__all__ = ["CUSTOMER_ID_SECRET", "PSEUDONYM_SECRET", "Pseudonymizer"]

PSEUDONYM_SECRET = "pseudonym"
CUSTOMER_ID_SECRET = "customer_id"


class Pseudonymizer:
    """Turns normalized identifiers into keyed hashes and picks customer ids."""

    __slots__ = ("_ck", "_pk")

    def __init__(self, pseudonym_key: bytes, customer_id_key: bytes) -> None:
        if len(pseudonym_key) < 32 or len(customer_id_key) < 32:
            raise ValueError("pseudonym keys must be at least 32 bytes")
        self._pk = bytes(pseudonym_key)
        self._ck = bytes(customer_id_key)

    def __repr__(self) -> str:
        return "Pseudonymizer(<keys hidden>)"

    @classmethod
    def from_keystore(cls, ks: KeyStore) -> Pseudonymizer:
        return cls(ks.secret(PSEUDONYM_SECRET), ks.secret(CUSTOMER_ID_SECRET))

    def id_hash(self, kind: str, normalized: str) -> str:
        """Hex HMAC-SHA256(pseudonym_key, kind ":" normalized); ``kind`` is canonicalized."""
        msg = (canonical_kind(kind) + ":" + normalized).encode("utf-8")
        return hmac.digest(self._pk, msg, "sha256").hex()

    def id_hashes(self, kind: str, normalized: Iterable[str]) -> list[str]:
        """:meth:`id_hash` over many values of one kind (the bulk path of ingestion)."""
        pk = self._pk
        prefix = canonical_kind(kind) + ":"
        digest = hmac.digest
        return [digest(pk, (prefix + v).encode("utf-8"), "sha256").hex() for v in normalized]

    def customer_id(self, smallest_id_hash: str) -> str:
        """The surrogate id of a customer first seen with ``smallest_id_hash``."""
        return "c_" + hmac.digest(self._ck, smallest_id_hash.encode("ascii"), "sha256").hex()[:20]

    def hash_identifier(self, kind: str, raw: str) -> str | None:
        """Normalize ``raw`` as ``kind`` then hash it; ``None`` when it is not a valid identifier."""
        norm = normalize_identifier(kind, raw)
        if norm is None:
            return None
        return self.id_hash(kind, norm)
