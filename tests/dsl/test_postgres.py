"""The PostgreSQL output of every reference segment returns the same members as DuckDB."""

from __future__ import annotations

import os
import uuid

import pytest

import dsl
from tests.dsl import reference as ref
from tests.dsl.conftest import make_catalog
from tests.dsl.test_execute import NAMES, RULES, _opts

pytestmark = pytest.mark.postgres

DDL = """
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, city TEXT, business_type TEXT, signup_date DATE,
                        credit_limit NUMERIC(18, 2));
CREATE TABLE events (event_id TEXT, customer_id TEXT, event_type TEXT, ts TIMESTAMP, amount NUMERIC(18, 2),
                     category TEXT, properties JSON);
CREATE TABLE consent_events (seq BIGINT, customer_id TEXT, purpose TEXT, channel TEXT, status TEXT, basis TEXT,
                             effective_at TIMESTAMP, expires_at TIMESTAMP);
CREATE TABLE objections (customer_id TEXT, scope TEXT, effective_at TIMESTAMP);
CREATE TABLE segment_builds (build_id BIGINT, segment TEXT, as_of TIMESTAMP);
CREATE TABLE segment_members (build_id BIGINT, segment TEXT, customer_id TEXT, control BOOLEAN);
CREATE TABLE customer_merges (old_id TEXT, new_id TEXT, merged_at TIMESTAMP);
"""


@pytest.fixture(scope="module")
def pg():
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(os.environ.get("CDP_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres"),
                               autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no PostgreSQL server: {type(exc).__name__}")
    schema = f"dsl_{uuid.uuid4().hex[:8]}"
    conn.execute(f"CREATE SCHEMA {schema}")
    conn.execute(f"SET search_path TO {schema}")
    conn.execute(DDL)
    data = ref.generate()
    duck = ref.load_store(data)
    for table, cols in [
        ("customers", "customer_id, city, business_type, signup_date, credit_limit"),
        ("events", "event_id, customer_id, event_type, ts, amount, category, properties"),
        ("consent_events", "seq, customer_id, purpose, channel, status, basis, effective_at, expires_at"),
        ("objections", "customer_id, scope, effective_at"),
        ("segment_builds", "build_id, segment, as_of"),
        ("segment_members", "build_id, segment, customer_id, control"),
        ("customer_merges", "old_id, new_id, merged_at"),
    ]:
        rows = duck.execute(f"SELECT {cols} FROM {table}").fetchall()
        marks = ", ".join(["%s"] * len(cols.split(",")))
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
    yield conn, duck
    conn.execute(f"DROP SCHEMA {schema} CASCADE")
    conn.close()


@pytest.mark.parametrize("name", NAMES)
def test_postgres_matches_duckdb(pg, name: str) -> None:
    conn, duck = pg
    checked = dsl.check(dsl.loads(RULES), make_catalog())
    seg = dsl.compile_segment(checked, name, _opts())
    want = set(duck.execute(seg.sql("duckdb")).fetchall())
    got = set(conn.execute(seg.sql("postgres")).fetchall())
    assert got == want
