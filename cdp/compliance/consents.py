"""`cdp consent` behind the scenes: import, grant/withdraw, object, show, export."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from cdp.compliance.subjects import Subject, resolve_subject
from cdp.errors import PrivacyError, RejectedRowsError

__all__ = ["change", "export", "import_file", "object_to", "show"]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _detect(path: Path) -> str:
    head = path.read_text(encoding="utf-8-sig")[:4096].lower()
    return "iys" if ("recipient" in head and "consentdate" in head) else "csv"


def _earlier_grants(con: Any, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], datetime]:
    """Earliest granted effective_at per (id_hash, purpose, channel) already in the ledger."""
    if not keys:
        return {}
    tbl = pa.table({"id_hash": [k[0] for k in keys], "purpose": [k[1] for k in keys], "channel": [k[2] for k in keys]})
    con.register("_grant_keys", tbl)
    try:
        rows = con.execute(
            "SELECT e.id_hash, e.purpose, e.channel, min(e.effective_at) FROM consent_events e "
            "JOIN _grant_keys k ON e.id_hash = k.id_hash AND e.purpose = k.purpose AND e.channel = k.channel "
            "WHERE e.status = 'granted' GROUP BY ALL"
        ).fetchall()
    finally:
        con.unregister("_grant_keys")
    return {(r[0], r[1], r[2]): r[3] for r in rows}


def import_file(svc: Any, path: Path, fmt: str = "auto", *, strict: bool = False) -> dict[str, Any]:
    """Import an İYS export or our own consent CSV into the ledger (idempotent)."""
    from privacy import audit
    from privacy.iys import read_consent_csv, read_iys
    from privacy.ledger import ConsentInput, append
    from privacy.pseudonym import Pseudonymizer

    if not path.exists():
        raise PrivacyError(f"{path}: file not found")
    fmt = _detect(path) if fmt == "auto" else fmt
    if fmt not in ("iys", "csv"):
        raise PrivacyError(f"unknown consent format '{fmt}'", hint="use --format iys or --format csv")
    records, rejects = (read_iys if fmt == "iys" else read_consent_csv)(path)
    if strict and rejects:
        first = rejects[0]
        raise RejectedRowsError(len(rejects), first=f"{path.name}:{first.line} field '{first.field}': {first.reason}")
    with svc.keystore() as ks, svc.ws.store() as con:
        pz = Pseudonymizer.from_keystore(ks)
        hashed: list[tuple[Any, str | None]] = []
        for rec in records:
            h = None
            if rec.identifier is not None:
                h = pz.hash_identifier(rec.identifier_kind or "email", rec.identifier)
                if h is None:
                    from privacy.iys import RejectedRow

                    rejects.append(RejectedRow(rec.line, "recipient" if fmt == "iys" else rec.identifier_kind or "",
                                               "not a valid identifier"))
                    continue
            hashed.append((rec, h))
        suppressed = {
            r[0] for r in con.execute("SELECT id_hash FROM suppressions").fetchall()
        } if hashed else set()
        # RET after an ONAY is a withdrawal (PRIVACY.md §3): earlier grants in the ledger or the file
        grants = _earlier_grants(con, list({(h, r.purpose, r.channel) for r, h in hashed if h}))
        for rec, h in hashed:
            if h and rec.status == "granted":
                key = (h, rec.purpose, rec.channel)
                if key not in grants or rec.effective_at < grants[key]:
                    grants[key] = rec.effective_at
        events = []
        skipped_suppressed = 0
        for rec, h in hashed:
            if h is not None and h in suppressed:
                skipped_suppressed += 1
                continue
            status = rec.status
            if fmt == "iys" and status == "refused" and h:
                first_grant = grants.get((h, rec.purpose, rec.channel))
                if first_grant is not None and first_grant < rec.effective_at:
                    status = "withdrawn"
            events.append(ConsentInput(
                purpose=rec.purpose, channel=rec.channel, status=status, effective_at=rec.effective_at,
                customer_id=rec.customer_id, id_hash=h, basis=rec.basis or ("consent" if status == "granted" else None),
                recipient_type=rec.recipient_type, source=rec.source, notice_version=rec.notice_version,
                text_version=rec.text_version, collection_method=rec.collection_method or "import",
                actor=rec.actor, evidence=rec.evidence, iys_transaction_id=rec.iys_transaction_id,
                expires_at=rec.expires_at,
            ))
        res = append(con, events, signing_key=ks.signing_key())
        pending = 0
        if res.first_seq is not None:
            pending = int(con.execute(
                "SELECT count(*) FROM consent_events WHERE seq BETWEEN ? AND ? AND customer_id IS NULL",
                [res.first_seq, res.last_seq]).fetchone()[0])
        out = {
            "file": path.name, "format": fmt, "read": len(records) + len([r for r in rejects]),
            "appended": res.appended, "already_present": res.skipped, "pending": pending,
            "suppressed": skipped_suppressed, "rejected": len(rejects),
            "rejects": [{"line": r.line, "field": r.field, "reason": r.reason} for r in sorted(rejects,
                                                                                             key=lambda r: r.line)],
        }
        audit.record(con, "consent.import", target=path.name,
                     details={k: v for k, v in out.items() if k != "rejects"})
    return out


def change(svc: Any, status: str, subject: Subject, *, purpose: str, channel: str | None, source: str | None,
           notice_version: str | None, text_version: str | None, evidence: str | None,
           recipient_type: str | None, expires_at: datetime | None, at: datetime | None) -> dict[str, Any]:
    """Record a grant or a withdrawal (withdrawing is as easy as granting: GDPR Art. 7(3))."""
    from privacy import audit
    from privacy.ledger import ConsentInput, append
    from privacy.policy import CHANNELS, channel_for
    from privacy.pseudonym import Pseudonymizer

    policy = svc.policy()
    if purpose not in policy.purposes:
        raise PrivacyError(f"unknown purpose '{purpose}'", hint="purposes: " + ", ".join(policy.purposes))
    channel = channel or channel_for(purpose, policy.purposes)
    if channel not in CHANNELS:
        raise PrivacyError(f"unknown channel '{channel}'", hint="channels: " + ", ".join(CHANNELS))
    if recipient_type and recipient_type.upper() not in ("BIREYSEL", "TACIR"):
        raise PrivacyError("recipient type must be BIREYSEL or TACIR")
    when = at or _now()
    with svc.keystore() as ks, svc.ws.store() as con:
        pz = Pseudonymizer.from_keystore(ks)
        cid, id_hash = resolve_subject(con, pz, subject, must_exist=subject.kind == "customer")
        if id_hash is not None and con.execute("SELECT count(*) FROM suppressions WHERE id_hash = ?",
                                               [id_hash]).fetchone()[0] and status == "granted":
            raise PrivacyError(f"the given {subject.kind} is suppressed (erased or objected); a grant is not recorded",
                               hint="a person who was erased must be re-collected through a new source")
        ev = ConsentInput(
            purpose=purpose, channel=channel, status=status, effective_at=when, customer_id=cid, id_hash=id_hash,
            basis="consent" if status == "granted" else None,
            recipient_type=recipient_type.upper() if recipient_type else None, source=source or "cdp_cli",
            notice_version=notice_version, text_version=text_version, collection_method="cli",
            actor=audit.actor(), evidence=evidence, expires_at=expires_at,
        )
        res = append(con, [ev], signing_key=ks.signing_key())
        audit.record(con, f"consent.{status}", target=cid or "pending",
                     details={"purpose": purpose, "channel": channel, "seq": res.last_seq})
    return {"status": status, "purpose": purpose, "channel": channel, "customer_id": cid,
            "pending": cid is None, "seq": res.last_seq, "appended": res.appended, "effective_at": when}


def object_to(svc: Any, subject: Subject, *, scope: str, at: datetime | None, source: str | None) -> dict[str, Any]:
    """Record an objection: do-not-market (GDPR Art. 21(2-3): absolute) or profiling (KVKK Art. 11(1)(g))."""
    from privacy import audit
    from privacy.pseudonym import Pseudonymizer

    if scope not in ("direct_marketing", "profiling"):
        raise PrivacyError("scope must be direct_marketing or profiling")
    when = at or _now()
    with svc.keystore() as ks, svc.ws.store() as con:
        pz = Pseudonymizer.from_keystore(ks)
        cid, id_hash = resolve_subject(con, pz, subject, must_exist=subject.kind == "customer")
        if cid is None:
            # unknown person: the identifier is suppressed so it never enters an audience
            con.execute(
                "INSERT INTO suppressions (id_hash, kind, reason, suppressed_at) VALUES (?, ?, 'objection', ?) "
                "ON CONFLICT DO NOTHING", [id_hash, subject.kind, when])
            audit.record(con, "consent.objection", target="pending", details={"scope": scope, "suppressed": True})
            return {"scope": scope, "customer_id": None, "suppressed": True, "effective_at": when}
        con.execute("INSERT INTO objections (customer_id, scope, effective_at, recorded_at, source) VALUES (?, ?, ?, ?, ?)",
                    [cid, scope, when, _now(), source or "cdp_cli"])
        audit.record(con, "consent.objection", target=cid, details={"scope": scope})
    return {"scope": scope, "customer_id": cid, "suppressed": False, "effective_at": when}


def show(svc: Any, subject: Subject, *, at: datetime | None) -> dict[str, Any]:
    """A person's consent history and current state per purpose × channel."""
    from privacy.ledger import history, state_at
    from privacy.policy import channel_for
    from privacy.pseudonym import Pseudonymizer

    when = at or _now()
    policy = svc.policy()
    with svc.keystore() as ks, svc.ws.store() as con:
        pz = Pseudonymizer.from_keystore(ks)
        cid, id_hash = resolve_subject(con, pz, subject, must_exist=False)
        events = history(con, cid) if cid else []
        if cid is None and id_hash is not None:
            cur = con.execute(
                "SELECT seq, purpose, channel, status, basis, recipient_type, source, effective_at, recorded_at, "
                "expires_at FROM consent_events WHERE id_hash = ? AND customer_id IS NULL ORDER BY effective_at, seq",
                [id_hash])
            names = [d[0] for d in cur.description]
            events = [dict(zip(names, r)) for r in cur.fetchall()]
        if cid is None and not events:
            from cdp.errors import NotFoundError

            raise NotFoundError("customer", f"with the given {subject.kind}", hint="no consent is recorded for it")
        pairs = {(p, channel_for(p, policy.purposes)) for p in policy.purposes}
        pairs |= {(e["purpose"], e["channel"]) for e in events if e["channel"] != "any"}
        states = []
        if cid:
            for purpose, channel in sorted(pairs):
                st = state_at(con, cid, purpose, channel, when)
                states.append({"purpose": purpose, "channel": channel, "status": st.status, "valid": st.valid,
                               "expired": st.expired, "objection": st.objection, "seq": st.seq,
                               "effective_at": st.effective_at})
        objections = [] if not cid else [
            dict(zip(("scope", "effective_at", "source"), r)) for r in con.execute(
                "SELECT scope, effective_at, source FROM objections WHERE customer_id = ? ORDER BY effective_at",
                [cid]).fetchall()]
    return {"customer_id": cid, "pending": cid is None, "at": when, "state": states, "objections": objections,
            "history": events}


