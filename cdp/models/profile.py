"""Per-cluster profiles: size, share and the mean of each feature against everyone's.

Profiles are aggregates over the training customers (no customer-level values) and are
stored with the model's metrics, so ``cdp model show`` needs no recomputation. The
suggested names come from :func:`cdp.models.naming.suggest_names`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cdp.models.naming import suggest_names

__all__ = ["cluster_profile"]


def cluster_profile(X: np.ndarray, labels: np.ndarray, features: list[str], order: list[str]) -> list[dict[str, Any]]:
    """One entry per label in ``order`` (then any other label seen, e.g. noise).

    ``X`` is the imputed feature matrix in feature units.
    """
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels).astype(str)
    seen = [str(v) for v in order] + sorted(set(labels.tolist()) - {str(v) for v in order})
    overall = np.nanmean(X, axis=0) if len(X) else np.zeros(len(features))
    std = np.nanstd(X, axis=0) if len(X) else np.ones(len(features))
    means = []
    sizes = []
    for label in seen:
        rows = X[labels == label]
        sizes.append(len(rows))
        means.append(np.nanmean(rows, axis=0) if len(rows) else np.full(len(features), np.nan))
    mean_arr = np.vstack(means) if means else np.zeros((0, len(features)))
    suggested = suggest_names(features, np.nan_to_num(mean_arr, nan=0.0), overall, std) if len(seen) else []
    n = max(len(labels), 1)
    out = []
    for i, label in enumerate(seen):
        out.append({
            "label": label,
            "size": sizes[i],
            "share": sizes[i] / n,
            "means": {f: (None if np.isnan(mean_arr[i, j]) else float(mean_arr[i, j])) for j, f in enumerate(features)},
            "index": {  # cluster mean / overall mean, 1.0 = average
                f: (None if np.isnan(mean_arr[i, j]) or overall[j] == 0 else float(mean_arr[i, j] / overall[j]))
                for j, f in enumerate(features)
            },
            "suggested_name": suggested[i] if label in order else None,  # none for dbscan noise
        })
    return out
