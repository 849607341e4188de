"""Fixtures of the engines tests: the real PostgreSQL/MariaDB servers, one Spark session, and a
small generated workspace (customers, events, consents, objections, merges) in the store.

Servers: PostgreSQL 127.0.0.1:5432 db ``test`` (``CDP_TEST_PG_DSN`` overrides), MariaDB
127.0.0.1:3306 db ``test`` (``CDP_TEST_MYSQL_DSN``). Under CI (``CI=true``) a test whose
server is unreachable fails; locally it skips with the reason. Every test works in its own
schema/table names and drops them afterwards.
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cdp.store import open_store

PG_DSN = os.environ.get("CDP_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3")
MYSQL_DSN = os.environ.get("CDP_TEST_MYSQL_DSN", "host=127.0.0.1 port=3306 user=root database=test")
AS_OF = "2026-01-31"
AS_OF_LOCAL = datetime(2026, 1, 31)
DEMO_SEGMENTS = Path(__file__).resolve().parents[2] / "cdp" / "demo" / "segments"

CITIES = ["İstanbul", "ISTANBUL", "istanbul", "Istanbul", "Ankara", "İzmir", "Iğdır", "IĞDIR", "Bursa", None]
TYPES = ["grocery", "market", "restaurant", "cafe", "hotel", "kiosk", "catering", "office"]
CATEGORIES = ["beverages", "dry_food", "dairy", "snacks", "tobacco"]


def unavailable(what: str, why: str) -> None:
    """Fail under CI, skip (with the reason shown by -ra) elsewhere."""
    message = f"{what} is not reachable ({why})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + "; CI needs it (see .ci/run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_DSN) as con:
            con.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not there"
        unavailable("PostgreSQL at 127.0.0.1:5432", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return PG_DSN


@pytest.fixture
def pg_schema(pg_dsn: str) -> Iterator[str]:
    """A fresh schema name, dropped with everything in it after the test."""
    import psycopg

    name = f"cdp_t_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="session")
def mysql_dsn() -> str:
    try:
        import pymysql

        from connectors.sources.mysql import parse_mysql_dsn

        pymysql.connect(**parse_mysql_dsn(MYSQL_DSN), connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001
        unavailable("MariaDB at 127.0.0.1:3306", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return MYSQL_DSN


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one local[2] Spark session of the test run (about 8 s and 1 GB to start)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        unavailable("pyspark", "not installed: pip install -e '.[spark]'")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("Java", "no java on PATH and no JAVA_HOME")
    from cdp.config.engines import SparkEngineConfig
    from cdp.engines.spark import shared_session, stop_session

    session = shared_session(
        SparkEngineConfig(master="local[2]", options={
            "spark.driver.memory": "1g",
            # tiny data: one shuffle partition and no adaptive re-planning halve the run time
            "spark.sql.shuffle.partitions": "1",
            "spark.sql.adaptive.enabled": "false",
        })
    )
    yield session
    stop_session()


# -- generated data ------------------------------------------------------------------------
def generate(n_customers: int = 150, seed: int = 11) -> dict[str, list[dict[str, Any]]]:
    """Customers c0000.. with Turkish city spellings, events over two years, ties in spend."""
    rng = random.Random(seed)
    customers, events, consents, objections, merges = [], [], [], [], []
    eid = 0
    for i in range(n_customers):
        cid = f"c{i:04d}"
        customers.append({
            "customer_id": cid,
            "city": rng.choice(CITIES),
            "business_type": rng.choice(TYPES),
            "recipient_type": rng.choice(["TACIR", "BIREYSEL"]),
            "signup_date": date(2024, 1, 1) + timedelta(days=rng.randrange(0, 760)),
            "employees": rng.choice([None, 1, 2, 3, 7, 10, 15]),
        })
        # every 9th customer buys exactly the same basket: ties at top-N% borders
        twin = i % 9 == 0
        for k in range(3 if twin else rng.choice([0, 0, 1, 2, 5, 10, 20, 30])):
            eid += 1
            if twin:
                ts = AS_OF_LOCAL - timedelta(days=10 * (k + 1), hours=3)
                kind, amount, qty = "purchase", 1234.50, 7
            else:
                ts = AS_OF_LOCAL - timedelta(minutes=rng.randrange(1, 60 * 24 * 730))
                kind = rng.choices(["purchase", "return", "visit"], [8, 1, 2])[0]
                amount = round(rng.uniform(50, 5000), 2) if kind != "visit" else None
                qty = rng.randrange(1, 20) if kind != "visit" else None
            events.append({
                "event_id": f"e{eid:06d}", "customer_id": cid, "event_type": kind, "ts": ts, "amount": amount,
                "category": rng.choice(CATEGORIES) if kind != "visit" else None,
                "store_id": f"s{rng.randrange(1, 6)}", "quantity": qty,
            })
        # consent history on email/sms/any, some expired, some withdrawn
        for purpose, channel in (("email_marketing", "email"), ("sms_marketing", "sms"), ("email_marketing", "any")):
            if rng.random() < 0.5:
                at = datetime(2025, 1, 1) + timedelta(days=rng.randrange(0, 420))
                status = rng.choice(["granted", "granted", "withdrawn"])
                expires = at + timedelta(days=rng.choice([30, 400, 900])) if rng.random() < 0.3 else None
                consents.append({"customer_id": cid, "purpose": purpose, "channel": channel, "status": status,
                                 "effective_at": at, "expires_at": expires})
        if rng.random() < 0.05:
            objections.append({"customer_id": cid, "scope": "direct_marketing",
                               "effective_at": datetime(2025, 6, 1) + timedelta(days=rng.randrange(0, 300))})
    merges.append({"old_id": "c9998", "new_id": "c0001", "merged_at": datetime(2025, 12, 1)})
    return {"customers": customers, "events": events, "consents": consents, "objections": objections,
            "merges": merges}


def write_store(path: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    """The generated data straight into a migrated store (traits/properties as ingestion adds them)."""
    with open_store(path) as con:
        for ddl in (
            "ALTER TABLE customers ADD COLUMN city VARCHAR",
            "ALTER TABLE customers ADD COLUMN business_type VARCHAR",
            "ALTER TABLE customers ADD COLUMN recipient_type VARCHAR",
            "ALTER TABLE customers ADD COLUMN signup_date DATE",
            "ALTER TABLE customers ADD COLUMN employees BIGINT",
            "ALTER TABLE events ADD COLUMN category VARCHAR",
            "ALTER TABLE events ADD COLUMN store_id VARCHAR",
            "ALTER TABLE events ADD COLUMN quantity BIGINT",
        ):
            con.execute(ddl)
        # through Arrow: executemany inserts row by row and is slow on a busy machine
        import pyarrow as pa

        def insert(sql: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
            table = pa.table({c: [r.get(c) for r in rows] for c in columns}) if rows else None
            if table is None:
                return
            con.register("_rows", table)
            con.execute(sql)
            con.unregister("_rows")

        insert(
            "INSERT INTO customers (customer_id, first_seen_at, updated_at, city, business_type, recipient_type, "
            "signup_date, employees) SELECT customer_id, TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-01', city, "
            "business_type, recipient_type, signup_date, employees FROM _rows",
            data["customers"], ["customer_id", "city", "business_type", "recipient_type", "signup_date", "employees"],
        )
        insert(
            "INSERT INTO events (event_id, customer_id, event_type, ts, amount, source, category, store_id, quantity) "
            "SELECT event_id, customer_id, event_type, ts, CAST(amount AS DECIMAL(18, 2)), 'test', category, "
            "store_id, quantity FROM _rows",
            data["events"],
            ["event_id", "customer_id", "event_type", "ts", "amount", "category", "store_id", "quantity"],
        )
        insert(
            "INSERT INTO consent_events (seq, customer_id, purpose, channel, status, basis, effective_at, "
            "recorded_at, expires_at, payload, payload_digest, prev_hash, hash, evidence) "
            "SELECT nextval('consent_seq'), customer_id, purpose, channel, status, 'consent', effective_at, "
            "effective_at, expires_at, '{}', 'd', 'p', 'h', 'form-123' FROM _rows",
            data["consents"], ["customer_id", "purpose", "channel", "status", "effective_at", "expires_at"],
        )
        insert(
            "INSERT INTO objections (customer_id, scope, effective_at, recorded_at, source) "
            "SELECT customer_id, scope, effective_at, effective_at, 'test' FROM _rows",
            data["objections"], ["customer_id", "scope", "effective_at"],
        )
        insert(
            "INSERT INTO customer_merges (old_id, new_id, merged_at) SELECT old_id, new_id, merged_at FROM _rows",
            data["merges"], ["old_id", "new_id", "merged_at"],
        )


@dataclass
class EngineWorkspace:
    root: Path

    @property
    def store_path(self) -> Path:
        return self.root / ".cdp" / "store.duckdb"

    def store(self) -> Any:
        return open_store(self.store_path)

    def cli(self, *args: str) -> Any:
        from typer.testing import CliRunner

        from cdp.cli import app

        return CliRunner().invoke(app, list(args), catch_exceptions=True)

    def cli_json(self, *args: str) -> Any:
        import json

        result = self.cli(*args, "--json")
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)

    def workspace(self) -> Any:
        from cdp.workspace import Workspace

        return Workspace(self.root)


@pytest.fixture
def make_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., EngineWorkspace]:
    def make(config: str = "", n_customers: int = 150, seed: int = 11, segments: bool = False) -> EngineWorkspace:
        root = tmp_path / "ws"
        (root / "segments").mkdir(parents=True)
        (root / "cdp.toml").write_text(
            '[workspace]\nname = "test"\ntimezone = "Europe/Istanbul"\n' + config, encoding="utf-8"
        )
        write_store(root / ".cdp" / "store.duckdb", generate(n_customers, seed))
        if segments:
            for name in ("metrics.seg", "value_tiers.seg", "campaigns.seg", "rfm.seg", "models.seg"):
                shutil.copy(DEMO_SEGMENTS / name, root / "segments" / name)
            shutil.copy(Path(__file__).with_name("language.seg"), root / "segments" / "language.seg")
        monkeypatch.setenv("CDP_WORKSPACE", str(root))
        monkeypatch.chdir(root)
        return EngineWorkspace(root)

    return make
