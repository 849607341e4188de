"""Fake Mailchimp Marketing API v3 (DESTINATIONS.md, "Mailchimp")."""

from __future__ import annotations

import base64
import hashlib
import re

from tests.fakes.base import FakeServer, Reply, Request, check

__all__ = ["MailchimpFake"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PROBLEM = "application/problem+json"


def _problem(status: int, title: str, detail: str) -> Reply:
    return Reply(status, {"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": title,
                          "status": status, "detail": detail, "instance": "fake"}, content_type=PROBLEM)


def md5(email: str) -> str:
    return hashlib.md5(email.lower().encode()).hexdigest()


class MailchimpFake(FakeServer):
    """Keeps ``members`` (email → status) and ``segment`` (emails in the static segment)."""

    def __init__(self, *, api_key: str = "key-us21", list_id: str = "L1", segment_id: str = "77",
                 max_members: int = 500) -> None:
        super().__init__()
        self.api_key = api_key
        self.list_id = list_id
        self.segment_id = segment_id
        self.max_members = max_members
        self.members: dict[str, str] = {}
        self.segment: set[str] = set()
        self.deleted_permanently: set[str] = set()

    @property
    def audience(self) -> set[str]:
        return set(self.segment)

    def throttle_reply(self, req: Request) -> Reply:
        return _problem(429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.")

    def handle(self, req: Request) -> Reply:
        auth = req.headers.get("authorization", "")
        ok = False
        if auth.startswith("Basic "):
            user_pw = base64.b64decode(auth[6:]).decode()
            ok = user_pw.split(":", 1)[-1] == self.api_key
        check(ok, lambda: _problem(401, "API Key Invalid", "Your API key may be invalid."))
        path = req.path.removeprefix("/3.0")
        lid = self.list_id
        if req.method == "POST" and path == f"/lists/{lid}":
            return self._batch(req)
        if req.method == "POST" and path == f"/lists/{lid}/segments/{self.segment_id}":
            return self._segment(req)
        m = re.fullmatch(rf"/lists/{lid}/segments/{self.segment_id}/members/([0-9a-f]{{32}})", path)
        if req.method == "DELETE" and m:
            email = self._by_hash(m.group(1))
            check(email in self.segment, lambda: _problem(404, "Resource Not Found", "not in segment"))
            self.segment.discard(email)
            self.applied += 1
            return Reply(204)
        m = re.fullmatch(rf"/lists/{lid}/members/([0-9a-f]{{32}})/actions/delete-permanent", path)
        if req.method == "POST" and m:
            email = self._by_hash(m.group(1))
            check(email is not None, lambda: _problem(404, "Resource Not Found", "member not found"))
            self.members.pop(email, None)
            self.segment.discard(email)
            self.deleted_permanently.add(m.group(1))
            self.applied += 1
            return Reply(204)
        m = re.fullmatch(rf"/lists/{lid}/members/([0-9a-f]{{32}})", path)
        if req.method == "DELETE" and m:
            email = self._by_hash(m.group(1))
            check(email is not None, lambda: _problem(404, "Resource Not Found", "member not found"))
            self.members[email] = "archived"
            self.segment.discard(email)
            self.applied += 1
            return Reply(204)
        return _problem(404, "Resource Not Found", "The requested resource could not be found.")

    def _by_hash(self, h: str) -> str | None:
        return next((e for e in self.members if md5(e) == h), None)

    def _batch(self, req: Request) -> Reply:
        body = req.json()
        members = body.get("members")
        check(isinstance(members, list) and len(members) <= self.max_members,
              lambda: _problem(400, "Invalid Resource", f"members: at most {self.max_members} per request"))
        new, updated, errors = [], [], []
        for m in members:
            email = str(m.get("email_address", ""))
            status = m.get("status")
            check(status in ("subscribed", "unsubscribed", "pending", "cleaned", "transactional"),
                  lambda: _problem(400, "Invalid Resource", "status is invalid"))
            if not _EMAIL.match(email) or email != email.lower().strip():
                errors.append({"email_address": email, "error": "invalid email", "error_code": "ERROR_GENERIC"})
                continue
            if email in self.members:
                if not body.get("update_existing"):
                    errors.append({"email_address": email, "error": "already a list member", "error_code": "ERROR_CONTACT_EXISTS"})
                    continue
                updated.append({"email_address": email, "id": md5(email), "status": status})
            else:
                new.append({"email_address": email, "id": md5(email), "status": status})
            self.members[email] = status
            if status == "unsubscribed":
                self.segment.discard(email)
        self.applied += 1
        return Reply(200, {"new_members": new, "updated_members": updated, "errors": errors,
                           "total_created": len(new), "total_updated": len(updated), "error_count": len(errors)})

    def _segment(self, req: Request) -> Reply:
        body = req.json()
        add = body.get("members_to_add", []) or []
        remove = body.get("members_to_remove", []) or []
        check(len(add) <= self.max_members and len(remove) <= self.max_members,
              lambda: _problem(400, "Invalid Resource", f"at most {self.max_members} members_to_add/remove"))
        added, removed, errors = [], [], []
        for email in add:
            if self.members.get(email) not in ("subscribed",):
                errors.append({"email_addresses": [email], "error": "not a subscribed list member"})
                continue
            self.segment.add(email)
            added.append({"email_address": email})
        for email in remove:
            if email in self.segment:
                self.segment.discard(email)
                removed.append({"email_address": email})
        self.applied += 1
        return Reply(200, {"members_added": added, "members_removed": removed, "errors": errors,
                           "total_added": len(added), "total_removed": len(removed), "error_count": len(errors)})
