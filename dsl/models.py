"""Model definitions as the models area needs them: :func:`model_defs`.

``features_hash`` is the SHA-256 of the canonical text of the feature definitions with
metrics and constants expanded, so a model must be retrained when a feature it was
trained on changes meaning, and not when a comment or unrelated rule changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cdp.errors import Location
from dsl import ast
from dsl.printer import format_expr

if TYPE_CHECKING:
    from dsl.check import CheckedProgram

__all__ = ["ModelDef", "expand", "feature_name", "model_defs", "model_features"]


@dataclass(frozen=True)
class ModelDef:
    """One ``model`` definition with defaults applied."""

    name: str
    algorithm: str
    features: tuple[str, ...]
    features_hash: str
    feature_text: dict[str, str] = field(compare=False)
    k: int | None = None
    k_auto: tuple[int, int] | None = None
    scale: str = "standard"
    transform: str = "none"
    seed: int | None = None
    eps: float | None = None
    min_samples: int | None = None
    names_by: str | None = None
    names_order: str | None = None
    names: tuple[str, ...] | None = None
    event: str | None = None
    horizon: tuple[int, str] | None = None
    loc: Location | None = field(default=None, compare=False)

    @property
    def horizon_days(self) -> int | None:
        """Churn horizon in days (weeks count 7 days)."""
        if self.horizon is None:
            return None
        n, unit = self.horizon
        return n * {"day": 1, "week": 7, "month": 30, "year": 365}[unit]

    @property
    def horizon_months(self) -> int | None:
        """CLV horizon in months (years count 12)."""
        if self.horizon is None:
            return None
        n, unit = self.horizon
        return n * 12 if unit == "year" else n if unit == "month" else None

    @property
    def options(self) -> dict[str, Any]:
        """The options as a plain dict (for JSON)."""
        return {
            "k": self.k,
            "k_auto": list(self.k_auto) if self.k_auto else None,
            "scale": self.scale,
            "transform": self.transform,
            "seed": self.seed,
            "eps": self.eps,
            "min_samples": self.min_samples,
            "names_by": self.names_by,
            "names_order": self.names_order,
            "names": list(self.names) if self.names else None,
            "event": self.event,
            "horizon": list(self.horizon) if self.horizon else None,
        }


def feature_name(expr: Any) -> str:
    """A feature's column name: the metric/trait name, else its printed text."""
    if isinstance(expr, ast.Name):
        return expr.name
    return format_expr(expr)


def expand(expr: Any, lets: dict[str, ast.Let], metrics: dict[str, ast.Metric]) -> Any:
    """The expression with every metric and constant replaced by its definition."""
    if isinstance(expr, ast.Name):
        if expr.name in lets:
            return lets[expr.name].value
        if expr.name in metrics:
            return expand(metrics[expr.name].value, lets, metrics)
        return expr
    if not hasattr(expr, "__dataclass_fields__"):
        return expr
    changes: dict[str, Any] = {}
    for name in expr.__dataclass_fields__:
        value = getattr(expr, name)
        if isinstance(value, ast.Node):
            new = expand(value, lets, metrics)
        elif isinstance(value, tuple) and value and isinstance(value[0], ast.Node):
            new = tuple(expand(v, lets, metrics) for v in value)
        else:
            continue
        if new is not value:
            changes[name] = new
    if not changes:
        return expr
    import dataclasses

    return dataclasses.replace(expr, **changes)


DEFAULT_PREDICTIVE_FEATURES = (ast.Rfm("recency"), ast.Rfm("frequency"), ast.Rfm("monetary"))


def model_features(m: ast.Model) -> tuple[Any, ...]:
    """The model's features; churn/clv without features use the raw RFM values."""
    if not m.features and m.algorithm in ("churn", "clv"):
        return DEFAULT_PREDICTIVE_FEATURES
    return m.features


def _features_hash(texts: dict[str, str]) -> str:
    canon = "\n".join(f"{k} = {v}" for k, v in texts.items())
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def build_model_def(m: ast.Model, lets: dict[str, ast.Let], metrics: dict[str, ast.Metric]) -> ModelDef:
    features = model_features(m)
    names = tuple(feature_name(f) for f in features)
    texts = {n: format_expr(expand(f, lets, metrics)) for n, f in zip(names, features, strict=True)}
    o = m.options
    return ModelDef(
        name=m.name,
        algorithm=m.algorithm,
        features=names,
        features_hash=_features_hash(texts),
        feature_text=texts,
        k=o.k,
        k_auto=o.k_auto,
        scale=o.scale or "standard",
        transform=o.transform or "none",
        seed=o.seed,
        eps=float(o.eps) if isinstance(o.eps, Decimal) else None,
        min_samples=o.min_samples,
        names_by=o.names_by,
        names_order=o.names_order,
        names=o.names,
        event=m.event,
        horizon=(m.horizon.n, m.horizon.unit) if m.horizon else None,
        loc=m.loc,
    )


def model_defs(checked: CheckedProgram) -> dict[str, ModelDef]:
    """Every model of a checked program, by name."""
    return {
        name: build_model_def(m, checked.lets, checked.metrics) for name, m in checked.models.items()
    }
