"""Names stay attached to the same centres when retraining with another seed or row order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from cdp.models.clustering import ClusterOptions, fit_clusters, predict_labels
from cdp.models.naming import NamesBy, cluster_labels

from .conftest import demo_matrix

FEATURES = ["recency", "orders_90d", "spend_12m"]
NAMES = NamesBy("spend_12m", "desc", ("Champions", "Loyal", "Promising", "At risk", "Hibernating"))


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm"])
def test_retraining_with_other_seed_and_row_order_keeps_names(algorithm):
    X = demo_matrix(2500)
    base = fit_clusters(X, FEATURES, ClusterOptions(algorithm, k=5, transform="log1p", seed=1, names_by=NAMES))
    perm = np.random.default_rng(99).permutation(len(X))
    other = fit_clusters(X[perm], FEATURES, ClusterOptions(algorithm, k=5, transform="log1p", seed=42,
                                                           names_by=NAMES))
    a = base.labels
    b = predict_labels(algorithm, other.params, X)
    # same names on the same customers, not just the same partition
    assert adjusted_rand_score(a, b) >= 0.9
    assert np.mean(a == b) >= 0.9
    assert set(base.params["labels"]) == set(NAMES.names)


def test_k_auto_keeps_the_whole_table_and_reports_unused_names():
    X = demo_matrix(1000)
    fit = fit_clusters(X, FEATURES, ClusterOptions("kmeans", k_range=(2, 4), transform="log1p", names_by=NAMES))
    assert [row["k"] for row in fit.metrics["k_table"]] == [2, 3, 4]
    best = max(fit.metrics["k_table"], key=lambda r: r["silhouette"])
    assert fit.metrics["k"] == best["k"]
    assert fit.metrics["unused_names"] == list(NAMES.names[fit.metrics["k"]:])


def test_gmm_k_auto_uses_bic():
    X = demo_matrix(1000)
    fit = fit_clusters(X, FEATURES, ClusterOptions("gmm", k_range=(2, 4), transform="log1p"))
    assert fit.metrics["k_criterion"] == "bic"
    assert fit.metrics["k"] == min(fit.metrics["k_table"], key=lambda r: r["bic"])["k"]


def test_cluster_labels_rank_centres_and_number_extras():
    centres = np.array([[0.0, 5.0], [0.0, 9.0], [0.0, 1.0]])
    labels, unused = cluster_labels(centres, ["a", "b"], NamesBy("b", "desc", ("Hi", "Mid")))
    assert labels == ["Mid", "Hi", "3"] and unused == []
    labels, unused = cluster_labels(centres, ["a", "b"], NamesBy("b", "asc", ("Lo", "Mid", "Hi", "Top")))
    assert labels == ["Mid", "Hi", "Lo"] and unused == ["Top"]


def test_tiny_cluster_of_extremes_is_warned():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(10, 1, 2000), rng.normal(100, 10, 2000)])
    X[:5, 1] = 1e7  # a handful of extreme customers
    fit = fit_clusters(X, ["a", "spend"], ClusterOptions("kmeans", k=3, scale="standard"))
    assert any("< 1%" in w for w in fit.warnings)
    assert fit.metrics["warnings"] == fit.warnings


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.integers(0, 2**32 - 1), st.sampled_from(["asc", "desc"]), st.integers(0, 12))
def test_names_follow_the_centres_whatever_their_order(k, seed, direction, n_names):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, 3))
    names = NamesBy("b", direction, tuple(f"N{i}" for i in range(n_names)))
    labels, unused = cluster_labels(centres, ["a", "b", "c"], names)
    perm = rng.permutation(k)
    permuted, _ = cluster_labels(centres[perm], ["a", "b", "c"], names)
    assert permuted == [labels[i] for i in perm]  # a relabelling by the algorithm changes nothing
    assert len(set(labels)) == k and unused == list(names.names[k:])
    order = np.argsort(centres[:, 1] * (-1 if direction == "desc" else 1), kind="stable")
    assert labels[order[0]] == (names.names[0] if n_names else "1")
