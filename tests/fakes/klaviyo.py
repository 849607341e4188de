"""Fake Klaviyo API (JSON:API, revision header; DESTINATIONS.md, "Klaviyo")."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from tests.fakes.base import FakeServer, Reply, Request, check

__all__ = ["KlaviyoFake"]

JSONAPI = "application/vnd.api+json"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _errors(status: int, code: str, detail: str, pointer: str = "/data") -> Reply:
    return Reply(status, {"errors": [{"id": "e1", "status": status, "code": code, "title": code.replace("_", " "),
                                      "detail": detail, "source": {"pointer": pointer}}]}, content_type=JSONAPI)


class KlaviyoFake(FakeServer):
    """Keeps profiles (id → email, consent) and ``list_members`` (profile ids in the list)."""

    def __init__(self, *, api_key: str = "pk_test", list_id: str = "Y6nRLr", subscribe_limit: int = 1000,
                 unsubscribe_limit: int = 100, relationship_limit: int = 1000, retry_after: str = "0") -> None:
        super().__init__()
        self.api_key = api_key
        self.list_id = list_id
        self.subscribe_limit = subscribe_limit
        self.unsubscribe_limit = unsubscribe_limit
        self.relationship_limit = relationship_limit
        self.retry_after = retry_after
        self.profiles: dict[str, dict[str, Any]] = {}
        self.list_members: set[str] = set()
        self.deleted: set[str] = set()
        self._ids = itertools.count(1)

    @property
    def audience(self) -> set[str]:
        return {self.profiles[p]["email"] for p in self.list_members if p in self.profiles}

    def throttle_reply(self, req: Request) -> Reply:
        r = _errors(429, "throttled", "Request was throttled.")
        r.headers["Retry-After"] = self.retry_after
        return r

    def _profile_for(self, email: str) -> str:
        for pid, p in self.profiles.items():
            if p["email"] == email:
                return pid
        pid = f"01PROF{next(self._ids):06d}"
        self.profiles[pid] = {"email": email, "consent": None}
        return pid

    def handle(self, req: Request) -> Reply:
        check(req.headers.get("authorization") == f"Klaviyo-API-Key {self.api_key}",
              lambda: _errors(401, "not_authenticated", "Missing or invalid private key."))
        check(bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}(\.\w+)?", req.headers.get("revision", ""))),
              lambda: _errors(400, "invalid", "revision header missing or invalid"))
        if req.body:
            check(req.headers.get("content-type", "").startswith(JSONAPI),
                  lambda: _errors(415, "unsupported_media_type", "Content-Type must be application/vnd.api+json"))
        p = req.path
        if req.method == "POST" and p == "/api/profile-subscription-bulk-create-jobs":
            return self._subscribe(req.json())
        if req.method == "POST" and p == "/api/profile-bulk-import-jobs":
            return self._import(req.json())
        if req.method == "POST" and p == "/api/profile-subscription-bulk-delete-jobs":
            return self._unsubscribe(req.json())
        if req.method == "GET" and p == "/api/profiles":
            return self._lookup(req)
        if req.method == "DELETE" and p == f"/api/lists/{self.list_id}/relationships/profiles":
            data = req.json().get("data")
            check(isinstance(data, list) and len(data) <= self.relationship_limit,
                  lambda: _errors(400, "invalid", f"at most {self.relationship_limit} profiles"))
            for item in data:
                check(item.get("type") == "profile", lambda: _errors(409, "conflict", "type must be profile", "/data/0/type"))
                self.list_members.discard(item.get("id"))
            self.applied += 1
            return Reply(204)
        if req.method == "POST" and p == "/api/data-privacy-deletion-jobs":
            d = req.json().get("data", {})
            check(d.get("type") == "data-privacy-deletion-job", lambda: _errors(409, "conflict", "wrong type", "/data/type"))
            pid = d.get("attributes", {}).get("profile", {}).get("data", {}).get("id")
            self.profiles.pop(pid, None)
            self.list_members.discard(pid)
            self.deleted.add(pid)
            self.applied += 1
            return Reply(202)
        return _errors(404, "not_found", "no such endpoint")

    def _check_list(self, rel: Any) -> None:
        check(isinstance(rel, dict) and rel.get("type") == "list" and rel.get("id") == self.list_id,
              lambda: _errors(400, "invalid", "list relationship missing or wrong", "/data/relationships/list"))

    def _profiles(self, d: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        profiles = d.get("attributes", {}).get("profiles", {}).get("data")
        check(isinstance(profiles, list) and 0 < len(profiles) <= limit,
              lambda: _errors(400, "invalid", f"between 1 and {limit} profiles per job"))
        for i, prof in enumerate(profiles):
            check(prof.get("type") == "profile", lambda: _errors(409, "conflict", "type must be profile", f"/data/attributes/profiles/data/{i}/type"))
            email = prof.get("attributes", {}).get("email")
            check(email is None or bool(_EMAIL.match(email)),
                  lambda: _errors(400, "invalid", "invalid email", f"/data/attributes/profiles/data/{i}/attributes/email"))
        return profiles

    def _subscribe(self, body: dict[str, Any]) -> Reply:
        d = body.get("data", {})
        check(d.get("type") == "profile-subscription-bulk-create-job", lambda: _errors(409, "conflict", "wrong type", "/data/type"))
        self._check_list(d.get("relationships", {}).get("list", {}).get("data"))
        for prof in self._profiles(d, self.subscribe_limit):
            attrs = prof["attributes"]
            subs = attrs.get("subscriptions", {})
            check(bool(subs), lambda: _errors(400, "invalid", "subscriptions required"))
            pid = self._profile_for(attrs["email"])
            self.profiles[pid]["consent"] = "SUBSCRIBED"
            self.list_members.add(pid)
        self.applied += 1
        return Reply(202)

    def _import(self, body: dict[str, Any]) -> Reply:
        d = body.get("data", {})
        check(d.get("type") == "profile-bulk-import-job", lambda: _errors(409, "conflict", "wrong type", "/data/type"))
        check(len(json.dumps(body)) <= 5_000_000, lambda: _errors(413, "too_large", "payload over 5 MB"))
        lists = d.get("relationships", {}).get("lists", {}).get("data") or []
        check(len(lists) == 1, lambda: _errors(400, "invalid", "one list expected"))
        self._check_list(lists[0])
        for prof in self._profiles(d, 10_000):
            pid = self._profile_for(prof["attributes"]["email"])
            self.list_members.add(pid)
        self.applied += 1
        return Reply(202, {"data": {"type": "profile-bulk-import-job", "id": f"job{next(self._ids)}",
                                    "attributes": {"status": "queued"}}}, content_type=JSONAPI)

    def _unsubscribe(self, body: dict[str, Any]) -> Reply:
        d = body.get("data", {})
        check(d.get("type") == "profile-subscription-bulk-delete-job", lambda: _errors(409, "conflict", "wrong type", "/data/type"))
        for prof in self._profiles(d, self.unsubscribe_limit):
            pid = self._profile_for(prof["attributes"]["email"])
            self.profiles[pid]["consent"] = "UNSUBSCRIBED"
        self.applied += 1
        return Reply(202)

    def _lookup(self, req: Request) -> Reply:
        flt = (req.query.get("filter") or [""])[0]
        m = re.fullmatch(r"any\(email,\[(.*)\]\)", flt)
        check(bool(m), lambda: _errors(400, "invalid", "unsupported filter"))
        emails = json.loads(f"[{m.group(1)}]")
        size = int((req.query.get("page[size]") or ["20"])[0])
        check(size <= 100 and len(emails) <= 100, lambda: _errors(400, "invalid", "page size at most 100"))
        data = [{"type": "profile", "id": pid, "attributes": {"email": p["email"]}}
                for pid, p in self.profiles.items() if p["email"] in emails]
        return Reply(200, {"data": data[:size], "links": {"next": None}}, content_type=JSONAPI)
