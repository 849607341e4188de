"""Erasure (right to be forgotten) as a resumable job (PRIVACY.md §5; KVKK Art. 7 and 11(1)(e-f), GDPR Art. 17, 19).

A request row in ``privacy_requests`` carries the last completed step, so an interrupted
erasure resumes where it stopped and a re-run of a finished one changes nothing:

1. ``removals_queued``  destination-format match keys for every destination the person is
   synced to go to ``removal_queue`` (cdp.sync sends the removals);
2. ``suppressed``       the person's identifier pseudonyms go to ``suppressions``;
3. ``deleted``          every row holding the customer id is hard-deleted (traits, events,
   identities, memberships, scores, vault, sync state ...); consent proof is kept but
   unlinked; audit entries naming the customer are re-targeted to the request;
4. ``key_destroyed``    the customer's data key is destroyed (vault copies in backups become
   unreadable: destruction, not anonymization);
5. ``done``             CHECKPOINT, destruction record, audit entry (request id only).

Each step and its step mark commit in one store transaction; step 4 touches the key store
and is idempotent. The caller compacts the store file afterwards (see cdp.compliance).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cdp.errors import NotFoundError
from privacy import audit

__all__ = ["STEPS", "ErasureResult", "InjectedCrash", "match_keys", "new_request_id", "open_request", "run_erasure"]

STEPS = ("recorded", "removals_queued", "suppressed", "deleted", "key_destroyed", "done")

# tables whose customer-linked rows are handled explicitly rather than deleted
_SPECIAL = {"consent_events", "privacy_requests", "audit_log", "removal_queue"}


class InjectedCrash(RuntimeError):
    """Raised by the test hook ``crash_after`` to simulate a crash between steps."""


@dataclass(frozen=True)
class ErasureResult:
    request_id: str
    status: str
    steps_run: list[str]
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "status": self.status, "steps_run": self.steps_run,
                "counts": self.counts}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_request_id(con: Any, kind: str, now: datetime) -> str:
    prefix = ("ER" if kind == "erasure" else "AR") + now.strftime("-%Y%m%d-")
    n = con.execute("SELECT count(*) FROM privacy_requests WHERE request_id LIKE ?", [prefix + "%"]).fetchone()[0]
    return f"{prefix}{int(n) + 1:04d}"


def open_request(
    con: Any,
    customer_id: str,
    *,
    subject_kind: str,
    reason: str | None = None,
    kind: str = "erasure",
    due_days: int = 30,
    now: datetime | None = None,
) -> str:
    """Record an erasure/access request (KVKK Art. 13: answer within 30 days); an open
    erasure request for the same person is reused, so a re-run resumes it."""
    now = now or _now()
    if kind == "erasure":
        row = con.execute(
            "SELECT request_id FROM privacy_requests WHERE kind = 'erasure' AND subject = ? AND status = 'open'",
            [customer_id],
        ).fetchone()
        if row:
            return str(row[0])
    rid = new_request_id(con, kind, now)
    con.execute(
        "INSERT INTO privacy_requests (request_id, kind, subject, subject_kind, reason, status, step, received_at,"
        " due_at, details) VALUES (?, ?, ?, ?, ?, 'open', 0, ?, ?, '{}')",
        [rid, kind, customer_id, subject_kind, reason, now, now + timedelta(days=due_days)],
    )
    audit.record(con, f"privacy.{kind}_request", target=rid,
                 details={"subject_kind": subject_kind, "due_at": (now + timedelta(days=due_days)).isoformat()})
    return rid


def match_keys(contact: dict[str, str]) -> dict[str, str]:
    """Destination-format match keys of decrypted contact points (hashes only):
    ``email_sha256`` (Meta, Google, webhooks), ``email_md5`` (Mailchimp member key),
    ``phone_sha256`` (E.164 with ``+``: Google), ``phone_digits_sha256`` (Meta)."""
    from privacy.normalize import normalize_email, normalize_phone

    out: dict[str, str] = {}
    email = normalize_email(contact["email"]) if contact.get("email") else None
    if email:
        out["email_sha256"] = hashlib.sha256(email.encode()).hexdigest()
        out["email_md5"] = hashlib.md5(email.encode()).hexdigest()
    phone = normalize_phone(contact["phone"]) if contact.get("phone") else None
    if phone:
        out["phone_sha256"] = hashlib.sha256(phone.encode()).hexdigest()
        out["phone_digits_sha256"] = hashlib.sha256(phone.lstrip("+").encode()).hexdigest()
    return out


def _customer_tables(con: Any) -> list[tuple[str, str]]:
    """(table, column) of every base table with a customer-id column, ours and other areas'."""
    rows = con.execute(
        """
        SELECT c.table_name, c.column_name FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
        WHERE t.table_type = 'BASE TABLE' AND t.table_schema = 'main'
          AND c.column_name IN ('customer_id', 'old_id', 'new_id')
        ORDER BY c.table_name, c.column_name
        """
    ).fetchall()
    return [(t, c) for t, c in rows if t not in _SPECIAL]


def _step1_queue(con: Any, rid: str, cid: str, vault: Any, now: datetime) -> dict[str, int]:
    targets = con.execute(
        "SELECT DISTINCT destination, sync, platform_key FROM sync_state WHERE customer_id = ?", [cid]
    ).fetchall()
    if not targets:
        return {"removals_queued": 0}
    contact = vault.get(cid) if vault is not None else {}
    keys = json.dumps(match_keys(contact), sort_keys=True)
    for dest, sync, pkey in targets:
        con.execute(
            "INSERT INTO removal_queue (request_id, destination, sync, platform_key, match_keys, status, queued_at)"
            " VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING",
            [rid, dest, sync, pkey, keys, now],
        )
    return {"removals_queued": len(targets)}


