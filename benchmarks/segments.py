"""Build the demo's segments at N customers and compare with hand-written DuckDB SQL.

    python benchmarks/segments.py --customers 100000 --events-per-customer 50 \
        [--pandas --pandas-path DIR]     # DIR from `pip install --target DIR pandas`

Generates a workspace in a temp folder (customers and events written straight into the
store with SQL), then times, in one run:

1. ``ws.segments.build()`` over ``cdp/demo/segments/*.seg`` (compile + prelude + every
   segment + storing memberships, one transaction), and
2. hand-written DuckDB SQL doing the same work (one metrics scan, the tiers, RFM, the
   campaign segments, the same holdout hash, memberships written to a table),

checks that both give the same sizes, and prints the ratio (issue 4 target: <= 1.2).
It also times ``dsl.check`` of a 50-segment file in process (target < 200 ms).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = "2026-01-31"

GENERATE = """
CREATE OR REPLACE TABLE _gen_customers AS
SELECT
    'c' || lpad(i::VARCHAR, 8, '0') AS customer_id,
    TIMESTAMP '2024-01-01' AS first_seen_at,
    TIMESTAMP '2024-01-01' AS updated_at,
    (['İstanbul', 'ISTANBUL', 'Ankara', 'İzmir', 'Bursa', 'Antalya', 'Iğdır', 'Konya'])[1 + (hash(i, 1) % 8)::INT] AS city,
    'd' || (hash(i, 2) % 12)::VARCHAR AS district,
    (['grocery', 'market', 'restaurant', 'cafe', 'hotel', 'catering', 'office', 'kiosk'])[1 + (hash(i, 3) % 8)::INT] AS business_type,
    CASE WHEN hash(i, 4) % 3 = 0 THEN 'BIREYSEL' ELSE 'TACIR' END AS recipient_type,
    DATE '2020-01-01' + (hash(i, 5) % 2220)::INT AS signup_date
FROM range({n}) t(i);

CREATE OR REPLACE TABLE _gen_events AS
SELECT
    'e' || e::VARCHAR AS event_id,
    'c' || lpad((hash(e, 10) % {n})::VARCHAR, 8, '0') AS customer_id,
    CASE WHEN hash(e, 11) % 100 < 78 THEN 'purchase' WHEN hash(e, 11) % 100 < 83 THEN 'return' ELSE 'visit' END AS event_type,
    TIMESTAMP '2026-02-15' - to_seconds((hash(e, 12) % (86400 * 800))::BIGINT) AS ts,
    round(50 + (hash(e, 13) % 900000) / 100.0, 2)::DECIMAL(18, 2) AS amount,
    'bench' AS source,
    NULL::JSON AS properties,
    (['beverages', 'dry_food', 'cleaning', 'dairy', 'meat', 'frozen', 'tobacco', 'snacks', 'household'])[1 + (hash(e, 14) % 9)::INT] AS category,
    's' || (hash(e, 15) % 144)::VARCHAR AS store_id,
    1 + (hash(e, 16) % 40)::BIGINT AS quantity
FROM range({m}) t(e);
"""

LOAD = """
ALTER TABLE customers ADD COLUMN city VARCHAR;
ALTER TABLE customers ADD COLUMN district VARCHAR;
ALTER TABLE customers ADD COLUMN business_type VARCHAR;
ALTER TABLE customers ADD COLUMN recipient_type VARCHAR;
ALTER TABLE customers ADD COLUMN signup_date DATE;
ALTER TABLE events ADD COLUMN category VARCHAR;
ALTER TABLE events ADD COLUMN store_id VARCHAR;
ALTER TABLE events ADD COLUMN quantity BIGINT;
INSERT INTO customers SELECT * FROM _gen_customers;
INSERT INTO events SELECT * FROM _gen_events;
DROP TABLE _gen_customers;
DROP TABLE _gen_events;
"""

# The same work by hand: as_of 2026-01-31 00:00 local; windows as literals.
HAND = """
CREATE OR REPLACE TEMP TABLE h_metrics AS
SELECT c.customer_id, c.business_type, c.city, c.recipient_type, c.signup_date,
    coalesce(sum(e.amount) FILTER (WHERE e.event_type = 'purchase' AND e.ts >= TIMESTAMP '2025-01-31'), 0) AS spend_12m,
    count(e.event_id) FILTER (WHERE e.event_type = 'purchase' AND e.ts >= TIMESTAMP '2025-11-02') AS orders_90d,
    count(e.event_id) FILTER (WHERE e.event_type = 'purchase' AND e.ts >= TIMESTAMP '2025-01-31') AS orders_12m,
    avg(e.amount) FILTER (WHERE e.event_type = 'purchase' AND e.ts >= TIMESTAMP '2025-01-31') AS basket_avg,
    date_diff('day', max(e.ts) FILTER (WHERE e.event_type = 'purchase')::DATE, DATE '2026-01-31') AS recency,
    count(e.event_id) FILTER (WHERE e.event_type = 'purchase' AND e.category = 'beverages'
                              AND e.ts >= TIMESTAMP '2025-07-31') AS beverages_6m
