"""A small workspace with generated customers and events, for the segment tests.

Data are made here (seeded), written straight into the store with ``open_store``; rule
files are written by each test. ``AS_OF`` is the evaluation time most tests use.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cdp.store import open_store

AS_OF = "2026-01-31"
AS_OF_LOCAL = datetime(2026, 1, 31)

CITIES = ["İstanbul", "ISTANBUL", "istanbul", "Ankara", "İzmir", "Iğdır", "Bursa"]
TYPES = ["grocery", "market", "restaurant", "cafe", "hotel", "kiosk", "office"]
CATEGORIES = ["beverages", "dry_food", "dairy", "snacks", "tobacco"]


@dataclass
class Dataset:
    customers: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def generate(n_customers: int = 120, seed: int = 7) -> Dataset:
    """Customers c0000.. with traits and 0..30 events each over the 2 years before AS_OF."""
    rng = random.Random(seed)
    data = Dataset()
    eid = 0
    for i in range(n_customers):
        cid = f"c{i:04d}"
        data.customers.append({
            "customer_id": cid,
            "city": rng.choice(CITIES),
            "business_type": rng.choice(TYPES),
            "recipient_type": rng.choice(["TACIR", "BIREYSEL"]),
            "signup_date": date(2024, 1, 1) + timedelta(days=rng.randrange(0, 760)),
        })
        for _ in range(rng.choice([0, 0, 1, 2, 5, 10, 20, 30])):
            ts = AS_OF_LOCAL - timedelta(minutes=rng.randrange(1, 60 * 24 * 730))
            kind = rng.choices(["purchase", "return", "visit"], [8, 1, 2])[0]
            eid += 1
            data.events.append({
                "event_id": f"e{eid:06d}",
                "customer_id": cid,
                "event_type": kind,
                "ts": ts,
                "amount": round(rng.uniform(50, 5000), 2) if kind != "visit" else None,
                "category": rng.choice(CATEGORIES) if kind != "visit" else None,
                "store_id": f"s{rng.randrange(1, 6)}",
                "quantity": rng.randrange(1, 20) if kind != "visit" else None,
            })
    return data


def write_store(path: Path, data: Dataset) -> None:
    """Create the store and load the data through Arrow (row-by-row inserts are slow in DuckDB)."""
    import pyarrow as pa

    customers = pa.table({k: [c[k] for c in data.customers] for k in data.customers[0]})
    events = pa.table({
        k: pa.array([e[k] for e in data.events], type=pa.float64() if k == "amount" else None)
        for k in data.events[0]
    })
    with open_store(path) as con:
        con.execute("ALTER TABLE customers ADD COLUMN city VARCHAR")
        con.execute("ALTER TABLE customers ADD COLUMN business_type VARCHAR")
        con.execute("ALTER TABLE customers ADD COLUMN recipient_type VARCHAR")
        con.execute("ALTER TABLE customers ADD COLUMN signup_date DATE")
        con.execute("ALTER TABLE events ADD COLUMN category VARCHAR")
        con.execute("ALTER TABLE events ADD COLUMN store_id VARCHAR")
        con.execute("ALTER TABLE events ADD COLUMN quantity BIGINT")
        con.register("_customers", customers)
        con.register("_events", events)
        con.execute(
            "INSERT INTO customers (customer_id, first_seen_at, updated_at, city, business_type, recipient_type, "
            "signup_date) SELECT customer_id, TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-01', city, business_type, "
            "recipient_type, signup_date FROM _customers"
        )
        con.execute(
            "INSERT INTO events (event_id, customer_id, event_type, ts, amount, source, category, store_id, quantity) "
            "SELECT event_id, customer_id, event_type, ts, amount, 'test', category, store_id, quantity FROM _events"
        )
        con.unregister("_customers")
        con.unregister("_events")


@dataclass
class SegWorkspace:
    root: Path
    data: Dataset
    runner: CliRunner

    @property
    def segments_dir(self) -> Path:
        return self.root / "segments"

    def write_rules(self, name: str, text: str) -> Path:
        path = self.segments_dir / name
        path.write_text(text, encoding="utf-8")
        return path

    def cli(self, *args: str) -> Any:
        from cdp.cli import app

        return self.runner.invoke(app, list(args), catch_exceptions=True)

    def cli_json(self, *args: str) -> Any:
        import json

        result = self.cli(*args, "--json")
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)

    def store(self) -> Any:
        return open_store(self.root / ".cdp" / "store.duckdb")


@pytest.fixture(scope="session")
def _template_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Dataset]:
    """The default dataset's store, made once per session and copied by each test."""
    data = generate()
    path = tmp_path_factory.mktemp("segments-template") / "store.duckdb"
    write_store(path, data)
    return path, data


@pytest.fixture
def make_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _template_store: tuple[Path, Dataset]
) -> Callable[..., SegWorkspace]:
    made = [0]

    def make(config: str = "", n_customers: int = 120, seed: int = 7) -> SegWorkspace:
        """A new workspace (several per test are fine); the last one made is the current one."""
        import shutil

        made[0] += 1
        root = tmp_path / ("ws" if made[0] == 1 else f"ws{made[0]}")
        (root / "segments").mkdir(parents=True)
        (root / ".cdp").mkdir()
        (root / "cdp.toml").write_text(
            '[workspace]\nname = "test"\ntimezone = "Europe/Istanbul"\n' + config, encoding="utf-8"
        )
        if (n_customers, seed) == (120, 7):
            template, data = _template_store
            shutil.copy(template, root / ".cdp" / "store.duckdb")
        else:
            data = generate(n_customers, seed)
            write_store(root / ".cdp" / "store.duckdb", data)
        monkeypatch.setenv("CDP_WORKSPACE", str(root))
        monkeypatch.chdir(root)
        return SegWorkspace(root=root, data=data, runner=CliRunner())

    return make


@pytest.fixture
def ws(make_workspace: Callable[..., SegWorkspace]) -> SegWorkspace:
    return make_workspace()
