"""Identity resolution: merges across sources, chains, order independence, merges that follow."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdp.workspace import Workspace
from privacy.keys import KeyStore
from privacy.vault import Vault

from .conftest import _template, write_csv

TOML = '''
[sources.crm]
kind = "csv"
path = "data/crm.csv"
entity = "customers"
key = "customer_ref"
identifiers = { email = "email", phone = "phone" }
contact = ["email", "phone"]
traits = { city = "text" }

[sources.loyalty]
kind = "csv"
path = "data/loyalty.csv"
entity = "customers"
key = "card_no"
identifiers = { email = "email", phone = "phone" }
traits = { tier = "text" }

[sources.events]
kind = "csv"
path = "data/events.csv"
entity = "events"
key = "customer_ref"
event_id = "event_id"
event_type = "event_type"
timestamp = "ts"
'''


def _ws(root: Path) -> Workspace:
    shutil.copytree(_template(), root)     # every copy shares the test keys
    ws = Workspace(root)
    with open(ws.config_path, "a", encoding="utf-8") as fh:
        fh.write(TOML)
    return Workspace(root)


def _crm(rows: list[tuple[str, str, str, str]]) -> list[dict[str, str]]:
    return [{"customer_ref": r, "email": e, "phone": p, "city": c} for r, e, p, c in rows]


def _loyalty(rows: list[tuple[str, str, str, str]]) -> list[dict[str, str]]:
    return [{"card_no": r, "email": e, "phone": p, "tier": t} for r, e, p, t in rows]


def _customer_of(ws: Workspace) -> dict[str, str]:
    with ws.store() as con:
        return dict(con.execute(
            "SELECT e.event_id, e.customer_id FROM events e ORDER BY 1").fetchall())


def test_chain_and_cross_source_merge(tmp_path: Path) -> None:
    ws = _ws(tmp_path / "ws")
    # A ~ B by email (crm), B ~ C by phone (loyalty): one person
    write_csv(ws.root / "data" / "crm.csv", _crm([
        ("A", "ayse@example.com", "", "İzmir"),
        ("B", "AYSE@example.com ", "0532 111 22 33", ""),
        ("X", "other@example.com", "0533 000 00 00", "Ankara"),
    ]))
    write_csv(ws.root / "data" / "loyalty.csv", _loyalty([("L1", "", "+90 532 111 2233", "gold")]))
    write_csv(ws.root / "data" / "events.csv", [
        {"event_id": "1", "customer_ref": "A", "event_type": "visit", "ts": "2025-01-01"},
        {"event_id": "2", "customer_ref": "B", "event_type": "visit", "ts": "2025-01-02"},
        {"event_id": "3", "customer_ref": "X", "event_type": "visit", "ts": "2025-01-03"},
    ])
    ws.ingest()
    owner = _customer_of(ws)
    assert owner["1"] == owner["2"] != owner["3"]
    with ws.store() as con:
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 2
        city, tier = con.execute("SELECT city, tier FROM customers WHERE customer_id = ?", [owner["1"]]).fetchone()
        assert (city, tier) == ("İzmir", "gold")
        kinds = sorted(r[0] for r in con.execute(
            "SELECT kind FROM identities WHERE customer_id = ?", [owner["1"]]).fetchall())
        assert kinds == ["card_no", "customer_ref", "customer_ref", "email", "phone"]


def test_later_link_merges_existing_customers_and_everything_follows(tmp_path: Path) -> None:
    ws = _ws(tmp_path / "ws")
    write_csv(ws.root / "data" / "crm.csv", _crm([
        ("A", "a@example.com", "", "İzmir"),
        ("B", "", "0532 111 22 33", "Bursa"),
    ]))
    write_csv(ws.root / "data" / "events.csv", [
        {"event_id": "1", "customer_ref": "A", "event_type": "visit", "ts": "2025-01-01"},
        {"event_id": "2", "customer_ref": "B", "event_type": "visit", "ts": "2025-01-02"},
    ])
    ws.ingest()
    before = _customer_of(ws)
    assert before["1"] != before["2"]
    with ws.store() as con:
        con.execute("UPDATE customers SET first_seen_at = first_seen_at - INTERVAL 1 DAY WHERE customer_id = ?",
                    [before["2"]])   # B is the older customer: it must survive
        con.execute("INSERT INTO segment_members VALUES (1, 'vip', ?, false)", [before["1"]])
    # the loyalty file links A's email and B's phone: the two customers merge
    write_csv(ws.root / "data" / "loyalty.csv", _loyalty([("L9", "a@example.com", "05321112233", "silver")]))
    r = ws.ingest(["loyalty"])
    assert r.sources[0].customers_merged == 1
    after = _customer_of(ws)
    assert after["1"] == after["2"] == before["2"]
    with ws.store() as con, KeyStore.open(ws.state_dir) as ks:
        assert con.execute("SELECT old_id, new_id FROM customer_merges").fetchall() == [(before["1"], before["2"])]
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
        assert con.execute("SELECT city, tier FROM customers").fetchone() == ("Bursa", "silver")
        assert con.execute("SELECT customer_id FROM segment_members").fetchone()[0] == before["2"]
        assert Vault(con, ks).get(before["2"]) == {"email": "a@example.com", "phone": "+905321112233"}
        assert Vault(con, ks).get(before["1"]) == {}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_same_ids_for_any_row_order(tmp_path_factory, seed: int) -> None:
    base = tmp_path_factory.mktemp("order")
    rows = [
        ("A", "a@example.com", "", "x"), ("B", "a@example.com", "05320000001", "x"),
        ("C", "", "05320000001", "x"), ("D", "d@example.com", "05320000002", "x"),
        ("E", "e@example.com", "", "x"), ("F", "e@example.com", "05320000002", "x"), ("G", "g@example.com", "", "x"),
    ]
    ws1, ws2 = _ws(base / "one"), _ws(base / "two")   # same keys, so the same pseudonyms
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    for ws, data in ((ws1, rows), (ws2, shuffled)):
        write_csv(ws.root / "data" / "crm.csv", _crm(data))
        ws.ingest(["crm"])
    with ws1.store() as c1, ws2.store() as c2:
        q = "SELECT id_hash, customer_id FROM identities ORDER BY 1"
        assert c1.execute(q).fetchall() == c2.execute(q).fetchall()
        assert c1.execute("SELECT count(DISTINCT customer_id) FROM identities").fetchone()[0] == 3
