"""Fixtures of the models area: a small demo-like wholesale dataset in a real workspace."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from cdp.workspace import Workspace

AS_OF = datetime(2026, 6, 1)
# behaviour groups of a cash & carry's customers: (share, mean days between visits, basket TRY, lapse days)
GROUPS = (
    (0.12, 6, 9000, 0),       # big regular buyers (hotels, markets)
    (0.30, 14, 2500, 0),      # loyal small grocers
    (0.25, 30, 1200, 0),      # occasional cafés
    (0.18, 12, 4000, 200),    # were regular, stopped ~200 days ago
    (0.15, 60, 700, 400),     # long gone
)


def make_events(n: int = 800, seed: int = 7, as_of: datetime = AS_OF) -> tuple[list[str], dict[str, list]]:
    """Customers and purchase events over two years before ``as_of``; returns ids and columns."""
    rng = np.random.default_rng(seed)
    start = as_of - timedelta(days=730)
    ids = [f"c{i:05d}" for i in range(n)]
    shares = np.array([g[0] for g in GROUPS])
    group = rng.choice(len(GROUPS), size=n, p=shares / shares.sum())
    cols: dict[str, list] = {"event_id": [], "customer_id": [], "ts": [], "amount": []}
    for cid, g in zip(ids, group):
        _, gap, basket, lapse = GROUPS[g]
        stop = as_of - timedelta(days=int(lapse * rng.uniform(0.7, 1.3))) if lapse else as_of
        t = start + timedelta(days=float(rng.uniform(0, 300)))
        k = 0
        while t < stop:
            cols["event_id"].append(f"{cid}-{k}")
            cols["customer_id"].append(cid)
            cols["ts"].append(t.replace(microsecond=0))
            cols["amount"].append(round(float(rng.lognormal(np.log(basket), 0.5)), 2))
            k += 1
            t += timedelta(days=float(rng.exponential(gap)) + 0.5)
    return ids, cols


def load_events(ws: Workspace, ids: list[str], cols: dict[str, list]) -> None:
    import pyarrow as pa

    table = pa.table({
        "event_id": cols["event_id"], "customer_id": cols["customer_id"], "ts": pa.array(cols["ts"], pa.timestamp("us")),
        "amount": cols["amount"],
    })
    with ws.store() as con:
        con.register("_ev", table)
        con.execute("INSERT INTO customers (customer_id, first_seen_at, updated_at) "
                    "SELECT unnest(?), TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-01'", [ids])
        con.execute("INSERT INTO events (event_id, customer_id, event_type, ts, amount) "
                    "SELECT event_id, customer_id, 'purchase', ts, amount FROM _ev")
        con.unregister("_ev")


def make_workspace(root: Path) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cdp.toml").write_text('[workspace]\nname = "models-test"\ntimezone = "Europe/Istanbul"\n',
                                   encoding="utf-8")
    (root / "segments").mkdir(exist_ok=True)
    return Workspace(root)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace with a store."""
    return make_workspace(tmp_path / "ws")


@pytest.fixture(scope="session")
def demo_events() -> tuple[list[str], dict[str, list]]:
    return make_events()


@pytest.fixture
def demo_ws(tmp_path: Path, demo_events: tuple[list[str], dict[str, list]]) -> Workspace:
    """A workspace holding the demo-like purchases."""
    ws = make_workspace(tmp_path / "demo")
    load_events(ws, *demo_events)
    return ws


def demo_matrix(n: int = 3000, seed: int = 3) -> np.ndarray:
    """recency, orders_90d, spend_12m for ``n`` customers from the behaviour groups (heavy-tailed)."""
    rng = np.random.default_rng(seed)
    shares = np.array([g[0] for g in GROUPS])
    group = rng.choice(len(GROUPS), size=n, p=shares / shares.sum())
    gap = np.array([g[1] for g in GROUPS])[group]
    basket = np.array([g[2] for g in GROUPS])[group]
    lapse = np.array([g[3] for g in GROUPS])[group]
    recency = np.where(lapse > 0, lapse * rng.uniform(0.7, 1.3, n), rng.exponential(gap)).round()
    orders = np.where(lapse > 0, 0, rng.poisson(90 / gap)).astype(float)
    spend = rng.lognormal(np.log(basket * 365 / gap * np.where(lapse > 0, 0.3, 1.0)), 0.6)
    return np.column_stack([recency, orders, spend])
