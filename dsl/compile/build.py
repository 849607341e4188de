"""Assemble queries: the per-customer values relation, segment selects, funnels, features.

The values relation is a chain of CTEs (``_v_base`` then the RFM, model and rank layers
that are needed); a segment is ``SELECT customer_id, control FROM <values> WHERE cond``.
For a build, the values relation is one prelude table shared by every segment, so all
metrics are computed in one scan of events.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from cdp.errors import NotFoundError, RuleCheckError
from dsl import ast
from dsl.check import CheckedProgram
from dsl.compile.holdout import control_expression
from dsl.compile.options import BuildPlan, CompiledSegment, CompileOptions
from dsl.compile.sqlbuild import alias, and_all, col, ident, left_join, select, subquery, table
from dsl.compile.values import Compiler
from dsl.compile.windows import ts_literal
from dsl.models import feature_name, model_features
from dsl.printer import conjuncts, format_expr
from dsl.suggest import closest

__all__ = ["PRELUDE_TABLE", "compile_build", "compile_features", "compile_segment"]

PRELUDE_TABLE = "_cdp_values"
_LAST = "_v"


def _layers(c: Compiler) -> list[tuple[str, exp.Select]]:
    """The CTEs of the values relation: ``_v_base`` and the layers that are needed."""
    L = c.layers
    columns: list[exp.Expression] = [alias(col("customer_id", "c"), "customer_id")]
    columns += [alias(e.copy(), name) for name, e in L.base.items()]
    joins: list[exp.Join] = []
    if L.aggs:
        where: list[exp.Expression] = [
            exp.LT(this=col("ts", "ev"), expression=ts_literal(c.as_of)),
            exp.In(this=col("event_type", "ev"), expressions=[exp.Literal.string(t) for t in L.event_types]),
        ]
        if L.starts and all(s is not None for s in L.starts):
            where.append(exp.GTE(this=col("ts", "ev"), expression=ts_literal(min(s for s in L.starts if s is not None))))
        ev = select(
            [col("customer_id", "ev"), *(alias(fn.copy(), name) for name, fn in L.aggs.items())],
            table("events", "ev"),
            where=where,
            group_by=[col("customer_id", "ev")],
        )
        joins.append(left_join(subquery(ev, "e"), exp.EQ(this=col("customer_id", "e"), expression=col("customer_id", "c"))))
    for name, sel, id_col in L.joins:
        joins.append(
            left_join(subquery(sel.copy(), name), exp.EQ(this=col(id_col, name), expression=col("customer_id", "c")))
        )
    ctes: list[tuple[str, exp.Select]] = [("_v_base", select(columns, table("customers", "c"), joins=joins))]
    layers = [("_v_rfm1", L.rfm_rank), ("_v_rfm2", L.rfm_score), ("_v_rfm3", L.rfm_label), ("_v_ml", L.ml), ("_v_rank", L.ranks)]
    for name, layer in layers:
        if layer:
            cols = [exp.Star(), *(alias(e.copy(), a) for a, e in layer.items())]
            ctes.append((name, select(cols, ctes[-1][0])))
    ctes.append((_LAST, select([exp.Star()], ctes[-1][0])))
    return ctes


def _with(body: exp.Select, ctes: list[tuple[str, exp.Select]]) -> exp.Select:
    body.set(
        "with_",
        exp.With(expressions=[exp.CTE(this=sel, alias=exp.TableAlias(this=ident(name))) for name, sel in ctes]),
    )
    return body


def _layers_select(c: Compiler) -> exp.Select:
    """``WITH _v_base AS (...), ... SELECT * FROM _v``: the values relation as one query."""
    return _with(select([exp.Star()], _LAST), _layers(c))


def _with_values(c: Compiler, body: exp.Select) -> exp.Select:
    """``body`` (reading ``_v``) prefixed by the CTEs of the values relation."""
    return _with(body, _layers(c))


def _segment_select(name: str, seg: ast.Segment, cond: exp.Expression, source: str, dialect: str) -> exp.Select:
    control = control_expression(name, seg.holdout, col("customer_id"), dialect)
    return select([col("customer_id"), alias(control, "control")], source, where=[cond.copy()])


def _funnel(labels_conds: list[exp.Expression], source: str) -> exp.Select:
    columns: list[exp.Expression] = []
    prefix: exp.Expression | None = None
    for i, cond in enumerate(labels_conds, start=1):
        part = cond.copy()
        part = exp.Paren(this=part) if isinstance(part, (exp.Connector,)) else part
        prefix = part if prefix is None else exp.And(this=prefix, expression=part)
        count = exp.Count(this=exp.Case(ifs=[exp.If(this=prefix.copy(), true=exp.Literal.number(1))]))
        columns.append(alias(count, f"step_{i}"))
    if not labels_conds:
        columns.append(alias(exp.Count(this=exp.Star()), "step_0"))
    return select(columns, source)


def compile_segment(checked: CheckedProgram, name: str, opts: CompileOptions) -> CompiledSegment:
    """ONE self-contained SELECT (customer_id, control) for a segment, plus its funnel."""
    seg = checked.segment(name)
    c = Compiler(checked, opts)
    parts = conjuncts(seg.where)
    part_sql = [c.value(p) for p in parts]
    values = dict(c.mentions)
    cond = and_all([p.copy() for p in part_sql])
    ctes = _layers(c)
    query = _with(_segment_select(name, seg, cond, _LAST, opts.dialect), ctes)
    funnel = _with(_funnel(part_sql, _LAST), [(n, q.copy()) for n, q in ctes])

    def recompile(dialect: str) -> CompiledSegment:
        return compile_segment(checked, name, CompileOptions(opts.as_of, opts.as_of_utc, opts.timezone, dialect))

    return CompiledSegment(
        name=seg.name,
        label=seg.label,
        description=seg.description,
        purposes=seg.purposes,
        holdout_pct=float(seg.holdout) if seg.holdout is not None else None,
        depends_on=checked.depends_on.get(name, ()),
        was_in=checked.was_in.get(name, ()),
        models=checked.models_used.get(name, ()),
        query=query,
        values=values,
        funnel_query=funnel,
        funnel_labels=[format_expr(p) for p in parts],
        dialect=opts.dialect,
        recompile=recompile,
    )


def dependency_order(checked: CheckedProgram, names: Iterable[str]) -> list[str]:
    """Names in an order where every `in segment` dependency comes first (file order otherwise)."""
    wanted = list(dict.fromkeys(names))
    pos = {n: i for i, n in enumerate(checked.segments)}
    wanted.sort(key=lambda n: pos[n])
    out: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            seg = checked.segments[n]
            raise RuleCheckError(f"segment cycle through 'in segment': {' -> '.join(path + [n])}", location=seg.loc, name=n)
        state[n] = 1
        for d in checked.depends_on.get(n, ()):
            visit(d, path + [n])
        state[n] = 2
        if n in wanted_set:
            out.append(n)

    wanted_set = set(wanted)
    for n in wanted:
        visit(n, [])
    return out


def compile_build(checked: CheckedProgram, names: Iterable[str] | None, opts: CompileOptions) -> BuildPlan:
    """Many segments over ONE prelude table of per-customer values (one scan of events)."""
    if names is None:
        names = list(checked.segments)
    names = list(names)
    for n in names:
        if n not in checked.segments:
            raise NotFoundError("segment", n, suggestion=closest(n, checked.segments))
    order = dependency_order(checked, names)
    c = Compiler(checked, opts)
    selects: dict[str, exp.Select] = {}
    for n in order:
        seg = checked.segments[n]
        selects[n] = _segment_select(n, seg, c.value(seg.where), PRELUDE_TABLE, opts.dialect)
    prelude = [(PRELUDE_TABLE, _layers_select(c))]
    compiled = {n: compile_segment(checked, n, opts) for n in order}
    return BuildPlan(order=order, prelude=prelude, segments=selects, compiled=compiled, dialect=opts.dialect)


def compile_features(checked: CheckedProgram, model: str, opts: CompileOptions) -> exp.Select:
    """SELECT customer_id, one column per feature (named as the feature), for training."""
    if model not in checked.models:
        raise NotFoundError("model", model, suggestion=closest(model, checked.models))
    c = Compiler(checked, opts)
    columns: list[exp.Expression] = [col("customer_id")]
    columns += [alias(c.value(f), feature_name(f), quoted=True) for f in model_features(checked.models[model])]
    return _with_values(c, select(columns, _LAST))


