"""Two runs of the same sync never overlap (DESTINATIONS.md, "Locks")."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any

from cdp.sync import locks
from tests.sync.conftest import AS_OF, Shop
from tests.sync.helpers import assert_end_state


def test_a_held_lock_makes_the_second_run_exit_clearly(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    with shop.ws.store() as con:
        locks.acquire(con, "vip_sms", locks.new_holder())  # this (live) process holds it
    (r,) = shop.run("vip_sms")
    assert r["status"] == "error" and r["error_type"] == "SyncLockedError"
    assert "already running" in r["error"]
    assert fakes["webhook"].requests == []
    assert next(s for s in shop.ws.sync.status() if s["sync"] == "vip_sms")["running_now"]


def test_a_lock_left_by_a_dead_process_or_expired_is_taken_over(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with shop.ws.store() as con:
        locks.acquire(con, "vip_sms", f"{os.uname().nodename}:{dead.pid}:dead")
        locks.acquire(con, "vip_meta", "otherhost:1:x", ttl=timedelta(seconds=-1))  # expired
    results = shop.run("vip_sms", "vip_meta")
    assert [r["status"] for r in results] == ["ok", "ok"]
    with shop.ws.store() as con:
        assert con.execute("SELECT count(*) FROM locks").fetchone()[0] == 0  # released after the run
    assert_end_state(fakes, range(1, 11), kinds=("webhook", "meta"))


def test_two_concurrent_cli_runs_one_waits_or_exits_and_the_audience_is_right(shop: Shop, fakes: dict[str, Any]) -> None:
    shop.build(list(range(1, 11)))
    fakes["webhook"].hang_seconds = 1.0
    fakes["webhook"].fail("hang")  # the first request is slow: both processes overlap
    env = {**os.environ, "CDP_WORKSPACE": str(shop.ws.root), "CDP_STORE_WAIT": "20"}
    cmd = [sys.executable, "-c", "from cdp.cli import main; main()", "sync", "run", "vip_sms", "--as-of", AS_OF, "--json"]
    started = datetime.now()
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = [p.returncode for p in procs]
    assert datetime.now() - started < timedelta(seconds=120)
    assert 0 in codes, outs
    for code, (out, err) in zip(codes, outs):
        if code != 0:  # the loser says why, in one paragraph, no traceback
            assert "already running" in out + err or "in use by another process" in out + err, (out, err)
            assert "Traceback" not in err
    assert_end_state(fakes, range(1, 11), kinds=("webhook",))
    assert fakes["webhook"].applied == len(fakes["webhook"].keys)  # no batch applied twice
