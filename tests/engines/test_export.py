"""`cdp export parquet DIR`: layout, contents equal to the store, minimization, safe overwrite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.engines.conftest import EngineWorkspace


def _store_value(ws: EngineWorkspace, sql: str) -> object:
    with ws.store() as con:
        return con.execute(sql).fetchone()[0]


def test_export_writes_every_table_and_partitions_events_by_month(
    make_workspace: Callable[..., EngineWorkspace], tmp_path: Path
) -> None:
    ws = make_workspace()
    out = tmp_path / "lake"
    result = ws.cli_json("export", "parquet", str(out))
    assert result["tables"]["customers"] == _store_value(ws, "SELECT count(*) FROM customers")
    assert result["tables"]["events"] == _store_value(ws, "SELECT count(*) FROM events")
    months = _store_value(ws, "SELECT count(DISTINCT strftime(ts, '%Y-%m')) FROM events")
    assert result["event_months"] == months
    assert len(list((out / "events").glob("event_month=*"))) == months

    con = duckdb.connect()
    events = f"read_parquet('{out}/events/*/*.parquet', hive_partitioning = true)"
    n, total, wrong = con.execute(
        f"SELECT count(*), sum(amount), count(*) FILTER (WHERE strftime(ts, '%Y-%m') != event_month) FROM {events}"
    ).fetchone()
    assert (n, wrong) == (result["tables"]["events"], 0)
    assert total == _store_value(ws, "SELECT sum(amount) FROM events")
    # traits added by ingestion travel with the table
    cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM '{out}/customers.parquet'").fetchall()}
    assert {"customer_id", "city", "business_type", "signup_date", "employees"} <= cols
    manifest = json.loads((out / "_cdp_export.json").read_text())
    assert manifest["tables"] == result["tables"] and manifest["timezone"] == "Europe/Istanbul"


def test_export_leaves_identifiers_and_consent_evidence_behind(
    make_workspace: Callable[..., EngineWorkspace], tmp_path: Path
) -> None:
    ws = make_workspace()
    out = tmp_path / "lake"
    ws.cli_json("export", "parquet", str(out))
    names = {p.name for p in out.iterdir()}
    assert not names & {"identities.parquet", "vault.parquet", "suppressions.parquet", "audit_log.parquet",
                        "sync_state.parquet"}
    cols = {r[0] for r in duckdb.connect().execute(f"DESCRIBE SELECT * FROM '{out}/consent_events.parquet'").fetchall()}
    assert "customer_id" in cols and "status" in cols
    assert not cols & {"payload", "evidence", "actor", "id_hash", "iys_transaction_id"}
    with ws.store() as con:
        action = con.execute("SELECT action FROM audit_log WHERE action = 'engine.export'").fetchall()
    assert action == [("engine.export",)]


def test_export_replaces_an_earlier_export_but_never_a_foreign_folder(
    make_workspace: Callable[..., EngineWorkspace], tmp_path: Path
) -> None:
    ws = make_workspace()
    out = tmp_path / "lake"
    ws.cli_json("export", "parquet", str(out))
    with ws.store() as con:
        con.execute("DELETE FROM events WHERE customer_id = 'c0003'")
    again = ws.cli_json("export", "parquet", str(out))
    n = duckdb.connect().execute(
        f"SELECT count(*) FILTER (WHERE customer_id = 'c0003'), count(*) FROM read_parquet('{out}/events/*/*.parquet')"
    ).fetchone()
    assert n == (0, again["tables"]["events"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".lake")]  # no temp folders left

    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"x")
    result = ws.cli("export", "parquet", str(foreign))
    assert result.exit_code == 1
    assert "refusing to overwrite" in result.output
    assert [p.name for p in foreign.iterdir()] == ["holiday.jpg"]


@pytest.mark.spark
def test_spark_reads_the_export(make_workspace: Callable[..., EngineWorkspace], tmp_path: Path, spark: object) -> None:
    from cdp.engines.spark import register_export

    ws = make_workspace()
    out = tmp_path / "lake"
    ws.cli_json("export", "parquet", str(out))
    assert "events" in register_export(spark, out)
    row = spark.sql(  # type: ignore[attr-defined]
        "SELECT count(*) AS n, sum(amount) AS s, max(ts) AS m FROM events"
    ).collect()[0]
    with ws.store() as con:
        n, s, m = con.execute("SELECT count(*), sum(amount), max(ts) FROM events").fetchone()
    assert (row["n"], row["s"], row["m"]) == (n, s, m)


def test_spark_builds_reexport_only_when_the_store_changed(
    make_workspace: Callable[..., EngineWorkspace], tmp_path: Path
) -> None:
    from cdp.engines.run import ensure_export

    ws = make_workspace()
    out = tmp_path / "export"
    with ws.store() as con:
        assert ensure_export(con, out, "Europe/Istanbul") is True
        assert ensure_export(con, out, "Europe/Istanbul") is False
        con.execute("UPDATE customers SET business_type = 'changed' WHERE customer_id = 'c0001'")
        assert ensure_export(con, out, "Europe/Istanbul") is True
        con.execute("DELETE FROM segment_members")  # any shipped table counts
        assert ensure_export(con, out, "Europe/Istanbul") is False  # it was empty: nothing changed
        someone = con.execute("SELECT min(customer_id) FROM consent_events").fetchone()[0]
        con.execute("DELETE FROM consent_events WHERE customer_id = ?", [someone])  # an erasure
        assert ensure_export(con, out, "Europe/Istanbul") is True
