"""Per-platform identifier normalization and hashing (DESTINATIONS.md table)."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from connectors.destinations.base import Contact
from connectors.destinations.google_ads import identifiers
from connectors.destinations.hashing import letters_only, turkish_lower
from connectors.destinations.mailchimp import subscriber_hash
from connectors.destinations.meta import normalize_row

JANE = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"


def sha(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


def test_email_hash_matches_the_platform_example() -> None:
    assert normalize_row(Contact("c", email="jane.doe@example.com"))[0] == JANE
    assert normalize_row(Contact("c", email="  Jane.Doe@Example.COM "))[0] == JANE
    assert identifiers(Contact("c", email=" JANE.DOE@example.com"))[0] == JANE


def test_meta_phone_is_digits_with_country_code_and_no_plus() -> None:
    for raw in ("0532 123 45 67", "+90 (532) 123-45-67", "905321234567", "5321234567"):
        assert normalize_row(Contact("c", phone=raw))[1] == sha("905321234567")


def test_google_phone_is_e164_with_plus() -> None:
    for raw in ("0532 123 45 67", "+90 532 123 4567"):
        assert identifiers(Contact("c", phone=raw))[1] == sha("+905321234567")


def test_unknown_values_are_empty_strings_not_hashes_of_nothing() -> None:
    row = normalize_row(Contact("c", email="jane.doe@example.com"))
    assert row[1:4] == ["", "", ""]
    assert row[4] == sha("tr")  # country: ISO-2 lower-case, hashed


def test_turkish_names_keep_their_letters() -> None:
    assert turkish_lower("Ülkü") == "ülkü"
    assert letters_only(turkish_lower("Ülkü")) == "ülkü"  # Meta's SDK would give "lk"
    row = normalize_row(Contact("c", first_name="Çağrı", last_name="Öztürk-Şahin"))
    assert row[2] == sha("çağrı")
    assert row[3] == sha("öztürkşahin")  # non-letters removed


def test_dotted_and_dotless_i_follow_the_turkish_rule() -> None:
    # İ -> i (never i + U+0307), I -> ı
    assert turkish_lower("İLKAY") == "ilkay"
    assert turkish_lower("IŞIK") == "ışık"
    assert "\u0307" not in turkish_lower("İSTANBUL")
    assert normalize_row(Contact("c", first_name="İlkay"))[2] == sha("ilkay")
    assert normalize_row(Contact("c", first_name="Işık"))[2] == sha("ışık")
    # decomposed input (I + combining dot) is composed first
    assert turkish_lower("I\u0307lkay") == "ilkay"


def test_mailchimp_member_key_is_md5_of_lowercase_email() -> None:
    assert subscriber_hash("Jane.Doe@Example.com") == hashlib.md5(b"jane.doe@example.com").hexdigest()


@given(st.from_regex(r"[a-z0-9]{1,10}\.[a-z]{1,8}@[a-z]{2,10}\.(com|net|org)", fullmatch=True),
       st.text(" \t", max_size=3), st.booleans())
def test_email_hash_ignores_case_and_surrounding_space(email: str, pad: str, upper: bool) -> None:
    variant = pad + (email.upper() if upper else email) + pad
    assert normalize_row(Contact("c", email=variant))[0] == sha(email)
    assert identifiers(Contact("c", email=variant))[0] == sha(email)


@given(st.text(alphabet="abcçdefgğhıijklmnoöprsştuüvyzABCÇDEFGĞHIİJKLMNOÖPRSŞTUÜVYZ -'", min_size=1, max_size=20))
def test_meta_name_hash_input_is_lowercase_letters_only(name: str) -> None:
    norm = letters_only(turkish_lower(name))
    assert not any(ch.isupper() for ch in norm)
    assert turkish_lower(norm) == norm
    assert all(ch.isalpha() for ch in norm)
    assert "\u0307" not in norm


def test_meta_platform_key_holds_hashes_only() -> None:
    from connectors.destinations.meta import MetaDestination

    dest = MetaDestination("m", {"audience_id": "1"}, {"token": "t"})
    key = dest.platform_key(Contact("c", email="jane.doe@example.com", phone="05321234567"))
    assert key == f"{JANE}:{sha('905321234567')}"
    assert "@" not in json.dumps(key)
