"""Cluster models in the report: per-cluster profile, the k-selection curve, and a 2-D PCA
projection of a sample coloured by cluster.

The projection samples at most ``SAMPLE`` customers, computes the model's features with the
rule compiler and labels them with the model's own SQL scoring, so the colours are exactly
what `cluster(MODEL)` gives in a rule. PCA runs on log1p (for never-negative features) and
standardized values of the sample: a picture of the clusters' separation, not the model's
own distance. Clusters with fewer than ``min_cell`` members are left out of the picture and
their sizes shown as "<10".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cdp.reports import page as P
from cdp.reports import svg
from cdp.reports.i18n import t
from cdp.reports.small import shown, suppressed

__all__ = ["cluster_sections", "projection", "SAMPLE"]

SAMPLE = 1500
_CLUSTERING = ("kmeans", "gmm", "hierarchical")


def _stored_models(con: Any) -> list[Any]:
    try:
        from cdp.models import registry
    except ImportError:  # pragma: no cover - models not installed
        return []
    return [m for m in registry.list_latest(con) if m.algorithm in _CLUSTERING]


def projection(ws: Any, con: Any, when: Any, stored: Any, sample: int = SAMPLE) -> list[tuple[float, float, str]]:
    """(pc1, pc2, cluster label) for a deterministic sample of customers."""
    import dsl
    import sqlglot.expressions as exp

    from cdp.catalog import WorkspaceCatalog
    from cdp.models.sql import score_expression

    paths = sorted(ws.segments_dir.glob("*.seg"))
    if not paths:
        return []
    checked = dsl.check(dsl.load(paths), WorkspaceCatalog(ws, con, declared=False))
    opts = dsl.CompileOptions(as_of=when.local, as_of_utc=when.utc, timezone=when.timezone, dialect="duckdb")
    try:
        feats = dsl.compile_features(checked, stored.name, opts)
    except Exception:  # the model's definition changed or vanished: no picture, the table still shows
        return []
    names = [s.alias_or_name for s in feats.selects if s.alias_or_name != "customer_id"]
    inner = exp.select("*").from_(feats.subquery("f"))
    label = score_expression(stored, "cluster", {n: exp.column(n) for n in names}, None, "duckdb")
    query = inner.select(exp.Cast(this=label, to=exp.DataType.build("VARCHAR")).as_("_label"))
    sql = (
        f"SELECT * FROM ({query.sql(dialect='duckdb')}) WHERE _label IS NOT NULL "
        f"ORDER BY md5(customer_id) LIMIT {int(sample)}"
    )
    rows = con.execute(sql).fetchall()
    if len(rows) < 3:
        return []
    X = np.array([[np.nan if v is None else float(v) for v in r[1:-1]] for r in rows], dtype=float)
    labels = [str(r[-1]) for r in rows]
    col_median = np.nanmedian(np.where(np.isnan(X), np.nan, X), axis=0)
    X = np.where(np.isnan(X), np.nan_to_num(col_median), X)
    nonneg = (X >= 0).all(axis=0)
    X[:, nonneg] = np.log1p(X[:, nonneg])
    std = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(std == 0, 1, std)
    _u, _s, vt = np.linalg.svd(Z, full_matrices=False)
    pcs = Z @ vt[:2].T if vt.shape[0] >= 2 else np.column_stack([Z @ vt[0], np.zeros(len(Z))])
    return [(float(a), float(b), lab) for (a, b), lab in zip(pcs, labels)]


def cluster_sections(ws: Any, con: Any, when: Any, lang: str, min_cell: int) -> str:
    models = _stored_models(con)
    if not models:
        return f'<p class="note">{P.esc(t(lang, "no_data"))}</p>'
    blocks = []
    for m in models:
        metrics = m.metrics or {}
        profile = metrics.get("profile") or []
        features = list(m.params.get("features") or (profile[0]["means"].keys() if profile else []))
        rows = []
        small = set()
        for c in profile:
            size = int(c.get("size", 0))
            if suppressed(size, min_cell):
                small.add(str(c.get("label")))
            rows.append([c.get("label"), shown(size, min_cell), f"{100 * float(c.get('share', 0)):.1f}%"]
                        + [("–" if suppressed(size, min_cell) else f"{float(c['means'].get(f, 0)):,.1f}") for f in features]
                        + [c.get("suggested_name", "")])
        head = [t(lang, "cluster"), t(lang, "size"), t(lang, "share"), *features, "suggested"]
        k_rows = metrics.get("k_table") or []
        crit = "bic" if m.algorithm == "gmm" else "silhouette"
        curve = {crit: [(str(r["k"]), float(r[crit])) for r in k_rows if r.get(crit) is not None]}
        points = [p for p in projection(ws, con, when, m) if p[2] not in small]
        blocks.append(
            f"<h3>{P.esc(m.name)} · {P.esc(m.algorithm)} v{m.version} · k = {P.esc(metrics.get('k', len(profile)))}</h3>"
            + P.table(head, rows)
            + f"<h3>{P.esc(t(lang, 'k_selection'))}</h3>"
            + svg.line_chart({k: v for k, v in curve.items() if v}, title=f"{m.name}: {t(lang, 'k_selection')}",
                             empty_note=t(lang, "no_data"))
            + f"<h3>{P.esc(t(lang, 'projection'))}</h3>"
            + svg.scatter(points, title=f"{m.name}: PCA", empty_note=t(lang, "no_data"))
        )
    return "".join(blocks)
