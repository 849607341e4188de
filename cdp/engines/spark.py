"""Spark as an engine: run a compiled segment build on the Parquet export with PySpark.

One SparkSession per process (``shared_session``): starting one costs seconds and about
1 GB, so every build of a process reuses it. ``[engines.spark] master`` picks the cluster
(``local[2]`` by default, ``spark://host:7077`` / ``yarn`` / ``k8s://...`` for a real one);
``options`` are passed to the session builder as is. The session time zone is UTC: the
export's timestamps are naive (``TIMESTAMP_NTZ``) and every literal the compiler writes
is a wall-clock value, so comparisons must not shift them.

Before a build, the export folder (``[engines.spark] export_dir``, default
``.cdp/export``) is refreshed when its manifest's store digest differs from the store's.
On a cluster the folder must be on storage every executor reads (HDFS, S3, NFS): point
``export_dir`` there.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdp.config.engines import SparkEngineConfig
from cdp.engines.errors import EngineError, EngineUnavailableError
from cdp.engines.tables import TABLES

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["export_dir_of", "register_export", "run_plan_spark", "shared_session", "stop_session"]

ENGINE = "spark"
_LOCK = threading.Lock()
_SESSION: dict[str, Any] = {}


def shared_session(cfg: SparkEngineConfig | None = None) -> Any:
    """The process's SparkSession, created on first use with ``cfg`` (later calls reuse it)."""
    cfg = cfg or SparkEngineConfig()
    with _LOCK:
        if "session" in _SESSION:
            return _SESSION["session"]
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise EngineUnavailableError(
                "pyspark is not installed", engine=ENGINE, hint="pip install 'cdp[spark]' (needs Java 17+)"
            ) from exc
        builder = (
            SparkSession.builder.master(cfg.master)
            .appName(cfg.app_name)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "8")
        )
        for key, value in cfg.options.items():
            builder = builder.config(key, str(value).lower() if isinstance(value, bool) else str(value))
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # Java missing, master unreachable
            raise EngineUnavailableError(
                f"cannot start a Spark session on {cfg.master}: {str(exc).strip().splitlines()[0] if str(exc) else exc}",
                engine=ENGINE,
                hint="check JAVA_HOME (Java 17+) and [engines.spark] master",
            ) from exc
        session.sparkContext.setLogLevel("ERROR")
        _SESSION["session"] = session
        return session


def stop_session() -> None:
    """Stop the shared session (tests and long-lived processes that are done with Spark)."""
    with _LOCK:
        session = _SESSION.pop("session", None)
    if session is not None:
        session.stop()


def export_dir_of(root: Path, cfg: SparkEngineConfig | None) -> Path:
    """The export folder Spark reads: ``export_dir`` relative to the workspace root."""
    path = Path((cfg or SparkEngineConfig()).export_dir)
    return path if path.is_absolute() else root / path


def register_export(session: Any, directory: Path | str) -> list[str]:
    """Register each exported table as a temp view named like the store's table."""
    directory = Path(directory)
    names = []
    for spec in TABLES:
        path = directory / (spec.name if spec.month_column else f"{spec.name}.parquet")
        if not path.exists():
            continue
        reader = session.read
        if spec.month_column:
            reader = reader.option("basePath", str(path))
        df = reader.parquet(str(path))
        if spec.month_column:
            df = df.drop("event_month")
        df.createOrReplaceTempView(spec.name)
        names.append(spec.name)
    return names


def run_plan_spark(session: Any, directory: Path | str, plan: Any, tables: dict[str, str]) -> dict[str, pa.Table]:
    """Run ``plan`` (compiled for dialect spark) on the export; {segment: Arrow (customer_id, control)}.

    The prelude is materialized with ``localCheckpoint`` and registered under the name the
    plan uses. Segments that do not read each other's tables run together as ONE
    ``UNION ALL`` job (a Spark job costs seconds of scheduling, so 40 segments as 40 jobs
    would cost minutes); a segment that reads an earlier one's table (``tables[name]``)
    starts a new batch after that one is materialized. Checkpointing cuts the lineage: a
    view over the big metrics query would otherwise be re-analysed at every use.
    """
    import pyarrow.compute as pc

    register_export(session, directory)
    made: list[str] = []
    frames: list[Any] = []
    out: dict[str, pa.Table] = {}
    pending: list[str] = []

    def flush() -> None:
        if not pending:
            return
        parts = [
            f"SELECT {i} AS _k, customer_id, control FROM ({_sql(plan.segments[n])}) AS _q{i}"
            for i, n in enumerate(pending)
        ]
        df = session.sql(" UNION ALL ".join(parts)).localCheckpoint(eager=True)
        frames.append(df)
        rows = df.toArrow()
        for i, name in enumerate(pending):
            out[name] = rows.filter(pc.equal(rows.column("_k"), i)).select(["customer_id", "control"])
            df.where(f"_k = {i}").select("customer_id", "control").createOrReplaceTempView(tables[name])
            made.append(tables[name])
        pending.clear()

    try:
        for table, select in plan.prelude:
            frames.append(_materialize(session, _sql(select), table))
            made.append(table)
        for name in plan.order:
            reads = _tables_read(plan.segments[name])
            if any(tables[p] in reads for p in pending):
                flush()
            pending.append(name)
        flush()
    except Exception as exc:
        if isinstance(exc, EngineError):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"the build failed on Spark: {first}", engine=ENGINE) from exc
    finally:
        for table in made:
            session.catalog.dropTempView(table)
        for df in frames:
            df.unpersist()
    return out


def _tables_read(query: Any) -> set[str]:
    from sqlglot import exp, parse_one

    tree = parse_one(query, read="spark") if isinstance(query, str) else query
    return {t.name for t in tree.find_all(exp.Table)}


def _materialize(session: Any, sql: str, view: str) -> Any:
    """Compute ``sql`` once, keep the rows (lineage cut), and name them ``view``."""
    df = session.sql(sql).localCheckpoint(eager=True)
    df.createOrReplaceTempView(view)
    return df


def _sql(query: Any) -> str:
    return query if isinstance(query, str) else query.sql(dialect="spark")
