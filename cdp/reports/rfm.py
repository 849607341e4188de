"""The RFM grid of the report: customers per (R, F) score, computed by the rule compiler so
it is exactly DSL.md's RFM (same formula, same settings from `[rules]`)."""

from __future__ import annotations

from typing import Any

__all__ = ["rfm_grid"]

_RULE = 'segment __report_rfm_grid "RFM grid": where rfm.r is not null and rfm.f is not null'


def rfm_grid(ws: Any, con: Any, when: Any) -> dict[tuple[int, int], int] | None:
    """{(R, F): customers} at ``when``; None when nobody bought in the RFM window."""
    import dsl

    from cdp.catalog import WorkspaceCatalog

    checked = dsl.check(dsl.loads(_RULE, file="<report>"), WorkspaceCatalog(ws, con, declared=False))
    opts = dsl.CompileOptions(as_of=when.local, as_of_utc=when.utc, timezone=when.timezone, dialect="duckdb")
    seg = dsl.compile_segment(checked, "__report_rfm_grid", opts)
    r, f = seg.values.get("rfm.r"), seg.values.get("rfm.f")
    if r is None or f is None:
        return None
    query = seg.query.copy().select(r.copy().as_("r"), f.copy().as_("f"))
    inner = query.sql(dialect="duckdb")
    rows = con.execute(f"SELECT r, f, count(*) FROM ({inner}) GROUP BY r, f").fetchall()
    return {(int(a), int(b)): int(n) for a, b, n in rows} or None
