"""The same segment set on DuckDB, PostgreSQL and Spark, plus PostgreSQL ingestion rows/s.

    python benchmarks/engines.py --customers 100000 --events 20 --engines duckdb,postgres,spark
    python benchmarks/engines.py --ingest-rows 1000000 --engines none

Data are generated straight into a fresh store by DuckDB (hash-based, seeded), the demo's
segment files (value tiers, RFM, campaigns) are built at one as_of on each engine, and
the times are printed side by side. PostgreSQL: ``CDP_PG_DSN`` (default the local test
server), schema ``cdp_bench`` (dropped at the end). Results go to docs/performance.md and
docs/scale.md by hand: this machine is shared, so run it when it is quiet.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO_SEGMENTS = ROOT / "cdp" / "demo" / "segments"
AS_OF = "2026-01-31"
PG_DEFAULT = "host=127.0.0.1 port=5432 dbname=test user=postgres"


def generate_store(path: Path, customers: int, events_per_customer: int, seed: int = 1) -> tuple[int, int]:
    """Customers and ~events_per_customer events each over two years, by DuckDB (fast)."""
    from cdp.store import open_store

    with open_store(path) as con:
        for ddl in (
            "ALTER TABLE customers ADD COLUMN city VARCHAR",
            "ALTER TABLE customers ADD COLUMN business_type VARCHAR",
            "ALTER TABLE customers ADD COLUMN recipient_type VARCHAR",
            "ALTER TABLE customers ADD COLUMN signup_date DATE",
            "ALTER TABLE events ADD COLUMN category VARCHAR",
            "ALTER TABLE events ADD COLUMN store_id VARCHAR",
            "ALTER TABLE events ADD COLUMN quantity BIGINT",
        ):
            con.execute(ddl)
        con.execute(
            """
            INSERT INTO customers
            SELECT printf('c%08d', i), TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-01',
                   ['İstanbul', 'ISTANBUL', 'Ankara', 'İzmir', 'Bursa', 'Iğdır'][1 + CAST(hash(i, $s, 'c') % 6 AS BIGINT)],
                   ['grocery', 'market', 'restaurant', 'cafe', 'hotel', 'kiosk', 'catering'][1 + CAST(hash(i, $s, 't') % 7 AS BIGINT)],
                   ['TACIR', 'BIREYSEL'][1 + CAST(hash(i, $s, 'r') % 2 AS BIGINT)],
                   DATE '2024-01-01' + CAST(CAST(hash(i, $s, 'd') % 760 AS BIGINT) AS INTEGER)
            FROM range(?) t(i)
            """.replace("$s", str(seed)),
            [customers],
        )
        con.execute(
            """
            INSERT INTO events (event_id, customer_id, event_type, ts, amount, source, category, store_id, quantity)
            SELECT printf('e%010d', j), printf('c%08d', CAST(hash(j, $s, 'who') % ? AS BIGINT)),
                   CASE WHEN CAST(hash(j, $s, 'k') % 10 AS BIGINT) < 8 THEN 'purchase' WHEN CAST(hash(j, $s, 'k') % 10 AS BIGINT) = 8 THEN 'return'
                        ELSE 'visit' END,
                   TIMESTAMP '2026-01-31' - INTERVAL 1 MINUTE * CAST(1 + CAST(hash(j, $s, 'ts') % (730 * 1440) AS BIGINT) AS BIGINT),
                   CAST(50 + (CAST(hash(j, $s, 'a') % 495000 AS BIGINT)) / 100.0 AS DECIMAL(18, 2)), 'bench',
                   ['beverages', 'dry_food', 'dairy', 'snacks', 'tobacco'][1 + CAST(hash(j, $s, 'cat') % 5 AS BIGINT)],
                   printf('s%d', 1 + CAST(hash(j, $s, 'st') % 5 AS BIGINT)), 1 + CAST(hash(j, $s, 'q') % 20 AS BIGINT)
            FROM range(?) t(j)
            """.replace("$s", str(seed)),
            [customers, customers * events_per_customer],
        )
        n_events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    return customers, int(n_events)


def make_workspace(root: Path, customers: int, events: int, schema: str) -> None:
    (root / "segments").mkdir(parents=True)
    (root / "cdp.toml").write_text(
        '[workspace]\nname = "bench"\ntimezone = "Europe/Istanbul"\n\n'
        f'[engines.postgres]\nschema = "{schema}"\n\n'
        '[engines.spark]\nmaster = "local[2]"\noptions = { "spark.driver.memory" = "2g" }\n',
        encoding="utf-8",
    )
    for name in ("metrics.seg", "value_tiers.seg", "rfm.seg", "campaigns.seg"):
        shutil.copy(DEMO_SEGMENTS / name, root / "segments" / name)
    generate_store(root / ".cdp" / "store.duckdb", customers, events)


def timed(label: str, fn: Any, results: dict[str, float]) -> Any:
    t = time.perf_counter()
    out = fn()
    results[label] = time.perf_counter() - t
    print(f"  {label:<34} {results[label]:8.2f} s", flush=True)
    return out


def bench_segments(root: Path, engines: list[str]) -> dict[str, float]:
    from cdp.workspace import Workspace

    ws = Workspace(root)
    results: dict[str, float] = {}
    sizes: dict[str, Any] = {}
    if "duckdb" in engines:
        sizes["duckdb"] = timed("duckdb build", lambda: ws.segments.build(as_of=AS_OF), results)
    if "postgres" in engines:
        from cdp.engines import push_postgres

        timed("postgres push (first)", lambda: push_postgres(ws), results)
        timed("postgres push (no change)", lambda: push_postgres(ws), results)
        sizes["postgres"] = timed("postgres build (push + run)", lambda: ws.segments.build(
            as_of=AS_OF, engine="postgres"), results)
    if "spark" in engines:
        from cdp.engines.spark import shared_session

        timed("spark session start", lambda: shared_session(ws.config.engines.spark), results)
        sizes["spark"] = timed("spark build (export + run)", lambda: ws.segments.build(
            as_of=AS_OF, engine="spark"), results)
        sizes["spark"] = timed("spark build (export current)", lambda: ws.segments.build(
            as_of=AS_OF, engine="spark"), results)
    base = next(iter(sizes.values()), {})
    for engine, got in sizes.items():
        same = {n: r["members"] for n, r in got.items()} == {n: r["members"] for n, r in base.items()}
        print(f"  {engine}: {len(got)} segments, sizes {'equal' if same else 'DIFFER'} to the first engine")
    return results


def bench_pg_ingest(rows: int, dsn: str) -> dict[str, float]:
    """Stream a PostgreSQL table of ``rows`` rows through the source reader; rows/s."""
    import psycopg

    from cdp.config import parse_config
    from connectors.sources import SourceState, reader_for

    table = "cdp_bench_src"
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(
            f"CREATE TABLE {table} AS SELECT g AS id, 'K' || g AS kod, 'user' || g || '@example.com' AS email, "
            "(g %% 500000) / 100.0 AS amount, now() - g * interval '1 second' AS updated_at, "
            "(ARRAY['İstanbul','Ankara','İzmir'])[1 + g %% 3] AS city FROM generate_series(1, %s) g",
            [rows],
        )
    os.environ["CDP_BENCH_SRC"] = dsn
    cfg = parse_config(
        f'[sources.b]\nkind = "postgres"\ndsn_env = "CDP_BENCH_SRC"\ntable = "{table}"\ncursor = "id"\n'
        'entity = "customers"\nkey = "kod"\n'
    ).sources["b"]
    reader = reader_for("b", cfg, Path("."))
    results: dict[str, float] = {}

    def read() -> int:
        state = SourceState()
        return sum(b.num_rows for u in reader.plan(state) for b in reader.batches(u, state))

    n = timed(f"postgres source read {rows:,} rows", read, results)
    print(f"  -> {n / results[f'postgres source read {rows:,} rows']:,.0f} rows/s")

    # the whole ingestion: read, pseudonymize the key and email, resolve, load
    from cdp.ingest import run_ingest
    from cdp.workspace import Workspace

    root = Path(tempfile.mkdtemp(prefix="cdp-bench-ingest-"))
    if "CDP_MASTER_KEY" not in os.environ:  # a throw-away key for a throw-away workspace
        import base64

        os.environ["CDP_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    try:
        (root / "cdp.toml").write_text(
            '[workspace]\ntimezone = "Europe/Istanbul"\n\n[sources.b]\nkind = "postgres"\n'
            f'dsn_env = "CDP_BENCH_SRC"\ntable = "{table}"\ncursor = "id"\nentity = "customers"\n'
            'key = "kod"\nidentifiers = { email = "email" }\ntraits = { city = "text" }\n',
            encoding="utf-8",
        )
        label = f"postgres ingest {rows:,} customers (full pipeline)"
        timed(label, lambda: run_ingest(Workspace(root)), results)
        print(f"  -> {rows / results[label]:,.0f} rows/s")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=20, help="events per customer")
    parser.add_argument("--engines", default="duckdb,postgres,spark", help="comma list, or none")
    parser.add_argument("--ingest-rows", type=int, default=0, help="also time reading a PostgreSQL table")
    args = parser.parse_args()
    engines = [e for e in args.engines.split(",") if e and e != "none"]
    dsn = os.environ.setdefault("CDP_PG_DSN", PG_DEFAULT)
    schema = "cdp_bench"
    tmp = Path(tempfile.mkdtemp(prefix="cdp-bench-"))
    try:
        if engines:
            root = tmp / "ws"
            t = time.perf_counter()
            make_workspace(root, args.customers, args.events, schema)
            print(f"generated {args.customers:,} customers / ~{args.customers * args.events:,} events "
                  f"in {time.perf_counter() - t:.1f} s")
            bench_segments(root, engines)
        if args.ingest_rows:
            bench_pg_ingest(args.ingest_rows, dsn)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if "postgres" in engines:
            import psycopg

            with psycopg.connect(dsn, autocommit=True) as con:
                con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        if "spark" in engines:
            from cdp.engines.spark import stop_session

            stop_session()


if __name__ == "__main__":
    main()
