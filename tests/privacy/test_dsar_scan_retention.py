"""Access requests, the PII scan, retention and the inventory."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from html.parser import HTMLParser

from privacy.scan import is_tckn, is_tr_iban, is_vkn, scan_values

from .conftest import Shop

VOID = {"meta", "br", "hr", "img", "input", "link"}


class _Balanced(HTMLParser):
    """Fails on unbalanced tags: enough to say the page is well-formed HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def assert_well_formed(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    p = _Balanced()
    p.feed(page)
    p.close()
    assert not p.errors and not p.stack, (p.errors, p.stack)


def test_dsar_contains_decrypted_contact_points_and_every_event(shop: Shop, tmp_path) -> None:
    ali = shop.add_customer("ali@example.com", "0532 111 22 33", events=4)
    shop.ws.privacy.consent_change("granted", email="ali@example.com", purpose="email_marketing")
    shop.build("vip", [ali.customer_id])
    shop.synced(ali, "mail", "vip_mail")
    with shop.ws.store() as con:
        con.execute("INSERT INTO model_scores VALUES ('value_clusters', 1, ?, 'Champions', 0.9)", [ali.customer_id])
    res = shop.ws.privacy.dsar(email="ali@example.com", out=tmp_path / "dsar")
    data = json.loads(open(res["json"], encoding="utf-8").read())
    assert data["contact_points"] == {"email": "ali@example.com", "phone": "0532 111 22 33"}
    assert sorted(e["event_id"] for e in data["events"]) == sorted(f"{ali.customer_id}-e{i}" for i in range(4))
    assert data["consents"][0]["purpose"] == "email_marketing"
    assert data["segments"][0]["segment"] == "vip"
    assert data["model_outputs"][0]["label"] == "Champions" and "automated" in data["automated_analysis_note"]
    assert data["destinations"][0]["destination"] == "mail"
    page = open(res["html"], encoding="utf-8").read()
    assert "ali@example.com" in page and "Champions" in page
    assert_well_formed(page)
    assert shop.ws.privacy.requests(all_=True)[0]["kind"] == "access"
    audit = str(shop.sql("SELECT action, target, details FROM audit_log"))
    assert "ali@example.com" not in audit


def _tckn(rng: random.Random) -> str:
    d = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
    d.append(((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10)
    d.append(sum(d) % 10)
    return "".join(map(str, d))


def test_scan_finds_identifiers_and_not_ordinary_numbers() -> None:
    rng = random.Random(7)
    assert is_tckn("10000000146") and not is_tckn("10000000147")
    assert is_vkn("1234567890") == (not is_vkn("1234567891"))
    assert is_tr_iban("TR33 0006 1005 1978 6457 8413 26") and not is_tr_iban("TR33 0006 1005 1978 6457 8413 27")
    notes = ["call me 0532 111 22 33", "mail: ali@example.com", "IBAN TR330006100519786457841326", "nothing here",
             "kart 4111 1111 1111 1111", f"tc {_tckn(rng)}"]
    kinds = {f.kind: f.count for f in scan_values("notes", notes)}
    assert kinds == {"email": 1, "phone": 1, "national_id": 1, "iban": 1, "card": 1}
    # ordinary numbers: order ids, amounts, store ids, dates, 10/11/16-digit references
    ordinary = [str(rng.randint(10**9, 10**10 - 1)) for _ in range(300)]
    ordinary += [str(rng.randint(10**10, 10**11 - 1)) for _ in range(300)]
    ordinary += [str(rng.randint(10**15, 10**16 - 1)) for _ in range(300)]
    ordinary += [f"{rng.random() * 1000:.2f}" for _ in range(300)] + ["2026-01-31", "İstanbul", "Kadıköy"]
    assert scan_values("order_ref", ordinary) == []
    tax_ids = [s for s in (str(rng.randint(10**9, 10**10 - 1)) for _ in range(3000)) if is_vkn(s)][:50]
    assert [(f.kind, f.count) for f in scan_values("vergi_no", tax_ids)] == [("tax_id", len(tax_ids))]


def test_scan_of_the_store_and_of_a_source(shop: Shop, tmp_path) -> None:
    shop.add_customer("ali@example.com", city="reach me at veli@example.com")
    found = shop.ws.privacy.scan(store=True)
    assert {(f["column"], f["kind"]) for f in found} == {("city", "email")}
    assert "veli@example.com" not in json.dumps(found)


def test_retention_run_deletes_expired_data_and_records_destruction(shop: Shop) -> None:
    old = shop.add_customer("old@example.com", first_seen=datetime(2019, 1, 1), events=2)
    new = shop.add_customer("new@example.com", first_seen=datetime.utcnow() - timedelta(days=40), events=1)
    svc = shop.ws.privacy
    svc.consent_change("granted", email="old@example.com", purpose="email_marketing", at=datetime(2019, 2, 1))
    svc.consent_change("withdrawn", email="old@example.com", purpose="email_marketing", at=datetime(2019, 3, 1))
    assert svc.retention_status()["overdue"]
    dry = svc.retention_run(dry_run=True)
    assert {i["data_kind"]: i["rows"] for i in dry["items"]}["events"] == 2
    assert shop.sql("SELECT count(*) FROM events") == [(3,)]
    res = svc.retention_run()
    rows = {i["data_kind"]: i["rows"] for i in res["items"]}
    assert rows["events"] == 2 and rows["inactive_customers"] == 1 and rows["consent_proof"] == 1
    assert rows["vault_keys"] == 1
    assert shop.sql("SELECT customer_id FROM customers") == [(new.customer_id,)]
    assert old.customer_id.encode() not in shop.ws.store_path.read_bytes()
    recs = shop.sql("SELECT data_kind, method FROM destruction_records ORDER BY record_id")
    assert ("consent_proof", "redacted") in recs and ("events", "deleted") in recs
    assert not svc.retention_status()["overdue"]
    assert svc.consent_verify().ok


def test_inventory_lists_unreviewed_traits_and_transfers(tmp_path) -> None:
    shop = Shop(tmp_path / "inv", extra_toml=(
        '[sources.customers]\nkind = "csv"\npath = "data/c.csv"\nentity = "customers"\nkey = "ref"\n'
        'identifiers = { email = "email", tax_id = "vkn" }\ncontact = ["email"]\n'
        'traits = { city = "text", business_type = "text" }\n'
        '[destinations.kl]\nkind = "klaviyo"\n'))
    inv = shop.ws.privacy.inventory(tmp_path / "out")
    assert inv["not_reviewed"] == ["business_type"]
    abroad = {t["destination"]: t for t in inv["transfers_abroad"]}
    assert abroad["meta_tr"]["transfer_basis"] == "standard_contract" and abroad["kl"]["transfer_missing"]
    assert "hook" not in abroad
    assert (tmp_path / "out" / "inventory.md").read_text(encoding="utf-8").count("not reviewed") == 1
    assert any("kl" in w and "transfer" in w for w in shop.ws.privacy.status_warnings())
