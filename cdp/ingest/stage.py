"""Staging: a source's new rows read and parsed in one pass, identifiers pseudonymized, rejects found.

Heavy work stays in DuckDB SQL: a file source is read by DuckDB inside the store connection
(in parallel when it can be), so 50M event rows never pass through Python; a reader that
yields Arrow batches (database sources) has each batch parsed the same way. Python only sees
the distinct identifier values, to normalize and hash them. Temp tables:

* ``_rows``: one row per source row, its ``rowid`` the order rows were read in: raw identifier
  values ``_k{i}``, raw contact values ``_c{m}`` (customers), parsed fields ``_p{j}``, the parse
  reject as a code ``_rj`` (:class:`RejectCodes`: column and reason, never the value), plus
  ``_eraw`` (events without an id column) or ``_purpose``/``_channel`` (consents);
* ``_units``: for each file (or batch) the rowids it filled and its first line, so a reject's
  line is ``first_line + rowid - start``;
* ``_map{i}``: distinct raw value of identifier column ``i`` -> ``h`` (its id_hash, NULL when it is
  not a valid identifier) and ``sup`` (the identifier is suppressed).

Identifier-level rejects and suppressions are found by joining ``_rows`` with the (small) sets
of bad or suppressed raw values, so ``_rows`` is written once and never updated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
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

__all__ = ["Chunk", "RejectCodes", "RowFilters", "check_columns", "chunks", "drop_temp", "map_identifiers", "parse_chunk",
           "row_filters"]

_MAP_BATCH = 131_072
TEMP_TABLES = ("_rows", "_units", "_resolve", "_ev", "_corr", "_tup", "_node", "_comp", "_outcome", "_newc", "_cin",
               "_rcodes", "_rej", "_contacts")
_TEXT_ROLES = ("purpose", "channel", "status", "basis", "recipient_type", "source", "notice_version",
               "text_version", "collection_method", "actor", "evidence", "iys_transaction_id")


def drop_temp(con: Any, n_ids: int = 8) -> None:
    for t in (*TEMP_TABLES, *(f"_map{i}" for i in range(n_ids)), *(f"_kc{i}" for i in range(n_ids))):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    con.execute("DROP VIEW IF EXISTS _ok")


@dataclass
class Chunk:
    """Rows to parse: ``relation`` is a SELECT (a file read by DuckDB) or a registered batch."""

    relation: str
    names: list[str]
    file: str
    first_line: int
    unit: ReadUnit
    partial: bool = False       # has the reader's _reject_column/_reject_reason columns
    whole_unit: bool = False    # the chunk is all of the unit's new rows (its row count is ours to set)


def chunks(con: Any, reader: SourceReader, units: list[ReadUnit], state: SourceState) -> Iterator[Chunk]:
    """The units' new rows as chunks; a registered batch is valid until the next chunk is asked for."""
    select_sql = getattr(reader, "select_sql", None)
    for unit in units:
        if select_sql is not None:
            got = select_sql(con, unit)
            if got is None:
                unit.rows = 0
                continue
            sql, names, first_line = got
            data = [n for n in names if n not in (PARTIAL_COLUMN, PARTIAL_REASON)]
            yield Chunk(f"({sql})", data, unit.path, first_line, unit, partial=PARTIAL_REASON in names,
                        whole_unit=True)
            continue
        for batch in reader.batches(unit, state):
            names = [n for n in batch.schema.names if n not in ("_file", "_line")]
            file = batch.column(batch.schema.get_field_index("_file"))[0].as_py() if batch.num_rows else unit.path
            line = batch.column(batch.schema.get_field_index("_line"))[0].as_py() if batch.num_rows else 1
            con.register("_batch", batch)
            try:
                yield Chunk("_batch", [n for n in names if n not in (PARTIAL_COLUMN, PARTIAL_REASON)], file,
                            int(line), unit, partial=PARTIAL_REASON in names)
            finally:
                con.unregister("_batch")


def check_columns(names: list[str], plan: SourcePlan) -> None:
    """Every column cdp.toml names is in the data, else a clear IngestError (not a SQL error)."""
    cols = set(names)
    missing = sorted(c for c in plan.columns if c not in cols)
    if missing:
        raise IngestError(
            f"column(s) {', '.join(repr(m) for m in missing)} named in cdp.toml are not in the data",
            source=plan.name,
            hint="check the column names (and the delimiter) of the source files",
        )


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


