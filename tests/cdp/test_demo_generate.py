"""The demo dataset: deterministic, fast, and plausible for a Turkish cash & carry wholesaler.

The checks here recompute what the generator claims (identity components, bad rows, VKN check
digits) independently from the written files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdp.demo import DATA_FILES, generate
from cdp.errors import ConfigError
from privacy.normalize import normalize_email, normalize_phone

END = "2026-06-30"
TURKISH = set("İıŞşĞğÇçÖöÜü")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], float]:
    """20,000 customers (about a million events), timed."""
    root = tmp_path_factory.mktemp("demo20k")
    t0 = time.perf_counter()
    result = generate(root, customers=20_000, seed=7, end_date=END)
    return root / "data", result, time.perf_counter() - t0


def _read(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _digest(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in DATA_FILES}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", customers=300, seed=11, end_date=END)
    b = generate(tmp_path / "b", customers=300, seed=11, end_date=END, threads=1)
    c = generate(tmp_path / "c", customers=300, seed=12, end_date=END)
    assert _digest(tmp_path / "a" / "data") == _digest(tmp_path / "b" / "data")
    assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    differs = [n for n, h in _digest(tmp_path / "c" / "data").items() if h != _digest(tmp_path / "a" / "data")[n]]
    assert set(differs) == set(DATA_FILES)
    assert c["end_date"] == END and c["start_date"] == "2024-07-01"


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        generate(tmp_path, customers=5)
    assert err.value.key == "customers"
    with pytest.raises(ConfigError) as err:
        generate(tmp_path, customers=100, end_date="30.06.2026")
    assert err.value.key == "end_date"


def test_twenty_thousand_customers_in_seconds(big: tuple[Path, dict[str, Any], float]) -> None:
    _folder, result, seconds = big
    assert result["customers"] == 20_000
    assert 40 * 20_000 <= result["events"]["total"] <= 60 * 20_000
    # "a few seconds" on an idle 2-core machine; the bound leaves room for a busy CI box
    assert seconds < 45, f"generating 20k customers took {seconds:.1f} s"


def test_columns_are_the_contract(big: tuple[Path, dict[str, Any], float]) -> None:
    folder, _result, _s = big
    heads = {
        "customers.csv": (";", ["customer_ref", "full_name", "email", "phone", "tax_id", "city", "district",
                                "business_type", "recipient_type", "signup_date", "credit_limit"]),
        "loyalty_members.csv": (",", ["card_no", "full_name", "email", "phone", "city", "loyalty_since"]),
        "events.csv": (",", ["event_id", "customer_ref", "event_type", "ts", "amount", "category", "store_id",
                             "quantity", "payment_method"]),
        "consents.csv": (",", ["customer_ref", "purpose", "channel", "status", "at", "expires", "basis",
                               "recipient_type", "source", "notice_version"]),
    }
    for name, (sep, columns) in heads.items():
        with (folder / name).open(encoding="utf-8") as fh:
            first = fh.readline()
        assert not first.startswith("\ufeff")
        assert first.rstrip("\n").split(sep) == columns, name


def test_customers_are_turkish_and_messy(big: tuple[Path, dict[str, Any], float]) -> None:
    folder, _result, _s = big
    rows = _read(folder / "customers.csv", ";")
    names = "".join(r["full_name"] for r in rows)
    cities = {r["city"] for r in rows}
    assert TURKISH <= set(names)
    assert {"İstanbul", "İzmir", "Iğdır", "Şanlıurfa", "Çanakkale", "Muğla", "Eskişehir"} <= cities
    assert "Istanbul" in cities or "İSTANBUL" in cities          # typed without a Turkish keyboard
    assert {r["business_type"] for r in rows} == {
        "grocery", "market", "restaurant", "cafe", "hotel", "catering", "office", "kiosk"}
    assert {r["recipient_type"] for r in rows} == {"TACIR", "BIREYSEL"}
    assert all(r["tax_id"] == "" for r in rows if r["recipient_type"] == "BIREYSEL")
    assert 0 < sum(r["tax_id"] == "" for r in rows if r["recipient_type"] == "TACIR")
    emails = [r["email"] for r in rows if r["email"]]
    assert any(e != e.strip() for e in emails) and any(e.strip() != e.strip().lower() for e in emails)
    assert all(normalize_email(e) for e in emails)
    phones = [r["phone"] for r in rows if r["phone"]]
    shapes = Counter(re.sub(r"\d", "9", p) for p in phones)
    for shape in ("9999 999 99 99", "+99 (999) 999-99-99", "999999999999", "9999999999", "9999-999-9999"):
        assert shapes[shape] > 0, shape
    assert all(normalize_phone(p) for p in phones)
    bad = []
    for r in rows:
        try:
            date.fromisoformat(r["signup_date"])
        except ValueError:
            bad.append(r["signup_date"])
    assert len(bad) == 2                              # the two planted bad dates


def _vkn_valid(v: str) -> bool:
    total = 0
    for i in range(9):
        tmp = (int(v[i]) + 9 - i) % 10
        part = (tmp * 2 ** (9 - i)) % 9
        if tmp != 0 and part == 0:
            part = 9
        total += part
    return len(v) == 10 and (10 - total % 10) % 10 == int(v[9])


def test_tax_ids_are_valid_vkn(big: tuple[Path, dict[str, Any], float]) -> None:
    folder, _result, _s = big
    vkns = [r["tax_id"] for r in _read(folder / "customers.csv", ";") if r["tax_id"]]
    assert len(vkns) > 10_000
    assert all(_vkn_valid(v) for v in vkns)
    assert not _vkn_valid("1234567890") or not _vkn_valid("1234567891")   # the checker can say no


def _components(folder: Path) -> tuple[int, int]:
    """(customers after resolving shared normalized identifiers, identifiers shared across the two files)."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    owner: dict[tuple[str, str | None], tuple[str, int]] = {}
    nodes = []
    shared_across_files = 0
    for tag, name, sep in (("c", "customers.csv", ";"), ("l", "loyalty_members.csv", ",")):
        for i, row in enumerate(_read(folder / name, sep)):
            node = (tag, i)
            nodes.append(node)
            ids: list[tuple[str, str | None]] = []
            if row["email"]:
                ids.append(("email", normalize_email(row["email"])))
            if row["phone"]:
                ids.append(("phone", normalize_phone(row["phone"])))
            if row.get("tax_id"):
                ids.append(("tax_id", row["tax_id"]))
            for key in ids:
                assert key[1] is not None
                if key in owner:
                    shared_across_files += owner[key][0] != tag
                    a, b = find(node), find(owner[key])
                    if a != b:
                        parent[a] = b
                else:
                    owner[key] = node
    return len({find(n) for n in nodes}), shared_across_files


