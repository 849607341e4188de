"""Ingestion of configured sources: one store transaction per source (all of them under --strict).

Per source: plan what is new (files), stage the raw rows, pseudonymize identifiers, parse and
reject, skip suppressed identifiers, resolve identities, load the entity, remember what was
read, write the run and an audit entry. A crash or Ctrl-C rolls the source back, so a re-run
finishes the job; a source that completed stays done.
"""

from __future__ import annotations

import difflib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cdp.errors import NotFoundError, RejectedRowsError
from cdp.ingest.identity import apply_resolution, resolve
from cdp.ingest.load import add_columns, load_consents, load_customers, load_events
from cdp.ingest.plan import SourcePlan, plan_source
from cdp.ingest.report import IngestReport, SourceReport
from cdp.ingest.stage import build_rows, check_columns, drop_temp, map_identifiers, stage_columns, stage_rows
from cdp.ingest.values import ident
from connectors.sources.base import ReadUnit, SourceState, reader_for

if TYPE_CHECKING:
    from cdp.workspace import Workspace

__all__ = ["Progress", "run_ingest"]

#: progress(source, phase, done, total): phase is "read", "resolve", "load" or "done"
Progress = Callable[[str, str, int, int | None], None]
_ENTITY_ORDER = {"customers": 0, "events": 1, "consents": 2}
_PII_SCAN_VALUES = 20_000
_MEMORY_LIMIT = "1536MB"


@dataclass
class _Ctx:
    ws: Workspace
    con: Any
    keystore: Any
    pz: Any
    vault: Any
    tz: str
    now: datetime
    progress: Progress | None


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _select_sources(ws: Workspace, names: list[str] | None) -> list[str]:
    configured = ws.config.sources
    if names:
        for n in names:
            if n not in configured:
                close = difflib.get_close_matches(n, list(configured), n=1)
                raise NotFoundError("source", n, suggestion=close[0] if close else None,
                                    hint="the sources are the [sources.NAME] tables of cdp.toml")
        chosen = list(dict.fromkeys(names))
    else:
        chosen = [n for n, s in configured.items() if s.enabled]
    return sorted(chosen, key=lambda n: _ENTITY_ORDER[configured[n].entity])


def _load_state(con: Any, source: str) -> SourceState:
    rows = con.execute(
        "SELECT path, size, mtime, digest, coalesce(rows, 0), cursor FROM ingest_files WHERE source = ?", [source]
    ).fetchall()
    return SourceState({r[0]: ReadUnit(r[0], r[1], r[2], r[3], int(r[4]), r[5]) for r in rows})


def _save_state(con: Any, source: str, units: list[ReadUnit], run_id: int) -> None:
    for u in units:
        con.execute("DELETE FROM ingest_files WHERE source = ? AND path = ?", [source, u.path])
        con.execute(
            "INSERT INTO ingest_files (source, path, size, mtime, digest, run_id, rows, cursor) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [source, u.path, u.size, u.mtime, u.digest, run_id, u.rows, u.cursor],
        )


def _pii_scan(con: Any, plan: SourcePlan, report: SourceReport) -> dict[str, str]:
    """Run privacy.scan over declared traits/properties; a hit blocks the column."""
    try:
        from privacy.scan import scan_values
    except ImportError:  # pragma: no cover - the scan module is another area's
        return {}
    blocked: dict[str, str] = {}
    for f in plan.fields:
        if f.role not in ("trait", "property") or f.vtype not in ("text", "integer"):
            continue
        values = con.execute(
            f"SELECT DISTINCT v FROM (SELECT {ident(f.column)} AS v FROM _stage USING SAMPLE {_PII_SCAN_VALUES} ROWS) "
            "WHERE v IS NOT NULL"
        ).to_arrow_table().column(0).to_pylist()
        findings = scan_values(f.column, values, text=f.vtype == "text")
        if findings:
            top = max(findings, key=lambda x: x.count)
            blocked[f.name] = top.kind
            report.columns_blocked[f.name] = top.kind
            report.warnings.append(
                f"column '{f.column}' ({f.role} '{f.name}') holds values that look like {top.kind} identifiers "
                f"({top.count} distinct values); it was not loaded. Map it under `identifiers`/`contact` "
                f"or remove it from the source"
            )
    return blocked


