"""Fake Meta Custom Audiences API (DESTINATIONS.md, "Meta Marketing API")."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.base import FakeServer, Reply, Request, check

__all__ = ["MetaFake"]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MULTI = ["EMAIL", "PHONE", "FN", "LN", "COUNTRY"]


def _error(message: str, code: int = 100, subcode: int | None = None) -> Reply:
    return Reply(
        400,
        {"error": {"message": message, "type": "OAuthException", "code": code,
                   "error_subcode": subcode, "fbtrace_id": "Afake"}},
    )


class MetaFake(FakeServer):
    """Keeps ``audience``: the set of member keys (the email hash, else the phone hash)."""

    def __init__(self, *, token: str = "meta-token", audience_id: str = "2385", max_rows: int = 10_000,
                 throttle_codes: tuple[int, ...] = (17, 613, 80003)) -> None:
        super().__init__()
        self.token = token
        self.audience_id = audience_id
        self.max_rows = max_rows
        self.audience: set[str] = set()
        self.rows: dict[str, list[str]] = {}
        self.sessions: dict[int, dict[str, Any]] = {}
        self._codes = itertools.cycle(throttle_codes)
        self.batches_seen: Counter[tuple[int, int]] = Counter()  # (session_id, batch_seq) -> times applied

    def throttle_reply(self, req: Request) -> Reply:
        code = next(self._codes)
        return _error("(#17) User request limit reached", code=code, subcode=2446079)

    def handle(self, req: Request) -> Reply:
        check(req.headers.get("authorization") == f"Bearer {self.token}",
              lambda: _error("Invalid OAuth access token.", code=190))
        m = re.fullmatch(r"/v[\d.]+/(\w+)/users", req.path)
        check(bool(m) and req.method in ("POST", "DELETE"), lambda: Reply(404, {"error": {"message": "Unknown path", "code": 803}}))
        check(m.group(1) == self.audience_id, lambda: _error("Audience does not exist", code=100, subcode=1713002))
        check("application/x-www-form-urlencoded" in req.headers.get("content-type", ""),
              lambda: _error("payload must be form-encoded"))
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        check("payload" in form, lambda: _error("(#100) The parameter payload is required"))
        # the session is read before the rows are validated: a refused batch still takes its place
        session = json.loads(form.get("session", "null"))
        if session is not None:
            sid = session.get("session_id")
            seq = session.get("batch_seq")
            check(isinstance(sid, int) and 0 < sid < 2**63 and isinstance(seq, int) and seq >= 1,
                  lambda: _error("invalid session"))
            state = self.sessions.setdefault(sid, {"last": 0, "closed": False, "op": req.method})
            check(state["op"] == req.method, lambda: _error("a session holds adds or removes, not both"))
            check(seq <= state["last"] + 1, lambda: _error("batch_seq out of order", subcode=1870039))
            check(not (state["closed"] and seq > state["last"]), lambda: _error("session already finished"))
            state["last"] = max(state["last"], seq)
            if session.get("last_batch_flag"):
                state["closed"] = True
        payload = json.loads(form["payload"])
        schema = payload.get("schema")
        check(schema in (MULTI, ["EMAIL_SHA256"], "EMAIL_SHA256"), lambda: _error("Invalid schema"))
        schema = [schema] if isinstance(schema, str) else schema
        data = payload.get("data")
        check(isinstance(data, list) and len(data) <= self.max_rows,
              lambda: _error(f"(#100) Too many rows: at most {self.max_rows} per request"))
        for row in data:
            row = row if isinstance(row, list) else [row]
            check(len(row) == len(schema), lambda: _error("row does not match the schema"))
            for value in row:
                check(value == "" or bool(_HEX64.match(value)),
                      lambda: _error("(#100) values must be SHA-256 lower-case hex", subcode=1870065))
        if session is not None:
            self.batches_seen[(session["session_id"], session["batch_seq"])] += 1
        invalid = 0
        for row in data:
            row = row if isinstance(row, list) else [row]
            key = next((v for v in row[:2] if v), "")
            if not key:
                invalid += 1
                continue
            if req.method == "POST":
                self.audience.add(key)
                self.rows[key] = row
            else:
                self.audience.discard(key)
                self.rows.pop(key, None)
        self.applied += 1
        return Reply(200, {"audience_id": self.audience_id, "session_id": session and session["session_id"],
                           "num_received": len(data), "num_invalid_entries": invalid,
                           "invalid_entry_samples": {}})
