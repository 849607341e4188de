"""Google Ads Customer Match, through either API behind one destination (DESTINATIONS.md).

``api = "data_manager"`` (default; required for developer tokens new to Customer Match
after 2026-04-01): ``POST /v1/audienceMembers:ingest`` and ``:remove`` with hashed,
hex-encoded identifiers and request-level consent; at most 10,000 members per request.

``api = "customer_match"`` (allow-listed tokens): one ``OfflineUserDataJob`` per batch:
``offlineUserDataJobs:create`` (type ``CUSTOMER_MATCH_USER_LIST`` with consent),
``:addOperations`` (only creates or only removes: never both in one job), ``:run``, then
poll the job. Partial failures come back as HTTP 200 with ``partialFailureError``.

Normalization: email trimmed and lower-cased; phone E.164 with ``+``; SHA-256 hex.
Throttling is 429 ``RESOURCE_EXHAUSTED``; ``CONCURRENT_MODIFICATION`` is retried too.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import httpx

from cdp.errors import ConfigError, TerminalDestinationError, TransientDestinationError
from connectors.destinations.base import Batch, BatchResult, Contact, HttpDestination
from connectors.destinations.hashing import email_lower, phone_e164, sha256_hex

__all__ = ["GoogleAdsDestination", "identifiers"]

_TRANSIENT_STATUSES = {"RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL", "ABORTED"}
_TRANSIENT_CODES = {"CONCURRENT_MODIFICATION", "RESOURCE_EXHAUSTED", "RESOURCE_TEMPORARILY_EXHAUSTED"}


def identifiers(contact: Contact, default_country: str = "TR") -> tuple[str, str]:
    """(hashed email, hashed E.164 phone), '' where unknown."""
    email = email_lower(contact.email)
    phone = phone_e164(contact.phone, (contact.country or default_country).upper())
    return (sha256_hex(email) if email else "", sha256_hex(phone) if phone else "")


class GoogleAdsDestination(HttpDestination):
    kind: ClassVar[str] = "google_ads"
    limits: ClassVar[dict[str, int]] = {"add": 10_000, "remove": 10_000}
    contact_fields: ClassVar[tuple[str, ...]] = ("email", "phone")
    secret_names: ClassVar[tuple[str, ...]] = ("token",)
    default_concurrency: ClassVar[int] = 2
    max_concurrency: ClassVar[int] = 4

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api = str(self.settings.get("api", "data_manager"))
        if self.api not in ("data_manager", "customer_match"):
            raise ConfigError(
                f"api must be data_manager or customer_match, not {self.api!r}",
                key=f"destinations.{self.name}.api",
            )
        if self.api == "customer_match" and not self.secrets.get("developer_token"):
            raise ConfigError(
                "the Customer Match API needs a developer token",
                key=f"destinations.{self.name}.developer_token_env",
                hint="set developer_token_env to the variable holding it, or use api = \"data_manager\"",
            )
        if not self.settings.get("base_url"):
            self.base_url = (
                "https://datamanager.googleapis.com" if self.api == "data_manager" else "https://googleads.googleapis.com"
            )

    # -- common -----------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.secrets['token']}"}
        if self.api == "customer_match":
            out["developer-token"] = self.secrets["developer_token"]
            if self.settings.get("login_customer_id"):
                out["login-customer-id"] = str(self.settings["login_customer_id"])
        return out

    def concurrency(self) -> int:
        # Customer Match allows one job per list at a time; the Data Manager API does not care
        return 1 if self.api == "customer_match" else min(super().concurrency(), 4)

    def _country(self) -> str:
        return str(self.settings.get("member_country", "TR"))

    def platform_key(self, contact: Contact) -> str | None:
        email_h, phone_h = identifiers(contact, self._country())
        return f"{email_h}:{phone_h}" if (email_h or phone_h) else None

    def key_from_match_keys(self, match_keys: Any, platform_key: str | None) -> str | None:
        if platform_key:
            return platform_key
        email_h = match_keys.get("email_sha256") or ""
        phone_h = match_keys.get("phone_sha256") or ""
        return f"{email_h}:{phone_h}" if (email_h or phone_h) else None

    def _ids(self, contact: Contact, op: str) -> tuple[str, str]:
        if op == "remove" and contact.platform_key:
            email_h, _, phone_h = contact.platform_key.partition(":")
            return email_h, phone_h
        return identifiers(contact, self._country())

    def request_body(self, batch: Batch, *, redact: bool = False) -> dict[str, Any]:
        if self.api == "data_manager":
            return self._dm_body(batch)
        return {"operations": self._cm_operations(batch), "enablePartialFailure": True}

    def send(self, batch: Batch) -> BatchResult:
        self._check_started(batch)
        if self.api == "data_manager":
            return self._dm_send(batch)
        return self._cm_send(batch)

    def _raise(self, response: httpx.Response, data: Any) -> None:
        err = data.get("error", {}) if isinstance(data, dict) else {}
        if not isinstance(err, dict):
            err = {"message": str(err)}
        status = str(err.get("status") or "")
        message = str(err.get("message") or f"HTTP {response.status_code}")
        codes = _error_codes(err)
        code = status or (codes[0] if codes else None)
        if response.status_code == 429 or response.status_code >= 500 or status in _TRANSIENT_STATUSES or set(
            codes
        ) & _TRANSIENT_CODES:
            raise TransientDestinationError(
                message,
                platform=self.kind,
                status=response.status_code,
                code=codes[0] if codes else code,
                retry_after=_float(response.headers.get("Retry-After")),
            )
        raise TerminalDestinationError(
            message, platform=self.kind, status=response.status_code, code=codes[0] if codes else code
        )

    # -- Data Manager API ---------------------------------------------------------
    def _destination(self) -> dict[str, Any]:
        return {
            "operatingAccount": {
                "accountType": str(self.settings.get("account_type", "GOOGLE_ADS")),
                "accountId": str(self.settings.get("customer_id", "")),
            },
            "productDestinationId": str(self.settings["audience_id"]),
        }

    def _dm_body(self, batch: Batch) -> dict[str, Any]:
        members = []
        for contact in batch.members:
            email_h, phone_h = self._ids(contact, batch.op)
            ids = []
            if email_h:
                ids.append({"emailAddress": email_h})
            if phone_h:
                ids.append({"phoneNumber": phone_h})
            members.append({"userData": {"userIdentifiers": ids}})
        body: dict[str, Any] = {
            "destinations": [self._destination()],
            "audienceMembers": members,
            "encoding": "HEX",
        }
        if batch.op == "add":
            body["consent"] = {"adUserData": "CONSENT_GRANTED", "adPersonalization": "CONSENT_GRANTED"}
        return body

    def _dm_send(self, batch: Batch) -> BatchResult:
        verb = "ingest" if batch.op == "add" else "remove"
        response = self.request("POST", f"/v1/audienceMembers:{verb}", json=self._dm_body(batch))
        data = self.parse_json(response)
        if response.status_code >= 400:
            self._raise(response, data)
        if not isinstance(data, dict) or "requestId" not in data:
            raise TransientDestinationError("answer without requestId", platform=self.kind, status=response.status_code)
        return BatchResult(
            received=len(batch.members),
            counts={"request_id": data["requestId"], "received": len(batch.members)},
        )

    # -- Customer Match (OfflineUserDataJobService) ----------------------------------
    def _version(self) -> str:
        return str(self.settings.get("api_version", "v21"))

    def _cm_operations(self, batch: Batch) -> list[dict[str, Any]]:
        verb = "create" if batch.op == "add" else "remove"
        ops = []
        for contact in batch.members:
            email_h, phone_h = self._ids(contact, batch.op)
            ids = []
            if email_h:
                ids.append({"hashedEmail": email_h})
            if phone_h:
                ids.append({"hashedPhoneNumber": phone_h})
            ops.append({verb: {"userIdentifiers": ids}})
        return ops

    def _cm_call(self, path: str, body: dict[str, Any] | None = None, method: str = "POST") -> Any:
        response = self.request(method, path, json=body) if body is not None else self.request(method, path)
        data = self.parse_json(response)
        if response.status_code >= 400:
            self._raise(response, data)
        return data

    def _cm_send(self, batch: Batch) -> BatchResult:
        version = self._version()
        cid = str(self.settings.get("customer_id", ""))
        job = {
            "job": {
                "type": "CUSTOMER_MATCH_USER_LIST",
                "customerMatchUserListMetadata": {
                    "userList": f"customers/{cid}/userLists/{self.settings['audience_id']}",
                    "consent": {"adUserData": "GRANTED", "adPersonalization": "GRANTED"},
                },
            }
        }
        created = self._cm_call(f"/{version}/customers/{cid}/offlineUserDataJobs:create", job)
        resource = created.get("resourceName") if isinstance(created, dict) else None
        if not resource:
            raise TransientDestinationError("job create answered without resourceName", platform=self.kind)
        ops = self._cm_operations(batch)
        added = self._cm_call(f"/{version}/{resource}:addOperations", {"operations": ops, "enablePartialFailure": True})
        failed_idx = _partial_failure_indexes(added.get("partialFailureError") if isinstance(added, dict) else None)
        self._cm_call(f"/{version}/{resource}:run", {})
        status = self._cm_poll(f"/{version}/{resource}")
        if status.get("status") == "FAILED":
            raise TerminalDestinationError(
                f"offline user data job failed: {status.get('failureReason', 'unknown reason')}",
                platform=self.kind,
                code=status.get("failureReason"),
            )
        failed = [batch.members[i].customer_id for i in sorted(failed_idx) if i < len(batch.members)]
        counts: dict[str, Any] = {
            "job": resource.rsplit("/", 1)[-1],
            "job_status": status.get("status"),
            "received": len(ops),
            "partial_failures": len(failed),
        }
        rate = status.get("customerMatchUserListMetadata", {}).get("matchRatePercentage") if isinstance(
            status, dict
        ) else None
        if rate is not None:
            counts["match_rate_percentage"] = rate
        return BatchResult(received=len(ops), invalid=len(failed), counts=counts, failed=failed)

    def _cm_poll(self, path: str) -> dict[str, Any]:
        interval = float(self.settings.get("poll_interval", 5.0))
        deadline = time.monotonic() + float(self.settings.get("poll_timeout", 600.0))
        while True:
            data = self._cm_call(path, method="GET")
            status = data.get("status") if isinstance(data, dict) else None
            if status in ("SUCCESS", "FAILED") or time.monotonic() >= deadline:
                # a job still running at the deadline was accepted: Google finishes it
                return data if isinstance(data, dict) else {}
            time.sleep(interval)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _error_codes(err: dict[str, Any]) -> list[str]:
    """Google Ads error codes (``{"mutateJobError": "CONCURRENT_MODIFICATION"}`` → that value)."""
    out = []
    for detail in err.get("details", []) or []:
        for e in detail.get("errors", []) or []:
            for value in (e.get("errorCode") or {}).values():
                out.append(str(value))
    return out


def _partial_failure_indexes(pfe: Any) -> set[int]:
    """Operation indexes named in a partialFailureError."""
    out: set[int] = set()
    if not isinstance(pfe, dict):
        return out
    for detail in pfe.get("details", []) or []:
        for e in detail.get("errors", []) or []:
            for el in (e.get("location") or {}).get("fieldPathElements", []) or []:
                if el.get("fieldName") == "operations" and "index" in el:
                    out.add(int(el["index"]))
    return out
