"""Loading resolved rows (``_ok``) into the canonical tables, per entity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cdp.config.sources import VALUE_TYPES
from cdp.ingest.plan import SourcePlan
from cdp.ingest.report import SourceReport
from cdp.ingest.values import ident, lit
from privacy.normalize import nfc, normalize_identifier

__all__ = ["add_columns", "load_consents", "load_customers", "load_events"]

_CONTACT_BATCH = 100_000


def add_columns(con: Any, table: str, plan: SourcePlan, role: str, blocked: dict[str, str]) -> list[tuple[int, str]]:
    """ALTER TABLE ... ADD COLUMN IF NOT EXISTS for each declared field; returns (index, name).

    Must run before the transaction modifies ``table`` (DuckDB refuses to commit an ALTER
    that follows changes to the same table)."""
    out = []
    for j, f in enumerate(plan.fields):
        if f.role != role or f.name in blocked:
            continue
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {ident(f.name)} {VALUE_TYPES[f.vtype]}")
        out.append((j, f.name))
    return out


def load_customers(
    con: Any, plan: SourcePlan, report: SourceReport, *, now: datetime, vault: Any, traits: list[tuple[int, str]]
) -> None:
    """Insert the new customers with their traits, update the known ones (the last non-empty
    value of the batch wins; empty keeps the stored one) and write contact columns to the
    vault only. The new customers (``_newc``) come from identity resolution."""
    aggs = ", ".join(f"arg_max(_p{j}, _ord) FILTER (WHERE _p{j} IS NOT NULL) AS {ident(n)}" for j, n in traits)
    con.execute("DROP TABLE IF EXISTS _tr")
    con.execute(f"CREATE TEMP TABLE _tr AS SELECT customer_id, count(*) AS _n{', ' + aggs if aggs else ''} "
                "FROM _ok GROUP BY customer_id")
    report.rows_loaded = int(con.execute("SELECT coalesce(sum(_n), 0) FROM _tr").fetchone()[0])
    names = ", ".join(ident(n) for _, n in traits)
    con.execute(
        f"INSERT INTO customers (customer_id, first_seen_at, updated_at{', ' + names if names else ''}) "
        f"SELECT n.customer_id, ?, ?{', ' + ', '.join(f't.{ident(n)}' for _, n in traits) if traits else ''} "
        "FROM _newc n LEFT JOIN _tr t USING (customer_id)",
        [now, now],
    )
    if traits:
        sets = ", ".join(f"{ident(n)} = coalesce(a.{ident(n)}, customers.{ident(n)})" for _, n in traits)
        con.execute(
            f"UPDATE customers SET {sets}, updated_at = ? "
            f"FROM (SELECT * FROM _tr WHERE customer_id NOT IN (SELECT customer_id FROM _newc)) a "
            f"WHERE customers.customer_id = a.customer_id",
            [now],
        )
    con.execute("DROP TABLE IF EXISTS _tr")
    if plan.contact:
        write_contacts(con, plan, report, vault)


def write_contacts(con: Any, plan: SourcePlan, report: SourceReport, vault: Any) -> None:
    """The last non-empty value of each contact column per customer, normalized, into the vault."""
    id_kind = {c: k for k, c in plan.ids}
    fields = list(plan.contact.items())
    aggs = ", ".join(
        f"arg_max(_c{m}, _ord) FILTER (WHERE nullif(trim(_c{m}), '') IS NOT NULL)" for m in range(len(fields))
    )
    con.execute("DROP TABLE IF EXISTS _contacts")
    con.execute(f"CREATE TEMP TABLE _contacts AS SELECT customer_id, {aggs} FROM _ok GROUP BY customer_id")
    batches = list(con.execute("SELECT * FROM _contacts").to_arrow_reader(_CONTACT_BATCH))
    con.execute("DROP TABLE IF EXISTS _contacts")
    written = 0
    for tbl in batches:   # in batches: the plaintexts of a million customers never sit in Python at once
        ids = tbl.column(0).to_pylist()
        rows = []
        for k, (fieldname, col) in enumerate(fields):
            kind = id_kind.get(col)
            for cid, raw in zip(ids, tbl.column(k + 1).to_pylist()):
                if raw is None:
                    continue
                value = normalize_identifier(kind, raw) if kind in ("email", "phone") else nfc(str(raw)).strip()
                if value:
                    rows.append((cid, fieldname, value))
        written += vault.put_many(rows)
        del rows, ids
    report.vault_fields = written


def load_events(
    con: Any, plan: SourcePlan, report: SourceReport, *, props: list[tuple[int, str]], rows: str = "_ok"
) -> None:
    """Insert new events; an event_id seen before with other content is a correction (replaced).

    ``rows`` is a relation with the same rows and ``_eid`` as ``_ok`` that is cheaper to count
    (no join)."""
    idx = {f.role: j for j, f in enumerate(plan.fields)}
    amount = f"_p{idx['amount']}" if "amount" in idx else "NULL::DECIMAL(18, 2)"
    cols = ["event_id", "customer_id", "event_type", "ts", "amount", "source", *[n for _, n in props]]
    exprs = ["_eid", "customer_id", f"_p{idx['event_type']}", f"_p{idx['ts']}", amount, "?",
             *[f"_p{j}" for j, _ in props]]
    select = ", ".join(f"{e} AS {ident(c)}" for e, c in zip(exprs, cols))
    col_list = ", ".join(ident(c) for c in cols)
    # distinct 64-bit hashes as many as rows proves the ids unique (a collision only lowers the count)
    ok, distinct = con.execute(f"SELECT count(*), count(DISTINCT hash(_eid)) FROM {rows}").fetchone()
    if distinct < ok:
        distinct = con.execute(f"SELECT count(DISTINCT _eid) FROM {rows}").fetchone()[0]
    # the same event_id twice in one batch: the last row wins (rare, so only then pay for it)
    dedupe = " QUALIFY row_number() OVER (PARTITION BY _eid ORDER BY _ord DESC) = 1" if distinct < ok else ""
    if not con.execute("SELECT EXISTS (SELECT 1 FROM events)").fetchone()[0]:
        # nothing stored yet (the first load): straight in, nothing to compare with
        con.execute(f"INSERT INTO events ({col_list}) SELECT {select} FROM _ok{dedupe}", [plan.name])
        report.corrections = 0
        report.rows_unchanged = int(ok - distinct)
        report.rows_loaded = int(distinct)
        return
    con.execute("DROP TABLE IF EXISTS _ev")
    con.execute(f"CREATE TEMP TABLE _ev AS SELECT {select} FROM _ok{dedupe}", [plan.name])
    con.execute("DROP TABLE IF EXISTS _rows")
    differs = " OR ".join(f"b.{ident(c)} IS DISTINCT FROM e.{ident(c)}" for c in cols[1:])
    con.execute("DROP TABLE IF EXISTS _corr")
    con.execute(
        f"CREATE TEMP TABLE _corr AS SELECT b.event_id, ({differs}) AS changed "
        "FROM _ev b JOIN events e ON e.event_id = b.event_id"
    )
    changed, same = con.execute(
        "SELECT count(*) FILTER (WHERE changed), count(*) FILTER (WHERE NOT changed) FROM _corr"
    ).fetchone()
    if changed:
        con.execute("DELETE FROM events WHERE event_id IN (SELECT event_id FROM _corr WHERE changed)")
    skip = " WHERE NOT EXISTS (SELECT 1 FROM _corr c WHERE c.event_id = _ev.event_id AND NOT c.changed)" if same else ""
    con.execute(f"INSERT INTO events ({col_list}) SELECT {col_list} FROM _ev{skip}")
    report.corrections = int(changed)
    report.rows_unchanged = int(same) + (ok - distinct)
    report.rows_loaded = int(distinct - same)


def load_consents(con: Any, plan: SourcePlan, report: SourceReport, *, signing_key: Any) -> None:
    """Append consent events through the ledger (idempotent: a re-import adds nothing).

    A refusal (İYS ``RET``) whose subject's latest earlier event for the same purpose and
    channel is a grant is recorded as a withdrawal. Events are recorded by identifier
    pseudonym; the ledger links them to the customer, or keeps them pending until the
    identifier appears. All in SQL (privacy.ledger_bulk), only the hash chain in Python.
    """
    from privacy.ledger import PAYLOAD_FIELDS
    from privacy.ledger_bulk import append_relation

    idx = {f.role: j for j, f in enumerate(plan.fields)}
    defaults = plan.config.defaults
    texts = ("basis", "recipient_type", "source", "notice_version", "text_version", "collection_method", "actor",
             "evidence", "iys_transaction_id")

    def text(role: str) -> str:
        if role in idx:
            return f"o._p{idx[role]}"
        return f"{lit(defaults[role])}::VARCHAR" if role in defaults else "NULL::VARCHAR"

    cols = {
        "customer_id": "NULL::VARCHAR", "id_hash": "o._pick", "purpose": "o._purpose", "channel": "o._channel",
        "status": text("status"), "effective_at": f"o._p{idx['at']}",
        "expires_at": f"o._p{idx['expires']}" if "expires" in idx else "NULL::TIMESTAMP",
        **{t: text(t) for t in texts},
    }
    assert set(cols) == set(PAYLOAD_FIELDS), "every payload field is mapped"
    con.execute("DROP TABLE IF EXISTS _cin")
    con.execute(
        f"""
        CREATE TEMP TABLE _cin AS
        WITH b AS (SELECT o._ord, o._known, o._link, {', '.join(f'{e} AS {ident(c)}' for c, e in cols.items())}
                   FROM _ok o),
        hist AS (
            SELECT id_hash, purpose, channel, effective_at AS t, 0 AS src, seq AS k, status FROM consent_events
            WHERE id_hash IN (SELECT id_hash FROM b)
            UNION ALL SELECT id_hash, purpose, channel, effective_at, 1, _ord, status FROM b),
        last_at AS (SELECT id_hash, purpose, channel, t, arg_max(status, (src, k)) AS last FROM hist GROUP BY ALL),
        prev AS (SELECT id_hash, purpose, channel, t,
                        lag(last) OVER (PARTITION BY id_hash, purpose, channel ORDER BY t) AS before FROM last_at)
        SELECT b.* REPLACE (CASE WHEN b.status = 'refused' AND p.before = 'granted' THEN 'withdrawn'
                                 ELSE b.status END AS status)
        FROM b LEFT JOIN prev p ON p.id_hash = b.id_hash AND p.purpose = b.purpose AND p.channel = b.channel
                               AND p.t = b.effective_at
        """
    )
    pending = int(con.execute("SELECT count(*) FILTER (WHERE NOT _known) FROM _cin").fetchone()[0])
    result = append_relation(con, "_cin", signing_key=signing_key)
    con.execute("DROP TABLE IF EXISTS _cin")
    report.consents_appended = result.appended
    report.rows_unchanged = result.skipped
    report.rows_loaded = result.appended
    report.consents_pending = pending if result.appended else 0
