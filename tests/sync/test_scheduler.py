"""The scheduler: cron in the workspace time zone, catch-up once, isolation, clean stop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cdp.sync.scheduler import next_fire
from tests.sync.conftest import AS_OF, RETRY, Shop
from tests.sync.helpers import assert_end_state


@pytest.fixture
def sched_shop(tmp_path: Path, fakes: dict[str, Any], secrets_env: None) -> Shop:
    wh = fakes["webhook"]
    toml = f"""
[workspace]
timezone = "Europe/Istanbul"
[destinations.sms]
kind = "webhook"
url = "{wh.url}/hook"
secret_env = "WH_SECRET"
country = "TR"
fields = ["email_sha256"]
retry = {RETRY}
[destinations.broken]
kind = "webhook"
url = "{wh.url}/hook"
secret_env = "NOT_SET_ANYWHERE"
country = "TR"
[syncs.broken_first]
segment = "vip"
destination = "broken"
purpose = "sms_marketing"
schedule = "0 6 * * *"
[syncs.vip_sms]
segment = "vip"
destination = "sms"
purpose = "sms_marketing"
schedule = "0 6 * * *"
[syncs.manual]
segment = "vip"
destination = "sms"
purpose = "sms_marketing"
"""
    shop = Shop(tmp_path / "sched", toml)
    shop.add_customers(list(range(1, 6)))
    shop.grant_all(list(range(1, 6)))
    shop.build(list(range(1, 6)))
    return shop


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_cron_times_are_in_the_workspace_time_zone() -> None:
    # 06:00 in Istanbul (UTC+3) is 03:00 UTC
    assert next_fire("0 6 * * *", utc(2026, 6, 2, 0, 0), "Europe/Istanbul") == utc(2026, 6, 2, 3, 0)
    assert next_fire("0 6 * * *", utc(2026, 6, 2, 3, 0), "Europe/Istanbul") == utc(2026, 6, 3, 3, 0)


def test_due_runs_once_catches_up_once_and_a_failure_does_not_stop_others(sched_shop: Shop, fakes: dict[str, Any]) -> None:
    ws = sched_shop.ws
    now = {"t": utc(2026, 6, 2, 2, 0)}  # 05:00 local
    runs: list[str] = []

    def run(name: str) -> dict[str, Any]:
        runs.append(name)
        return ws.sync.run_one(name, as_of=AS_OF, sleep=lambda s: None)

    sched = ws.sync.scheduler(clock=lambda: now["t"], run=run)
    assert sched.tick() == []  # first sight: no catch-up of history
    listing = {i["sync"]: i for i in ws.sync.schedule(now["t"])}
    assert set(listing) == {"broken_first", "vip_sms"}
    assert listing["vip_sms"]["next_run_local"] == datetime(2026, 6, 2, 6, 0)
    assert listing["vip_sms"]["next_run_utc"] == datetime(2026, 6, 2, 3, 0)

    now["t"] = utc(2026, 6, 2, 3, 30)
    results = {r["sync"]: r for r in sched.tick()}
    assert results["broken_first"]["status"] == "error"
    assert "NOT_SET_ANYWHERE" in results["broken_first"]["error"]
    assert results["vip_sms"]["status"] == "ok"
    assert_end_state(fakes, range(1, 6), kinds=("webhook",))
    assert sched.tick() == []  # not twice for the same time

    now["t"] = utc(2026, 6, 5, 12, 0)  # three 06:00s missed while stopped
    sched2 = ws.sync.scheduler(clock=lambda: now["t"], run=run)
    assert [i["catch_up"] for i in ws.sync.schedule(now["t"])] == [True, True]
    assert sorted(r["sync"] for r in sched2.tick()) == ["broken_first", "vip_sms"]  # once each
    assert sched2.tick() == []
    assert runs.count("vip_sms") == 2


def test_run_forever_stops_cleanly(sched_shop: Shop) -> None:
    ws = sched_shop.ws
    sched = ws.sync.scheduler(clock=lambda: utc(2026, 6, 2, 2, 0), run=lambda n: {"status": "ok"})
    t = threading.Thread(target=sched.run_forever)
    t.start()
    sched.stop()
    t.join(10)
    assert not t.is_alive()


def test_seconds_until_next_is_capped(sched_shop: Shop) -> None:
    sched = sched_shop.ws.sync.scheduler(clock=lambda: utc(2026, 6, 2, 2, 59, 30))
    sched.tick()
    assert sched.seconds_until_next() == pytest.approx(30.0, abs=1)
    assert timedelta(seconds=sched.seconds_until_next(utc(2026, 6, 2, 1, 0))) <= timedelta(seconds=60)
