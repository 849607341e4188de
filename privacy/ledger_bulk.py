"""Bulk append to the consent ledger: :func:`privacy.ledger.append` for a whole relation at once.

``append`` builds each canonical payload in Python, which is what makes a multi-million-row
import slow. :func:`append_relation` does validation, payloads (:func:`payload_sql`), digests,
dedupe and seq numbering in DuckDB SQL; only the hash chain, sequential by definition, runs
in Python, over the raw digests streamed with Arrow. Same validation messages, same stored
rows (``recorded_at`` aside), same signed checkpoint as ``append``.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from cdp.errors import PrivacyError
from privacy.ledger import (
    _CHANNELS,
    _TS_FIELDS,
    _ZERO,
    PAYLOAD_FIELDS,
    STATUSES,
    AppendResult,
    ConsentInput,
    _begin,
    _check,
    _checkpoint,
    _encode_str,
    _head,
)

__all__ = ["append_relation", "payload_sql"]

# json.encoder.encode_basestring (ensure_ascii=False) escapes exactly `"`, `\` and U+0000..U+001F;
# the backslash goes first so that no later replacement is escaped again
_ESCAPES = tuple((code, _encode_str(chr(code))[1:-1]) for code in (0x5C, 0x22, *range(0x20)))
_TEXT_FIELDS = tuple(name for name in PAYLOAD_FIELDS if name not in _TS_FIELDS)

_IN = {col: ", ".join(f"'{v}'" for v in allowed) for col, allowed in (("status", STATUSES), ("channel", _CHANNELS))}
_INVALID = " OR ".join(f"({cond})" for cond in (  # true exactly when _check raises for the row
    *(f"{col} IS NULL OR {col} NOT IN ({allowed})" for col, allowed in _IN.items()),
    "purpose IS NULL OR purpose = ''",
    "customer_id IS NULL AND id_hash IS NULL",
    "effective_at IS NULL",
))
_ORDER = "effective_at, _ord"  # the rows of the relation, in this order, are the events of append
_STAGE, _KEPT, _CHAIN = "_ledger_bulk_stage", "_ledger_bulk_kept", "_ledger_bulk_chain"
_BATCH = 1 << 20


def _text(col: str, escape: bool) -> str:
    if not escape:
        return f"""CASE WHEN {col} IS NULL THEN 'null' ELSE concat('"', {col}, '"') END"""
    escaped = col
    for code, text in _ESCAPES:
        escaped = f"replace({escaped}, chr({code}), '{text}')"
    return (f"""CASE WHEN {col} IS NULL THEN 'null' WHEN {_plain(col)} THEN concat('"', {col}, '"') """
            f"""ELSE concat('"', {escaped}, '"') END""")


def _plain(text: str) -> str:
    """True when the VARCHAR has nothing to escape: to_json lengthens a string exactly when it holds a
    character JSON must escape (to_json may escape more: that only sends a value to the exact path)."""
    return f"strlen(to_json({text})) = strlen({text}) + 2"


def _time(col: str) -> str:
    """utc_iso: ``datetime.isoformat()`` + Z, with microseconds only when nonzero."""
    return (f"CASE WHEN {col} IS NULL THEN 'null' "
            f"""WHEN microsecond({col}) % 1000000 = 0 THEN strftime({col}, '"%Y-%m-%dT%H:%M:%SZ"') """
            f"""ELSE strftime({col}, '"%Y-%m-%dT%H:%M:%S.%fZ"') END""")


def _payload(prefix: str, escape: bool) -> str:
    parts = []
    for i, name in enumerate(sorted(PAYLOAD_FIELDS)):
        col = prefix + name
        parts.append(f"""'{"," if i else "{"}"{name}":'""")
        if name in _TS_FIELDS:
            parts.append(_time(col))
        elif name == "customer_id":  # null in the payload when given by identifier pseudonym
            parts.append(f"CASE WHEN {prefix}id_hash IS NULL THEN {_text(col, escape)} ELSE 'null' END")
        else:
            parts.append(_text(col, escape))
    return f"concat({', '.join(parts)}, '}}')"  # one concat: a chain of || copies the prefix each time


def payload_sql(alias: str = "") -> str:
    """A DuckDB SQL expression (VARCHAR) giving, for a row with the PAYLOAD_FIELDS columns,
    exactly canonical_payload(ConsentInput(...)) of that row, byte for byte."""
    prefix = f"{alias}." if alias else ""
    texts = f"concat({', '.join(prefix + name for name in _TEXT_FIELDS)})"  # fast path: one test per row
    return f"(CASE WHEN {_plain(texts)} THEN {_payload(prefix, False)} ELSE {_payload(prefix, True)} END)"


def _validate(con: Any, relation: str) -> int:
    """Raise what append's _check raises for the first invalid row; return the number of rows."""
    total, bad = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {_INVALID}) FROM {relation}").fetchone()
    if bad:
        cols = ", ".join(PAYLOAD_FIELDS)
        *row, pos = con.execute(  # rows without effective_at come last (they cannot be ordered)
            f"SELECT {cols}, pos FROM (SELECT *, {_INVALID} AS invalid, row_number() OVER "
            f"(ORDER BY effective_at NULLS LAST, _ord NULLS LAST) AS pos FROM {relation}) "
            "WHERE invalid ORDER BY pos LIMIT 1"
        ).fetchone()
        _check(ConsentInput(**dict(zip(PAYLOAD_FIELDS, row))), pos - 1)
        raise PrivacyError(f"consent event {pos} is invalid")  # not reached: _INVALID mirrors _check
    return int(total)


