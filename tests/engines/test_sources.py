"""PostgreSQL and MySQL sources against the real servers: tables and queries, incremental by
cursor, Arrow batches of the configured size, config errors, secrets kept out of messages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from cdp.config import parse_config
from cdp.errors import ConfigError, IngestError
from connectors.sources import SourceState, reader_for

T0 = datetime(2026, 1, 1, 9, 0, 0)


def _source(kind: str, **keys: Any) -> Any:
    lines = [f'[sources.src]\nkind = "{kind}"\nentity = "customers"\nkey = "ref"']
    for k, v in keys.items():
        lines.append(f"{k} = {json.dumps(v, ensure_ascii=False)}")
    return parse_config("\n".join(lines) + "\n").sources["src"]


def _read_all(reader: Any, state: SourceState) -> tuple[list[pa.RecordBatch], list[Any]]:
    units = reader.plan(state)
    batches = [b for u in units for b in reader.batches(u, state)]
    for u in units:  # what ingestion does once the rows are committed
        state.units[u.path] = u
    return batches, units


def _ids(batches: list[pa.RecordBatch]) -> list[int]:
    return sorted(int(v) for b in batches for v in b.column("id").to_pylist())


# -- PostgreSQL ----------------------------------------------------------------------------
@pytest.fixture
def pg_table(pg_dsn: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import psycopg

    monkeypatch.setenv("SRC_PG_DSN", pg_dsn)
    con = psycopg.connect(pg_dsn, autocommit=True)
    con.execute(f'CREATE SCHEMA "{pg_schema}"')
    con.execute(
        f'CREATE TABLE "{pg_schema}".musteri (id bigint, ref text, email text, city text, '
        "amount numeric(12,2), props jsonb, uid uuid, updated_at timestamp)"
    )

    def insert(first: int, last: int, at: datetime) -> None:
        with con.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{pg_schema}".musteri VALUES (%s, %s, %s, %s, %s, %s, gen_random_uuid(), %s)',
                [(i, f"R{i}", f"user{i}@example.com", "İstanbul", i * 1.25, '{"a": 1}', at + timedelta(seconds=i))
                 for i in range(first, last + 1)],
            )

    yield pg_schema, insert
    con.close()


@pytest.mark.postgres
def test_postgres_table_reads_incrementally_by_cursor_in_batches(pg_table: Any) -> None:
    schema, insert = pg_table
    insert(1, 25, T0)
    reader = reader_for("src", _source("postgres", dsn_env="SRC_PG_DSN", table=f"{schema}.musteri",
                                       cursor="updated_at", batch_size=10), Path("."))
    state = SourceState()
    batches, units = _read_all(reader, state)
    assert _ids(batches) == list(range(1, 26))
    assert max(b.num_rows for b in batches) <= 10 and len(batches) >= 3
    assert units[0].path == f"table:{schema}.musteri" and units[0].rows == 25
    assert batches[0].column("_file")[0].as_py() == f"table:{schema}.musteri"
    lines = sorted(v for b in batches for v in b.column("_line").to_pylist())
    assert lines == list(range(1, 26))
    # raw values arrive as text, as from the file readers; ingestion parses them per declared type
    assert {f.type for f in batches[0].schema if f.name != "_line"} == {pa.string()}
    first = next(r for b in batches for r in b.to_pylist() if r["id"] == "1")
    assert first["amount"] == "1.25" and first["updated_at"] == "2026-01-01 09:00:01"
    assert first["email"] == "user1@example.com" and first["props"] == '{"a": 1}'

    assert reader.plan(state) == []  # nothing new
    insert(26, 30, T0 + timedelta(days=1))
    batches, units = _read_all(reader, state)
    assert _ids(batches) == list(range(26, 31))
    assert units[0].rows == 30
    assert [v for b in batches for v in b.column("_line").to_pylist()] == list(range(26, 31))


@pytest.mark.postgres
def test_postgres_query_source_with_percent_and_cursor(pg_table: Any) -> None:
    schema, insert = pg_table
    insert(1, 12, T0)
    query = f"SELECT id, ref, city FROM \"{schema}\".musteri WHERE ref LIKE 'R%'"
    reader = reader_for("src", _source("postgres", dsn_env="SRC_PG_DSN", query=query, cursor="id"), Path("."))
    state = SourceState()
    batches, units = _read_all(reader, state)
    assert _ids(batches) == list(range(1, 13))
    assert units[0].path == "query:src" and units[0].cursor == "12"
    assert set(batches[0].schema.names) == {"id", "ref", "city", "_file", "_line"}
    insert(13, 14, T0)
    batches, _ = _read_all(reader, state)
    assert _ids(batches) == [13, 14]


@pytest.mark.postgres
def test_postgres_without_cursor_reads_everything_each_run(pg_table: Any) -> None:
    schema, insert = pg_table
    insert(1, 5, T0)
    reader = reader_for("src", _source("postgres", dsn_env="SRC_PG_DSN", table=f"{schema}.musteri"), Path("."))
    state = SourceState()
    assert _ids(_read_all(reader, state)[0]) == [1, 2, 3, 4, 5]
    assert _ids(_read_all(reader, state)[0]) == [1, 2, 3, 4, 5]


@pytest.mark.postgres
def test_postgres_errors_never_show_the_dsn(pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"s3cr3t{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("SRC_PG_DSN", f"host=127.0.0.1 port=1 dbname=test user=postgres password={secret} connect_timeout=2")
    reader = reader_for("src", _source("postgres", dsn_env="SRC_PG_DSN", table="public.nothing"), Path("."))
    with pytest.raises(IngestError) as err:
        reader.plan(SourceState())
    assert secret not in str(err.value) and err.value.source == "src"


def test_database_source_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as err:
        reader_for("src", _source("postgres", dsn_env="X", table="t", query="SELECT 1"), Path("."))
    assert err.value.key == "sources.src"
    with pytest.raises(ConfigError) as err:
        reader_for("src", _source("mysql", table="t"), Path("."))
    assert err.value.key == "sources.src.dsn_env"
    with pytest.raises(ConfigError) as err:
        reader_for("src", _source("postgres", dsn_env="X", table="t; DROP TABLE x"), Path("."))
    assert err.value.key == "sources.src.table"
    with pytest.raises(ConfigError):
        reader_for("src", _source("postgres", dsn_env="X", table="t", batch_size=0), Path("."))
    monkeypatch.delenv("NOT_SET_DSN", raising=False)
    reader = reader_for("src", _source("postgres", dsn_env="NOT_SET_DSN", table="t"), Path("."))
    with pytest.raises(IngestError) as ierr:
        reader.plan(SourceState())
    assert "NOT_SET_DSN" in str(ierr.value)


# -- MySQL / MariaDB -----------------------------------------------------------------------
@pytest.fixture
def my_table(mysql_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import pymysql

    from connectors.sources.mysql import parse_mysql_dsn

    monkeypatch.setenv("SRC_MY_DSN", mysql_dsn)
    name = f"cdp_t_{uuid.uuid4().hex[:10]}"
    con = pymysql.connect(**parse_mysql_dsn(mysql_dsn), autocommit=True, charset="utf8mb4")
    cur = con.cursor()
    cur.execute(f"CREATE TABLE `{name}` (id BIGINT PRIMARY KEY, ref VARCHAR(20), city VARCHAR(40), "
                "amount DECIMAL(12,2), active TINYINT(1), updated_at DATETIME(6))")

    def insert(first: int, last: int, at: datetime) -> None:
        cur.executemany(
            f"INSERT INTO `{name}` VALUES (%s, %s, %s, %s, %s, %s)",
            [(i, f"R{i}", "Iğdır", i * 2.5, i % 2, at + timedelta(seconds=i)) for i in range(first, last + 1)],
        )

    yield name, insert
    cur.execute(f"DROP TABLE IF EXISTS `{name}`")
    con.close()


@pytest.mark.mysql
def test_mysql_table_reads_incrementally_by_timestamp_cursor(my_table: Any) -> None:
    name, insert = my_table
    insert(1, 23, T0)
    reader = reader_for("src", _source("mysql", dsn_env="SRC_MY_DSN", table=name, cursor="updated_at",
                                       batch_size=10), Path("."))
    state = SourceState()
    batches, units = _read_all(reader, state)
    assert _ids(batches) == list(range(1, 24))
    assert max(b.num_rows for b in batches) <= 10
    assert units[0].cursor is not None and units[0].cursor.startswith("2026-01-01 09:00:23")
    assert {v for b in batches for v in b.column("city").to_pylist()} == {"Iğdır"}
    assert reader.plan(state) == []
    insert(24, 26, T0 + timedelta(hours=1))
    assert _ids(_read_all(reader, state)[0]) == [24, 25, 26]


@pytest.mark.mysql
def test_mysql_query_source_with_uri_dsn(my_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.sources.mysql import parse_mysql_dsn

    name, insert = my_table
    insert(1, 8, T0)
    p = parse_mysql_dsn(str(__import__("os").environ["SRC_MY_DSN"]))
    monkeypatch.setenv("SRC_MY_URI", f"mysql://{p['user']}@{p['host']}:{p.get('port', 3306)}/{p['database']}")
    query = f"SELECT id, ref FROM `{name}` WHERE ref LIKE 'R%'"
    reader = reader_for("src", _source("mysql", dsn_env="SRC_MY_URI", query=query, cursor="id"), Path("."))
    state = SourceState()
    assert _ids(_read_all(reader, state)[0]) == list(range(1, 9))
    insert(9, 9, T0)
    assert _ids(_read_all(reader, state)[0]) == [9]


def test_mysql_dsn_forms() -> None:
    from connectors.sources.mysql import parse_mysql_dsn

    assert parse_mysql_dsn("mysql://u:p%40ss@db.local:3307/shop") == {
        "host": "db.local", "port": 3307, "user": "u", "password": "p@ss", "database": "shop"}
    assert parse_mysql_dsn("host=h user=u passwd='a b' db=shop") == {
        "host": "h", "user": "u", "password": "a b", "database": "shop"}
    with pytest.raises(ValueError):
        parse_mysql_dsn("server=h")
