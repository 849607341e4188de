"""ComplianceService (``ws.privacy``): the cdp-side glue of the privacy layer.

It reads cdp.toml, opens the store and the key store, and calls ``privacy/``: consent
ledger commands, the release gate with the workspace's policy, erasure, access requests,
retention, PII scan, inventory, audit report and pack. The CLI calls one method per command.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdp.compliance.subjects import Subject
from cdp.compliance.terms import destination_terms, policy_from_config, source_infos
from cdp.errors import CDPError, NotFoundError, PrivacyError

__all__ = ["ComplianceService"]


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class ComplianceService:
    """Privacy operations of one workspace."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    # -- building blocks -------------------------------------------------------------------
    def policy(self) -> Any:
        """The ``[privacy]`` section as :class:`privacy.policy.Policy`."""
        return policy_from_config(self.ws.config)

    def destination_terms(self, name: str) -> Any:
        """The gate's view of ``[destinations.NAME]`` (:class:`privacy.policy.DestinationTerms`)."""
        dests = self.ws.config.destinations
        if name not in dests:
            import difflib

            close = difflib.get_close_matches(name, list(dests), n=1)
            raise NotFoundError("destination", name, suggestion=close[0] if close else None)
        return destination_terms(name, dests[name])

    @contextmanager
    def keystore(self) -> Iterator[Any]:
        from privacy.keys import KeyStore

        ks = KeyStore.open(self.ws.state_dir)
        try:
            yield ks
        finally:
            ks.close()

    def local_to_utc(self, value: datetime) -> datetime:
        """A naive time typed by a person (workspace time zone) -> naive UTC."""
        if value.tzinfo is None:
            from zoneinfo import ZoneInfo

            value = value.replace(tzinfo=ZoneInfo(self.ws.timezone))
        return value.astimezone(UTC).replace(tzinfo=None)

    # -- the gate (used by cdp.sync) -------------------------------------------------------
    def release(self, con: Any, build_id: int, destination: str, purpose: str, at: datetime | None = None) -> Any:
        """``privacy.gate.release`` with this workspace's policy and destination terms."""
        from privacy.gate import release

        return release(con, build_id, self.destination_terms(destination), purpose, at or _utcnow(), self.policy())

    def after_ingest(self, con: Any, id_hash_to_customer: dict[str, str] | None = None) -> int:
        """Attach pending consents whose identifier is now known (ingestion calls this)."""
        from privacy.ledger import attach_known, attach_pending

        if id_hash_to_customer:
            return attach_pending(con, id_hash_to_customer)
        return attach_known(con)

    # -- consent ledger --------------------------------------------------------------------
    def consent_import(self, path: Path, fmt: str = "auto", *, strict: bool = False) -> dict[str, Any]:
        """Import an İYS export or our consent CSV (idempotent; bad rows rejected with line numbers)."""
        from cdp.compliance.consents import import_file

        return import_file(self, Path(path), fmt, strict=strict)

    def consent_change(self, status: str, *, customer: str | None = None, email: str | None = None,
                       phone: str | None = None, purpose: str, channel: str | None = None,
                       source: str | None = None, notice_version: str | None = None,
                       text_version: str | None = None, evidence: str | None = None,
                       recipient_type: str | None = None, expires_at: datetime | None = None,
                       at: datetime | None = None) -> dict[str, Any]:
        from cdp.compliance.consents import change

        return change(self, status, Subject.of(customer=customer, email=email, phone=phone), purpose=purpose,
                      channel=channel, source=source, notice_version=notice_version, text_version=text_version,
                      evidence=evidence, recipient_type=recipient_type, expires_at=expires_at, at=at)

    def consent_object(self, *, customer: str | None = None, email: str | None = None, phone: str | None = None,
                       scope: str = "direct_marketing", at: datetime | None = None,
                       source: str | None = None) -> dict[str, Any]:
        from cdp.compliance.consents import object_to

        return object_to(self, Subject.of(customer=customer, email=email, phone=phone), scope=scope, at=at,
                         source=source)

    def consent_show(self, *, customer: str | None = None, email: str | None = None, phone: str | None = None,
                     at: datetime | None = None) -> dict[str, Any]:
        from cdp.compliance.consents import show

        return show(self, Subject.of(customer=customer, email=email, phone=phone), at=at)

    def consent_verify(self) -> Any:
        """Recompute the chain and check every checkpoint (``privacy.ledger.verify``)."""
        from privacy.ledger import verify

        with self.keystore() as ks:
            keys = ks.public_keys()
        with self.ws.store() as con:
            res = verify(con, keys)
            from privacy import audit

            audit.record(con, "consent.verify", details={"ok": res.ok, "entries": res.entries,
                                                           "first_bad_seq": res.first_bad_seq})
        return res

    def consent_export(self, out: Path, *, iys: bool = False) -> dict[str, Any]:
        from cdp.compliance.consents import export

        return export(self, Path(out), iys=iys)

    # -- requests ----------------------------------------------------------------------------
    def forget(self, *, customer: str | None = None, email: str | None = None, phone: str | None = None,
               reason: str | None = None, compact: bool = True, crash_after: int | None = None) -> dict[str, Any]:
        from cdp.compliance.requests import forget

        return forget(self, Subject.of(customer=customer, email=email, phone=phone), reason=reason,
                      compact=compact, crash_after=crash_after)

    def resume_erasures(self, *, compact: bool = True) -> list[dict[str, Any]]:
        from cdp.compliance.requests import resume_all

        return resume_all(self, compact=compact)

    def dsar(self, *, customer: str | None = None, email: str | None = None, phone: str | None = None,
             out: Path | None = None) -> dict[str, Any]:
        from cdp.compliance.requests import dsar

        return dsar(self, Subject.of(customer=customer, email=email, phone=phone), out=out)

    def requests(self, *, all_: bool = False) -> list[dict[str, Any]]:
        """The request register: open requests with due dates (all with ``all_``)."""
        with self.ws.store() as con:
            where = "" if all_ else "WHERE status = 'open'"
            cur = con.execute(
                f"SELECT request_id, kind, status, subject_kind, reason, received_at, due_at, completed_at, step "
                f"FROM privacy_requests {where} ORDER BY due_at"
            )
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
        now = _utcnow()
        for r in rows:
            r["overdue"] = r["status"] == "open" and r["due_at"] < now
        return rows

    # -- retention --------------------------------------------------------------------------
    def retention_run(self, *, dry_run: bool = False, now: datetime | None = None) -> dict[str, Any]:
        from privacy.retention import run

        with self.keystore() as ks, self.ws.store() as con:
            res = run(con, self.policy(), now=now, keystore=ks, dry_run=dry_run)
        if not dry_run:
            from cdp.compliance.requests import compact_files

            compact_files(self)
        return res.to_dict()

    def retention_status(self) -> dict[str, Any]:
        from privacy.retention import status

        with self.ws.store() as con:
            return status(con, self.policy())

    # -- scan and inventory -------------------------------------------------------------------
    def scan(self, source: str | None = None, *, store: bool = False) -> list[dict[str, Any]]:
        from cdp.compliance.scanning import scan

        return scan(self, source=source, store=store)

    def inventory(self, out: Path | None = None) -> dict[str, Any]:
        """Record of processing (GDPR Art. 30) / VERBIS inventory (KVKK Art. 16) from cdp.toml."""
        from privacy.inventory import build, render_html, render_markdown

        cfg = self.ws.config
        dests = [self.destination_terms(n) for n in cfg.destinations]
        syncs = [{"destination": s.destination, "purpose": s.purpose, "segment": s.segment}
                 for s in cfg.syncs.values()]
        inv = build(self.policy(), source_infos(cfg), dests, controller=cfg.privacy.controller, syncs=syncs)
        if out is not None:
            out = Path(out)
            out.mkdir(parents=True, exist_ok=True)
            (out / "inventory.md").write_text(render_markdown(inv), encoding="utf-8")
            (out / "inventory.html").write_text(render_html(inv), encoding="utf-8")
            (out / "inventory.json").write_text(json.dumps(inv, ensure_ascii=False, indent=2, default=str),
                                                encoding="utf-8")
        return inv

    # -- keys ------------------------------------------------------------------------------
    def rotate_keys(self) -> dict[str, Any]:
        """Re-wrap every key under a new master key (PRIVACY.md §9).

        With ``.cdp/master.key`` the file is replaced; with ``CDP_MASTER_KEY`` the new key
        is written to ``.cdp/master.key.rotated`` (0600) for the operator to move into the
        environment: it is never printed.
        """
        import base64

        from privacy.keys import generate_master_key

        new = generate_master_key()
        with self.keystore() as ks:
            source = ks.master_source
            n = ks.rotate_master(new)
        written = None
        if source == "env":
            path = self.ws.state_dir / "master.key.rotated"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, base64.b64encode(new) + b"\n")
            finally:
                os.close(fd)
            written = str(path)
        with self.ws.store() as con:
            from privacy import audit

            audit.record(con, "privacy.rotate_keys", details={"keys_rewrapped": n, "master_source": source})
        return {"keys_rewrapped": n, "master_source": source, "new_key_file": written}

    # -- audit ----------------------------------------------------------------------------------
    def audit_report(self, start: datetime | None = None, end: datetime | None = None,
                     html: Path | None = None) -> dict[str, Any]:
        from cdp.compliance.auditing import report

        return report(self, start, end, html)

    def audit_pack(self, folder: Path) -> dict[str, Any]:
        from cdp.compliance.auditing import pack

        return pack(self, Path(folder))

    # -- status -----------------------------------------------------------------------------------
    def status_warnings(self) -> list[str]:
        """Privacy warnings for ``cdp status`` (no identifiers in them)."""
        from cdp.compliance.auditing import warnings

        try:
            return warnings(self)
        except CDPError:
            raise
        except Exception as exc:  # status must not break on a half-migrated store
            raise PrivacyError(f"privacy status could not be computed: {type(exc).__name__}") from exc
