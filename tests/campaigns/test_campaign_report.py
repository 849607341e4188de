"""Campaign reports on generated data with a planted uplift (recovered within its interval)
and with none (the report says so); the control group passes the same gate rules."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from cdp.campaigns.service import CampaignService
from cdp.errors import CDPError, NotFoundError
from cdp.store import open_store
from cdp.workspace import Workspace

N = 4000


def _insert(con, sql: str, columns: dict[str, list]) -> None:  # noqa: ANN001
    """Bulk insert through an Arrow table (executemany is slow for thousands of rows)."""
    con.register("_rows", pa.table(columns))
    try:
        con.execute(sql)
    finally:
        con.unregister("_rows")


def _workspace(tmp_path: Path, p_treat: float, p_control: float, seed: int) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "cdp.toml").write_text('[workspace]\nname = "kampanya"\ntimezone = "Europe/Istanbul"\n', encoding="utf-8")
    ws = Workspace(root)
    rnd = random.Random(seed)
    with open_store(ws.store_path) as con:
        ids = [f"c_{i:05d}" for i in range(N)]
        control = {cid: rnd.random() < 0.2 for cid in ids}
        _insert(con, "INSERT INTO customers (customer_id, first_seen_at, updated_at) "
                "SELECT customer_id, now()::TIMESTAMP, now()::TIMESTAMP FROM _rows", {"customer_id": ids})
        con.execute("INSERT INTO segment_builds (build_id, segment, as_of, built_at, members, control, purposes, holdout_pct) "
                    "VALUES (1, 'horeca', '2026-09-30', now()::TIMESTAMP, ?, ?, ['email_marketing'], 20)",
                    [N, sum(control.values())])
        _insert(con, "INSERT INTO segment_members SELECT 1, 'horeca', customer_id, control FROM _rows",
                {"customer_id": ids, "control": [control[c] for c in ids]})
        consents = []
        for n, cid in enumerate(ids):
            status = "withdrawn" if n % 10 == 0 else "granted"      # 10% said no, in both groups
            consents.append((n + 1, cid, status))
        _insert(
            con,
            "INSERT INTO consent_events (seq, customer_id, purpose, channel, status, effective_at, recorded_at, "
            "payload_digest, prev_hash, hash) SELECT seq, customer_id, 'email_marketing', 'email', status, "
            "'2026-01-01', now()::TIMESTAMP, 'd', 'p', 'h' FROM _rows",
            {"seq": [c[0] for c in consents], "customer_id": [c[1] for c in consents], "status": [c[2] for c in consents]},
        )
        events = []
        for cid in ids:
            # pre-period (2026-09-01..09-30): same behaviour for everyone
            if rnd.random() < 0.2:
                events.append((f"pre_{cid}", cid, datetime(2026, 9, 1) + timedelta(days=rnd.randint(0, 29)), rnd.uniform(100, 500)))
            p = p_control if control[cid] else p_treat
            if rnd.random() < p:
                events.append((f"in_{cid}", cid, datetime(2026, 10, 1) + timedelta(days=rnd.randint(0, 29), hours=10),
                               rnd.uniform(100, 500)))
            if rnd.random() < 0.5:   # after the campaign: never counted
                events.append((f"post_{cid}", cid, datetime(2026, 11, 2), 999.0))
        _insert(con, "INSERT INTO events (event_id, customer_id, event_type, ts, amount) "
                "SELECT event_id, customer_id, 'purchase', ts, amount FROM _rows",
                {"event_id": [e[0] for e in events], "customer_id": [e[1] for e in events],
                 "ts": [e[2] for e in events], "amount": [round(e[3], 2) for e in events]})
    return ws


def test_planted_uplift_is_recovered(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, p_treat=0.30, p_control=0.20, seed=11)
    svc = CampaignService(ws)
    svc.create("ekim_horeca", "horeca", "2026-10-01", "2026-10-30")
    r = svc.report("ekim_horeca")
    g = r["groups"]
    assert g["treatment_before"] + g["control_before"] == N
    # the 10% who withdrew are excluded from BOTH groups
    assert g["excluded"]["treatment"]["withdrawn"] > 0 and g["excluded"]["control"]["withdrawn"] > 0
    assert g["treatment_after"] < g["treatment_before"] and g["control_after"] < g["control_before"]
    diff = r["response_rate"]["difference"]
    assert diff["low"] <= 0.10 <= diff["high"] and diff["low"] > 0
    assert r["response_rate"]["p_value"] < 0.05
    assert r["verdict"] == "uplift"
    assert r["revenue_per_member"]["difference"]["estimate"] > 0
    assert r["pre_period"]["groups_alike"] is True


def test_no_planted_uplift_says_no_difference(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, p_treat=0.20, p_control=0.20, seed=5)
    svc = CampaignService(ws)
    svc.create("null_case", "horeca", "2026-10-01", "2026-10-30")
    r = svc.report("null_case")
    diff = r["response_rate"]["difference"]
    assert diff["low"] <= 0.0 <= diff["high"]
    assert r["verdict"] == "no_significant_difference"


def test_campaign_errors_are_clear(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, 0.2, 0.2, seed=1)
    svc = CampaignService(ws)
    with pytest.raises(CDPError):
        svc.create("bad", "horeca", "2026-10-30", "2026-10-01")
    svc.create("early", "horeca", "2026-09-01", "2026-09-10")   # before any build
    with pytest.raises(NotFoundError) as err:
        svc.report("early")
    assert "--as-of 2026-09-01" in (err.value.hint or "")
    with pytest.raises(NotFoundError) as err:
        svc.report("earyl")
    assert err.value.suggestion == "early"
