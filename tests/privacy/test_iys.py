"""İYS import/export and our own consent CSV, through ComplianceService (ws.privacy)."""

from __future__ import annotations

import csv
import json
from datetime import datetime

import pytest

from cdp.errors import RejectedRowsError

from .conftest import Shop

IYS = """recipient,recipientType,type,source,status,consentDate
ali@example.com,BIREYSEL,EPOSTA,HS_WEB,ONAY,2026-01-02 10:00:00
0532 111 22 33,TACIR,MESAJ,HS_FIZIKSEL_ORTAM,ONAY,2026-01-02 10:00:00
+90 532 111 22 33,TACIR,MESAJ,HS_FIZIKSEL_ORTAM,RET,2026-02-02 10:00:00
+905559998877,BIREYSEL,ARAMA,HS_ISLAK_IMZA,RET,2026-01-05 08:30:00
bad-date@example.com,BIREYSEL,EPOSTA,HS_WEB,ONAY,02.01.2026 10:00
x@example.com,BIREYSEL,FAKS,HS_WEB,ONAY,2026-01-02 10:00:00
y@example.com,BIREYSEL,EPOSTA,HS_WEB,EVET,2026-01-02 10:00:00
newcomer@example.com,BIREYSEL,EPOSTA,HS_WEB,ONAY,2026-01-03 10:00:00
"""


def test_iys_import_maps_statuses_types_dates_and_is_idempotent(shop: Shop, tmp_path) -> None:
    ali = shop.add_customer("ali@example.com", "05321112233")
    path = tmp_path / "iys.csv"
    path.write_text(IYS, encoding="utf-8")
    res = shop.ws.privacy.consent_import(path)
    assert res["format"] == "iys"
    assert res["appended"] == 5 and res["rejected"] == 3
    assert [(r["line"], r["field"]) for r in res["rejects"]] == [(6, "consentDate"), (7, "type"), (8, "status")]
    assert res["pending"] == 2  # stranger and newcomer are not known yet
    rows = shop.sql("SELECT purpose, channel, status, recipient_type, source, effective_at, customer_id "
                    "FROM consent_events ORDER BY seq")
    assert rows[0] == ("email_marketing", "email", "granted", "BIREYSEL", "HS_WEB", datetime(2026, 1, 2, 7, 0),
                       ali.customer_id)
    assert rows[1][:4] == ("sms_marketing", "sms", "granted", "TACIR")
    assert rows[2][:3] == ("sms_marketing", "sms", "withdrawn")          # RET after ONAY
    assert rows[3][:3] == ("call_marketing", "call", "refused")          # RET alone
    again = shop.ws.privacy.consent_import(path)
    assert again["appended"] == 0 and again["already_present"] == 5
    assert shop.ws.privacy.consent_verify().ok


def test_pending_consent_attaches_when_the_identifier_appears(shop: Shop, tmp_path) -> None:
    path = tmp_path / "iys.json"
    path.write_text(json.dumps([{"recipient": "Later@Example.com ", "recipientType": "BIREYSEL", "type": "EPOSTA",
                                 "source": "HS_WEB", "status": "ONAY", "consentDate": "2026-01-02 10:00:00"}]))
    assert shop.ws.privacy.consent_import(path, "iys")["pending"] == 1
    later = shop.add_customer("later@example.com")
    with shop.ws.store() as con:
        assert shop.ws.privacy.after_ingest(con) == 1
    assert shop.sql("SELECT customer_id FROM consent_events") == [(later.customer_id,)]
    assert shop.ws.privacy.consent_verify().ok  # the link is not part of the signed payload


def test_strict_import_writes_nothing_when_a_row_is_bad(shop: Shop, tmp_path) -> None:
    path = tmp_path / "iys.csv"
    path.write_text(IYS, encoding="utf-8")
    with pytest.raises(RejectedRowsError) as err:
        shop.ws.privacy.consent_import(path, strict=True)
    assert err.value.count == 3 and "iys.csv:6" in str(err.value)
    assert "bad-date@example.com" not in str(err.value)
    assert shop.sql("SELECT count(*) FROM consent_events") == [(0,)]


def test_own_csv_import_and_iys_export(shop: Shop, tmp_path) -> None:
    ayse = shop.add_customer("ayse@example.com", "+905551234567")
    path = tmp_path / "ours.csv"
    path.write_text(
        "email,purpose,status,effective_at,source,notice_version,text_version\n"
        "ayse@example.com,email_marketing,granted,2026-01-10T12:00:00+03:00,HS_WEB,n1,t1\n"
        "ayse@example.com,sms_marketing,granted,2026-01-10T09:00:00Z,HS_WEB,n1,t1\n"
        ",email_marketing,granted,2026-01-10T09:00:00Z,HS_WEB,n1,t1\n",
        encoding="utf-8")
    res = shop.ws.privacy.consent_import(path, "csv")
    assert res["appended"] == 2 and [r["line"] for r in res["rejects"]] == [4]
    assert shop.sql("SELECT effective_at, notice_version, text_version FROM consent_events ORDER BY seq")[0] == (
        datetime(2026, 1, 10, 9, 0), "n1", "t1")
    # collected by us, older than 2 business days, not registered
    assert any("İYS" in w for w in shop.ws.privacy.status_warnings())
    out = tmp_path / "iys_upload.csv"
    exp = shop.ws.privacy.consent_export(out, iys=True)
    assert exp["rows"] == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["type"] for r in rows} == {"EPOSTA", "MESAJ"}
    assert {r["recipient"] for r in rows} == {"ayse@example.com", "+905551234567"}
    assert rows[0]["consentDate"] == "2026-01-10 12:00:00" and rows[0]["status"] == "ONAY"
    assert not any("İYS" in w for w in shop.ws.privacy.status_warnings())
    assert ayse.customer_id
