"""Mailchimp Marketing API v3 (DESTINATIONS.md, "Mailchimp").

Base ``https://{dc}.api.mailchimp.com/3.0`` (``dc`` from the API key suffix), HTTP Basic
with the key as password. An add is ``POST /lists/{list_id}`` (at most 500 ``members``,
``update_existing``) followed, when ``segment_id`` is set, by ``POST
/lists/{list_id}/segments/{segment_id}`` with ``members_to_add`` (at most 500). A removal
takes the member out of the static segment (``members_to_remove``); a withdrawal also
sets the member ``unsubscribed``; an erasure is ``POST
/lists/{id}/members/{md5}/actions/delete-permanent`` (never archive). Without a segment,
a member who left the audience is archived. The member key is the MD5 of the
lower-cased email; that is what the sync state keeps. Mailchimp throttles with a 429
without ``Retry-After``: the sync backs off on its own.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from cdp.errors import ConfigError, TransientDestinationError
from connectors.destinations.base import Batch, BatchResult, Contact, HttpDestination, quiet_http_logs
from connectors.destinations.hashing import email_lower, md5_hex, phone_e164, redact

__all__ = ["MailchimpDestination", "subscriber_hash"]

MAX_MEMBERS = 500


def subscriber_hash(email: str) -> str:
    """Mailchimp's member key: MD5 of the lower-cased address."""
    return md5_hex(email.strip().lower())


