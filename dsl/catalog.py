"""What the rule language needs to know about a workspace, as a small protocol.

``dsl/`` imports nothing of the workspace: the segments area implements :class:`Catalog`
over the store and cdp.toml; tests use an in-memory one (:class:`MemoryCatalog`).
Types are ``text | integer | number | date | timestamp | boolean``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sqlglot import exp

__all__ = ["TYPES", "Catalog", "MemoryCatalog", "ModelInfo", "RfmSettings", "event_json_keys"]

TYPES = ("text", "integer", "number", "date", "timestamp", "boolean")


@dataclass(frozen=True)
class RfmSettings:
    """RFM parameters (DSL.md defaults); ``window`` is a duration such as ``"12 months"``.

    ``weights`` (R, F, M) are carried for reports that combine the scores; the ``rfm.*``
    values of the language do not use them.
    """

    event: str = "purchase"
    amount: str = "amount"
    window: str = "12 months"
    bins: int = 5
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class ModelInfo:
    """A trained model as the checker and compiler see it."""

    name: str
    algorithm: str
    version: int
    features_hash: str
    cluster_names: tuple[str, ...] | None = None
    soft: bool = False
    outliers: bool = False
    predictive: bool = False


@runtime_checkable
class Catalog(Protocol):
    """The workspace as seen by :func:`dsl.check` and the compiler.

    Optional method (not part of the protocol, so older catalogs still conform):
    ``event_json_keys() -> set[str] | None``, the keys found in the events' JSON
    ``properties``. With it, a property that is neither an events column nor such a key
    is an unknown name; without it (or when it returns None) any such name is taken for
    a JSON key. See :func:`event_json_keys`.
    """

    def traits(self) -> Mapping[str, str]:
        """Columns of ``customers`` and their types."""
        ...

    def event_properties(self) -> Mapping[str, str]:
        """Typed columns of ``events`` (``amount`` is number); other names are JSON keys."""
        ...

    def event_types(self) -> set[str] | None:
        """Known event types, or None when unknown (then any name is accepted)."""
        ...

    def purposes(self) -> set[str]:
        """Known processing purposes."""
        ...

    def allowed_purposes(self, kind: str, name: str) -> set[str] | None:
        """Purposes a trait (``kind="trait"``) or event property may serve; None = any."""
        ...

    def rfm_settings(self) -> RfmSettings:
        ...

    def model(self, name: str) -> ModelInfo | None:
        """The latest trained version of a model, or None when untrained."""
        ...

    def model_expression(
        self,
        name: str,
        kind: str,
        features: Mapping[str, exp.Expression],
        arg: str | None,
        dialect: str,
    ) -> exp.Expression:
        """The SQL of ``kind(name[, arg])`` given the SQL of the model's features.

        The expression is evaluated in a row that also has an unqualified ``customer_id``.
        """
        ...


@dataclass
class MemoryCatalog:
    """A catalog held in memory: for tests and for checking rule files without a store.

    ``model_sql`` maps ``(model, kind)`` to a function building the expression; by default
    ML forms compile to a lookup of ``model_scores`` by customer id.
    """

    trait_types: dict[str, str] = field(default_factory=dict)
    property_types: dict[str, str] = field(default_factory=lambda: {"amount": "number"})
    known_event_types: set[str] | None = None
    json_keys: set[str] | None = None
    known_purposes: set[str] = field(default_factory=set)
    purpose_limits: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    rfm: RfmSettings = field(default_factory=RfmSettings)
    models: dict[str, ModelInfo] = field(default_factory=dict)

    def traits(self) -> Mapping[str, str]:
        return self.trait_types

    def event_properties(self) -> Mapping[str, str]:
        return self.property_types

    def event_types(self) -> set[str] | None:
        return self.known_event_types

    def event_json_keys(self) -> set[str] | None:
        """Keys of the events' JSON properties; None (the default) = unknown, any name passes."""
        return self.json_keys

    def purposes(self) -> set[str]:
        return self.known_purposes

    def allowed_purposes(self, kind: str, name: str) -> set[str] | None:
        return self.purpose_limits.get((kind, name))

    def rfm_settings(self) -> RfmSettings:
        return self.rfm

    def model(self, name: str) -> ModelInfo | None:
        return self.models.get(name)

    def model_expression(
        self,
        name: str,
        kind: str,
        features: Mapping[str, exp.Expression],
        arg: str | None,
        dialect: str,
    ) -> exp.Expression:
        from sqlglot import exp

        info = self.models[name]
        column = {"cluster": "label", "probability": "score", "is_outlier": "label", "score": "score"}[kind]
        lookup = (
            exp.select(exp.column(column, "ms"))
            .from_(exp.to_table("model_scores").as_("ms"))
            .where(exp.column("name", "ms").eq(exp.Literal.string(name)))
            .where(exp.column("version", "ms").eq(exp.Literal.number(info.version)))
            .where(exp.column("customer_id", "ms").eq(exp.column("customer_id")))
        )
        if kind == "probability" and arg is not None:
            lookup = lookup.where(exp.column("label", "ms").eq(exp.Literal.string(arg)))
        sub: exp.Expression = exp.Subquery(this=lookup)
        if kind == "is_outlier":
            sub = exp.EQ(this=sub, expression=exp.Literal.string("outlier"))
        return sub


def event_json_keys(catalog: Catalog) -> set[str] | None:
    """The catalog's known JSON property keys, or None when it cannot tell.

    None when the catalog has no ``event_json_keys`` method (catalogs written before it).
    """
    method = getattr(catalog, "event_json_keys", None)
    if method is None:
        return None
    keys = method()
    return None if keys is None else {str(k) for k in keys}