@dataclass
class RejectCodes:
    """Reject (column, reason) pairs as small integer codes: ``_rows`` keeps a SMALLINT per row
    instead of two strings (50M rows spill to disk far less). ``top`` rejects outrank an
    invalid identifier."""

    codes: dict[tuple[str | None, str, bool], int] = field(default_factory=dict)

    def code(self, column: str | None, reason: str, top: bool) -> int:
        return self.codes.setdefault((column, reason, top), len(self.codes))

    def table(self, con: Any) -> None:
        """``_rcodes(code, col, reason, top)`` for reading the codes back."""
        con.execute("DROP TABLE IF EXISTS _rcodes")
        items = sorted(self.codes.items(), key=lambda kv: kv[1])
        con.register("_rcodes_in", pa.table({
            "code": pa.array([c for _, c in items], pa.int16()),
            "col": pa.array([k[0] for k, _ in items], pa.string()),
            "reason": pa.array([k[1] for k, _ in items], pa.string()),
            "top": pa.array([k[2] for k, _ in items], pa.bool_()),
        }))
        try:
            con.execute("CREATE TEMP TABLE _rcodes AS SELECT * FROM _rcodes_in")
        finally:
            con.unregister("_rcodes_in")


def _present(v: str) -> str:
    return f"({v} IS NOT NULL AND trim({v}) <> '')"