def _step2_suppress(con: Any, cid: str, now: datetime) -> dict[str, int]:
    objected = con.execute(
        "SELECT count(*) FROM objections WHERE customer_id = ? AND scope = 'direct_marketing'", [cid]
    ).fetchone()[0] > 0
    reason = "objection" if objected else "erased"
    rows = con.execute(
        "INSERT INTO suppressions (id_hash, kind, reason, suppressed_at) "
        "SELECT id_hash, kind, ?, ? FROM identities WHERE customer_id = ? ON CONFLICT DO NOTHING RETURNING id_hash",
        [reason, now, cid],
    ).fetchall()
    # pending consents given for these identifiers never attach again
    return {"identifiers_suppressed": len(rows)}


def _step3_delete(con: Any, rid: str, cid: str) -> dict[str, int]:
    from privacy.ledger import unlink

    counts: dict[str, int] = {}
    for table, column in _customer_tables(con):
        n = len(con.execute(f'DELETE FROM "{table}" WHERE "{column}" = ? RETURNING 1', [cid]).fetchall())
        if n:
            counts[table] = counts.get(table, 0) + n
    counts["consent_events_unlinked"] = unlink(con, cid)
    con.execute(
        "UPDATE consent_events SET unlinked_at = now()::TIMESTAMP WHERE unlinked_at IS NULL AND id_hash IN "
        "(SELECT id_hash FROM suppressions) AND customer_id IS NULL"
    )
    con.execute("UPDATE audit_log SET target = ? WHERE target = ?", [f"erasure:{rid}", cid])
    con.execute("UPDATE privacy_requests SET subject = NULL WHERE subject = ? AND request_id <> ?", [cid, rid])
    return counts


def _mark(con: Any, rid: str, step: int, counts: dict[str, int]) -> None:
    row = con.execute("SELECT details FROM privacy_requests WHERE request_id = ?", [rid]).fetchone()
    details = json.loads(row[0] or "{}") if row else {}
    details.update(counts)
    con.execute("UPDATE privacy_requests SET step = ?, details = ? WHERE request_id = ?",
                [step, json.dumps(details, sort_keys=True), rid])


def _in_tx(con: Any, fn: Any) -> Any:
    con.execute("BEGIN TRANSACTION")
    try:
        out = fn()
        con.execute("COMMIT")
        return out
    except BaseException:
        con.execute("ROLLBACK")
        raise


def run_erasure(con: Any, keystore: Any, request_id: str, *, vault: Any = None,
                crash_after: int | None = None) -> ErasureResult:
    """Run (or resume) the erasure job ``request_id``; ``crash_after`` is a test hook that
    raises :class:`InjectedCrash` right after that step commits."""
    row = con.execute(
        "SELECT subject, step, status FROM privacy_requests WHERE request_id = ? AND kind = 'erasure'", [request_id]
    ).fetchone()
    if row is None:
        raise NotFoundError("erasure request", request_id)
    cid, step, status = row[0], int(row[1]), row[2]
    ran: list[str] = []
    if status == "done":
        return ErasureResult(request_id, "done", ran, {})
    now = _now()

    def crash(n: int) -> None:
        if crash_after == n:
            raise InjectedCrash(f"injected crash after step {n}")

    if step < 1:
        _in_tx(con, lambda: _mark(con, request_id, 1, _step1_queue(con, request_id, cid, vault, now)))
        ran.append(STEPS[1])
        crash(1)
    if step < 2:
        _in_tx(con, lambda: _mark(con, request_id, 2, _step2_suppress(con, cid, now)))
        ran.append(STEPS[2])
        crash(2)
    if step < 3:
        _in_tx(con, lambda: _mark(con, request_id, 3, _step3_delete(con, request_id, cid)))
        ran.append(STEPS[3])
        crash(3)
    if step < 4:
        destroyed = bool(keystore.destroy_data_key(cid)) if keystore is not None else False
        _in_tx(con, lambda: _mark(con, request_id, 4, {"data_key_destroyed": int(destroyed)} if destroyed else {}))
        ran.append(STEPS[4])
        crash(4)

    def finish() -> dict[str, int]:
        details = json.loads(
            con.execute("SELECT details FROM privacy_requests WHERE request_id = ?", [request_id]).fetchone()[0] or "{}"
        )
        rows = sum(v for k, v in details.items() if k not in ("removals_queued", "identifiers_suppressed",
                                                                "consent_events_unlinked", "data_key_destroyed"))
        con.execute(
            "INSERT INTO destruction_records (record_id, run_id, data_kind, method, rows, cutoff, ran_at, details) "
            "VALUES (nextval('destruction_seq'), ?, 'erasure', 'deleted', ?, NULL, ?, ?)",
            [request_id, rows, now, json.dumps({"data_key": "destroyed" if details.get("data_key_destroyed")
                                                 else "none", "consent_proof": "unlinked"})],
        )
        con.execute(
            "UPDATE privacy_requests SET step = 5, status = 'done', subject = NULL, completed_at = ? "
            "WHERE request_id = ?",
            [now, request_id],
        )
        audit.record(con, "privacy.erasure", target=request_id, details=details)
        return details

    counts = _in_tx(con, finish)
    con.execute("CHECKPOINT")
    ran.append(STEPS[5])
    return ErasureResult(request_id, "done", ran, {k: int(v) for k, v in counts.items()})
