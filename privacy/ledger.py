"""The consent ledger: append-only, hash-chained, with Ed25519-signed checkpoints (PRIVACY.md §3).

Format (what an auditor re-verifies, docs/privacy.md):

* ``payload`` is the canonical JSON of the event: the keys of :data:`PAYLOAD_FIELDS`,
  sorted, no whitespace, UTF-8, timestamps ISO-8601 UTC (``2026-01-31T09:30:00Z``);
* ``payload_digest = SHA-256(payload)``; ``hash = SHA-256(prev_hash || payload_digest)``
  over raw bytes, with 32 zero bytes before the first event; hex in storage;
* every append ends with a checkpoint: Ed25519 signature over ``"{seq}:{hash}"`` of the head.

An event given by identifier pseudonym (``id_hash``) keeps ``customer_id`` null in its
payload: the ``customer_id`` column is a link that :func:`attach_pending` fills when the
identifier first appears, and that erasure clears. Redaction nulls the payload and keeps
the digest, so the chain still verifies and the redaction is visible.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cdp.errors import ConsentLedgerError, PrivacyError

__all__ = [
    "PAYLOAD_FIELDS",
    "STATUSES",
    "AppendResult",
    "ConsentInput",
    "ConsentState",
    "VerifyResult",
    "append",
    "attach_known",
    "attach_pending",
    "canonical_payload",
    "history",
    "redact",
    "state_at",
    "unlink",
    "utc_iso",
    "verify",
    "verify_or_raise",
]

STATUSES = ("granted", "withdrawn", "refused")
_CHANNELS = ("email", "sms", "call", "ads", "any")
_ZERO = bytes(32)


@dataclass(frozen=True)
class ConsentInput:
    """One consent event to record. ``id_hash`` alone means pending (recipient not yet known)."""

    purpose: str
    channel: str
    status: str                                  # granted | withdrawn | refused
    effective_at: datetime                       # naive UTC
    customer_id: str | None = None
    id_hash: str | None = None
    basis: str | None = None
    recipient_type: str | None = None
    source: str | None = None
    notice_version: str | None = None
    text_version: str | None = None
    collection_method: str | None = None
    actor: str | None = None
    evidence: str | None = None
    iys_transaction_id: str | None = None
    expires_at: datetime | None = None


PAYLOAD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ConsentInput))
_TS_FIELDS = ("effective_at", "expires_at")


@dataclass(frozen=True)
class AppendResult:
    appended: int
    skipped: int
    first_seq: int | None
    last_seq: int | None


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`; ``first_bad_seq`` is None when the ledger verifies."""

    ok: bool
    entries: int
    checkpoints: int
    redacted: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ConsentState:
    """The state of (customer, purpose, channel) at a time: the latest event effective by then."""

    customer_id: str
    purpose: str
    channel: str
    at: datetime
    status: str | None              # None: no event yet
    seq: int | None
    basis: str | None
    recipient_type: str | None
    effective_at: datetime | None
    expires_at: datetime | None
    objection: bool                  # a do-not-market objection effective at `at`

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and not (self.at < self.expires_at)

    @property
    def valid(self) -> bool:
        """True exactly when the DSL's `consented to` is true (DSL.md §Conditions)."""
        return (self.status == "granted" and self.basis != "opt_out" and not self.expired
                and not self.objection)


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def utc_iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC as the payload writes it: ``datetime.isoformat()`` of the naive UTC time + ``Z``."""
    if value is None:
        return None
    return _naive_utc(value).isoformat() + "Z"


_SORTED_FIELDS = tuple(sorted(PAYLOAD_FIELDS))
_KEY_PREFIX = {name: json.dumps(name) + ":" for name in _SORTED_FIELDS}
_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for strings


def canonical_payload(event: ConsentInput) -> str:
    """The canonical JSON text of an event (sorted keys, no whitespace, UTF-8): byte for byte
    ``json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``,
    written out directly because a million-row import spends its time here."""
    parts = []
    for name in _SORTED_FIELDS:
        value = getattr(event, name)
        if name in _TS_FIELDS:
            value = utc_iso(value)
        elif name == "customer_id" and event.id_hash is not None:
            value = None  # the link is resolved through identities, not part of the proof
        if value is None:
            parts.append(_KEY_PREFIX[name] + "null")
        elif isinstance(value, str):
            parts.append(_KEY_PREFIX[name] + _encode_str(value))
        else:
            parts.append(_KEY_PREFIX[name] + json.dumps(value, ensure_ascii=False))
    return "{" + ",".join(parts) + "}"


def _check(event: ConsentInput, index: int) -> None:
    where = f"consent event {index + 1}"
    if event.status not in STATUSES:
        raise PrivacyError(f"{where}: field 'status' must be one of {', '.join(STATUSES)}")
    if event.channel not in _CHANNELS:
        raise PrivacyError(f"{where}: field 'channel' must be one of {', '.join(_CHANNELS)}")
    if not event.purpose:
        raise PrivacyError(f"{where}: field 'purpose' is empty")
    if event.customer_id is None and event.id_hash is None:
        raise PrivacyError(f"{where}: needs a customer_id or an id_hash")
    if not isinstance(event.effective_at, datetime):
        raise PrivacyError(f"{where}: field 'effective_at' must be a datetime")


def _begin(con: Any) -> bool:
    # inside an explicit transaction txid_current() is stable; a failed BEGIN would abort
    # the caller's transaction in DuckDB, so look before starting one (ingestion calls in)
    if con.execute("SELECT txid_current()").fetchone()[0] == con.execute("SELECT txid_current()").fetchone()[0]:
        return False
    con.execute("BEGIN TRANSACTION")
    return True


def _head(con: Any) -> tuple[int | None, str | None]:
    row = con.execute("SELECT seq, hash FROM consent_events ORDER BY seq DESC LIMIT 1").fetchone()
    return (None, None) if row is None else (int(row[0]), str(row[1]))


def _sign(key: Any, seq: int, hash_hex: str) -> tuple[str, str]:
    if isinstance(key, (bytes, bytearray)):
        key = Ed25519PrivateKey.from_private_bytes(bytes(key))
    sig = key.sign(f"{seq}:{hash_hex}".encode())
    return sig.hex(), key.public_key().public_bytes_raw().hex()


def _checkpoint(con: Any, signing_key: Any) -> None:
    seq, hash_hex = _head(con)
    if seq is None or hash_hex is None:
        return
    sig, pub = _sign(signing_key, seq, hash_hex)
    con.execute(
        "INSERT INTO consent_checkpoints (seq, hash, signature, public_key, signed_at) VALUES (?, ?, ?, ?, ?)",
        [seq, hash_hex, sig, pub, datetime.now(UTC).replace(tzinfo=None)],
    )


def append(con: Any, events: Iterable[ConsentInput], *, signing_key: Any) -> AppendResult:
    """Append events to the ledger, skipping any whose payload equals one already stored.

    Idempotent (a re-import adds nothing), one transaction, ends with a signed checkpoint.
    """
    payloads: list[str] = []
    digests: list[str] = []
    kept: list[ConsentInput] = []
    seen: set[str] = set()
    total = 0
    for i, ev in enumerate(events):
        total += 1
        _check(ev, i)
        text = canonical_payload(ev)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        payloads.append(text)
        digests.append(digest)
        kept.append(ev)
    own = _begin(con)
    try:
        if digests:
            con.register("_incoming_digests", pa.table({"d": pa.array(digests, pa.string())}))
            try:
                existing = {
                    r[0]
                    for r in con.execute(
                        "SELECT DISTINCT c.payload_digest FROM consent_events c "
                        "JOIN _incoming_digests i ON c.payload_digest = i.d"
                    ).fetchall()
                }
            finally:
                con.unregister("_incoming_digests")
            if existing:
                keep = [j for j, d in enumerate(digests) if d not in existing]
                payloads = [payloads[j] for j in keep]
                digests = [digests[j] for j in keep]
                kept = [kept[j] for j in keep]
        n = len(kept)
        if n == 0:
            if own:
                con.execute("COMMIT")
            return AppendResult(0, total, None, None)
        _, head_hash = _head(con)
        prev = bytes.fromhex(head_hash) if head_hash else _ZERO
        prevs: list[str] = []
        hashes: list[str] = []
        sha = hashlib.sha256
        for d in digests:
            h = sha(prev + bytes.fromhex(d)).digest()
            prevs.append(prev.hex())
            hashes.append(h.hex())
            prev = h
        seqs = sorted(r[0] for r in con.execute("SELECT nextval('consent_seq') FROM range(?)", [n]).fetchall())
        now = datetime.now(UTC).replace(tzinfo=None)
        cols: dict[str, pa.Array] = {"seq": pa.array(seqs, pa.int64())}
        for name in PAYLOAD_FIELDS:
            values = [getattr(e, name) for e in kept]
            if name in _TS_FIELDS:
                cols[name] = pa.array([None if v is None else _naive_utc(v) for v in values], pa.timestamp("us"))
            else:
                cols[name] = pa.array(values, pa.string())
        cols["payload"] = pa.array(payloads, pa.string())
        cols["payload_digest"] = pa.array(digests, pa.string())
        cols["prev_hash"] = pa.array(prevs, pa.string())
        cols["hash"] = pa.array(hashes, pa.string())
        con.register("_incoming_consents", pa.table(cols))
        try:
            con.execute(
                """
                INSERT INTO consent_events (seq, customer_id, id_hash, purpose, channel, status, basis,
                    recipient_type, source, notice_version, text_version, collection_method, actor, evidence,
                    iys_transaction_id, effective_at, recorded_at, expires_at, payload, payload_digest,
                    prev_hash, hash, redacted_at)
                SELECT t.seq, coalesce(t.customer_id, i.customer_id), t.id_hash, t.purpose, t.channel, t.status,
                    t.basis, t.recipient_type, t.source, t.notice_version, t.text_version, t.collection_method,
                    t.actor, t.evidence, t.iys_transaction_id, t.effective_at, ?, t.expires_at, t.payload,
                    t.payload_digest, t.prev_hash, t.hash, NULL
                FROM _incoming_consents t LEFT JOIN identities i ON i.id_hash = t.id_hash
                ORDER BY t.seq
                """,
                [now],
            )
        finally:
            con.unregister("_incoming_consents")
        _checkpoint(con, signing_key)
        if own:
            con.execute("COMMIT")
    except BaseException:
        if own:
            con.execute("ROLLBACK")
        raise
    return AppendResult(n, total - n, seqs[0], seqs[-1])


# SQL that finds rows whose queryable columns disagree with their payload.
_COLUMN_DRIFT = """
SELECT min(seq) FROM consent_events
WHERE payload IS NOT NULL AND (
    (customer_id IS NOT NULL AND json_extract_string(payload, '$.customer_id') IS NOT NULL
        AND json_extract_string(payload, '$.customer_id') <> customer_id)
    OR {text_checks}
    OR effective_at IS DISTINCT FROM replace(json_extract_string(payload, '$.effective_at'), 'Z', '')::TIMESTAMP
    OR expires_at IS DISTINCT FROM replace(json_extract_string(payload, '$.expires_at'), 'Z', '')::TIMESTAMP)
