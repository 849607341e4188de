"""Sending the pending batches of a run: plan rows → contacts → platform → receipts + state.

Every store access happens in the runner's thread; only the platform calls (with their
retries) run in a small thread pool, ``dest.concurrency()`` batches at a time. A batch is
confirmed, and the sync state changed, in one transaction after the platform accepted it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from cdp.errors import CDPError, DestinationError, TerminalDestinationError
from cdp.sync import locks, receipts
from cdp.sync.diff import QUEUE_PREFIX

if TYPE_CHECKING:
    from connectors.destinations.base import Contact, Destination
    from privacy.released import ReleasedAudience

__all__ = ["BatchSending"]


@dataclass
class _Prepared:
    batch_no: int
    op: str
    rows: list[tuple[Any, ...]]
    contacts: list[Contact]
    batch: Any  # connectors Batch, None when nothing is left to send


@dataclass
class _Ctx:
    run_id: int
    sync: str
    destination: str
    audience: ReleasedAudience | None


class BatchSending:
    """Mixin of :class:`cdp.sync.runner.SyncRunner`: it provides ``_store``, ``_keystore``,
    ``_let_go``, ``name``, ``holder``, ``dest_cfg``, ``sleep`` and ``progress``."""

    name: str
    holder: str
    dest_cfg: Any
    sleep: Any
    progress: Any
    _store: Any
    _keystore: Any
    _let_go: Any

    # -- batches ------------------------------------------------------------------------
    def _send_pending(self, dest: Destination, ctx: _Ctx, *, allowed: set[str] | None) -> str | None:
        """Send every pending batch of ``ctx.run_id``; returns why the run stopped, if it did.

        Up to ``dest.concurrency()`` batches are in flight at once (sends run in threads,
        every store access stays in this thread); receipts are written as batches finish.
        """
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        with self._store() as con:
            pending = con.execute(
                "SELECT batch_no, op, seq, total, idempotency_key, members FROM sync_receipts "
                "WHERE run_id = ? AND status = 'pending' ORDER BY batch_no",
                [ctx.run_id],
            ).fetchall()
            total = con.execute("SELECT count(*) FROM sync_receipts WHERE run_id = ?", [ctx.run_id]).fetchone()[0]
        estimated = {op: 0 for op in ("add", "remove")}
        for row in pending:
            estimated[row[1]] += int(row[5])
        state: dict[str, Any] = {"done": int(total) - len(pending), "sent": 0, "stop": None}
        width = max(1, dest.concurrency())
        window: deque[tuple[_Prepared, Future[Any]]] = deque()

        def complete() -> None:
            prepared, future = window.popleft()
            stop = self._record(dest, ctx, prepared, future.result())
            state["done"] += 1
            state["sent"] += len(prepared.rows)
            if self.progress is not None:
                self.progress(self.name, int(state["done"]), int(total), int(state["sent"]))
            if stop and not state["stop"]:
                state["stop"] = stop

        with ThreadPoolExecutor(max_workers=width, thread_name_prefix=f"sync-{self.name}") as pool:
            for batch_no, op, seq, total_op, key, _members in pending:
                if state["stop"]:
                    break
                prepared = self._prepare(dest, ctx, batch_no, op, seq, total_op, key, estimated[op], allowed)
                if prepared.batch is None:
                    state["done"] += 1
                    continue
                self._let_go()
                window.append((prepared, pool.submit(self._transmit, dest, prepared)))
                while len(window) >= width:
                    complete()
            while window:
                complete()
        return state["stop"]  # type: ignore[return-value]

    def _contacts(self, con: Any, dest: Destination, rows: list[tuple[Any, ...]], op: str) -> list[Contact]:
        from connectors.destinations.base import Contact

        need = op == "add" or dest.remove_needs_contacts
        ids = [r[0] for r in rows if not str(r[0]).startswith(QUEUE_PREFIX)]
        plain: dict[str, dict[str, str]] = {}
        if need and ids:
            from privacy.vault import Vault

            plain = Vault(con, self._keystore()).get_many(ids, list(dest.contact_fields))
        out = []
        for cid, platform_key, reason, _seq in rows:
            p = plain.get(cid, {})
            out.append(
                Contact(
                    customer_id=cid, email=p.get("email"), phone=p.get("phone"), first_name=p.get("first_name"),
                    last_name=p.get("last_name"), country=p.get("country"), platform_key=platform_key, reason=reason,
                )
            )
        return out

    def _prepare(self, dest: Destination, ctx: _Ctx, batch_no: int, op: str, seq: int, total_op: int, key: str,
                 estimated: int, allowed: set[str] | None) -> _Prepared:
        """Read one batch of the plan and its contact points (this thread: store access)."""
        from connectors.destinations.base import Batch

        with self._store() as con:
            rows = con.execute(
                "SELECT customer_id, platform_key, reason, consent_seq FROM sync_plan "
                "WHERE run_id = ? AND batch_no = ? ORDER BY customer_id",
                [ctx.run_id, batch_no],
            ).fetchall()
            if allowed is not None and op == "add":
                rows = [r for r in rows if r[0] in allowed]  # the gate still releases them now
            contacts = self._contacts(con, dest, rows, op)
            locks.refresh(con, self.name, self.holder)
            if not contacts:
                receipts.confirm_batch(con, ctx.run_id, batch_no, response={"received": 0, "invalid": 0, "counts": {}},
                                       attempts=0, request_digest="", consent_digest=None)
                return _Prepared(batch_no, op, rows, [], None)
        batch = Batch(sync=ctx.sync, run_id=ctx.run_id, batch_no=batch_no, op=op, members=contacts,  # type: ignore[arg-type]
                      seq=seq, total=total_op, estimated_total=estimated, key=key)
        return _Prepared(batch_no, op, rows, contacts, batch)

    def _transmit(self, dest: Destination, prepared: _Prepared) -> tuple[str, Any, int]:
        """Send one batch with retries (any thread, no store access): (outcome, result or error, attempts)."""
        from cdp.sync.retry import call_with_retry

        retry = self.dest_cfg.retry
        count = {"n": 0}

        def attempt() -> Any:
            count["n"] += 1
            return dest.send(prepared.batch)  # type: ignore[arg-type]

        try:
            result, attempts = call_with_retry(
                attempt, attempts=retry.attempts, backoff_base=retry.backoff_base, backoff_max=retry.backoff_max,
                sleep=self.sleep,
            )
        except TerminalDestinationError as exc:
            return "terminal", exc, count["n"]
        except DestinationError as exc:  # transient, retries exhausted
            return "transient", exc, count["n"]
        except CDPError as exc:
            return "terminal", exc, count["n"]
        return "ok", result, attempts

    def _record(self, dest: Destination, ctx: _Ctx, prepared: _Prepared, outcome: tuple[str, Any, int]) -> str | None:
        """Write the batch's receipt and the sync state (this thread); returns a stop reason."""
        kind, value, attempts = outcome
        batch_no, op, rows, contacts = prepared.batch_no, prepared.op, prepared.rows, prepared.contacts
        if kind == "terminal":
            with self._store() as con:
                receipts.fail_batch(con, ctx.run_id, batch_no, error=str(value), attempts=attempts)
            return None
        if kind == "transient":
            with self._store() as con:
                receipts.fail_batch(con, ctx.run_id, batch_no, error=str(value), attempts=attempts, status="pending")
            return f"batch {batch_no}: {receipts.scrub(str(value))}"
        result = value
        failed = set(result.failed)
        request_digest = hashlib.sha256(
            json.dumps([c.customer_id for c in contacts], separators=(",", ":")).encode()
        ).hexdigest()
        consent_digest = (
            receipts.batch_digest([r[0] for r in rows], [r[3] for r in rows]) if op == "add" else None
        )
        response = {"received": result.received, "invalid": result.invalid, "counts": result.counts}
        with self._store() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                receipts.confirm_batch(con, ctx.run_id, batch_no, response=response, attempts=attempts,
                                       request_digest=request_digest, consent_digest=consent_digest)
                if op == "add":
                    self._state_add(con, ctx, dest, contacts, failed, result.keys)
                else:
                    self._state_remove(con, ctx, contacts)
                locks.refresh(con, self.name, self.holder)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        return None

    def _state_add(self, con: Any, ctx: _Ctx, dest: Destination, contacts: list[Contact], failed: set[str],
                   keys: dict[str, str]) -> None:
        ids, pkeys = [], []
        for c in contacts:
            if c.customer_id in failed:
                continue
            ids.append(c.customer_id)
            pkeys.append(keys.get(c.customer_id) or dest.platform_key(c))
        if not ids:
            return
        now = receipts.utcnow()
        tbl = pa.table({"customer_id": pa.array(ids, pa.string()), "platform_key": pa.array(pkeys, pa.string())})
        con.register("_state_add", tbl)
        try:
            con.execute(
                "INSERT OR REPLACE INTO sync_state (sync, destination, customer_id, platform_key, synced_at) "
                "SELECT ?, ?, customer_id, platform_key, ? FROM _state_add",
                [ctx.sync, ctx.destination, now],
            )
        finally:
            con.unregister("_state_add")

    def _state_remove(self, con: Any, ctx: _Ctx, contacts: list[Contact]) -> None:
        ids = [c.customer_id for c in contacts if not c.customer_id.startswith(QUEUE_PREFIX)]
        queue = [c.customer_id[len(QUEUE_PREFIX):] for c in contacts if c.customer_id.startswith(QUEUE_PREFIX)]
        if ids:
            con.register("_state_rm", pa.table({"customer_id": pa.array(ids, pa.string())}))
            try:
                con.execute(
                    "DELETE FROM sync_state WHERE sync = ? AND destination = ? "
                    "AND customer_id IN (SELECT customer_id FROM _state_rm)",
                    [ctx.sync, ctx.destination],
                )
            finally:
                con.unregister("_state_rm")
        if queue:
            con.execute(
                "UPDATE removal_queue SET status = 'done', done_at = ? "
                "WHERE destination = ? AND sync = ? AND list_contains(?, request_id)",
                [receipts.utcnow(), ctx.destination, ctx.sync, queue],
            )
