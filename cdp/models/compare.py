"""``cdp model compare``: k-means, GMM and hierarchical on the same features and sample.

Like SPSS Modeler's Auto Cluster: one table with, per algorithm, the k it chose, the
silhouette on the same fixed-seed sample, the smallest cluster's share, the fit time, and
how much the algorithms agree (adjusted Rand index against k-means). Nothing is stored.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from cdp.models.clustering import HIERARCHICAL_SAMPLE, _sample, _silhouette, fit_clusters
from cdp.models.preprocess import Preprocessor
from cdp.models.spec import ModelSpec

__all__ = ["COMPARED", "compare_algorithms"]

COMPARED = ("kmeans", "gmm", "hierarchical")


def compare_algorithms(X: np.ndarray, spec: ModelSpec) -> dict[str, Any]:
    """Fit each of :data:`COMPARED` on one fixed-seed sample of ``X`` and tabulate."""
    from sklearn.metrics import adjusted_rand_score

    idx = _sample(len(X), HIERARCHICAL_SAMPLE, spec.seed)
    S = np.asarray(X, dtype=float)[idx]
    rows, labels = [], {}
    for algo in COMPARED:
        opts = replace(spec.cluster_options(), algorithm=algo)
        started = time.perf_counter()
        fit = fit_clusters(S, list(spec.features), opts)
        seconds = time.perf_counter() - started
        Z = Preprocessor.from_dict(fit.params["preprocess"]).apply(S)
        lab = fit.labels.astype(str)
        labels[algo] = lab
        sizes = fit.metrics["sizes"]
        rows.append({
            "algorithm": algo,
            "k": fit.metrics.get("k"),
            "silhouette": _silhouette(Z, lab, spec.seed),
            "bic": fit.metrics.get("bic"),
            "smallest_share": min(sizes.values()) / max(len(S), 1) if sizes else None,
            "sizes": sizes,
            "seconds": seconds,
        })
    for row in rows:
        row["ari_vs_kmeans"] = float(adjusted_rand_score(labels["kmeans"], labels[row["algorithm"]]))
    scored = [r for r in rows if r["silhouette"] is not None]
    best = max(scored, key=lambda r: r["silhouette"])["algorithm"] if scored else None
    return {"sample": len(S), "customers": len(X), "features": list(spec.features), "rows": rows,
            "best_by_silhouette": best}
