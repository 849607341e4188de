"""`cdp ingest` from a PostgreSQL table and a MySQL query: the same mapping keys as file
sources, the same pseudonymization before anything is stored, incremental on re-run."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cdp.cli import app


def _workspace(root: Path, sources: str) -> None:
    (root / "segments").mkdir(parents=True)
    (root / "cdp.toml").write_text(
        '[workspace]\nname = "db"\ntimezone = "Europe/Istanbul"\n\n' + sources, encoding="utf-8"
    )


def _ingest(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["ingest", *args, "--json"], catch_exceptions=True)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def _rows(report: dict[str, Any], source: str, key: str) -> int:
    for s in report.get("sources", []):
        if s.get("source") == source:
            return int(s.get(key) or 0)
    raise AssertionError(f"no report for {source}: {report}")


@pytest.fixture
def pg_customers(pg_dsn: str, pg_schema: str) -> Iterator[tuple[str, Any]]:
    import psycopg

    con = psycopg.connect(pg_dsn, autocommit=True)
    con.execute(f'CREATE SCHEMA "{pg_schema}"')
    con.execute(f'CREATE TABLE "{pg_schema}".cari (kod text, eposta text, telefon text, sehir text, '
                "tip text, guncelleme timestamp)")

    def add(first: int, last: int, at: datetime) -> None:
        with con.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{pg_schema}".cari VALUES (%s, %s, %s, %s, %s, %s)',
                [(f"K{i}", f"musteri{i}@ornek.com.tr", f"0532 555 {i:04d}", "İstanbul", "cafe",
                  at + timedelta(minutes=i)) for i in range(first, last + 1)],
            )

    yield pg_schema, add
    con.close()


@pytest.mark.postgres
def test_ingest_from_postgres_pseudonymizes_and_is_incremental(
    pg_customers: tuple[str, Any], pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, add = pg_customers
    add(1, 40, datetime(2026, 1, 2, 8, 0))
    root = tmp_path / "ws"
    _workspace(root, f"""
[sources.erp]
kind = "postgres"
dsn_env = "ERP_DSN"
table = "{schema}.cari"
cursor = "guncelleme"
batch_size = 16
entity = "customers"
key = "kod"
identifiers = {{ email = "eposta", phone = "telefon" }}
traits = {{ city = {{ type = "text", column = "sehir" }}, business_type = {{ type = "text", column = "tip" }} }}
""")
    monkeypatch.setenv("ERP_DSN", pg_dsn)
    monkeypatch.setenv("CDP_WORKSPACE", str(root))
    monkeypatch.chdir(root)
    first = _ingest()
    assert _rows(first, "erp", "rows_read") == 40
    from cdp.store import open_store

    with open_store(root / ".cdp" / "store.duckdb") as con:
        assert con.execute("SELECT count(*), count(DISTINCT city) FROM customers").fetchone() == (40, 1)
    raw = (root / ".cdp" / "store.duckdb").read_bytes()
    assert b"musteri7@ornek.com.tr" not in raw and b"555 0007" not in raw

    again = _ingest()
    assert _rows(again, "erp", "rows_read") == 0
    add(41, 45, datetime(2026, 1, 3, 8, 0))
    third = _ingest()
    assert _rows(third, "erp", "rows_read") == 5
    with open_store(root / ".cdp" / "store.duckdb") as con:
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 45


@pytest.mark.mysql
def test_ingest_events_from_a_mysql_query(mysql_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pymysql

    from connectors.sources.mysql import parse_mysql_dsn

    table = f"cdp_t_{uuid.uuid4().hex[:10]}"
    con = pymysql.connect(**parse_mysql_dsn(mysql_dsn), autocommit=True, charset="utf8mb4")
    cur = con.cursor()
    cur.execute(f"CREATE TABLE `{table}` (id BIGINT PRIMARY KEY, kod VARCHAR(10), tutar DECIMAL(12,2), "
                "zaman DATETIME, tur VARCHAR(20))")
    try:
        cur.executemany(f"INSERT INTO `{table}` VALUES (%s, %s, %s, %s, %s)",
                        [(i, f"K{i % 7}", 100 + i, datetime(2026, 1, 5, 10) + timedelta(hours=i), "purchase")
                         for i in range(1, 31)])
        root = tmp_path / "ws"
        _workspace(root, f"""
[sources.satis]
kind = "mysql"
dsn_env = "SATIS_DSN"
query = "SELECT id, kod, tutar, zaman, tur FROM `{table}` WHERE tur = 'purchase'"
cursor = "id"
entity = "events"
key = "kod"
event_id = "id"
event_type = "tur"
timestamp = "zaman"
amount = "tutar"
""")
        monkeypatch.setenv("SATIS_DSN", mysql_dsn)
        monkeypatch.setenv("CDP_WORKSPACE", str(root))
        monkeypatch.chdir(root)
        assert _rows(_ingest(), "satis", "rows_read") == 30
        cur.execute(f"INSERT INTO `{table}` VALUES (31, 'K1', 999.99, '2026-02-01 09:00:00', 'purchase')")
        assert _rows(_ingest(), "satis", "rows_read") == 1
        from cdp.store import open_store

        with open_store(root / ".cdp" / "store.duckdb") as store:
            n, total, customers = store.execute(
                "SELECT count(*), sum(amount), count(DISTINCT customer_id) FROM events").fetchone()
        assert (n, customers) == (31, 7)
        assert float(total) == sum(100 + i for i in range(1, 31)) + 999.99
    finally:
        cur.execute(f"DROP TABLE IF EXISTS `{table}`")
        con.close()
