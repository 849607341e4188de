"""Conditions to SQL booleans with SQL three-valued logic (DSL.md "Null and empty semantics").

A comparison with null is null, so neither it nor its ``not`` selects the customer.
``in segment`` inlines the other segment's condition (wrapped in COALESCE(..., FALSE):
membership is never unknown); consent and segment history become boolean columns of
the base layer, joined once per (purpose, channel) or (segment, days).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp

from dsl import ast
from dsl.check import PURPOSE_CHANNEL
from dsl.compile.sqlbuild import alias, col, inner_join, not_null, select, subquery, table
from dsl.compile.windows import shift, ts_literal

if TYPE_CHECKING:
    from dsl.compile.values import Compiler

__all__ = ["MERGE_HOPS", "compile_condition", "fold_turkish"]

MERGE_HOPS = 3  # `was in segment` follows chains of up to this many customer merges
_CMP: dict[str, Any] = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
_FOLD_FROM = "Iİı"
_FOLD_TO = "iii"


def fold_turkish(text: str) -> str:
    """``icontains`` folding: I, İ, ı, i are one letter; other letters lower-cased."""
    return text.translate(str.maketrans(_FOLD_FROM, _FOLD_TO)).lower()


def _fold_sql(e: exp.Expression) -> exp.Expression:
    translated = exp.Anonymous(
        this="TRANSLATE", expressions=[e, exp.Literal.string(_FOLD_FROM), exp.Literal.string(_FOLD_TO)]
    )
    return exp.Lower(this=translated)


def _coerce(c: Compiler, node: Any, other: Any, ctx: str) -> exp.Expression:
    """A side of a comparison; a JSON property compared with a number or date is cast."""
    out = c.value(node, ctx)
    if c.vtype(node, ctx) == "any":
        want = c.vtype(other, ctx)
        if want == "number":
            return exp.cast(out, exp.DataType.Type.DOUBLE)
        if want == "date":
            return exp.cast(out, exp.DataType.Type.DATE)
        if want == "boolean":
            return exp.cast(out, exp.DataType.Type.BOOLEAN)
    return out


def _pattern(c: Compiler, node: Any) -> str:
    if isinstance(node, ast.Name):
        node = c.checked.lets[node.name].value
    assert isinstance(node, ast.String)
    return node.value


def _wrap(e: exp.Expression) -> exp.Expression:
    return exp.Paren(this=e) if isinstance(e, (exp.Connector, exp.Not)) else e


def compile_condition(c: Compiler, e: Any, ctx: str) -> exp.Expression:
    if isinstance(e, ast.Compare):
        return _CMP[e.op](this=_coerce(c, e.left, e.right, ctx), expression=_coerce(c, e.right, e.left, ctx))
    if isinstance(e, ast.InList):
        first = e.items[0] if e.items else e.value
        node: exp.Expression = exp.In(this=_coerce(c, e.value, first, ctx), expressions=[_coerce(c, i, e.value, ctx) for i in e.items])
        return exp.Not(this=exp.Paren(this=node)) if e.negated else node
    if isinstance(e, ast.Between):
        rng: Any = exp.Between(
            this=_coerce(c, e.value, e.low, ctx), low=_coerce(c, e.low, e.value, ctx), high=_coerce(c, e.high, e.value, ctx)
        )
        return exp.Not(this=exp.Paren(this=rng)) if e.negated else rng
    if isinstance(e, ast.IsNull):
        node = exp.Is(this=c.value(e.value, ctx), expression=exp.null())
        return exp.Not(this=node) if e.negated else node
    if isinstance(e, ast.TextMatch):
        return _text_match(c, e, ctx)
    if isinstance(e, ast.TopN):
        return _top_n(c, e)
    if isinstance(e, ast.InSegment):
        seg = c.checked.segments[e.segment]
        inner = c.value(seg.where)
        return exp.Coalesce(this=exp.Paren(this=inner), expressions=[exp.false()])
    if isinstance(e, ast.WasInSegment):
        return _was_in(c, e)
    if isinstance(e, ast.Consented):
        return _consented(c, e)
    if isinstance(e, ast.Not):
        return exp.Not(this=_wrap(c.value(e.operand, ctx)))
    if isinstance(e, ast.And):
        return exp.And(this=_wrap(c.value(e.left, ctx)), expression=_wrap(c.value(e.right, ctx)))
    if isinstance(e, ast.Or):
        left, right = c.value(e.left, ctx), c.value(e.right, ctx)
        left = exp.Paren(this=left) if isinstance(left, exp.And) else left
        right = exp.Paren(this=right) if isinstance(right, (exp.And, exp.Or)) else right
        return exp.Or(this=left, expression=right)
    raise TypeError(f"cannot compile {type(e).__name__}")


def _text_match(c: Compiler, e: ast.TextMatch, ctx: str) -> exp.Expression:
    value = c.value(e.value, ctx)
    pattern = _pattern(c, e.pattern)
    if e.op == "contains":
        return exp.GT(this=exp.StrPosition(this=value, substr=exp.Literal.string(pattern)), expression=exp.Literal.number(0))
    if e.op == "icontains":
        folded = exp.StrPosition(this=_fold_sql(value), substr=exp.Literal.string(fold_turkish(pattern)))
        return exp.GT(this=folded, expression=exp.Literal.number(0))
    if e.op == "starts_with":
        return exp.StartsWith(this=value, expression=exp.Literal.string(pattern))
    right = exp.Right(this=value, expression=exp.Literal.number(len(pattern)))
    return exp.EQ(this=right, expression=exp.Literal.string(pattern))


def _top_n(c: Compiler, e: ast.TopN) -> exp.Expression:
    """rank <= ceil(N * count / 100), exactly: (rank - 1) * den * 100 < num * count."""
    rank, count = c.rank(e.value, e.top)
    num, den = e.pct.as_integer_ratio()
    left = exp.Mul(
        this=exp.Paren(this=exp.Sub(this=rank, expression=exp.Literal.number(1))),
        expression=exp.Literal.number(den * 100),
    )
    return exp.LT(this=left, expression=exp.Mul(this=exp.Literal.number(num), expression=count))


def _ids_join(c: Compiler, prefix: str, key: Any, query: exp.Select) -> exp.Expression:
    name, new = c._alias(prefix, key)
    if new:
        c.layers.joins.append((name, query, "customer_id"))
        c.layers.base[name] = not_null(col("customer_id", name))
    return col(name)


def _consented(c: Compiler, e: ast.Consented) -> exp.Expression:
    channel = e.channel or PURPOSE_CHANNEL.get(e.purpose, "any")
    channels = sorted({channel, "any"})
    utc = ts_literal(c.opts.utc)
    latest_first = exp.Window(
        this=exp.RowNumber(),
        partition_by=[col("customer_id")],
        order=exp.Order(
            expressions=[exp.Ordered(this=col("effective_at"), desc=True), exp.Ordered(this=col("seq"), desc=True)]
        ),
    )
    latest = select(
        [col("customer_id"), col("status"), col("basis"), col("expires_at"), alias(latest_first, "_rn")],
        "consent_events",
        where=[
            not_null(col("customer_id")),
            exp.EQ(this=col("purpose"), expression=exp.Literal.string(e.purpose)),
            exp.In(this=col("channel"), expressions=[exp.Literal.string(ch) for ch in channels]),
            exp.LTE(this=col("effective_at"), expression=utc.copy()),
        ],
    )
    objected = select(
        [col("customer_id")],
        "objections",
        where=[
            exp.EQ(this=col("scope"), expression=exp.Literal.string("direct_marketing")),
            exp.LTE(this=col("effective_at"), expression=utc.copy()),
        ],
    )
    granted = select(
        [col("customer_id")],
        subquery(latest, "_ce"),
        where=[
            exp.EQ(this=col("_rn"), expression=exp.Literal.number(1)),
            exp.EQ(this=col("status"), expression=exp.Literal.string("granted")),
            exp.Or(
                this=exp.Is(this=col("basis"), expression=exp.null()),
                expression=exp.NEQ(this=col("basis"), expression=exp.Literal.string("opt_out")),
            ),
            exp.Or(
                this=exp.Is(this=col("expires_at"), expression=exp.null()),
                expression=exp.GT(this=col("expires_at"), expression=utc.copy()),
            ),
            exp.Not(this=exp.In(this=col("customer_id"), query=exp.Subquery(this=objected))),
        ],
    )
    return _ids_join(c, "cs", ("consent", e.purpose, tuple(channels)), granted)


def _was_in(c: Compiler, e: ast.WasInSegment) -> exp.Expression:
    """Members (control included) of the latest build at or before as_of - N days, merges followed."""
    cutoff = shift(c.as_of, e.days, "day") if e.days else c.as_of
    latest_build = select(
        [col("build_id")],
        "segment_builds",
        where=[
            exp.EQ(this=col("segment"), expression=exp.Literal.string(e.segment)),
            exp.LTE(this=col("as_of"), expression=ts_literal(cutoff)),
        ],
        order_by=[exp.Ordered(this=col("as_of"), desc=True), exp.Ordered(this=col("build_id"), desc=True)],
        limit=1,
    )
    members = select(
        [col("customer_id")],
        "segment_members",
        where=[
            exp.EQ(this=col("build_id"), expression=exp.Subquery(this=latest_build)),
            exp.EQ(this=col("segment"), expression=exp.Literal.string(e.segment)),
        ],
    )
    union: exp.Expression = members
    for hops in range(1, MERGE_HOPS + 1):
        joins = []
        prev = "_m0"
        for h in range(1, hops + 1):
            on = exp.EQ(this=col("old_id", f"_m{h}"), expression=col("customer_id" if h == 1 else "new_id", prev))
            joins.append(inner_join(table("customer_merges", f"_m{h}"), on))
            prev = f"_m{h}"
        branch = select(
            [alias(col("new_id", f"_m{hops}"), "customer_id")], subquery(members.copy(), "_m0"), joins=joins
        )
        union = exp.Union(this=union, expression=branch, distinct=False)
    ids = select([col("customer_id")], subquery(union, "_ids"), distinct=True)
    return _ids_join(c, "w", ("was", e.segment, e.days), ids)
