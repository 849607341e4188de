"""The key store: every secret of a workspace, wrapped by the master key (PRIVACY.md §9).

The master key comes from ``CDP_MASTER_KEY`` (base64 of 32 bytes) or
``.cdp/master.key`` (raw 32 bytes or base64, mode 0600). Everything else lives in
``.cdp/keys.duckdb``, apart from the analytic store, each key encrypted with
AES-256-GCM under the master key with its own name as associated data (so a wrapped
key cannot be swapped for another):

* named secrets (``pseudonym``, ``customer_id``, ...): 32 random bytes each;
* Ed25519 signing keys for consent-ledger checkpoints (current and retired);
* one data key per customer for the vault; destroying it shreds the vault entries.

A check value encrypted under the master key makes a wrong key fail at once with
:class:`MasterKeyError`. Keys are never printed: ``repr`` shows no key material.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cdp.errors import MasterKeyError, StoreBusyError

__all__ = ["MASTER_KEY_ENV", "KeyStore", "generate_master_key", "parse_master_key"]

MASTER_KEY_ENV = "CDP_MASTER_KEY"
MASTER_KEY_FILE = "master.key"
KEYS_FILE = "keys.duckdb"
_CHECK_PLAINTEXT = b"cdp key store check v1"
_NONCE = 12

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keystore_meta (
    name VARCHAR PRIMARY KEY, nonce BLOB NOT NULL, wrapped BLOB NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (
    name VARCHAR PRIMARY KEY, nonce BLOB NOT NULL, wrapped BLOB NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS signing_keys (
    key_id INTEGER PRIMARY KEY, public_key VARCHAR NOT NULL, nonce BLOB NOT NULL, wrapped BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL, retired_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS data_keys (
    customer_id VARCHAR PRIMARY KEY, nonce BLOB NOT NULL, wrapped BLOB NOT NULL, created_at TIMESTAMP NOT NULL);
"""


_DATA_CACHE_MAX = 250_000


def generate_master_key() -> bytes:
    """32 fresh random bytes for a new master key."""
    return os.urandom(32)


def parse_master_key(text: str | bytes, *, origin: str) -> bytes:
    """The 32-byte key from raw bytes or base64 text; ``origin`` names where it came from."""
    if isinstance(text, bytes):
        if len(text) == 32:
            return text
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MasterKeyError(f"the master key in {origin} is not 32 raw bytes or base64") from exc
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MasterKeyError(
            f"the master key in {origin} is not valid base64",
            hint="generate one with: python -c \"import os,base64;print(base64.b64encode(os.urandom(32)).decode())\"",
        ) from exc
    if len(key) != 32:
        raise MasterKeyError(f"the master key in {origin} must decode to 32 bytes, not {len(key)}")
    return key


