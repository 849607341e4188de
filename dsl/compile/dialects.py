"""Dialect differences as lookup tables: one entry per construct that does not transpile.

Measured traps (issue 4): Spark's DATEDIFF counts 24-hour periods unless given DATEs;
PostgreSQL's SHA256 takes bytea; hex-to-integer has no common spelling. Everything else the
compiler emits is a plain sqlglot node known to render correctly in the three dialects.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import sqlglot
from sqlglot import exp

__all__ = ["days_between", "hash_bucket", "json_text"]


def _dd_duckdb(start: exp.Expression, end: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="DATE_DIFF", expressions=[exp.Literal.string("day"), start, end])


def _dd_postgres(start: exp.Expression, end: exp.Expression) -> exp.Expression:
    return exp.Paren(this=exp.Sub(this=end, expression=start))  # date - date is an integer


def _dd_spark(start: exp.Expression, end: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="DATEDIFF", expressions=[end, start])  # DATE args: calendar days


_DAYS_BETWEEN: dict[str, Callable[[exp.Expression, exp.Expression], exp.Expression]] = {
    "duckdb": _dd_duckdb,
    "postgres": _dd_postgres,
    "spark": _dd_spark,
}


def days_between(start_date: exp.Expression, end_date: exp.Expression, dialect: str) -> exp.Expression:
    """Whole calendar days from ``start_date`` to ``end_date`` (both DATE expressions)."""
    return _DAYS_BETWEEN[dialect](start_date, end_date)


# int(first 8 hex digits of sha256(key), 16) per dialect; __key stands for the key
_HASH_BUCKET_SQL = {
    "duckdb": "CAST('0x' || SUBSTRING(SHA256(__key), 1, 8) AS BIGINT)",
    "postgres": "CAST(CAST('x' || SUBSTRING(ENCODE(SHA256(CONVERT_TO(__key, 'UTF8')), 'hex'), 1, 8) AS BIT(32)) AS BIGINT)",
    "spark": "CAST(CONV(SUBSTRING(SHA2(__key, 256), 1, 8), 16, 10) AS BIGINT)",
}


@cache
def _bucket_template(dialect: str) -> Any:
    return sqlglot.parse_one(_HASH_BUCKET_SQL[dialect], read=dialect)


def hash_bucket(key: exp.Expression, dialect: str) -> exp.Expression:
    """``int(sha256(key)[:8], 16)`` as an expression of ``dialect``."""
    template = _bucket_template(dialect).copy()

    def put(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name == "__key":
            return key.copy()
        return node

    return template.transform(put, copy=False)


def json_text(column: exp.Expression, key: str, dialect: str) -> exp.Expression:
    """The text of a top-level key of a JSON column (``properties``)."""
    path = exp.JSONPath(expressions=[exp.JSONPathRoot(), exp.JSONPathKey(this=key)])
    return exp.JSONExtractScalar(this=column, expression=path)
