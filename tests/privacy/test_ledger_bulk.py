"""The bulk consent-ledger append: payload_sql is canonical_payload byte for byte, and
append_relation stores exactly what append stores (validation, dedupe, seq, chain, checkpoint)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cdp.errors import PrivacyError
from cdp.store import migrate
from privacy.ledger import PAYLOAD_FIELDS, AppendResult, ConsentInput, append, canonical_payload, verify
from privacy.ledger_bulk import append_relation, payload_sql

T0 = datetime(2026, 1, 1, 9, 0, 0)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB = KEY.public_key().public_bytes_raw().hex()
_TS = ("effective_at", "expires_at")


def _arrow(events: Sequence[ConsentInput]) -> pa.Table:
    cols = {
        name: pa.array([getattr(e, name) for e in events], pa.timestamp("us") if name in _TS else pa.string())
        for name in PAYLOAD_FIELDS
    }
    cols["_ord"] = pa.array(range(len(events)), pa.int64())
    return pa.table(cols)


def _relation(con: duckdb.DuckDBPyConnection, name: str, events: Sequence[ConsentInput]) -> str:
    """A temp table of the events, ``_ord`` their position in the list (as ingestion builds it)."""
    con.register("_events_arrow", _arrow(events))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _events_arrow")
    con.unregister("_events_arrow")
    return name


def _in_order(events: Sequence[ConsentInput]) -> list[ConsentInput]:
    """The events as append_relation sees them: by (effective_at, _ord)."""
    return [e for _, e in sorted(enumerate(events), key=lambda p: (p[1].effective_at, p[0]))]


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    migrate(con)
    con.execute("INSERT INTO identities VALUES ('h_known', 'email', 'c_known', 'crm', ?)", [T0])
    return con


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]]:
    one, bulk = _open(tmp_path / "one.duckdb"), _open(tmp_path / "bulk.duckdb")
    yield one, bulk
    one.close()
    bulk.close()


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT * EXCLUDE (recorded_at) REPLACE (payload::VARCHAR AS payload) FROM consent_events ORDER BY seq"
    ).fetchall()


def _written(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """(events, checkpoints, leftover temp tables of append_relation)."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM consent_events), (SELECT count(*) FROM consent_checkpoints), "
        "(SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, '_ledger_bulk'))"
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


# -- payload_sql ---------------------------------------------------------------------------------

_SPECIAL = st.sampled_from(['"', "\\", "/", "\x7f", "\u2028", "\u2029", "İ", "ı", "Ş", "ğ", "😀", "é", " ", "{"]
                           + [chr(c) for c in range(0x20)])
_CHARS = st.one_of(_SPECIAL, st.characters(codec="utf-8"))  # no lone surrogates: DuckDB text is valid UTF-8
_TEXT = st.text(_CHARS, max_size=12)
_OPTIONAL = st.one_of(st.none(), st.just(""), _TEXT)
_WHOLE = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999))
_TIME = st.one_of(_WHOLE, _WHOLE.map(lambda d: d.replace(microsecond=0)))
_EVENT = st.builds(
    ConsentInput,
    purpose=_TEXT, channel=_TEXT, status=_TEXT, effective_at=_TIME,
    **{name: _OPTIONAL for name in PAYLOAD_FIELDS if name not in ("purpose", "channel", "status", *_TS)},
    expires_at=st.one_of(st.none(), _TIME),
)
_MEMORY = duckdb.connect()
_QUERY = f"SELECT p, sha256(p) FROM (SELECT _ord, {payload_sql('t')} AS p FROM _examples t) ORDER BY _ord"


@settings(max_examples=200, deadline=None)
@given(st.lists(_EVENT, min_size=1, max_size=4))
def test_payload_sql_is_canonical_payload(events: list[ConsentInput]) -> None:
    _MEMORY.register("_examples", _arrow(events))
    try:
        got = _MEMORY.execute(_QUERY).fetchall()
    finally:
        _MEMORY.unregister("_examples")
    for (payload, digest), event in zip(got, events, strict=True):
        expected = canonical_payload(event)
        assert payload == expected
        assert digest == hashlib.sha256(expected.encode("utf-8")).hexdigest()


# -- append_relation -----------------------------------------------------------------------------