def _ingest_source(ctx: _Ctx, name: str, report: SourceReport, run_id: int) -> list[ReadUnit]:
    con = ctx.con
    cfg = ctx.ws.config.sources[name]
    plan = plan_source(name, cfg)
    reader = reader_for(name, cfg, ctx.ws.root)
    state = _load_state(con, name)
    units = reader.plan(state)
    report.files = len(units)
    if not units:
        return []

    def tick(n: int) -> None:
        report.rows_read += n
        if ctx.progress:
            ctx.progress(name, "read", report.rows_read, None)

    stage_rows(con, reader, units, state, tick)
    if any(not c.startswith("_") for c in stage_columns(con)):
        check_columns(con, plan)   # a wrong header fails clearly, even with no row under it
    if report.rows_read == 0:
        return units               # nothing new (a header-only file): remembered, nothing loaded
    used = plan.columns
    for col in stage_columns(con):
        if not col.startswith("_") and col not in used:
            report.columns_dropped[col] = report.rows_read
    blocked = _pii_scan(con, plan, report)
    if blocked:
        plan.fields = [f for f in plan.fields if f.name not in blocked or f.role not in ("trait", "property")]
    # declared traits/properties become columns first: DuckDB refuses an ALTER after changes
    traits = add_columns(con, "customers", plan, "trait", blocked) if cfg.entity == "customers" else []
    props = add_columns(con, "events", plan, "property", blocked) if cfg.entity == "events" else []
    if ctx.progress:
        ctx.progress(name, "resolve", report.rows_read, report.rows_read)
    kinds: dict[str, str] = {}
    map_identifiers(con, plan, ctx.pz, kinds)
    build_rows(con, plan, workspace_tz=ctx.tz)

    # rejects: file, line, column and reason, never the value
    for i, (kind, _) in enumerate(plan.ids):
        bad = con.execute(f"SELECT count(*) FROM _rows WHERE _present{i} AND _h{i} IS NULL").fetchone()[0]
        if bad:
            report.identifiers_invalid[kind] = int(bad)
    for reason, n in con.execute(
        "SELECT _rreason, count(*) FROM _rows WHERE _rreason IS NOT NULL GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        report.rejects_by_reason[reason] = int(n)
    report.rows_rejected = sum(report.rejects_by_reason.values())
    if report.rows_rejected:
        f, line, col, reason = con.execute(
            "SELECT _file, _line, _rcol, _rreason FROM _rows WHERE _rreason IS NOT NULL ORDER BY _ord LIMIT 1"
        ).fetchone()
        report.first_reject = f"{f}:{line}: column '{col}': {reason}" if col else f"{f}:{line}: {reason}"
        con.execute(
            "INSERT INTO rejects (run_id, source, file, line, column_name, reason, rejected_at) "
            "SELECT ?, ?, _file, _line, _rcol, _rreason, ? FROM _rows WHERE _rreason IS NOT NULL",
            [run_id, name, ctx.now],
        )
    report.rows_suppressed = con.execute(
        "SELECT count(*) FROM _rows WHERE _rreason IS NULL AND _sup"
    ).fetchone()[0]
    con.execute("DROP TABLE IF EXISTS _resolve")

    if cfg.entity in ("customers", "events"):
        ids = [f"_h{i}" for i in range(len(plan.ids))]
        tuples = con.execute(
            f"SELECT DISTINCT {', '.join(ids)} FROM _rows WHERE _rreason IS NULL AND NOT _sup"
        ).to_arrow_table()
        cols = [tuples.column(i).to_pylist() for i in range(len(ids))]
        res = resolve(con, ctx.pz, list(zip(*cols)), kinds)
        apply_resolution(con, res, source=name, now=ctx.now, vault=ctx.vault)
        report.customers_new = len(res.new_customers)
        report.customers_merged = len(res.merges)
        report.identities_new = len(res.new_identities)
        import pyarrow as pa

        con.register("_res_in", pa.table({"h": pa.array(list(res.mapping), pa.string()),
                                          "customer_id": pa.array(list(res.mapping.values()), pa.string())}))
        try:
            con.execute("CREATE TEMP TABLE _resolve AS SELECT * FROM _res_in")
        finally:
            con.unregister("_res_in")
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _ok AS SELECT r.*, m.customer_id FROM _rows r "
            "JOIN _resolve m ON m.h = r._hany WHERE r._rreason IS NULL AND NOT r._sup"
        )
        if ctx.progress:
            ctx.progress(name, "load", report.rows_read, report.rows_read)
        if cfg.entity == "events":
            con.execute("DROP TABLE IF EXISTS _stage")   # events need no raw column any more
        if cfg.entity == "customers":
            load_customers(con, plan, report, now=ctx.now, vault=ctx.vault, traits=traits)
        else:
            load_events(con, plan, report, props=props)
    else:
        # a consent is recorded for the first identifier already known, else the first one (pending)
        known = " ".join(
            f"LEFT JOIN identities i{i} ON i{i}.id_hash = r._h{i}" for i in range(len(plan.ids))
        )
        pick = ", ".join([f"i{i}.id_hash" for i in range(len(plan.ids))] + [f"r._h{i}" for i in range(len(plan.ids))])
        known_any = " OR ".join(f"i{i}.id_hash IS NOT NULL" for i in range(len(plan.ids)))
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _ok AS SELECT r.*, coalesce({pick}) AS _pick, ({known_any}) AS _known "
            f"FROM _rows r {known} WHERE r._rreason IS NULL AND NOT r._sup"
        )
        load_consents(con, plan, report, signing_key=ctx.keystore.signing_key())
    try:
        from privacy.ledger import attach_known
    except ImportError:  # pragma: no cover
        attach_known = None
    if attach_known is not None and cfg.entity != "consents":
        report.consents_attached = attach_known(con)
    return units


