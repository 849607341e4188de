"""Staging: new raw rows into a temp table, identifiers pseudonymized, values parsed, rejects found.

Heavy work stays in DuckDB SQL; Python only sees distinct identifier values (to normalize
and hash them) so that 50M event rows never loop in Python. Temp tables:

* ``_stage``: raw text columns plus ``_file``, ``_line``, ``_ord`` (source order);
* ``_map{i}``: raw identifier value -> id_hash (NULL when not a valid identifier);
* ``_rows``: per row the id hashes ``_h{i}``, parsed values ``_p{j}``, the reject column and
  reason (never the value) and whether an identifier is suppressed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from cdp.errors import IngestError
from cdp.ingest.plan import CHANNELS, PURPOSE_OF_CHANNEL, STATUS_WORDS, SourcePlan
from cdp.ingest.values import REJECT_REASON, blank_to_null, ident, lit, parse_expr
from connectors.sources.base import REJECT_COLUMN as PARTIAL_COLUMN
from connectors.sources.base import REJECT_REASON as PARTIAL_REASON
from connectors.sources.base import ReadUnit, SourceReader, SourceState
from privacy.normalize import normalize_identifier
from privacy.pseudonym import Pseudonymizer

__all__ = ["build_rows", "check_columns", "drop_temp", "map_identifiers", "stage_rows"]

TEMP_TABLES = ("_stage", "_rows", "_resolve", "_ev", "_corr")


def drop_temp(con: Any, n_ids: int = 8) -> None:
    for t in (*TEMP_TABLES, *(f"_map{i}" for i in range(n_ids))):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    con.execute("DROP VIEW IF EXISTS _ok")


def stage_rows(
    con: Any,
    reader: SourceReader,
    units: list[ReadUnit],
    state: SourceState,
    tick: Callable[[int], None] | None = None,
) -> int:
    """Read every unit's new rows into ``_stage``; returns the row count."""
    con.execute("DROP TABLE IF EXISTS _stage")
    columns: list[str] | None = None
    total = 0
    for unit in units:
        for batch in reader.batches(unit, state):
            n = batch.num_rows
            batch = batch.append_column("_ord", pa.array(range(total, total + n), pa.int64()))
            con.register("_batch", batch)
            try:
                if columns is None:
                    con.execute("CREATE TEMP TABLE _stage AS SELECT * FROM _batch")
                    columns = list(batch.schema.names)
                else:
                    for extra in [c for c in batch.schema.names if c not in columns]:
                        con.execute(f"ALTER TABLE _stage ADD COLUMN {ident(extra)} VARCHAR")
                        columns.append(extra)
                    con.execute("INSERT INTO _stage BY NAME SELECT * FROM _batch")
            finally:
                con.unregister("_batch")
            total += n
            if tick:
                tick(n)
    if columns is None:
        con.execute("CREATE TEMP TABLE _stage (_file VARCHAR, _line BIGINT, _ord BIGINT)")
    return total


def stage_columns(con: Any) -> list[str]:
    return [r[0] for r in con.execute("DESCRIBE _stage").fetchall()]


def map_identifiers(con: Any, plan: SourcePlan, pz: Pseudonymizer, kinds: dict[str, str]) -> None:
    """``_map{i}(raw, h)`` for each identifier column; fills ``kinds`` (id_hash -> kind)."""
    for i, (kind, column) in enumerate(plan.ids):
        raws = con.execute(
            f"SELECT DISTINCT {ident(column)} FROM _stage WHERE {ident(column)} IS NOT NULL"
        ).to_arrow_table().column(0).to_pylist()
        norm = [normalize_identifier(kind, r) for r in raws]
        valid = [n for n in norm if n is not None]
        hashed = iter(pz.id_hashes(kind, valid))
        hashes = [None if n is None else next(hashed) for n in norm]
        for h in hashes:
            if h is not None:
                kinds[h] = kind
        con.execute(f"DROP TABLE IF EXISTS _map{i}")
        con.register("_map_in", pa.table({"raw": pa.array(raws, pa.string()), "h": pa.array(hashes, pa.string())}))
        try:
            con.execute(f"CREATE TEMP TABLE _map{i} AS SELECT * FROM _map_in")
        finally:
            con.unregister("_map_in")


