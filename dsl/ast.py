"""The AST of the rule language: frozen dataclasses that carry their source position.

Equality ignores positions (``loc`` has ``compare=False``), so a program printed by
:func:`dsl.format_program` and parsed again compares equal to the original. Values and
conditions share one expression tree (a condition is a boolean-typed expression); the
checker tells them apart. No lark object ever appears in these nodes.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal

from cdp.errors import Location

__all__ = [
    "AGGREGATES",
    "ALGORITHMS",
    "CLUSTERING",
    "ML_KINDS",
    "RFM_FIELDS",
    "UNITS",
    "Aggregate",
    "And",
    "Between",
    "BinOp",
    "Bool",
    "Compare",
    "Consented",
    "DateLit",
    "DateRange",
    "DaysSince",
    "Definition",
    "Expr",
    "Horizon",
    "InList",
    "InSegment",
    "Include",
    "IsNull",
    "Item",
    "Last",
    "Let",
    "Location",
    "Metric",
    "Model",
    "ModelCall",
    "ModelOptions",
    "Name",
    "Neg",
    "Node",
    "Not",
    "Null",
    "Number",
    "Or",
    "Rfm",
    "Segment",
    "Since",
    "String",
    "TextMatch",
    "TopN",
    "WasInSegment",
    "Window",
]

AGGREGATES = ("count", "sum", "avg", "min", "max", "count_distinct")
RFM_FIELDS = ("recency", "frequency", "monetary", "r", "f", "m", "score", "segment")
UNITS = ("day", "week", "month", "year")
CLUSTERING = ("kmeans", "gmm", "dbscan", "hierarchical")
ALGORITHMS = (*CLUSTERING, "isolation_forest", "churn", "clv")
ML_KINDS = ("cluster", "probability", "is_outlier", "score")


@dataclass(frozen=True)
class Node:
    """Base of every node; ``loc`` is where it starts in its file."""

    loc: Location | None = field(default=None, compare=False, repr=False, kw_only=True)


# -- literals -------------------------------------------------------------------------
@dataclass(frozen=True)
class Number(Node):
    value: Decimal


@dataclass(frozen=True)
class String(Node):
    value: str  # NFC-normalized at parse


@dataclass(frozen=True)
class DateLit(Node):
    value: _dt.date


@dataclass(frozen=True)
class Bool(Node):
    value: bool


@dataclass(frozen=True)
class Null(Node):
    pass


# -- values ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Name(Node):
    """A trait, metric or constant, resolved by the checker."""

    name: str


@dataclass(frozen=True)
class Last(Node):
    """``over last N UNIT``: ``[as_of - N UNIT, as_of)``."""

    n: int
    unit: str  # day | week | month | year


@dataclass(frozen=True)
class DateRange(Node):
    """``from DATE to DATE``: both days included, whole days."""

    start: _dt.date
    end: _dt.date


@dataclass(frozen=True)
class Since(Node):
    """``since DATE``: from 00:00 of DATE up to as_of."""

    start: _dt.date


Window = Last | DateRange | Since


@dataclass(frozen=True)
class Aggregate(Node):
    """``AGG(EVENT[.PROPERTY] [where CONDITION]) [WINDOW]``."""

    func: str  # one of AGGREGATES
    event: str
    prop: str | None = None
    where: Expr | None = None
    window: Window | None = None
    event_loc: Location | None = field(default=None, compare=False, repr=False, kw_only=True)
    """Where EVENT was written (errors point at the name, not at the function)."""
    prop_loc: Location | None = field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class DaysSince(Node):
    """``days_since(last EVENT)``, ``days_since(first EVENT)`` or ``days_since(TRAIT)``."""

    which: str  # last | first | trait
    target: str
    target_loc: Location | None = field(default=None, compare=False, repr=False, kw_only=True)
    """Where the EVENT or TRAIT was written."""


@dataclass(frozen=True)
class Rfm(Node):
    field: str  # one of RFM_FIELDS


@dataclass(frozen=True)
class ModelCall(Node):
    """``cluster(M)``, ``probability(M, "Name")``, ``is_outlier(M)``, ``score(M)``."""

    kind: str  # one of ML_KINDS
    model: str
    arg: str | None = None


@dataclass(frozen=True)
class Neg(Node):
    operand: Expr


@dataclass(frozen=True)
class BinOp(Node):
    op: str  # + - * /
    left: Expr
    right: Expr


# -- conditions -----------------------------------------------------------------------
@dataclass(frozen=True)
class Compare(Node):
    op: str  # = != < <= > >=
    left: Expr
    right: Expr


@dataclass(frozen=True)
class InList(Node):
    value: Expr
    items: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True)
class Between(Node):
    value: Expr
    low: Expr
    high: Expr
    negated: bool = False


@dataclass(frozen=True)
class IsNull(Node):
    value: Expr
    negated: bool = False


@dataclass(frozen=True)
class TextMatch(Node):
    op: str  # contains | icontains | starts_with | ends_with
    value: Expr
    pattern: Expr


@dataclass(frozen=True)
class TopN(Node):
    """``VALUE in top N%`` (``top=True``) or ``in bottom N%``."""

    value: Expr
    pct: Decimal
    top: bool = True


@dataclass(frozen=True)
class InSegment(Node):
    segment: str


@dataclass(frozen=True)
class WasInSegment(Node):
    segment: str
    days: int


@dataclass(frozen=True)
class Consented(Node):
    """``consented to PURPOSE [via CHANNEL]``; ``loc`` is the purpose's position."""

    purpose: str
    channel: str | None = None
    channel_loc: Location | None = field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Not(Node):
    operand: Expr


