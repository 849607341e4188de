"""Clustering and outlier detection with scikit-learn, exported to plain JSON parameters.

Algorithms: ``kmeans`` and ``gmm`` (scorable by formula, see :mod:`cdp.models.sql`),
``hierarchical``, ``dbscan`` and ``isolation_forest`` (scored at training time: their labels
go to ``model_scores``). ``k auto(a..b)`` fits every k on a fixed-seed sample and keeps
the whole table: silhouette (on a fixed-seed sample of 4,000 customers, so it scales)
for kmeans and hierarchical, BIC for gmm. The chosen k is then refitted on all customers,
starting from the sample's solution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cdp.errors import ModelError
from cdp.models.naming import NamesBy, cluster_labels
from cdp.models.preprocess import Preprocessor, fit_preprocessor

__all__ = [
    "CLUSTER_ALGORITHMS",
    "ClusterFit",
    "ClusterOptions",
    "fit_clusters",
    "predict_labels",
    "predict_proba",
    "training_threads",
]

CLUSTER_ALGORITHMS = ("kmeans", "gmm", "hierarchical", "dbscan", "isolation_forest")
FIT_SAMPLE = 20_000          # rows used to choose k
SILHOUETTE_SAMPLE = 4_000    # rows silhouette is computed on
HIERARCHICAL_SAMPLE = 5_000  # agglomerative clustering is O(n^2) in memory
DBSCAN_SAMPLE = 20_000
DENDROGRAM_MERGES = 100      # top merges kept for the report
SMALL_CLUSTER_SHARE = 0.01
NOISE = "noise"
OUTLIER_SHARE = 0.02  # isolation forest flags the most unusual 2% (scikit-learn's "auto" flagged a third of
#                       the demo's multimodal customers, which is not what "outlier" means to a marketer)
OUTLIER, INLIER = "outlier", "inlier"


@dataclass(frozen=True)
class ClusterOptions:
    """What the rule file says about a clustering model (DSL.md §Models)."""

    algorithm: str
    k: int | None = None
    k_range: tuple[int, int] | None = None
    scale: str = "standard"
    transform: str = "none"
    seed: int = 0
    eps: float | None = None
    min_samples: int | None = None
    names_by: NamesBy | None = None


@dataclass
class ClusterFit:
    """A fitted model: JSON ``params`` and ``metrics``, and the training rows' labels."""

    algorithm: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    labels: np.ndarray                 # label text per training row
    scores: np.ndarray | None = None   # per-row score stored with the label (outliers)
    stored_scores: bool = False        # True: scoring reads model_scores
    proba: np.ndarray | None = None    # gmm: scikit-learn's predict_proba of the training rows
    warnings: list[str] = field(default_factory=list)


def _sample(n: int, size: int, seed: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


class _SilhouetteSample:
    """A fixed-seed sample of rows with its distance matrix, computed once for every k."""

    def __init__(self, Z: np.ndarray, seed: int) -> None:
        from sklearn.metrics import pairwise_distances

        self.idx = _sample(len(Z), SILHOUETTE_SAMPLE, seed)
        self.dist = pairwise_distances(Z[self.idx])

    def score(self, labels: np.ndarray) -> float | None:
        from sklearn.metrics import silhouette_score

        lab = np.asarray(labels)[self.idx]
        if len(np.unique(lab)) < 2 or len(self.idx) < 3 or len(np.unique(lab)) >= len(self.idx):
            return None
        return float(silhouette_score(self.dist, lab, metric="precomputed"))


def _silhouette(Z: np.ndarray, labels: np.ndarray, seed: int) -> float | None:
    return _SilhouetteSample(Z, seed).score(labels)


def _k_candidates(opts: ClusterOptions, n: int) -> list[int]:
    if opts.k is not None:
        ks = [opts.k]
    else:
        a, b = opts.k_range or (2, 8)
        ks = list(range(a, b + 1))
    ks = [k for k in ks if k <= n]
    if not ks or min(ks) < 1:
        raise ModelError(f"cannot make {opts.k or opts.k_range} clusters from {n} customers")
    return ks


def fit_clusters(X: np.ndarray, features: list[str], opts: ClusterOptions) -> ClusterFit:
    """Fit ``opts.algorithm`` on the raw feature matrix (NaN = missing)."""
    if opts.algorithm not in CLUSTER_ALGORITHMS:
        raise ModelError(f"unknown algorithm '{opts.algorithm}'")
    X = np.asarray(X, dtype=float)
    if len(X) < 2:
        raise ModelError("needs at least 2 customers with features to train")
    pre = fit_preprocessor(X, features, scale=opts.scale, transform=opts.transform)
    Z = pre.apply(X)
    with training_threads():
        fit = _FITS[opts.algorithm](Z, pre, opts)
    fit.params["preprocess"] = pre.to_dict()
    fit.params["features"] = list(features)
    # unnamed clusters are numbers (DSL.md: "its number when the model has no names")
    fit.params["named"] = bool(opts.names_by and opts.names_by.names)
    _add_sizes(fit)
    return fit


def training_threads() -> Any:
    """Limit BLAS/OpenMP to ``CDP_MODEL_THREADS`` threads (default 1) while fitting.

    On a shared machine OpenMP's spinning threads slow k-means down by 10-30x as soon as
    the cores are busy (measured: 0.4 s with 1 thread vs 11.5 s with 2 on a loaded 2-core
    host); one thread is predictable, and `cdp model train` runs beside other jobs.
    """
    import os

    import sklearn.cluster  # noqa: F401 - loads OpenMP/BLAS first: limits apply to loaded libraries only
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(os.environ.get("CDP_MODEL_THREADS", "1")))