def _chain(con: Any, head_hash: str | None) -> pa.Table:
    """(seq, prev, hash) of the kept rows as raw 32-byte values, chained in seq order as append does."""
    reader = con.execute(f"SELECT seq, unhex(payload_digest) FROM {_KEPT} ORDER BY seq").to_arrow_reader(_BATCH)
    sha = hashlib.sha256
    prev = bytes.fromhex(head_hash) if head_hash else _ZERO
    out = bytearray(prev)  # prev of the first row, then every hash
    seqs: list[pa.Array] = []
    for batch in reader:
        seqs.append(batch.column(0))
        digests = batch.column(1).cast(pa.binary(32))
        data = memoryview(digests.buffers()[1])[digests.offset * 32:(digests.offset + len(digests)) * 32]
        for i in range(0, len(data), 32):
            prev = sha(prev + data[i:i + 32]).digest()
            out += prev
    n = len(out) // 32 - 1
    buf = pa.py_buffer(out)
    return pa.table({
        "seq": pa.chunked_array(seqs, pa.int64()),
        "prev": pa.Array.from_buffers(pa.binary(32), n, [None, buf.slice(0, n * 32)]),
        "hash": pa.Array.from_buffers(pa.binary(32), n, [None, buf.slice(32)]),
    })


def _drop_temp(con: Any) -> None:
    con.execute(f"DROP TABLE IF EXISTS {_STAGE}")
    con.execute(f"DROP TABLE IF EXISTS {_KEPT}")