def export(svc: Any, out: Path, *, iys: bool) -> dict[str, Any]:
    """Write the consents we collected (not those imported from İYS) for registration in İYS,
    or the whole ledger in our CSV format (pseudonymous) without ``iys``."""
    from privacy import audit
    from privacy.iys import to_iys
    from privacy.vault import Vault

    out.parent.mkdir(parents=True, exist_ok=True)
    with svc.keystore() as ks, svc.ws.store() as con:
        if iys:
            cur = con.execute(
                "SELECT seq, customer_id, channel, status, recipient_type, source, effective_at FROM consent_events "
                "WHERE coalesce(collection_method, '') <> 'iys' AND channel IN ('email', 'sms', 'call') "
                "AND redacted_at IS NULL AND customer_id IS NOT NULL ORDER BY seq")
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
            contact = Vault(con, ks).get_many({r["customer_id"] for r in rows}, ["email", "phone"])
            for r in rows:
                c = contact.get(r["customer_id"], {})
                r["recipient"] = c.get("email") if r["channel"] == "email" else c.get("phone")
            shaped = to_iys(rows)
            exported_seqs = [r["seq"] for r in rows if r.get("recipient")]
            with out.open("w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=["recipient", "recipientType", "type", "source", "status",
                                                   "consentDate"])
                w.writeheader()
                w.writerows(shaped)
            now = _now()
            for seq in exported_seqs:
                con.execute("INSERT INTO iys_exports (seq, exported_at, file) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                            [seq, now, out.name])
            result = {"file": str(out), "format": "iys", "rows": len(shaped),
                      "without_contact": len(rows) - len(exported_seqs)}
        else:
            cur = con.execute(
                "SELECT seq, customer_id, purpose, channel, status, effective_at, expires_at, basis, recipient_type, "
                "source, notice_version, text_version, collection_method, actor, evidence, iys_transaction_id, "
                "recorded_at, redacted_at FROM consent_events ORDER BY seq")
            names = [d[0] for d in cur.description]
            with out.open("w", newline="", encoding="utf-8") as fh:
                plain = csv.writer(fh)
                plain.writerow(names)
                n = 0
                for r in cur.fetchall():
                    plain.writerow(["" if v is None else (v.isoformat() + "Z" if isinstance(v, datetime) else v) for v in r])
                    n += 1
            result = {"file": str(out), "format": "csv", "rows": n}
        audit.record(con, "consent.export", target=out.name, details={k: v for k, v in result.items() if k != "file"})
    return result
