"""events.csv: two years of purchases, returns and visits, generated in one DuckDB COPY.

Per account (table ``beh``): a purchase rate from its business type times a log-normal
factor, a basket size with a heavy tail (log-normal, plus 1% "whales" at 5x), 7% who never
buy (some only visit), 16% who churn at a random day and never come back, and new accounts
who start at their signup date. Each event then draws its day from the account's seasonal
profile (:mod:`cdp.demo.season`) by inverse CDF restricted to the account's active window.

Returns carry a negative amount (the refund) and a positive quantity; visits have no amount,
category, quantity or payment method. ``payment_method`` is not declared in cdp.toml, so
ingestion drops and counts it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from cdp.demo import data, season
from cdp.demo.people import Plan
from cdp.demo.sql import expand_weighted, sql_list, sql_str

__all__ = ["BAD_EVENT_VALUES", "build_behaviour", "pick_accounts", "write_events"]

# planted bad rows: kind -> the values written (one row each)
BAD_EVENT_VALUES: dict[str, tuple[str, ...]] = {
    "bad_date": ("2025-02-30 10:15:00", "2025-13-01 09:00:00", "dün 14:05"),
    "bad_amount": ("12.50 TL", "yok", "1.234.56"),
    "missing_customer_ref": ("", ""),
}
# unit price (TRY) by category, for the quantity of a basket line
_PRICES = (45.0, 60.0, 80.0, 70.0, 350.0, 120.0, 95.0, 30.0, 90.0)


def _season_tables(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """``daycdf`` (profile, day -> cumulative probability) and the macros ``inv_day``/``day_mult``."""
    weights, mult = season.day_weights(plan.start_date, plan.days)
    before, after = season.cdf_table(weights)
    inv = season.inverse_table(weights)
    n_prof, days = weights.shape
    daycdf = pa.table({
        "profile": np.repeat(np.arange(n_prof, dtype=np.int32), days),
        "d": np.tile(np.arange(days, dtype=np.int32), n_prof),
        "lo": before.ravel(),
        "hi": after.ravel(),
    })
    con.register("daycdf_src", daycdf)
    con.execute("CREATE OR REPLACE TABLE daycdf AS SELECT * FROM daycdf_src")
    con.unregister("daycdf_src")
    # constant lists indexed per row: no join, so the COPY keeps the rows in event order
    inv_cases = " ".join(f"WHEN {i} THEN {sql_list(int(x) for x in inv[i])}[b + 1]" for i in range(n_prof))
    con.execute(f"CREATE OR REPLACE MACRO inv_day(p, b) AS (CASE p {inv_cases} END)")
    mult_cases = " ".join(
        f"WHEN {i} THEN {sql_list(round(float(x), 4) for x in mult[i])}[d + 1]" for i in range(n_prof)
    )
    con.execute(f"CREATE OR REPLACE MACRO day_mult(p, d) AS (CASE p {mult_cases} END)")


def _category_macro(con: duckdb.DuckDBPyConnection) -> None:
    cases = []
    for idx, (name, *_rest) in enumerate(data.BUSINESS_TYPES):
        cats = expand_weighted(list(zip(range(len(data.CATEGORIES)), data.CATEGORY_MIX[name])))
        cases.append(f"WHEN {idx} THEN pick({sql_list(cats)}, x)")
    con.execute(f"CREATE OR REPLACE MACRO cat_of(bt, x) AS (CASE bt {' '.join(cases)} END)")


def build_behaviour(con: duckdb.DuckDBPyConnection, plan: Plan, scratch: Path) -> dict[str, int]:
    """Create ``beh`` (one row per account: window, counts, offsets); returns event counts.

    ``beh`` lives in a scratch database file with small row groups (8,192 accounts): DuckDB
    parallelizes and orders its work by row group, so the events COPY then writes in batches of
    ~400k rows instead of buffering millions of rows per thread to keep them in order.
    """
    _season_tables(con, plan)
    _category_macro(con)
    attached = {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    if "scratch" not in attached:
        path = (scratch / "demo-scratch.duckdb").as_posix()
        con.execute(f"ATTACH {sql_str(path)} AS scratch (ROW_GROUP_SIZE 8192)")
    D = plan.days
    con.execute(f"""
        CREATE OR REPLACE TABLE scratch.beh AS
        WITH x AS (
            SELECT a.a, a.customer_ref, a.bt_idx, a.city_idx, a.is_dup,
                CASE WHEN a.horeca AND a.tourist THEN 2 WHEN a.horeca THEN 1 ELSE 0 END AS profile,
                greatest(0, a.signup_date - DATE '{plan.start_date.isoformat()}')::INTEGER AS s_idx,
                u(a.a, 'never') < 0.07 AS never,
                u(a.a, 'churn') < 0.16 AS churn,
                b.rate, b.basket, c.store_base, c.n_stores
            FROM acct a JOIN business b USING (bt_idx) JOIN city c USING (city_idx)
        ), y AS (
            SELECT x.*,
                CASE WHEN churn THEN s_idx + floor(u(a, 'churn_at') * ({D} - s_idx))::INTEGER
                     ELSE {D - 1} END AS e_idx
            FROM x
        ), z AS (
            SELECT y.*,
                CASE WHEN never THEN 0 ELSE least(800, round(rate * (e_idx - s_idx + 1) / 365.25
                     * exp(0.6 * nrm(a, 'rate') - 0.18)))::INTEGER END AS np,
                basket * exp(0.8 * nrm(a, 'size') - 0.32)
                     * CASE WHEN u(a, 'whale') < 0.01 THEN 5.0 ELSE 1.0 END AS size,
                store_base + floor(u(a, 'store') * n_stores)::INTEGER AS home_store
            FROM y
        ), w AS (
            SELECT z.*,
                floor(np * 0.035 + u(a, 'nr'))::INTEGER AS nr,
                CASE WHEN never THEN (CASE WHEN u(a, 'nvv') < 0.4 THEN 1 + floor(u(a, 'nv') * 3) ELSE 0 END)
                     ELSE floor(np * 0.22 + 2 * u(a, 'nv')) END::INTEGER AS nv
            FROM z
        )
        SELECT w.*, np + nr + nv AS n,
            (sum(np + nr + nv) OVER (ORDER BY a ROWS UNBOUNDED PRECEDING) - (np + nr + nv))::BIGINT AS off,
            lo.lo, hi.hi
        FROM w
        JOIN daycdf lo ON lo.profile = w.profile AND lo.d = w.s_idx
        JOIN daycdf hi ON hi.profile = w.profile AND hi.d = w.e_idx
        ORDER BY a
    """)
    row = con.execute(
        "SELECT coalesce(sum(np), 0), coalesce(sum(nr), 0), coalesce(sum(nv), 0), "
        "count(*) FILTER (WHERE np = 0), count(*) FILTER (WHERE churn AND np > 0) FROM scratch.beh"
    ).fetchone()
    assert row is not None
    return {
        "purchase": int(row[0]), "return": int(row[1]), "visit": int(row[2]),
        "accounts_never_buying": int(row[3]), "accounts_churned": int(row[4]),
    }


def pick_accounts(con: duckdb.DuckDBPyConnection, plan: Plan, count: int, salt: int, min_purchases: int) -> list[int]:
    """Accounts spread over the file, with purchases, not involved in planted duplicates."""
    out: list[int] = []
    for k in range(count):
        target = ((k + 1) * plan.customers) // (count + 1) + salt
        row = con.execute(
            """
            SELECT a FROM scratch.beh
            WHERE np >= ? AND a >= ? AND NOT is_dup
              AND a NOT IN (SELECT orig FROM dup_origin)
              AND a NOT IN (SELECT pa FROM loyalty_match)
              AND a NOT IN (SELECT pb FROM loyalty_match WHERE pb IS NOT NULL)
              AND a NOT IN (SELECT unnest(?::BIGINT[]))
            ORDER BY a LIMIT 1
            """,
            [min_purchases, target % max(1, plan.customers), out],
        ).fetchone()
        if row is not None:
            out.append(int(row[0]))
    return out


def write_events(con: duckdb.DuckDBPyConnection, plan: Plan, path: Path, bad_accounts: list[int]) -> dict[str, int]:
    """COPY the events to ``path``; the second purchase of each ``bad_accounts`` row is made bad."""
    # event number of each bad row (the account's event index 1, a purchase), by kind
    offs = {int(a): int(o) for a, o in con.execute(
        "SELECT a, off FROM scratch.beh WHERE a IN (SELECT unnest(?::BIGINT[]))", [bad_accounts]).fetchall()}
    values = [(kind, v) for kind, vals in BAD_EVENT_VALUES.items() for v in vals]
    planted: dict[str, dict[int, str]] = {k: {} for k in BAD_EVENT_VALUES}
    for a, (kind, value) in zip(bad_accounts, values):
        planted[kind][offs[a] + 1] = value
    # One thread: with more, DuckDB buffers the rows one thread runs ahead to keep the file in
    # order, and on a busy machine that grew to GBs; one thread keeps memory flat (measured).
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]  # type: ignore[index]
    con.execute("SET threads = 1")
    try:
        _copy_events(con, plan, path, planted)
    finally:
        con.execute(f"SET threads = {int(threads)}")
    return {kind: len(rows) for kind, rows in planted.items()}


def _copy_events(con: duckdb.DuckDBPyConnection, plan: Plan, path: Path, planted: dict[str, dict[int, str]]) -> None:
    def case(kind: str, otherwise: str) -> str:
        if not planted[kind]:
            return otherwise
        whens = " ".join(f"WHEN {e} THEN {sql_str(v)}" for e, v in planted[kind].items())
        return f"CASE e {whens} ELSE {otherwise} END"

    width = max(9, len(str(int(con.execute("SELECT coalesce(sum(n), 0) FROM scratch.beh").fetchone()[0]))))  # type: ignore[index]
    R = season.BUCKETS
    start = plan.start_date.isoformat()
    pay = expand_weighted(list(data.PAYMENT_METHODS))
    missing = list(planted["missing_customer_ref"]) or [-1]
    con.execute(f"""
        COPY (
            WITH ev AS (
                SELECT a, customer_ref, bt_idx, profile, s_idx, e_idx, np, nr, size, basket, home_store,
                       store_base, n_stores, lo, hi, off, unnest(range(n)) AS i
                FROM scratch.beh WHERE n > 0
            ), ev2 AS (
                SELECT ev.*, off + i AS e,
                    CASE WHEN i < np THEN 0 WHEN i < np + nr THEN 1 ELSE 2 END AS et,
                    least({R - 1}, floor((lo + u(off + i, 't') * (hi - lo)) * {R}))::INTEGER AS bucket
                FROM ev
            ), ev3 AS (
                SELECT ev2.*, greatest(s_idx, least(e_idx, inv_day(profile, bucket))) AS d,
                    cat_of(bt_idx, u(e, 'cat')) AS ci
                FROM ev2
            ), ev3b AS (
                SELECT ev3.*, day_mult(profile, d) AS mult FROM ev3
            ), ev4 AS (
                SELECT ev3b.*,
                    CASE et
                        WHEN 0 THEN round(size * mult * exp(0.45 * nrm(e, 'amt') - 0.10125), 2)
                        WHEN 1 THEN -round(size * mult * (0.03 + 0.2 * u(e, 'ret')), 2)
                    END::DECIMAL(14, 2) AS amount,
                    (DATE '{start}' + d)::TIMESTAMP + to_seconds(((
                        (CASE WHEN profile > 0 THEN 7 + floor(12 * pow(u(e, 'h'), 1.6))
                              ELSE 8 + floor(13 * pow(u(e, 'h'), 1.2)) END) * 3600
                        + floor(u(e, 'm') * 3600))::BIGINT)) AS ts
                FROM ev3b
            )
            SELECT 'E' || lpad((e + 1)::VARCHAR, {width}, '0') AS event_id,
                CASE WHEN e IN ({", ".join(str(x) for x in missing)}) THEN NULL ELSE customer_ref END AS customer_ref,
                ['purchase', 'return', 'visit'][et + 1] AS event_type,
                {case("bad_date", "strftime(ts, '%Y-%m-%d %H:%M:%S')")} AS ts,
                {case("bad_amount", "amount::VARCHAR")} AS amount,
                CASE WHEN et < 2 THEN {sql_list(data.CATEGORIES)}[ci + 1] END AS category,
                CASE WHEN u(e, 'st') < 0.1 THEN store_base + floor(u(e, 'st2') * n_stores)::INTEGER
                     ELSE home_store END AS store_id,
                CASE WHEN et < 2 THEN greatest(1, round(abs(amount) / {sql_list(_PRICES)}[ci + 1]
                     * (0.7 + 0.6 * u(e, 'q'))))::BIGINT END AS quantity,
                CASE WHEN et < 2 THEN pick({sql_list(pay)}, u(e, 'pay')) END AS payment_method
            FROM ev4
        ) TO {sql_str(path.as_posix())} (FORMAT csv, HEADER true, DELIMITER ',')
    """)
