"""`cdp audit report|pack` and the privacy warnings of `cdp status`."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["pack", "report", "transfer_register", "warnings"]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def transfer_register(svc: Any) -> list[dict[str, Any]]:
    """Destinations abroad with their KVKK Art. 9 basis (from config) and runs sent (from the store)."""
    out = []
    for name in svc.ws.config.destinations:
        t = svc.destination_terms(name)
        if not t.abroad:
            continue
        out.append({
            "destination": name, "kind": t.kind, "country": (t.country or "US").upper(),
            "basis": t.transfer.basis if t.transfer else None,
            "signed_at": t.transfer.signed_at if t.transfer else None,
            "notified_at": t.transfer.notified_at if t.transfer else None,
            "missing": t.transfer.missing() if t.transfer else ["transfer record"],
        })
    return out


def report(svc: Any, start: datetime | None, end: datetime | None, html: Path | None) -> dict[str, Any]:
    from privacy import audit
    from privacy.ledger import verify

    end = end or _now() + timedelta(seconds=1)
    start = start or end - timedelta(days=365)
    with svc.keystore() as ks:
        keys = ks.public_keys()
    transfers = transfer_register(svc)
    with svc.ws.store() as con:
        with_runs = con.execute(
            "SELECT destination, count(*) AS runs, max(started_at) AS last_sent FROM sync_runs "
            "WHERE NOT dry_run AND status IN ('ok', 'partial') AND started_at >= ? AND started_at < ? GROUP BY 1",
            [start, end]).fetchall()
        runs = {r[0]: (r[1], r[2]) for r in with_runs}
        for t in transfers:
            t["runs"], t["last_sent"] = runs.get(t["destination"], (0, None))
        ledger = verify(con, keys).to_dict()
        rep = audit.report(con, start, end, ledger=ledger, transfers=transfers)
        audit.record(con, "audit.report", details={"from": start.isoformat(), "to": end.isoformat(),
                                                    "ledger_ok": ledger["ok"]})
    if html is not None:
        Path(html).parent.mkdir(parents=True, exist_ok=True)
        Path(html).write_text(audit.render_html(rep), encoding="utf-8")
        rep["html"] = str(html)
    return rep


def _dump(con: Any, sql: str, path: Path) -> int:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for row in cur.fetchall():
            w.writerow(["" if v is None else v.isoformat() if isinstance(v, datetime) else v for v in row])
            n += 1
    return n


def pack(svc: Any, folder: Path) -> dict[str, Any]:
    """Everything an auditor asks for, in one folder (PRIVACY.md §8)."""
    from privacy import audit

    folder.mkdir(parents=True, exist_ok=True)
    rep = report(svc, None, None, folder / "audit_report.html")
    svc.inventory(folder / "inventory")
    with svc.keystore() as ks:
        keys = ks.public_keys()
    (folder / "public_keys.txt").write_text("\n".join(keys) + "\n", encoding="utf-8")
    files: dict[str, int] = {}
    with svc.ws.store() as con:
        files["consent_ledger.csv"] = _dump(
            con, "SELECT seq, customer_id, id_hash, purpose, channel, status, effective_at, recorded_at, expires_at, "
                 "payload::VARCHAR AS payload, payload_digest, prev_hash, hash, redacted_at FROM consent_events "
                 "ORDER BY seq", folder / "consent_ledger.csv")
        files["consent_checkpoints.csv"] = _dump(
            con, "SELECT seq, hash, signature, public_key, signed_at FROM consent_checkpoints ORDER BY seq, signed_at",
            folder / "consent_checkpoints.csv")
        files["request_register.csv"] = _dump(
            con, "SELECT request_id, kind, status, subject_kind, received_at, due_at, completed_at, "
                 "details::VARCHAR AS details FROM privacy_requests ORDER BY received_at", folder / "request_register.csv")
        files["destruction_records.csv"] = _dump(
            con, "SELECT record_id, run_id, data_kind, method, rows, cutoff, ran_at FROM destruction_records "
                 "ORDER BY record_id", folder / "destruction_records.csv")
        files["sync_runs.csv"] = _dump(con, "SELECT * EXCLUDE (platform_counts) FROM sync_runs ORDER BY run_id",
                                       folder / "sync_runs.csv")
        files["sync_receipts.csv"] = _dump(
            con, "SELECT run_id, batch_no, op, members, status, request_digest, consent_digest, recorded_at, "
                 "confirmed_at FROM sync_receipts ORDER BY run_id, batch_no", folder / "sync_receipts.csv")
        files["removal_queue.csv"] = _dump(
            con, "SELECT request_id, destination, sync, status, queued_at, done_at FROM removal_queue "
                 "ORDER BY queued_at", folder / "removal_queue.csv")
        files["audit_log.csv"] = _dump(
            con, "SELECT seq, logged_at, actor, action, target, details::VARCHAR AS details FROM audit_log "
                 "ORDER BY seq", folder / "audit_log.csv")
        audit.record(con, "audit.pack", target=folder.name, details=files)
    (folder / "transfer_register.json").write_text(
        json.dumps(rep["transfers"], ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    docs = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"
    if docs.exists():
        shutil.copyfile(docs, folder / "README-privacy.md")
    (folder / "MANIFEST.txt").write_text(
        "audit_report.html      consent coverage, syncs, transfers, requests, ledger check, destruction\n"
        "consent_ledger.csv     the ledger with payloads, digests and hashes (re-verify: README-privacy.md)\n"
        "consent_checkpoints.csv + public_keys.txt   signed chain heads and the keys to check them\n"
        "request_register.csv   access and erasure requests with due dates\n"
        "destruction_records.csv  periodic destruction and erasure records\n"
        "transfer_register.json transfers abroad and their KVKK Art. 9 basis\n"
        "sync_runs.csv, sync_receipts.csv  what was sent, with consent justification digests\n"
        "removal_queue.csv      removals owed to destinations after erasure\n"
        "inventory/             record of processing (GDPR Art. 30) / VERBIS inventory\n"
        "audit_log.csv          every privacy-relevant action\n",
        encoding="utf-8")
    return {"folder": str(folder), "files": files, "ledger_ok": rep["ledger"].get("ok")}


def warnings(svc: Any) -> list[str]:
    """Privacy warnings for `cdp status`; counts only."""
    from privacy.businessdays import last_day_older_than
    from privacy.retention import status

    out: list[str] = []
    policy = svc.policy()
    if policy.min_audience_size_ads < 100:
        out.append(f"[privacy] min_audience_size is {policy.min_audience_size_ads}, below the default of 100")
    from privacy.businessdays import business_days_between as _bdays

    for t in transfer_register(svc):
        if t["basis"] == "standard_contract" and t["signed_at"] and t["notified_at"] and \
                _bdays(t["signed_at"], t["notified_at"]) > 5:
            out.append(f"destination '{t['destination']}': the standard contract was notified to the KVKK Board "
                       "more than 5 business days after signing (KVKK Art. 9(4))")
        if t["missing"]:
            out.append(f"destination '{t['destination']}' is abroad ({t['country']}) and its transfer record "
                       f"lacks {', '.join(t['missing'])}: its syncs are refused (KVKK Art. 9)")
    if not svc.ws.store_path.exists():
        return out
    now = _now()
    with svc.ws.store() as con:
        cutoff = last_day_older_than(now, 2)     # on or before it: more than 2 business days old
        late = con.execute(
            "SELECT count(*) FROM consent_events e WHERE coalesce(e.collection_method, '') <> 'iys' "
            "AND e.channel IN ('email', 'sms', 'call') AND e.redacted_at IS NULL "
            "AND least(e.effective_at, e.recorded_at)::DATE <= ? "
            "AND e.seq NOT IN (SELECT seq FROM iys_exports)",
            [cutoff],
        ).fetchone()[0]
        if late:
            out.append(f"{late} consent(s) we collected are not registered in İYS after 2 business days "
                       "(deadline 3): run `cdp consent export --iys` and upload the file")
        st = status(con, policy, now=now)
        first = con.execute("SELECT min(started_at) FROM ingest_runs").fetchone()[0]
        young = first is None or first > now - timedelta(days=30 * policy.periodic_destruction_months)
        if st["overdue"] and not (st["last_run"] is None and young):
            last = st["last_run"].date().isoformat() if st["last_run"] else "never"
            out.append(f"periodic destruction is overdue (last run: {last}; interval "
                       f"{st['interval_months']} months): run `cdp privacy retention run`")
        overdue, soon = con.execute(
            "SELECT count(*) FILTER (WHERE due_at < ?), count(*) FILTER (WHERE due_at >= ? AND due_at < ?) "
            "FROM privacy_requests WHERE status = 'open'", [now, now, now + timedelta(days=7)]).fetchone()
        if overdue:
            out.append(f"{overdue} privacy request(s) are past their due date: `cdp privacy requests`")
        if soon:
            out.append(f"{soon} privacy request(s) are due within 7 days: `cdp privacy requests`")
        pending = con.execute("SELECT count(*) FROM removal_queue WHERE status = 'pending'").fetchone()[0]
        if pending:
            out.append(f"{pending} removal(s) after erasure are waiting to be sent to destinations (`cdp sync run`)")
    return out