def parse_chunk(
    con: Any, chunk: Chunk, plan: SourcePlan, *, workspace_tz: str, first: bool, codes: RejectCodes
) -> int:
    """Parse ``chunk`` into ``_rows`` (created by the first chunk); returns the rows added."""
    cfg = plan.config
    have = set(chunk.names)

    def col(name: str) -> str:   # a column this file lacks reads as NULL (another file may have it)
        return f"s.{ident(name)}" if name in have else "NULL::VARCHAR"

    src_tz = cfg.timezone or workspace_tz
    select: list[str] = []
    if chunk.partial:   # a row the reader could read only in part (too few or too many fields)
        select += [f"s.{PARTIAL_COLUMN} AS _xcol", f"s.{PARTIAL_REASON} AS _xreason"]
    else:
        select += ["NULL::VARCHAR AS _xcol", "NULL::VARCHAR AS _xreason"]
    for i, (_, column) in enumerate(plan.ids):
        select.append(f"{col(column)}::VARCHAR AS _k{i}")
    if cfg.entity == "customers":
        for m, column in enumerate(plan.contact.values()):
            select.append(f"{col(column)}::VARCHAR AS _c{m}")
    # (condition, column, reason, top): top rejects outrank an invalid identifier
    checks: list[tuple[str, str, str, bool]] = []
    if cfg.key is not None:
        checks.append((f"NOT {_present('_k0')}", cfg.key, "missing key", True))
    elif plan.ids:
        none = " AND ".join(f"NOT {_present(f'_k{i}')}" for i in range(len(plan.ids)))
        checks.append((none, plan.ids[0][1], "no valid identifier", True))
    by_role = {f.role: f for f in plan.fields}
    for j, f in enumerate(plan.fields):
        raw = blank_to_null(f"{col(f.column)}::VARCHAR")
        select.append(f"{raw} AS _r{j}")
        if f.role in _TEXT_ROLES:
            expr, reason = _consent_value(f.role, raw, cfg.defaults)
            select.append(f"{expr} AS _p{j}")
            if reason:
                checks.append((f"_r{j} IS NOT NULL AND _p{j} IS NULL", f.column, reason, False))
            continue
        target = "UTC" if f.role in ("at", "expires", "trait") else workspace_tz
        expr = raw if f.role == "event_id" else parse_expr(raw, f.vtype, src_tz=src_tz, target_tz=target, fmt=f.fmt)
        if f.role == "amount":
            expr = f"TRY_CAST({expr} AS DECIMAL(18, 2))"
        select.append(f"{expr} AS _p{j}")
        if f.required:
            checks.append((f"_r{j} IS NULL", f.column, f"missing {f.role.replace('_', ' ')}", False))
        checks.append((f"_r{j} IS NOT NULL AND _p{j} IS NULL", f.column, REJECT_REASON[f.vtype], False))
    if cfg.entity == "consents":
        for role in ("status", "channel"):
            if role in by_role:
                j = plan.fields.index(by_role[role])
                checks.append((f"_p{j} IS NULL AND _r{j} IS NULL", by_role[role].column, f"missing {role}", False))
    # the reject CASE reads the inner query's columns (a lateral alias would recompute each parse);
    # a partly read row comes first: its other values may sit in the wrong columns
    too_few = " ".join(f"WHEN {lit(n)} THEN {codes.code(n, 'too few fields', True)}" for n in chunk.names)
    partial = (f"CASE _xreason WHEN 'too many fields' THEN {codes.code(None, 'too many fields', True)} "
               f"WHEN 'too few fields' THEN CASE _xcol {too_few} ELSE {codes.code(None, 'too few fields', True)} END "
               f"ELSE {codes.code(None, 'row could not be read', True)} END")
    whens = [f"WHEN _xreason IS NOT NULL THEN {partial}",
             *[f"WHEN {c} THEN {codes.code(column, reason, top)}" for c, column, reason, top in checks]]
    rej = f"(CASE {' '.join(whens)} END)::SMALLINT AS _rj"
    raws = [f"_r{j}" for j in range(len(plan.fields))]
    extra = ""
    if cfg.entity == "events" and "event_id" not in by_role:
        # the id is made at load time from the identifier pseudonym and these raw values
        parts = ", ".join(f"coalesce(_r{j}::VARCHAR, '')" for j in range(len(plan.fields)))
        extra = f", concat_ws('\x1f', {parts}) AS _eraw"
    if cfg.entity == "consents":
        purpose = by_role.get("purpose")
        channel = by_role.get("channel")
        pj = f"_p{plan.fields.index(purpose)}" if purpose else (lit(cfg.defaults["purpose"]) if "purpose" in cfg.defaults else "NULL")
        cj = f"_p{plan.fields.index(channel)}" if channel else _consent_value("channel", "NULL", cfg.defaults)[0]
        derive = " ".join(f"WHEN {lit(c)} THEN {lit(p)}" for c, p in PURPOSE_OF_CHANNEL.items())
        extra += f", coalesce({pj}, CASE {cj} {derive} END) AS _purpose, {cj} AS _channel"
    exclude = ", ".join(["_xcol", "_xreason", *raws])
    inner = f"SELECT {', '.join(select)} FROM {chunk.relation} s"
    body = f"SELECT * EXCLUDE ({exclude}), {rej}{extra} FROM ({inner})"
    if cfg.entity == "consents":   # the purpose comes last: after defaults and purpose-from-channel
        missing = codes.code(cfg.purpose or "purpose", "missing purpose", False)
        body = (f"SELECT * REPLACE (CASE WHEN _rj IS NULL AND _purpose IS NULL THEN {missing}::SMALLINT "
                f"ELSE _rj END AS _rj) FROM ({body})")
    # rows in source order: a row's rowid gives its line (ingestion runs without order otherwise)
    con.execute("SET preserve_insertion_order = true")
    try:
        added = _insert_rows(con, body, first)
    finally:
        con.execute("SET preserve_insertion_order = false")
    # DuckDB appends a statement's rows in source order at the end of the table: the chunk's
    # rows are the last `added` rowids (inside a transaction rowids start at a large offset)
    stop = con.execute("SELECT max(rowid) + 1 FROM _rows").fetchone()[0]
    if added:
        con.execute("INSERT INTO _units VALUES (?, ?, ?, ?)", [chunk.file, int(stop) - added, int(stop),
                                                                chunk.first_line])
    return added


def _insert_rows(con: Any, body: str, first: bool) -> int:
    if first:
        con.execute("DROP TABLE IF EXISTS _rows")
        con.execute("DROP TABLE IF EXISTS _units")
        con.execute("CREATE TEMP TABLE _units (file VARCHAR, start BIGINT, stop BIGINT, first_line BIGINT)")
        added = int(con.execute(f"CREATE TEMP TABLE _rows AS {body}").fetchone()[0])
    else:
        added = int(con.execute(f"INSERT INTO _rows {body}").fetchone()[0])
    return added


