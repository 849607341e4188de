"""Erasure and access requests of a workspace, and compaction of the store files.

DuckDB keeps deleted rows in free blocks of the file after a CHECKPOINT (measured with
DuckDB 1.5), so after an erasure the store (and the key store, whose destroyed data key
must not linger either) is rewritten with ``COPY FROM DATABASE`` into a fresh file that
atomically replaces the old one (docs/privacy.md, "Erasure").
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb

from cdp.compliance.subjects import Subject, resolve_subject
from cdp.errors import NotFoundError, StoreError

__all__ = ["compact_file", "compact_files", "dsar", "forget", "resume_all"]


def compact_file(path: Path) -> bool:
    """Rewrite a DuckDB file so rows deleted earlier leave no bytes behind; True when done."""
    from cdp.store import connect

    path = Path(path)
    if not path.exists():
        return False
    tmp = path.with_name(path.name + ".compact")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        if leftover.exists():
            leftover.unlink()
    con = connect(path)
    try:
        con.execute("CHECKPOINT")
        name = con.execute("SELECT current_database()").fetchone()[0]
        quoted = str(tmp).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS cdp_compact")  # our own path (ATTACH takes no parameters)
        try:
            con.execute(f'COPY FROM DATABASE "{name}" TO cdp_compact')
        finally:
            con.execute("DETACH cdp_compact")
    except duckdb.Error as exc:
        raise StoreError(f"could not compact {path.name}: {exc}") from exc
    finally:
        con.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.unlink()
    return True


def compact_files(svc: Any) -> dict[str, bool]:
    """Compact the store and the key store, then mark finished erasures as compacted."""
    done = {"store": compact_file(svc.ws.store_path), "keys": compact_file(svc.ws.keys_path)}
    with svc.ws.store() as con:
        con.execute(
            "UPDATE privacy_requests SET details = json_merge_patch(coalesce(details, '{}'), '{\"compacted\": true}') "
            "WHERE kind = 'erasure' AND status = 'done' "
            "AND coalesce(json_extract(details, '$.compacted')::VARCHAR, 'false') <> 'true'"
        )
    return done


def _needs_compaction(svc: Any) -> bool:
    with svc.ws.store() as con:
        return bool(con.execute(
            "SELECT count(*) FROM privacy_requests WHERE kind = 'erasure' AND status = 'done' "
            "AND coalesce(json_extract(details, '$.compacted')::VARCHAR, 'false') <> 'true'"
        ).fetchone()[0])


def _run(svc: Any, rid: str, crash_after: int | None) -> Any:
    from privacy.erasure import run_erasure
    from privacy.vault import Vault

    with svc.keystore() as ks, svc.ws.store() as con:
        return run_erasure(con, ks, rid, vault=Vault(con, ks), crash_after=crash_after)


def forget(svc: Any, subject: Subject, *, reason: str | None, compact: bool = True,
           crash_after: int | None = None) -> dict[str, Any]:
    """Erase one person (PRIVACY.md §5): record the request, run or resume the job, compact."""
    from privacy.erasure import open_request
    from privacy.pseudonym import Pseudonymizer

    with svc.keystore() as ks, svc.ws.store() as con:
        pz = Pseudonymizer.from_keystore(ks)
        try:
            cid, id_hash = resolve_subject(con, pz, subject)
        except NotFoundError:
            cid = None
            id_hash = None if subject.kind == "customer" else pz.hash_identifier(
                subject.kind, subject.email or subject.phone or "")
        if cid is None:
            suppressed = id_hash is not None and bool(con.execute(
                "SELECT count(*) FROM suppressions WHERE id_hash = ?", [id_hash]).fetchone()[0])
            interrupted = bool(con.execute(
                "SELECT count(*) FROM privacy_requests WHERE kind = 'erasure' AND status = 'open' "
                "AND (subject = ? OR ?)", [subject.customer, suppressed]).fetchone()[0])
            if not suppressed and not interrupted:
                raise NotFoundError("customer", f"with the given {subject.kind}",
                                    hint="nothing is held on this identifier")
            rid = None
        else:
            rid = open_request(con, cid, subject_kind=subject.kind, reason=reason,
                               due_days=svc.policy().request_due_days)
    if rid is None:
        # erased already, or interrupted after its identifiers were deleted: finish what is open
        resumed = resume_all(svc, compact=compact)
        if resumed:
            return {**resumed[-1], "resumed": len(resumed)}
        return {"request_id": None, "status": "already_erased", "steps_run": [], "counts": {}}
    res = _run(svc, rid, crash_after)
    out = res.to_dict()
    if compact:
        out["compacted"] = compact_files(svc)
    return out


def resume_all(svc: Any, *, compact: bool = True) -> list[dict[str, Any]]:
    """Finish every interrupted erasure (open erasure requests)."""
    with svc.ws.store() as con:
        ids = [r[0] for r in con.execute(
            "SELECT request_id FROM privacy_requests WHERE kind = 'erasure' AND status = 'open' ORDER BY received_at"
        ).fetchall()]
    out = [_run(svc, rid, None).to_dict() for rid in ids]
    if compact and (ids or _needs_compaction(svc)):
        compact_files(svc)
    return out


def dsar(svc: Any, subject: Subject, *, out: Path | None) -> dict[str, Any]:
    """Access request (KVKK Art. 11, GDPR Art. 15): JSON + HTML of everything held on the person."""
    from privacy import audit
    from privacy.dsar import collect, render_html, to_json
    from privacy.erasure import open_request
    from privacy.pseudonym import Pseudonymizer
    from privacy.vault import Vault

    with svc.keystore() as ks, svc.ws.store() as con:
        pz = Pseudonymizer.from_keystore(ks)
        cid, _ = resolve_subject(con, pz, subject)
        assert cid is not None  # resolve_subject raises NotFoundError otherwise
        rid = open_request(con, cid, subject_kind=subject.kind, kind="access", due_days=svc.policy().request_due_days)
        data = collect(con, cid, Vault(con, ks))
        data["request_id"] = rid
        folder = Path(out) if out else svc.ws.reports_dir / "dsar" / rid
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{rid}.json").write_text(to_json(data), encoding="utf-8")
        (folder / f"{rid}.html").write_text(render_html(data), encoding="utf-8")
        counts = {"events": len(data["events"]), "consents": len(data["consents"]),
                  "segments": len(data["segments"]), "destinations": len(data["destinations"])}
        con.execute(
            "UPDATE privacy_requests SET status = 'done', completed_at = now()::TIMESTAMP, details = ? "
            "WHERE request_id = ?", [json.dumps(counts), rid])
        audit.record(con, "privacy.access", target=rid, details=counts)
    return {"request_id": rid, "json": str(folder / f"{rid}.json"), "html": str(folder / f"{rid}.html"), **counts}
