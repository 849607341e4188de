"""One run of one sync: build → gate → diff → plan → batches → receipts (DESTINATIONS.md).

The store is opened for each step and closed in between (ARCHITECTURE.md, "Store
access"), so other commands keep working during a long upload; a lock row keeps a
second run of the same sync out. The plan and a ``pending`` receipt per batch are
written before anything is sent; a batch is ``confirmed`` and the sync state updated in
one transaction after the platform accepted it. A killed run is resumed by the next one:
its pending batches are sent again with the same batch numbers and idempotency keys,
keeping only members the gate still releases.

Failures: a terminal error (4xx) fails its batch, the run goes on and ends ``partial``;
a transient error that outlasts the retries stops the run (the platform is down or
throttling hard): the remaining batches stay pending for the next run.
"""

from __future__ import annotations

import difflib
import json
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdp.errors import (
    GateRefusal,
    NotFoundError,
    SyncError,
)
from cdp.sync import locks, receipts
from cdp.sync.batches import plan_batches
from cdp.sync.diff import compute_diff
from cdp.sync.sending import BatchSending, _Ctx

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cdp.config.destinations import DestinationConfig, SyncConfig
    from cdp.workspace import Workspace
    from connectors.destinations.base import Destination
    from privacy.released import ReleasedAudience

__all__ = ["Progress", "SyncRunner", "destination_terms", "make_destination", "policy_from_config"]

#: progress(sync, batches_done, batches_total, members_sent)
Progress = Callable[[str, int, int, int], None]

SAMPLE_MEMBERS = 3


def _near(name: str, names: list[str]) -> str | None:
    close = difflib.get_close_matches(name, names, n=1)
    return close[0] if close else None


def policy_from_config(ws: Workspace) -> Any:
    """The gate's Policy from ``[privacy]`` (the compliance area's mapping, one source of truth)."""
    from cdp.compliance.terms import policy_from_config as from_config

    return from_config(ws.config)


def destination_terms(name: str, cfg: DestinationConfig) -> Any:
    """What the gate must know about destination ``name`` (kind, channel, country, transfer, min size)."""
    from cdp.compliance.terms import destination_terms as terms

    return terms(name, cfg)


def make_destination(
    name: str, cfg: DestinationConfig, *, dry_run: bool = False, root: Path | None = None
) -> Destination:
    """Instantiate the connector with its secrets read from the environment.

    A dry run never sends, so missing secrets are replaced by a placeholder there.
    """
    from connectors.destinations.registry import destination_class

    cls = destination_class(cfg.kind)
    secrets: dict[str, str] = {}
    for secret, env in cfg.secret_envs().items():
        value = os.environ.get(env)
        if value:
            secrets[secret] = value
        elif dry_run:
            secrets[secret] = "dry-run-us0"
    if dry_run:
        for secret in cls.secret_names:
            secrets.setdefault(secret, "dry-run-us0")
    settings = cfg.settings()
    if root is not None and settings.get("path") and not Path(str(settings["path"])).is_absolute():
        settings["path"] = str(root / str(settings["path"]))  # a file folder is relative to the workspace
    return cls(name, settings, secrets)


