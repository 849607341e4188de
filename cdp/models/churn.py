"""Churn: will a customer do EVENT again within the horizon? A logistic regression in JSON.

Time-based validation (never a random split, which would leak the future):

    ──── history ────|── horizon ──|── horizon ──|
                  train cut     valid cut      as_of

* training rows: features as of ``as_of − 2·horizon``, label = no EVENT in the next horizon;
* validation rows: features as of ``as_of − horizon``, label likewise; AUC, Brier score and
  top-decile lift are measured there, on customers the model never saw labels for;
* the stored model is then refitted on the validation window (the most recent labelled
  data) and scored in SQL at any ``as_of`` with the same preprocessing.

Only customers with at least one EVENT before the cut are in the population: someone who
never bought cannot churn. The coefficients, intercept and preprocessing are plain JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cdp.errors import ModelError
from cdp.models.preprocess import fit_preprocessor

__all__ = ["ChurnFit", "classification_metrics", "fit_churn", "predict_churn"]


@dataclass
class ChurnFit:
    params: dict[str, Any]
    metrics: dict[str, Any]


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """AUC, Brier score, top-decile lift and base rate of predicted probabilities ``p``."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    base = float(y.mean()) if len(y) else 0.0
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None
    top = max(1, int(np.ceil(len(p) * 0.1)))
    order = np.argsort(-p, kind="stable")[:top]
    lift = float(y[order].mean() / base) if base > 0 else None
    return {"auc": auc, "brier": float(brier_score_loss(y, p)), "top_decile_lift": lift, "churn_rate": base,
            "customers": len(y)}


def _fit(X: np.ndarray, y: np.ndarray, features: list[str], transform: str, scale: str, seed: int) -> tuple[Any, Any]:
    from sklearn.linear_model import LogisticRegression

    pre = fit_preprocessor(X, features, scale=scale, transform=transform)
    if len(np.unique(y)) < 2:
        raise ModelError("every customer in the window has the same outcome: nothing to learn",
                         hint="use a longer history or another horizon")
    from cdp.models.clustering import training_threads

    with training_threads():
        clf = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(pre.apply(X), y)
    return pre, clf


def fit_churn(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
    features: list[str],
    *,
    transform: str = "none",
    scale: str = "standard",
    seed: int = 0,
) -> ChurnFit:
    """Fit on the older window, measure on the newer one, refit on the newer one."""
    if len(X_train) < 10 or len(X_valid) < 10:
        raise ModelError("churn needs at least 10 customers in each time window",
                         hint="the history before as_of must cover twice the horizon")
    pre, clf = _fit(X_train, y_train, features, transform, scale, seed)
    p_valid = clf.predict_proba(pre.apply(X_valid))[:, 1]
    validation = classification_metrics(y_valid, p_valid)
    train_metrics = classification_metrics(y_train, clf.predict_proba(pre.apply(X_train))[:, 1])
    pre, clf = _fit(X_valid, y_valid, features, transform, scale, seed)
    params = {
        "preprocess": pre.to_dict(),
        "features": list(features),
        "coefficients": [float(c) for c in clf.coef_[0]],
        "intercept": float(clf.intercept_[0]),
        "positive_class": "churned",
    }
    metrics = {
        "validation": validation,
        "training": train_metrics,
        "auc": validation["auc"],
        "brier": validation["brier"],
        "top_decile_lift": validation["top_decile_lift"],
    }
    return ChurnFit(params, metrics)


def predict_churn(params: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """Churn probability for raw rows (the reference the SQL formula equals)."""
    from cdp.models.preprocess import Preprocessor

    Z = Preprocessor.from_dict(params["preprocess"]).apply(X)
    t = Z @ np.asarray(params["coefficients"]) + params["intercept"]
    return 1.0 / (1.0 + np.exp(-np.clip(t, -500, 500)))
