"""Runs and receipts in the store: what was sent, under which consent, what the platform said.

A run row (``sync_runs``) per run, one receipt (``sync_receipts``) per batch: recorded
``pending`` before it is sent, ``confirmed`` (with the platform's counts) or ``failed``
(with the platform's message) after. Receipts carry counts and digests only, never an
identifier; the consent justification digest proves which consent event released each
member (PRIVACY.md §4).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from cdp.sync.batches import PlannedBatch

__all__ = [
    "batch_digest",
    "confirm_batch",
    "fail_batch",
    "finish_run",
    "history",
    "last_runs",
    "record_plan",
    "run_summary",
    "start_run",
    "utcnow",
]


_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")
_NUMBER = re.compile(r"\+?\d[\d \-()]{8,}\d")


def scrub(message: str) -> str:
    """A platform's message without anything that looks like an email or a phone number
    (platforms sometimes quote the offending value); it is stored and printed."""
    return _NUMBER.sub("<number>", _EMAIL.sub("<email>", message))


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def batch_digest(customer_ids: list[str], consent_seqs: list[int | None]) -> str:
    """The consent digest of one batch (same form as the gate's justification digest)."""
    sha = hashlib.sha256()
    for cid, seq in sorted(zip(customer_ids, consent_seqs), key=lambda p: p[0]):
        sha.update(f"{cid}\t{'' if seq is None else seq}\n".encode())
    return sha.hexdigest()


def start_run(
    con: Any,
    *,
    sync: str,
    destination: str,
    segment: str,
    purpose: str,
    mode: str,
    build_id: int | None,
    dry_run: bool,
    status: str = "running",
) -> int:
    row = con.execute(
        "INSERT INTO sync_runs (run_id, sync, destination, segment, build_id, purpose, started_at, status, "
        "dry_run, mode) VALUES (nextval('sync_run_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING run_id",
        [sync, destination, segment, build_id, purpose, utcnow(), status, dry_run, mode],
    ).fetchone()
    return int(row[0])


def record_plan(con: Any, run_id: int, plan: Any, batches: list[PlannedBatch], *, adds: int, removes: int,
                exclusions: dict[str, int], digest: str, build_id: int) -> None:
    """Write the plan and a pending receipt per batch, in one transaction, before sending."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_plan", plan)
        con.execute("INSERT INTO sync_plan SELECT * FROM _plan")
        con.unregister("_plan")
        now = utcnow()
        if batches:
            con.executemany(
                "INSERT INTO sync_receipts (run_id, batch_no, op, members, status, recorded_at, seq, total, "
                "idempotency_key, attempts) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, 0)",
                [[run_id, b.batch_no, b.op, b.members, now, b.seq, b.total, b.key] for b in batches],
            )
        con.execute(
            "UPDATE sync_runs SET adds = ?, removes = ?, exclusions = ?, justification_digest = ?, build_id = ? "
            "WHERE run_id = ?",
            [adds, removes, json.dumps(exclusions), digest, build_id, run_id],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def confirm_batch(con: Any, run_id: int, batch_no: int, *, response: dict[str, Any], attempts: int,
                  request_digest: str, consent_digest: str | None) -> None:
    con.execute(
        "UPDATE sync_receipts SET status = 'confirmed', confirmed_at = ?, response = ?, attempts = ?, "
        "request_digest = ?, consent_digest = ? WHERE run_id = ? AND batch_no = ?",
        [utcnow(), json.dumps(response, default=str), attempts, request_digest, consent_digest, run_id, batch_no],
    )


def fail_batch(con: Any, run_id: int, batch_no: int, *, error: str, attempts: int, status: str = "failed") -> None:
    con.execute(
        "UPDATE sync_receipts SET status = ?, error = ?, attempts = ? WHERE run_id = ? AND batch_no = ?",
        [status, scrub(error)[:2000], attempts, run_id, batch_no],
    )


def finish_run(con: Any, run_id: int, *, aborted: str | None = None) -> dict[str, Any]:
    """Set the run's final status and counts from its receipts; returns the summary."""
    rows = con.execute(
        "SELECT status, count(*), sum(members) FROM sync_receipts WHERE run_id = ? GROUP BY status", [run_id]
    ).fetchall()
    by = {r[0]: (int(r[1]), int(r[2] or 0)) for r in rows}
    confirmed, failed, pending = by.get("confirmed", (0, 0)), by.get("failed", (0, 0)), by.get("pending", (0, 0))
    totals = con.execute(
        "SELECT coalesce(sum(CAST(json_extract(response, '$.received') AS BIGINT)), 0), "
        "coalesce(sum(CAST(json_extract(response, '$.invalid') AS BIGINT)), 0) "
        "FROM sync_receipts WHERE run_id = ? AND status = 'confirmed'",
        [run_id],
    ).fetchone()
    platform = _platform_counts(con, run_id)
    invalid = int(totals[1] or 0)
    if aborted or pending[0]:
        status = "failed" if not confirmed[0] else "partial"
    elif failed[0] or invalid:
        status = "partial" if confirmed[0] else "failed"
    else:
        status = "ok"
    if aborted is None and pending[0]:
        aborted = con.execute(
            "SELECT error FROM sync_receipts WHERE run_id = ? AND status = 'pending' AND error IS NOT NULL "
            "ORDER BY batch_no LIMIT 1", [run_id]).fetchone()
        aborted = aborted[0] if aborted else None
    if aborted is None and failed[0]:
        aborted = con.execute(
            "SELECT error FROM sync_receipts WHERE run_id = ? AND status = 'failed' ORDER BY batch_no LIMIT 1",
            [run_id],
        ).fetchone()[0]
    con.execute(
        "UPDATE sync_runs SET status = ?, finished_at = ?, sent = ?, accepted = ?, invalid = ?, "
        "failed_batches = ?, platform_counts = ?, error = ? WHERE run_id = ?",
        [status, utcnow(), confirmed[1] + failed[1], confirmed[1] - invalid, invalid, failed[0],
         json.dumps(platform), scrub(aborted) if aborted else None, run_id],
    )
    if not pending[0]:
        con.execute("DELETE FROM sync_plan WHERE run_id = ?", [run_id])
    return run_summary(con, run_id)


def _platform_counts(con: Any, run_id: int) -> dict[str, Any]:
    """Sum the numeric counts the platform returned, per op."""
    out: dict[str, dict[str, float]] = {}
    for op, response in con.execute(
        "SELECT op, response FROM sync_receipts WHERE run_id = ? AND status = 'confirmed'", [run_id]
    ).fetchall():
        data = json.loads(response) if response else {}
        counts = data.get("counts", {})
        bucket = out.setdefault(op, {})
        for k, v in counts.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                continue
            bucket[k] = bucket.get(k, 0) + v
    return out


_RUN_COLS = (
    "run_id, sync, destination, segment, build_id, purpose, mode, started_at, finished_at, status, dry_run, "
    "adds, removes, exclusions, platform_counts, sent, accepted, invalid, failed_batches, justification_digest, error"
)


def _run_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    keys = [k.strip() for k in _RUN_COLS.split(",")]
    out = dict(zip(keys, row))
    for k in ("exclusions", "platform_counts"):
        if isinstance(out.get(k), str):
            out[k] = json.loads(out[k])
    return out


def run_summary(con: Any, run_id: int) -> dict[str, Any]:
    row = con.execute(f"SELECT {_RUN_COLS} FROM sync_runs WHERE run_id = ?", [run_id]).fetchone()
    out = _run_dict(row)
    out["batches"] = {
        r[0]: int(r[1])
        for r in con.execute(
            "SELECT status, count(*) FROM sync_receipts WHERE run_id = ? GROUP BY status", [run_id]
        ).fetchall()
    }
    return out


def last_runs(con: Any) -> list[dict[str, Any]]:
    """The last run of every sync (dry runs included, marked)."""
    rows = con.execute(
        f"SELECT {_RUN_COLS} FROM sync_runs QUALIFY row_number() OVER (PARTITION BY sync ORDER BY run_id DESC) = 1 "
        "ORDER BY sync"
    ).fetchall()
    return [_run_dict(r) for r in rows]


def history(con: Any, sync: str, limit: int = 50) -> list[dict[str, Any]]:
    rows = con.execute(
        f"SELECT {_RUN_COLS} FROM sync_runs WHERE sync = ? ORDER BY run_id DESC LIMIT ?", [sync, limit]
    ).fetchall()
    return [_run_dict(r) for r in rows]
