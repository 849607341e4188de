"""Each connector against its fake: contract, errors mapped to transient/terminal, limits."""

from __future__ import annotations

import hashlib
import time

import pytest

from cdp.errors import ConfigError, PrivacyError, TerminalDestinationError, TransientDestinationError
from connectors.destinations import Batch, Contact, destination_class, destination_kinds
from connectors.destinations.webhook import sign, verify_signature
from tests.fakes import GoogleFake, KlaviyoFake, MailchimpFake, MetaFake, WebhookFake


def contacts(n: int, start: int = 0) -> list[Contact]:
    return [Contact(f"c{i}", email=f"p{i}@example.com", phone=f"0532{i:07d}", first_name="Ülkü", last_name="Işık")
            for i in range(start, start + n)]


def batch(members: list[Contact], op: str = "add", **kw: object) -> Batch:
    return Batch(sync="s", run_id=1, batch_no=1, op=op, members=members, key="k1", **kw)  # type: ignore[arg-type]


def sha(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


def test_registry_knows_the_builtin_kinds_and_suggests() -> None:
    assert {"meta", "google_ads", "mailchimp", "klaviyo", "webhook", "file"} <= set(destination_kinds())
    from cdp.errors import NotFoundError

    with pytest.raises(NotFoundError) as err:
        destination_class("mailchimps")
    assert err.value.suggestion == "mailchimp"


def test_a_destination_refuses_an_audience_that_is_not_sealed(audience) -> None:  # type: ignore[no-untyped-def]
    from privacy.released import ReleasedAudience

    dest = destination_class("meta")("m", {"audience_id": "1"}, {"token": "t"})
    fields = {k: getattr(audience, k) for k in ("segment", "build_id", "destination", "purpose", "channel", "at",
                                                "members", "exclusions", "justification_digest")}
    forged = ReleasedAudience(**fields)  # same content, not released by the gate
    with pytest.raises(PrivacyError):
        dest.begin(forged)
    with pytest.raises(PrivacyError):
        dest.begin({"members": ["c1"]})  # type: ignore[arg-type]
    with pytest.raises(PrivacyError):
        dest.send(batch(contacts(1)))  # never begun


def test_missing_secret_names_the_variable_not_a_value() -> None:
    with pytest.raises(ConfigError) as err:
        destination_class("meta")("m", {"audience_id": "1", "token_env": "META_TOKEN"}, {})
    assert "META_TOKEN" in str(err.value)


def test_meta_adds_removes_with_sessions_and_reads_throttle_codes(audience) -> None:  # type: ignore[no-untyped-def]
    with MetaFake(max_rows=5) as fake:
        dest = destination_class("meta")("m", {"audience_id": fake.audience_id, "base_url": fake.url, "timeout": 2},
                                         {"token": "meta-token"})
        dest.begin(audience)
        people = contacts(5)
        res = dest.send(batch(people, seq=1, total=1))
        assert res.received == 5 and res.invalid == 0
        assert fake.audience == {sha(f"p{i}@example.com") for i in range(5)}
        for code in (17, 613, 80003):
            fake.fail("throttle")
            with pytest.raises(TransientDestinationError) as err:
                dest.send(batch(people))
            assert err.value.code == code
        with pytest.raises(TerminalDestinationError):  # over the fake's row limit: a 4xx, not retried
            dest.send(batch(contacts(6)))
        gone = [Contact(c.customer_id, platform_key=dest.platform_key(c), reason="erased") for c in people[:2]]
        dest.send(batch(gone, op="remove"))
        assert fake.audience == {sha(f"p{i}@example.com") for i in range(2, 5)}
        assert not [v for v in fake.violations if "hash" in v]


def test_meta_batch_size_is_capped_by_the_platform_limit() -> None:
    dest = destination_class("meta")("m", {"audience_id": "1", "batch_size": 50_000}, {"token": "t"})
    assert dest.batch_size("add") == 10_000
    assert destination_class("mailchimp")("m", {"audience_id": "L", "batch_size": 900}, {"api_key": "k-us1"}).batch_size("add") == 500


def test_meta_garbage_and_timeouts_are_transient(audience) -> None:  # type: ignore[no-untyped-def]
    with MetaFake() as fake:
        fake.timeout_sleep = 0.5
        dest = destination_class("meta")("m", {"audience_id": fake.audience_id, "base_url": fake.url, "timeout": 0.2},
                                         {"token": "meta-token"})
        dest.begin(audience)
        for fault in ("garbage", "timeout", "500"):
            fake.fail(fault)
            with pytest.raises(TransientDestinationError):
                dest.send(batch(contacts(2)))


@pytest.mark.parametrize("api", ["data_manager", "customer_match"])
def test_google_both_apis_reach_the_same_audience(api: str, audience) -> None:  # type: ignore[no-untyped-def]
    with GoogleFake() as fake:
        dest = destination_class("google_ads")(
            "g", {"audience_id": fake.audience_id, "customer_id": fake.customer_id, "api": api, "base_url": fake.url,
                  "poll_interval": 0.001},
            {"token": "g-token", "developer_token": "dev-token"},
        )
        dest.begin(audience)
        people = contacts(4)
        dest.send(batch(people))
        assert fake.audience == {sha(f"p{i}@example.com") for i in range(4)}
        fake.fail("throttle")
        with pytest.raises(TransientDestinationError) as err:
            dest.send(batch(people))
        assert err.value.status == 429
        dest.send(batch([Contact("c0", platform_key=dest.platform_key(people[0]))], op="remove"))
        assert sha("p0@example.com") not in fake.audience
        assert not fake.violations


def test_google_customer_match_reports_partial_failures(audience) -> None:  # type: ignore[no-untyped-def]
    with GoogleFake() as fake:
        dest = destination_class("google_ads")(
            "g", {"audience_id": fake.audience_id, "customer_id": fake.customer_id, "api": "customer_match",
                  "base_url": fake.url, "poll_interval": 0.001},
            {"token": "g-token", "developer_token": "dev-token"},
        )
        dest.begin(audience)
        people = contacts(3) + [Contact("cx")]  # nothing to match on: the fake rejects the operation
        res = dest.send(batch(people))
        assert res.failed == ["cx"]
        assert len(fake.audience) == 3
        fake.conflicts = 1
        with pytest.raises(TransientDestinationError) as err:  # CONCURRENT_MODIFICATION is retried
            dest.send(batch(contacts(1)))
        assert err.value.code == "CONCURRENT_MODIFICATION"


def test_google_customer_match_needs_a_developer_token() -> None:
    with pytest.raises(ConfigError):
        destination_class("google_ads")("g", {"audience_id": "1", "api": "customer_match"}, {"token": "t"})


def test_mailchimp_plain_email_segment_and_permanent_delete(audience) -> None:  # type: ignore[no-untyped-def]
    with MailchimpFake(max_members=3) as fake:
        dest = destination_class("mailchimp")(
            "mc", {"audience_id": fake.list_id, "segment_id": fake.segment_id, "base_url": fake.url + "/3.0"},
            {"api_key": "key-us21"},
        )
        assert dest.batch_size("add") == 500  # the platform limit; the fake is stricter (cfg)
        dest.begin(audience)
        people = contacts(3)
        res = dest.send(batch(people))
        assert res.counts["total_created"] == 3
        assert fake.audience == {f"p{i}@example.com" for i in range(3)}
        with pytest.raises(TerminalDestinationError):
            dest.send(batch(contacts(4)))
        fake.fail("throttle")
        with pytest.raises(TransientDestinationError) as err:
            dest.send(batch(people))
        assert err.value.retry_after is None  # Mailchimp says nothing: we back off ourselves
        erased = Contact("c0", platform_key=res.keys["c0"], reason="erased")
        left = Contact("c1", email="p1@example.com", platform_key=res.keys["c1"], reason="left")
        dest.send(batch([erased, left], op="remove"))
        assert fake.audience == {"p2@example.com"}
        assert res.keys["c0"] in fake.deleted_permanently
        assert "p1@example.com" in fake.members  # left the segment, still on the list


def test_mailchimp_dc_comes_from_the_key() -> None:
    dest = destination_class("mailchimp")("mc", {"audience_id": "L"}, {"api_key": "abc-us21"})
    assert dest.base_url == "https://us21.api.mailchimp.com/3.0"


def test_klaviyo_jsonapi_subscribe_lookup_and_list_removal(audience) -> None:  # type: ignore[no-untyped-def]
    with KlaviyoFake(subscribe_limit=3, retry_after="7") as fake:
        dest = destination_class("klaviyo")(
            "kl", {"audience_id": fake.list_id, "base_url": fake.url, "channel": "email"}, {"api_key": "pk_test"}
        )
        dest.begin(audience)
        res = dest.send(batch(contacts(3)))
        assert set(res.keys) == {"c0", "c1", "c2"}  # profile ids resolved for the sync state
        assert fake.audience == {f"p{i}@example.com" for i in range(3)}
        with pytest.raises(TerminalDestinationError):
            dest.send(batch(contacts(4)))
        fake.fail("throttle")
        with pytest.raises(TransientDestinationError) as err:
            dest.send(batch(contacts(1)))
        assert err.value.retry_after == 7.0
        revoked = Contact("c0", email="p0@example.com", platform_key=res.keys["c0"], reason="revoked")
        dest.send(batch([revoked], op="remove"))
        assert fake.audience == {"p1@example.com", "p2@example.com"}
        assert fake.profiles[res.keys["c0"]]["consent"] == "UNSUBSCRIBED"
        assert len(fake.violations) == 1  # only the over-limit job above


def test_webhook_signature_verifies_and_rotation_sends_both() -> None:
    body = b'{"a":1}'
    now = int(time.time())
    header = sign(body, ["new", "old"], now)
    assert header.count("v1=") == 2
    assert verify_signature(header, body, "new") and verify_signature(header, body, "old")
    assert not verify_signature(header, body, "other")
    assert not verify_signature(header, body + b" ", "new")
    assert not verify_signature(sign(body, ["new"], now - 301), body, "new")


def test_webhook_idempotency_key_is_stable_across_retries(audience) -> None:  # type: ignore[no-untyped-def]
    with WebhookFake() as fake:
        fake.timeout_sleep = 0.4
        dest = destination_class("webhook")("w", {"url": fake.url + "/h", "fields": ["email_sha256"], "timeout": 0.2},
                                            {"secret": "whsec"})
        dest.begin(audience)
        b = batch(contacts(2))
        fake.fail("timeout")  # applied, answer lost
        with pytest.raises(TransientDestinationError):
            dest.send(b)
        dest.send(b)  # the retry carries the same key: the receiver does not apply it twice
        assert fake.duplicates == 1 and fake.applied == 1
        assert fake.members["c0"] == {"email_sha256": sha("p0@example.com")}


@pytest.mark.parametrize("url,ok", [("http://example.com/h", False), ("https://example.com/h", True),
                                    ("http://127.0.0.1:9/h", True), ("http://localhost/h", True)])
def test_plain_contact_points_only_over_https_or_loopback(url: str, ok: bool) -> None:
    make = lambda: destination_class("webhook")("w", {"url": url, "fields": ["email", "phone"]}, {"secret": "s"})
    if ok:
        assert make().sends_contact_data
    else:
        with pytest.raises(ConfigError):
            make()
    # hashed fields may go anywhere
    destination_class("webhook")("w", {"url": "http://example.com/h", "fields": ["email_sha256"]}, {"secret": "s"})


def test_file_destination_writes_hashed_rows_and_replaces_on_retry(tmp_path, audience) -> None:  # type: ignore[no-untyped-def]
    import csv

    dest = destination_class("file")("f", {"path": str(tmp_path), "format": "csv"})
    dest.begin(audience)
    b = batch(contacts(3))
    dest.send(b)
    dest.send(b)
    files = list(tmp_path.rglob("*.csv"))
    assert len(files) == 1
    rows = list(csv.DictReader(files[0].open()))
    assert len(rows) == 3
    assert rows[0]["email_sha256"] == sha("p0@example.com")
    assert "@" not in files[0].read_text()


def test_parquet_file(tmp_path, audience) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    dest = destination_class("file")("f", {"path": str(tmp_path), "format": "parquet"})
    dest.begin(audience)
    dest.send(batch(contacts(2)))
    (f,) = list(tmp_path.rglob("*.parquet"))
    assert pq.read_table(f).num_rows == 2


def test_dry_run_samples_hash_plain_identifiers(audience) -> None:  # type: ignore[no-untyped-def]
    import json

    for kind, settings, secrets in (
        ("mailchimp", {"audience_id": "L", "segment_id": "1"}, {"api_key": "k-us1"}),
        ("klaviyo", {"audience_id": "L"}, {"api_key": "k"}),
        ("webhook", {"url": "https://x/h", "fields": ["email", "phone"]}, {"secret": "s"}),
        ("meta", {"audience_id": "1"}, {"token": "t"}),
    ):
        dest = destination_class(kind)("d", settings, secrets)
        dest.begin(audience)
        text = json.dumps(dest.request_body(batch(contacts(2)), redact=True), ensure_ascii=False)
        assert "@example.com" not in text and "0532" not in text and "+90532" not in text, kind
