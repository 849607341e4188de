"""A sync leaves each platform holding exactly the released audience (DESTINATIONS.md, "Sync semantics")."""

from __future__ import annotations

import json
from typing import Any

from tests.sync.conftest import Shop, cid, email_of, toml_for
from tests.sync.helpers import SYNC_OF, assert_end_state

ALL = tuple(SYNC_OF.values())


def statuses(results: list[dict[str, Any]]) -> dict[str, str]:
    return {r["sync"]: r["status"] for r in results}


def test_first_sync_then_nothing_to_do(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    results = shop.run(*ALL, "vip_file")
    assert set(statuses(results).values()) == {"ok"}, results
    assert_end_state(fakes, range(1, 11))
    for r in results:
        assert r["adds"] == 10 and r["removes"] == 0
        assert r["sent"] == 10 and r["accepted"] == 10
        assert r["justification_digest"] and len(r["justification_digest"]) == 64
    before = {k: len(f.requests) for k, f in fakes.items()}
    again = shop.run(*ALL)
    assert all(r["adds"] == 0 and r["removes"] == 0 and r["status"] == "ok" for r in again)
    assert {k: len(f.requests) for k, f in fakes.items()} == before  # nothing sent
    assert shop.state("vip_meta") == {cid(i) for i in range(1, 11)}


def test_receipts_add_up(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    (r,) = shop.run("vip_meta")
    rec = shop.ws.sync.receipts(r["run_id"])
    assert [x["batch_no"] for x in rec] == [1, 2, 3]  # batch_size 4
    assert sum(x["members"] for x in rec) == r["adds"] == 10
    assert all(x["status"] == "confirmed" and x["consent_digest"] for x in rec)
    assert sum(x["response"]["counts"]["num_received"] for x in rec) == 10
    assert r["platform_counts"]["add"]["num_received"] == 10


def test_mirror_follows_the_build_and_withdrawals(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    shop.run(*ALL)
    shop.build(list(range(3, 13)))  # 1, 2 leave; 11, 12 arrive
    shop.consent([5], "email_marketing", "email", status="withdrawn")
    shop.consent([5], "ads_targeting", "ads", status="withdrawn")
    shop.consent([5], "sms_marketing", "sms", status="withdrawn")
    results = shop.run(*ALL)
    assert set(statuses(results).values()) == {"ok"}, results
    want = set(range(3, 13)) - {5}
    assert_end_state(fakes, want)
    r = {x["sync"]: x for x in results}["vip_meta"]
    assert r["removal_reasons"] == {"left": 2, "revoked": 1}
    assert r["exclusions"] == {"withdrawn": 1}
    assert fakes["klaviyo"].profiles  # the withdrawn profile was unsubscribed on Klaviyo too
    assert any(p["consent"] == "UNSUBSCRIBED" for p in fakes["klaviyo"].profiles.values())
    assert fakes["mailchimp"].members[email_of(5).lower()] == "unsubscribed"


def test_upsert_keeps_leavers_but_removes_people_who_said_no(tmp_path, fakes: dict[str, Any], secrets_env: None) -> None:  # type: ignore[no-untyped-def]
    shop = Shop(tmp_path / "s", toml_for(fakes, tmp_path / "out", mode="upsert"))
    shop.add_customers(list(range(1, 11)))
    shop.grant_all(list(range(1, 11)))
    shop.build(list(range(1, 11)))
    shop.run("vip_meta", "vip_sms")
    shop.build(list(range(1, 9)))  # 9, 10 leave: upsert keeps them
    shop.consent([2], "ads_targeting", "ads", status="refused")
    shop.consent([2], "sms_marketing", "sms", status="withdrawn")
    shop.run("vip_meta", "vip_sms")
    assert_end_state(fakes, set(range(1, 11)) - {2}, kinds=("meta", "webhook"))


def test_erasure_goes_through_the_removal_queue_to_every_platform(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    shop.run(*ALL)
    rid = shop.erase(4)
    with shop.ws.store() as con:
        queued = con.execute("SELECT count(*) FROM removal_queue WHERE request_id = ?", [rid]).fetchone()[0]
    assert queued == len(ALL)
    results = shop.run(*ALL)
    assert set(statuses(results).values()) == {"ok"}, results
    assert_end_state(fakes, set(range(1, 11)) - {4})
    with shop.ws.store() as con:
        assert con.execute("SELECT count(*) FROM removal_queue WHERE status <> 'done'").fetchone()[0] == 0
    assert fakes["mailchimp"].deleted_permanently  # erasure is delete-permanent, not archive
    assert fakes["klaviyo"].deleted
    again = shop.run(*ALL)
    assert all(r["removes"] == 0 for r in again)


def test_control_group_is_never_sent(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)), control=(1, 2))
    (r,) = shop.run("vip_meta")
    assert r["exclusions"] == {"control": 2}
    assert_end_state(fakes, range(3, 11), kinds=("meta",))


def test_receipts_and_outputs_hold_no_identifier(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    results = shop.run(*ALL, "vip_file")
    results += shop.run(*ALL, dry_run=True)
    text = json.dumps(results, default=str)
    with shop.ws.store() as con:
        for table in ("sync_runs", "sync_receipts", "sync_state", "audit_log"):
            text += json.dumps(con.execute(f"SELECT * FROM {table}").fetchall(), default=str)
    raw = shop.ws.store_path.read_bytes()
    for i in range(1, 13):
        for value in (email_of(i), email_of(i).lower(), "532" + f"{i:03d}"):
            assert value not in text
            assert value.encode() not in raw


def test_no_identifier_reaches_the_logs(shop: Shop, fakes: dict[str, Any], caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    caplog.set_level(logging.DEBUG)
    shop.build(list(range(1, 11)))
    results = shop.run("vip_klaviyo", "vip_mail")  # Klaviyo looks profiles up by email in the URL
    assert {r["status"] for r in results} == {"ok"}
    for i in range(1, 11):
        assert email_of(i).lower() not in caplog.text
        assert email_of(i).lower().replace("@", "%40") not in caplog.text
