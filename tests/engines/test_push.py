"""`cdp engine push postgres` against the real server: full first push, incremental after,
erasures carried over, new traits recreate the table, secrets kept out of messages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engines.conftest import EngineWorkspace

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_ws(make_workspace: Callable[..., EngineWorkspace], pg_dsn: str, pg_schema: str,
          monkeypatch: pytest.MonkeyPatch) -> tuple[EngineWorkspace, str]:
    monkeypatch.setenv("SHOP_PG", pg_dsn)
    ws = make_workspace(f'[engines.postgres]\ndsn_env = "SHOP_PG"\nschema = "{pg_schema}"\n')
    return ws, pg_schema


def _pg(dsn: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(dsn) as con:
        return con.execute(sql, params).fetchall()


def test_first_push_copies_the_tables_then_nothing_moves(pg_ws: tuple[EngineWorkspace, str], pg_dsn: str) -> None:
    ws, schema = pg_ws
    first = ws.cli_json("engine", "push", "postgres")
    with ws.store() as con:
        n_events, total = con.execute("SELECT count(*), sum(amount) FROM events").fetchone()
        n_customers = con.execute("SELECT count(*) FROM customers").fetchone()[0]
        n_consents = con.execute("SELECT count(*) FROM consent_events").fetchone()[0]
    assert first["schema"] == schema
    assert first["tables"]["events"]["rows_sent"] == n_events
    assert _pg(pg_dsn, f'SELECT count(*), sum(amount) FROM "{schema}".events') == [(n_events, total)]
    assert _pg(pg_dsn, f'SELECT count(*) FROM "{schema}".customers') == [(n_customers,)]
    assert _pg(pg_dsn, f'SELECT count(*) FROM "{schema}".consent_events') == [(n_consents,)]
    # money stays exact, the consent evidence stays home
    assert _pg(pg_dsn, "SELECT numeric_precision, numeric_scale FROM information_schema.columns "
                       "WHERE table_schema = %s AND table_name = 'events' AND column_name = 'amount'",
               [schema]) == [(18, 2)]
    cols = {r[0] for r in _pg(pg_dsn, "SELECT column_name FROM information_schema.columns "
                                      "WHERE table_schema = %s AND table_name = 'consent_events'", [schema])}
    assert "status" in cols and not cols & {"payload", "evidence", "actor", "id_hash"}

    second = ws.cli_json("engine", "push", "postgres")
    assert second["rows_sent"] == 0
    assert all(t["buckets_rewritten"] == 0 for t in second["tables"].values())


def test_push_is_incremental_and_carries_deletions(pg_ws: tuple[EngineWorkspace, str], pg_dsn: str) -> None:
    ws, schema = pg_ws
    ws.cli_json("engine", "push", "postgres")
    with ws.store() as con:
        con.execute(
            "INSERT INTO events (event_id, customer_id, event_type, ts, amount, source) "
            "VALUES ('new1', 'c0001', 'purchase', TIMESTAMP '2026-02-03 10:00', 10.00, 'test')"
        )
        in_month = con.execute("SELECT count(*) FROM events WHERE strftime(ts, '%Y-%m') = '2026-02'").fetchone()[0]
        # an erasure: the customer's rows go, everywhere
        con.execute("DELETE FROM events WHERE customer_id = 'c0005'")
        con.execute("DELETE FROM customers WHERE customer_id = 'c0005'")
        con.execute("DELETE FROM consent_events WHERE customer_id = 'c0005'")
        n_events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    result = ws.cli_json("engine", "push", "postgres")
    events = result["tables"]["events"]
    assert 1 <= events["buckets_rewritten"] < events["buckets"]
    assert events["rows_sent"] < n_events and events["rows_sent"] >= in_month
    assert _pg(pg_dsn, f'SELECT count(*) FROM "{schema}".events') == [(n_events,)]
    for table in ("events", "customers", "consent_events"):
        assert _pg(pg_dsn, f'SELECT count(*) FROM "{schema}".{table} WHERE customer_id = %s', ["c0005"]) == [(0,)]
    assert _pg(pg_dsn, f'SELECT count(*) FROM "{schema}".events WHERE event_id = %s', ["new1"]) == [(1,)]


def test_a_new_trait_recreates_the_table_and_full_push_resends(pg_ws: tuple[EngineWorkspace, str],
                                                               pg_dsn: str) -> None:
    ws, schema = pg_ws
    ws.cli_json("engine", "push", "postgres")
    with ws.store() as con:
        con.execute("ALTER TABLE customers ADD COLUMN district VARCHAR")
        con.execute("UPDATE customers SET district = 'Kadıköy' WHERE customer_id = 'c0002'")
        n = con.execute("SELECT count(*) FROM customers").fetchone()[0]
    result = ws.cli_json("engine", "push", "postgres")
    assert result["tables"]["customers"]["rows_sent"] == n
    assert result["tables"]["events"]["rows_sent"] == 0
    assert _pg(pg_dsn, f'SELECT district FROM "{schema}".customers WHERE customer_id = %s', ["c0002"]) == [("Kadıköy",)]
    full = ws.cli_json("engine", "push", "postgres", "--full")
    assert full["tables"]["events"]["rows_sent"] == full["tables"]["events"]["rows"] > 0


def test_push_without_dsn_or_with_a_bad_one_says_so_without_the_secret(
    make_workspace: Callable[..., EngineWorkspace], monkeypatch: pytest.MonkeyPatch, pg_dsn: str
) -> None:
    monkeypatch.delenv("CDP_PG_DSN", raising=False)
    ws = make_workspace()
    result = ws.cli("engine", "push", "postgres")
    assert result.exit_code == 1 and "CDP_PG_DSN" in result.output
    secret = f"pw{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("CDP_PG_DSN", f"host=127.0.0.1 port=1 dbname=test user=postgres password={secret}")
    result = ws.cli("engine", "push", "postgres")
    assert result.exit_code == 1 and "cannot connect" in result.output
    assert secret not in result.output
    result = ws.cli("engine", "push", "oracle")
    assert result.exit_code == 1 and "unknown engine 'oracle'" in result.output


def test_push_is_recorded_in_the_audit_log(pg_ws: tuple[EngineWorkspace, str]) -> None:
    ws, schema = pg_ws
    ws.cli_json("engine", "push", "postgres")
    with ws.store() as con:
        rows = con.execute("SELECT target FROM audit_log WHERE action = 'engine.push'").fetchall()
    assert rows == [(f"postgres:{schema}",)]


# -- property: whatever happens in the store between pushes, the copy equals the store ----

_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add_event"), st.integers(0, 30), st.integers(0, 149)),   # month offset, customer
        st.tuples(st.just("erase"), st.integers(0, 149), st.just(0)),
        st.tuples(st.just("retype"), st.integers(0, 149), st.integers(0, 3)),
        st.tuples(st.just("drop_month"), st.integers(0, 24), st.just(0)),
    ),
    min_size=1,
    max_size=6,
)

_CONTENT = {
    "events": "SELECT count(*), coalesce(sum(amount), 0), count(DISTINCT event_id), count(DISTINCT customer_id) "
              "FROM {t}",
    "customers": "SELECT count(*), count(DISTINCT customer_id), count(DISTINCT business_type), "
                 "count(*) FILTER (WHERE business_type = 'office') FROM {t}",
}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(_OPS, min_size=1, max_size=2))
def test_after_any_changes_a_push_leaves_an_exact_copy(
    pg_ws: tuple[EngineWorkspace, str], pg_dsn: str, rounds: list[list[tuple[str, int, int]]]
) -> None:
    ws, schema = pg_ws
    ws.cli_json("engine", "push", "postgres", "--full")
    for ops in rounds:
        with ws.store() as con:
            for op, a, b in ops:
                if op == "add_event":
                    ts = datetime(2026, 1, 15) - timedelta(days=30 * a)
                    con.execute(
                        "INSERT INTO events (event_id, customer_id, event_type, ts, amount, source) "
                        "VALUES (?, ?, 'purchase', ?, 12.34, 'prop')",
                        [f"p{uuid.uuid4().hex}", f"c{b:04d}", ts],
                    )
                elif op == "erase":
                    con.execute("DELETE FROM events WHERE customer_id = ?", [f"c{a:04d}"])
                    con.execute("DELETE FROM customers WHERE customer_id = ?", [f"c{a:04d}"])
                elif op == "retype":
                    con.execute("UPDATE customers SET business_type = ? WHERE customer_id = ?",
                                [["office", "cafe", "hotel", None][b], f"c{a:04d}"])
                else:
                    start = datetime(2026, 1, 1) - timedelta(days=31 * a)
                    con.execute("DELETE FROM events WHERE strftime(ts, '%Y-%m') = strftime(?::TIMESTAMP, '%Y-%m')",
                                [start])
            want = {t: con.execute(q.format(t=t)).fetchone() for t, q in _CONTENT.items()}
        ws.cli_json("engine", "push", "postgres")
        got = {t: _pg(pg_dsn, q.format(t=f'"{schema}".{t}'))[0] for t, q in _CONTENT.items()}
        assert {t: tuple(map(str, v)) for t, v in got.items()} == {t: tuple(map(str, v)) for t, v in want.items()}


def test_push_never_replaces_a_table_it_did_not_create(pg_ws: tuple[EngineWorkspace, str], pg_dsn: str) -> None:
    import psycopg

    ws, schema = pg_ws
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
        con.execute(f'CREATE TABLE "{schema}".customers (musteri_no int)')
        con.execute(f'INSERT INTO "{schema}".customers VALUES (42)')
    result = ws.cli("engine", "push", "postgres")
    assert result.exit_code == 1 and "did not create" in result.output
    assert _pg(pg_dsn, f'SELECT musteri_no FROM "{schema}".customers') == [(42,)]
