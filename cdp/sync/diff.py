"""What a run must send: released audience versus the sync state (DESTINATIONS.md, "Diff").

``adds = released - state``; in mirror mode ``removes = state - released``; people who
withdrew, refused, objected or were erased leave in every mode; pending entries of the
erasure removal queue for this destination are removed too. Set work runs in DuckDB
over Arrow tables, so a million members diff in about a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

__all__ = ["QUEUE_PREFIX", "Diff", "compute_diff"]

#: plan rows for erasure-queue removals carry ``erasure:<request_id>`` instead of a customer id
QUEUE_PREFIX = "erasure:"


@dataclass
class Diff:
    adds: pa.Table                      # customer_id, consent_seq
    removes: pa.Table                   # customer_id, platform_key, reason
    state_size: int = 0
    unchanged: int = 0
    removal_reasons: dict[str, int] = field(default_factory=dict)


def _table_exists(con: Any, name: str) -> bool:
    return bool(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0]
    )


def compute_diff(
    con: Any,
    *,
    sync: str,
    destination: str,
    members: pa.Table,
    mode: str,
    purpose: str,
    channel: str,
    queue_key: Any = None,
) -> Diff:
    """Diff ``members`` (the released audience) against the stored sync state.

    ``queue_key(match_keys: dict, platform_key: str | None) -> str | None`` turns an
    erasure-queue entry into the destination's removal key (None: nothing to remove).
    """
    from privacy.gate import revoked

    con.register("_released", members.select(["customer_id", "consent_seq"]))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _sync_state AS SELECT customer_id, platform_key FROM sync_state "
            "WHERE sync = ? AND destination = ?",
            [sync, destination],
        )
        state_size = con.execute("SELECT count(*) FROM _sync_state").fetchone()[0]
        # hash anti joins both ways; order does not matter for adds (batches are cut as they come)
        adds = con.execute(
            "SELECT r.customer_id, r.consent_seq FROM _released r ANTI JOIN _sync_state s USING (customer_id)"
        ).to_arrow_table()
        departed = con.execute(
            """
            SELECT d.customer_id, d.platform_key, c.customer_id IS NULL AS erased
            FROM (SELECT s.customer_id, s.platform_key FROM _sync_state s
                  ANTI JOIN _released r USING (customer_id)) d
            LEFT JOIN customers c ON c.customer_id = d.customer_id
            ORDER BY d.customer_id
            """
        ).fetchall()
    finally:
        con.unregister("_released")
        con.execute("DROP TABLE IF EXISTS _sync_state")
    gone = revoked(con, [r[0] for r in departed], purpose, channel) if departed else set()
    ids: list[str] = []
    keys: list[str | None] = []
    reasons: list[str] = []
    for cid, key, erased in departed:
        reason = "erased" if erased else ("revoked" if cid in gone else "left")
        if mode == "upsert" and reason == "left":
            continue
        ids.append(cid)
        keys.append(key)
        reasons.append(reason)
    if queue_key is not None and _table_exists(con, "removal_queue"):
        rows = con.execute(
            "SELECT request_id, platform_key, match_keys FROM removal_queue "
            "WHERE status = 'pending' AND destination = ? AND sync = ? ORDER BY request_id",
            [destination, sync],
        ).fetchall()
        for request_id, platform_key, match_keys in rows:
            mk = json.loads(match_keys) if isinstance(match_keys, str) else (match_keys or {})
            ids.append(f"{QUEUE_PREFIX}{request_id}")
            keys.append(queue_key(mk, platform_key))
            reasons.append("erased")
    removal_reasons: dict[str, int] = {}
    for r in reasons:
        removal_reasons[r] = removal_reasons.get(r, 0) + 1
    removes = pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "platform_key": pa.array(keys, pa.string()),
            "reason": pa.array(reasons, pa.string()),
        }
    )
    return Diff(
        adds=adds,
        removes=removes,
        state_size=int(state_size),
        unchanged=int(members.num_rows - adds.num_rows),
        removal_reasons=removal_reasons,
    )
