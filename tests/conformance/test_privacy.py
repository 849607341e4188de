"""PRIVACY.md as a compliance officer checks it through the CLI: no raw identifiers in the store
or --json output, the consent ledger verifies and detects tampering, erasure removes the person
and a re-ingest does not bring them back, `cdp status --json` shape.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from .conftest import KEY, Ws, customer, email_of, make_workspace, name_of, phone_of, stderr_of, tax_of

FORGET_CODE = "UNUTZX81Q"  # a distinctive trait value of the person who asks to be forgotten
CODES = ["P1", "P2", "P3", FORGET_CODE]
CUSTOMERS = [customer(c, city="İstanbul", business_type="cafe", credit=i)
             for i, c in enumerate(CODES)]
EVENTS = [{"code": c, "ts": "2026-01-10 10:00:00", "amount": 10 + i, "category": "food"}
          for i, c in enumerate(CODES)]
CONSENTS = [{"code": c, "purpose": "email_marketing", "channel": "email", "status": "granted",
                 "at": "2026-01-01 10:00:00"} for c in CODES]


def e164(raw: str) -> str:
    return "+90" + re.sub(r"\D", "", raw)[1:]


def identifiers() -> list[str]:
    values = []
    for i, code in enumerate(CODES):
        values += [email_of(code), phone_of(i), e164(phone_of(i)), e164(phone_of(i))[1:],
                   name_of(code), tax_of(i)]
    return values


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    return make_workspace(module_dir / "ws", CUSTOMERS, EVENTS, CONSENTS)


def _text_columns(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        found = []
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = 'main'").fetchall():
            cols = [c for c, t in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ?", [table]).fetchall() if t in ("VARCHAR", "JSON")]
            for col in cols:
                found += [str(v) for (v,) in con.execute(
                    f'SELECT DISTINCT "{col}"::VARCHAR FROM "{table}" WHERE "{col}" IS NOT NULL'
                ).fetchall()]
        return found
    finally:
        con.close()


def test_no_raw_identifier_in_store_bytes(ws: Ws) -> None:
    data = (ws.root / ".cdp" / "store.duckdb").read_bytes()
    for value in identifiers():
        at = data.find(value.encode())
        assert at < 0, f"a raw identifier is in store.duckdb: {data[max(0, at - 120):at + 60]!r}"
        assert value.lower().encode() not in data


def test_no_raw_identifier_in_any_text_column(ws: Ws) -> None:
    texts = "\n".join(_text_columns(ws.root / ".cdp" / "store.duckdb")).lower()
    for value in identifiers():
        assert value.lower() not in texts


def test_no_raw_identifier_in_json_outputs(ws: Ws) -> None:
    (ws.root / "segments" / "all.seg").write_text("segment all_c where credit >= 0\n", "utf-8")
    outputs = [ws.ok("status", "--json").stdout, ws.ok("ingest", "--json").stdout,
               ws.ok("segment", "build", "--as-of", "2026-03-31", "--json").stdout,
               ws.ok("segment", "preview", "all_c", "--as-of", "2026-03-31", "--json").stdout,
               ws.ok("consent", "verify", "--json").stdout]
    blob = "\n".join(outputs).lower()
    for value in identifiers():
        assert value.lower() not in blob
    assert KEY not in "\n".join(outputs)


def test_status_json_shape(ws: Ws) -> None:
    status = ws.json("status", "--json")
    for field in ("customers", "events", "identities", "consent_events", "rejects"):
        assert type(status[field]) is int, field
    assert status["customers"] == 4
    assert status["events"] == 4
    assert status["consent_events"] == 4
    assert status["rejects"] == 0
    assert status["identities"] >= 4 * 4  # email, phone, tax id, source key per customer


def test_consent_verify_passes_then_detects_tampering(ws: Ws, tmp_path: Path) -> None:
    ws.ok("consent", "verify")
    copy = Ws(tmp_path / "copy", ws.runner)
    shutil.copytree(ws.root, copy.root)
    con = duckdb.connect(str(copy.root / ".cdp" / "store.duckdb"))
    try:
        seq = con.execute("SELECT min(seq) + 1 FROM consent_events").fetchone()[0]
        con.execute("UPDATE consent_events SET status = 'withdrawn' WHERE seq = ?", [seq])
    finally:
        con.close()
    res = copy.cli("consent", "verify")
    out = stderr_of(res)
    assert res.exit_code == 1, out
    assert re.search(rf"\bseq\D{{0,3}}{seq}\b", out), out
    assert "Traceback" not in out


def auditor_verify(store: Path) -> int | None:
    """An auditor's own verifier, written from PRIVACY.md §3 alone: returns the first bad seq."""
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    con = duckdb.connect(str(store), read_only=True)
    try:
        rows = con.execute("SELECT seq, payload::VARCHAR, payload_digest, prev_hash, hash "
                           "FROM consent_events ORDER BY seq").fetchall()
        checkpoints = con.execute("SELECT seq, hash, signature, public_key "
                                  "FROM consent_checkpoints").fetchall()
    finally:
        con.close()
    prev, heads = "00" * 32, {}
    for seq, payload, digest, prev_hash, hash_hex in rows:
        if payload is not None:
            canonical = json.dumps(json.loads(payload), sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False).encode("utf-8")
            if hashlib.sha256(canonical).hexdigest() != digest:
                return seq
        if prev_hash != prev or hashlib.sha256(
                bytes.fromhex(prev) + bytes.fromhex(digest)).hexdigest() != hash_hex:
            return seq
        prev, heads[seq] = hash_hex, hash_hex
    for seq, hash_hex, signature, public_key in checkpoints:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(signature), f"{seq}:{hash_hex}".encode())
        if heads.get(seq) != hash_hex:
            return seq
    return None


