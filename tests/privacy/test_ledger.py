"""The consent ledger: idempotent appends, the hash chain, checkpoints, tamper detection,
redaction, and the standalone verifier shipped in docs/privacy.md."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import runpy
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cdp.store import migrate
from privacy.ledger import ConsentInput, append, canonical_payload, redact, verify

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, 9, 0, 0)


@pytest.fixture
def ledger(tmp_path: Path):
    path = tmp_path / "store.duckdb"
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    migrate(con)
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes_raw().hex()
    events = [
        ConsentInput("email_marketing", "email", "granted", T0 + timedelta(hours=i), customer_id=f"c_{i:04d}",
                     source="HS_WEB", notice_version="v1")
        for i in range(6)
    ]
    append(con, events[:3], signing_key=key)
    append(con, events[3:], signing_key=key)
    yield con, key, pub, path, events
    con.close()


def test_append_is_idempotent_and_chained(ledger) -> None:
    con, key, pub, _, events = ledger
    again = append(con, events, signing_key=key)
    assert (again.appended, again.skipped) == (0, 6)
    rows = con.execute("SELECT payload::VARCHAR, payload_digest, prev_hash, hash FROM consent_events ORDER BY seq").fetchall()
    prev = bytes(32)
    for payload, digest, prev_hex, h in rows:
        assert hashlib.sha256(payload.encode()).hexdigest() == digest
        assert prev_hex == prev.hex()
        prev = hashlib.sha256(prev + bytes.fromhex(digest)).digest()
        assert prev.hex() == h
    assert verify(con, [pub]).ok


def test_canonical_payload_format() -> None:
    text = canonical_payload(ConsentInput("sms_marketing", "sms", "granted", datetime(2026, 1, 31, 9, 30),
                                          id_hash="ab", customer_id="c_x"))
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert data["effective_at"] == "2026-01-31T09:30:00Z"
    assert data["customer_id"] is None  # given by identifier: the link is not part of the proof


TAMPERS = {
    "status column": ("UPDATE consent_events SET status = 'withdrawn' WHERE seq = 3", 3),
    "payload": ("UPDATE consent_events SET payload = replace(payload::VARCHAR, 'HS_WEB', 'HS_XX') WHERE seq = 2", 2),
    "hash": ("UPDATE consent_events SET hash = repeat('0', 64) WHERE seq = 4", 4),
    "delete middle": ("DELETE FROM consent_events WHERE seq = 2", 3),
    "delete head": ("DELETE FROM consent_events WHERE seq = 6", 6),
    "reorder": ("UPDATE consent_events SET seq = CASE seq WHEN 2 THEN 5 WHEN 5 THEN 2 END WHERE seq IN (2, 5)", 2),
    "effective_at": ("UPDATE consent_events SET effective_at = effective_at - INTERVAL 1 DAY WHERE seq = 5", 5),
    "checkpoint hash": ("UPDATE consent_checkpoints SET hash = repeat('a', 64) WHERE seq = 3", 3),
    "checkpoint signature": (
        "UPDATE consent_checkpoints SET signature = repeat('b', 128) WHERE seq = 6", 6),
    "checkpoint deleted (head)": ("DELETE FROM consent_checkpoints WHERE seq = 6", 4),
    "payload removed without redaction": ("UPDATE consent_events SET payload = NULL WHERE seq = 1", 1),
}


def _standalone(path: Path, pub: str, tmp_path: Path, *, subprocess_run: bool = False) -> str:
    """Run the verifier of docs/privacy.md exactly as an auditor would (a separate script)."""
    text = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(# verify_ledger\.py.*?)```", text, re.DOTALL)
    assert code, "docs/privacy.md must ship the standalone verifier"
    script = tmp_path / "verify_ledger.py"
    script.write_text(code.group(1), encoding="utf-8")
    assert len(code.group(1).strip().splitlines()) <= 30
    if subprocess_run:
        out = subprocess.run([sys.executable, str(script), str(path), pub], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    buf = io.StringIO()
    argv = sys.argv
    sys.argv = [str(script), str(path), pub]
    try:
        with contextlib.redirect_stdout(buf):
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    return buf.getvalue().strip()


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampering_is_detected_and_named(ledger, name: str, tmp_path: Path) -> None:
    con, _, pub, path, _ = ledger
    sql, bad_seq = TAMPERS[name]
    con.execute(sql)
    res = verify(con, [pub])
    assert not res.ok
    assert res.first_bad_seq == bad_seq, res
    con.execute("CHECKPOINT")
    con.close()
    assert _standalone(path, pub, tmp_path) == f"BAD {bad_seq}"


def test_untrusted_signing_key_is_detected(ledger) -> None:
    con, _, _, _, _ = ledger
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
    res = verify(con, [other])
    assert not res.ok and res.first_bad_seq == 3


def test_standalone_verifier_agrees_on_a_good_ledger(ledger, tmp_path: Path) -> None:
    con, _, pub, path, _ = ledger
    assert verify(con, [pub]).ok
    con.execute("CHECKPOINT")
    con.close()
    assert _standalone(path, pub, tmp_path, subprocess_run=True) == "OK"


def test_redaction_keeps_the_chain_verifiable(ledger, tmp_path: Path) -> None:
    con, key, pub, path, _ = ledger
    # a withdrawal supersedes c_0000's grant, which can then be redacted
    append(con, [ConsentInput("email_marketing", "email", "withdrawn", T0 + timedelta(days=1), customer_id="c_0000")],
           signing_key=key)
    assert redact(con, T0 + timedelta(days=400)) == 1
    row = con.execute("SELECT payload, customer_id, redacted_at FROM consent_events WHERE seq = 1").fetchone()
    assert row[0] is None and row[1] is None and row[2] is not None
    res = verify(con, [pub])
    assert res.ok and res.redacted == 1
    con.execute("CHECKPOINT")
    con.close()
    assert _standalone(path, pub, tmp_path) == "OK"
