"""Meta Marketing API, Custom Audiences (DESTINATIONS.md, "Meta").

``POST /{version}/{audience_id}/users`` adds and ``DELETE`` on the same path removes,
form-encoded ``payload`` (JSON: multi-key schema ``EMAIL, PHONE, FN, LN, COUNTRY``,
``""`` for unknown) and ``session`` (``session_id`` int64 chosen by us, ``batch_seq``
1..n, ``last_batch_flag``, ``estimated_num_total``). At most 10,000 rows per request.
Throttling is HTTP 400 with error code 17, 613 or 80003: retried like a 429.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar

from cdp.errors import TerminalDestinationError, TransientDestinationError
from connectors.destinations.base import Batch, BatchResult, Contact, HttpDestination
from connectors.destinations.hashing import (
    email_lower,
    letters_only,
    phone_digits,
    sha256_hex,
    turkish_lower,
)

__all__ = ["SCHEMA", "THROTTLE_CODES", "MetaDestination", "normalize_row", "session_id_for"]

SCHEMA = ["EMAIL", "PHONE", "FN", "LN", "COUNTRY"]
THROTTLE_CODES = {4, 17, 32, 613, 80003}
MAX_ROWS = 10_000


def normalize_row(contact: Contact, default_country: str = "TR") -> list[str]:
    """One multi-key row, each value normalized per Meta and SHA-256 hashed ('' if unknown)."""
    email = email_lower(contact.email)
    phone = phone_digits(contact.phone, (contact.country or default_country).upper())
    fn = letters_only(turkish_lower(contact.first_name)) if contact.first_name else ""
    ln = letters_only(turkish_lower(contact.last_name)) if contact.last_name else ""
    country = (contact.country or default_country or "").strip().lower()
    values = [email or "", phone or "", fn, ln, country]
    return [sha256_hex(v) if v else "" for v in values]


def session_id_for(sync: str, run_id: int, op: str) -> int:
    """A positive int64 session id, stable for (sync, run, op) so a resumed run continues it."""
    digest = hashlib.sha256(f"{sync}:{run_id}:{op}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


class MetaDestination(HttpDestination):
    kind: ClassVar[str] = "meta"
    limits: ClassVar[dict[str, int]] = {"add": MAX_ROWS, "remove": MAX_ROWS}
    contact_fields: ClassVar[tuple[str, ...]] = ("email", "phone", "first_name", "last_name")
    default_base_url: ClassVar[str] = "https://graph.facebook.com"
    secret_names: ClassVar[tuple[str, ...]] = ("token",)

    @property
    def version(self) -> str:
        return str(self.settings.get("api_version", "v21.0"))

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets['token']}"}

    def platform_key(self, contact: Contact) -> str | None:
        # the hashed email and phone Meta already holds: enough to remove the person
        # after erasure, when the vault no longer has the contact points
        row = normalize_row(contact, self._country())
        return f"{row[0]}:{row[1]}" if (row[0] or row[1]) else None

    def key_from_match_keys(self, match_keys: Any, platform_key: str | None) -> str | None:
        if platform_key:
            return platform_key
        email_h = match_keys.get("email_sha256") or ""
        phone_h = match_keys.get("phone_digits_sha256") or ""
        return f"{email_h}:{phone_h}" if (email_h or phone_h) else None

    def _country(self) -> str:
        return str(self.settings.get("member_country", "TR"))

    def _rows(self, batch: Batch) -> list[list[str]]:
        rows = []
        for contact in batch.members:
            if batch.op == "remove" and contact.platform_key:
                email_h, _, phone_h = contact.platform_key.partition(":")
                rows.append([email_h, phone_h, "", "", ""])
            else:
                rows.append(normalize_row(contact, self._country()))
        return rows

    def request_body(self, batch: Batch, *, redact: bool = False) -> dict[str, Any]:
        rows = self._rows(batch)
        session = {
            "session_id": session_id_for(batch.sync, batch.run_id, batch.op),
            "batch_seq": batch.seq,
            "last_batch_flag": batch.seq == batch.total,
            "estimated_num_total": batch.estimated_total or len(rows),
        }
        return {
            "payload": {"schema": SCHEMA, "data": rows},
            "session": session,
        }

    def send(self, batch: Batch) -> BatchResult:
        self._check_started(batch)
        body = self.request_body(batch)
        form = {
            "payload": json.dumps(body["payload"], separators=(",", ":")),
            "session": json.dumps(body["session"], separators=(",", ":")),
        }
        method = "POST" if batch.op == "add" else "DELETE"
        path = f"/{self.version}/{self.settings['audience_id']}/users"
        # httpx sends a form body on DELETE only through request(content=...)
        from urllib.parse import urlencode

        response = self.request(
            method,
            path,
            content=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        data = self.parse_json(response)
        if response.status_code >= 400 or "error" in data:
            raise self._error(response.status_code, data, response)
        if "num_received" not in data:
            raise TransientDestinationError(
                "answer without num_received", platform=self.kind, status=response.status_code
            )
        return BatchResult(
            received=int(data.get("num_received", 0)),
            invalid=int(data.get("num_invalid_entries", 0)),
            counts={
                "num_received": int(data.get("num_received", 0)),
                "num_invalid_entries": int(data.get("num_invalid_entries", 0)),
            },
            keys={},
        )

    def _error(self, status: int, data: Any, response: Any) -> Exception:
        err = data.get("error", {}) if isinstance(data, dict) else {}
        if not isinstance(err, dict):
            err = {"message": str(err)}
        code = err.get("code")
        message = str(err.get("message") or "request failed")
        if status == 429 or status >= 500 or code in THROTTLE_CODES or err.get("is_transient"):
            return TransientDestinationError(
                message, platform=self.kind, status=status, code=code, retry_after=None
            )
        return TerminalDestinationError(
            message,
            platform=self.kind,
            status=status,
            code=code,
            hint="check audience_id, the token's ads_management permission and the payload schema",
        )