def _append(con: Any, relation: str, total: int, signing_key: Any) -> AppendResult:
    cols = ", ".join(PAYLOAD_FIELDS)
    # an optional `_link` column carries the customer already looked up for id_hash (saves a join)
    linked = "_link" in {r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall()}
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_STAGE} AS SELECT *, sha256(payload) AS payload_digest "
        f"FROM (SELECT {cols}, _ord, {'_link, ' if linked else ''}{payload_sql()} AS payload FROM {relation})"
    )
    # the first row of each digest in batch order, unless the digest is stored already; k: its rank.
    # rid is the stage's rowid: stable here, as every statement of an append runs in one transaction
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_KEPT} AS
        SELECT rid, payload_digest, row_number() OVER (ORDER BY r) AS k, NULL::BIGINT AS seq FROM (
            SELECT payload_digest, min(r) AS r, arg_min(rid, r) AS rid FROM (
                SELECT rowid AS rid, payload_digest, row_number() OVER (ORDER BY {_ORDER}) AS r FROM {_STAGE}
            ) GROUP BY payload_digest
        ) f
        WHERE NOT EXISTS (SELECT 1 FROM consent_events c WHERE c.payload_digest = f.payload_digest)
        """
    )
    n = int(con.execute(f"SELECT count(*) FROM {_KEPT}").fetchone()[0])
    if n == 0:
        _drop_temp(con)
        return AppendResult(0, total, None, None)
    # n values from the sequence, given in increasing order along k (append sorts them the same way)
    con.execute(
        f"""
        UPDATE {_KEPT} SET seq = s.seq FROM (
            SELECT seq, row_number() OVER (ORDER BY seq) AS k FROM (SELECT nextval('consent_seq') AS seq FROM range(?))
        ) s WHERE {_KEPT}.k = s.k
        """,
        [n],
    )
    first_seq, last_seq = con.execute(f"SELECT min(seq), max(seq) FROM {_KEPT}").fetchone()
    _, head_hash = _head(con)
    con.register(_CHAIN, _chain(con, head_hash))
    try:
        con.execute(
            f"""
            INSERT INTO consent_events (seq, customer_id, id_hash, purpose, channel, status, basis,
                recipient_type, source, notice_version, text_version, collection_method, actor, evidence,
                iys_transaction_id, effective_at, recorded_at, expires_at, payload, payload_digest,
                prev_hash, hash, redacted_at)
            SELECT k.seq, coalesce(t.customer_id, {'t._link' if linked else 'i.customer_id'}), t.id_hash, t.purpose, t.channel, t.status,
                t.basis, t.recipient_type, t.source, t.notice_version, t.text_version, t.collection_method,
                t.actor, t.evidence, t.iys_transaction_id, t.effective_at, ?, t.expires_at, t.payload,
                t.payload_digest, lower(hex(c.prev)), lower(hex(c.hash)), NULL
            FROM {_STAGE} t JOIN {_KEPT} k ON k.rid = t.rowid JOIN {_CHAIN} c ON c.seq = k.seq
            {'' if linked else 'LEFT JOIN identities i ON i.id_hash = t.id_hash'}
            """,
            [datetime.now(UTC).replace(tzinfo=None)],
        )
    finally:
        con.unregister(_CHAIN)
    _drop_temp(con)
    _checkpoint(con, signing_key)
    return AppendResult(n, total - n, int(first_seq), int(last_seq))


def append_relation(con: Any, relation: str, *, signing_key: Any) -> AppendResult:
    """Bulk append: same semantics and same stored result as ledger.append(con, events, signing_key=...)
    where events are the rows of `relation` ordered by (effective_at, _ord).

    ``relation`` names a table or view of our own code (never user text) with the
    :data:`~privacy.ledger.PAYLOAD_FIELDS` columns (text VARCHAR, times naive-UTC TIMESTAMP) plus
    ``_ord BIGINT``, unique, the source order that breaks ties. Works on its own or inside the
    caller's open transaction (then the caller commits); uses, and drops again, the connection's
    temp tables ``_ledger_bulk_stage`` and ``_ledger_bulk_kept``.
    """
    total = _validate(con, relation)
    own = _begin(con)
    try:
        result = _append(con, relation, total, signing_key)
        if own:
            con.execute("COMMIT")
    except BaseException:
        if own:
            con.execute("ROLLBACK")  # also drops the temp tables, created in the transaction
        else:
            with contextlib.suppress(duckdb.Error):  # an aborted transaction drops them on rollback
                _drop_temp(con)
        raise
    return result
