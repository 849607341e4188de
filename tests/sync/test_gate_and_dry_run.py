"""The gate's refusals stop a sync before any request; a dry run sends nothing."""

from __future__ import annotations

import json
from typing import Any

from tests.sync.conftest import Shop, email_of


def test_cross_border_without_transfer_record_is_refused(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    (r,) = shop.run("vip_nt")
    assert r["status"] == "refused" and r["refusal"] == "no_transfer_record"
    assert "transfer" in r["error"]
    assert fakes["meta"].requests == []
    assert shop.ws.sync.status()[[s["sync"] for s in shop.ws.sync.status()].index("vip_nt")]["status"] == "refused"


def test_audience_below_the_minimum_is_refused(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    (r,) = shop.run("vip_big")
    assert r["status"] == "refused" and r["refusal"] == "below_min_size"
    assert fakes["meta"].requests == []


def test_a_purpose_the_segment_does_not_declare_is_refused(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)), purposes=("email_marketing",))
    (r,) = shop.run("vip_meta")
    assert r["status"] == "refused" and r["refusal"] == "purpose_not_declared"
    assert fakes["meta"].requests == []


def test_dry_run_sends_nothing_and_shows_counts_reasons_and_hashed_samples(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    shop.run("vip_meta", "vip_mail")
    shop.build(list(range(3, 13)), control=(12,))
    shop.consent([4], "email_marketing", "email", status="withdrawn")
    before = {k: len(f.requests) for k, f in fakes.items()}
    results = {r["sync"]: r for r in shop.run("vip_meta", "vip_mail", "vip_sms", dry_run=True)}
    assert {k: len(f.requests) for k, f in fakes.items()} == before  # the fakes saw nothing
    meta, mail = results["vip_meta"], results["vip_mail"]
    assert meta["dry_run"] and meta["adds"] == 1 and meta["removes"] == 2
    assert meta["exclusions"] == {"control": 1}
    assert mail["exclusions"] == {"control": 1, "withdrawn": 1}
    assert mail["removal_reasons"] == {"left": 2, "revoked": 1}
    assert set(mail["samples"]) == {"add", "remove"}
    text = json.dumps(results, ensure_ascii=False, default=str)
    for i in range(1, 13):
        assert email_of(i).lower() not in text
    assert "sha256:" in json.dumps(mail["samples"])  # plain addresses shown hashed
    assert shop.state("vip_meta") == {f"c{i:05d}" for i in range(1, 11)}  # state untouched


def test_dry_run_needs_no_secrets(shop: Shop, fakes: dict[str, Any], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("META_TOKEN")
    shop.build(list(range(1, 11)))
    (r,) = shop.run("vip_meta", dry_run=True)
    assert r["status"] == "ok" and r["adds"] == 10
    (r,) = shop.run("vip_meta")
    assert r["status"] == "error" and r["error_type"] == "ConfigError" and "META_TOKEN" in r["error"]


def test_a_refused_release_still_removes_people_who_said_no(shop: Shop, fakes: dict[str, Any]) -> None:
    from tests.sync.helpers import expected

    shop.build(list(range(1, 11)))
    shop.run("vip_meta")
    shop.build(list(range(1, 4)))  # below the minimum of 5: refused
    shop.consent([2], "ads_targeting", "ads", status="withdrawn")
    (r,) = shop.run("vip_meta")
    assert r["status"] == "refused" and r["removes"] == 1
    assert fakes["meta"].audience == expected("meta", set(range(1, 11)) - {2})