def _record_run(con: Any, run_id: int, report: SourceReport, started: datetime, status: str) -> None:
    details = {k: v for k, v in report.to_dict().items()
               if k in ("identifiers_invalid", "rejects_by_reason", "columns_blocked", "customers_new",
                        "customers_merged", "identities_new", "vault_fields", "consents_appended",
                        "consents_pending", "files", "warnings")}
    con.execute(
        "INSERT INTO ingest_runs (run_id, source, started_at, finished_at, status, rows_read, rows_loaded, "
        "rows_rejected, rows_skipped, corrections, columns_dropped, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, report.source, started, _utcnow(), status, report.rows_read, report.rows_loaded,
         report.rows_rejected, report.rows_suppressed + report.rows_unchanged, report.corrections,
         json.dumps(report.columns_dropped, ensure_ascii=False), json.dumps(details, ensure_ascii=False)],
    )


def _audit(con: Any, report: SourceReport) -> None:
    from privacy.audit import record

    record(con, "ingest", target=report.source, details={
        "entity": report.entity, "rows_read": report.rows_read, "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected, "rows_suppressed": report.rows_suppressed,
        "corrections": report.corrections, "customers_new": report.customers_new,
        "customers_merged": report.customers_merged, "columns_dropped": sorted(report.columns_dropped),
        "columns_blocked": report.columns_blocked, "consents_appended": report.consents_appended,
    })


def run_ingest(
    ws: Workspace, sources: list[str] | None = None, *, strict: bool = False, progress: Progress | None = None
) -> IngestReport:
    """Ingest the named sources (default: every enabled one); see :meth:`Workspace.ingest`."""
    from privacy.keys import KeyStore
    from privacy.pseudonym import Pseudonymizer
    from privacy.vault import Vault

    names = _select_sources(ws, sources)
    out = IngestReport()
    t0 = time.monotonic()
    with KeyStore.open(ws.state_dir) as ks, ws.store() as con:
        con.execute("SET preserve_insertion_order = false")
        _ensure_state_columns(con)
        # bounded memory: temp tables and joins spill to .cdp/store.duckdb.tmp beyond this
        con.execute("SET memory_limit = ?", [os.environ.get("CDP_MEMORY_LIMIT", _MEMORY_LIMIT)])
        ctx = _Ctx(ws, con, ks, Pseudonymizer.from_keystore(ks), Vault(con, ks), ws.timezone, _utcnow(), progress)
        if strict:
            con.execute("BEGIN TRANSACTION")
        try:
            for name in names:
                entity = ws.config.sources[name].entity
                report = SourceReport(source=name, entity=entity)
                out.sources.append(report)
                started = _utcnow()
                t = time.monotonic()
                run_id = int(con.execute("SELECT nextval('ingest_run_seq')").fetchone()[0])
                report.run_id = run_id
                if not strict:
                    con.execute("BEGIN TRANSACTION")
                try:
                    units = _ingest_source(ctx, name, report, run_id)
                    if strict and report.rows_rejected:
                        raise RejectedRowsError(report.rows_rejected, first=report.first_reject, source=name)
                    report.seconds = time.monotonic() - t
                    if units:
                        _save_state(con, name, units, run_id)
                        _record_run(con, run_id, report, started, "ok")
                        _audit(con, report)
                    drop_temp(con, len(ws.config.sources[name].identifier_columns()))
                    if not strict:
                        con.execute("COMMIT")
                except BaseException as exc:
                    if not strict:
                        _rollback(con)
                        if not isinstance(exc, KeyboardInterrupt):
                            _record_failure(con, run_id, report, started)
                    raise
                if progress:
                    progress(name, "done", report.rows_read, report.rows_read)
            if strict:
                con.execute("COMMIT")
        except BaseException:
            if strict:
                _rollback(con)
            raise
    out.seconds = time.monotonic() - t0
    return out


def _ensure_state_columns(con: Any) -> None:
    """Stores migrated past 002 before 002 existed (development stores) lack its columns."""
    for table, column, ctype in (("ingest_files", "rows", "BIGINT"), ("ingest_files", "cursor", "VARCHAR"),
                                 ("ingest_runs", "details", "JSON")):
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {ctype}")


def _rollback(con: Any) -> None:
    try:
        con.execute("ROLLBACK")
    except Exception:  # a failed COMMIT has already ended the transaction
        pass


def _record_failure(con: Any, run_id: int, report: SourceReport, started: datetime) -> None:
    try:
        _record_run(con, run_id, report, started, "failed")
    except Exception:  # pragma: no cover - recording the failure must not hide it
        pass