def _label_text(raw: np.ndarray, labels: list[str]) -> np.ndarray:
    return np.asarray(labels, dtype=object)[raw]


def _fit_kmeans(Z: np.ndarray, pre: Preprocessor, opts: ClusterOptions) -> ClusterFit:
    from sklearn.cluster import KMeans

    ks = _k_candidates(opts, len(Z))
    idx = _sample(len(Z), FIT_SAMPLE, opts.seed)
    sil_sample = _SilhouetteSample(Z[idx], opts.seed)
    table, best = [], None
    for k in ks:
        km = KMeans(n_clusters=k, n_init=3, random_state=opts.seed).fit(Z[idx])
        sil = sil_sample.score(km.labels_) if k > 1 else None
        table.append({"k": k, "silhouette": sil, "inertia": float(km.inertia_)})
        score = -np.inf if sil is None else sil
        if best is None or score > best[0]:
            best = (score, k, km)
    assert best is not None  # ks is never empty
    _, k, km = best
    if len(idx) < len(Z):
        km = KMeans(n_clusters=k, init=km.cluster_centers_, n_init=1, random_state=opts.seed).fit(Z)
    centres = km.cluster_centers_
    labels, unused = cluster_labels(centres, pre.features, opts.names_by)
    raw = km.predict(Z)
    params = {"centres": centres.tolist(), "labels": labels, "k": k}
    metrics = {
        "k": k,
        "k_table": table,
        "k_criterion": "silhouette" if len(ks) > 1 else None,
        "silhouette": sil_sample.score(raw[idx]),
        "inertia": float(km.inertia_),
        "unused_names": unused,
    }
    return ClusterFit("kmeans", params, metrics, _label_text(raw, labels))


def _fit_gmm(Z: np.ndarray, pre: Preprocessor, opts: ClusterOptions) -> ClusterFit:
    from sklearn.mixture import GaussianMixture

    ks = _k_candidates(opts, len(Z))
    idx = _sample(len(Z), FIT_SAMPLE, opts.seed)
    table, best = [], None
    for k in ks:
        gm = GaussianMixture(n_components=k, covariance_type="full", n_init=2, random_state=opts.seed,
                             reg_covar=1e-6).fit(Z[idx])
        bic = float(gm.bic(Z[idx]))
        table.append({"k": k, "bic": bic, "converged": bool(gm.converged_)})
        if best is None or bic < best[0]:
            best = (bic, k, gm)
    assert best is not None
    _, k, gm0 = best
    if len(idx) < len(Z):
        gm = GaussianMixture(n_components=k, covariance_type="full", random_state=opts.seed, reg_covar=1e-6,
                             weights_init=gm0.weights_, means_init=gm0.means_,
                             precisions_init=gm0.precisions_).fit(Z)
    else:
        gm = gm0
    labels, unused = cluster_labels(gm.means_, pre.features, opts.names_by)
    raw = gm.predict(Z)
    params = {
        "k": k,
        "weights": gm.weights_.tolist(),
        "means": gm.means_.tolist(),
        "covariances": gm.covariances_.tolist(),
        "precisions_cholesky": gm.precisions_cholesky_.tolist(),
        "labels": labels,
    }
    metrics = {
        "k": k,
        "k_table": table,
        "k_criterion": "bic" if len(ks) > 1 else None,
        "bic": float(gm.bic(Z)),
        "silhouette": _silhouette(Z, raw, opts.seed),
        "converged": bool(gm.converged_),
        "unused_names": unused,
    }
    return ClusterFit("gmm", params, metrics, _label_text(raw, labels), proba=gm.predict_proba(Z))