def _consent_value(role: str, v: str, defaults: dict[str, str]) -> tuple[str, str | None]:
    """Mapped consent field expression and the reject reason for an unknown word."""
    default = lit(defaults[role]) if role in defaults else "NULL"
    if role == "status":
        cases = " ".join(f"WHEN {lit(k)} THEN {lit(s)}" for k, s in STATUS_WORDS.items())
        return f"(CASE lower(coalesce({v}, {default})) {cases} END)", "unknown status"
    if role == "channel":
        cases = " ".join(f"WHEN {lit(k)} THEN {lit(s)}" for k, s in CHANNELS.items())
        return f"(CASE lower(coalesce({v}, {default})) {cases} END)", "unknown channel"
    if role == "purpose":
        return f"lower(coalesce({v}, {default}))", None
    return f"nfc_normalize(coalesce({v}, {default}))", None


def check_columns(con: Any, plan: SourcePlan) -> None:
    """Every column cdp.toml names is in ``_stage``, else a clear IngestError (not a SQL error)."""
    cols = set(stage_columns(con))
    missing = sorted(c for c in plan.columns if c not in cols)
    if missing:
        raise IngestError(
            f"column(s) {', '.join(repr(m) for m in missing)} named in cdp.toml are not in the data",
            source=plan.name,
            hint="check the column names (and the delimiter) of the source files",
        )


