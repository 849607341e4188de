"""The PII scan in text columns (PRIVACY.md §2): a lone checksum-valid TCKN or VKN typed into a
text trait is a hit, while numbers that pass a check by chance (order numbers, account codes)
are not."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cdp.demo import generate
from cdp.demo.config_template import render_config
from cdp.workspace import Workspace
from privacy.scan import Finding, is_tckn, is_vkn, scan_values

from .conftest import Shop

TCKN = "10000000146"


def _tckn(rng: random.Random) -> str:
    d = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
    d.append(((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10)
    d.append(sum(d) % 10)
    return "".join(map(str, d))


def _vkn(rng: random.Random) -> str:
    while True:
        s = str(rng.randint(10**9, 10**10 - 1))
        if is_vkn(s):
            return s


def test_a_tckn_in_one_of_three_text_values_is_a_hit() -> None:
    for cell in (TCKN, f" {TCKN} ", "100 000 001 46"):
        assert scan_values("city", ["İzmir", "Ankara", cell], text=True) == [Finding("city", "national_id", 1)]
    # the numeric rule (a column of identifiers is mostly identifiers) would let it through
    assert scan_values("city", ["İzmir", "Ankara", TCKN]) == []
    assert scan_values("city", ["İzmir", "Ankara", "10000000147"], text=True) == []   # bad check digit
    assert scan_values("city", ["İzmir", "Ankara", "00000000146"], text=True) == []   # leading zero


def test_a_vkn_in_one_of_three_text_values_is_a_hit() -> None:
    vkn = _vkn(random.Random(3))
    found = scan_values("city", ["İzmir", "Ankara", vkn], text=True)
    assert Finding("city", "tax_id", 1) in found
    assert scan_values("city", ["İzmir", "Ankara", vkn]) == []


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.text(alphabet="abcçdefgğhıijklmnoöprsştuüvyzİÇŞ -'", min_size=1, max_size=20),
                      min_size=0, max_size=40),
       seed=st.integers(0, 10**6), where=st.integers(0, 40))
def test_one_tckn_among_any_words_is_found(words: list[str], seed: int, where: int) -> None:
    values = list(words)
    values.insert(min(where, len(values)), _tckn(random.Random(seed)))
    assert scan_values("district", values, text=True) == [Finding("district", "national_id", 1)]


def test_random_order_numbers_in_an_integer_column_are_not_a_hit() -> None:
    rng = random.Random(11)
    orders = [str(rng.randint(10**10, 10**11 - 1)) for _ in range(3000)]
    orders += [str(rng.randint(10**9, 10**10 - 1)) for _ in range(3000)]
    assert any(is_tckn(o) for o in orders) and any(is_vkn(o) for o in orders)   # chance hits are there
    assert scan_values("order_no", orders) == []


def test_a_text_column_of_account_codes_is_not_a_hit() -> None:
    """About 1% of random 11-digit codes (10% of 10-digit ones) pass the check: chance, not PII."""
    rng = random.Random(5)
    codes = [str(rng.randint(10**10, 10**11 - 1)) for _ in range(2000)] + ["yok", "bilinmiyor"]
    codes += [str(rng.randint(10**9, 10**10 - 1)) for _ in range(2000)]
    assert sum(is_tckn(c) for c in codes) > 5
    assert scan_values("account_code", codes, text=True) == []
    tckns = [_tckn(rng) for _ in range(30)]
    assert scan_values("account_code", tckns + ["yok"], text=True) == [Finding("account_code", "national_id", 30)]


def test_ingestion_blocks_the_text_trait_and_keeps_the_integer_one(tmp_path: Path) -> None:
    rng = random.Random(2)
    orders = [rng.randint(10**10, 10**11 - 1) for _ in range(300)]
    assert any(is_tckn(str(o)) for o in orders)
    shop = Shop(tmp_path / "ws", extra_toml=(
        '[sources.c]\nkind = "csv"\npath = "data/c.csv"\nentity = "customers"\nkey = "ref"\n'
        'identifiers = { email = "email" }\n'
        'traits = { city = "text", order_no = "integer" }\n'))
    data = shop.ws.root / "data"
    data.mkdir()
    cities = ["İzmir", "Ankara", TCKN]
    rows = [f"R{i},k{i}@example.com,{cities[i % 3]},{o}" for i, o in enumerate(orders)]
    (data / "c.csv").write_text("ref,email,city,order_no\n" + "\n".join(rows) + "\n", "utf-8")
    assert {(f["column"], f["kind"]) for f in shop.ws.privacy.scan()} == {("city", "national_id")}
    report = shop.ws.ingest()
    assert report.sources[0].columns_blocked == {"city": "national_id"}
    assert TCKN.encode() not in shop.ws.store_path.read_bytes()
    with shop.ws.store(read_only=True) as con:
        assert con.execute("SELECT count(order_no) FROM customers").fetchone() == (300,)
    assert shop.ws.privacy.scan(store=True) == []


def test_no_false_positive_on_the_demo_data(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    generate(root, 1000, 42, "2026-06-30")
    (root / "cdp.toml").write_text(render_config(), encoding="utf-8")
    ws = Workspace(root)
    assert ws.privacy.scan() == []
    report = ws.ingest()
    assert report.sources and all(not s.columns_blocked for s in report.sources)
    assert ws.privacy.scan(store=True) == []
    with ws.store(read_only=True) as con:
        assert con.execute("SELECT count(city), count(district) FROM customers").fetchone()[0] > 1000
