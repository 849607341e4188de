"""Fake Google Ads: Data Manager API and Customer Match offline jobs (DESTINATIONS.md)."""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.fakes.base import FakeServer, Reply, Request, check

__all__ = ["GoogleFake"]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _err(status: int, code: str, message: str, error_code: dict[str, str] | None = None) -> Reply:
    details = [{"@type": "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
                "errors": [{"errorCode": error_code, "message": message}]}] if error_code else []
    return Reply(status, {"error": {"code": status, "message": message, "status": code, "details": details}})


class GoogleFake(FakeServer):
    """Keeps ``audience``: member keys (email hash, else phone hash) per API."""

    def __init__(self, *, token: str = "g-token", developer_token: str = "dev-token", customer_id: str = "1234567890",
                 audience_id: str = "555", max_members: int = 10_000, max_identifiers: int = 100_000) -> None:
        super().__init__()
        self.token = token
        self.developer_token = developer_token
        self.customer_id = customer_id
        self.audience_id = audience_id
        self.max_members = max_members
        self.max_identifiers = max_identifiers
        self.audience: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.request_ids: list[str] = []
        self._ids = itertools.count(1)
        self.conflicts = 0

    def throttle_reply(self, req: Request) -> Reply:
        return _err(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                    {"quotaError": "RESOURCE_EXHAUSTED"})

    def handle(self, req: Request) -> Reply:
        check(req.headers.get("authorization") == f"Bearer {self.token}",
              lambda: _err(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
        if req.path.startswith("/v1/audienceMembers:"):
            return self._data_manager(req)
        check(req.headers.get("developer-token") == self.developer_token,
              lambda: _err(401, "UNAUTHENTICATED", "developer token missing or wrong",
                           {"authenticationError": "DEVELOPER_TOKEN_INVALID"}))
        return self._customer_match(req)

    # -- Data Manager API ----------------------------------------------------------
    def _data_manager(self, req: Request) -> Reply:
        verb = req.path.split(":", 1)[1]
        check(req.method == "POST" and verb in ("ingest", "remove"), lambda: _err(404, "NOT_FOUND", "no such method"))
        body = req.json()
        dests = body.get("destinations") or []
        check(len(dests) == 1 and str(dests[0].get("productDestinationId")) == self.audience_id
              and dests[0].get("operatingAccount", {}).get("accountId") == self.customer_id,
              lambda: _err(400, "INVALID_ARGUMENT", "unknown destination"))
        members = body.get("audienceMembers") or []
        check(0 < len(members) <= self.max_members,
              lambda: _err(400, "INVALID_ARGUMENT", f"at most {self.max_members} audience members per request"))
        check(body.get("encoding") == "HEX", lambda: _err(400, "INVALID_ARGUMENT", "encoding must be set for UserData"))
        if verb == "ingest":
            consent = body.get("consent") or {}
            check(consent.get("adUserData") == "CONSENT_GRANTED" and consent.get("adPersonalization") == "CONSENT_GRANTED",
                  lambda: _err(400, "INVALID_ARGUMENT", "consent missing"))
        keys = []
        for m in members:
            ids = (m.get("userData") or {}).get("userIdentifiers") or []
            check(0 < len(ids) <= 10, lambda: _err(400, "INVALID_ARGUMENT", "1..10 identifiers per member"))
            email = next((i["emailAddress"] for i in ids if "emailAddress" in i), "")
            phone = next((i["phoneNumber"] for i in ids if "phoneNumber" in i), "")
            for v in (email, phone):
                check(v == "" or bool(_HEX64.match(v)),
                      lambda: _err(400, "INVALID_ARGUMENT", "INVALID_SHA256_FORMAT", {"processingError": "INVALID_SHA256_FORMAT"}))
            keys.append(email or phone)
        for k in keys:
            (self.audience.add if verb == "ingest" else self.audience.discard)(k)
        self.applied += 1
        rid = f"req-{next(self._ids)}"
        self.request_ids.append(rid)
        return Reply(200, {"requestId": rid})

    def _finish(self, job: dict[str, Any]) -> None:
        for kind, key in job["ops"]:
            (self.audience.add if kind == "create" else self.audience.discard)(key)
        job["status"] = "SUCCESS"
        self.applied += 1

    # -- Customer Match offline jobs ------------------------------------------------
    def _customer_match(self, req: Request) -> Reply:
        m = re.fullmatch(r"/v\d+/customers/(\d+)/offlineUserDataJobs(?::create|/(\d+)(?::(addOperations|run))?)", req.path)
        check(bool(m), lambda: _err(404, "NOT_FOUND", "no such resource"))
        check(m.group(1) == self.customer_id, lambda: _err(403, "PERMISSION_DENIED", "customer not accessible"))
        job_id, action = m.group(2), m.group(3)
        if job_id is None:
            body = req.json().get("job", {})
            meta = body.get("customerMatchUserListMetadata", {})
            check(body.get("type") == "CUSTOMER_MATCH_USER_LIST", lambda: _err(400, "INVALID_ARGUMENT", "bad job type"))
            check(meta.get("userList") == f"customers/{self.customer_id}/userLists/{self.audience_id}",
                  lambda: _err(400, "INVALID_ARGUMENT", "unknown user list"))
            consent = meta.get("consent", {})
            check(consent.get("adUserData") == "GRANTED" and consent.get("adPersonalization") == "GRANTED",
                  lambda: _err(400, "INVALID_ARGUMENT", "consent required", {"offlineUserDataJobError": "CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS"}))
            jid = str(next(self._ids))
            self.jobs[jid] = {"ops": [], "kind": None, "status": "PENDING"}
            return Reply(200, {"resourceName": f"customers/{self.customer_id}/offlineUserDataJobs/{jid}"})
        job = self.jobs.get(job_id)
        check(job is not None, lambda: _err(404, "NOT_FOUND", "no such job"))
        if action == "addOperations":
            check(job["status"] == "PENDING", lambda: _err(400, "FAILED_PRECONDITION", "job already run"))
            body = req.json()
            ops = body.get("operations") or []
            total = sum(len(next(iter(op.values())).get("userIdentifiers", [])) for op in ops)
            check(total <= self.max_identifiers, lambda: _err(400, "INVALID_ARGUMENT", "too many identifiers",
                                                              {"offlineUserDataJobError": "TOO_MANY_USER_IDENTIFIERS"}))
            failures = []
            for i, op in enumerate(ops):
                kind = next(iter(op))
                check(kind in ("create", "remove"), lambda: _err(400, "INVALID_ARGUMENT", "bad operation"))
                check(job["kind"] in (None, kind), lambda: _err(400, "INVALID_ARGUMENT", "creates and removes in one job",
                                                                {"offlineUserDataJobError": "CONFLICTING_OPERATION"}))
                job["kind"] = kind
                ids = op[kind].get("userIdentifiers") or []
                check(len(ids) <= 20, lambda: _err(400, "INVALID_ARGUMENT", "too many identifiers for one user",
                                                   {"offlineUserDataJobError": "TOO_MANY_USER_IDENTIFIERS"}))
                values = [v for i_ in ids for k, v in i_.items() if k in ("hashedEmail", "hashedPhoneNumber")]
                if not values or not all(_HEX64.match(v) for v in values):
                    failures.append(i)
                    continue
                email = next((i_["hashedEmail"] for i_ in ids if "hashedEmail" in i_), "")
                phone = next((i_["hashedPhoneNumber"] for i_ in ids if "hashedPhoneNumber" in i_), "")
                job["ops"].append((kind, email or phone))
            out: dict[str, Any] = {}
            if failures:
                out["partialFailureError"] = {
                    "code": 3, "message": "partial failure",
                    "details": [{"errors": [{"errorCode": {"offlineUserDataJobError": "INVALID_SHA256_FORMAT"},
                                             "location": {"fieldPathElements": [{"fieldName": "operations", "index": i}]}}
                                            for i in failures]}],
                }
            return Reply(200, out)
        if action == "run":
            if self.conflicts:  # told to answer like a list busy with another job
                self.conflicts -= 1
                running = [True]
            else:  # a job started earlier (an answer lost on the way) has finished by now
                for other in self.jobs.values():
                    if other["status"] == "RUNNING":
                        self._finish(other)
                running = []
            check(not running, lambda: _err(409, "ABORTED", "another job runs on this list",
                                            {"databaseError": "CONCURRENT_MODIFICATION"}))
            check(job["status"] == "PENDING", lambda: _err(400, "FAILED_PRECONDITION", "job already run"))
            job["status"] = "RUNNING"
            return Reply(200, {"name": f"customers/{self.customer_id}/operations/{job_id}"})
        # GET: the job finishes when first polled
        if job["status"] == "RUNNING":
            self._finish(job)
        return Reply(200, {"resourceName": req.path[5:], "status": job["status"],
                           "customerMatchUserListMetadata": {"matchRatePercentage": 60}})
