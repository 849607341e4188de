"""Preview (size, control, share, a sample with the values that qualified it) and the funnel."""

from __future__ import annotations

from typing import Any

__all__ = ["funnel", "preview"]

_TABLE = "_cdp_preview"


def _sql(query: Any) -> str:
    return query if isinstance(query, str) else query.sql(dialect="duckdb")


def preview(con: Any, seg: Any, *, sample: int = 10) -> dict[str, Any]:
    """Run one compiled segment without storing it.

    The sample is the first ``sample`` members in the order of ``md5(customer_id)``: spread
    over the segment and the same on every run.
    """
    query = seg.query.copy()
    values = dict(getattr(seg, "values", None) or {})
    if values:
        query = query.select(*[expr.copy().as_(name) for name, expr in values.items()], append=True)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_TABLE} AS {_sql(query)}")
    try:
        size, control = con.execute(f"SELECT count(*), count(*) FILTER (WHERE control) FROM {_TABLE}").fetchone()
        customers = con.execute("SELECT count(*) FROM customers").fetchone()[0]
        cur = con.execute(
            f"SELECT * EXCLUDE (control), control FROM {_TABLE} ORDER BY md5(customer_id) LIMIT ?", [sample]
        )
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_TABLE}")
    return {
        "size": int(size),
        "control": int(control),
        "customers": int(customers),
        "share": (int(size) / int(customers)) if customers else 0.0,
        "values": list(values),
        "sample": rows,
    }


def funnel(con: Any, seg: Any) -> list[dict[str, Any]]:
    """How many customers pass each top-level ``and`` condition of the rule, cumulatively, in
    order; step 0 is every customer."""
    labels = list(getattr(seg, "funnel_labels", None) or [])
    query = getattr(seg, "funnel_query", None)
    if query is None or not labels:
        return []
    row = con.execute(_sql(query)).fetchone()
    total = con.execute("SELECT count(*) FROM customers").fetchone()[0]
    steps = [{"step": 0, "condition": "all customers", "customers": int(total)}]
    steps += [
        {"step": i, "condition": label, "customers": None if n is None else int(n)}
        for i, (label, n) in enumerate(zip(labels, row, strict=False), start=1)
    ]
    return steps