"""


def verify(con: Any, public_keys: list[str]) -> VerifyResult:
    """Recompute digests and the chain, check every checkpoint; name the first bad seq."""
    trusted = {k.hex() if isinstance(k, (bytes, bytearray)) else str(k).lower() for k in public_keys}
    tbl = con.execute(
        "SELECT seq, payload::VARCHAR, payload_digest, prev_hash, hash, redacted_at IS NOT NULL "
        "FROM consent_events ORDER BY seq"
    ).to_arrow_table()
    seqs = tbl.column(0).to_pylist()
    payloads = tbl.column(1).to_pylist()
    digests = tbl.column(2).to_pylist()
    prevs = tbl.column(3).to_pylist()
    hashes = tbl.column(4).to_pylist()
    redacted = tbl.column(5).to_pylist()
    problems: list[tuple[int, str]] = []
    prev = _ZERO
    hash_at: dict[int, str] = {}
    sha = hashlib.sha256
    for seq, payload, digest, prev_hex, hash_hex, red in zip(seqs, payloads, digests, prevs, hashes, redacted):
        if payload is None and not red:
            problems.append((seq, "payload missing without a redaction mark"))
            break
        if payload is not None and sha(payload.encode("utf-8")).hexdigest() != digest:
            problems.append((seq, "payload does not match its digest"))
            break
        if prev_hex != prev.hex():
            problems.append((seq, "prev_hash does not link to the previous event (row changed, deleted or moved)"))
            break
        try:
            h = sha(prev + bytes.fromhex(digest)).digest()
        except (ValueError, TypeError):
            problems.append((seq, "digest is not hex"))
            break
        if h.hex() != hash_hex:
            problems.append((seq, "hash does not match SHA-256(prev_hash || payload_digest)"))
            break
        hash_at[seq] = hash_hex
        prev = h
    text_checks = " OR ".join(
        f"{name} IS DISTINCT FROM json_extract_string(payload, '$.{name}')"
        for name in PAYLOAD_FIELDS
        if name not in _TS_FIELDS and name != "customer_id"
    )
    drift = con.execute(_COLUMN_DRIFT.format(text_checks=text_checks)).fetchone()[0]
    if drift is not None:
        problems.append((int(drift), "a column differs from the signed payload"))
    cps = con.execute(
        "SELECT seq, hash, signature, public_key FROM consent_checkpoints ORDER BY seq, signed_at"
    ).fetchall()
    last_cp: int | None = None
    for cp_seq, cp_hash, sig, pub in cps:
        cp_seq = int(cp_seq)
        last_cp = cp_seq if last_cp is None else max(last_cp, cp_seq)
        if str(pub).lower() not in trusted:
            problems.append((cp_seq, "checkpoint signed by a key not in the key store"))
            continue
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub)).verify(
                bytes.fromhex(sig), f"{cp_seq}:{cp_hash}".encode()
            )
        except (InvalidSignature, ValueError):
            problems.append((cp_seq, "checkpoint signature is invalid"))
            continue
        if not problems or cp_seq < min(p[0] for p in problems):
            if cp_seq not in hash_at and cp_seq not in seqs:
                problems.append((cp_seq, "checkpointed event is missing (ledger truncated or row deleted)"))
            elif cp_seq in hash_at and hash_at[cp_seq] != cp_hash:
                problems.append((cp_seq, "chain head differs from the signed checkpoint"))
    if seqs and (last_cp is None or last_cp < seqs[-1]):
        after = [s for s in seqs if last_cp is None or s > last_cp]
        problems.append((after[0], "events after the last signed checkpoint"))
    head_seq = seqs[-1] if seqs else None
    head_hash = hashes[-1] if hashes else None
    if problems:
        seq, problem = min(problems, key=lambda p: p[0])
        return VerifyResult(False, len(seqs), len(cps), sum(redacted), head_seq, head_hash, seq, problem)
    return VerifyResult(True, len(seqs), len(cps), sum(redacted), head_seq, head_hash)


def verify_or_raise(con: Any, public_keys: list[str]) -> VerifyResult:
    """:func:`verify`, raising :class:`ConsentLedgerError` naming the first bad seq."""
    res = verify(con, public_keys)
    if not res.ok:
        raise ConsentLedgerError(res.problem or "does not verify", seq=res.first_bad_seq)
    return res


def state_at(
    con: Any, customer_id: str, purpose: str, channel: str | None = None, at: datetime | None = None
) -> ConsentState:
    """The reference semantics of `consented to`: the latest event on the channel or on ``any``
    with effective_at <= ``at`` (ties: the later seq), plus do-not-market objections."""
    from privacy.policy import channel_for

    channel = channel or channel_for(purpose)
    at = _naive_utc(at or datetime.now(UTC))
    row = con.execute(
        """
        SELECT seq, status, basis, recipient_type, effective_at, expires_at FROM consent_events
        WHERE customer_id = ? AND purpose = ? AND channel IN (?, 'any') AND effective_at <= ?
        ORDER BY effective_at DESC, seq DESC LIMIT 1
        """,
        [customer_id, purpose, channel, at],
    ).fetchone()
    objection = con.execute(
        "SELECT count(*) FROM objections WHERE customer_id = ? AND scope = 'direct_marketing' AND effective_at <= ?",
        [customer_id, at],
    ).fetchone()[0] > 0
    if row is None:
        return ConsentState(customer_id, purpose, channel, at, None, None, None, None, None, None, objection)
    return ConsentState(customer_id, purpose, channel, at, row[1], int(row[0]), row[2], row[3], row[4], row[5], objection)


def history(con: Any, customer_id: str) -> list[dict[str, Any]]:
    """Every consent event of a customer, oldest first (no payload, no hashes)."""
    cur = con.execute(
        """
        SELECT seq, purpose, channel, status, basis, recipient_type, source, notice_version, text_version,
               collection_method, actor, evidence, iys_transaction_id, effective_at, recorded_at, expires_at,
               redacted_at
        FROM consent_events WHERE customer_id = ? ORDER BY effective_at, seq
        """,
        [customer_id],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def attach_pending(con: Any, id_hash_to_customer: dict[str, str]) -> int:
    """Link pending consents (recipient unknown when recorded) to the customers now known.

    Ingestion (or ComplianceService after ingest) calls it with the identifiers it has just
    resolved; unlinked (erased) events and suppressed identifiers are never re-linked.
    """
    if not id_hash_to_customer:
        return 0
    tbl = pa.table(
        {
            "id_hash": pa.array(list(id_hash_to_customer), pa.string()),
            "customer_id": pa.array(list(id_hash_to_customer.values()), pa.string()),
        }
    )
    con.register("_attach_map", tbl)
    try:
        rows = con.execute(
            """
            UPDATE consent_events SET customer_id = m.customer_id FROM _attach_map m
            WHERE consent_events.id_hash = m.id_hash AND consent_events.customer_id IS NULL
              AND consent_events.unlinked_at IS NULL AND consent_events.redacted_at IS NULL
              AND m.id_hash NOT IN (SELECT id_hash FROM suppressions)
            RETURNING seq
            """
        ).fetchall()
    finally:
        con.unregister("_attach_map")
    return len(rows)


def attach_known(con: Any) -> int:
    """Link every pending consent whose identifier pseudonym is now in ``identities``."""
    rows = con.execute(
        """
        UPDATE consent_events SET customer_id = i.customer_id FROM identities i
        WHERE consent_events.id_hash = i.id_hash AND consent_events.customer_id IS NULL
          AND consent_events.unlinked_at IS NULL AND consent_events.redacted_at IS NULL
          AND i.id_hash NOT IN (SELECT id_hash FROM suppressions)
        RETURNING seq
        """
    ).fetchall()
    return len(rows)


def unlink(con: Any, customer_id: str) -> int:
    """Erasure step: keep the customer's consent proof but clear the link to the customer."""
    rows = con.execute(
        "UPDATE consent_events SET customer_id = NULL, unlinked_at = now()::TIMESTAMP "
        "WHERE customer_id = ? RETURNING seq",
        [customer_id],
    ).fetchall()
    return len(rows)


def redact(con: Any, before: datetime) -> int:
    """Redact the proof of consents whose use ended before ``before`` (retention, PRIVACY.md §3).

    An event's use ends when a later event supersedes it for the same subject, purpose and
    channel, when it expires, or when it was unlinked by an erasure. The payload and the
    personal columns are nulled; digest, hashes, purpose, channel and status stay.
    """
    rows = con.execute(
        """
        WITH ended AS (
            SELECT seq, least(
                unlinked_at,
                lead(effective_at) OVER (PARTITION BY coalesce(id_hash, customer_id), purpose, channel
                                          ORDER BY effective_at, seq),
                expires_at) AS ended_at
            FROM consent_events WHERE redacted_at IS NULL
        )
        UPDATE consent_events SET payload = NULL, customer_id = NULL, id_hash = NULL, evidence = NULL,
            iys_transaction_id = NULL, actor = NULL, redacted_at = now()::TIMESTAMP
        FROM ended WHERE consent_events.seq = ended.seq AND ended.ended_at IS NOT NULL AND ended.ended_at < ?
        RETURNING consent_events.seq
        """,
        [_naive_utc(before)],
    ).fetchall()
    return len(rows)
