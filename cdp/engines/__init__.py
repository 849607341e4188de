"""Run where the data lives: PostgreSQL and Spark besides the embedded DuckDB (docs/scale.md).

- :func:`export_parquet` writes the pseudonymous canonical tables as Parquet.
- :func:`push_postgres` refreshes their PostgreSQL copy incrementally.
- :func:`engine_runner` gives the segment service the function that runs a compiled build
  plan on ``postgres`` or ``spark`` and returns ``{segment: Arrow table (customer_id, control)}``.
"""

from __future__ import annotations

from cdp.engines.errors import EngineError, EngineUnavailableError
from cdp.engines.export import ExportResult, export_parquet
from cdp.engines.postgres import PushResult, push_postgres
from cdp.engines.run import Runner, engine_runner

__all__ = [
    "ENGINES",
    "EngineError",
    "EngineUnavailableError",
    "ExportResult",
    "PushResult",
    "Runner",
    "engine_runner",
    "export_parquet",
    "push_postgres",
]

#: engines a segment build accepts; duckdb is the embedded default
ENGINES = ("duckdb", "postgres", "spark")