def _events() -> tuple[list[ConsentInput], list[ConsentInput]]:
    def ev(i: int, **kw: object) -> ConsentInput:
        base: dict[str, object] = {"purpose": "email_marketing", "channel": "email", "status": "granted",
                                   "effective_at": T0 + timedelta(minutes=i), "customer_id": f"c_{i:03d}",
                                   "source": "HS_WEB", "notice_version": "v1"}
        return ConsentInput(**{**base, **kw})  # type: ignore[arg-type]

    odd = {"actor": 'Çağrı "İş" \\ merkezi\n\t\x01', "evidence": "https://e.tr/ü/😀\u2028", "basis": "consent"}
    first = [
        ev(5), ev(1, status="withdrawn"), ev(3, **odd),
        ev(2, id_hash="h_known", customer_id=None),            # pending: linked through identities
        ev(4, id_hash="h_unknown", customer_id=None),          # pending, recipient not yet known
        ev(6, id_hash="h_known", customer_id="c_given"),       # customer_id kept as a column, not in payload
        ev(1, status="withdrawn"),                             # duplicate within the batch
        ev(6, id_hash="h_known", customer_id="c_other"),       # same payload as the one above: skipped
        ev(7, effective_at=T0 + timedelta(minutes=2, microseconds=250), expires_at=T0 + timedelta(days=365)),
        ev(8, effective_at=T0 + timedelta(minutes=2)),         # same effective_at: source order decides
        ev(9, effective_at=T0 - timedelta(days=3), channel="any", purpose="ads_targeting", recipient_type="TACIR"),
    ]
    second = [first[2], ev(20, status="refused"), first[0], ev(21, iys_transaction_id="IYS-1"), ev(20, status="refused")]
    return first, second


def test_append_relation_stores_what_append_stores(stores) -> None:
    one, bulk = stores
    first, second = _events()
    for batch in (first, second, first):
        expected = append(one, _in_order(batch), signing_key=KEY)
        got = append_relation(bulk, _relation(bulk, "incoming", batch), signing_key=KEY)
        assert got == expected
    assert _rows(bulk) == _rows(one)
    assert len(_rows(bulk)) == 11
    checkpoints = "SELECT seq, hash, signature, public_key FROM consent_checkpoints ORDER BY signed_at"
    assert bulk.execute(checkpoints).fetchall() == one.execute(checkpoints).fetchall()
    assert verify(one, [PUB]).ok and verify(bulk, [PUB]).ok
    assert _written(bulk)[2] == 0  # temp tables dropped
    linked = "SELECT customer_id FROM consent_events WHERE id_hash = 'h_known' ORDER BY seq"
    assert [r[0] for r in bulk.execute(linked).fetchall()] == ["c_known", "c_given"]


def test_append_relation_continues_the_chain_of_append(stores) -> None:
    one, bulk = stores
    first, second = _events()
    for con in (one, bulk):
        append(con, _in_order(second), signing_key=KEY)
    append(one, _in_order(first), signing_key=KEY)
    res = append_relation(bulk, _relation(bulk, "incoming", first), signing_key=KEY)
    assert res == AppendResult(7, 4, 5, 11)
    assert _rows(bulk) == _rows(one)
    assert verify(bulk, [PUB]).ok


def test_empty_relation_writes_nothing(stores) -> None:
    _, bulk = stores
    assert append_relation(bulk, _relation(bulk, "incoming", []), signing_key=KEY) == AppendResult(0, 0, None, None)
    assert _written(bulk) == (0, 0, 0)


@pytest.mark.parametrize("bad", [
    {"status": "maybe"},
    {"channel": "fax"},
    {"status": None},
    {"purpose": ""},
    {"customer_id": None, "id_hash": None},
])
def test_validation_matches_append_and_writes_nothing(stores, bad: dict[str, Any]) -> None:
    one, bulk = stores
    first, _ = _events()
    events = list(first)
    events[0] = replace(events[0], **bad)  # first in source order, 9th in (effective_at, _ord) order
    events[-2] = replace(events[-2], **bad)  # 5th in that order: the one reported
    with pytest.raises(PrivacyError) as expected:
        append(one, _in_order(events), signing_key=KEY)
    with pytest.raises(PrivacyError) as got:
        append_relation(bulk, _relation(bulk, "incoming", events), signing_key=KEY)
    assert str(got.value) == str(expected.value)
    assert str(got.value).startswith("consent event 5: ")
    assert _written(bulk) == (0, 0, 0)


def test_missing_effective_at_is_rejected(stores) -> None:
    _, bulk = stores
    first, _ = _events()
    events = [*first, ConsentInput("email_marketing", "email", "granted", None, customer_id="c")]  # type: ignore[arg-type]
    with pytest.raises(PrivacyError, match=r"consent event 12: field 'effective_at' must be a datetime"):
        append_relation(bulk, _relation(bulk, "incoming", events), signing_key=KEY)
    assert _written(bulk) == (0, 0, 0)


def test_works_inside_the_callers_transaction(stores) -> None:
    _, bulk = stores
    first, second = _events()
    bulk.execute("BEGIN TRANSACTION")
    res = append_relation(bulk, _relation(bulk, "incoming", first), signing_key=KEY)
    assert res.appended == 9
    assert _written(bulk)[:2] == (9, 1)
    bulk.execute("ROLLBACK")
    assert _written(bulk) == (0, 0, 0)

    bulk.execute("BEGIN TRANSACTION")
    append_relation(bulk, _relation(bulk, "incoming", first), signing_key=KEY)
    append_relation(bulk, _relation(bulk, "incoming", second), signing_key=KEY)
    bulk.execute("COMMIT")
    assert _written(bulk) == (11, 2, 0)
    assert verify(bulk, [PUB]).ok
