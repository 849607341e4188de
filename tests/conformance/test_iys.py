"""İYS import of PRIVACY.md §3 through `cdp consent import --format iys`: EPOSTA/MESAJ mapping,
ONAY/RET (RET after ONAY is a withdrawal), consentDate in Turkish time, recipients matched
through the same normalization as ingestion, unknown recipients kept pending until they appear,
idempotent re-import. Rules: rules/iys.seg.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from .conftest import Ws, customer, email_of, make_workspace, phone_of

RULES = Path(__file__).parent / "rules"
NEW_EMAIL = "yeni.musteri@ornek-toptan.com.tr"
CUSTOMERS = [customer(f"I{i}") for i in range(1, 6)]


def e164(raw: str) -> str:
    return "+90" + re.sub(r"\D", "", raw)[1:]


ROWS = [
    # recipient, recipientType, type, source, status, consentDate (Turkish time)
    (f"  {email_of('I1').upper()} ", "BIREYSEL", "EPOSTA", "HS_WEB", "ONAY", "2026-01-10 10:00:00"),
    (email_of("I2"), "BIREYSEL", "EPOSTA", "HS_WEB", "ONAY", "2026-01-10 10:00:00"),
    (email_of("I2"), "BIREYSEL", "EPOSTA", "HS_WEB", "RET", "2026-02-10 10:00:00"),
    (e164(phone_of(2)), "TACIR", "MESAJ", "HS_FIZIKSEL_ORTAM", "ONAY", "2026-01-10 10:00:00"),
    (email_of("I5"), "BIREYSEL", "EPOSTA", "HS_WEB", "ONAY", "2026-03-31 02:00:00"),
    (NEW_EMAIL, "BIREYSEL", "EPOSTA", "HS_ISLAK_IMZA", "ONAY", "2026-01-10 10:00:00"),
]


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    w = make_workspace(module_dir / "ws", CUSTOMERS,
                       segments={"iys.seg": (RULES / "iys.seg").read_text("utf-8")})
    path = w.root / "data" / "iys_2026-03.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["recipient", "recipientType", "type", "source", "status", "consentDate"])
        out.writerows(ROWS)
    w.ok("consent", "import", str(path), "--format", "iys")
    return w


def test_import_maps_and_matches(ws: Ws) -> None:
    got = ws.build("2026-03-31")
    assert got["email_ok"] == {"I1"}  # I2 withdrew (RET after ONAY); I5 not yet (02:00 TR time)
    assert got["sms_ok"] == {"I3"}


def test_consent_date_is_turkish_time(ws: Ws) -> None:
    assert ws.build("2026-03-31 02:00:00", "email_ok")["email_ok"] == {"I1", "I5"}


def test_reimport_adds_nothing_and_ledger_verifies(ws: Ws) -> None:
    before = ws.query("SELECT count(*) FROM consent_events")[0][0]
    ws.ok("consent", "import", str(ws.root / "data" / "iys_2026-03.csv"), "--format", "iys")
    assert ws.query("SELECT count(*) FROM consent_events")[0][0] == before
    ws.ok("consent", "verify")


def test_pending_recipient_attaches_when_first_seen(ws: Ws) -> None:
    path = ws.root / "data" / "customers.csv"
    path.write_text(path.read_text("utf-8") + f"REF-NEWP,{NEW_EMAIL},,,,NEWP,,,,,\n", "utf-8")
    ws.ok("ingest")
    assert ws.build("2026-03-31", "email_ok")["email_ok"] == {"I1", "NEWP"}
