"""PostgreSQL as an engine: push the pseudonymous canonical tables there, run segments there.

Connection: ``[engines.postgres] dsn_env`` names the environment variable holding the DSN
(default and fallback ``CDP_PG_DSN``); the DSN never appears in cdp.toml, messages or logs.

Push (``cdp engine push postgres``): DuckDB's postgres scanner streams the rows with binary
COPY (fast, no Python per row); psycopg runs the DDL and the bucket deletes with bound
parameters. Per bucket (cdp.engines.tables) a fingerprint of the rows is kept in
``<schema>._cdp_push_buckets``; a push rewrites only buckets whose fingerprint changed and
drops buckets that no longer exist in the store, so it is incremental and also carries
erasures and retention deletes over. A table whose columns changed (a new trait) is
recreated.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from cdp.config.engines import DEFAULT_PG_DSN_ENV, PostgresEngineConfig
from cdp.engines.errors import EngineError, EngineUnavailableError
from cdp.engines.scanner import load_scanner
from cdp.engines.tables import TABLES, TableSpec, bucket_fingerprints, quote, select_list, table_columns

if TYPE_CHECKING:
    import duckdb
    import psycopg

    from cdp.workspace import Workspace

__all__ = [
    "PgTarget",
    "PushResult",
    "pg_connect",
    "push_postgres",
    "push_tables",
    "resolve_target",
    "run_plan_postgres",
]

ENGINE = "postgres"
_ALIAS = "cdp_pg"
# DuckDB types PostgreSQL has no name for
_PG_TYPES = {"HUGEINT": "NUMERIC(38, 0)", "UHUGEINT": "NUMERIC(39, 0)", "UBIGINT": "NUMERIC(20, 0)"}


@dataclass(frozen=True)
class PgTarget:
    """Where the canonical tables live in PostgreSQL. ``dsn`` is secret: never print it."""

    dsn: str = field(repr=False)
    schema: str
    dsn_env: str


def resolve_target(ws: Workspace) -> PgTarget:
    """The DSN (from the environment variable the config names, else ``CDP_PG_DSN``) and schema."""
    cfg = ws.config.engines.postgres or PostgresEngineConfig()
    dsn = os.environ.get(cfg.dsn_env, "").strip()
    if not dsn:
        if ws.config.engines.postgres is not None:
            why = f"the environment variable {cfg.dsn_env} (named by [engines.postgres] dsn_env) is not set"
        else:
            why = f"cdp.toml has no [engines.postgres] section and {DEFAULT_PG_DSN_ENV} is not set"
        raise EngineUnavailableError(
            f"no PostgreSQL connection: {why}",
            engine=ENGINE,
            hint=f"export {cfg.dsn_env}='host=... dbname=... user=...' (or a postgresql:// URI)",
        )
    return PgTarget(dsn=dsn, schema=cfg.schema_, dsn_env=cfg.dsn_env)


def _redact(text: str, target: PgTarget) -> str:
    """An error text without the DSN (drivers sometimes echo the connection string)."""
    first = text.strip().splitlines()[0] if text.strip() else "failed"
    return first.replace(target.dsn, f"${target.dsn_env}")


def pg_connect(target: PgTarget) -> psycopg.Connection[Any]:
    """A psycopg connection with ``search_path`` on the target schema and UTC session time."""
    import psycopg

    try:
        con = psycopg.connect(target.dsn, connect_timeout=10)
    except psycopg.Error as exc:
        raise EngineUnavailableError(
            f"cannot connect with ${target.dsn_env}: {_redact(str(exc), target)}",
            engine=ENGINE,
            hint="check the server is up and the DSN in that environment variable",
        ) from exc
    with con.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")
        cur.execute(
            psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(psycopg.sql.Identifier(target.schema))
        )
        cur.execute(psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(target.schema)))
    con.commit()
    return con


@contextmanager
def attached(con: duckdb.DuckDBPyConnection, target: PgTarget) -> Iterator[str]:
    """ATTACH the PostgreSQL database to a DuckDB connection; yields the alias, detaches after."""
    import duckdb

    load_scanner(con, "postgres")
    try:
        con.execute(f"ATTACH {exp.Literal.string(target.dsn).sql('duckdb')} AS {_ALIAS} (TYPE postgres)")
    except duckdb.Error as exc:
        raise EngineUnavailableError(f"cannot attach: {_redact(str(exc), target)}", engine=ENGINE) from None
    try:
        yield _ALIAS
    finally:
        con.execute(f"DETACH {_ALIAS}")


@dataclass
class PushResult:
    """Per table: rows in the store, buckets rewritten, rows sent; and totals."""

    schema: str
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_sent(self) -> int:
        return sum(t["rows_sent"] for t in self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": ENGINE,
            "schema": self.schema,
            "tables": {k: dict(v) for k, v in self.tables.items()},
            "rows_sent": self.rows_sent,
            "seconds": round(self.seconds, 3),
        }


def _pg_type(duck_type: str) -> str:
    base = duck_type.upper()
    if base in _PG_TYPES:
        return _PG_TYPES[base]
    return exp.DataType.build(duck_type, dialect="duckdb").sql(dialect="postgres")


def _ident(*names: str) -> Any:
    import psycopg

    return psycopg.sql.Identifier(*names)


def _ensure_state(pg: psycopg.Connection[Any], schema: str) -> None:
    from psycopg import sql

    with pg.cursor() as cur:
        cur.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (table_name TEXT PRIMARY KEY, columns_sig TEXT NOT NULL, "
                "rows BIGINT, pushed_at TIMESTAMP NOT NULL)"
            ).format(_ident(schema, "_cdp_push_tables"))
        )
        cur.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (table_name TEXT NOT NULL, bucket TEXT NOT NULL, "
                "rows BIGINT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (table_name, bucket))"
            ).format(_ident(schema, "_cdp_push_buckets"))
        )
    pg.commit()


def _recreate(pg: psycopg.Connection[Any], schema: str, spec: TableSpec, columns: list[tuple[str, str]]) -> None:
    from psycopg import sql

    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(_pg_type(t))) for n, t in columns
    )
    table = _ident(schema, spec.name)
    with pg.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(table, cols))
        for col in spec.indexes:
            cur.execute(sql.SQL("CREATE INDEX ON {} ({})").format(table, sql.Identifier(col)))
        if spec.month_column:
            cur.execute(
                sql.SQL("CREATE INDEX ON {} USING brin ({})").format(table, sql.Identifier(spec.month_column))
            )
        cur.execute(
            sql.SQL("DELETE FROM {} WHERE table_name = %s").format(_ident(schema, "_cdp_push_buckets")),
            [spec.name],
        )
        # claimed in the same transaction: a crash later leaves a table we know is ours
        cur.execute(
            sql.SQL(
                "INSERT INTO {} VALUES (%s, %s, 0, now() AT TIME ZONE 'UTC') ON CONFLICT (table_name) "
                "DO UPDATE SET columns_sig = excluded.columns_sig, rows = 0, pushed_at = excluded.pushed_at"
            ).format(_ident(schema, "_cdp_push_tables")),
            [spec.name, _columns_sig(columns)],
        )
    pg.commit()


def _delete_buckets(pg: psycopg.Connection[Any], schema: str, spec: TableSpec, buckets: list[str]) -> None:
    from psycopg import sql

    table = _ident(schema, spec.name)
    with pg.cursor() as cur:
        if spec.month_column:
            col = sql.Identifier(spec.month_column)
            for month in buckets:
                cur.execute(
                    sql.SQL(
                        "DELETE FROM {t} WHERE {c} >= %s::timestamp AND {c} < %s::timestamp + interval '1 month'"
                    ).format(t=table, c=col),
                    [f"{month}-01", f"{month}-01"],
                )
        else:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(table, sql.SQL(spec.bucket_postgres)),
                [buckets],
            )


def _columns_sig(columns: list[tuple[str, str]]) -> str:
    return hashlib.sha256(repr(columns).encode()).hexdigest()[:16]


def push_tables(
    con: duckdb.DuckDBPyConnection,
    target: PgTarget,
    *,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
) -> PushResult:
    """Bring the PostgreSQL copy of the shipped tables up to date with the store open on ``con``."""
    from psycopg import sql

    started = time.monotonic()
    result = PushResult(schema=target.schema)
    pg = pg_connect(target)
    try:
        _ensure_state(pg, target.schema)
        with pg.cursor() as cur:
            cur.execute(
                sql.SQL("SELECT table_name, columns_sig FROM {}").format(_ident(target.schema, "_cdp_push_tables"))
            )
            sigs = dict(cur.fetchall())
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [target.schema]
            )
            existing = {r[0] for r in cur.fetchall()}
        with attached(con, target) as alias:
            for spec in TABLES:
                columns = table_columns(con, spec)
                if not columns:
                    continue
                if progress:
                    progress(spec.name)
                sig = _columns_sig(columns)
                if spec.name in existing and spec.name not in sigs:
                    raise EngineError(
                        f"schema {target.schema} already has a table '{spec.name}' that cdp did not create; "
                        "refusing to replace it",
                        engine=ENGINE,
                        hint="set [engines.postgres] schema to a schema of its own (default: cdp)",
                    )
                fresh = full or spec.name not in existing or sigs.get(spec.name) != sig
                if fresh:
                    _recreate(pg, target.schema, spec, columns)
                    con.execute("CALL pg_clear_cache()")  # DuckDB caches the attached catalog
                    old: dict[str, tuple[int, str]] = {}
                else:
                    with pg.cursor() as cur:
                        cur.execute(
                            sql.SQL("SELECT bucket, rows, digest FROM {} WHERE table_name = %s").format(
                                _ident(target.schema, "_cdp_push_buckets")
                            ),
                            [spec.name],
                        )
                        old = {b: (int(n), d) for b, n, d in cur.fetchall()}
                new = bucket_fingerprints(con, spec, columns)
                changed = sorted(b for b, fp in new.items() if old.get(b) != fp)
                gone = sorted(set(old) - set(new))
                sent = 0
                if changed or gone:
                    if old:
                        _delete_buckets(pg, target.schema, spec, changed + gone)
                        pg.commit()
                    cols = select_list(columns)
                    insert = (
                        f"INSERT INTO {alias}.{quote(target.schema)}.{quote(spec.name)} ({cols}) "
                        f"SELECT {cols} FROM {quote(spec.name)}"
                    )
                    if fresh or len(changed) == len(new):
                        con.execute(insert)
                    elif changed:
                        con.execute(f"{insert} WHERE list_contains(?, {spec.bucket_duckdb})", [changed])
                    sent = sum(new[b][0] for b in changed)
                    state = _ident(target.schema, "_cdp_push_buckets")
                    with pg.cursor() as cur:
                        cur.execute(
                            sql.SQL("DELETE FROM {} WHERE table_name = %s AND bucket = ANY(%s)").format(state),
                            [spec.name, changed + gone],
                        )
                        cur.executemany(
                            sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s)").format(state),
                            [(spec.name, b, new[b][0], new[b][1]) for b in changed],
                        )
                        cur.execute(sql.SQL("ANALYZE {}").format(_ident(target.schema, spec.name)))
                total = sum(n for n, _ in new.values())
                with pg.cursor() as cur:
                    cur.execute(
                        sql.SQL(
                            "INSERT INTO {} VALUES (%s, %s, %s, now() AT TIME ZONE 'UTC') ON CONFLICT (table_name) "
                            "DO UPDATE SET columns_sig = excluded.columns_sig, rows = excluded.rows, "
                            "pushed_at = excluded.pushed_at"
                        ).format(_ident(target.schema, "_cdp_push_tables")),
                        [spec.name, sig, total],
                    )
                pg.commit()
                result.tables[spec.name] = {
                    "rows": total,
                    "buckets": len(new),
                    "buckets_rewritten": len(changed) + len(gone),
                    "rows_sent": sent,
                }
    except EngineError:
        raise
    except Exception as exc:
        import duckdb
        import psycopg

        if isinstance(exc, (duckdb.Error, psycopg.Error)):
            raise EngineError(f"push failed: {_redact(str(exc), target)}", engine=ENGINE) from None
        raise
    finally:
        pg.close()
    result.seconds = time.monotonic() - started
    return result


def push_postgres(
    ws: Workspace, *, full: bool = False, progress: Callable[[str], None] | None = None
) -> PushResult:
    """``cdp engine push postgres``: refresh the PostgreSQL copy of the store (incremental)."""
    from privacy.audit import record

    target = resolve_target(ws)
    with ws.store() as con:
        result = push_tables(con, target, full=full, progress=progress)
        record(
            con,
            "engine.push",
            target=f"postgres:{target.schema}",
            details={"rows_sent": result.rows_sent, "tables": {k: v["rows"] for k, v in result.tables.items()}},
        )
    return result


def run_plan_postgres(target: PgTarget, plan: Any, tables: dict[str, str]) -> dict[str, Any]:
    """Run ``plan`` (compiled for dialect postgres) in PostgreSQL; {segment: Arrow (customer_id, control)}.

    The prelude and each segment become TEMP tables (named as the plan expects, so later
    segments read earlier ones) inside one transaction that is rolled back at the end:
    nothing is left behind in the database.
    """
    import psycopg
    import pyarrow as pa
    from psycopg import sql

    out: dict[str, Any] = {}
    pg = pg_connect(target)
    try:
        with pg.cursor() as cur:
            for table, select in plan.prelude:
                cur.execute(sql.SQL("CREATE TEMP TABLE {} AS ").format(sql.Identifier(table)) + sql.SQL(_pg_sql(select)))
                cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
            for name in plan.order:
                table = sql.Identifier(tables[name])
                cur.execute(sql.SQL("CREATE TEMP TABLE {} AS ").format(table) + sql.SQL(_pg_sql(plan.segments[name])))
                cur.execute(sql.SQL("ANALYZE {}").format(table))
                cur.execute(sql.SQL("SELECT customer_id, coalesce(control, false) FROM {}").format(table))
                rows = cur.fetchall()
                out[name] = pa.table(
                    {
                        "customer_id": pa.array([r[0] for r in rows], pa.string()),
                        "control": pa.array([bool(r[1]) for r in rows], pa.bool_()),
                    }
                )
        pg.rollback()
    except psycopg.Error as exc:
        raise EngineError(f"the build failed in PostgreSQL: {_redact(str(exc), target)}", engine=ENGINE) from None
    finally:
        pg.close()
    return out


def _pg_sql(query: Any) -> str:
    return query if isinstance(query, str) else str(query.sql(dialect="postgres"))