def test_identity_components_match_the_planted_duplicates(big: tuple[Path, dict[str, Any], float]) -> None:
    """Union-find over normalized identifiers of both files gives the generator's expected count."""
    folder, result, _s = big
    components, shared_across_files = _components(folder)
    assert components == result["expected_customers"]
    planted = result["duplicates"]
    assert planted["customer_accounts_same_person"] > 0 and planted["loyalty_chains"] > 0
    assert planted["loyalty_same_email"] > 0 and planted["loyalty_same_phone"] > 0
    assert shared_across_files >= planted["loyalty_same_email"] + planted["loyalty_same_phone"]
    loyalty = result["loyalty_members"]
    existing = planted["loyalty_same_email"] + planted["loyalty_same_phone"] + planted["loyalty_chains"]
    assert 0.05 <= existing / loyalty <= 0.11      # "about 8%"


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**31), customers=st.integers(min_value=20, max_value=600))
def test_expected_customers_holds_for_any_seed_and_size(seed: int, customers: int) -> None:
    """The generator's claim about identity resolution holds whatever the seed and size."""
    with tempfile.TemporaryDirectory() as tmp:
        result = generate(Path(tmp), customers=customers, seed=seed, end_date=END)
        components, _shared = _components(Path(tmp) / "data")
    assert components == result["expected_customers"]
    assert result["customers"] == customers


