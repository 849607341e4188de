"""Fake webhook receiver: verifies CDP-Signature and de-duplicates on Idempotency-Key."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from tests.fakes.base import FakeServer, Reply, Request, check

__all__ = ["WebhookFake"]


class WebhookFake(FakeServer):
    """Keeps ``members`` (customer_id → fields) and the idempotency keys seen."""

    def __init__(self, *, secret: str = "whsec", tolerance: int = 300) -> None:
        super().__init__()
        self.secret = secret
        self.tolerance = tolerance
        self.members: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, dict[str, Any]] = {}
        self.duplicates = 0
        self.bodies: list[dict[str, Any]] = []

    @property
    def audience(self) -> set[str]:
        return set(self.members)

    def _verify(self, req: Request) -> bool:
        header = req.headers.get("cdp-signature", "")
        parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
        ts = [v for k, v in parts if k == "t"]
        if len(ts) != 1 or abs(time.time() - int(ts[0])) > self.tolerance:
            return False
        mac = hmac.new(self.secret.encode(), f"{ts[0]}.".encode() + req.body, hashlib.sha256).hexdigest()
        return any(hmac.compare_digest(mac, v) for k, v in parts if k == "v1")

    def handle(self, req: Request) -> Reply:
        check(req.method == "POST", lambda: Reply(405, {"error": "POST only"}))
        check(self._verify(req), lambda: Reply(401, {"error": "bad signature"}))
        key = req.headers.get("idempotency-key", "")
        check(bool(key), lambda: Reply(400, {"error": "Idempotency-Key required"}))
        if key in self.keys:
            self.duplicates += 1
            return Reply(200, self.keys[key])
        body = json.loads(req.body)
        check(set(body) == {"sync", "run", "batch", "adds", "removes"}, lambda: Reply(422, {"error": "bad body"}))
        for m in body["adds"]:
            check("customer_id" in m, lambda: Reply(422, {"error": "customer_id missing"}))
            self.members[m["customer_id"]] = {k: v for k, v in m.items() if k != "customer_id"}
        for m in body["removes"]:
            self.members.pop(m["customer_id"], None)
        self.bodies.append(body)
        answer = {"received": len(body["adds"]) + len(body["removes"])}
        self.keys[key] = answer
        self.applied += 1
        return Reply(200, answer)