def map_identifiers(con: Any, plan: SourcePlan, pz: Pseudonymizer) -> dict[str, int]:
    """``_map{i}(raw, h, sup)`` for each identifier column; returns, per column index, how many
    distinct raw values are not valid identifiers (``bad``) or suppressed (``sup``)."""
    counts = {"bad": 0, "sup": 0}
    any_sup = bool(con.execute("SELECT count(*) > 0 FROM suppressions").fetchone()[0])
    sup = "h IN (SELECT id_hash FROM suppressions)" if any_sup else "false"
    for i, (kind, _) in enumerate(plan.ids):
        con.execute(f"DROP TABLE IF EXISTS _map{i}")
        con.execute(f"CREATE TEMP TABLE _map{i} (raw VARCHAR, h VARCHAR, sup BOOLEAN)")
        con.execute(f"DROP TABLE IF EXISTS _raw{i}")
        con.execute(f"CREATE TEMP TABLE _raw{i} AS SELECT DISTINCT _k{i} AS raw FROM _rows "
                    f"WHERE _k{i} IS NOT NULL AND trim(_k{i}) <> ''")
        reader = con.execute(f"SELECT raw FROM _raw{i}").to_arrow_reader(_MAP_BATCH)
        # in batches: a million distinct values never sit in Python lists at once
        batches = list(reader)   # the reader must be drained before the next statement on con
        con.execute(f"DROP TABLE IF EXISTS _raw{i}")
        for batch in batches:
            raws = batch.column(0).to_pylist()
            norm = [normalize_identifier(kind, r) for r in raws]
            hashed = iter(pz.id_hashes(kind, [n for n in norm if n is not None]))
            hashes = [None if n is None else next(hashed) for n in norm]
            con.register("_map_in", pa.table({"raw": batch.column(0), "h": pa.array(hashes, pa.string())}))
            try:
                con.execute(f"INSERT INTO _map{i} SELECT raw, h, coalesce({sup}, false) FROM _map_in")
            finally:
                con.unregister("_map_in")
            del raws, norm, hashes
        del batches
        bad, sup_n = con.execute(f"SELECT count(*) FILTER (WHERE h IS NULL), count(*) FILTER (WHERE sup) "
                                 f"FROM _map{i}").fetchone()
        counts[f"bad{i}"] = int(bad)
        counts[f"sup{i}"] = int(sup_n)
        counts["bad"] += int(bad)
        counts["sup"] += int(sup_n)
    return counts


@dataclass(frozen=True)
class RowFilters:
    """SQL conditions over ``_rows`` under the alias ``r``: an identifier reject, a suppression, a valid row."""

    id_reject: str
    id_column: str
    id_reason: str
    suppressed: str

    @property
    def rejected(self) -> str:
        return f"(r._rj IS NOT NULL OR {self.id_reject})"

    @property
    def valid(self) -> str:
        return f"(r._rj IS NULL AND NOT {self.id_reject} AND NOT {self.suppressed})"

    def reason(self, idr: str, code: str) -> tuple[str, str]:
        """The final reject column and reason of a rejected row, from its identifier-reject flag
        ``idr`` and the ``_rcodes`` row ``code`` (parse rejects that outrank come first)."""
        col = f"CASE WHEN {code}.top THEN {code}.col WHEN {idr} THEN {lit(self.id_column)} ELSE {code}.col END"
        reason = (f"CASE WHEN {code}.top THEN {code}.reason WHEN {idr} THEN {lit(self.id_reason)} "
                  f"ELSE {code}.reason END")
        return col, reason


def row_filters(plan: SourcePlan, counts: dict[str, int]) -> RowFilters:
    """The identifier conditions, reduced to ``false`` where no raw value is bad or suppressed."""
    def bad(i: int) -> str:
        return f"coalesce(r._k{i} IN (SELECT raw FROM _map{i} WHERE h IS NULL), false)" if counts.get(f"bad{i}") else "false"

    cfg = plan.config
    if not plan.ids:
        return RowFilters("false", "", "", "false")
    if cfg.key is not None:
        id_reject, reason = bad(0), "invalid key"
    elif counts.get("bad"):
        id_reject = "(" + " AND ".join(f"(NOT {_present(f'r._k{i}')} OR {bad(i)})" for i in range(len(plan.ids))) + ")"
        reason = "no valid identifier"
    else:
        id_reject, reason = "false", "no valid identifier"
    sups = [f"coalesce(r._k{i} IN (SELECT raw FROM _map{i} WHERE sup), false)" for i in range(len(plan.ids)) if counts.get(f"sup{i}")]
    suppressed = "(" + " OR ".join(sups) + ")" if sups else "false"
    return RowFilters(id_reject, plan.ids[0][1], reason, suppressed)

