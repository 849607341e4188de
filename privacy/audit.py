"""The audit log: every privacy-relevant action, who/what/when, never an identifier in clear."""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

__all__ = ["record", "actor"]


def actor() -> str:
    """CDP_ACTOR when set, else the operating-system user (PRIVACY.md §8)."""
    env = os.environ.get("CDP_ACTOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database in some containers
        return "unknown"


def record(con: Any, action: str, *, target: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Append one audit entry. ``target`` must be pseudonymous (customer_id, request id, sync name)."""
    con.execute(
        "INSERT INTO audit_log (seq, logged_at, actor, action, target, details) "
        "VALUES (nextval('audit_seq'), now()::TIMESTAMP, ?, ?, ?, ?)",
        [actor(), action, target, json.dumps(details or {}, ensure_ascii=False, default=str)],
    )
