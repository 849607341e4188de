"""Erasure: every step, the removal queue, crash injection between steps, and the file bytes."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cdp.workspace import Workspace
from privacy.erasure import InjectedCrash

from .conftest import Shop


def _state(ws: Workspace) -> dict[str, Any]:
    """Every table's rows without time columns (they differ between runs by construction)."""
    from privacy.keys import KeyStore

    out: dict[str, Any] = {}
    with ws.store() as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        for t in tables:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "AND data_type NOT LIKE 'TIMESTAMP%' AND column_name NOT IN ('seq', 'nonce', 'ciphertext', "
                "'signature', 'public_key', 'record_id', 'run_id') ORDER BY ordinal_position", [t]).fetchall()]
            if t == "audit_log":
                cols = ["action", "target"]
            if t == "privacy_requests":
                cols = [c for c in cols if c != "details"] + ["json_extract(details, '$.customers')"]
            if not cols:
                continue
            sel = ", ".join(c if "(" in c else f'"{c}"' for c in cols)
            out[t] = sorted(map(str, con.execute(f'SELECT {sel} FROM "{t}"').fetchall()))
    with KeyStore.open(ws.state_dir) as ks:
        out["data_keys"] = ks.data_key_count()
    return out


@pytest.fixture
def erasable(tmp_path: Path) -> tuple[Shop, Any, Any]:
    shop = Shop(tmp_path / "base")
    ali = shop.add_customer("ali@example.com", "0532 111 22 33", events=3)
    veli = shop.add_customer("veli@example.com", events=1)
    svc = shop.ws.privacy
    svc.consent_change("granted", email="ali@example.com", purpose="email_marketing", at=datetime(2026, 1, 1))
    svc.consent_change("granted", email="veli@example.com", purpose="email_marketing", at=datetime(2026, 1, 1))
    svc.consent_object(email="ali@example.com", scope="profiling")
    shop.build("vip", [ali.customer_id, veli.customer_id])
    shop.synced(ali, "mail", "vip_mail")
    shop.synced(ali, "meta_tr", "vip_meta")
    return shop, ali, veli


def test_forget_removes_everything_but_suppression_and_consent_proof(erasable) -> None:
    shop, ali, veli = erasable
    store_bytes = shop.ws.store_path.read_bytes()
    res = shop.ws.privacy.forget(email="ali@example.com", reason="asked by phone")
    assert res["status"] == "done" and res["counts"]["data_key_destroyed"] == 1
    with shop.ws.store() as con:
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
                                    ).fetchall():
            text = str(con.execute(f'SELECT * FROM "{table}"').fetchall())
            assert ali.customer_id not in text, table
            if table not in ("suppressions", "consent_events"):
                assert not any(h in text for h in ali.id_hashes), table
        assert con.execute("SELECT count(*) FROM suppressions").fetchone()[0] == 2
        proof = con.execute("SELECT customer_id, id_hash, unlinked_at FROM consent_events "
                            "WHERE id_hash = ?", [ali.id_hashes[0]]).fetchall()
        assert proof and proof[0][0] is None and proof[0][2] is not None
        queue = con.execute("SELECT destination, sync, match_keys, status FROM removal_queue ORDER BY 1").fetchall()
    assert [(q[0], q[1], q[3]) for q in queue] == [("mail", "vip_mail", "pending"), ("meta_tr", "vip_meta", "pending")]
    keys = json.loads(queue[0][2])
    assert keys["email_sha256"] == __import__("hashlib").sha256(b"ali@example.com").hexdigest()
    assert set(keys) == {"email_sha256", "email_md5", "phone_sha256", "phone_digits_sha256"}
    # the deleted rows do not linger in the file (the store was rewritten)
    assert ali.customer_id.encode() in store_bytes
    assert ali.customer_id.encode() not in shop.ws.store_path.read_bytes()
    # the other customer is untouched, and the ledger still verifies
    assert shop.sql("SELECT count(*) FROM events WHERE customer_id = ?", [veli.customer_id]) == [(1,)]
    assert shop.ws.privacy.consent_verify().ok
    # the request register keeps the request, not the person
    reqs = shop.ws.privacy.requests(all_=True)
    assert [r["status"] for r in reqs if r["kind"] == "erasure"] == ["done"]
    audit = str(shop.sql("SELECT action, target, details FROM audit_log"))
    assert "ali@example.com" not in audit and ali.customer_id not in audit
    # a second run changes nothing
    assert shop.ws.privacy.forget(email="ali@example.com")["status"] == "already_erased"


def test_crash_between_steps_then_rerun_equals_uninterrupted(erasable, tmp_path: Path) -> None:
    shop, ali, _ = erasable
    clean = tmp_path / "clean"
    shutil.copytree(shop.ws.root, clean)
    Workspace(clean).privacy.forget(email="ali@example.com")
    want = _state(Workspace(clean))
    for crash_after in (1, 2, 3, 4):
        crashed = tmp_path / f"crashed{crash_after}"
        shutil.copytree(shop.ws.root, crashed)
        with pytest.raises(InjectedCrash):
            Workspace(crashed).privacy.forget(email="ali@example.com", crash_after=crash_after, compact=False)
        again = Workspace(crashed).privacy.forget(email="ali@example.com")
        assert again["status"] == "done", crash_after
        assert _state(Workspace(crashed)) == want, crash_after
        assert ali.customer_id.encode() not in (crashed / ".cdp" / "store.duckdb").read_bytes()


def test_re_ingest_of_the_original_files_does_not_bring_them_back(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "data").mkdir(parents=True)
    (root / "cdp.toml").write_text(
        '[workspace]\nname = "t"\n'
        '[sources.customers]\nkind = "csv"\npath = "data/customers.csv"\nentity = "customers"\nkey = "ref"\n'
        'identifiers = { email = "email", phone = "phone" }\ncontact = ["email", "phone"]\ntraits = { city = "text" }\n'
        '[sources.events]\nkind = "csv"\npath = "data/events.csv"\nentity = "events"\nkey = "ref"\n'
        'event_id = "event_id"\nevent_type = "event_type"\ntimestamp = "ts"\namount = "amount"\n', encoding="utf-8")
    (root / "data" / "customers.csv").write_text(
        "ref,email,phone,city\nR1,ali@example.com,05321112233,İstanbul\nR2,veli@example.com,,Ankara\n", encoding="utf-8")
    (root / "data" / "events.csv").write_text(
        "ref,event_id,event_type,ts,amount\nR1,e1,purchase,2026-01-05 10:00:00,100\n"
        "R2,e2,purchase,2026-01-06 10:00:00,50\n", encoding="utf-8")
    ws = Workspace(root)
    ws.ingest()
    assert ws.privacy.forget(email="ali@example.com")["status"] == "done"
    (root / "data" / "events.csv").touch()
    (root / "data" / "customers.csv").write_text(
        (root / "data" / "customers.csv").read_text(encoding="utf-8") + "R3,new@example.com,,İzmir\n", encoding="utf-8")
    Workspace(root).ingest()
    with Workspace(root).store() as con:
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    with pytest.raises(Exception) as err:
        Workspace(root).privacy.dsar(email="ali@example.com")
    assert "ali@example.com" not in str(err.value)
