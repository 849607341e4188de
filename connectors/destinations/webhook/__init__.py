"""Webhook: our own signed JSON protocol for any other system (DESTINATIONS.md, "Webhook").

``POST url`` with ``{"sync", "run", "batch", "adds": [...], "removes": [...]}``; each
member is ``{"customer_id", ...fields}`` where ``fields`` may name ``email_sha256``,
``phone_sha256`` or, for a provider that must contact the person, plain ``email`` /
``phone`` (only to an https or loopback URL). Headers:

* ``CDP-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "{t}.{raw body}")>`` — one
  ``v1`` per configured secret (``secret_env`` and, while rotating,
  ``previous_secret_env``); receivers reject ``|now - t| > 300`` s;
* ``Idempotency-Key``: per batch, the same on every retry and after a resume.

See :func:`verify_signature` (also in docs/destinations.md) for the receiving side.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import urlsplit

from cdp.errors import ConfigError
from connectors.destinations.base import Batch, BatchResult, Contact, HttpDestination
from connectors.destinations.hashing import email_lower, phone_e164, redact, sha256_hex

__all__ = ["FIELDS", "PLAIN_FIELDS", "TOLERANCE_SECONDS", "WebhookDestination", "sign", "verify_signature"]

FIELDS = ("email_sha256", "phone_sha256", "email", "phone")
PLAIN_FIELDS = frozenset({"email", "phone"})
TOLERANCE_SECONDS = 300


def sign(body: bytes, secrets: Iterable[str], timestamp: int) -> str:
    """The ``CDP-Signature`` header value for ``body``."""
    parts = [f"t={timestamp}"]
    for secret in secrets:
        mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        parts.append(f"v1={mac}")
    return ",".join(parts)


def verify_signature(header: str, body: bytes, secret: str, *, now: float | None = None) -> bool:
    """Receiver side: True when one ``v1`` matches and ``t`` is within 300 s of now."""
    fields = [p.split("=", 1) for p in header.split(",") if "=" in p]
    ts = [v for k, v in fields if k.strip() == "t"]
    if len(ts) != 1 or not ts[0].isdigit():
        return False
    t = int(ts[0])
    if abs((time.time() if now is None else now) - t) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v.strip()) for k, v in fields if k.strip() == "v1")


def is_safe_for_plain(url: str) -> bool:
    """https, or http to a loopback address (a local relay)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookDestination(HttpDestination):
    kind: ClassVar[str] = "webhook"
    limits: ClassVar[dict[str, int]] = {"add": 10_000, "remove": 10_000}
    contact_fields: ClassVar[tuple[str, ...]] = ("email", "phone")
    default_channel: ClassVar[str] = "any"
    min_audience: ClassVar[int | None] = None
    secret_names: ClassVar[tuple[str, ...]] = ("secret",)
    default_concurrency: ClassVar[int] = 2  # receivers de-duplicate on Idempotency-Key
    max_concurrency: ClassVar[int] = 8

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = str(self.settings.get("url") or "")
        if not url:
            raise ConfigError("a webhook destination needs a url", key=f"destinations.{self.name}.url")
        self.url = url
        self.base_url = ""
        self.fields = [str(f) for f in self.settings.get("fields", [])]
        unknown = [f for f in self.fields if f not in FIELDS]
        if unknown:
            raise ConfigError(
                f"unknown field {unknown[0]!r}; choose from {', '.join(FIELDS)}",
                key=f"destinations.{self.name}.fields",
            )
        if PLAIN_FIELDS & set(self.fields) and not is_safe_for_plain(url):
            raise ConfigError(
                "plain email/phone may be sent only to an https or loopback URL",
                key=f"destinations.{self.name}.url",
                hint="use https, or send email_sha256/phone_sha256 instead",
            )

    @property
    def sends_contact_data(self) -> bool:
        """True when plain contact points leave (recorded as a transfer of contact data)."""
        return bool(PLAIN_FIELDS & set(self.fields))

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def platform_key(self, contact: Contact) -> str | None:
        return contact.customer_id  # the receiver knows people by customer_id only

    def _member(self, contact: Contact, op: str, *, redacted: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"customer_id": contact.customer_id}
        if op == "remove":
            out["customer_id"] = contact.platform_key or contact.customer_id
            if contact.reason:
                out["reason"] = contact.reason
            return out
        email = email_lower(contact.email)
        phone = phone_e164(contact.phone)
        for f in self.fields:
            if f == "email_sha256":
                out[f] = sha256_hex(email) if email else None
            elif f == "phone_sha256":
                out[f] = sha256_hex(phone) if phone else None
            elif f == "email":
                out[f] = (redact(email) if redacted else email) if email else None
            elif f == "phone":
                out[f] = (redact(phone) if redacted else phone) if phone else None
        return out

    def request_body(self, batch: Batch, *, redact: bool = False) -> dict[str, Any]:
        members = [self._member(c, batch.op, redacted=redact) for c in batch.members]
        return {
            "sync": batch.sync,
            "run": batch.run_id,
            "batch": batch.batch_no,
            "adds": members if batch.op == "add" else [],
            "removes": members if batch.op == "remove" else [],
        }

    def _secrets(self) -> list[str]:
        out = [self.secrets["secret"]]
        if self.secrets.get("previous_secret"):
            out.append(self.secrets["previous_secret"])
        return out

    def send(self, batch: Batch) -> BatchResult:
        self._check_started(batch)
        raw = json.dumps(self.request_body(batch), separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "CDP-Signature": sign(raw, self._secrets(), int(time.time())),
            "Idempotency-Key": batch.key,
        }
        response = self.request("POST", self.url, content=raw, headers=headers)
        if response.status_code >= 400:
            data: Any = {}
            try:
                data = response.json()
            except ValueError:
                pass
            message = data.get("error") if isinstance(data, dict) and isinstance(data.get("error"), str) else None
            raise self.generic_error(response, message or f"the receiver answered HTTP {response.status_code}")
        counts: dict[str, Any] = {"status": response.status_code}
        if response.content:
            data = self.parse_json(response)
            if isinstance(data, dict):
                counts.update({k: v for k, v in data.items() if isinstance(v, int | float)})
        return BatchResult(received=len(batch.members), counts=counts)
