"""Keys, pseudonyms, normalization and the vault (PRIVACY.md §1 and §9)."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdp.errors import MasterKeyError
from privacy.keys import KeyStore
from privacy.normalize import normalize_email, normalize_identifier, normalize_phone
from privacy.pseudonym import Pseudonymizer
from privacy.vault import Vault

VAULT_DDL = (
    "CREATE TABLE vault (customer_id VARCHAR NOT NULL, field VARCHAR NOT NULL, nonce BLOB NOT NULL, "
    "ciphertext BLOB NOT NULL, updated_at TIMESTAMP NOT NULL, PRIMARY KEY (customer_id, field))"
)


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDP_MASTER_KEY", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "store.duckdb"))
    con.execute(VAULT_DDL)
    yield con
    con.close()


# -- normalization --------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    ["0532 123 45 67", "+90 (532) 123-45-67", "905321234567", "5321234567", "0090 532 123 45 67",
     "+90 532 123 4567", "0532-123-45-67", " 0 (532) 123 45 67 "],
)
def test_turkish_phones_become_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+905321234567"


@pytest.mark.parametrize("raw", ["", "123", "abc", "+90 032 123 45 67", "0532 123 45", "1532123456"])
def test_invalid_phones_are_none(raw: str) -> None:
    assert normalize_phone(raw) is None


def test_landline_and_foreign_phones() -> None:
    assert normalize_phone("0212 555 12 12") == "+902125551212"
    assert normalize_phone("+49 30 1234567") == "+49301234567"
    assert normalize_phone("030 1234567", default_country="DE") == "+49301234567"


def test_emails_and_other_kinds() -> None:
    assert normalize_email("  Ali.VELİ@Örnek.COM ") is not None
    assert normalize_email(" Ayse@Example.COM\t") == "ayse@example.com"
    assert normalize_email("not an email") is None
    assert normalize_identifier("vkn", "123 456 7890") == "1234567890"
    assert normalize_identifier("tax_id", "12345") is None
    assert normalize_identifier("tckn", "12345678901") == "12345678901"
    assert normalize_identifier("national_id", "02345678901") is None
    assert normalize_identifier("card", "4000-0000 0000 0002") == "4000000000000002"
    assert normalize_identifier("customer_ref", "  C-001 ") == "C-001"
    assert normalize_identifier("customer_ref", "   ") is None


@given(st.sampled_from(["0{}", "+90 {}", "90{}", "{}", "0090{}", "+90 ({}"]),
       st.from_regex(r"5[0-9]{9}", fullmatch=True))
def test_phone_spellings_agree(fmt: str, national: str) -> None:
    assert normalize_phone(fmt.format(national).replace("(", "(").strip()) == "+90" + national


@given(st.text(alphabet="abcXYZ.İı_", min_size=1, max_size=10), st.sampled_from(["", " ", "\t"]))
def test_email_normalization_is_idempotent(local: str, pad: str) -> None:
    value = f"{pad}{local}@Example.com{pad}"
    once = normalize_email(value)
    if once is not None:
        assert normalize_email(once) == once
        assert once == once.strip()


# -- key store ------------------------------------------------------------------------
def test_master_key_file_is_0600_and_never_printed(tmp_path: Path, no_env_key: None) -> None:
    with KeyStore.open(tmp_path, create=True) as ks:
        key_file = tmp_path / "master.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        master = base64.b64decode(key_file.read_bytes())
        secret = ks.secret("pseudonym")
        assert len(secret) == 32 and ks.secret("pseudonym") == secret
        assert ks.secret("customer_id") != secret
        for shown in (repr(ks), str(ks), repr(Pseudonymizer.from_keystore(ks))):
            assert base64.b64encode(master).decode() not in shown
            assert master.hex() not in shown and secret.hex() not in shown
    # secrets are stored wrapped: their bytes are not in the key store file
    raw = (tmp_path / "keys.duckdb").read_bytes()
    assert secret not in raw and master not in raw


def test_missing_master_key_without_create(tmp_path: Path, no_env_key: None) -> None:
    with pytest.raises(MasterKeyError):
        KeyStore.open(tmp_path)


def test_group_readable_key_file_is_refused(tmp_path: Path, no_env_key: None) -> None:
    KeyStore.open(tmp_path, create=True).close()
    os.chmod(tmp_path / "master.key", 0o644)
    with pytest.raises(MasterKeyError) as info:
        KeyStore.open(tmp_path)
    assert "chmod 600" in (info.value.hint or "")


def test_wrong_master_key_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with KeyStore.open(tmp_path) as ks:
        ks.secret("pseudonym")
    monkeypatch.setenv("CDP_MASTER_KEY", base64.b64encode(b"w" * 32).decode())
    with pytest.raises(MasterKeyError):
        KeyStore.open(tmp_path)
    monkeypatch.setenv("CDP_MASTER_KEY", "not base64!")
    with pytest.raises(MasterKeyError):
        KeyStore.open(tmp_path)


def test_signing_keys_current_and_retired(tmp_path: Path) -> None:
    with KeyStore.open(tmp_path) as ks:
        k1 = ks.signing_key()
        assert ks.signing_key().public_key().public_bytes_raw() == k1.public_key().public_bytes_raw()
        ks.retire_signing_key()
        k2 = ks.signing_key()
        pubs = ks.public_keys()
        assert pubs == [k1.public_key().public_bytes_raw().hex(), k2.public_key().public_bytes_raw().hex()]
        sig = k2.sign(b"3:abc")
        k2.public_key().verify(sig, b"3:abc")


# -- pseudonyms -----------------------------------------------------------------------
def test_pseudonyms_are_keyed_and_stable(tmp_path: Path) -> None:
    p1 = Pseudonymizer(b"a" * 32, b"b" * 32)
    p2 = Pseudonymizer(b"c" * 32, b"b" * 32)
    h = p1.hash_identifier("email", "  Ali@Example.com ")
    assert h == p1.id_hash("email", "ali@example.com") and len(h) == 64
    assert h != p2.id_hash("email", "ali@example.com")
    assert p1.id_hash("email", "x") != p1.id_hash("phone", "x")
    assert p1.hash_identifier("vkn", "1234567890") == p1.id_hash("tax_id", "1234567890")
    assert p1.hash_identifier("phone", "12") is None
    cid = p1.customer_id(h)
    assert cid.startswith("c_") and len(cid) == 22 and cid == p1.customer_id(h)
    assert p1.id_hashes("email", ["ali@example.com"]) == [h]


# -- vault ------------------------------------------------------------------------------
def test_vault_roundtrip_move_delete_and_shred(tmp_path: Path, store: duckdb.DuckDBPyConnection) -> None:
    with KeyStore.open(tmp_path) as ks:
        v = Vault(store, ks)
        n = v.put_many([("c1", "email", "ayşe@örnek.com"), ("c1", "full_name", "Ayşe Yılmaz"),
                        ("c2", "email", "b@x.com"), ("c3", "email", ""), ("c1", "email", "new@x.com")])
        assert n == 3
        assert v.get("c1") == {"email": "new@x.com", "full_name": "Ayşe Yılmaz"}
        assert v.get_many(["c1", "c2", "zz"], fields=["email"]) == {"c1": {"email": "new@x.com"},
                                                                     "c2": {"email": "b@x.com"}}
        raw = (tmp_path / "store.duckdb")
        store.execute("CHECKPOINT")
        assert "Yılmaz".encode() not in raw.read_bytes()
        v.put_many([("c2", "phone", "+905321234567")])
        v.move("c1", "c2")
        assert v.get("c1") == {}
        assert v.get("c2") == {"email": "b@x.com", "full_name": "Ayşe Yılmaz", "phone": "+905321234567"}
        assert ks.data_keys(["c1"], create=False) == {}
        assert ks.destroy_data_key("c2") is True
        assert v.get("c2") == {}          # crypto-shredded: rows remain but cannot be read
        assert v.delete("c2") == 3
        assert ks.destroy_data_key("c2") is False


def test_rotation_keeps_vault_readable(tmp_path: Path, store: duckdb.DuckDBPyConnection,
                                       no_env_key: None) -> None:
    with KeyStore.open(tmp_path, create=True) as ks:
        secret = ks.secret("pseudonym")
        ks.signing_key()
        Vault(store, ks).put_many([(f"c{i}", "email", f"u{i}@x.com") for i in range(50)])
        old_file = (tmp_path / "master.key").read_bytes()
        assert ks.rotate_master(os.urandom(32)) == 50 + 1 + 1
    assert (tmp_path / "master.key").read_bytes() != old_file
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
    with KeyStore.open(tmp_path) as ks:
        assert ks.secret("pseudonym") == secret
        assert Vault(store, ks).get("c7") == {"email": "u7@x.com"}
    os.environ["CDP_MASTER_KEY"] = base64.b64encode(old_file).decode()
    try:
        with pytest.raises(MasterKeyError):
            KeyStore.open(tmp_path)
    finally:
        del os.environ["CDP_MASTER_KEY"]


def test_rotation_with_env_key(tmp_path: Path, store: duckdb.DuckDBPyConnection,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    with KeyStore.open(tmp_path) as ks:
        Vault(store, ks).put_many([("c1", "email", "a@x.com")])
        new = os.urandom(32)
        ks.rotate_master(new)
    monkeypatch.setenv("CDP_MASTER_KEY", base64.b64encode(new).decode())
    with KeyStore.open(tmp_path) as ks:
        assert Vault(store, ks).get("c1") == {"email": "a@x.com"}
