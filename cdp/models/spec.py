"""What a rule file says about one model, in the form the trainers take.

:func:`spec_from_def` reads the dsl's model definition (``dsl.model_defs``) by attribute
name, so the trainers do not depend on the dsl's classes; tests build :class:`ModelSpec`
directly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cdp.errors import ModelError
from cdp.models.clustering import CLUSTER_ALGORITHMS, ClusterOptions
from cdp.models.naming import NamesBy

__all__ = ["ALGORITHMS", "PREDICTIVE", "ModelSpec", "spec_from_def"]

PREDICTIVE = ("churn", "clv")
ALGORITHMS = CLUSTER_ALGORITHMS + PREDICTIVE
DEFAULT_K_RANGE = (2, 8)


@dataclass(frozen=True)
class ModelSpec:
    """A model definition: algorithm, feature names and options (DSL.md §Models)."""

    name: str
    algorithm: str
    features: tuple[str, ...] = ()
    k: int | None = None
    k_range: tuple[int, int] | None = None
    scale: str = "standard"
    transform: str = "none"
    seed: int = 0
    eps: float | None = None
    min_samples: int | None = None
    names_by: NamesBy | None = None
    event: str | None = None
    horizon_days: int | None = None
    horizon_months: int | None = None
    features_hash: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def cluster_options(self) -> ClusterOptions:
        k_range = self.k_range if self.k is None else None
        if self.k is None and k_range is None and self.algorithm in ("kmeans", "gmm", "hierarchical"):
            k_range = DEFAULT_K_RANGE
        return ClusterOptions(self.algorithm, self.k, k_range, self.scale, self.transform, self.seed,
                              self.eps, self.min_samples, self.names_by)

    def definition_hash(self) -> str:
        """A hash of the options (the dsl's features_hash covers the feature definitions)."""
        data = {
            "algorithm": self.algorithm, "features": list(self.features), "k": self.k, "k_range": self.k_range,
            "scale": self.scale, "transform": self.transform, "seed": self.seed, "eps": self.eps,
            "min_samples": self.min_samples, "event": self.event, "horizon_days": self.horizon_days,
            "horizon_months": self.horizon_months,
            "names_by": None if self.names_by is None else [self.names_by.feature, self.names_by.direction,
                                                            list(self.names_by.names)],
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, dict):
            if obj.get(name) is not None:
                return obj[name]
            continue
        if hasattr(obj, name):
            value = getattr(obj, name)
            if value is not None:
                return value
    return default


def _horizon(obj: Any, unit: str) -> int | None:
    value = _get(obj, f"horizon_{unit}", "horizon")
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    n = _get(value, "n", "count", "value")
    got = str(_get(value, "unit", default=unit)).lower().rstrip("s")
    if n is None:
        return None
    n = int(n)
    factor = {"day": 1, "week": 7, "month": 1, "year": 12}.get(got, 1)
    if unit == "days" and got in ("month", "year"):
        return n * (30 if got == "month" else 365)
    if unit == "months" and got in ("day", "week"):
        return max(1, round(n * factor / 30))
    return n * factor


def spec_from_def(name: str, d: Any, feature_names: list[str] | None = None) -> ModelSpec:
    """A :class:`ModelSpec` from the dsl's definition ``d`` of model ``name``."""
    algorithm = str(_get(d, "algorithm")).lower()
    if algorithm not in ALGORITHMS:
        raise ModelError(f"unknown algorithm '{algorithm}'", model=name, hint=f"use one of {', '.join(ALGORITHMS)}")
    opts = d if hasattr(d, "k_auto") or hasattr(d, "k_range") else _get(d, "options", default=d)
    features = feature_names
    if features is None:
        raw = _get(d, "feature_names", "features", default=())
        features = [f if isinstance(f, str) else str(_get(f, "name", default=f)) for f in raw]
    k_auto = _get(opts, "k_auto", "k_range")
    names_by = None
    by = _get(opts, "names_by")
    if by is not None:
        if isinstance(by, str):
            names_by = NamesBy(by, str(_get(opts, "names_order", "direction", default="desc")),
                               tuple(_get(opts, "names", default=()) or ()))
        else:
            names_by = NamesBy(str(_get(by, "feature")), str(_get(by, "direction", "order", default="desc")),
                               tuple(_get(by, "names", default=()) or ()))
    eps = _get(opts, "eps")
    return ModelSpec(
        name=name,
        algorithm=algorithm,
        features=tuple(features),
        k=_get(opts, "k") if not isinstance(_get(opts, "k"), (tuple, list)) else None,
        k_range=tuple(k_auto) if k_auto is not None else None,
        scale=str(_get(opts, "scale", default="standard")),
        transform=str(_get(opts, "transform", default="none")),
        seed=int(_get(opts, "seed", default=0)),
        eps=float(eps) if eps is not None else None,
        min_samples=_get(opts, "min_samples"),
        names_by=names_by,
        event=_get(d, "event"),
        horizon_days=_horizon(d, "days") if algorithm == "churn" else None,
        horizon_months=_horizon(d, "months") if algorithm == "clv" else None,
        features_hash=_get(d, "features_hash"),
    )
