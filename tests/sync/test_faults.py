"""Throttling, 5xx, timeouts, garbage, 4xx and a killed process (DESTINATIONS.md, "Batches", "Retries")."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from tests.sync.conftest import AS_OF, Shop
from tests.sync.helpers import SYNC_OF, assert_end_state

KINDS = tuple(SYNC_OF)


def test_transient_faults_are_retried_to_the_right_end_state(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    faults = ["throttle", "500", "timeout", "garbage", "drop"]
    for n, kind in enumerate(KINDS):
        fakes[kind].fail("ok")  # the first request goes through, then each fault once
        for fault in faults[n:] + faults[:n]:
            fakes[kind].fail(fault)
    waits: list[float] = []
    results = shop.run(*SYNC_OF.values(), sleep=waits.append)
    assert {r["status"] for r in results} == {"ok"}, results
    assert_end_state(fakes, range(1, 11))
    assert waits and max(waits) <= 0.01  # backoff from cdp.toml (tiny in tests)
    for r in results:
        rec = shop.ws.sync.receipts(r["run_id"])
        assert sum(x["members"] for x in rec if x["status"] == "confirmed") == 10
        assert sum(x["attempts"] - 1 for x in rec) >= 1


def test_klaviyo_retry_after_is_honoured(shop: Shop, fakes: dict[str, Any]) -> None:
    fakes["klaviyo"].retry_after = "0.005"
    fakes["klaviyo"].fail("throttle")
    shop.build(list(range(1, 11)))
    waits: list[float] = []
    (r,) = shop.run("vip_klaviyo", sleep=waits.append)
    assert r["status"] == "ok"
    assert waits == [0.005]


def test_a_4xx_fails_its_batch_the_run_goes_on_and_ends_partial(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    fakes["meta"].token = "rotated"  # every request now answers 400 code 190
    (r,) = shop.run("vip_meta")
    assert r["status"] == "failed" and r["failed_batches"] == 3
    assert "Invalid OAuth access token" in r["error"]
    fakes["meta"].token = "meta-token"
    fakes["meta"].max_rows = 2  # batches of 4 are over the fake's limit, the last one (2) is not
    (r,) = shop.run("vip_meta")
    assert r["status"] == "partial", r
    assert r["failed_batches"] == 2 and r["batches"] == {"confirmed": 1, "failed": 2}
    assert len(fakes["meta"].audience) == 2
    fakes["meta"].max_rows = 10_000
    (r,) = shop.run("vip_meta")  # the failed members are still owed: the next run sends them
    assert r["status"] == "ok" and r["adds"] == 8
    assert_end_state(fakes, range(1, 11), kinds=("meta",))


def test_an_outage_stops_the_run_and_the_next_run_finishes_it(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    fakes["meta"].fail("ok")
    fakes["meta"].fail("500", 50)
    (r,) = shop.run("vip_meta")
    assert r["status"] == "partial" and r["batches"]["pending"] == 2
    fakes["meta"].faults.clear()
    (r2,) = shop.run("vip_meta")
    assert r2["status"] == "ok" and r2["adds"] == 0  # the interrupted run was resumed first
    history = shop.ws.sync.history("vip_meta")
    assert history[1]["status"] == "ok"  # the first run, finished by the resume
    assert_end_state(fakes, range(1, 11), kinds=("meta",))
    seen = fakes["meta"].batches_seen
    assert all(n == 1 for n in seen.values()), seen  # no batch applied twice


_CHILD = textwrap.dedent(
    """
    import sys
    from cdp.workspace import Workspace
    print(Workspace(sys.argv[1]).sync.run([sys.argv[2]], as_of=sys.argv[3]))
    """
)


@pytest.mark.parametrize("seed", [random.randrange(1000)])
def test_a_process_killed_at_a_random_batch_is_resumed_without_loss_or_duplicate(
    shop: Shop, fakes: dict[str, Any], seed: int
) -> None:
    shop.add_customers(list(range(13, 21)))
    shop.grant_all(list(range(13, 21)))
    members = list(range(1, 21))
    shop.build(members)
    rng = random.Random(seed)
    for kind, sync in (("webhook", "vip_sms"), ("meta", "vip_meta")):
        fake = fakes[kind]
        fake.hang_seconds = 30
        k = rng.randint(1, 4)
        fake.fail("ok", k - 1)
        fake.fail("hang")  # the platform applies batch k, then the sender is killed before the answer
        env = {**os.environ, "PYTHONPATH": str(shop.ws.root.parents[3]) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(shop.ws.root), sync, AS_OF], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=os.getcwd())
        try:
            assert fake.hung.wait(60), child.communicate(timeout=5)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        fake.faults.clear()
        (r,) = shop.run(sync)
        assert r["status"] == "ok", r
        assert_end_state(fakes, members, kinds=(kind,))
        runs = shop.ws.sync.history(sync)
        killed = runs[1]
        assert killed["status"] == "ok" and killed["sent"] == 20  # finished by the resume: receipts add up
        if kind == "webhook":
            # the batches in flight when the process died (up to the webhook's concurrency, 2)
            # came again with the same Idempotency-Key, and each was applied once
            assert 1 <= fake.duplicates <= 2
            assert fake.applied == len(fake.keys)
        else:
            assert sorted(fake.batches_seen.values()).count(2) <= 1  # only the killed batch was seen twice


def test_platform_messages_are_scrubbed_of_identifiers_before_they_are_stored() -> None:
    from cdp.sync.receipts import scrub

    text = scrub("mailchimp: Jane.Doe@Example.com looks fake or invalid; +90 532 123 45 67 (HTTP 400)")
    assert "Example.com" not in text and "532" not in text
    assert text.endswith("(HTTP 400)")
