"""A small workspace with builds, consents and a sync run, inserted directly."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cdp.store import open_store
from cdp.workspace import Workspace


def _make(root: Path) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cdp.toml").write_text('[workspace]\nname = "rapor"\ntimezone = "Europe/Istanbul"\n', encoding="utf-8")
    return Workspace(root)


@pytest.fixture()
def report_ws(tmp_path: Path) -> Workspace:
    ws = _make(tmp_path / "ws")
    rnd = random.Random(7)
    with open_store(ws.store_path) as con:
        con.execute("ALTER TABLE customers ADD COLUMN city VARCHAR")
        con.execute("ALTER TABLE events ADD COLUMN category VARCHAR")
        cities = ["İstanbul", "İzmir", "Ankara", "Iğdır"]
        ids = [f"c_{i:05d}" for i in range(300)]
        for i, cid in enumerate(ids):
            con.execute("INSERT INTO customers (customer_id, first_seen_at, updated_at, city) VALUES (?, now()::TIMESTAMP, now()::TIMESTAMP, ?)",
                        [cid, cities[0] if i < 200 else cities[1 + i % 3]])
        ev = []
        for i, cid in enumerate(ids):
            for k in range(rnd.randint(0, 6)):
                ts = datetime(2026, 10, 1) - timedelta(days=rnd.randint(1, 400))
                ev.append((f"e{i}_{k}", cid, "purchase", ts, round(rnd.uniform(10, 900), 2), rnd.choice(["beverages", "dairy"])))
        con.executemany("INSERT INTO events (event_id, customer_id, event_type, ts, amount, category) VALUES (?, ?, ?, ?, ?, ?)", ev)
        for b, (seg, as_of, members) in enumerate([
            ("platinum", datetime(2026, 9, 1), ids[:15]), ("gold", datetime(2026, 9, 1), ids[15:80]),
            ("platinum", datetime(2026, 10, 1), ids[5:20]), ("gold", datetime(2026, 10, 1), ids[20:90]),
            ("tiny", datetime(2026, 10, 1), ids[290:293]),
        ], start=1):
            con.execute("INSERT INTO segment_builds (build_id, segment, as_of, built_at, members, control, purposes) "
                        "VALUES (?, ?, ?, now()::TIMESTAMP, ?, 0, ['email_marketing'])", [b, seg, as_of, len(members)])
            con.executemany("INSERT INTO segment_members VALUES (?, ?, ?, false)", [(b, seg, c) for c in members])
        for n, cid in enumerate(ids[:120]):
            con.execute(
                "INSERT INTO consent_events (seq, customer_id, purpose, channel, status, effective_at, recorded_at, "
                "payload_digest, prev_hash, hash) VALUES (?, ?, 'email_marketing', 'email', ?, ?, now()::TIMESTAMP, 'd', 'p', 'h')",
                [n + 1, cid, "granted" if n % 7 else "withdrawn", datetime(2026, 1, 1)],
            )
        con.execute("INSERT INTO sync_runs (run_id, sync, destination, segment, build_id, purpose, started_at, status, "
                    "dry_run, adds, removes, exclusions) VALUES (1, 'gold_to_file', 'files', 'gold', 4, 'email_marketing', "
                    "now()::TIMESTAMP, 'ok', true, 60, 0, '{\"control\": 4, \"no_basis\": 6}')")
    return ws
