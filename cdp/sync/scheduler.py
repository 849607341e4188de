"""``cdp schedule run``: cron schedules from cdp.toml in the workspace time zone.

The scheduler remembers, per sync, the last cron time it ran for (``sync_schedule``), so
after a stop it catches a missed run up once (several missed fire times collapse into
one run) and never runs a sync twice for the same time. A sync seen for the first time
starts from now: no catch-up of history. Due syncs run one at a time; a failing sync is
recorded and the others still run. The store is opened per job, never held between jobs.
The clock and the sleep are injectable, so tests drive it without waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from croniter import croniter

if TYPE_CHECKING:
    from cdp.workspace import Workspace

__all__ = ["Scheduler", "next_fire", "prev_fire"]

MAX_SLEEP = 60.0


def _aware_utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def next_fire(expr: str, after: datetime, tz: str) -> datetime:
    """The next cron time strictly after ``after`` (aware), as aware UTC."""
    local = _aware_utc(after).astimezone(ZoneInfo(tz))
    return croniter(expr, local).get_next(datetime).astimezone(UTC)


def prev_fire(expr: str, before: datetime, tz: str) -> datetime:
    """The latest cron time at or before ``before``, as aware UTC."""
    local = _aware_utc(before).astimezone(ZoneInfo(tz))
    nxt = croniter(expr, local).get_next(datetime)
    if nxt == local:
        return nxt.astimezone(UTC)
    return croniter(expr, local).get_prev(datetime).astimezone(UTC)


class Scheduler:
    """Runs the scheduled syncs of a workspace when they are due."""

    def __init__(
        self,
        ws: Workspace,
        *,
        clock: Callable[[], datetime] | None = None,
        run: Callable[[str], dict[str, Any]] | None = None,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.ws = ws
        self.clock = clock or (lambda: datetime.now(UTC))
        self._run = run or (lambda name: ws.sync.run_one(name))
        self.on_event = on_event or (lambda kind, info: None)
        self.stop_event = threading.Event()

    # -- what is scheduled ----------------------------------------------------------
    def schedules(self) -> dict[str, str]:
        return {n: s.schedule for n, s in self.ws.config.syncs.items() if s.schedule and s.enabled}

    def _memory(self) -> dict[str, datetime]:
        with self.ws.store() as con:
            rows = con.execute("SELECT sync, last_fire_at FROM sync_schedule").fetchall()
        return {r[0]: r[1].replace(tzinfo=UTC) for r in rows}

    def _remember(self, sync: str, fire: datetime, run_id: int | None, status: str) -> None:
        with self.ws.store() as con:
            con.execute(
                "INSERT OR REPLACE INTO sync_schedule VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
                [sync, fire.astimezone(UTC).replace(tzinfo=None), run_id, status],
            )

    def next_runs(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Per scheduled sync: the next run (UTC and local) and whether a missed run is due."""
        now = _aware_utc(now or self.clock())
        tz = self.ws.timezone
        memory = self._memory()
        out = []
        for name, expr in sorted(self.schedules().items()):
            last = memory.get(name)
            due = last is not None and next_fire(expr, last, tz) <= now
            nxt = now if due else next_fire(expr, now, tz)
            out.append({
                "sync": name, "schedule": expr, "timezone": tz, "next_run_utc": nxt.replace(tzinfo=None),
                "next_run_local": nxt.astimezone(ZoneInfo(tz)).replace(tzinfo=None), "catch_up": due,
                "last_fire_utc": last.replace(tzinfo=None) if last else None,
            })
        return out

    # -- running ----------------------------------------------------------------------
    def due(self, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """(sync, fire time) of every sync due at ``now``; first sight starts from now."""
        now = _aware_utc(now or self.clock())
        tz = self.ws.timezone
        memory = self._memory()
        out = []
        for name, expr in sorted(self.schedules().items()):
            last = memory.get(name)
            if last is None:
                self._remember(name, prev_fire(expr, now, tz), None, "baseline")
                continue
            if next_fire(expr, last, tz) <= now:
                out.append((name, prev_fire(expr, now, tz)))
        return out

    def tick(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Run every due sync once; a failure is recorded and does not stop the others."""
        results = []
        for name, fire in self.due(now):
            if self.stop_event.is_set():
                break
            self.on_event("start", {"sync": name, "fire": fire})
            try:
                result = self._run(name)
                status = str(result.get("status", "ok"))
                run_id = result.get("run_id")
            except Exception as exc:  # one failing sync must not stop the others
                result = {"sync": name, "status": "error", "error": str(exc), "error_type": type(exc).__name__}
                status, run_id = "error", None
            self._remember(name, fire, run_id, status)
            result = {**result, "sync": name, "fire_utc": fire.replace(tzinfo=None)}
            self.on_event("done", result)
            results.append(result)
        return results

    def seconds_until_next(self, now: datetime | None = None) -> float:
        now = _aware_utc(now or self.clock())
        runs = self.next_runs(now)
        if not runs:
            return MAX_SLEEP
        soonest = min(r["next_run_utc"] for r in runs).replace(tzinfo=UTC)
        return max(0.0, min(MAX_SLEEP, (soonest - now).total_seconds()))

    def run_forever(self, *, max_ticks: int | None = None) -> int:
        """Tick until :meth:`stop` (Ctrl-C in the CLI); returns how many syncs ran."""
        ran = 0
        ticks = 0
        while not self.stop_event.is_set():
            ran += len(self.tick())
            ticks += 1
            if max_ticks is not None and ticks >= max_ticks:
                break
            self.stop_event.wait(self.seconds_until_next())
        return ran

    def stop(self) -> None:
        """Finish the sync in progress, then return from :meth:`run_forever`."""
        self.stop_event.set()