def _nearest(Z: np.ndarray, centres: np.ndarray) -> np.ndarray:
    out = np.empty(len(Z), dtype=int)
    cn = (centres**2).sum(axis=1)
    for start in range(0, len(Z), 100_000):
        chunk = Z[start:start + 100_000]
        out[start:start + len(chunk)] = np.argmin(cn[None, :] - 2 * chunk @ centres.T, axis=1)
    return out


def _fit_hierarchical(Z: np.ndarray, pre: Preprocessor, opts: ClusterOptions) -> ClusterFit:
    from sklearn.cluster import AgglomerativeClustering

    ks = _k_candidates(opts, min(len(Z), HIERARCHICAL_SAMPLE))
    idx = _sample(len(Z), HIERARCHICAL_SAMPLE, opts.seed)
    S = Z[idx]
    sil_sample = _SilhouetteSample(S, opts.seed)
    table, best = [], None
    for k in ks:
        ag = AgglomerativeClustering(n_clusters=k, linkage="ward", compute_distances=True).fit(S)
        sil = sil_sample.score(ag.labels_) if k > 1 else None
        table.append({"k": k, "silhouette": sil})
        score = -np.inf if sil is None else sil
        if best is None or score > best[0]:
            best = (score, k, ag)
    assert best is not None
    _, k, ag = best
    centres = np.vstack([S[ag.labels_ == c].mean(axis=0) for c in range(k)])
    labels, unused = cluster_labels(centres, pre.features, opts.names_by)
    raw = _nearest(Z, centres)
    merges = len(ag.children_)
    keep = slice(max(0, merges - DENDROGRAM_MERGES), merges)
    params = {
        "k": k,
        "linkage": "ward",
        "centres": centres.tolist(),
        "labels": labels,
        "sample_size": len(idx),
        "dendrogram": {
            "children": ag.children_[keep].tolist(),
            "distances": ag.distances_[keep].tolist(),
            "first_merge": int(keep.start),
            "leaves": len(idx),
        },
    }
    metrics = {
        "k": k,
        "k_table": table,
        "k_criterion": "silhouette" if len(ks) > 1 else None,
        "silhouette": _silhouette(Z, raw, opts.seed),
        "unused_names": unused,
        "note": f"fitted on a sample of {len(idx)} customers; everyone else joins the nearest cluster centre",
    }
    return ClusterFit("hierarchical", params, metrics, _label_text(raw, labels), stored_scores=True)


def _fit_dbscan(Z: np.ndarray, pre: Preprocessor, opts: ClusterOptions) -> ClusterFit:
    from sklearn.cluster import DBSCAN
    from sklearn.neighbors import NearestNeighbors

    eps = opts.eps if opts.eps is not None else 0.5
    min_samples = opts.min_samples if opts.min_samples is not None else 5
    idx = _sample(len(Z), DBSCAN_SAMPLE, opts.seed)
    S = Z[idx]
    db = DBSCAN(eps=eps, min_samples=min_samples).fit(S)
    raw = np.full(len(Z), -1)
    raw[idx] = db.labels_
    core = db.core_sample_indices_
    rest = np.setdiff1d(np.arange(len(Z)), idx)
    if len(rest) and len(core):
        nn = NearestNeighbors(n_neighbors=1).fit(S[core])
        dist, pos = nn.kneighbors(Z[rest])
        raw[rest] = np.where(dist[:, 0] <= eps, db.labels_[core][pos[:, 0]], -1)
    k = int(raw.max() + 1)
    if k:
        centres = np.vstack([Z[raw == c].mean(axis=0) for c in range(k)])
        labels, unused = cluster_labels(centres, pre.features, opts.names_by)
    else:
        labels, unused = [], list(opts.names_by.names) if opts.names_by else []
    text = np.where(raw < 0, NOISE, np.asarray(labels + [NOISE], dtype=object)[raw])
    noise_share = float(np.mean(raw < 0))
    params = {"k": k, "eps": eps, "min_samples": min_samples, "labels": labels, "sample_size": len(idx)}
    metrics = {"k": k, "noise_share": noise_share, "unused_names": unused}
    fit = ClusterFit("dbscan", params, metrics, text, scores=(raw < 0).astype(float), stored_scores=True)
    if noise_share > 0.5:
        fit.warnings.append(f"{noise_share:.0%} of customers are noise: eps {eps} is probably too small")
    return fit


