"""What the compiler takes (:class:`CompileOptions`) and returns (:class:`CompiledSegment`, :class:`BuildPlan`)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

__all__ = ["DIALECTS", "BuildPlan", "CompileOptions", "CompiledSegment"]

DIALECTS = ("duckdb", "postgres", "spark")


@dataclass(frozen=True)
class CompileOptions:
    """When and where a rule is evaluated.

    ``as_of`` is the workspace-local naive evaluation time (a bare date means 00:00);
    ``as_of_utc`` the same instant in naive UTC (for consent and objections); defaults to
    ``as_of`` when not given. ``dialect`` is duckdb, postgres or spark.
    """

    as_of: _dt.datetime
    as_of_utc: _dt.datetime | None = None
    timezone: str = "UTC"
    dialect: str = "duckdb"

    def __post_init__(self) -> None:
        if not isinstance(self.as_of, _dt.datetime):  # a bare date means 00:00 of that day
            object.__setattr__(self, "as_of", _dt.datetime.combine(self.as_of, _dt.time()))
        if self.as_of.tzinfo is not None:
            object.__setattr__(self, "as_of", self.as_of.replace(tzinfo=None))
        if self.as_of_utc is None:
            object.__setattr__(self, "as_of_utc", self.as_of)
        elif not isinstance(self.as_of_utc, _dt.datetime):
            object.__setattr__(self, "as_of_utc", _dt.datetime.combine(self.as_of_utc, _dt.time()))
        if self.dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {self.dialect!r}; one of {', '.join(DIALECTS)}")

    @property
    def utc(self) -> _dt.datetime:
        assert self.as_of_utc is not None
        return self.as_of_utc.replace(tzinfo=None)


@dataclass
class CompiledSegment:
    """One segment as ONE self-contained SELECT of ``customer_id, control``.

    ``values`` maps each metric/value the rule uses to an expression valid in the final
    SELECT of ``query`` (add them as columns for a preview). ``funnel_query`` returns one
    row, ``step_1..step_n``: customers passing the first 1..n top-level ``and`` conditions.
    """

    name: str
    label: str | None
    description: str | None
    purposes: tuple[str, ...]
    holdout_pct: float | None
    depends_on: tuple[str, ...]
    was_in: tuple[str, ...]
    models: tuple[str, ...]
    query: exp.Select
    values: dict[str, exp.Expression]
    funnel_query: exp.Select
    funnel_labels: list[str]
    dialect: str
    recompile: Callable[[str], CompiledSegment] | None = field(default=None, repr=False)

    def sql(self, dialect: str | None = None, pretty: bool = False) -> str:
        """The query's text for a dialect (recompiled for it: dialect tables differ)."""
        dialect = dialect or self.dialect
        if dialect != self.dialect and self.recompile is not None:
            return self.recompile(dialect).sql(dialect, pretty=pretty)
        return self.query.sql(dialect=dialect, pretty=pretty)

    def funnel_sql(self, dialect: str | None = None, pretty: bool = False) -> str:
        dialect = dialect or self.dialect
        if dialect != self.dialect and self.recompile is not None:
            return self.recompile(dialect).funnel_sql(dialect, pretty=pretty)
        return self.funnel_query.sql(dialect=dialect, pretty=pretty)


@dataclass
class BuildPlan:
    """Many segments at once: materialize ``prelude`` (as TEMP tables, in order), then run
    ``segments[name]`` for each name of ``order`` (dependencies first)."""

    order: list[str]
    prelude: list[tuple[str, exp.Select]]
    segments: dict[str, exp.Select]
    compiled: dict[str, CompiledSegment]
    dialect: str
