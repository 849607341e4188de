"""Differential tests: the same generated data gives exactly the same members (and control
groups) on DuckDB, PostgreSQL and Spark, for the demo's segments and the language test set
(tests/engines/language.seg: date arithmetic, integer division, nulls, Turkish case
folding, top-N% ties, RFM, holdout hashing, `in segment`, `was in segment`), and the demo's
model segments (k-means clusters and churn scores compiled to SQL).

Every engine builds through the public path (`cdp segment build --engine ...`), so the
memberships compared are the ones stored for gate and sync.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engines.conftest import AS_OF, EngineWorkspace, write_store

EARLIER = "2026-01-08"  # for `was in segment ... 20 days ago`


def _members(ws: EngineWorkspace, build_ids: dict[str, int]) -> dict[str, set[tuple[str, bool]]]:
    with ws.store() as con:
        out: dict[str, set[tuple[str, bool]]] = {}
        for name, build_id in build_ids.items():
            rows = con.execute(
                "SELECT customer_id, control FROM segment_members WHERE build_id = ?", [build_id]
            ).fetchall()
            out[name] = {(str(c), bool(k)) for c, k in rows}
    return out


def _build(ws: EngineWorkspace, engine: str, as_of: str = AS_OF) -> dict[str, Any]:
    result = ws.cli_json("segment", "build", "--as-of", as_of, "--engine", engine)
    assert isinstance(result, dict) and result
    return result


def _assert_same(expected: dict[str, set[tuple[str, bool]]], got: dict[str, set[tuple[str, bool]]],
                 engine: str) -> None:
    assert set(got) == set(expected)
    diffs = {
        name: {"only_duckdb": sorted(expected[name] - got[name])[:5], "only_" + engine: sorted(got[name] - expected[name])[:5]}
        for name in expected
        if expected[name] != got[name]
    }
    assert not diffs, f"{engine} differs from duckdb: {diffs}"


@pytest.fixture
def diff_ws(make_workspace: Callable[..., EngineWorkspace]) -> Callable[[str], tuple[EngineWorkspace, dict[str, Any]]]:
    """A workspace with the demo and language segments, an earlier build, and the DuckDB reference."""

    def make(config: str = "") -> tuple[EngineWorkspace, dict[str, Any]]:
        ws = make_workspace(config, segments=True)
        # k-means compiles to SQL (nearest centre); churn is scored by formula: both per dialect
        trained = ws.cli_json("model", "train", "--as-of", EARLIER)
        assert trained
        _build(ws, "duckdb", EARLIER)
        reference = _build(ws, "duckdb")
        return ws, reference

    return make


def _check_reference_is_meaningful(reference: dict[str, Any]) -> None:
    """The test set must select someone: an empty segment on every engine proves nothing."""
    empty = sorted(n for n, r in reference.items()
                   if n.startswith("l_") and r["members"] == 0 and n != "l_icontains_no")
    assert not empty, f"segments empty on DuckDB (make the data hit them): {empty}"
    assert reference["l_holdout"]["control"] > 0
    assert reference["l_was"]["members"] > 0


@pytest.mark.postgres
def test_postgres_builds_the_same_members_as_duckdb(
    diff_ws: Callable[..., tuple[EngineWorkspace, dict[str, Any]]], pg_dsn: str, pg_schema: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIFF_PG", pg_dsn)
    ws, reference = diff_ws(f'[engines.postgres]\ndsn_env = "DIFF_PG"\nschema = "{pg_schema}"\n')
    _check_reference_is_meaningful(reference)
    got = _build(ws, "postgres")
    # --json is the same on every engine: same segments, order, sizes; only build ids differ
    assert list(got) == list(reference)
    assert {n: (r["members"], r["control"]) for n, r in got.items()} == {
        n: (r["members"], r["control"]) for n, r in reference.items()
    }
    _assert_same(
        _members(ws, {n: r["build_id"] for n, r in reference.items()}),
        _members(ws, {n: r["build_id"] for n, r in got.items()}),
        "postgres",
    )
    with ws.store() as con:
        engines = {e for (e,) in con.execute(
            "SELECT DISTINCT engine FROM segment_builds WHERE build_id IN (SELECT unnest(?))",
            [[r["build_id"] for r in got.values()]],
        ).fetchall()}
    assert engines == {"postgres"}


@pytest.mark.spark
@pytest.mark.slow
def test_spark_builds_the_same_members_as_duckdb(
    diff_ws: Callable[..., tuple[EngineWorkspace, dict[str, Any]]], spark: Any
) -> None:
    ws, reference = diff_ws()
    _check_reference_is_meaningful(reference)
    got = _build(ws, "spark")
    assert list(got) == list(reference)
    _assert_same(
        _members(ws, {n: r["build_id"] for n, r in reference.items()}),
        _members(ws, {n: r["build_id"] for n, r in got.items()}),
        "spark",
    )
    # the build exported the store first; a second build reuses the export
    export = ws.root / ".cdp" / "export" / "_cdp_export.json"
    assert export.is_file()


# -- property: for any data, PostgreSQL picks the same members as DuckDB ------------------

_RULES = """
metric spend = sum(purchase.amount) over last 3 months
metric n = count(purchase) over last 3 months
metric qty = sum(purchase.quantity) over last 1 month
metric last_days = days_since(last purchase)
segment p_top:    where spend in top 30%
segment p_bottom: where n >= 1 and spend in bottom 20%
segment p_div:    where qty / 3 >= 2 or spend / n > 300
segment p_city:   where city icontains "istanbul" or city icontains "ığdır"
segment p_recent: where last_days <= 31 and not (spend > 500)
segment p_hold:   where n >= 1
    holdout 40%
