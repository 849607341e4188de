"""PRIVACY.md §2 through the CLI: undeclared columns dropped and counted, identifiers hiding in
traits caught by the PII scan, purpose limitation at compile time, special categories refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import Ws, customer, make_workspace, stderr_of

HIDDEN_EMAIL = "gizli.adres@saklanan-posta.com.tr"
HIDDEN_TCKN = "10000000146"  # checksum-valid TCKN
NOTE = "GIZLINOTXQ77"


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    w = make_workspace(module_dir / "ws", [customer("D1", city="İzmir", business_type="cafe"),
                                           customer("D2", city="Ankara", business_type="cafe"),
                                           customer("D3", city="Bursa", business_type="hotel")],
                       ingest=False)
    path = w.root / "data" / "customers.csv"
    lines = path.read_text("utf-8").splitlines()
    lines[0] += ",notes"
    lines[1] += f",{NOTE}"
    lines[2] += ","
    lines[3] += ","
    # an e-mail address hiding in the business_type trait, a TCKN in city
    lines[2] = lines[2].replace(",cafe,", f",{HIDDEN_EMAIL},")
    lines[3] = lines[3].replace(",Bursa,", f",{HIDDEN_TCKN},")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    with (w.root / "cdp.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[privacy.data_purposes]\ncredit = ["analytics"]\n')
    return w


@pytest.fixture(scope="module")
def report(ws: Ws) -> dict:
    res = ws.cli("ingest", "--json")
    return {"exit_code": res.exit_code, "out": res.stdout, "err": stderr_of(res)}


def test_no_hidden_email_or_undeclared_column_in_the_store(ws: Ws, report: dict) -> None:
    data = (ws.root / ".cdp" / "store.duckdb").read_bytes()
    assert HIDDEN_EMAIL.encode() not in data
    assert NOTE.encode() not in data
    everything = report["out"] + report["err"]
    assert HIDDEN_EMAIL not in everything and HIDDEN_TCKN not in everything


def test_undeclared_column_dropped_and_counted(report: dict) -> None:
    assert report["exit_code"] == 0, report["err"]
    assert re.search(r'"columns_dropped":\s*[1-9]', report["out"]), report["out"]


def test_pii_scan_names_the_email_column(report: dict) -> None:
    """A hit in a column not declared as an identifier stops that column, with a clear message."""
    text = report["out"] + report["err"]
    assert re.search(r"business_type.*email", text), text


def test_pii_scan_catches_a_tckn_in_a_text_trait(ws: Ws, report: dict) -> None:
    data = (ws.root / ".cdp" / "store.duckdb").read_bytes()
    assert HIDDEN_TCKN.encode() not in data
    assert re.search(r"city.*national_id|national_id.*city", report["out"] + report["err"])


def test_purpose_limitation_is_a_compile_error(ws: Ws, report: dict) -> None:
    bad = ws.root / "cases" / "purpose.seg"
    bad.parent.mkdir(exist_ok=True)
    bad.write_text("segment s purpose email_marketing where credit > 0\n"
                   "segment t purpose analytics where credit > 0\n", "utf-8")
    res = ws.cli("segment", "check", str(bad))
    out = stderr_of(res)
    assert res.exit_code == 1, out
    assert re.search(r"purpose\.seg:1:\d+", out), out
    assert "purpose.seg:2:" not in out, out


def test_special_category_refused_without_explicit_consent_purpose(tmp_path: Path) -> None:
    w = make_workspace(tmp_path / "special", [customer("H1", credit=1)], ingest=False)
    with (w.root / "cdp.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[privacy]\nspecial_categories = ["credit"]\n')
    res = w.cli("ingest")
    out = stderr_of(res)
    assert res.exit_code == 1, out
    assert "credit" in out and "Traceback" not in out