FROM customers c
LEFT JOIN events e ON e.customer_id = c.customer_id AND e.ts < TIMESTAMP '2026-01-31'
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE h_rfm AS
WITH base AS (
    SELECT customer_id, recency, orders_12m AS f, spend_12m AS m, count(*) OVER () AS n
    FROM h_metrics WHERE orders_12m > 0
), k AS (
    SELECT customer_id,
        count(*) OVER (ORDER BY recency DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS kr,
        count(*) OVER (ORDER BY f RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS kf,
        n
    FROM base
)
SELECT customer_id, (5 * kr + n - 1) // n AS r, (5 * kf + n - 1) // n AS f FROM k;

CREATE OR REPLACE TEMP TABLE h_rfm_seg AS
SELECT customer_id,
    CASE
        WHEN r = 5 AND f = 1 THEN 'New Customers'
        WHEN r = 5 AND f IN (2, 3) THEN 'Potential Loyalists'
        WHEN r = 5 THEN 'Champions'
        WHEN r = 4 AND f = 1 THEN 'Promising'
        WHEN r = 4 AND f IN (2, 3) THEN 'Potential Loyalists'
        WHEN r = 4 THEN 'Loyal Customers'
        WHEN r = 3 AND f IN (1, 2) THEN 'About To Sleep'
        WHEN r = 3 AND f = 3 THEN 'Need Attention'
        WHEN r = 3 THEN 'Loyal Customers'
        WHEN r = 2 AND f IN (1, 2) THEN 'Hibernating'
        WHEN r = 2 AND f IN (3, 4) THEN 'At Risk'
        WHEN r = 2 THEN 'Cannot Lose Them'
        WHEN f = 1 THEN 'Lost'
        WHEN f = 2 THEN 'Hibernating'
        WHEN f IN (3, 4) THEN 'At Risk'
        ELSE 'Cannot Lose Them'
    END AS segment
FROM h_rfm;

CREATE OR REPLACE TEMP TABLE h_rank AS
SELECT customer_id,
    rank() OVER (ORDER BY spend_12m DESC) AS spend_rank,
    CASE WHEN basket_avg IS NOT NULL THEN rank() OVER (PARTITION BY basket_avg IS NULL ORDER BY basket_avg DESC) END AS basket_rank,
    count(*) OVER () AS n_spend,
    count(basket_avg) OVER () AS n_basket
FROM h_metrics;

CREATE OR REPLACE TEMP TABLE h_members (segment VARCHAR, customer_id VARCHAR, control BOOLEAN);

INSERT INTO h_members SELECT 'platinum', m.customer_id, false FROM h_metrics m JOIN h_rank r USING (customer_id)
    WHERE m.spend_12m > 0 AND r.spend_rank <= (5 * r.n_spend + 99) // 100;
INSERT INTO h_members SELECT 'gold', m.customer_id, false FROM h_metrics m JOIN h_rank r USING (customer_id)
    WHERE m.spend_12m > 0 AND r.spend_rank <= (20 * r.n_spend + 99) // 100
      AND m.customer_id NOT IN (SELECT customer_id FROM h_members WHERE segment = 'platinum');
INSERT INTO h_members SELECT 'silver', m.customer_id, false FROM h_metrics m JOIN h_rank r USING (customer_id)
    WHERE m.spend_12m > 0 AND r.spend_rank <= (50 * r.n_spend + 99) // 100
      AND m.customer_id NOT IN (SELECT customer_id FROM h_members WHERE segment IN ('platinum', 'gold'));
INSERT INTO h_members SELECT 'fallen_platinum', customer_id, false FROM segment_members
    WHERE build_id = (SELECT build_id FROM segment_builds WHERE segment = 'platinum' AND as_of <= TIMESTAMP '2026-01-01'
                      ORDER BY as_of DESC, build_id DESC LIMIT 1)
      AND customer_id NOT IN (SELECT customer_id FROM h_members WHERE segment = 'platinum');

INSERT INTO h_members SELECT lower(replace(replace(segment, ' Customers', ''), ' ', '_')), customer_id, false
    FROM h_rfm_seg WHERE segment IN ('Champions', 'Loyal Customers');
INSERT INTO h_members SELECT 'potential_loyalists', customer_id, false FROM h_rfm_seg WHERE segment = 'Potential Loyalists';
INSERT INTO h_members SELECT 'at_risk', customer_id, false FROM h_rfm_seg WHERE segment = 'At Risk';
INSERT INTO h_members SELECT 'cannot_lose_them', customer_id, false FROM h_rfm_seg WHERE segment = 'Cannot Lose Them';
INSERT INTO h_members SELECT 'hibernating', customer_id, false FROM h_rfm_seg WHERE segment IN ('Hibernating', 'Lost');

INSERT INTO h_members SELECT 'horeca_winback', customer_id, false FROM h_metrics
    WHERE business_type IN ('restaurant', 'cafe', 'hotel', 'catering') AND recency BETWEEN 60 AND 180 AND orders_12m >= 3;
INSERT INTO h_members SELECT 'new_customers', customer_id, false FROM h_metrics
    WHERE date_diff('day', signup_date, DATE '2026-01-31') < 90;
INSERT INTO h_members SELECT 'beverages_lovers', customer_id, false FROM h_metrics
    WHERE beverages_6m >= 6 AND customer_id NOT IN (SELECT customer_id FROM h_members WHERE segment = 'horeca_winback');
INSERT INTO h_members SELECT 'istanbul_kiosks', customer_id, false FROM h_metrics
    WHERE lower(translate(city, 'Iİı', 'iii')) LIKE '%istanbul%' AND business_type = 'kiosk' AND orders_90d >= 1;
INSERT INTO h_members SELECT 'big_baskets', m.customer_id, false FROM h_metrics m JOIN h_rank r USING (customer_id)
    WHERE m.orders_12m >= 2 AND r.basket_rank <= (10 * r.n_basket + 99) // 100;
INSERT INTO h_members SELECT 'merchants_active', customer_id, false FROM h_metrics
    WHERE recipient_type = 'TACIR' AND orders_90d >= 1;

UPDATE h_members SET control = (('0x' || left(sha256(segment || ':' || customer_id), 8))::UBIGINT % 10000) < 1000
    WHERE segment IN ('potential_loyalists', 'at_risk', 'cannot_lose_them', 'horeca_winback', 'new_customers',
                      'beverages_lovers', 'istanbul_kiosks', 'merchants_active');
"""


def make_workspace(root: Path, customers: int, events: int) -> None:
    from cdp.store import open_store

    (root / "segments").mkdir(parents=True)
    (root / "cdp.toml").write_text('[workspace]\nname = "bench"\ntimezone = "Europe/Istanbul"\n', encoding="utf-8")
    for seg in (ROOT / "cdp" / "demo" / "segments").glob("*.seg"):
        shutil.copy(seg, root / "segments" / seg.name)
    with open_store(root / ".cdp" / "store.duckdb") as con:
        con.execute(GENERATE.format(n=customers, m=events))
        con.execute(LOAD)
        con.execute("CHECKPOINT")


def time_tool(root: Path) -> tuple[float, dict[str, tuple[int, int]]]:
    """The build call, timed after the imports (the hand side has duckdb imported too);
    parsing, checking and compiling the rule files are inside the timing."""
    import dsl  # noqa: F401
    import privacy.audit  # noqa: F401
    from cdp.segments import build, service  # noqa: F401
    from cdp.workspace import Workspace

    ws = Workspace(root)
    ws.config  # noqa: B018 - read cdp.toml before timing, as the hand side has no config
    start = time.perf_counter()
    result = ws.segments.build(as_of=AS_OF)
    return time.perf_counter() - start, {n: (r["members"], r["control"]) for n, r in result.items()}


def time_hand(root: Path) -> tuple[float, dict[str, tuple[int, int]]]:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(str(root / ".cdp" / "store.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    con.execute("BEGIN TRANSACTION")
    con.execute(HAND)
    con.execute("CREATE OR REPLACE TABLE hand_members AS SELECT * FROM h_members")
    con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    sizes = {s: (int(n), int(c)) for s, n, c in con.execute(
        "SELECT segment, count(*), count(*) FILTER (WHERE control) FROM hand_members GROUP BY 1"
    ).fetchall()}
    con.execute("DROP TABLE hand_members")
    con.close()
    return elapsed, sizes


def time_pandas(root: Path) -> tuple[float, dict[str, tuple[int, int]]]:
    sys.path.insert(0, str(Path(__file__).parent))
    from segments_pandas import run

    start = time.perf_counter()
    sizes = run(root / "parquet")
    return time.perf_counter() - start, sizes


def export_parquet(root: Path) -> None:
    import duckdb

    out = root / "parquet"
    out.mkdir(exist_ok=True)
    con = duckdb.connect(str(root / ".cdp" / "store.duckdb"), read_only=True)
    con.execute(f"COPY customers TO '{out / 'customers.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT * EXCLUDE (properties) FROM events) TO '{out / 'events.parquet'}' (FORMAT parquet)")
    con.close()


def child(mode: str, root: Path) -> None:
    """One measurement in its own process, so peak memory is that side's alone."""
    import resource

    fn = {"tool": time_tool, "hand": time_hand, "pandas": time_pandas}[mode]
    seconds, sizes = fn(root)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "sizes": sizes}))