def _fit_isolation_forest(Z: np.ndarray, pre: Preprocessor, opts: ClusterOptions) -> ClusterFit:
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=100, contamination=OUTLIER_SHARE, random_state=opts.seed).fit(Z)
    anomaly = -forest.score_samples(Z)          # higher = more unusual (0.5..1)
    outlier = forest.predict(Z) == -1
    text = np.where(outlier, OUTLIER, INLIER).astype(object)
    params = {"threshold": float(-forest.offset_), "n_estimators": 100, "contamination": OUTLIER_SHARE,
              "labels": [INLIER, OUTLIER]}
    metrics = {"outlier_share": float(outlier.mean()), "threshold": float(-forest.offset_)}
    return ClusterFit("isolation_forest", params, metrics, text, scores=anomaly, stored_scores=True)


def _add_sizes(fit: ClusterFit) -> None:
    values, counts = np.unique(fit.labels.astype(str), return_counts=True)
    n = len(fit.labels)
    sizes = {str(v): int(c) for v, c in zip(values, counts)}
    fit.metrics["customers"] = n
    fit.metrics["sizes"] = sizes
    if fit.algorithm in ("kmeans", "gmm", "hierarchical", "dbscan"):
        for label in fit.params.get("labels", []):
            sizes.setdefault(label, 0)
            if sizes[label] < SMALL_CLUSTER_SHARE * n:
                fit.warnings.append(
                    f"cluster '{label}' holds {sizes[label]} of {n} customers (< 1%): "
                    "heavy-tailed features make tiny clusters of extreme customers; try `transform log1p`"
                )
    fit.metrics["warnings"] = fit.warnings


_FITS = {
    "kmeans": _fit_kmeans,
    "gmm": _fit_gmm,
    "hierarchical": _fit_hierarchical,
    "dbscan": _fit_dbscan,
    "isolation_forest": _fit_isolation_forest,
}


# -- scoring new rows in numpy (the reference the SQL must equal) ------------------------

def predict_proba(params: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """GMM posteriors for raw rows, computed the way scikit-learn does."""
    from scipy.special import logsumexp

    Z = Preprocessor.from_dict(params["preprocess"]).apply(X)
    lp = _gmm_weighted_log_prob(params, Z)
    return np.exp(lp - logsumexp(lp, axis=1)[:, None])


def _gmm_weighted_log_prob(params: dict[str, Any], Z: np.ndarray) -> np.ndarray:
    means = np.asarray(params["means"])
    chol = np.asarray(params["precisions_cholesky"])
    weights = np.asarray(params["weights"])
    d = Z.shape[1]
    out = np.empty((len(Z), len(means)))
    for j, (mu, L) in enumerate(zip(means, chol)):
        y = Z @ L - mu @ L
        out[:, j] = -0.5 * (d * np.log(2 * np.pi) + (y**2).sum(axis=1)) + np.log(np.diag(L)).sum() + np.log(weights[j])
    return out


def predict_labels(algorithm: str, params: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """Cluster label text for raw rows (kmeans, gmm, hierarchical by nearest centre)."""
    Z = Preprocessor.from_dict(params["preprocess"]).apply(X)
    labels = np.asarray(params["labels"], dtype=object)
    if algorithm in ("kmeans", "hierarchical"):
        return labels[_nearest(Z, np.asarray(params["centres"]))]
    if algorithm == "gmm":
        return labels[np.argmax(_gmm_weighted_log_prob(params, Z), axis=1)]
    raise ModelError(f"{algorithm} models cannot score new customers by formula; retrain to rescore them")
