"""The release gate: the only way an audience leaves the platform (PRIVACY.md §4).

:func:`release` turns a segment build into a sealed :class:`ReleasedAudience` for one
destination, purpose and time, counting every excluded member by reason; it refuses the
whole audience (:class:`GateRefusal`) when the transfer abroad has no complete record or
the released audience is below the minimum size. :func:`revoked` tells the sync whom to
remove whatever the mode: anyone who has said no, whenever it takes effect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from cdp.errors import GateRefusal, NotFoundError
from privacy import audit
from privacy.policy import AD_KINDS, MESSAGE_CHANNELS, DestinationTerms, Policy, channel_for
from privacy.released import MEMBER_SCHEMA, ReleasedAudience, _sealed

__all__ = ["REASONS", "justification_digest", "release", "revoked"]

#: exclusion reasons, in the order they are tested (a member counts once, under the first)
REASONS = ("control", "erased", "suppressed", "objection", "withdrawn", "refused", "expired", "no_basis")

_TACIR_SQL = """
tacir AS (
    SELECT customer_id FROM (
        SELECT customer_id, arg_max(recipient_type, effective_at) AS rt FROM consent_events
        WHERE customer_id IS NOT NULL AND recipient_type IS NOT NULL GROUP BY customer_id)
    WHERE rt = 'TACIR'
    UNION
    SELECT customer_id FROM identities WHERE kind IN ('tax_id', 'vkn')
      AND customer_id NOT IN (SELECT customer_id FROM consent_events
                              WHERE customer_id IS NOT NULL AND recipient_type = 'BIREYSEL')
)
"""

_RELEASE_SQL = """
WITH m AS (
    SELECT customer_id, bool_or(control) AS control FROM segment_members WHERE build_id = $build GROUP BY customer_id
),
ev AS (
    SELECT e.customer_id, e.seq, e.status, e.basis, e.effective_at, e.expires_at
    FROM consent_events e WHERE e.customer_id IN (SELECT customer_id FROM m)
      AND e.purpose = $purpose AND e.channel IN ($channel, 'any')
),
at_s AS (
    SELECT * FROM ev WHERE effective_at <= $at
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY effective_at DESC, seq DESC) = 1
),
now_s AS (
    SELECT customer_id, status FROM ev
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY effective_at DESC, seq DESC) = 1
),
obj AS (SELECT DISTINCT customer_id FROM objections WHERE scope = 'direct_marketing'),
sup AS (SELECT DISTINCT i.customer_id FROM identities i JOIN suppressions s ON s.id_hash = i.id_hash),
{tacir},
decided AS (
    SELECT m.customer_id, m.control, at_s.seq,
        CASE
            WHEN $honour_control AND m.control THEN 'control'
            WHEN c.customer_id IS NULL THEN 'erased'
            WHEN sup.customer_id IS NOT NULL THEN 'suppressed'
            WHEN obj.customer_id IS NOT NULL THEN 'objection'
            WHEN now_s.status IN ('withdrawn', 'refused') THEN now_s.status
            WHEN at_s.status IN ('withdrawn', 'refused') THEN at_s.status
            WHEN at_s.status = 'granted' AND coalesce(at_s.basis, '') <> 'opt_out'
                 AND (at_s.expires_at IS NULL OR $at < at_s.expires_at) THEN NULL
            WHEN $opt_out AND tacir.customer_id IS NOT NULL THEN NULL
            WHEN at_s.status = 'granted' AND at_s.expires_at IS NOT NULL AND $at >= at_s.expires_at THEN 'expired'
            ELSE 'no_basis'
        END AS reason,
        CASE
            WHEN at_s.status = 'granted' AND coalesce(at_s.basis, '') <> 'opt_out'
                 AND (at_s.expires_at IS NULL OR $at < at_s.expires_at) THEN 'consent'
            ELSE 'opt_out'
        END AS basis
    FROM m
    LEFT JOIN customers c ON c.customer_id = m.customer_id
    LEFT JOIN sup ON sup.customer_id = m.customer_id
    LEFT JOIN obj ON obj.customer_id = m.customer_id
    LEFT JOIN now_s ON now_s.customer_id = m.customer_id
    LEFT JOIN at_s ON at_s.customer_id = m.customer_id
    LEFT JOIN tacir ON tacir.customer_id = m.customer_id
)
SELECT * FROM decided
"""


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def justification_digest(customer_ids: list[str], consent_seqs: list[int | None]) -> str:
    """SHA-256 over the lines ``customer_id<TAB>consent_seq\\n`` sorted by customer_id
    (an empty seq for the opt-out basis): what a receipt stores to prove every basis."""
    sha = hashlib.sha256()
    for cid, seq in sorted(zip(customer_ids, consent_seqs), key=lambda p: p[0]):
        sha.update(f"{cid}\t{'' if seq is None else seq}\n".encode())
    return sha.hexdigest()


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return _naive_utc(value)
    return datetime(value.year, value.month, value.day)


def _check_transfer(destination: DestinationTerms, at: datetime) -> dict[str, Any]:
    """KVKK Art. 9 (2024): a destination abroad needs a complete transfer record."""
    if not destination.abroad:
        return {"abroad": False}
    rec = destination.transfer
    if rec is None:
        raise GateRefusal(
            f"destination '{destination.name}' is outside Türkiye and has no transfer record",
            reason="no_transfer_record",
            hint=f"add transfer = {{ basis = ..., signed_at = ..., notified_at = ... }} to "
            f"[destinations.{destination.name}] (KVKK Art. 9)",
        )
    missing = rec.missing()
    if missing:
        raise GateRefusal(
            f"the transfer record of destination '{destination.name}' is incomplete: missing {', '.join(missing)}",
            reason="incomplete_transfer_record",
            hint=f"complete [destinations.{destination.name}] transfer (KVKK Art. 9)",
        )
    if rec.signed_at is not None and _as_datetime(rec.signed_at) > at:
        raise GateRefusal(
            f"the transfer record of destination '{destination.name}' is signed after the release time",
            reason="incomplete_transfer_record",
        )
    meta: dict[str, Any] = {"abroad": True, "transfer_basis": rec.basis}
    if rec.basis == "standard_contract" and rec.signed_at is not None and rec.notified_at is not None:
        from privacy.businessdays import business_days_between

        late = business_days_between(_as_datetime(rec.signed_at), _as_datetime(rec.notified_at))
        if late > 5:
            # the contract stands; the late notification is the controller's breach to remedy, not a reason
            # to stop every sync, so it is reported (gate audit entry, inventory, cdp status) rather than refused
            meta["transfer_warning"] = f"the Board was notified {late} business days after signing (limit 5)"
    return meta


def _decide(
    con: Any, build_id: int, destination: DestinationTerms, purpose: str, at: datetime, policy: Policy,
    *, honour_control: bool,
) -> tuple[str, str, dict[str, Any], pa.Table]:
    """(segment, channel, transfer meta, per-member decisions) for a build: the one place the
    release rules live, shared by :func:`release` and :func:`assess`."""
    at = _naive_utc(at)
    row = con.execute("SELECT segment, purposes FROM segment_builds WHERE build_id = ?", [build_id]).fetchone()
    if row is None:
        raise NotFoundError("segment build", str(build_id))
    segment, declared = row[0], list(row[1] or [])
    if purpose not in policy.purposes:
        raise GateRefusal(
            f"unknown purpose '{purpose}'",
            reason="unknown_purpose",
            hint="declare it under [privacy.purposes] in cdp.toml",
        )
    if purpose not in declared:
        raise GateRefusal(
            f"segment '{segment}' does not declare the purpose '{purpose}'"
            + (" (it declares no purpose, so it can never be synced)" if not declared else ""),
            reason="purpose_not_declared",
            hint=f"add `purpose {purpose}` to the segment and rebuild it",
        )
    channel = destination.channel or channel_for(purpose, policy.purposes)
    meta = _check_transfer(destination, at)
    opt_out = bool(policy.tacir_opt_out and channel in MESSAGE_CHANNELS)
    tacir = _TACIR_SQL.strip() if opt_out else "tacir AS (SELECT NULL::VARCHAR AS customer_id WHERE false)"
    tbl = con.execute(
        _RELEASE_SQL.format(tacir=tacir),
        {"build": build_id, "purpose": purpose, "channel": channel, "at": at, "opt_out": opt_out,
         "honour_control": honour_control},
    ).to_arrow_table()
    return segment, channel, meta, tbl


def assess(
    con: Any, build_id: int, destination: DestinationTerms, purpose: str, at: datetime, policy: Policy
) -> pa.Table:
    """Every member of a build with the gate's decision at ``at``, the holdout NOT counted as an
    exclusion: columns ``customer_id``, ``control``, ``reason`` (null = the gate would release
    them), ``seq`` and ``basis``. Campaign measurement filters the control group with exactly
    the rules that filtered the treatment (issue 9); nothing is released by this function.
    """
    _segment, _channel, _meta, tbl = _decide(con, build_id, destination, purpose, _naive_utc(at), policy,
                                             honour_control=False)
    return tbl.select(["customer_id", "control", "reason", "seq", "basis"])


def release(
    con: Any, build_id: int, destination: DestinationTerms, purpose: str, at: datetime, policy: Policy
) -> ReleasedAudience:
    """Release a build's members to ``destination`` for ``purpose`` at ``at`` (naive UTC).

    A member leaves only when not in control, not erased, not suppressed, without a
    do-not-market objection, with no withdrawal or refusal recorded (at any effective time)
    and with a valid basis at ``at``: unexpired granted consent, or the TACIR opt-out
    basis (Law 6563 Art. 6(1)) for email/SMS/call when the policy enables it.
    """
    at = _naive_utc(at)
    segment, channel, meta, tbl = _decide(con, build_id, destination, purpose, at, policy, honour_control=True)
    cids = tbl.column("customer_id").to_pylist()
    seqs = tbl.column("seq").to_pylist()
    reasons = tbl.column("reason").to_pylist()
    bases = tbl.column("basis").to_pylist()
    exclusions: dict[str, int] = {}
    rel_ids: list[str] = []
    rel_seqs: list[int | None] = []
    rel_basis: list[str] = []
    removals: list[str] = []
    for cid, seq, reason, basis in zip(cids, seqs, reasons, bases):
        if reason is None:
            rel_ids.append(cid)
            rel_seqs.append(seq if basis == "consent" else None)
            rel_basis.append(basis)
        else:
            exclusions[reason] = exclusions.get(reason, 0) + 1
            if reason in ("erased", "suppressed", "objection", "withdrawn", "refused"):
                removals.append(cid)
    order = sorted(range(len(rel_ids)), key=rel_ids.__getitem__)
    members = pa.table(
        {
            "customer_id": pa.array([rel_ids[i] for i in order], pa.string()),
            "consent_seq": pa.array([rel_seqs[i] for i in order], pa.int64()),
            "basis": pa.array([rel_basis[i] for i in order], pa.string()),
        },
        schema=MEMBER_SCHEMA,
    )
    min_size = destination.min_audience_size
    if min_size is None and destination.kind in AD_KINDS:
        min_size = policy.min_audience_size_ads
    digest = justification_digest(rel_ids, rel_seqs)
    details = {
        "segment": segment,
        "build_id": build_id,
        "destination": destination.name,
        "purpose": purpose,
        "channel": channel,
        "at": at.isoformat(),
        "released": len(rel_ids),
        "exclusions": exclusions,
        "justification_digest": digest,
        **meta,
    }
    if min_size is not None and len(rel_ids) < min_size:
        exclusions = {**exclusions, "below_min_size": len(rel_ids)}
        audit.record(con, "gate.refused", target=destination.name,
                     details={**details, "exclusions": exclusions, "reason": "below_min_size"})
        err = GateRefusal(
            f"the released audience of '{segment}' for '{destination.name}' has {len(rel_ids)} member(s), "
            f"below the minimum of {min_size}",
            reason="below_min_size",
            hint="small audiences can single people out; widen the segment or wait for more consents",
        )
        err.exclusions = exclusions  # type: ignore[attr-defined]
        raise err
    audit.record(con, "gate.release", target=destination.name, details=details)
    meta.update({"min_audience_size": min_size, "opt_out_members": rel_basis.count("opt_out"),
                 "destination_kind": destination.kind})
    return _sealed(
        segment=segment,
        build_id=build_id,
        destination=destination.name,
        purpose=purpose,
        channel=channel,
        at=at,
        members=members,
        exclusions=exclusions,
        justification_digest=digest,
        removals=pa.table({"customer_id": pa.array(sorted(removals), pa.string())}),
        meta=meta,
    )


def revoked(con: Any, customer_ids: Iterable[str], purpose: str, channel: str | None = None) -> set[str]:
    """Who among ``customer_ids`` must leave a destination now, whatever the sync mode:
    erased, suppressed, objected to direct marketing, or whose latest recorded event for the
    purpose on the channel (or ``any``) is a withdrawal or refusal, whatever its effective time."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return set()
    channel = channel or channel_for(purpose)
    con.register("_revoked_ids", pa.table({"customer_id": pa.array(ids, pa.string())}))
    try:
        rows = con.execute(
            """
            WITH latest AS (
                SELECT customer_id, status FROM consent_events
                WHERE customer_id IN (SELECT customer_id FROM _revoked_ids)
                  AND purpose = ? AND channel IN (?, 'any')
                QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY effective_at DESC, seq DESC) = 1
            )
            SELECT r.customer_id FROM _revoked_ids r
            WHERE r.customer_id NOT IN (SELECT customer_id FROM customers)
               OR r.customer_id IN (SELECT customer_id FROM objections WHERE scope = 'direct_marketing')
               OR r.customer_id IN (SELECT i.customer_id FROM identities i JOIN suppressions s ON s.id_hash = i.id_hash)
               OR r.customer_id IN (SELECT customer_id FROM latest WHERE status IN ('withdrawn', 'refused'))
            """,
            [purpose, channel],
        ).fetchall()
    finally:
        con.unregister("_revoked_ids")
    return {r[0] for r in rows}
