"""Benchmark of the models area: k-means with k auto(2..8) on 1M customers × 5 features,
then nearest-centre scoring of the same customers in SQL (DuckDB).

    /work/venv/bin/python benchmarks/models.py            # 1,000,000 customers
    /work/venv/bin/python benchmarks/models.py --rows 200000

Targets (issue 5): training < 30 s, SQL scoring of 1M customers < 1 s, SQL labels equal to
scikit-learn's except exact ties. Features are heavy-tailed (money and counts) and use
``transform log1p`` as the demo does.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def make_features(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    group = rng.choice(4, size=n, p=[0.1, 0.3, 0.35, 0.25])
    recency = rng.exponential(np.array([7, 20, 60, 200])[group])
    orders = rng.poisson(np.array([25, 8, 3, 0.5])[group]).astype(float)
    spend = rng.lognormal(np.log(np.array([90_000, 25_000, 8_000, 2_000])[group]), 0.7)
    basket = spend / np.maximum(orders, 1) * rng.lognormal(0, 0.2, n)
    breadth = rng.poisson(np.array([12, 7, 4, 2])[group]).astype(float)
    X = np.column_stack([recency, orders, spend, basket, breadth])
    X[rng.random(n) < 0.01, 3] = np.nan  # a few customers without a basket value
    return X


def main() -> None:
    import duckdb
    import pyarrow as pa
    from sqlglot import exp

    from cdp.models.clustering import ClusterOptions, fit_clusters
    from cdp.models.naming import NamesBy
    from cdp.models.registry import StoredModel
    from cdp.models.sql import score_expression

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=None, help="a fixed k instead of k auto(2..8)")
    args = parser.parse_args()
    features = ["recency", "orders_90d", "spend_12m", "basket_avg", "breadth"]
    X = make_features(args.rows)
    opts = ClusterOptions("kmeans", k=args.k, k_range=None if args.k else (2, 8), transform="log1p",
                          names_by=NamesBy("spend_12m", "desc", ("Champions", "Loyal", "Promising", "At risk")))
    started, cpu = time.perf_counter(), time.process_time()
    fit = fit_clusters(X, features, opts)
    train_s, train_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"training k {args.k or 'auto(2..8)'} on {args.rows:,} x {len(features)}: {train_s:.1f} s wall, {train_cpu:.1f} s CPU; "
          f"k = {fit.metrics['k']}; "
          f"sizes {fit.metrics['sizes']}")
    for w in fit.warnings:
        print("  warning:", w)

    stored = StoredModel("bench", 1, "kmeans", fit.params, fit.metrics, None, None, None)  # type: ignore[arg-type]
    con = duckdb.connect()
    con.execute("CREATE TABLE objections (customer_id VARCHAR, scope VARCHAR)")
    cols = {"customer_id": pa.array(np.arange(len(X)).astype(str))}
    for j, f in enumerate(features):
        cols[f] = pa.array(X[:, j], mask=np.isnan(X[:, j]))
    con.register("t", pa.table(cols))
    con.execute("CREATE TABLE feats AS SELECT row_number() OVER () - 1 AS i, * FROM t")
    expr = score_expression(stored, "cluster", {f: exp.column(f) for f in features}, None, "duckdb")
    count_sql = exp.select(expr.as_("c"), exp.Count(this=exp.Star()).as_("n")).from_("feats").group_by("c").sql("duckdb")
    best, best_cpu = float("inf"), float("inf")
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        con.execute(count_sql).fetchall()
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    print(f"SQL scoring of {args.rows:,} customers (nearest centre, grouped count): best of 3 {best:.2f} s wall, "
          f"{best_cpu:.2f} s CPU (all DuckDB threads)")
    labels_sql = exp.select(expr.as_("c")).from_("feats").order_by("i").sql("duckdb")
    got = np.array([r[0] for r in con.execute(labels_sql).fetchall()], dtype=object)
    print(f"labels differing from scikit-learn's predict: {int(np.sum(got != fit.labels))}")


if __name__ == "__main__":
    main()
