"""The vault: contact points encrypted per customer (PRIVACY.md §1).

Ciphertexts live in the store table ``vault`` (``customer_id``, ``field``, ``nonce``,
``ciphertext``); each is AES-256-GCM under the customer's data key from the key store,
with ``customer_id ":" field`` as associated data so rows cannot be swapped. Destroying a
customer's data key (:meth:`KeyStore.destroy_data_key`) makes every copy unreadable.
Only the sync path and the access-request export decrypt.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cdp.errors import PrivacyError
from privacy.keys import KeyStore

__all__ = ["Vault"]

_NONCE = 12


def _ad(customer_id: str, field: str) -> bytes:
    return f"{customer_id}:{field}".encode()


class Vault:
    """Encrypt, read, move and delete contact points of customers."""

    def __init__(self, con: Any, keystore: KeyStore) -> None:
        self.con = con
        self.keystore = keystore
        self._aeads: dict[str, AESGCM] = {}

    def _aead(self, customer_id: str, key: bytes) -> AESGCM:
        a = self._aeads.get(customer_id)
        if a is None:
            a = AESGCM(key)
            if len(self._aeads) > 200_000:
                self._aeads.clear()
            self._aeads[customer_id] = a
        return a

    def put_many(self, rows: Iterable[tuple[str, str, str]]) -> int:
        """Encrypt and upsert ``(customer_id, field, plaintext)`` rows; empty values are skipped.

        Returns how many fields were written (the last value wins within one call).
        """
        latest: dict[tuple[str, str], str] = {}
        for cid, field, text in rows:
            if text is None or cid is None:
                continue
            text = str(text).strip()
            if text:
                latest[(cid, field)] = text
        if not latest:
            return 0
        keys = self.keystore.data_keys({cid for cid, _ in latest})
        n = len(latest)
        nonce_pool = os.urandom(n * _NONCE)
        cids, fields, nonces, cts = [], [], [], []
        for i, ((cid, field), text) in enumerate(latest.items()):
            nonce = nonce_pool[i * _NONCE : (i + 1) * _NONCE]
            cids.append(cid)
            fields.append(field)
            nonces.append(nonce)
            cts.append(self._aead(cid, keys[cid]).encrypt(nonce, text.encode("utf-8"), _ad(cid, field)))
        self._write(cids, fields, nonces, cts)
        return n

    def _write(self, cids: list[str], fields: list[str], nonces: list[bytes], cts: list[bytes]) -> None:
        tbl = pa.table(
            {
                "customer_id": pa.array(cids, pa.string()),
                "field": pa.array(fields, pa.string()),
                "nonce": pa.array(nonces, pa.binary()),
                "ciphertext": pa.array(cts, pa.binary()),
            }
        )
        self.con.register("_vault_put", tbl)
        try:
            if self.con.execute("SELECT EXISTS (SELECT 1 FROM vault)").fetchone()[0]:
                self.con.execute(
                    "DELETE FROM vault v USING _vault_put p WHERE v.customer_id = p.customer_id AND v.field = p.field"
                )
            self.con.execute(
                "INSERT INTO vault SELECT customer_id, field, nonce, ciphertext, now()::TIMESTAMP FROM _vault_put"
            )
        finally:
            self.con.unregister("_vault_put")

    def get(self, customer_id: str) -> dict[str, str]:
        """Every readable field of one customer (empty when none or the key is destroyed)."""
        return self.get_many([customer_id]).get(customer_id, {})

    def get_many(
        self, customer_ids: Iterable[str], fields: Sequence[str] | None = None
    ) -> dict[str, dict[str, str]]:
        """Decrypted fields per customer; customers without entries (or shredded keys) are absent."""
        ids = list(dict.fromkeys(customer_ids))
        if not ids:
            return {}
        self.con.register("_vault_ids", pa.table({"customer_id": pa.array(ids, pa.string())}))
        try:
            sql = (
                "SELECT v.customer_id, v.field, v.nonce, v.ciphertext FROM vault v "
                "JOIN _vault_ids i USING (customer_id)"
            )
            params: list[Any] = []
            if fields is not None:
                sql += " WHERE list_contains(?, v.field)"
                params.append(list(fields))
            tbl = self.con.execute(sql, params).to_arrow_table()
        finally:
            self.con.unregister("_vault_ids")
        if tbl.num_rows == 0:
            return {}
        cid_col = tbl.column(0).to_pylist()
        keys = self.keystore.data_keys(set(cid_col), create=False)
        out: dict[str, dict[str, str]] = {}
        for cid, field, nonce, ct in zip(
            cid_col, tbl.column(1).to_pylist(), tbl.column(2).to_pylist(), tbl.column(3).to_pylist()
        ):
            key = keys.get(cid)
            if key is None:
                continue  # crypto-shredded
            try:
                plain = self._aead(cid, key).decrypt(nonce, ct, _ad(cid, field))
            except InvalidTag as exc:
                raise PrivacyError(
                    f"vault entry '{field}' of customer {cid} does not decrypt (tampered or moved row)"
                ) from exc
            out.setdefault(cid, {})[field] = plain.decode("utf-8")
        return out

    def delete(self, customer_id: str) -> int:
        """Delete the customer's vault rows (the data key is destroyed separately)."""
        rows = self.con.execute(
            "DELETE FROM vault WHERE customer_id = ? RETURNING field", [customer_id]
        ).fetchall()
        self._aeads.pop(customer_id, None)
        return len(rows)

    def move(self, old_id: str, new_id: str) -> None:
        """On a merge: re-encrypt ``old_id``'s fields under ``new_id``'s key.

        Fields the surviving customer already has keep their value; the old customer's
        rows are deleted and its data key destroyed.
        """
        self.move_many([(old_id, new_id)])

    def move_many(self, pairs: Iterable[tuple[str, str]]) -> int:
        """:meth:`move` for many merges at once; returns how many fields moved."""
        pairs = [(o, n) for o, n in pairs if o != n]
        if not pairs:
            return 0
        olds = [o for o, _ in pairs]
        old_data = self.get_many(olds)
        new_of = dict(pairs)
        survivors = self.get_many({n for _, n in pairs})
        rows = []
        for old, fields in old_data.items():
            new = new_of[old]
            have = survivors.setdefault(new, {})
            for field, text in fields.items():
                if field not in have:
                    have[field] = text
                    rows.append((new, field, text))
        moved = self.put_many(rows)
        self.con.register("_vault_old", pa.table({"customer_id": pa.array(olds, pa.string())}))
        try:
            self.con.execute("DELETE FROM vault WHERE customer_id IN (SELECT customer_id FROM _vault_old)")
        finally:
            self.con.unregister("_vault_old")
        for o in olds:
            self._aeads.pop(o, None)
        self.keystore.destroy_data_keys(olds)
        return moved