def test_an_auditor_verifies_the_ledger_with_their_own_code(ws: Ws) -> None:
    assert ws.query("SELECT count(*) FROM consent_checkpoints")[0][0] >= 1
    assert auditor_verify(ws.root / ".cdp" / "store.duckdb") is None


def _tampered(ws: Ws, tmp_path: Path, sql: str) -> tuple[Ws, int]:
    copy = Ws(tmp_path / "copy", ws.runner)
    shutil.copytree(ws.root, copy.root)
    con = duckdb.connect(str(copy.root / ".cdp" / "store.duckdb"))
    try:
        seq = con.execute("SELECT max(seq) FROM consent_events").fetchone()[0]
        con.execute(sql, [seq])
    finally:
        con.close()
    return copy, seq


def test_verify_detects_a_deleted_last_event(ws: Ws, tmp_path: Path) -> None:
    copy, _seq = _tampered(ws, tmp_path, "DELETE FROM consent_events WHERE seq = ?")
    res = copy.cli("consent", "verify")
    assert res.exit_code == 1, stderr_of(res)
    assert "Traceback" not in stderr_of(res)


def test_verify_detects_a_changed_payload(ws: Ws, tmp_path: Path) -> None:
    copy, seq = _tampered(ws, tmp_path, "UPDATE consent_events SET payload = "
                          "replace(payload::VARCHAR, 'granted', 'refused')::JSON WHERE seq = ?")
    assert auditor_verify(copy.root / ".cdp" / "store.duckdb") == seq
    res = copy.cli("consent", "verify")
    assert res.exit_code == 1
    assert str(seq) in stderr_of(res)


def test_forget_removes_the_person_and_reingest_skips_them(ws: Ws) -> None:
    before = ws.json("status", "--json")["customers"]
    res = ws.ok("privacy", "forget", "--email", email_of(FORGET_CODE), "--reason", "request")
    assert email_of(FORGET_CODE) not in stderr_of(res)
    assert ws.query("SELECT count(*) FROM customers WHERE code = ?", [FORGET_CODE])[0][0] == 0
    assert ws.json("status", "--json")["customers"] == before - 1
    data = (ws.root / ".cdp" / "store.duckdb").read_bytes()
    assert FORGET_CODE.encode() not in data, "the erased customer's trait lingers in the file"
    # the source files change (a new customer, a new event of the forgotten person): re-ingest
    path = ws.root / "data" / "customers.csv"
    path.write_text(path.read_text("utf-8") + "REF-NEW1,new1@ornek.com.tr,,,,NEW1,Bursa,cafe,,3,\n",
                    "utf-8")
    events = ws.root / "data" / "events.csv"
    events.write_text(events.read_text("utf-8")
                      + f"evX,REF-{FORGET_CODE},purchase,2026-02-01 10:00:00,99,food,\n", "utf-8")
    ws.ok("ingest", "--json")
    codes = {c for (c,) in ws.query("SELECT code FROM customers")}
    assert FORGET_CODE not in codes
    assert "NEW1" in codes
    assert ws.query("SELECT count(*) FROM events WHERE event_id = 'evX'")[0][0] == 0


