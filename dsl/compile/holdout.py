"""The holdout control flag: identical on DuckDB, PostgreSQL and Spark.

control = int(first 8 hex digits of sha256(segment_name || ":" || customer_id), 16)
          mod 10000 < N * 100
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from sqlglot import exp

from dsl.compile.dialects import hash_bucket
from dsl.printer import format_number

__all__ = ["control_expression", "in_control"]


def in_control(segment: str, customer_id: str, pct: Decimal | float) -> bool:
    """The same rule in Python (for tests, docs and the uplift report)."""
    digest = hashlib.sha256(f"{segment}:{customer_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 10000 < Decimal(str(pct)) * 100


def control_expression(segment: str, pct: Decimal | None, customer_id: exp.Expression, dialect: str) -> exp.Expression:
    """BOOLEAN expression of the control flag (FALSE without a holdout)."""
    if pct is None:
        return exp.false()
    key = exp.DPipe(this=exp.Literal.string(f"{segment}:"), expression=customer_id)
    bucket = exp.Mod(this=hash_bucket(key, dialect), expression=exp.Literal.number(10000))
    return exp.LT(this=bucket, expression=exp.Literal.number(format_number((pct * 100).normalize())))
