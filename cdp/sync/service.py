"""``ws.sync``: the Python API behind ``cdp sync`` and ``cdp schedule``.

>>> ws.sync.run(["platinum_to_meta"], dry_run=True)      # doctest: +SKIP
[{'sync': 'platinum_to_meta', 'status': 'ok', 'adds': 1520, ...}]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cdp.errors import CDPError, NotFoundError

if TYPE_CHECKING:
    from cdp.sync.runner import Progress
    from cdp.sync.scheduler import Scheduler
    from cdp.workspace import Workspace

__all__ = ["SyncService"]


class SyncService:
    """Run syncs, read their status and history, and schedule them."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def names(self) -> list[str]:
        return sorted(self.ws.config.syncs)

    def _check_names(self, names: list[str]) -> None:
        import difflib

        known = self.names()
        for name in names:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                raise NotFoundError("sync", name, suggestion=close[0] if close else None,
                                    hint="syncs are declared as [syncs.NAME] in cdp.toml")

    def run_one(
        self,
        name: str,
        *,
        dry_run: bool = False,
        as_of: Any = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[str, Any]:
        """Run one sync; raises CDPError (SyncLockedError, GateRefusal is a ``refused`` result)."""
        from cdp.sync.runner import SyncRunner

        result = SyncRunner(self.ws, name, dry_run=dry_run, as_of=as_of, progress=progress, sleep=sleep).run()
        return {"sync": name, **result}

    def run(
        self,
        names: list[str] | None = None,
        *,
        dry_run: bool = False,
        as_of: Any = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> list[dict[str, Any]]:
        """Run the named syncs (default: every enabled one), one after the other.

        A sync that cannot run (locked, refused by the gate, platform down) gives a result
        with its status and error; the others still run.
        """
        if names:
            self._check_names(names)
        else:
            names = [n for n, s in sorted(self.ws.config.syncs.items()) if s.enabled]
        results = []
        for name in names:
            try:
                results.append(self.run_one(name, dry_run=dry_run, as_of=as_of, progress=progress, sleep=sleep))
            except CDPError as exc:
                results.append({"sync": name, "status": "error", "error": str(exc), "error_type": type(exc).__name__,
                                "dry_run": dry_run})
        return results

    def status(self) -> list[dict[str, Any]]:
        """The last run of every configured sync (``never`` when it has not run)."""
        from cdp.sync.receipts import last_runs

        with self.ws.store() as con:
            last = {r["sync"]: r for r in last_runs(con)}
            locked = {r[0][5:] for r in con.execute("SELECT name FROM locks WHERE name LIKE 'sync:%' "
                                                     "AND expires_at > now()::TIMESTAMP").fetchall()}
        out = []
        for name, cfg in sorted(self.ws.config.syncs.items()):
            row = last.get(name) or {"sync": name, "status": "never"}
            row = {**row, "destination": cfg.destination, "segment": cfg.segment, "purpose": cfg.purpose,
                   "mode": cfg.mode, "schedule": cfg.schedule, "running_now": name in locked}
            out.append(row)
        return out

    def history(self, name: str, limit: int = 50) -> list[dict[str, Any]]:
        """Runs of ``name``, newest first, with counts and the platform's own response counts."""
        from cdp.sync.receipts import history

        self._check_names([name])
        with self.ws.store() as con:
            return history(con, name, limit)

    def receipts(self, run_id: int) -> list[dict[str, Any]]:
        """The batch receipts of one run (counts and digests only)."""
        import json

        with self.ws.store() as con:
            rows = con.execute(
                "SELECT batch_no, op, members, status, attempts, request_digest, consent_digest, response, error, "
                "recorded_at, confirmed_at FROM sync_receipts WHERE run_id = ? ORDER BY batch_no",
                [run_id],
            ).fetchall()
        keys = ("batch_no", "op", "members", "status", "attempts", "request_digest", "consent_digest", "response",
                "error", "recorded_at", "confirmed_at")
        out = []
        for r in rows:
            d = dict(zip(keys, r))
            if isinstance(d["response"], str):
                d["response"] = json.loads(d["response"])
            out.append(d)
        return out

    # -- schedules ------------------------------------------------------------------
    def scheduler(self, *, clock: Callable[[], datetime] | None = None,
                  run: Callable[[str], dict[str, Any]] | None = None,
                  on_event: Callable[[str, dict[str, Any]], None] | None = None) -> Scheduler:
        from cdp.sync.scheduler import Scheduler

        return Scheduler(self.ws, clock=clock, run=run, on_event=on_event)

    def schedule(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """The next run of each scheduled sync."""
        return self.scheduler().next_runs(now)
