"""Drift between model versions: population stability per feature, migration between clusters.

At training time each feature's deciles and the share of customers in each are kept in the
model's parameters (aggregates only). On retraining, the new customers are put in the old
bins and ``PSI = Σ (new − old) · ln(new / old)`` is reported per feature: below 0.1 stable,
0.1–0.25 a moderate shift, above 0.25 a major shift worth a look before using the new
model. The migration matrix counts customers by (old cluster, new cluster).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["migration_matrix", "psi", "psi_level", "reference_bins"]

_EPS = 1e-4


def reference_bins(X: np.ndarray, features: list[str], bins: int = 10) -> dict[str, Any]:
    """Decile edges and shares per feature of the (imputed) training matrix."""
    out: dict[str, Any] = {}
    for j, name in enumerate(features):
        col = np.asarray(X[:, j], dtype=float)
        col = col[~np.isnan(col)]
        if not len(col):
            out[name] = {"edges": [], "shares": [1.0]}
            continue
        edges = np.unique(np.quantile(col, np.linspace(0, 1, bins + 1)[1:-1]))
        counts = np.bincount(np.searchsorted(edges, col, side="right"), minlength=len(edges) + 1)
        out[name] = {"edges": edges.tolist(), "shares": (counts / counts.sum()).tolist()}
    return out


def psi(reference: dict[str, Any], X: np.ndarray, features: list[str]) -> dict[str, float]:
    """PSI of each feature of ``X`` against the stored reference bins."""
    out: dict[str, float] = {}
    for j, name in enumerate(features):
        ref = reference.get(name)
        if ref is None:
            continue
        col = np.asarray(X[:, j], dtype=float)
        col = col[~np.isnan(col)]
        edges = np.asarray(ref["edges"])
        expected = np.asarray(ref["shares"])
        counts = np.bincount(np.searchsorted(edges, col, side="right"), minlength=len(edges) + 1)
        actual = counts / max(counts.sum(), 1)
        e = np.maximum(expected, _EPS)
        a = np.maximum(actual, _EPS)
        out[name] = float(np.sum((a - e) * np.log(a / e)))
    return out


def psi_level(value: float) -> str:
    """The usual reading of a PSI value."""
    return "stable" if value < 0.1 else "moderate" if value < 0.25 else "major"


def migration_matrix(old: np.ndarray, new: np.ndarray) -> dict[str, Any]:
    """Counts of customers by (old label, new label), with the adjusted Rand index."""
    from sklearn.metrics import adjusted_rand_score

    old = np.asarray(old).astype(str)
    new = np.asarray(new).astype(str)
    old_labels = sorted(set(old.tolist()))
    new_labels = sorted(set(new.tolist()))
    oi = {v: i for i, v in enumerate(old_labels)}
    ni = {v: i for i, v in enumerate(new_labels)}
    counts = np.zeros((len(old_labels), len(new_labels)), dtype=int)
    np.add.at(counts, ([oi[v] for v in old], [ni[v] for v in new]), 1)
    return {
        "old": old_labels,
        "new": new_labels,
        "counts": counts.tolist(),
        "customers": len(old),
        "unchanged_share": float(np.mean(old == new)) if len(old) else None,
        "adjusted_rand": float(adjusted_rand_score(old, new)) if len(old) else None,
    }
