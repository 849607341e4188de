"""Ingestion of configured sources: one store transaction per source (all of them under --strict).

Per source: plan what is new (files), stage the raw rows, pseudonymize identifiers, parse and
reject, skip suppressed identifiers, resolve identities, load the entity, remember what was
read, write the run and an audit entry. A crash or Ctrl-C rolls the source back, so a re-run
finishes the job; a source that completed stays done.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cdp.errors import NotFoundError, RejectedRowsError
from cdp.ingest.identity import resolve_rows
from cdp.ingest.load import add_columns, load_consents, load_customers, load_events
from cdp.ingest.plan import SourcePlan, plan_source
from cdp.ingest.report import IngestReport, SourceReport
from cdp.ingest.stage import (
    Chunk,
    RejectCodes,
    RowFilters,
    check_columns,
    chunks,
    drop_temp,
    map_identifiers,
    parse_chunk,
    row_filters,
)
from cdp.ingest.values import ident, lit
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


def _pii_scan(con: Any, plan: SourcePlan, chunk: Chunk, report: SourceReport) -> dict[str, str]:
    """Run privacy.scan over declared traits/properties; a hit blocks the column.

    The values are the distinct ones among the first rows of the first file (or batch) read:
    a column of identifiers shows itself there, and the scan never reads a whole large file."""
    try:
        from privacy.scan import scan_values
    except ImportError:  # pragma: no cover - the scan module is another area's
        return {}
    blocked: dict[str, str] = {}
    have = set(chunk.names)
    for f in plan.fields:
        if f.role not in ("trait", "property") or f.vtype not in ("text", "integer") or f.column not in have:
            continue
        values = con.execute(
            f"SELECT DISTINCT v FROM (SELECT {ident(f.column)}::VARCHAR AS v FROM {chunk.relation} "
            f"LIMIT {_PII_SCAN_VALUES}) WHERE v IS NOT NULL"
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


def _read(ctx: _Ctx, plan: SourcePlan, reader: Any, units: list[ReadUnit], state: SourceState,
          report: SourceReport, codes: RejectCodes) -> tuple[list[str], dict[str, str]] | None:
    """Read and parse every unit into ``_rows``; the column names seen and the blocked fields
    (None when there was nothing to read at all)."""
    con = ctx.con
    names: list[str] = []
    blocked: dict[str, str] = {}
    first = True
    for chunk in chunks(con, reader, units, state):
        names.extend(n for n in chunk.names if n not in names)
        if first:
            if any(not n.startswith("_") for n in chunk.names):
                check_columns(chunk.names, plan)   # a wrong header fails clearly, even with no row under it
            with report.timed("pii_scan"):
                blocked = _pii_scan(con, plan, chunk, report)
            if blocked:
                plan.fields = [f for f in plan.fields if f.name not in blocked or f.role not in ("trait", "property")]
        added = parse_chunk(con, chunk, plan, workspace_tz=ctx.tz, first=first, codes=codes)
        first = False
        if chunk.whole_unit:
            chunk.unit.rows = chunk.unit.skipped_rows + added
        report.rows_read += added
        if ctx.progress:
            ctx.progress(plan.name, "read", report.rows_read, None)
    return None if first else (names, blocked)


def _record_rejects(ctx: _Ctx, plan: SourcePlan, filters: RowFilters, counts: dict[str, int], codes: RejectCodes,
                    report: SourceReport, run_id: int) -> None:
    """Rejects: file, line, column and reason, never the value."""
    con = ctx.con
    for i, (kind, _) in enumerate(plan.ids):
        if counts.get(f"bad{i}"):
            report.identifiers_invalid[kind] = int(con.execute(
                f"SELECT count(*) FROM _rows r WHERE r._k{i} IN (SELECT raw FROM _map{i} WHERE h IS NULL)"
            ).fetchone()[0])
    codes.table(con)
    con.execute("DROP TABLE IF EXISTS _rej")
    con.execute(f"CREATE TEMP TABLE _rej AS SELECT r.rowid AS _ord, r._rj, {filters.id_reject} AS _idr "
                f"FROM _rows r WHERE {filters.rejected}")
    col, reason = filters.reason("j._idr", "c")
    where = (f"SELECT u.file AS _file, u.first_line + j._ord - u.start AS _line, {col} AS _rcol, "
             f"{reason} AS _rreason, j._ord FROM _rej j JOIN _units u ON j._ord >= u.start AND j._ord < u.stop "
             "LEFT JOIN _rcodes c ON c.code = j._rj")
    for why, n in con.execute(f"SELECT _rreason, count(*) FROM ({where}) GROUP BY ALL ORDER BY ALL").fetchall():
        report.rejects_by_reason[why] = int(n)
    report.rows_rejected = sum(report.rejects_by_reason.values())
    if report.rows_rejected:
        f, line, c, why = con.execute(f"SELECT _file, _line, _rcol, _rreason FROM ({where}) ORDER BY _ord LIMIT 1"
                                      ).fetchone()
        report.first_reject = f"{f}:{line}: column '{c}': {why}" if c else f"{f}:{line}: {why}"
        con.execute(
            "INSERT INTO rejects (run_id, source, file, line, column_name, reason, rejected_at) "
            f"SELECT ?, ?, _file, _line, _rcol, _rreason, ? FROM ({where})",
            [run_id, plan.name, ctx.now],
        )
    con.execute("DROP TABLE IF EXISTS _rej")
    if filters.suppressed != "false":
        report.rows_suppressed = int(con.execute(
            f"SELECT count(*) FROM _rows r WHERE r._rj IS NULL AND NOT {filters.id_reject} AND {filters.suppressed}"
        ).fetchone()[0])


def _customer_of_row(plan: SourcePlan) -> tuple[str, str]:
    """The joins and the expression giving a row's customer_id (every valid identifier of a row
    belongs to the same customer after resolution)."""
    n = len(plan.ids)
    joins = " ".join(f"LEFT JOIN _kc{i} c{i} ON c{i}.raw = r._k{i}" for i in range(n))
    return joins, f"coalesce({', '.join(f'c{i}.customer_id' for i in range(n))})"


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
    codes = RejectCodes()
    with report.timed("read"):
        got = _read(ctx, plan, reader, units, state, report, codes)
    if got is None or report.rows_read == 0:
        return units               # nothing new (a header-only file): remembered, nothing loaded
    names, blocked = got
    used = plan.columns
    for col in names:
        if not col.startswith("_") and col not in used:
            report.columns_dropped[col] = report.rows_read
    # declared traits/properties become columns first: DuckDB refuses an ALTER after changes
    traits = add_columns(con, "customers", plan, "trait", blocked) if cfg.entity == "customers" else []
    props = add_columns(con, "events", plan, "property", blocked) if cfg.entity == "events" else []
    if ctx.progress:
        ctx.progress(name, "resolve", report.rows_read, report.rows_read)
    with report.timed("pseudonymize"):
        counts = map_identifiers(con, plan, ctx.pz)
    filters = row_filters(plan, counts)
    with report.timed("rejects"):
        _record_rejects(ctx, plan, filters, counts, codes, report, run_id)

    if cfg.entity in ("customers", "events"):
        with report.timed("resolve"):
            res = resolve_rows(con, ctx.pz, plan.ids, filters.valid, source=name, now=ctx.now, vault=ctx.vault,
                               insert_new=cfg.entity != "customers")
        report.customers_new = res.new_customers
        report.customers_merged = len(res.merges)
        report.identities_new = res.new_identities
        joins, cid = _customer_of_row(plan)
        event_id = [f.role for f in plan.fields].index("event_id") if cfg.event_id else None
        eid = ""
        if cfg.entity == "events" and not cfg.event_id:
            # an event without an id: a digest of the source, the row's first identifier pseudonym
            # and its raw values (never a raw identifier)
            hany = f"coalesce({', '.join(f'm{i}.h' for i in range(len(plan.ids)))})"
            joins += " " + " ".join(f"LEFT JOIN _map{i} m{i} ON m{i}.raw = r._k{i}" for i in range(len(plan.ids)))
            eid = f", 'h_' || md5(concat_ws('\x1f', {lit(name)}, {hany}, r._eraw)) AS _eid"
        elif cfg.entity == "events":
            eid = f", r._p{event_id} AS _eid"
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _ok AS SELECT r.rowid AS _ord, r.*{eid}, {cid} AS customer_id "
            f"FROM _rows r {joins} WHERE {filters.valid} AND {cid} IS NOT NULL"
        )
        if ctx.progress:
            ctx.progress(name, "load", report.rows_read, report.rows_read)
        with report.timed("load"):
            if cfg.entity == "customers":
                load_customers(con, plan, report, now=ctx.now, vault=ctx.vault, traits=traits)
            else:
                # every valid row has a customer after resolution: count them without the join
                rows = "_ok" if not cfg.event_id else f"(SELECT r._p{event_id} AS _eid FROM _rows r WHERE {filters.valid})"
                load_events(con, plan, report, props=props, rows=rows)
    else:
        # a consent is recorded for the first identifier already known, else the first one (pending)
        n = len(plan.ids)
        known = " ".join(f"LEFT JOIN _map{i} m{i} ON m{i}.raw = r._k{i} "
                         f"LEFT JOIN identities i{i} ON i{i}.id_hash = m{i}.h" for i in range(n))
        pick = ", ".join([f"i{i}.id_hash" for i in range(n)] + [f"m{i}.h" for i in range(n)])
        link = ", ".join(f"i{i}.customer_id" for i in range(n))
        known_any = " OR ".join(f"i{i}.id_hash IS NOT NULL" for i in range(n))
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _ok AS SELECT r.rowid AS _ord, r.*, coalesce({pick}) AS _pick, "
            f"coalesce({link}) AS _link, ({known_any}) AS _known FROM _rows r {known} "
            f"WHERE {filters.valid}"
        )
        with report.timed("load"):
            load_consents(con, plan, report, signing_key=ctx.keystore.signing_key())
    try:
        from privacy.ledger import attach_known
    except ImportError:  # pragma: no cover
        attach_known = None
    if attach_known is not None and cfg.entity != "consents":
        with report.timed("attach"):
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
        # DuckDB tries DICT_FSST on every string column it writes and then (for our ids and
        # pseudonyms) keeps FSST or a dictionary anyway: skipping the try halves the time of
        # writing 50M events, with the same file size (docs/performance.md, "Ingestion")
        with contextlib.suppress(Exception):
            con.execute("SET disabled_compression_methods = 'dict_fsst'")
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
                    drop_temp(con, len(ws.config.sources[name].identifier_columns()) + 1)
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

