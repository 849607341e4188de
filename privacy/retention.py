"""Retention and periodic destruction (PRIVACY.md §7; KVKK Art. 7, Regulation on Erasure,
Destruction or Anonymization Art. 7 and 11, GDPR Art. 5(1)(e)).

:func:`run` deletes what is older than the configured periods, redacts expired consent
proof, and writes one destruction record per kind (what, how, how many, cutoff, when),
itself kept for ``destruction_records`` (3 years). :func:`status` says when the last run
was and whether the periodic-destruction interval (at most 6 months) has passed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from privacy import audit
from privacy.policy import Policy, subtract_duration

__all__ = ["DEFAULT_RETENTION", "RetentionResult", "last_run", "run", "status"]

DEFAULT_RETENTION = {
    "events": "3 years",
    "inactive_customers": "3 years",
    "segment_history": "2 years",
    "sync_receipts": "3 years",
    "consent_proof": "3 years",
    "destruction_records": "3 years",
}


@dataclass
class RetentionResult:
    run_id: str
    ran_at: datetime
    dry_run: bool
    items: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "ran_at": self.ran_at, "dry_run": self.dry_run, "items": self.items}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _count(con: Any, sql: str, params: list[Any]) -> int:
    return int(con.execute(sql, params).fetchone()[0])


def run(con: Any, policy: Policy, *, now: datetime | None = None, keystore: Any = None,
        dry_run: bool = False) -> RetentionResult:
    """One periodic destruction run (one transaction; the key store after it commits)."""
    from privacy.erasure import _customer_tables
    from privacy.ledger import redact, unlink

    now = now or _now()
    periods = {**DEFAULT_RETENTION, **(policy.retention or {})}
    cut = {k: subtract_duration(now, v) for k, v in periods.items()}
    res = RetentionResult("RT-" + now.strftime("%Y%m%d%H%M%S"), now, dry_run)
    shred: list[str] = []
    con.execute("BEGIN TRANSACTION")
    try:
        # events: events.ts is workspace-local time; a few hours either way do not matter at years
        n = _count(con, "SELECT count(*) FROM events WHERE ts < ?", [cut["events"]])
        if n and not dry_run:
            con.execute("DELETE FROM events WHERE ts < ?", [cut["events"]])
        res.items.append({"data_kind": "events", "method": "deleted", "rows": n, "cutoff": cut["events"]})

        inactive = [
            r[0]
            for r in con.execute(
                "SELECT c.customer_id FROM customers c WHERE c.first_seen_at < ? AND NOT EXISTS "
                "(SELECT 1 FROM events e WHERE e.customer_id = c.customer_id AND e.ts >= ?)",
                [cut["inactive_customers"], cut["inactive_customers"]],
            ).fetchall()
        ]
        if inactive and not dry_run:
            con.execute("CREATE OR REPLACE TEMP TABLE _inactive AS SELECT unnest(?::VARCHAR[]) AS customer_id",
                        [inactive])
            for table, column in _customer_tables(con):
                con.execute(f'DELETE FROM "{table}" WHERE "{column}" IN (SELECT customer_id FROM _inactive)')
            for cid in inactive:
                unlink(con, cid)
            con.execute("UPDATE audit_log SET target = ? WHERE target IN (SELECT unnest(?::VARCHAR[]))",
                        [f"retention:{res.run_id}", inactive])
            con.execute("DROP TABLE _inactive")
            shred = inactive
        res.items.append({"data_kind": "inactive_customers", "method": "deleted", "rows": len(inactive),
                          "cutoff": cut["inactive_customers"]})

        old_builds = "SELECT build_id FROM segment_builds b WHERE built_at < ? AND build_id <> " \
                     "(SELECT max(build_id) FROM segment_builds x WHERE x.segment = b.segment)"
        n = _count(con, f"SELECT count(*) FROM ({old_builds})", [cut["segment_history"]])
        if n and not dry_run:
            con.execute(f"DELETE FROM segment_members WHERE build_id IN ({old_builds})", [cut["segment_history"]])
            con.execute(f"DELETE FROM segment_builds WHERE build_id IN ({old_builds})", [cut["segment_history"]])
        res.items.append({"data_kind": "segment_history", "method": "deleted", "rows": n,
                          "cutoff": cut["segment_history"]})

        n = _count(con, "SELECT count(*) FROM sync_receipts WHERE recorded_at < ?", [cut["sync_receipts"]])
        if n and not dry_run:
            con.execute("DELETE FROM sync_receipts WHERE recorded_at < ?", [cut["sync_receipts"]])
        res.items.append({"data_kind": "sync_receipts", "method": "deleted", "rows": n, "cutoff": cut["sync_receipts"]})

        if dry_run:
            n = 0
        else:
            n = redact(con, cut["consent_proof"])
        res.items.append({"data_kind": "consent_proof", "method": "redacted", "rows": n, "cutoff": cut["consent_proof"]})

        n = _count(con, "SELECT count(*) FROM destruction_records WHERE ran_at < ?", [cut["destruction_records"]])
        if n and not dry_run:
            con.execute("DELETE FROM destruction_records WHERE ran_at < ?", [cut["destruction_records"]])
        res.items.append({"data_kind": "destruction_records", "method": "deleted", "rows": n,
                          "cutoff": cut["destruction_records"]})

        if not dry_run:
            for item in res.items:
                con.execute(
                    "INSERT INTO destruction_records (record_id, run_id, data_kind, method, rows, cutoff, ran_at, "
                    "details) VALUES (nextval('destruction_seq'), ?, ?, ?, ?, ?, ?, ?)",
                    [res.run_id, item["data_kind"], item["method"], item["rows"], item["cutoff"], now,
                     json.dumps({"period": periods.get(item["data_kind"])})],
                )
            audit.record(con, "privacy.retention_run", target=res.run_id,
                         details={i["data_kind"]: i["rows"] for i in res.items})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if shred and keystore is not None:
        n = keystore.destroy_data_keys(shred) if hasattr(keystore, "destroy_data_keys") else sum(
            keystore.destroy_data_key(c) for c in shred)
        res.items.append({"data_kind": "vault_keys", "method": "key_destroyed", "rows": n, "cutoff": None})
    return res


def last_run(con: Any) -> datetime | None:
    row = con.execute(
        "SELECT max(ran_at) FROM destruction_records WHERE run_id LIKE 'RT-%'"
    ).fetchone()
    return row[0] if row else None


def status(con: Any, policy: Policy, *, now: datetime | None = None) -> dict[str, Any]:
    """Last periodic destruction run and whether one is due (interval: policy, at most 6 months)."""
    now = now or _now()
    last = last_run(con)
    due_before = subtract_duration(now, f"{policy.periodic_destruction_months} months")
    records = con.execute(
        "SELECT data_kind, method, rows, cutoff FROM destruction_records WHERE ran_at = ? ORDER BY record_id",
        [last],
    ).fetchall() if last else []
    return {
        "last_run": last,
        "overdue": last is None or last < due_before,
        "interval_months": policy.periodic_destruction_months,
        "last_records": [dict(zip(("data_kind", "method", "rows", "cutoff"), r)) for r in records],
        "retention": {**DEFAULT_RETENTION, **(policy.retention or {})},
    }
