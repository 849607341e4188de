"""Klaviyo (DESTINATIONS.md, "Klaviyo"): JSON:API with a dated ``revision`` header.

Adds for a consent channel (``email``/``sms``) subscribe the profiles with
``POST /api/profile-subscription-bulk-create-jobs`` (1,000 profiles per job (cfg), 202)
and a ``list`` relationship; for other channels (``ads``) the profiles go into the list
without a consent change through ``POST /api/profile-bulk-import-jobs`` (10,000 profiles,
5 MB). Klaviyo answers both with a job, not profile ids, so the sync resolves the ids
afterwards with ``GET /api/profiles?filter=any(email,[...])`` and keeps them in the sync
state. Removals take the profiles out of the list with ``DELETE
/api/lists/{id}/relationships/profiles`` (1,000 ids, 204); a withdrawal also
unsubscribes (``profile-subscription-bulk-delete-jobs``, 100 per job (cfg)); an erasure
requests a ``data-privacy-deletion-job``. A 429 carries ``Retry-After``, honoured.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from connectors.destinations.base import Batch, BatchResult, Contact, HttpDestination
from connectors.destinations.hashing import email_lower, phone_e164, redact

__all__ = ["JSONAPI", "REVISION", "KlaviyoDestination"]

REVISION = "2024-10-15"
JSONAPI = "application/vnd.api+json"
SUBSCRIBE_LIMIT = 1000
UNSUBSCRIBE_LIMIT = 100
LIST_REL_LIMIT = 1000
LOOKUP_PAGE = 100


class KlaviyoDestination(HttpDestination):
    kind: ClassVar[str] = "klaviyo"
    limits: ClassVar[dict[str, int]] = {"add": SUBSCRIBE_LIMIT, "remove": LIST_REL_LIMIT}
    contact_fields: ClassVar[tuple[str, ...]] = ("email", "phone", "first_name", "last_name")
    default_channel: ClassVar[str] = "email"
    default_base_url: ClassVar[str] = "https://a.klaviyo.com"
    secret_names: ClassVar[tuple[str, ...]] = ("api_key",)
    remove_needs_contacts: ClassVar[bool] = True
    default_concurrency: ClassVar[int] = 2  # burst window
    max_concurrency: ClassVar[int] = 4

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Klaviyo-API-Key {self.secrets['api_key']}",
            "revision": str(self.settings.get("revision", REVISION)),
            "Accept": JSONAPI,
            "Content-Type": JSONAPI,
        }

    @property
    def channel(self) -> str:
        return str(self.settings.get("channel", self.default_channel))

    def _list(self) -> dict[str, str]:
        return {"type": "list", "id": str(self.settings["audience_id"])}

    # -- bodies ---------------------------------------------------------------------
    def _profile(self, contact: Contact, *, subscribe: bool, redacted: bool) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        email = email_lower(contact.email)
        phone = phone_e164(contact.phone)
        if email:
            attrs["email"] = redact(email) if redacted else email
        if phone and (self.channel == "sms" or not subscribe):
            attrs["phone_number"] = redact(phone) if redacted else phone
        if not subscribe:
            for field, value in (("first_name", contact.first_name), ("last_name", contact.last_name)):
                if value:
                    attrs[field] = redact(value.strip()) if redacted else value.strip()
        if subscribe:
            channel = "sms" if self.channel == "sms" else "email"
            attrs["subscriptions"] = {channel: {"marketing": {"consent": "SUBSCRIBED"}}}
        return {"type": "profile", "attributes": attrs}

    def request_body(self, batch: Batch, *, redact: bool = False) -> dict[str, Any]:
        if batch.op == "add":
            subscribe = self.channel in ("email", "sms")
            profiles = [self._profile(c, subscribe=subscribe, redacted=redact) for c in batch.members]
            if subscribe:
                return {
                    "data": {
                        "type": "profile-subscription-bulk-create-job",
                        "attributes": {"profiles": {"data": profiles}, "historical_import": False},
                        "relationships": {"list": {"data": self._list()}},
                    }
                }
            return {
                "data": {
                    "type": "profile-bulk-import-job",
                    "attributes": {"profiles": {"data": profiles}},
                    "relationships": {"lists": {"data": [self._list()]}},
                }
            }
        return {"data": [{"type": "profile", "id": c.platform_key or "?"} for c in batch.members]}

    # -- sending ------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any | None = None, params: Any | None = None) -> Any:
        content = json.dumps(body).encode() if body is not None else None
        response = self.request(method, path, content=content, params=params)
        data = self.parse_json(response) if response.status_code not in (202, 204) else {}
        if response.status_code >= 400:
            errors = data.get("errors", []) if isinstance(data, dict) else []
            first = errors[0] if errors else {}
            message = str(first.get("detail") or first.get("title") or f"HTTP {response.status_code}")
            raise self.generic_error(response, message, code=first.get("code"))
        return data

    def send(self, batch: Batch) -> BatchResult:
        self._check_started(batch)
        if batch.op == "add":
            return self._add(batch)
        return self._remove(batch)

    def _add(self, batch: Batch) -> BatchResult:
        path = (
            "/api/profile-subscription-bulk-create-jobs"
            if self.channel in ("email", "sms")
            else "/api/profile-bulk-import-jobs"
        )
        self._call("POST", path, self.request_body(batch))
        ids = self._lookup([c for c in batch.members if c.email])
        keys = {c.customer_id: ids[e] for c in batch.members if (e := email_lower(c.email)) in ids}
        return BatchResult(
            received=len(batch.members),
            counts={"submitted": len(batch.members), "profile_ids_resolved": len(keys)},
            keys=keys,
        )

    def _lookup(self, contacts: list[Contact]) -> dict[str, str]:
        """Profile ids by lower-cased email, in pages of 100 (``any`` filter)."""
        out: dict[str, str] = {}
        emails = sorted({e for c in contacts if (e := email_lower(c.email))})
        for i in range(0, len(emails), LOOKUP_PAGE):
            chunk = emails[i : i + LOOKUP_PAGE]
            values = ",".join(json.dumps(e) for e in chunk)
            data = self._call(
                "GET",
                "/api/profiles",
                params={"filter": f"any(email,[{values}])", "page[size]": str(LOOKUP_PAGE), "fields[profile]": "email"},
            )
            for item in data.get("data", []) if isinstance(data, dict) else []:
                email = (item.get("attributes") or {}).get("email")
                if email and item.get("id"):
                    out[email.lower()] = str(item["id"])
        return out

    def _remove(self, batch: Batch) -> BatchResult:
        counts: dict[str, Any] = {"list_removed": 0, "unsubscribed": 0, "deletion_jobs": 0}
        missing = [c for c in batch.members if not c.platform_key and c.email]
        found = self._lookup(missing) if missing else {}
        ids: dict[str, str] = {}
        for c in batch.members:
            pid = c.platform_key or found.get(email_lower(c.email) or "")
            if pid:
                ids[c.customer_id] = pid
        if ids:
            body = {"data": [{"type": "profile", "id": pid} for pid in ids.values()]}
            self._call("DELETE", f"/api/lists/{self.settings['audience_id']}/relationships/profiles", body)
            counts["list_removed"] = len(ids)
        revoked = [c for c in batch.members if c.reason == "revoked" and c.email]
        if revoked and self.channel in ("email", "sms"):
            for i in range(0, len(revoked), UNSUBSCRIBE_LIMIT):
                chunk = revoked[i : i + UNSUBSCRIBE_LIMIT]
                channel = "sms" if self.channel == "sms" else "email"
                profiles = [
                    {
                        "type": "profile",
                        "attributes": {
                            "email": email_lower(c.email),
                            "subscriptions": {channel: {"marketing": {"consent": "UNSUBSCRIBED"}}},
                        },
                    }
                    for c in chunk
                ]
                self._call(
                    "POST",
                    "/api/profile-subscription-bulk-delete-jobs",
                    {
                        "data": {
                            "type": "profile-subscription-bulk-delete-job",
                            "attributes": {"profiles": {"data": profiles}},
                            "relationships": {"list": {"data": self._list()}},
                        }
                    },
                )
                counts["unsubscribed"] += len(chunk)
        for c in batch.members:
            if c.reason == "erased" and c.customer_id in ids:
                self._call(
                    "POST",
                    "/api/data-privacy-deletion-jobs",
                    {
                        "data": {
                            "type": "data-privacy-deletion-job",
                            "attributes": {"profile": {"data": {"type": "profile", "id": ids[c.customer_id]}}},
                        }
                    },
                )
                counts["deletion_jobs"] += 1
        return BatchResult(received=len(batch.members), counts=counts)