def _write_key_file(path: Path, key: bytes) -> None:
    """Write a base64 key file with mode 0600 from the start (never world-readable)."""
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, base64.b64encode(key) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _connect(path: Path, wait: float = 30.0) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            # a small key table: its own DuckDB instance needs little memory (the store has the budget)
            con = duckdb.connect(str(path), config={"memory_limit": "256MB"})
            con.execute("SET TimeZone = 'UTC'")
            return con
        except duckdb.IOException as exc:
            text = str(exc).lower()
            if "lock" not in text and "conflicting" not in text:
                raise MasterKeyError(f"cannot open the key store {path.name}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"the key store {path} is in use by another process",
                    hint="wait for the other cdp command to finish",
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


class KeyStore:
    """Master-key-wrapped secrets, signing keys and per-customer data keys.

    Use as a context manager (or call :meth:`close`); it holds ``keys.duckdb`` open.
    """

    def __init__(self, state_dir: Path, master: bytes, source: str, con: duckdb.DuckDBPyConnection) -> None:
        self.state_dir = Path(state_dir)
        self._master = master
        self._aead = AESGCM(master)
        self.master_source = source          # "env" or "file"
        self._con = con
        self._secrets: dict[str, bytes] = {}
        self._data_cache: dict[str, bytes] = {}

    def __repr__(self) -> str:  # never show key material
        return f"KeyStore({str(self.state_dir)!r}, master from {self.master_source})"

    # -- opening ----------------------------------------------------------------------
    @classmethod
    def open(cls, state_dir: Path, *, create: bool = False) -> KeyStore:
        """Open the key store of ``state_dir`` (``.cdp``), checking the master key.

        ``create=True`` writes a new ``master.key`` (0600) when neither the environment
        nor the file provides one; otherwise a missing key is a :class:`MasterKeyError`.
        """
        state_dir = Path(state_dir)
        key_file = state_dir / MASTER_KEY_FILE
        env = os.environ.get(MASTER_KEY_ENV)
        candidates: list[tuple[bytes, str]] = []
        if env:
            candidates.append((parse_master_key(env, origin=MASTER_KEY_ENV), "env"))
        elif key_file.exists():
            candidates.append((cls._read_key_file(key_file), "file"))
            pending = key_file.with_name(MASTER_KEY_FILE + ".new")
            if pending.exists():  # a rotation committed but did not rename its file
                candidates.append((cls._read_key_file(pending), "file-pending"))
        elif create:
            state_dir.mkdir(parents=True, exist_ok=True)
            _write_key_file(key_file, generate_master_key())
            candidates.append((cls._read_key_file(key_file), "file"))
        else:
            raise MasterKeyError(
                f"no master key: set {MASTER_KEY_ENV} or provide {key_file}",
                hint="run `cdp init` to create one; a lost master key makes the vault unreadable",
            )
        state_dir.mkdir(parents=True, exist_ok=True)
        con = _connect(state_dir / KEYS_FILE)
        try:
            con.execute(_SCHEMA)
            row = con.execute("SELECT nonce, wrapped FROM keystore_meta WHERE name = 'check'").fetchone()
            if row is None:
                master, source = candidates[0]
                nonce = os.urandom(_NONCE)
                con.execute(
                    "INSERT INTO keystore_meta VALUES ('check', ?, ?, now()::TIMESTAMP)",
                    [nonce, AESGCM(master).encrypt(nonce, _CHECK_PLAINTEXT, b"check")],
                )
                return cls(state_dir, master, source, con)
            for master, source in candidates:
                try:
                    AESGCM(master).decrypt(bytes(row[0]), bytes(row[1]), b"check")
                except InvalidTag:
                    continue
                if source == "file-pending":
                    os.replace(key_file.with_name(MASTER_KEY_FILE + ".new"), key_file)
                    source = "file"
                return cls(state_dir, master, source, con)
        except BaseException:
            con.close()
            raise
        con.close()
        origin = MASTER_KEY_ENV if env else str(key_file)
        raise MasterKeyError(
            f"the master key from {origin} does not open the key store {state_dir / KEYS_FILE}",
            hint="use the master key this workspace was created with; without it the vault cannot be read",
        )

    @staticmethod
    def _read_key_file(path: Path) -> bytes:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise MasterKeyError(
                f"{path} is readable by other users (mode {mode:o})",
                hint=f"chmod 600 {path}",
            )
        return parse_master_key(path.read_bytes(), origin=str(path))

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None  # type: ignore[assignment]
        self._secrets.clear()
        self._data_cache.clear()

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- wrapping -----------------------------------------------------------------------
    def _wrap(self, key: bytes, ad: bytes, nonce: bytes | None = None) -> tuple[bytes, bytes]:
        nonce = nonce or os.urandom(_NONCE)
        return nonce, self._aead.encrypt(nonce, key, ad)

    def _unwrap(self, nonce: bytes, wrapped: bytes, ad: bytes, aead: AESGCM | None = None) -> bytes:
        try:
            return (aead or self._aead).decrypt(bytes(nonce), bytes(wrapped), ad)
        except InvalidTag as exc:
            raise MasterKeyError("a wrapped key does not decrypt under the master key (tampered key store?)") from exc

    # -- named secrets ----------------------------------------------------------------------
    def secret(self, name: str) -> bytes:
        """The named 32-byte secret, created (random) on first use."""
        if name in self._secrets:
            return self._secrets[name]
        ad = b"secret:" + name.encode()
        row = self._con.execute("SELECT nonce, wrapped FROM secrets WHERE name = ?", [name]).fetchone()
        if row is None:
            value = os.urandom(32)
            nonce, wrapped = self._wrap(value, ad)
            self._con.execute("INSERT INTO secrets VALUES (?, ?, ?, now()::TIMESTAMP)", [name, nonce, wrapped])
        else:
            value = self._unwrap(row[0], row[1], ad)
        self._secrets[name] = value
        return value

    # -- signing keys ---------------------------------------------------------------------
    def signing_key(self) -> Ed25519PrivateKey:
        """The current Ed25519 key for consent checkpoints (created on first use)."""
        row = self._con.execute(
            "SELECT key_id, nonce, wrapped FROM signing_keys WHERE retired_at IS NULL ORDER BY key_id DESC LIMIT 1"
        ).fetchone()
        if row is not None:
            raw = self._unwrap(row[1], row[2], f"signing:{row[0]}".encode())
            return Ed25519PrivateKey.from_private_bytes(raw)
        key = Ed25519PrivateKey.generate()
        key_id = int(self._con.execute("SELECT coalesce(max(key_id), 0) + 1 FROM signing_keys").fetchone()[0])
        nonce, wrapped = self._wrap(key.private_bytes_raw(), f"signing:{key_id}".encode())
        self._con.execute(
            "INSERT INTO signing_keys VALUES (?, ?, ?, ?, now()::TIMESTAMP, NULL)",
            [key_id, key.public_key().public_bytes_raw().hex(), nonce, wrapped],
        )
        return key

    def retire_signing_key(self) -> None:
        """Retire the current signing key; the next :meth:`signing_key` call makes a new one."""
        self._con.execute("UPDATE signing_keys SET retired_at = now()::TIMESTAMP WHERE retired_at IS NULL")

    def public_keys(self) -> list[str]:
        """Hex raw Ed25519 public keys, oldest first, current and retired."""
        return [r[0] for r in self._con.execute("SELECT public_key FROM signing_keys ORDER BY key_id").fetchall()]

    # -- data keys (one per customer) ----------------------------------------------------------
    def data_keys(self, customer_ids: Iterable[str], *, create: bool = True) -> dict[str, bytes]:
        """Data keys of ``customer_ids``; missing ones are created unless ``create=False``
        (then a customer without a key, e.g. a shredded one, is absent from the result)."""
        ids = list(dict.fromkeys(c for c in customer_ids if c is not None))
        out: dict[str, bytes] = {}
        todo = []
        for cid in ids:
            k = self._data_cache.get(cid)
            if k is None:
                todo.append(cid)
            else:
                out[cid] = k
        if not todo:
            return out
        if len(self._data_cache) + len(todo) > _DATA_CACHE_MAX:   # bounded memory on a million customers
            self._data_cache.clear()
        self._con.register("_want_ids", pa.table({"customer_id": pa.array(todo, pa.string())}))
        try:
            rows = self._con.execute(
                "SELECT d.customer_id, d.nonce, d.wrapped FROM data_keys d JOIN _want_ids w USING (customer_id)"
            ).to_arrow_table()
        finally:
            self._con.unregister("_want_ids")
        aead = self._aead
        for cid, nonce, wrapped in zip(
            rows.column(0).to_pylist(), rows.column(1).to_pylist(), rows.column(2).to_pylist()
        ):
            key = self._unwrap(nonce, wrapped, b"data:" + cid.encode(), aead)
            out[cid] = key
            self._data_cache[cid] = key
        if create:
            missing = [cid for cid in todo if cid not in out]
            if missing:
                rnd = os.urandom(len(missing) * (32 + _NONCE))
                nonces, wrapped_keys = [], []
                for i, cid in enumerate(missing):
                    base = i * (32 + _NONCE)
                    key = rnd[base : base + 32]
                    nonce = rnd[base + 32 : base + 32 + _NONCE]
                    nonces.append(nonce)
                    wrapped_keys.append(aead.encrypt(nonce, key, b"data:" + cid.encode()))
                    out[cid] = key
                    self._data_cache[cid] = key
                self._insert_data_keys(missing, nonces, wrapped_keys)
        return out

    def _insert_data_keys(self, ids: list[str], nonces: list[bytes], wrapped: list[bytes]) -> None:
        tbl = pa.table(
            {
                "customer_id": pa.array(ids, pa.string()),
                "nonce": pa.array(nonces, pa.binary()),
                "wrapped": pa.array(wrapped, pa.binary()),
            }
        )
        self._con.register("_new_keys", tbl)
        try:
            self._con.execute(
                "INSERT INTO data_keys SELECT customer_id, nonce, wrapped, now()::TIMESTAMP FROM _new_keys"
            )
        finally:
            self._con.unregister("_new_keys")

    def destroy_data_key(self, customer_id: str) -> bool:
        """Crypto-shred: delete the customer's data key; True when one existed."""
        self._data_cache.pop(customer_id, None)
        n = self._con.execute(
            "DELETE FROM data_keys WHERE customer_id = ? RETURNING customer_id", [customer_id]
        ).fetchall()
        return bool(n)

    def destroy_data_keys(self, customer_ids: Iterable[str]) -> int:
        """Crypto-shred many customers at once; returns how many keys were destroyed."""
        ids = list(dict.fromkeys(customer_ids))
        if not ids:
            return 0
        for cid in ids:
            self._data_cache.pop(cid, None)
        self._con.register("_gone_ids", pa.table({"customer_id": pa.array(ids, pa.string())}))
        try:
            rows = self._con.execute(
                "DELETE FROM data_keys WHERE customer_id IN (SELECT customer_id FROM _gone_ids) RETURNING customer_id"
            ).fetchall()
        finally:
            self._con.unregister("_gone_ids")
        return len(rows)

    def data_key_count(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM data_keys").fetchone()[0])

    # -- master key rotation -----------------------------------------------------------------------
    def rotate_master(self, new_master: bytes) -> int:
        """Re-wrap every key under ``new_master`` in one transaction; returns how many keys.

        When the master key came from ``master.key`` the file is replaced (0600); when it
        came from ``CDP_MASTER_KEY`` the caller must give the user the new value to set.
        """
        if len(new_master) != 32:
            raise MasterKeyError("a master key must be 32 bytes")
        new = AESGCM(new_master)
        old = self._aead
        con = self._con
        pending = self.state_dir / (MASTER_KEY_FILE + ".new")
        if self.master_source == "file":
            _write_key_file(pending, new_master)
        count = 0
        con.execute("BEGIN TRANSACTION")
        try:
            for table, keycol, prefix in (
                ("secrets", "name", "secret:"),
                ("signing_keys", "key_id", "signing:"),
                ("keystore_meta", "name", None),
            ):
                for kid, nonce, wrapped in con.execute(f"SELECT {keycol}, nonce, wrapped FROM {table}").fetchall():
                    ad = b"check" if prefix is None else f"{prefix}{kid}".encode()
                    plain = self._unwrap(nonce, wrapped, ad, old)
                    n2 = os.urandom(_NONCE)
                    con.execute(
                        f"UPDATE {table} SET nonce = ?, wrapped = ? WHERE {keycol} = ?",
                        [n2, new.encrypt(n2, plain, ad), kid],
                    )
                    count += prefix is not None
            tbl = con.execute("SELECT customer_id, nonce, wrapped, created_at FROM data_keys").to_arrow_table()
            ids = tbl.column(0).to_pylist()
            if ids:
                rnd = os.urandom(len(ids) * _NONCE)
                nonces, wrapped_new = [], []
                for i, (cid, nonce, wrapped) in enumerate(
                    zip(ids, tbl.column(1).to_pylist(), tbl.column(2).to_pylist())
                ):
                    ad = b"data:" + cid.encode()
                    plain = self._unwrap(nonce, wrapped, ad, old)
                    n2 = rnd[i * _NONCE : (i + 1) * _NONCE]
                    nonces.append(n2)
                    wrapped_new.append(new.encrypt(n2, plain, ad))
                rewrapped = pa.table(
                    {
                        "customer_id": tbl.column(0),
                        "nonce": pa.array(nonces, pa.binary()),
                        "wrapped": pa.array(wrapped_new, pa.binary()),
                        "created_at": tbl.column(3),
                    }
                )
                con.execute("DELETE FROM data_keys")
                con.register("_rewrapped", rewrapped)
                con.execute("INSERT INTO data_keys SELECT * FROM _rewrapped")
                con.unregister("_rewrapped")
                count += len(ids)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            if pending.exists():
                pending.unlink()
            raise
        con.execute("CHECKPOINT")
        if self.master_source == "file":
            os.replace(pending, self.state_dir / MASTER_KEY_FILE)
        self._master = new_master
        self._aead = new
        return count