def test_events_behave_like_a_wholesaler(big: tuple[Path, dict[str, Any], float]) -> None:
    folder, result, _s = big
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(
        f"CREATE VIEW e AS SELECT * FROM read_csv('{folder / 'events.csv'}', all_varchar = true, header = true)")
    con.execute(
        f"CREATE VIEW c AS SELECT * FROM read_csv('{folder / 'customers.csv'}', delim = ';', all_varchar = true, "
        "header = true)")
    con.execute("""
        CREATE VIEW ok AS SELECT customer_ref, event_type, try_strptime(ts, '%Y-%m-%d %H:%M:%S') AS ts,
               try_cast(amount AS DECIMAL(14, 2)) AS amount, category, quantity
        FROM e WHERE customer_ref IS NOT NULL AND try_strptime(ts, '%Y-%m-%d %H:%M:%S') IS NOT NULL
          AND (amount IS NULL OR try_cast(amount AS DECIMAL(14, 2)) IS NOT NULL)""")

    def one(sql: str) -> Any:
        return con.execute(sql).fetchone()[0]  # type: ignore[index]

    total = one("SELECT count(*) FROM e")
    assert total == result["events"]["total"]
    assert one("SELECT count(DISTINCT event_id) FROM e") == total
    # planted bad rows, found independently
    planted = result["bad_rows"]["events.csv"]
    assert one("SELECT count(*) FROM e WHERE customer_ref IS NULL") == planted["missing_customer_ref"] == 2
    assert one("SELECT count(*) FROM e WHERE try_strptime(ts, '%Y-%m-%d %H:%M:%S') IS NULL") == planted["bad_date"]
    assert one("SELECT count(*) FROM e WHERE amount IS NOT NULL AND try_cast(amount AS DECIMAL(14,2)) IS NULL") \
        == planted["bad_amount"]
    assert one("SELECT count(*) FROM ok") == total - 8
    # types: purchases positive, returns negative, visits without amount or category
    assert one("SELECT count(*) FROM ok WHERE event_type = 'purchase' AND NOT amount > 0") == 0
    assert one("SELECT count(*) FROM ok WHERE event_type = 'return' AND NOT amount < 0") == 0
    assert one("SELECT count(*) FROM ok WHERE event_type = 'visit' AND (amount IS NOT NULL OR category IS NOT NULL)") == 0
    assert str(one("SELECT max(ts)::DATE FROM ok")) <= END
    assert str(one("SELECT min(ts)::DATE FROM ok")) >= result["start_date"]
    # some never buy, some churn (bought in the first year, not in the last 6 months)
    never = one("SELECT count(*) FROM c WHERE customer_ref NOT IN "
                "(SELECT customer_ref FROM ok WHERE event_type = 'purchase')")
    assert 0.04 * 20_000 < never < 0.15 * 20_000
    churned = one(f"""SELECT count(*) FROM (SELECT customer_ref, max(ts) AS last FROM ok
                      WHERE event_type = 'purchase' GROUP BY 1 HAVING count(*) >= 5)
                      WHERE last < DATE '{END}' - INTERVAL 180 DAY""")
    assert churned > 0.03 * 20_000
    # heavy tail: the top 5% of buyers hold far more than 5% of revenue
    share = one("""WITH s AS (SELECT customer_ref, sum(amount) AS spend FROM ok WHERE event_type = 'purchase'
                              GROUP BY 1), r AS (SELECT spend, ntile(20) OVER (ORDER BY spend DESC) AS t FROM s)
                   SELECT sum(spend) FILTER (WHERE t = 1) / sum(spend) FROM r""")
    assert share > 0.2
    # tourist-coast HORECA buys far more in summer than in winter
    summer, winter = con.execute("""
        SELECT count(*) FILTER (WHERE month(ts) IN (7, 8)), count(*) FILTER (WHERE month(ts) IN (1, 2))
        FROM ok JOIN c USING (customer_ref)
        WHERE event_type = 'purchase' AND c.city IN ('Antalya', 'Muğla') AND c.business_type IN ('hotel', 'restaurant', 'cafe')
    """).fetchone()  # type: ignore[misc]
    assert summer > 1.8 * winter
    # every declared category appears
    assert one("SELECT count(DISTINCT category) FROM ok") == 9


def test_consents_and_iys_export(big: tuple[Path, dict[str, Any], float]) -> None:
    folder, result, _s = big
    rows = _read(folder / "consents.csv")
    assert len(rows) == result["consents"]["total"]
    statuses = Counter(r["status"] for r in rows)
    assert {"granted", "withdrawn", "refused", "ONAY", "RET"} <= set(statuses)
    assert {r["purpose"] for r in rows} == {"email_marketing", "sms_marketing", "call_marketing", "ads_targeting"}
    assert {(r["purpose"], r["channel"]) for r in rows} == {
        ("email_marketing", "email"), ("sms_marketing", "sms"), ("call_marketing", "call"), ("ads_targeting", "ads")}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", r["at"]) for r in rows)
    assert sum(bool(r["expires"]) for r in rows) < 0.1 * len(rows)
    # a withdrawal is a later row after a grant for the same customer and purpose
    granted_at: dict[tuple[str, str], str] = {}
    withdrawals = 0
    for r in rows:
        key = (r["customer_ref"], r["purpose"])
        if r["status"] in ("granted", "ONAY"):
            granted_at[key] = r["at"]
        elif r["status"] == "withdrawn" or (r["status"] == "RET" and key in granted_at):
            withdrawals += 1
            assert key in granted_at and r["at"] >= granted_at[key]
    assert withdrawals > 0
    iys = json.loads((folder / "iys_export.json").read_text(encoding="utf-8"))
    assert len(iys) == result["iys_records"]
    assert all(set(rec) == {"recipient", "recipientType", "type", "source", "status", "consentDate"} for rec in iys)
    assert {rec["type"] for rec in iys} == {"EPOSTA", "MESAJ", "ARAMA"}
    assert {rec["status"] for rec in iys} == {"ONAY", "RET"}
    assert all(rec["recipient"].startswith("+90") for rec in iys if rec["type"] != "EPOSTA")
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", rec["consentDate"]) for rec in iys)
