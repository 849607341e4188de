"""`[not] in segment` (control counts as member), `was in segment N days ago` and the holdout
formula of DSL.md. Customers S01..S30 with credit = 1..30; S01..S10 bought on 2026-02-10,
S11..S20 on 2026-03-10. Rules: rules/refs.seg.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from .conftest import Ws, customer, make_workspace

RULES = Path(__file__).parent / "rules"


def s(*numbers: int) -> set[str]:
    return {f"S{i:02d}" for i in numbers}


CUSTOMERS = [customer(f"S{i:02d}", credit=i) for i in range(1, 31)]
EVENTS = ([{"code": f"S{i:02d}", "ts": "2026-02-10 12:00:00", "amount": 10} for i in range(1, 11)]
          + [{"code": f"S{i:02d}", "ts": "2026-03-10 12:00:00", "amount": 10} for i in range(11, 21)])


def in_control(segment: str, customer_id: str, pct: float) -> bool:
    """DSL.md: int(first 8 hex of sha256(segment || ":" || customer_id), 16) mod 10000 < N*100."""
    digest = hashlib.sha256(f"{segment}:{customer_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 10000 < pct * 100


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    return make_workspace(module_dir / "ws", CUSTOMERS, EVENTS,
                          segments={"refs.seg": (RULES / "refs.seg").read_text("utf-8")})


@pytest.fixture(scope="module")
def builds(ws: Ws) -> dict[str, int]:
    """Build `active` at 2026-03-01, then everything at 2026-03-31; build ids by segment."""
    first = ws.json("segment", "build", "active", "--as-of", "2026-03-01", "--json")
    out = ws.json("segment", "build", "--as-of", "2026-03-31", "--json")
    ids = {name: info["build_id"] for name, info in out.items()}
    ids["active@2026-03-01"] = first["active"]["build_id"]
    return ids


EXPECTED = {
    "active@2026-03-01": s(*range(1, 11)),
    "active": s(*range(11, 21)),
    "was_active": s(*range(1, 11)),  # the build at or before 2026-03-31 - 30 days, control included
    "was_active_long_ago": set(),  # no build then: false
    "plat": s(*range(21, 31)),
    "gold": s(*range(11, 21)),  # plat's control group counts as plat: never in gold
    "in_plat": s(*range(21, 31)),
    "notin_plat": s(*range(1, 21)),
    "everyone": s(*range(1, 31)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_members(ws: Ws, builds: dict[str, int], name: str) -> None:
    assert ws.members(builds[name]) == EXPECTED[name]


@pytest.mark.parametrize("name,pct", [("plat", 50), ("everyone", 30), ("active", 50)])
def test_holdout_formula(ws: Ws, builds: dict[str, int], name: str, pct: float) -> None:
    rows = ws.member_rows(builds[name])
    assert rows
    assert {cid: control for cid, _, control in rows} == {
        cid: in_control(name, cid, pct) for cid, _, _ in rows}


def test_plat_control_is_not_empty_so_gold_test_means_something(ws: Ws, builds: dict[str, int]) -> None:
    assert ws.members(builds["plat"], control=True)


def test_holdout_is_stable_across_rebuilds(ws: Ws, builds: dict[str, int]) -> None:
    again = ws.json("segment", "build", "everyone", "--as-of", "2026-03-15", "--json")
    before = {cid: c for cid, _, c in ws.member_rows(builds["everyone"])}
    after = {cid: c for cid, _, c in ws.member_rows(again["everyone"]["build_id"])}
    assert before == after


def test_build_json_counts(ws: Ws, builds: dict[str, int]) -> None:
    out = ws.json("segment", "build", "plat", "--as-of", "2026-03-31", "--json")
    rows = ws.member_rows(out["plat"]["build_id"])
    assert out["plat"]["members"] == 10 == len(rows)
    assert out["plat"]["control"] == sum(1 for r in rows if r[2])


def test_preview_control_flags_follow_the_formula(ws: Ws) -> None:
    out = ws.json("segment", "preview", "plat", "--as-of", "2026-03-31", "--sample", "100",
                  "--json")
    assert len(out["sample"]) == 10
    assert {x["customer_id"]: x["control"] for x in out["sample"]} == {
        x["customer_id"]: in_control("plat", x["customer_id"], 50) for x in out["sample"]}
    assert out["control"] == sum(1 for x in out["sample"] if x["control"])


def test_named_build_computes_its_dependencies(ws: Ws) -> None:
    out = ws.json("segment", "build", "gold", "--as-of", "2026-03-31", "--json")
    assert ws.members(out["gold"]["build_id"]) == s(*range(11, 21))


def test_was_in_segment_takes_the_latest_as_of_not_the_latest_build(ws: Ws) -> None:
    """A build of `active` made later but for an earlier as_of (2026-01-15: nobody) does not
    replace the 2026-03-01 build (DSL.md: latest by as_of, then by build id)."""
    ws.json("segment", "build", "active", "--as-of", "2026-01-15", "--json")
    out = ws.json("segment", "build", "was_active", "--as-of", "2026-03-31", "--json")
    assert ws.members(out["was_active"]["build_id"]) == s(*range(1, 11))


def test_was_in_segment_follows_merges(ws: Ws, builds: dict[str, int]) -> None:
    """S05 (in active at 2026-03-01) and S25 (never active) turn out to be one business: a new
    row shares S05's e-mail and S25's phone. The merged customer keeps one of the two ids, and
    `was in segment active 30 days ago` still finds them (DSL.md: followed through
    customer_merges). Runs last: it changes the workspace."""
    from .conftest import email_of, phone_of

    ids = dict(ws.query("SELECT code, customer_id FROM customers WHERE code IN ('S05', 'S25')"))
    path = ws.root / "data" / "customers.csv"
    path.write_text(path.read_text("utf-8")
                    + f"REF-S99,{email_of('S05')},{phone_of(24)},,,S99,,,,,\n", "utf-8")
    ws.ok("ingest", "--json")
    survivors = {cid for (cid,) in ws.query(
        "SELECT customer_id FROM customers WHERE customer_id IN (?, ?)",
        [ids["S05"], ids["S25"]])}
    assert len(survivors) == 1, "S05 and S25 were not merged"
    out = ws.json("segment", "build", "was_active", "--as-of", "2026-03-31", "--json")
    members = {cid for cid, _, _ in ws.member_rows(out["was_active"]["build_id"])}
    assert survivors <= members
    assert len(members) == 10