def build_rows(con: Any, plan: SourcePlan, *, workspace_tz: str) -> None:
    """Create ``_rows`` from ``_stage`` and the identifier maps."""
    cfg = plan.config
    check_columns(con, plan)
    partial = PARTIAL_REASON in stage_columns(con)
    src_tz = cfg.timezone or workspace_tz
    select: list[str] = ["s._ord", "s._file", "s._line"]
    if partial:   # a row the reader could read only in part (too few or too many fields)
        select += [f"s.{PARTIAL_COLUMN} AS _xcol", f"s.{PARTIAL_REASON} AS _xreason"]
    joins: list[str] = []
    for i, (_, column) in enumerate(plan.ids):
        joins.append(f"LEFT JOIN _map{i} m{i} ON m{i}.raw = s.{ident(column)}")
        select.append(f"m{i}.h AS _h{i}")
        select.append(f"(s.{ident(column)} IS NOT NULL AND trim(s.{ident(column)}) <> '') AS _present{i}")
    checks: list[tuple[str, str, str]] = []      # (condition, column, reason) in priority order
    if cfg.key is not None:
        checks.append(("NOT _present0", cfg.key, "missing key"))
        checks.append(("_h0 IS NULL", cfg.key, "invalid key"))
    elif plan.ids:
        any_h = " AND ".join(f"_h{i} IS NULL" for i in range(len(plan.ids)))
        checks.append((any_h, plan.ids[0][1], "no valid identifier"))
    by_role = {f.role: f for f in plan.fields}
    for j, f in enumerate(plan.fields):
        raw = blank_to_null(f"s.{ident(f.column)}")
        select.append(f"{raw} AS _r{j}")
        if f.role in ("purpose", "channel", "status", "basis", "recipient_type", "source", "notice_version",
                      "text_version", "collection_method", "actor", "evidence", "iys_transaction_id"):
            expr, reason = _consent_value(f.role, raw, cfg.defaults)
            select.append(f"{expr} AS _p{j}")
            if reason:
                checks.append((f"_r{j} IS NOT NULL AND _p{j} IS NULL", f.column, reason))
            continue
        target = "UTC" if f.role in ("at", "expires", "trait") else workspace_tz
        expr = raw if f.role == "event_id" else parse_expr(raw, f.vtype, src_tz=src_tz, target_tz=target, fmt=f.fmt)
        if f.role == "amount":
            expr = f"TRY_CAST({expr} AS DECIMAL(18, 2))"
        select.append(f"{expr} AS _p{j}")
        if f.required:
            checks.append((f"_r{j} IS NULL", f.column, f"missing {f.role.replace('_', ' ')}"))
        checks.append((f"_r{j} IS NOT NULL AND _p{j} IS NULL", f.column, REJECT_REASON[f.vtype]))
    if cfg.entity == "consents":
        # the consent fields every event needs (after defaults and purpose-from-channel)
        for role in ("status", "channel"):
            if role in by_role:
                j = plan.fields.index(by_role[role])
                checks.append((f"_p{j} IS NULL AND _r{j} IS NULL", by_role[role].column, f"missing {role}"))
    # the reject CASE reads the inner query's columns (a lateral alias would recompute each parse);
    # a partly read row comes first: its other values may sit in the wrong columns
    whens_col = [f"WHEN {c} THEN {lit(col)}" for c, col, _ in checks]
    whens_reason = [f"WHEN {c} THEN {lit(r)}" for c, _, r in checks]
    if partial:
        whens_col.insert(0, "WHEN _xreason IS NOT NULL THEN _xcol")
        whens_reason.insert(0, "WHEN _xreason IS NOT NULL THEN _xreason")
    rej = (f"(CASE {' '.join(whens_col)} END)::VARCHAR AS _rcol, "
           f"(CASE {' '.join(whens_reason)} END)::VARCHAR AS _rreason"
           if whens_col else "NULL::VARCHAR AS _rcol, NULL::VARCHAR AS _rreason")
    if not plan.fields:
        select.append("NULL AS _r0")
    raws = ", ".join(f"_r{j}" for j in range(max(len(plan.fields), 1)))
    inner = f"SELECT {', '.join(select)} FROM _stage s {' '.join(joins)}"
    # a suppressed identifier (erased, opted out) skips the row
    any_sup = con.execute("SELECT count(*) > 0 FROM suppressions").fetchone()[0]
    sup = " OR ".join(f"coalesce(_h{i} IN (SELECT id_hash FROM suppressions), false)"
                      for i in range(len(plan.ids))) if any_sup and plan.ids else "false"
    hany = f"coalesce({', '.join(f'_h{i}' for i in range(len(plan.ids)))})" if plan.ids else "NULL::VARCHAR"
    extra = ""
    if cfg.entity == "events" and "event_id" not in by_role:
        parts = ", ".join(f"coalesce(_r{j}::VARCHAR, '')" for j in range(len(plan.fields)))
        extra = f", 'h_' || md5(concat_ws('\x1f', {lit(plan.name)}, {hany}, {parts})) AS _eid"
    elif cfg.entity == "events":
        extra = f", _p{plan.fields.index(by_role['event_id'])} AS _eid"
    if cfg.entity == "consents":
        purpose = by_role.get("purpose")
        channel = by_role.get("channel")
        pj = f"_p{plan.fields.index(purpose)}" if purpose else (lit(cfg.defaults["purpose"]) if "purpose" in cfg.defaults else "NULL")
        cj = f"_p{plan.fields.index(channel)}" if channel else _consent_value("channel", "NULL", cfg.defaults)[0]
        derive = " ".join(f"WHEN {lit(c)} THEN {lit(p)}" for c, p in PURPOSE_OF_CHANNEL.items())
        extra += f", coalesce({pj}, CASE {cj} {derive} END) AS _purpose, {cj} AS _channel"
    con.execute("DROP TABLE IF EXISTS _rows")
    con.execute(
        f"CREATE TEMP TABLE _rows AS SELECT * EXCLUDE ({raws}), {rej}, ({sup}) AS _sup, {hany} AS _hany{extra} "
        f"FROM ({inner})"
    )
    if cfg.entity == "consents":
        con.execute(
            "UPDATE _rows SET _rcol = ?, _rreason = 'missing purpose' WHERE _rreason IS NULL AND _purpose IS NULL",
            [cfg.purpose or "purpose"],
        )
