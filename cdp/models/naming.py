"""Cluster names: stable names from a ranking of centres, and suggested names from profiles.

``names by FEATURE desc ("A", "B", ...)`` sorts the clusters by their centre on FEATURE
(highest first for ``desc``) and hands out the names in that order, so retraining with
another seed or row order, which permutes scikit-learn's cluster numbers, keeps each name
on the same kind of customer. Clusters beyond the names get their rank number as text;
names beyond the clusters are reported as unused. Without names the clusters are
numbered "1".."k" by their centre on the first feature, highest first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cdp.errors import ModelError

__all__ = ["NamesBy", "cluster_labels", "suggest_names"]


@dataclass(frozen=True)
class NamesBy:
    """``names by FEATURE asc|desc (names...)``."""

    feature: str
    direction: str = "desc"
    names: tuple[str, ...] = ()


def cluster_labels(
    centres: np.ndarray, features: Sequence[str], names_by: NamesBy | None
) -> tuple[list[str], list[str]]:
    """Label of each cluster (in the algorithm's order) and the unused names.

    ``centres`` are in any space that is monotone in each feature (the preprocessed one
    is: log1p and scaling keep the order).
    """
    centres = np.asarray(centres, dtype=float)
    k = centres.shape[0]
    if names_by is not None:
        if names_by.feature not in features:
            raise ModelError(f"names by '{names_by.feature}': not one of the model's features")
        j = list(features).index(names_by.feature)
        descending = names_by.direction == "desc"
        names = list(names_by.names)
    else:
        j, descending, names = 0, True, []
    key = -centres[:, j] if descending else centres[:, j]
    order = np.argsort(key, kind="stable")
    labels = [""] * k
    for rank, idx in enumerate(order):
        labels[int(idx)] = names[rank] if rank < len(names) else str(rank + 1)
    return labels, names[k:]


_LOW_IS_GOOD = re.compile(r"recen|days_since|inactiv|churn|since|age_days|gap", re.IGNORECASE)
_VALUE = re.compile(r"spend|amount|monetary|revenue|value|sales|basket|order|freq|count|purchase|visit|breadth", re.IGNORECASE)


def suggest_names(features: Sequence[str], cluster_means: np.ndarray, overall_mean: np.ndarray,
                  overall_std: np.ndarray) -> list[str]:
    """A marketer's name for each cluster from how its means compare with everyone's.

    Value features (spend, orders, frequency, ...) high and recency low → "Champions";
    value high but long since the last purchase → "At risk"; low value but recent →
    "Promising"; low value and long gone → "Hibernating"; in between → "Loyal" or
    "Needs attention". Without a recency feature the clusters are "High/Mid/Low value".
    Suggestions only: ``names by`` in the rule file decides.
    """
    means = np.asarray(cluster_means, dtype=float)
    std = np.where(np.asarray(overall_std, dtype=float) > 0, overall_std, 1.0)
    z = (means - np.asarray(overall_mean, dtype=float)) / std
    value_cols = [i for i, f in enumerate(features) if _VALUE.search(f) and not _LOW_IS_GOOD.search(f)]
    recency_cols = [i for i, f in enumerate(features) if _LOW_IS_GOOD.search(f)]
    if not value_cols:
        value_cols = [i for i in range(len(features)) if i not in recency_cols]
    value = z[:, value_cols].mean(axis=1) if value_cols else np.zeros(len(z))
    out = []
    for c in range(len(z)):
        v = value[c]
        if recency_cols:
            recent = -z[c, recency_cols].mean()
            if v > 0.5 and recent > -0.25:
                out.append("Champions")
            elif v > 0.5:
                out.append("At risk")
            elif v > -0.25 and recent > -0.25:
                out.append("Loyal")
            elif recent > 0.25:
                out.append("Promising")
            elif recent < -0.75:
                out.append("Hibernating")
            else:
                out.append("Needs attention")
        else:
            out.append("High value" if v > 0.5 else "Low value" if v < -0.25 else "Mid value")
    return out