class MailchimpDestination(HttpDestination):
    kind: ClassVar[str] = "mailchimp"
    limits: ClassVar[dict[str, int]] = {"add": MAX_MEMBERS, "remove": MAX_MEMBERS}
    contact_fields: ClassVar[tuple[str, ...]] = ("email", "phone", "first_name", "last_name")
    default_channel: ClassVar[str] = "email"
    secret_names: ClassVar[tuple[str, ...]] = ("api_key",)
    remove_needs_contacts: ClassVar[bool] = True
    default_concurrency: ClassVar[int] = 4  # Mailchimp throttles beyond 10 connections
    max_concurrency: ClassVar[int] = 10

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.settings.get("base_url"):
            key = self.secrets["api_key"]
            if "-" not in key:
                raise ConfigError(
                    "the Mailchimp API key has no data-centre suffix (…-us21)",
                    key=f"destinations.{self.name}.api_key_env",
                )
            self.base_url = f"https://{key.rsplit('-', 1)[1]}.api.mailchimp.com/3.0"

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            quiet_http_logs()
            self._client = httpx.Client(
                base_url=self.base_url,
                timeout=float(self.settings.get("timeout", 30.0)),
                transport=self.transport,
                auth=("cdp", self.secrets["api_key"]),
            )
        return self._client

    def platform_key(self, contact: Contact) -> str | None:
        email = email_lower(contact.email)
        return subscriber_hash(email) if email else None

    def key_from_match_keys(self, match_keys: Any, platform_key: str | None) -> str | None:
        return platform_key or match_keys.get("email_md5")

    # -- bodies -------------------------------------------------------------------------
    def _member(self, contact: Contact, status: str, *, redacted: bool) -> dict[str, Any]:
        email = email_lower(contact.email) or ""
        merge: dict[str, str] = {}
        if contact.first_name:
            merge["FNAME"] = contact.first_name.strip()
        if contact.last_name:
            merge["LNAME"] = contact.last_name.strip()
        phone = phone_e164(contact.phone)
        if phone:
            merge["PHONE"] = phone
        if redacted:
            email = redact(email) or ""
            merge = {k: redact(v) or "" for k, v in merge.items()}
        member: dict[str, Any] = {"email_address": email, "status": status, "merge_fields": merge}
        perm = self.settings.get("marketing_permission_id")
        if perm and status == "subscribed":
            member["marketing_permissions"] = [{"marketing_permission_id": str(perm), "enabled": True}]
        return member

    def request_body(self, batch: Batch, *, redact: bool = False) -> dict[str, Any]:
        list_id = self.settings["audience_id"]
        if batch.op == "add":
            body: dict[str, Any] = {
                "path": f"/lists/{list_id}",
                "body": {
                    "members": [self._member(c, "subscribed", redacted=redact) for c in batch.members],
                    "update_existing": True,
                },
            }
            return body
        emails = [email_lower(c.email) or "" for c in batch.members if c.reason != "erased"]
        return {
            "path": f"/lists/{list_id}/segments/{self.settings.get('segment_id')}",
            "body": {"members_to_remove": [redact_fn(e) for e in emails] if redact else emails},
            "delete_permanent": sum(1 for c in batch.members if c.reason == "erased"),
        }

    # -- sending --------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any | None = None) -> Any:
        response = self.request(method, path, json=body) if body is not None else self.request(method, path)
        data = self.parse_json(response) if response.status_code != 204 else {}
        if response.status_code >= 400:
            detail = data.get("detail") or data.get("title") if isinstance(data, dict) else None
            if response.status_code == 404 and (method == "DELETE" or path.endswith("delete-permanent")):
                return None  # already gone: the removal is done
            raise self.generic_error(response, str(detail or f"HTTP {response.status_code}"), code=_code(data))
        return data

    def send(self, batch: Batch) -> BatchResult:
        self._check_started(batch)
        list_id = self.settings["audience_id"]
        segment = self.settings.get("segment_id")
        if batch.op == "add":
            return self._add(batch, list_id, segment)
        return self._remove(batch, list_id, segment)

    def _add(self, batch: Batch, list_id: str, segment: Any) -> BatchResult:
        members = [self._member(c, "subscribed", redacted=False) for c in batch.members]
        data = self._call("POST", f"/lists/{list_id}", {"members": members, "update_existing": True})
        if not isinstance(data, dict) or ("new_members" not in data and "total_created" not in data):
            raise TransientDestinationError("batch answer without member counts", platform=self.kind)
        by_email = {email_lower(c.email): c.customer_id for c in batch.members}
        failed = [by_email[e["email_address"]] for e in data.get("errors", []) if e.get("email_address") in by_email]
        ok = [m["email_address"] for m in members if by_email.get(m["email_address"]) not in failed]
        counts: dict[str, Any] = {
            "total_created": int(data.get("total_created", len(data.get("new_members", [])))),
            "total_updated": int(data.get("total_updated", len(data.get("updated_members", [])))),
            "error_count": int(data.get("error_count", len(failed))),
        }
        if segment and ok:
            seg = self._call("POST", f"/lists/{list_id}/segments/{segment}", {"members_to_add": ok})
            if isinstance(seg, dict):
                counts["segment_added"] = int(seg.get("total_added", 0))
        keys = {c.customer_id: k for c in batch.members if (k := self.platform_key(c))}
        return BatchResult(received=len(members), invalid=len(failed), counts=counts, keys=keys, failed=failed)

    def _remove(self, batch: Batch, list_id: str, segment: Any) -> BatchResult:
        counts: dict[str, Any] = {"deleted_permanently": 0, "segment_removed": 0, "unsubscribed": 0, "archived": 0}
        erased = [c for c in batch.members if c.reason == "erased"]
        others = [c for c in batch.members if c.reason != "erased"]
        for contact in erased:
            key = contact.platform_key or self.platform_key(contact)
            if key:
                self._call("POST", f"/lists/{list_id}/members/{key}/actions/delete-permanent")
                counts["deleted_permanently"] += 1
        revoked = [c for c in others if c.reason == "revoked" and c.email]
        if revoked:
            members = [self._member(c, "unsubscribed", redacted=False) for c in revoked]
            self._call("POST", f"/lists/{list_id}", {"members": members, "update_existing": True})
            counts["unsubscribed"] = len(members)
        if segment:
            emails = [e for c in others if (e := email_lower(c.email))]
            if emails:
                seg = self._call("POST", f"/lists/{list_id}/segments/{segment}", {"members_to_remove": emails})
                counts["segment_removed"] = int(seg.get("total_removed", len(emails))) if isinstance(seg, dict) else 0
            for contact in others:  # no email any more: remove by member key
                if not contact.email and contact.platform_key:
                    self._call("DELETE", f"/lists/{list_id}/segments/{segment}/members/{contact.platform_key}")
                    counts["segment_removed"] += 1
        else:
            for contact in others:
                if contact.reason == "revoked" and contact.email:
                    continue
                key = contact.platform_key or self.platform_key(contact)
                if key:
                    self._call("DELETE", f"/lists/{list_id}/members/{key}")
                    counts["archived"] += 1
        return BatchResult(received=len(batch.members), counts=counts)


def redact_fn(value: str) -> str:
    return redact(value) or ""


def _code(data: Any) -> str | None:
    if isinstance(data, dict):
        return data.get("title")
    return None