"""

_customer = st.fixed_dictionaries({
    "city": st.sampled_from(["İstanbul", "ISTANBUL", "istanbul", "Istanbul", "IĞDIR", "Iğdır", "igdir", "Ankara", None]),
    "events": st.lists(
        st.tuples(
            st.integers(0, 120),                                  # days before as_of
            st.integers(0, 23),                                    # hour
            st.sampled_from([100, 250, 250.5, 999.99]),            # amounts repeat: ties
            st.one_of(st.none(), st.integers(1, 9)),               # quantity
        ),
        max_size=4,
    ),
})


@pytest.mark.postgres
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers=st.lists(_customer, min_size=1, max_size=25))
def test_property_postgres_matches_duckdb_on_any_data(
    customers: list[dict[str, Any]], pg_dsn: str, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path_factory.mktemp("prop")
    (root / "segments").mkdir()
    schema = f"cdp_p_{uuid.uuid4().hex[:10]}"
    (root / "cdp.toml").write_text(
        f'[workspace]\ntimezone = "Europe/Istanbul"\n[engines.postgres]\ndsn_env = "PROP_PG"\nschema = "{schema}"\n',
        encoding="utf-8",
    )
    (root / "segments" / "p.seg").write_text(_RULES, encoding="utf-8")
    data: dict[str, list[dict[str, Any]]] = {"customers": [], "events": [], "consents": [], "objections": [],
                                             "merges": []}
    for i, c in enumerate(customers):
        cid = f"c{i:04d}"
        data["customers"].append({"customer_id": cid, "city": c["city"], "business_type": "cafe",
                                  "recipient_type": "TACIR", "signup_date": None, "employees": None})
        for j, (days, hour, amount, qty) in enumerate(c["events"]):
            data["events"].append({
                "event_id": f"e{i}_{j}", "customer_id": cid, "event_type": "purchase",
                "ts": datetime(2026, 1, 31) - timedelta(days=days) + timedelta(hours=hour), "amount": amount,
                "category": None, "store_id": None, "quantity": qty,
            })
    write_store(root / ".cdp" / "store.duckdb", data)
    monkeypatch.setenv("PROP_PG", pg_dsn)
    monkeypatch.setenv("CDP_WORKSPACE", str(root))
    ws = EngineWorkspace(root)
    try:
        duck = _build(ws, "duckdb")
        pg = _build(ws, "postgres")
        _assert_same(
            _members(ws, {n: r["build_id"] for n, r in duck.items()}),
            _members(ws, {n: r["build_id"] for n, r in pg.items()}),
            "postgres",
        )
    finally:
        import psycopg

        with psycopg.connect(pg_dsn, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