def measure(mode: str, root: Path, pandas_path: Path | None = None) -> dict[str, object]:
    """Run one side in a child process. pandas is importable only in the pandas child: when
    it is installed, DuckDB imports it on every parameterized query, which would bill the
    tool for a library it does not use."""
    import os
    import subprocess

    env = dict(os.environ)
    if mode == "pandas" and pandas_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(pandas_path), env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, __file__, "--mode", mode, "--root", str(root)],
        capture_output=True, text=True, check=False, env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["sizes"] = {k: tuple(v) for k, v in result["sizes"].items()}
    return result


def time_check(n_segments: int = 50) -> float:
    import dsl
    from dsl.catalog import MemoryCatalog

    lines = ["metric spend_12m = sum(purchase.amount) over last 12 months",
             "metric recency = days_since(last purchase)"]
    for i in range(n_segments):
        lines.append(
            f'segment s{i} "Segment {i}":\n    purpose email_marketing\n'
            f'    where spend_12m > {i * 100} and recency between {i} and {i + 90} and city icontains "istanbul"\n'
            f'    holdout 10%'
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fifty.seg"
        path.write_text("\n\n".join(lines), encoding="utf-8")
        catalog = MemoryCatalog(trait_types={"city": "text"}, known_purposes={"email_marketing"})
        dsl.check(dsl.load([path]), catalog)  # warm the parser
        start = time.perf_counter()
        dsl.check(dsl.load([path]), catalog)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events-per-customer", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side; the best is kept")
    parser.add_argument("--pandas", action="store_true", help="also time the same logic in pandas")
    parser.add_argument("--pandas-path", type=Path,
                        help="a folder holding pandas (pip install --target DIR pandas), if not in the venv")
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--mode", choices=["tool", "hand", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.mode:
        child(args.mode, args.root)
        return 0

    tmp = None
    if args.keep:
        root = args.keep
        if root.exists():
            shutil.rmtree(root)
    else:
        tmp = tempfile.TemporaryDirectory()
        root = Path(tmp.name) / "ws"
    n_events = args.customers * args.events_per_customer
    t0 = time.perf_counter()
    make_workspace(root, args.customers, n_events)
    gen = time.perf_counter() - t0

    runs: dict[str, list[dict[str, object]]] = {"hand": [], "tool": [], "pandas": []}
    for _ in range(args.repeat):
        runs["hand"].append(measure("hand", root))
        runs["tool"].append(measure("tool", root))
    if args.pandas:
        export_parquet(root)
        runs["pandas"].append(measure("pandas", root, args.pandas_path))

    def best(mode: str) -> dict[str, object]:
        return min(runs[mode], key=lambda r: r["seconds"])  # type: ignore[arg-type,return-value]

    tool, hand = best("tool"), best("hand")
    tool_sizes: dict[str, tuple[int, int]] = tool["sizes"]  # type: ignore[assignment]
    mismatches: dict[str, dict[str, object]] = {}
    for other in ("hand", "pandas") if args.pandas else ("hand",):
        sizes: dict[str, tuple[int, int]] = best(other)["sizes"]  # type: ignore[assignment]
        for name, got in tool_sizes.items():
            if got != sizes.get(name, (0, 0)):
                mismatches.setdefault(name, {"tool": got})[other] = sizes.get(name)
    check_s = time_check()
    report: dict[str, object] = {
        "customers": args.customers,
        "events": n_events,
        "segments": len(tool_sizes),
        "generate_s": round(gen, 2),
        "build_s": round(float(tool["seconds"]), 3),  # type: ignore[arg-type]
        "build_peak_mb": round(float(tool["peak_mb"]), 1),  # type: ignore[arg-type]
        "hand_sql_s": round(float(hand["seconds"]), 3),  # type: ignore[arg-type]
        "hand_sql_peak_mb": round(float(hand["peak_mb"]), 1),  # type: ignore[arg-type]
        "ratio_vs_hand_sql": round(float(tool["seconds"]) / float(hand["seconds"]), 3),  # type: ignore[arg-type]
        "check_50_segments_ms": round(check_s * 1000, 1),
        "sizes": {n: v[0] for n, v in tool_sizes.items()},
        "mismatches": mismatches,
        "at": datetime.now().isoformat(timespec="seconds"),
    }
    if args.pandas:
        pd_run = best("pandas")
        report["pandas_s"] = round(float(pd_run["seconds"]), 3)  # type: ignore[arg-type]
        report["pandas_peak_mb"] = round(float(pd_run["peak_mb"]), 1)  # type: ignore[arg-type]
        report["speedup_vs_pandas"] = round(float(pd_run["seconds"]) / float(tool["seconds"]), 2)  # type: ignore[arg-type]
        report["memory_vs_pandas"] = round(float(tool["peak_mb"]) / float(pd_run["peak_mb"]), 2)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.customers:,} customers, {n_events:,} events, {len(tool_sizes)} segments "
              f"(data generated in {gen:.1f} s)")
        print(f"  cdp segment build : {report['build_s']:.3f} s, peak {report['build_peak_mb']:.0f} MB")
        print(f"  hand-written SQL  : {report['hand_sql_s']:.3f} s, peak {report['hand_sql_peak_mb']:.0f} MB")
        print(f"  ratio             : {report['ratio_vs_hand_sql']:.2f} (target <= 1.2)")
        if args.pandas:
            print(f"  pandas (load incl): {report['pandas_s']:.3f} s, peak {report['pandas_peak_mb']:.0f} MB "
                  f"-> cdp is {report['speedup_vs_pandas']}x faster with {report['memory_vs_pandas']}x the memory")
        print(f"  check 50 segments : {report['check_50_segments_ms']:.0f} ms (target < 200 ms)")
        if mismatches:
            print(f"  SIZE MISMATCHES   : {json.dumps(mismatches)}")
        else:
            print("  sizes match for every segment")
    if tmp is not None:
        tmp.cleanup()
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
