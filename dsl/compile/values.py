"""Per-customer values: the :class:`Compiler` turns values into columns of one relation.

The relation is built in layers (see :mod:`dsl.compile.build`): ``base`` (customers joined
with ONE aggregate scan of events, consent and history flags), the RFM layers, model
scores, and the top/bottom-N% ranks. Compiling a value registers what it needs and
returns an expression over the relation's columns; shared aggregates are computed once.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from dsl import ast
from dsl.check import CheckedProgram
from dsl.compile import conditions
from dsl.compile.dialects import days_between, json_text
from dsl.compile.options import CompileOptions
from dsl.compile.sqlbuild import col, ident
from dsl.compile.windows import cutoffs, date_literal, parse_duration, ts_literal
from dsl.models import feature_name, model_features
from dsl.printer import format_expr, format_number

__all__ = ["Compiler", "col", "ident"]

def _num(value: Any) -> exp.Expression:
    return exp.Literal.number(format_number(value) if not isinstance(value, int) else str(value))


def _paren(e: exp.Expression) -> exp.Expression:
    if isinstance(e, (exp.Binary, exp.Connector, exp.Not, exp.Neg, exp.Between, exp.In)):
        return exp.Paren(this=e)
    return e


@dataclass
class Layers:
    """Columns to compute, by layer; each entry is ``alias -> expression``."""

    aggs: dict[str, exp.Expression] = field(default_factory=dict)  # inside the events scan
    agg_post: dict[str, str] = field(default_factory=dict)  # alias -> "zero" (COALESCE 0) | "raw"
    base: dict[str, exp.Expression] = field(default_factory=dict)  # over c.* and e.* (and joins)
    joins: list[tuple[str, exp.Expression, str]] = field(default_factory=list)  # (alias, select, id col)
    rfm_rank: dict[str, exp.Expression] = field(default_factory=dict)
    rfm_score: dict[str, exp.Expression] = field(default_factory=dict)
    rfm_label: dict[str, exp.Expression] = field(default_factory=dict)
    ml: dict[str, exp.Expression] = field(default_factory=dict)
    ranks: dict[str, exp.Expression] = field(default_factory=dict)
    event_types: dict[str, None] = field(default_factory=dict)
    starts: list[_dt.datetime | None] = field(default_factory=list)


class Compiler:
    """Compiles values and conditions of one checked program for one build."""

    def __init__(self, checked: CheckedProgram, opts: CompileOptions) -> None:
        self.checked = checked
        self.opts = opts
        self.dialect = opts.dialect
        self.as_of = opts.as_of
        self.as_of_date = date_literal(opts.as_of.date())
        cat = checked.catalog
        self.props = {k: ("number" if v == "integer" else v) for k, v in cat.event_properties().items()}
        self.traits = {k: ("number" if v == "integer" else v) for k, v in cat.traits().items()}
        self.rfm_settings = cat.rfm_settings()
        self.layers = Layers()
        self._keys: dict[Any, str] = {}
        self._counter: dict[str, int] = {}
        self.mentions: dict[str, exp.Expression] = {}

    # -- registration -------------------------------------------------------------
    def _alias(self, prefix: str, key: Any) -> tuple[str, bool]:
        """The column alias for ``key``; True when it is new."""
        if key in self._keys:
            return self._keys[key], False
        n = self._counter.get(prefix, 0) + 1
        self._counter[prefix] = n
        alias = f"_{prefix}{n}"
        self._keys[key] = alias
        return alias, True

    def trait(self, name: str) -> exp.Expression:
        if name not in self.layers.base:
            self.layers.base[name] = col(name, "c")
        return col(name)

    # -- values -------------------------------------------------------------------
    def value(self, e: Any, ctx: str = "customer") -> exp.Expression:
        if isinstance(e, ast.Number):
            return _num(e.value)
        if isinstance(e, ast.String):
            return exp.Literal.string(e.value)
        if isinstance(e, ast.DateLit):
            return date_literal(e.value)
        if isinstance(e, ast.Bool):
            return exp.true() if e.value else exp.false()
        if isinstance(e, ast.Null):
            return exp.null()
        if isinstance(e, ast.Name):
            return self.name(e, ctx)
        if isinstance(e, ast.Aggregate):
            return self.aggregate(e)
        if isinstance(e, ast.DaysSince):
            return self.days_since(e)
        if isinstance(e, ast.Rfm):
            return self.rfm(e.field)
        if isinstance(e, ast.ModelCall):
            return self.model_call(e)
        if isinstance(e, ast.Neg):
            return exp.Neg(this=_paren(self.value(e.operand, ctx)))
        if isinstance(e, ast.BinOp):
            left, right = _paren(self.value(e.left, ctx)), _paren(self.value(e.right, ctx))
            if e.op == "/":
                return exp.Div(this=left, expression=exp.Nullif(this=right, expression=exp.Literal.number(0)))
            cls: Any = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[e.op]
            return cls(this=left, expression=right)
        return conditions.compile_condition(self, e, ctx)

    def vtype(self, e: Any, ctx: str = "customer") -> str:
        """A light type of a value: number | text | date | timestamp | boolean | any."""
        if isinstance(e, ast.Number):
            return "number"
        if isinstance(e, ast.String):
            return "text"
        if isinstance(e, ast.DateLit):
            return "date"
        if isinstance(e, ast.Bool):
            return "boolean"
        if isinstance(e, ast.Name):
            c = self.checked
            if e.name in c.lets:
                return self.vtype(c.lets[e.name].value, ctx)
            if ctx == "event":
                return self.props.get(e.name, "any")
            if e.name in c.metrics:
                return self.vtype(c.metrics[e.name].value, ctx)
            return self.traits.get(e.name, "any")
        if isinstance(e, ast.Aggregate):
            if e.func in ("min", "max") and e.prop is not None:
                return self.props.get(e.prop, "any")
            return "number"
        if isinstance(e, ast.Rfm):
            return "text" if e.field in ("score", "segment") else "number"
        if isinstance(e, (ast.DaysSince, ast.Neg, ast.BinOp)):
            return "number"
        return "any"

    def name(self, e: ast.Name, ctx: str) -> exp.Expression:
        c = self.checked
        if e.name in c.lets:
            return self.value(c.lets[e.name].value, ctx)
        if ctx == "event":
            return self.prop(e.name)
        if e.name in c.metrics:
            out = self.value(c.metrics[e.name].value, ctx)
            self.mentions.setdefault(e.name, out)
            return out
        out = self.trait(e.name)
        self.mentions.setdefault(e.name, out)
        return out

    def prop(self, name: str, numeric: bool = False) -> exp.Expression:
        """An event property inside the events scan: a typed column or a JSON key."""
        if name in self.props:
            return col(name, "ev")
        text = json_text(col("properties", "ev"), name, self.dialect)
        return exp.cast(text, exp.DataType.Type.DOUBLE) if numeric else text

    def event_filter(self, event: str, where: Any, window: ast.Window | None) -> exp.Expression:
        self.layers.event_types[event] = None
        cond: Any = col("event_type", "ev").eq(exp.Literal.string(event))
        start, end = cutoffs(window, self.as_of)
        self.layers.starts.append(start)
        if start is not None:
            cond = exp.and_(cond, col("ts", "ev") >= ts_literal(start), copy=False)
        if end is not None:
            cond = exp.and_(cond, col("ts", "ev") < ts_literal(end), copy=False)
        if where is not None:
            cond = exp.and_(cond, exp.Paren(this=self.value(where, "event")), copy=False)
        return cond

    def aggregate(self, e: ast.Aggregate) -> exp.Expression:
        alias, new = self._alias("a", ("agg", e))
        if new:
            numeric = e.func in ("sum", "avg")
            target: exp.Expression = exp.Literal.number(1) if e.prop is None else self.prop(e.prop, numeric)
            case = exp.Case(ifs=[exp.If(this=self.event_filter(e.event, e.where, e.window), true=target)])
            fn: Any
            if e.func == "count_distinct":
                fn = exp.Count(this=exp.Distinct(expressions=[case]))
            else:
                fn = {"count": exp.Count, "sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[e.func](
                    this=case
                )
            self.layers.aggs[alias] = fn
            zero = e.func in ("count", "count_distinct", "sum")
            self.layers.base[alias] = (
                exp.Coalesce(this=col(alias, "e"), expressions=[exp.Literal.number(0)]) if zero else col(alias, "e")
            )
        return col(alias)

    def days_since(self, e: ast.DaysSince) -> exp.Expression:
        if e.which == "trait":
            self.trait(e.target)
            day = exp.cast(col(e.target), exp.DataType.Type.DATE)
            return days_between(day, self.as_of_date.copy(), self.dialect)
        alias, new = self._alias("d", ("days", e.which, e.target))
        if new:
            ts_alias, _ = self._alias("a", ("ts", e.which, e.target))
            case = exp.Case(ifs=[exp.If(this=self.event_filter(e.target, None, None), true=col("ts", "ev"))])
            self.layers.aggs[ts_alias] = (exp.Max if e.which == "last" else exp.Min)(this=case)
            day = exp.cast(col(ts_alias, "e"), exp.DataType.Type.DATE)
            self.layers.base[alias] = days_between(day, self.as_of_date.copy(), self.dialect)
        return col(alias)

    # -- RFM ----------------------------------------------------------------------
    def rfm_raw(self) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
        rs = self.rfm_settings
        window = parse_duration(rs.window)
        recency = self.days_since(ast.DaysSince("last", rs.event))
        frequency = self.aggregate(ast.Aggregate("count", rs.event, None, None, window))
        monetary = self.aggregate(ast.Aggregate("sum", rs.event, rs.amount, None, window))
        return recency, frequency, monetary

    def rfm(self, field_name: str) -> exp.Expression:
        from dsl.compile.rfm import rfm_columns

        recency, frequency, monetary = self.rfm_raw()
        raw = {"recency": recency, "frequency": frequency, "monetary": monetary}
        out = raw[field_name] if field_name in raw else rfm_columns(self, recency, frequency, monetary)[field_name]
        self.mentions.setdefault(f"rfm.{field_name}", out)
        return out

    # -- models -------------------------------------------------------------------
    def model_features(self, model: str) -> dict[str, exp.Expression]:
        m = self.checked.models[model]
        return {feature_name(f): self.value(f) for f in model_features(m)}

    def model_call(self, e: ast.ModelCall) -> exp.Expression:
        alias, new = self._alias("ml", ("ml", e.kind, e.model, e.arg))
        if new:
            feats = self.model_features(e.model)
            self.layers.ml[alias] = self.checked.catalog.model_expression(e.model, e.kind, feats, e.arg, self.dialect)
        out = col(alias)
        self.mentions.setdefault(format_expr(e), out)
        return out

    # -- ranks (top/bottom N%) ----------------------------------------------------
    def rank(self, value: Any, top: bool) -> tuple[exp.Expression, exp.Expression]:
        """Columns ``(rank, count_non_null)`` of a value over ALL customers (RANK: ties share)."""
        v = self.value(value)
        rk, new = self._alias("rk", ("rank", value, top))
        cnt, _ = self._alias("n", ("count", value))
        if new:
            order = exp.Order(expressions=[exp.Ordered(this=v.copy(), desc=top, nulls_first=False)])
            rank = exp.Window(this=exp.Anonymous(this="RANK"), order=order)
            self.layers.ranks[rk] = exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=v.copy(), expression=exp.null())), true=rank)])
            self.layers.ranks[cnt] = exp.Window(this=exp.Count(this=v.copy()))
        self.mentions.setdefault(format_expr(value), v)
        return col(rk), col(cnt)
