"""Cheap constructors for sqlglot nodes.

sqlglot's fluent builders parse strings and copy the whole tree at every step; the
compiler builds many queries per build, so it assembles nodes directly instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

__all__ = ["alias", "and_all", "col", "ident", "inner_join", "left_join", "not_null", "select", "subquery", "table"]

_RESERVED = {
    "all", "and", "as", "asc", "between", "by", "case", "cast", "check", "column", "create", "default",
    "desc", "distinct", "else", "end", "false", "from", "group", "having", "in", "is", "join", "like",
    "limit", "not", "null", "offset", "on", "or", "order", "select", "table", "then", "to", "true",
    "union", "user", "using", "when", "where", "window", "with", "date", "time", "timestamp", "interval",
    "left", "right", "full", "inner", "outer", "cross", "natural", "over", "partition", "range", "rows",
}


def ident(name: str, quoted: bool | None = None) -> exp.Identifier:
    """An identifier, quoted when a dialect would fold or reject it."""
    if quoted is None:
        quoted = name != name.lower() or name.lower() in _RESERVED or not name.replace("_", "a").isalnum()
    return exp.Identifier(this=name, quoted=quoted)


def col(name: str, table_name: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=exp.Identifier(this=table_name, quoted=False) if table_name else None)


def alias(e: exp.Expression, name: str, quoted: bool | None = None) -> exp.Alias:
    return exp.Alias(this=e, alias=ident(name, quoted))


def table(name: str, as_: str | None = None) -> exp.Table:
    t = exp.Table(this=exp.Identifier(this=name, quoted=False))
    if as_:
        t.set("alias", exp.TableAlias(this=exp.Identifier(this=as_, quoted=False)))
    return t


def subquery(query: exp.Expression, as_: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.Identifier(this=as_, quoted=False)))


def and_all(conds: Sequence[exp.Expression]) -> exp.Expression:
    out = conds[0]
    for c in conds[1:]:
        left = exp.Paren(this=out) if isinstance(out, exp.Or) else out
        right = exp.Paren(this=c) if isinstance(c, exp.Connector) else c
        out = exp.And(this=left, expression=right)
    return out


def not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=e, expression=exp.null()))


def select(
    columns: Sequence[exp.Expression],
    from_: exp.Expression | str,
    *,
    where: Sequence[exp.Expression] = (),
    joins: Sequence[exp.Join] = (),
    group_by: Sequence[exp.Expression] = (),
    order_by: Sequence[exp.Ordered] = (),
    limit: int | None = None,
    distinct: bool = False,
) -> exp.Select:
    """``SELECT columns FROM from_ [joins] [WHERE a AND b ...] [GROUP BY] [ORDER BY] [LIMIT]``."""
    source = table(from_) if isinstance(from_, str) else from_
    args: dict[str, Any] = {"expressions": list(columns), "from_": exp.From(this=source)}
    if joins:
        args["joins"] = list(joins)
    if where:
        args["where"] = exp.Where(this=and_all(list(where)))
    if group_by:
        args["group"] = exp.Group(expressions=list(group_by))
    if order_by:
        args["order"] = exp.Order(expressions=list(order_by))
    if limit is not None:
        args["limit"] = exp.Limit(expression=exp.Literal.number(limit))
    if distinct:
        args["distinct"] = exp.Distinct()
    return exp.Select(**args)


def left_join(source: exp.Expression, on: exp.Expression) -> exp.Join:
    return exp.Join(this=source, on=on, side="LEFT")


def inner_join(source: exp.Expression, on: exp.Expression) -> exp.Join:
    return exp.Join(this=source, on=on)
