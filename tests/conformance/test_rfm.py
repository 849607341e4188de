"""RFM of DSL.md, exact formula: score = ceil(5*k/n) among the n customers with a purchase in
the 12-month window; all 11 segment names. Rules: rules/rfm.seg; as-of 2026-03-31.

20 buyers Q01..Q20 with distinct recency and frequency, so each score 1..5 covers exactly 4 of
them (k = 1..20, ceil(5k/20) = ceil(k/4)). QOLD bought only 400 days ago (outside the window);
QNONE never bought: every rfm score of both is null.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from .conftest import Ws, customer, make_workspace

AS_OF = "2026-03-31"
RULES = Path(__file__).parent / "rules"

# code: (R score, F score, expected rfm.segment) — names read off DSL.md's R x F table.
TABLE: dict[str, tuple[int, int, str]] = {
    "Q01": (5, 1, "New Customers"),
    "Q02": (5, 2, "Potential Loyalists"),
    "Q03": (5, 4, "Champions"),
    "Q04": (4, 1, "Promising"),
    "Q05": (4, 4, "Loyal Customers"),
    "Q06": (3, 1, "About To Sleep"),
    "Q07": (3, 3, "Need Attention"),
    "Q08": (2, 2, "Hibernating"),
    "Q09": (2, 3, "At Risk"),
    "Q10": (2, 5, "Cannot Lose Them"),
    "Q11": (1, 1, "Lost"),
    "Q12": (5, 5, "Champions"),
    "Q13": (4, 5, "Loyal Customers"),
    "Q14": (4, 4, "Loyal Customers"),
    "Q15": (3, 4, "Loyal Customers"),
    "Q16": (3, 3, "Need Attention"),
    "Q17": (2, 2, "Hibernating"),
    "Q18": (1, 2, "Hibernating"),
    "Q19": (1, 3, "At Risk"),
    "Q20": (1, 5, "Cannot Lose Them"),
}
# R score s <- the 4 customers with days_since in DAYS[s] .. +3 (bigger days, lower score).
DAYS = {5: 1, 4: 10, 3: 30, 2: 100, 1: 200}
# F score s <- purchase counts 4(s-1)+1 .. 4s.
# M: monetary = (count - 1) + 1000 * (21 - i) for Qi, so M of Qi = ceil((21 - i) / 4).


def _data() -> tuple[list[dict], list[dict], dict[str, tuple[int, int, int]]]:
    customers, events, raw = [], [], {}
    seen_r: dict[int, int] = {}
    seen_f: dict[int, int] = {}
    as_of = date(2026, 3, 31)
    for code, (r, f, _) in TABLE.items():
        i = int(code[1:])
        days = DAYS[r] + seen_r.get(r, 0)
        seen_r[r] = seen_r.get(r, 0) + 1
        count = 4 * (f - 1) + 1 + seen_f.get(f, 0)
        seen_f[f] = seen_f.get(f, 0) + 1
        customers.append(customer(code))
        for j in range(count):
            day = as_of - timedelta(days=days + j)
            amount = 1000 * (21 - i) if j == 0 else 1
            events.append({"code": code, "ts": f"{day} 12:00:00", "amount": amount})
        raw[code] = (days, count, count - 1 + 1000 * (21 - i))
    customers += [customer("QOLD"), customer("QNONE")]
    events.append({"code": "QOLD", "ts": f"{as_of - timedelta(days=400)} 12:00:00", "amount": 5})
    return customers, events, raw


CUSTOMERS, EVENTS, RAW = _data()


def m_score(code: str) -> int:
    return -(-(21 - int(code[1:])) // 4)


SLUGS = {
    "Champions": "rfm_champions", "Loyal Customers": "rfm_loyal",
    "Potential Loyalists": "rfm_potential", "New Customers": "rfm_new",
    "Promising": "rfm_promising", "Need Attention": "rfm_attention",
    "About To Sleep": "rfm_sleep", "At Risk": "rfm_at_risk",
    "Cannot Lose Them": "rfm_cannot_lose", "Hibernating": "rfm_hibernating", "Lost": "rfm_lost",
}


def expected() -> dict[str, set[str]]:
    exp: dict[str, set[str]] = {slug: set() for slug in SLUGS.values()}
    for code, (_, _, name) in TABLE.items():
        exp[SLUGS[name]].add(code)
    exp["rfm_null"] = {"QOLD", "QNONE"}
    exp["rfm_r5"] = {c for c, (r, _, _) in TABLE.items() if r == 5}
    exp["rfm_r1"] = {c for c, (r, _, _) in TABLE.items() if r == 1}
    exp["rfm_f1"] = {c for c, (_, f, _) in TABLE.items() if f == 1}
    exp["rfm_f5"] = {c for c, (_, f, _) in TABLE.items() if f == 5}
    exp["rfm_m5"] = {c for c in TABLE if m_score(c) == 5}
    exp["rfm_m1"] = {c for c in TABLE if m_score(c) == 1}
    exp["rfm_score_515"] = {"Q01"}  # R5, F1, M ceil(20/4) = 5
    exp["rfm_recency_raw"] = {"QOLD"}  # recency over all history
    exp["rfm_frequency_raw"] = {c for c, (_, count, _) in RAW.items() if count == 20}
    exp["rfm_monetary_raw"] = {c for c, (_, _, m) in RAW.items() if m == 1019}
    return exp


EXPECTED = expected()


def test_the_table_is_what_the_text_says() -> None:
    """Literal sanity checks of the fixture: every name occurs, and a few hand-computed facts."""
    assert {name for _, _, name in TABLE.values()} == set(SLUGS)
    assert EXPECTED["rfm_m5"] == {"Q01", "Q02", "Q03", "Q04"}
    assert EXPECTED["rfm_frequency_raw"] == {"Q20"}
    assert EXPECTED["rfm_monetary_raw"] == {"Q20"}


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    return make_workspace(module_dir / "ws", CUSTOMERS, EVENTS,
                          segments={"rfm.seg": (RULES / "rfm.seg").read_text("utf-8")})


@pytest.fixture(scope="module")
def built(ws: Ws) -> dict[str, set[str]]:
    return ws.build(AS_OF)


@pytest.mark.parametrize("segment", sorted(EXPECTED))
def test_rfm_members(built: dict[str, set[str]], segment: str) -> None:
    assert built[segment] == EXPECTED[segment]


def test_preview_agrees(ws: Ws) -> None:
    assert ws.preview("rfm_cannot_lose", AS_OF) == EXPECTED["rfm_cannot_lose"]
