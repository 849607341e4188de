"""Cutting a diff into batches within the platform's limits, as a plan written up front.

Removals go first (someone who said no leaves before anyone new arrives). Batches are
numbered across the run (``batch_no``) and within their operation (``seq``/``total``,
for platform sessions). The plan is one Arrow table written to ``sync_plan``; each batch
gets a receipt row ``pending`` before anything is sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

__all__ = ["PLAN_SCHEMA", "PlannedBatch", "idempotency_key", "plan_batches"]

PLAN_SCHEMA = pa.schema(
    [
        ("run_id", pa.int64()),
        ("batch_no", pa.int32()),
        ("op", pa.string()),
        ("customer_id", pa.string()),
        ("platform_key", pa.string()),
        ("reason", pa.string()),
        ("consent_seq", pa.int64()),
    ]
)


@dataclass(frozen=True)
class PlannedBatch:
    batch_no: int
    op: str
    seq: int
    total: int
    members: int
    key: str


def idempotency_key(sync: str, run_id: int, batch_no: int) -> str:
    """Stable per (sync, run, batch): the same on every retry and after a resume."""
    return hashlib.sha256(f"cdp:{sync}:{run_id}:{batch_no}".encode()).hexdigest()[:32]


def _cuts(n: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(size, n - start)) for start in range(0, n, size)]


def plan_batches(
    sync: str, run_id: int, adds: pa.Table, removes: pa.Table, add_size: int, remove_size: int
) -> tuple[pa.Table, list[PlannedBatch]]:
    """The plan table (PLAN_SCHEMA) and its batches, removals first."""
    parts: list[pa.Table] = []
    batches: list[PlannedBatch] = []
    batch_no = 0
    for op, table, size in (("remove", removes, remove_size), ("add", adds, add_size)):
        n = table.num_rows
        cuts = _cuts(n, size)
        for seq, (start, length) in enumerate(cuts, start=1):
            batch_no += 1
            batches.append(PlannedBatch(batch_no, op, seq, len(cuts), length, idempotency_key(sync, run_id, batch_no)))
        if not n:
            continue
        first = batch_no - len(cuts) + 1
        batch_col = pa.array((np.arange(n) // size + first).astype("int32"))
        cols = {
            "run_id": pa.array(np.full(n, run_id, dtype="int64")),
            "batch_no": batch_col,
            "op": pa.repeat(pa.scalar(op, pa.string()), n),
            "customer_id": table.column("customer_id"),
            "platform_key": table.column("platform_key") if "platform_key" in table.column_names
            else pa.nulls(n, pa.string()),
            "reason": table.column("reason") if "reason" in table.column_names else pa.nulls(n, pa.string()),
            "consent_seq": table.column("consent_seq") if "consent_seq" in table.column_names
            else pa.nulls(n, pa.int64()),
        }
        parts.append(pa.table(cols, schema=PLAN_SCHEMA))
    plan = pa.concat_tables(parts) if parts else PLAN_SCHEMA.empty_table()
    return plan, batches
