"""Conditions of DSL.md: text operators with Turkish letters, NFC, lists, nulls, logic, case of
keywords, comments, labels, include with a relative path reached twice. Rules: rules/conditions/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Ws, customer, make_workspace

AS_OF = "2026-03-31"
RULES = Path(__file__).parent / "rules" / "conditions"

CUSTOMERS = [
    customer("K1", city="İstanbul", business_type="restaurant", credit=10, vip="true"),
    customer("K2", city="ISTANBUL", business_type="cafe", credit=20, vip="false"),
    customer("K3", city="istanbul", business_type="hotel", credit=15, vip="true"),
    customer("K4", city="Istanbul", business_type="grocery", credit=9),
    customer("K5", city="Iğdır", business_type="market", credit=21),
    customer("K6", city="Igdir", business_type="kiosk", credit=-5),
    customer("K7", city="Ankara", business_type=None, credit=0),
    customer("K8", city="I\u0307stanbul", business_type="restaurant", credit=12),  # decomposed İ
    customer("K9", city="ığüşöç", business_type="cafe", credit=None),
    customer("K10", city=None, business_type="catering", credit=100),
]

ISTANBUL_ANY_CASE = {"K1", "K2", "K3", "K4", "K8"}
EXPECTED: dict[str, set[str]] = {
    "eq_ist": {"K1", "K8"},
    "eq_ist_decomposed": {"K1", "K8"},
    "contains_stan": {"K1", "K3", "K4", "K8"},
    "starts_ist": {"K1", "K8"},
    "ends_bul": {"K1", "K3", "K4", "K8"},
    "icontains_istanbul": ISTANBUL_ANY_CASE,
    "icontains_upper": ISTANBUL_ANY_CASE,
    "icontains_dotless": ISTANBUL_ANY_CASE,
    "icontains_igdir": {"K6"},
    "icontains_turkish": {"K9"},
    "eq_turkish": {"K9"},
    "in_list": {"K1", "K2", "K3", "K8", "K9"},
    "not_in_list": {"K4", "K5", "K6", "K10"},
    "bt_null": {"K7"},
    "city_not_null": {f"K{i}" for i in range(1, 10)},
    "neq": {"K1", "K2", "K3", "K4", "K5", "K6", "K8", "K9"},
    "between_incl": {"K1", "K2", "K3", "K8"},
    "not_between": {"K4", "K5", "K6", "K7", "K10"},
    "negative": {"K4", "K6", "K7"},
    "and_over_or": {"K7"},
    "not_over_and": {"K2", "K9"},
    "parens": {"K5"},
    "via_common": {"K1", "K8"},
    "via_base": {"K2", "K9"},
    "is_cafe_base": {"K2", "K9"},
    "upper_kw": {"K2", "K9"},
    "Mixed_Kw": {"K1", "K3", "K8"},
    "multi_line": {"K2", "K3"},
    "colon_only": {"K1"},
    "label_only": {"K1"},
    "vip_true": {"K1", "K3"},
    "vip_false": {"K2"},
    "vip_null": {f"K{i}" for i in range(4, 11)},
    "vip_not": {"K2"},  # null vip: neither `vip = true` nor its `not`
}


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    files = {str(p.relative_to(RULES)): p.read_text("utf-8") for p in RULES.rglob("*.seg")}
    return make_workspace(module_dir / "ws", CUSTOMERS, segments=files)


@pytest.fixture(scope="module")
def built(ws: Ws) -> dict[str, set[str]]:
    return ws.build(AS_OF)


def test_check_accepts_the_files(ws: Ws) -> None:
    ws.ok("segment", "check")


def test_every_segment_built_once(built: dict[str, set[str]]) -> None:
    """base.seg is reached directly and through include: loaded once, no duplicate error."""
    assert set(built) == set(EXPECTED)


@pytest.mark.parametrize("segment", sorted(EXPECTED))
def test_build_members(built: dict[str, set[str]], segment: str) -> None:
    assert built[segment] == EXPECTED[segment]


@pytest.mark.parametrize("segment", ["icontains_istanbul", "eq_ist_decomposed", "not_over_and"])
def test_preview_agrees(ws: Ws, segment: str) -> None:
    assert ws.preview(segment, AS_OF) == EXPECTED[segment]


def test_city_trait_is_nfc_in_the_store(ws: Ws) -> None:
    cities = {code: city for code, city in ws.query("SELECT code, city FROM customers")}
    assert cities["K8"] == "İstanbul" == cities["K1"]
    assert cities["K9"] == "ığüşöç"


def test_turkish_labels_round_trip(ws: Ws, built: dict[str, set[str]]) -> None:
    out = ws.ok("segment", "list", "--json").stdout
    assert "Altın" in json.loads(out).__repr__() or "Altın" in out
    assert "İstanbul müşterileri" in out


def test_a_rule_file_saved_on_windows_is_accepted(ws: Ws) -> None:
    """UTF-8 with BOM, CRLF line ends and tabs: whitespace and newlines are insignificant."""
    case = ws.root / "cases" / "windows_editor.seg"
    case.parent.mkdir(exist_ok=True)
    case.write_bytes("\ufeff# yorum\r\nsegment crlf \"Altın\":\r\n\tpurpose email_marketing\r\n"
                     "\twhere city icontains \"İSTANBUL\"\r\n".encode())
    res = ws.cli("segment", "check", str(case))
    assert res.exit_code == 0, res.output
