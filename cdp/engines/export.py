"""``cdp export parquet DIR``: the canonical pseudonymous tables as Parquet, for a lakehouse or Spark.

Layout (Hive-style, so Spark, DuckDB, Polars and Athena read it as is)::

    DIR/_cdp_export.json            manifest: when, store digest, rows per table
    DIR/customers.parquet
    DIR/events/event_month=2026-01/data_0.parquet    events partitioned by local month
    DIR/consent_events.parquet ... (the tables of cdp.engines.tables.TABLES)

The export is written next to DIR and swapped in at the end, so a reader never sees half
of it. An existing DIR is replaced only when it is an earlier export (it has the manifest):
the command never deletes a folder it did not write.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from cdp.engines.errors import EngineError
from cdp.engines.tables import TABLES, bucket_fingerprints, quote, select_list, table_columns

if TYPE_CHECKING:
    import duckdb

    from cdp.workspace import Workspace

__all__ = ["MANIFEST", "ExportResult", "export_parquet", "export_tables", "read_manifest", "store_digest"]

MANIFEST = "_cdp_export.json"
MONTH_COLUMN = "event_month"
FORMAT_VERSION = 1


@dataclass
class ExportResult:
    """What an export wrote: folder, rows per table, the store digest it reflects."""

    directory: str
    tables: dict[str, int] = field(default_factory=dict)
    months: int = 0
    store_digest: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "tables": dict(self.tables),
            "event_months": self.months,
            "store_digest": self.store_digest,
            "seconds": round(self.seconds, 3),
        }


def _lit(text: str) -> str:
    return exp.Literal.string(text).sql(dialect="duckdb")


def store_digest(con: duckdb.DuckDBPyConnection) -> str:
    """A digest of every shipped row of the store: equal digests mean an export is current."""
    h = hashlib.sha256()
    for spec in TABLES:
        cols = table_columns(con, spec)
        h.update(f"{spec.name}|{cols}|".encode())
        for bucket, (rows, digest) in sorted(bucket_fingerprints(con, spec, cols).items()):
            h.update(f"{bucket}:{rows}:{digest};".encode())
    return h.hexdigest()


def read_manifest(directory: Path | str) -> dict[str, Any] | None:
    """The manifest of an export folder, or None when there is none."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return data


def export_tables(con: duckdb.DuckDBPyConnection, directory: Path | str, *, timezone: str = "") -> ExportResult:
    """Write the shipped tables of the store open on ``con`` to ``directory`` (see module doc)."""
    started = time.monotonic()
    target = Path(directory).resolve()
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and read_manifest(target) is None)):
        raise EngineError(
            f"{target} exists and is not an earlier export; refusing to overwrite it",
            engine="export",
            hint="choose an empty or new folder",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    result = ExportResult(directory=str(target))
    try:
        for spec in TABLES:
            cols = table_columns(con, spec)
            if not cols:
                continue
            select = f"SELECT {select_list(cols)} FROM {quote(spec.name)}"
            n = int(con.execute(f"SELECT count(*) FROM {quote(spec.name)}").fetchone()[0])  # type: ignore[index]
            result.tables[spec.name] = n
            if spec.month_column is None:
                con.execute(f"COPY ({select}) TO {_lit(str(tmp / f'{spec.name}.parquet'))} (FORMAT parquet)")
                continue
            part = tmp / spec.name
            month = f"strftime({quote(spec.month_column)}, '%Y-%m') AS {MONTH_COLUMN}"
            if n == 0:
                # an empty partitioned table still needs one file so readers know its schema
                empty = part / f"{MONTH_COLUMN}=0000-00"
                empty.mkdir(parents=True)
                con.execute(f"COPY ({select} LIMIT 0) TO {_lit(str(empty / 'data_0.parquet'))} (FORMAT parquet)")
                continue
            con.execute(
                f"COPY (SELECT *, {month} FROM ({select})) TO {_lit(str(part))} "
                f"(FORMAT parquet, PARTITION_BY ({MONTH_COLUMN}))"
            )
            result.months = sum(1 for p in part.iterdir() if p.is_dir())
        result.store_digest = store_digest(con)
        manifest = {
            "format": FORMAT_VERSION,
            "exported_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
            "store_digest": result.store_digest,
            "timezone": timezone,
            "tables": result.tables,
            "partitioned": {s.name: MONTH_COLUMN for s in TABLES if s.month_column},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        old: Path | None = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.seconds = time.monotonic() - started
    return result


def export_parquet(ws: Workspace, directory: Path | str) -> ExportResult:
    """Export the workspace's store to ``directory`` and write an audit record of it."""
    from privacy.audit import record

    with ws.store() as con:
        result = export_tables(con, directory, timezone=ws.timezone)
        record(
            con,
            "engine.export",
            target="parquet",
            details={"tables": result.tables, "event_months": result.months},
        )
    return result
