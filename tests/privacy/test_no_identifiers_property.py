"""Property test over random sequences of ingest / grant / withdraw / object / forget / re-ingest:
(a) no raw identifier ever reaches the store, the audit log, reports or command results;
(b) a forgotten person has no row anywhere except suppressions and consent proof, and a
re-ingest of the original files does not bring them back."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdp.errors import CDPError
from cdp.workspace import Workspace

PEOPLE = [
    ("R1", "ali.yilmaz@example.com", "0532 111 22 33", "Ali Yılmaz"),
    ("R2", "ayse.kaya@example.com", "+90 555 123 45 67", "Ayşe Kaya"),
    ("R3", "mehmet.oz@example.com", "", "Mehmet Öz"),
]
RAW = [v for p in PEOPLE for v in p[1:] if v] + ["5321112233", "5551234567"]

TOML = """
[workspace]
name = "prop"
[sources.customers]
kind = "csv"
path = "data/customers*.csv"
entity = "customers"
key = "ref"
identifiers = { email = "email", phone = "phone" }
contact = ["email", "phone", "full_name"]
traits = { city = "text" }
[sources.events]
kind = "csv"
path = "data/events*.csv"
entity = "events"
key = "ref"
event_id = "event_id"
event_type = "event_type"
timestamp = "ts"
amount = "amount"
"""


def _workspace() -> tuple[Workspace, Path]:
    root = Path(tempfile.mkdtemp(prefix="cdp-prop-"))
    (root / "data").mkdir()
    (root / "cdp.toml").write_text(TOML, encoding="utf-8")
    lines = ["ref,email,phone,full_name,city"] + [f"{r},{e},{p},{n},İstanbul" for r, e, p, n in PEOPLE]
    (root / "data" / "customers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ev = ["ref,event_id,event_type,ts,amount"] + [f"{r},{r}-e{i},purchase,2026-01-0{i + 1} 10:00:00,{100 + i}"
                                                  for r, *_ in PEOPLE for i in range(2)]
    (root / "data" / "events.csv").write_text("\n".join(ev) + "\n", encoding="utf-8")
    return Workspace(root), root


op = st.tuples(st.sampled_from(["grant", "withdraw", "object", "forget", "reingest"]), st.integers(0, 2),
               st.sampled_from(["email_marketing", "sms_marketing", "ads_targeting"]))


def _tables_text(ws: Workspace) -> dict[str, str]:
    with ws.store() as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
        return {t: str(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in names}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=5))
def test_random_privacy_sequences_keep_the_invariants(ops: list[tuple[str, int, str]]) -> None:
    ws, root = _workspace()
    try:
        results: list[Any] = [ws.ingest().to_dict()]
        ids = {p[1]: ws.privacy.consent_show(email=p[1])["customer_id"] for p in PEOPLE}
        forgotten: set[str] = set()
        for name, who, purpose in ops:
            email = PEOPLE[who][1]
            try:
                if name == "grant":
                    results.append(ws.privacy.consent_change("granted", email=email, purpose=purpose))
                elif name == "withdraw":
                    results.append(ws.privacy.consent_change("withdrawn", email=email, purpose=purpose))
                elif name == "object":
                    results.append(ws.privacy.consent_object(email=email))
                elif name == "forget":
                    results.append(ws.privacy.forget(email=email, compact=False))
                    forgotten.add(email)
                else:
                    n = len(results)  # the original files again, under new names: read in full
                    for base in ("customers", "events"):
                        shutil.copyfile(root / "data" / f"{base}.csv", root / "data" / f"{base}{n}.csv")
                    ws = Workspace(root)
                    results.append(ws.ingest().to_dict())
            except CDPError as exc:  # e.g. a grant for an erased person is refused
                results.append(str(exc))
        report = ws.privacy.audit_report()
        results.append(report)
        # (a) no raw identifier anywhere
        tables = _tables_text(ws)
        blob = json.dumps(results, default=str) + "".join(tables.values())
        assert not [r for r in RAW if r in blob]
        store_bytes = ws.store_path.read_bytes()
        assert not [r for r in RAW if r.encode() in store_bytes]
        # (b) forgotten people: only suppressions and consent proof remain, and they stay gone
        for email in forgotten:
            cid = ids[email]
            holders = [t for t, text in tables.items() if cid in text]
            assert holders == [], holders
            with ws.store() as con:
                assert con.execute("SELECT count(*) FROM customers WHERE customer_id = ?", [cid]).fetchone()[0] == 0
        if forgotten:
            assert tables["suppressions"].count("erased") + tables["suppressions"].count("objection") >= 2
    finally:
        shutil.rmtree(root, ignore_errors=True)
