"""Feature preprocessing shared by training (numpy) and scoring (SQL).

Steps, in this order, each one stored in the model's JSON parameters:

1. **missing values**: a null feature is replaced by the training median of that feature
   (the raw value, before any transform); a feature that is null for every training
   customer gets 0. Scoring applies the same median (``COALESCE`` in SQL).
2. **transform** ``log1p``: ``ln(1 + max(x, 0))``; negative values are clamped to 0
   because log1p is meant for money and count features that are never negative.
   We compute ``ln(1 + x)`` rather than numpy's ``log1p`` so that SQL, which has no
   log1p on every engine, gives the same values (to the last bit or so).
3. **scale** ``standard`` ((x - mean) / standard deviation), ``robust`` ((x - median) /
   interquartile range) or ``none``; a constant feature gets divisor 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cdp.errors import ModelError

__all__ = ["SCALES", "TRANSFORMS", "Preprocessor", "fit_preprocessor"]

SCALES = ("standard", "robust", "none")
TRANSFORMS = ("log1p", "none")


@dataclass(frozen=True)
class Preprocessor:
    """Fitted preprocessing: per-feature fill value, transform, centre and divisor."""

    features: tuple[str, ...]
    fill: tuple[float, ...]
    transform: str = "none"
    scale: str = "standard"
    center: tuple[float, ...] = field(default=())
    divisor: tuple[float, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "fill": list(self.fill),
            "transform": self.transform,
            "scale": self.scale,
            "center": list(self.center),
            "divisor": list(self.divisor),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessor:
        return cls(
            features=tuple(data["features"]),
            fill=tuple(float(v) for v in data["fill"]),
            transform=data.get("transform", "none"),
            scale=data.get("scale", "standard"),
            center=tuple(float(v) for v in data.get("center", ())),
            divisor=tuple(float(v) for v in data.get("divisor", ())),
        )

    def impute(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=float, copy=True)
        for j, value in enumerate(self.fill):
            col = X[:, j]
            col[np.isnan(col)] = value
        return X

    def transformed(self, X: np.ndarray) -> np.ndarray:
        """Impute and transform (no scaling): the space the profile means are read in."""
        X = self.impute(X)
        if self.transform == "log1p":
            X = np.log(1.0 + np.maximum(X, 0.0))
        return X

    def apply(self, X: np.ndarray) -> np.ndarray:
        """The matrix the algorithm sees: impute, transform, scale."""
        X = self.transformed(X)
        if self.scale != "none":
            X = (X - np.asarray(self.center)) / np.asarray(self.divisor)
        return X

    def inverse(self, Z: np.ndarray) -> np.ndarray:
        """Back from the algorithm's space to feature units (for centres in reports)."""
        Z = np.asarray(Z, dtype=float)
        if self.scale != "none":
            Z = Z * np.asarray(self.divisor) + np.asarray(self.center)
        if self.transform == "log1p":
            Z = np.exp(Z) - 1.0
        return Z


def fit_preprocessor(
    X: np.ndarray, features: list[str] | tuple[str, ...], *, scale: str = "standard", transform: str = "none"
) -> Preprocessor:
    """Learn fill values and scaling from the training matrix (rows = customers)."""
    if scale not in SCALES:
        raise ModelError(f"unknown scale '{scale}'", hint=f"use one of {', '.join(SCALES)}")
    if transform not in TRANSFORMS:
        raise ModelError(f"unknown transform '{transform}'", hint=f"use one of {', '.join(TRANSFORMS)}")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != len(features):
        raise ModelError("feature matrix does not match the feature list")
    fill = []
    for j in range(X.shape[1]):
        col = X[:, j]
        col = col[~np.isnan(col)]
        fill.append(float(np.median(col)) if len(col) else 0.0)
    pre = Preprocessor(tuple(features), tuple(fill), transform, scale)
    T = pre.transformed(X)
    if scale == "standard":
        center = T.mean(axis=0)
        divisor = T.std(axis=0)
    elif scale == "robust":
        center = np.median(T, axis=0)
        q75, q25 = np.percentile(T, [75, 25], axis=0)
        divisor = q75 - q25
    else:
        return pre
    divisor = np.where(divisor > 0, divisor, 1.0)
    return Preprocessor(
        tuple(features), tuple(fill), transform, scale,
        tuple(float(v) for v in center), tuple(float(v) for v in divisor),
    )
