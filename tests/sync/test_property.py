"""End state = released audience after any sequence of builds, consent changes and erasures.

One shop per test; hypothesis draws sequences of steps applied to it one example after
the other, so later examples start from whatever state earlier ones left (which is the
point: the invariant must hold from any state). After every sequence both syncs run and
each fake must hold exactly what the gate releases, computed here from a plain model.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sync.conftest import Shop, toml_for
from tests.sync.helpers import expected

POOL = list(range(1, 16))
MIN_META = 5  # [privacy] min_audience_size in the test workspace

step = st.one_of(
    st.tuples(st.just("build"), st.sets(st.sampled_from(POOL), min_size=3, max_size=12)),
    st.tuples(st.just("withdraw"), st.sampled_from(POOL)),
    st.tuples(st.just("grant"), st.sampled_from(POOL)),
    st.tuples(st.just("erase"), st.sampled_from(POOL)),
)


def test_fake_audiences_equal_the_released_audience(tmp_path: Path, fakes: dict[str, Any], secrets_env: None) -> None:
    shop = Shop(tmp_path / "prop", toml_for(fakes, tmp_path / "out"))
    shop.add_customers(POOL)
    shop.grant_all(POOL)
    model: dict[str, Any] = {"segment": set(POOL[:8]), "withdrawn": set(), "erased": set(), "clock": 0,
                             "meta": set()}
    shop.build(sorted(model["segment"]))

    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(step, min_size=1, max_size=4))
    def run(steps: list[tuple[str, Any]]) -> None:
        for kind, arg in steps:
            model["clock"] += 1
            at = datetime(2026, 2, 1) + timedelta(minutes=model["clock"])
            if kind == "build":
                model["segment"] = set(arg) - model["erased"]
                shop.build(sorted(model["segment"]))
            elif arg in model["erased"]:
                continue
            elif kind == "withdraw":
                shop.grant_all([arg], status="withdrawn", at=at)
                model["withdrawn"].add(arg)
            elif kind == "grant":
                shop.grant_all([arg], at=at)
                model["withdrawn"].discard(arg)
            else:
                shop.erase(arg)
                model["erased"].add(arg)
                model["segment"].discard(arg)
        released = model["segment"] - model["withdrawn"] - model["erased"]
        results = {r["sync"]: r for r in shop.run("vip_meta", "vip_sms")}
        assert results["vip_sms"]["status"] == "ok", results
        assert fakes["webhook"].audience == expected("webhook", released)
        if len(released) >= MIN_META:
            assert results["vip_meta"]["status"] == "ok", results
            model["meta"] = released
        else:  # refused by the gate: nothing new is sent, but people who said no still leave
            assert results["vip_meta"]["status"] == "refused", results
            model["meta"] = model["meta"] - model["withdrawn"] - model["erased"]
        assert fakes["meta"].audience == expected("meta", model["meta"])

    run()