def test_header_only_source_file_is_not_a_crash(tmp_path: Path) -> None:
    """A source whose CSV has a header and no rows yet (a new user's first export) ingests
    nothing, or fails with a one-paragraph CDPError; never a raw DuckDB BinderException."""
    w = make_workspace(tmp_path / "empty", [customer("Z1")], ingest=False)
    (w.root / "cdp.toml").write_text((w.root / "cdp.toml").read_text("utf-8") + """
[sources.events]
kind = "csv"
path = "data/events.csv"
entity = "events"
key = "customer_ref"
event_id = "event_id"
event_type = "event_type"
timestamp = "ts"
amount = "amount"
""", "utf-8")
    (w.root / "data" / "events.csv").write_text("event_id,customer_ref,event_type,ts,amount\n")
    res = w.cli("ingest")
    assert res.exit_code in (0, 1)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)


def test_forget_by_phone_in_another_format(ws: Ws) -> None:
    """P2's phone was ingested as `0532 401 11 21`; the request gives `+90 (532) 401-11-21`."""
    digits = e164(phone_of(1))[3:]
    other = f"+90 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    ws.ok("privacy", "forget", "--phone", other, "--reason", "request")
    assert ws.query("SELECT count(*) FROM customers WHERE code = 'P2'")[0][0] == 0
    texts = "\n".join(_text_columns(ws.root / ".cdp" / "store.duckdb")).lower()
    for value in identifiers():
        assert value.lower() not in texts


def test_forget_again_is_idempotent_and_ledger_still_verifies(ws: Ws) -> None:
    res = ws.cli("privacy", "forget", "--email", email_of(FORGET_CODE), "--reason", "again")
    assert res.exit_code in (0, 1)
    assert "Traceback" not in stderr_of(res)
    assert email_of(FORGET_CODE) not in stderr_of(res)
    ws.ok("consent", "verify")
    assert auditor_verify(ws.root / ".cdp" / "store.duckdb") is None
    actions = [a for (a,) in ws.query("SELECT action FROM audit_log")]
    assert any("forget" in a or "erase" in a or "erasure" in a for a in actions), actions


def test_short_csv_row_is_rejected_not_a_crash(tmp_path: Path) -> None:
    w = make_workspace(tmp_path / "short", [customer("Z1", credit=1)], ingest=False)
    path = w.root / "data" / "customers.csv"
    path.write_text(path.read_text("utf-8") + "REF-Z2,z2@ornek.com.tr,,,,Z2,Bursa,cafe,,2\n")
    res = w.cli("ingest", "--json")
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)


def test_same_data_in_any_order_gives_the_same_ids(tmp_path: Path) -> None:
    """PRIVACY.md §1: customer_id derives from the smallest identifier pseudonym when first seen,
    so the same rows in another order give the same ids (merges included: O4 shares O1's
    e-mail)."""
    rows = [customer(f"O{i}", credit=i, phone=phone_of(60 + i), tax_id=tax_of(60 + i))
            for i in range(1, 4)]
    rows.append(customer("O4", credit=4, email=email_of("O1"), phone=phone_of(64),
                         tax_id=tax_of(64)))
    forward = make_workspace(tmp_path / "fwd", rows, ingest=False)
    backward = make_workspace(tmp_path / "bwd", list(reversed(rows)), ingest=False)
    # keys are per workspace: the second one restores the first one's key store
    shutil.copyfile(forward.root / ".cdp" / "keys.duckdb", backward.root / ".cdp" / "keys.duckdb")
    forward.ok("ingest")
    backward.ok("ingest")
    ids_f = set(forward.codes())
    ids_b = set(backward.codes())
    assert ids_f == ids_b
    assert len(ids_f) == 3  # O1 and O4 share an e-mail: one customer


def test_vault_holds_contact_points_only_encrypted(ws: Ws) -> None:
    """PRIVACY.md §1: contact points live only in the vault, AES-256-GCM ciphertext (12-byte
    nonce, 16-byte tag) under per-customer keys wrapped in .cdp/keys.duckdb; neither file holds
    them in clear."""
    data = (ws.root / ".cdp" / "keys.duckdb").read_bytes()
    for code in CODES[:3]:
        assert email_of(code).encode() not in data
        assert name_of(code).encode("utf-8") not in data
    rows = ws.query("SELECT field, nonce, ciphertext FROM vault")
    assert {f for f, _, _ in rows} >= {"email", "phone", "full_name"}
    for _, nonce, ciphertext in rows:
        assert len(nonce) == 12
        assert len(ciphertext) >= 16 + 1
