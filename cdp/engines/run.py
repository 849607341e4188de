"""The segment service's hook: run a compiled build plan on PostgreSQL or Spark.

``engine_runner(ws, con, engine)`` returns ``run(plan, tables)``: it first brings the
engine's copy of the store up to date (an incremental push to PostgreSQL; a fresh Parquet
export for Spark when the store changed since the last one), then runs the plan there and
returns ``{segment: pyarrow.Table(customer_id, control)}``. The service stores those
memberships exactly as a DuckDB build would, so gate, sync and ``--json`` are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cdp.errors import NotFoundError

if TYPE_CHECKING:
    import duckdb

    from cdp.workspace import Workspace

__all__ = ["Runner", "engine_runner", "ensure_export"]

Runner = Callable[[Any, dict[str, str]], dict[str, Any]]


def ensure_export(con: duckdb.DuckDBPyConnection, directory: Any, timezone: str) -> bool:
    """Re-export the store to ``directory`` unless its manifest matches the store; True if written."""
    from cdp.engines.export import export_tables, read_manifest, store_digest

    manifest = read_manifest(directory)
    if manifest is not None and manifest.get("store_digest") == store_digest(con):
        return False
    export_tables(con, directory, timezone=timezone)
    return True


def engine_runner(ws: Workspace, con: duckdb.DuckDBPyConnection, engine: str) -> Runner:
    """The function that runs a build plan on ``engine`` (``postgres`` or ``spark``)."""
    if engine == "postgres":
        from cdp.engines.postgres import push_tables, resolve_target, run_plan_postgres

        target = resolve_target(ws)

        def run_pg(plan: Any, tables: dict[str, str]) -> dict[str, Any]:
            pushed = push_tables(con, target)  # incremental: a no-op when nothing changed
            if pushed.rows_sent:
                _audit(con, "engine.push", f"postgres:{target.schema}", {"rows_sent": pushed.rows_sent})
            return run_plan_postgres(target, plan, tables)

        return run_pg
    if engine == "spark":
        from cdp.engines.spark import export_dir_of, run_plan_spark, shared_session

        cfg = ws.config.engines.spark
        directory = export_dir_of(ws.root, cfg)

        def run_spark(plan: Any, tables: dict[str, str]) -> dict[str, Any]:
            session = shared_session(cfg)
            if ensure_export(con, directory, ws.timezone):
                _audit(con, "engine.export", "spark", {"directory": str(directory)})
            return run_plan_spark(session, directory, plan, tables)

        return run_spark
    raise NotFoundError("engine", engine, hint="engines: duckdb (default), postgres, spark")


def _audit(con: duckdb.DuckDBPyConnection, action: str, target: str, details: dict[str, Any]) -> None:
    """A copy of pseudonymous data left the store for an engine (PRIVACY.md §8)."""
    from privacy.audit import record

    record(con, action, target=target, details=details)