class SyncRunner(BatchSending):
    """Runs one sync once. ``sleep`` is injectable so tests do not wait for backoff."""

    def __init__(
        self,
        ws: Workspace,
        name: str,
        *,
        dry_run: bool = False,
        as_of: Any = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ws = ws
        self.name = name
        self.dry_run = dry_run
        self.as_of = as_of
        self.progress = progress
        self.sleep = sleep
        syncs = ws.config.syncs
        if name not in syncs:
            raise NotFoundError("sync", name, suggestion=_near(name, list(syncs)),
                                hint="syncs are declared as [syncs.NAME] in cdp.toml")
        self.cfg: SyncConfig = syncs[name]
        dests = ws.config.destinations
        if self.cfg.destination not in dests:
            raise NotFoundError("destination", self.cfg.destination, suggestion=_near(self.cfg.destination, list(dests)),
                                hint=f"[syncs.{name}] names a destination that is not declared in cdp.toml")
        self.dest_cfg: DestinationConfig = dests[self.cfg.destination]
        self.holder = locks.new_holder()
        self._con: Any = None
        self._con_cm: Any = None
        self._con_since = 0.0
        self._ks: Any = None

    # -- store access -----------------------------------------------------------------
    # Opening and closing a DuckDB file costs ~0.1 s, so the run keeps its connection (and
    # the key store) between steps, but lets go of both before a send once it has held
    # them for ``hold_seconds``: other commands waiting for the store get in while we
    # wait for the platform (ARCHITECTURE.md, "Store access").
    hold_seconds = float(os.environ.get("CDP_SYNC_HOLD_SECONDS", "5"))

    @contextmanager
    def _store(self) -> Iterator[Any]:
        if self._con is None:
            self._con_cm = self.ws.store()
            self._con = self._con_cm.__enter__()
            self._con_since = time.monotonic()
        yield self._con

    def _keystore(self) -> Any:
        if self._ks is None:
            from privacy.keys import KeyStore

            self._ks = KeyStore.open(self.ws.state_dir)
        return self._ks

    def _let_go(self, *, force: bool = False) -> None:
        """Close the store and key store if held long enough (or ``force``)."""
        if self._con is None or not (force or time.monotonic() - self._con_since >= self.hold_seconds):
            return
        if self._ks is not None:
            ks, self._ks = self._ks, None
            ks.close()
        cm, self._con, self._con_cm = self._con_cm, None, None
        cm.__exit__(None, None, None)

    # -- the run ----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        dest = make_destination(self.cfg.destination, self.dest_cfg, dry_run=self.dry_run, root=self.ws.root)
        try:
            if self.dry_run:
                return self._run(dest)
            with self._store() as con:
                locks.acquire(con, self.name, self.holder)
            try:
                return self._run(dest)
            finally:
                with self._store() as con:
                    locks.release(con, self.name, self.holder)
        finally:
            self._let_go(force=True)
            dest.close()

    def _build_id(self) -> tuple[int, Any]:
        when = self.ws.segments.as_of(self.as_of)
        with self._store() as con:
            row = con.execute(
                "SELECT build_id FROM segment_builds WHERE segment = ? AND as_of = ? ORDER BY build_id DESC LIMIT 1",
                [self.cfg.segment, when.local],
            ).fetchone()
        if row is not None:
            return int(row[0]), when
        self._let_go(force=True)  # the segment service opens the store itself
        built = self.ws.segments.build([self.cfg.segment], as_of=when.local)
        info = built.get(self.cfg.segment)
        if not info or info.get("build_id") is None:
            raise SyncError(f"building segment '{self.cfg.segment}' gave no build")
        return int(info["build_id"]), when

    def _release(self, build_id: int, when: Any) -> ReleasedAudience:
        from privacy import gate

        terms = destination_terms(self.cfg.destination, self.dest_cfg)
        with self._store() as con:
            return gate.release(con, build_id, terms, self.cfg.purpose, when.utc, policy_from_config(self.ws))

    def _refused(self, build_id: int, exc: GateRefusal, dest: Destination) -> dict[str, Any]:
        """The gate released nothing; people who said no or were erased still leave."""
        from privacy import audit
        from privacy.policy import channel_for
        from privacy.released import MEMBER_SCHEMA

        removed: dict[str, Any] = {}
        run_id = None
        if not self.dry_run:
            policy = policy_from_config(self.ws)
            channel = destination_terms(self.cfg.destination, self.dest_cfg).channel or channel_for(
                self.cfg.purpose, policy.purposes
            )
            with self._store() as con:
                diff = compute_diff(
                    con, sync=self.name, destination=self.cfg.destination, members=MEMBER_SCHEMA.empty_table(),
                    mode="upsert", purpose=self.cfg.purpose, channel=channel, queue_key=dest.key_from_match_keys,
                )
            if diff.removes.num_rows:
                dest.begin_removals(channel)
                with self._store() as con:
                    run_id = receipts.start_run(
                        con, sync=self.name, destination=self.cfg.destination, segment=self.cfg.segment,
                        purpose=self.cfg.purpose, mode=self.cfg.mode, build_id=build_id, dry_run=False,
                    )
                    plan, batches = plan_batches(self.name, run_id, diff.adds.slice(0, 0), diff.removes, 1,
                                                 dest.batch_size("remove"))
                    receipts.record_plan(con, run_id, plan, batches, adds=0, removes=diff.removes.num_rows,
                                         exclusions={}, digest="", build_id=build_id)
                ctx = _Ctx(run_id, self.name, self.cfg.destination, None)
                aborted = self._send_pending(dest, ctx, allowed=None)
                with self._store() as con:
                    removed = receipts.finish_run(con, run_id, aborted=aborted)
        with self._store() as con:
            if run_id is None:
                run_id = receipts.start_run(
                    con, sync=self.name, destination=self.cfg.destination, segment=self.cfg.segment,
                    purpose=self.cfg.purpose, mode=self.cfg.mode, build_id=build_id, dry_run=self.dry_run,
                    status="refused",
                )
            exclusions = getattr(exc, "exclusions", {})
            con.execute(
                "UPDATE sync_runs SET status = 'refused', finished_at = ?, error = ?, exclusions = ? WHERE run_id = ?",
                [receipts.utcnow(), str(exc) + (f"; removals: {removed.get('status')}" if removed else ""),
                 json.dumps(exclusions), run_id],
            )
            audit.record(con, "sync.refused", target=self.name,
                         details={"run_id": run_id, "reason": exc.reason, "removed": removed.get("removes", 0)})
            out = receipts.run_summary(con, run_id)
        out["refusal"] = exc.reason
        return out

    def _run(self, dest: Destination) -> dict[str, Any]:
        build_id, when = self._build_id()
        try:
            audience = self._release(build_id, when)
        except GateRefusal as exc:
            return self._refused(build_id, exc, dest)
        dest.begin(audience, dry_run=self.dry_run)
        if not self.dry_run:
            self._resume(dest, audience)
        with self._store() as con:
            diff = compute_diff(
                con, sync=self.name, destination=self.cfg.destination, members=audience.members, mode=self.cfg.mode,
                purpose=self.cfg.purpose, channel=audience.channel, queue_key=dest.key_from_match_keys,
            )
        if self.dry_run:
            return self._dry_run(dest, audience, diff)
        with self._store() as con:
            run_id = receipts.start_run(
                con, sync=self.name, destination=self.cfg.destination, segment=self.cfg.segment,
                purpose=self.cfg.purpose, mode=self.cfg.mode, build_id=build_id, dry_run=False,
            )
            plan, batches = plan_batches(
                self.name, run_id, diff.adds, diff.removes, dest.batch_size("add"), dest.batch_size("remove")
            )
            receipts.record_plan(
                con, run_id, plan, batches, adds=diff.adds.num_rows, removes=diff.removes.num_rows,
                exclusions=audience.exclusions, digest=audience.justification_digest, build_id=build_id,
            )
        ctx = _Ctx(run_id, self.name, self.cfg.destination, audience)
        aborted = self._send_pending(dest, ctx, allowed=None)
        extra = dest.finish()
        return self._finish(ctx, aborted, diff.removal_reasons, extra, dest)

    def _finish(self, ctx: _Ctx, aborted: str | None, removal_reasons: dict[str, int], extra: dict[str, Any],
                dest: Destination) -> dict[str, Any]:
        from privacy import audit

        with self._store() as con:
            summary = receipts.finish_run(con, ctx.run_id, aborted=aborted)
            details = {
                "run_id": ctx.run_id, "destination": ctx.destination, "segment": self.cfg.segment,
                "purpose": self.cfg.purpose, "status": summary["status"], "adds": summary["adds"],
                "removes": summary["removes"], "removal_reasons": removal_reasons,
                "exclusions": ctx.audience.exclusions if ctx.audience else {},
                "justification_digest": ctx.audience.justification_digest if ctx.audience else None,
            }
            audit.record(con, "sync.run", target=self.name, details=details)
            if getattr(dest, "sends_contact_data", False) and summary["adds"]:
                audit.record(con, "sync.contact_transfer", target=self.name,
                             details={"run_id": ctx.run_id, "destination": ctx.destination,
                                      "fields": sorted(set(dest.settings.get("fields", [])) & {"email", "phone"}),
                                      "members": summary["adds"]})
        summary["removal_reasons"] = removal_reasons
        if extra:
            summary["finish"] = extra
        return summary

    # -- resume -------------------------------------------------------------------------
    def _resume(self, dest: Destination, audience: ReleasedAudience) -> None:
        """Finish earlier runs of this sync that left batches pending (killed, or stopped
        by an outage); we hold the lock, so nobody else is sending them."""
        with self._store() as con:
            pending = [int(r[0]) for r in con.execute(
                "SELECT DISTINCT r.run_id FROM sync_runs r JOIN sync_receipts c ON c.run_id = r.run_id "
                "WHERE r.sync = ? AND NOT r.dry_run AND c.status = 'pending' ORDER BY r.run_id", [self.name],
            ).fetchall()]
            unplanned = [int(r[0]) for r in con.execute(
                "SELECT run_id FROM sync_runs r WHERE sync = ? AND status = 'running' AND NOT dry_run "
                "AND NOT EXISTS (SELECT 1 FROM sync_receipts c WHERE c.run_id = r.run_id)", [self.name],
            ).fetchall()]
            for run_id in unplanned:  # killed before its plan was written: nothing was sent
                receipts.finish_run(con, run_id, aborted="interrupted before its batches were planned")
        if not pending:
            return
        allowed = set(audience.customer_ids())
        for run_id in pending:
            ctx = _Ctx(run_id, self.name, self.cfg.destination, audience)
            aborted = self._send_pending(dest, ctx, allowed=allowed)
            with self._store() as con:
                receipts.finish_run(con, run_id, aborted=aborted)
            if aborted:
                raise SyncError(
                    f"sync '{self.name}': resuming the batches left by run {run_id} failed: {aborted}",
                    hint="the platform is still failing; run again later",
                )

    # -- dry run ------------------------------------------------------------------------
    def _dry_run(self, dest: Destination, audience: ReleasedAudience, diff: Any) -> dict[str, Any]:
        from connectors.destinations.base import Batch

        samples: dict[str, Any] = {}
        with self._store() as con:
            for op, table in (("remove", diff.removes), ("add", diff.adds)):
                if not table.num_rows:
                    continue
                head = table.slice(0, SAMPLE_MEMBERS).to_pylist()
                rows = [(r["customer_id"], r.get("platform_key"), r.get("reason"), r.get("consent_seq")) for r in head]
                contacts = self._contacts(con, dest, rows, op)
                batch = Batch(sync=self.name, run_id=0, batch_no=1, op=op, members=contacts,  # type: ignore[arg-type]
                              seq=1, total=1, estimated_total=table.num_rows, key="dry-run")
                samples[op] = dest.request_body(batch, redact=True)
            run_id = receipts.start_run(
                con, sync=self.name, destination=self.cfg.destination, segment=self.cfg.segment,
                purpose=self.cfg.purpose, mode=self.cfg.mode, build_id=audience.build_id, dry_run=True, status="ok",
            )
            con.execute(
                "UPDATE sync_runs SET finished_at = ?, adds = ?, removes = ?, exclusions = ?, "
                "justification_digest = ? WHERE run_id = ?",
                [receipts.utcnow(), diff.adds.num_rows, diff.removes.num_rows, json.dumps(audience.exclusions),
                 audience.justification_digest, run_id],
            )
            summary = receipts.run_summary(con, run_id)
        batches = {
            "add": -(-diff.adds.num_rows // dest.batch_size("add")),
            "remove": -(-diff.removes.num_rows // dest.batch_size("remove")),
        }
        summary.update(
            released=len(audience), unchanged=diff.unchanged, removal_reasons=diff.removal_reasons,
            planned_batches=batches, samples=samples,
        )
        return summary