@dataclass(frozen=True)
class And(Node):
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or(Node):
    left: Expr
    right: Expr


Expr = (
    Number | String | DateLit | Bool | Null | Name | Aggregate | DaysSince | Rfm | ModelCall | Neg | BinOp
    | Compare | InList | Between | IsNull | TextMatch | TopN | InSegment | WasInSegment | Consented | Not | And | Or
)


# -- top-level forms ------------------------------------------------------------------
@dataclass(frozen=True)
class Include(Node):
    path: str


@dataclass(frozen=True)
class Let(Node):
    name: str
    value: Number | String | DateLit | Bool | Null


@dataclass(frozen=True)
class Metric(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class Horizon(Node):
    n: int
    unit: str


@dataclass(frozen=True)
class ModelOptions(Node):
    """Options of a model definition; ``None`` means "not given" (defaults apply)."""

    k: int | None = None
    k_auto: tuple[int, int] | None = None
    scale: str | None = None  # standard | robust | none
    transform: str | None = None  # log1p | none
    seed: int | None = None
    eps: Decimal | None = None
    min_samples: int | None = None
    names_by: str | None = None  # feature name
    names_order: str | None = None  # asc | desc
    names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Model(Node):
    """``model NAME = ALGO(args...) options``.

    For ``churn`` the first argument is the event and ``horizon`` is required; for ``clv``
    only ``horizon``; the remaining arguments are the features.
    """

    name: str
    algorithm: str
    features: tuple[Expr, ...]
    options: ModelOptions = ModelOptions()
    event: str | None = None
    horizon: Horizon | None = None


@dataclass(frozen=True)
class Segment(Node):
    name: str
    where: Expr
    label: str | None = None
    description: str | None = None
    purposes: tuple[str, ...] = ()
    holdout: Decimal | None = None
    clause_locs: tuple[tuple[str, Location], ...] = field(default=(), compare=False, repr=False)
    """Where each clause value was written: ("holdout", loc), ("purpose:NAME", loc)."""

    def loc_of(self, key: str) -> Location | None:
        return dict(self.clause_locs).get(key, self.loc)


Definition = Let | Metric | Model | Segment
Item = Include | Let | Metric | Model | Segment
