"""`in top N%` / `in bottom N%` of DSL.md on 100 customers T001..T100 with credit = 1..100.

T001..T010 bought: spend 500, 500, 400, then 100 x 7; the 90 others have spend 0 (sum over no
events) and a null basket (avg over no events). Rules: rules/ranking.seg.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Ws, customer, make_workspace

AS_OF = "2026-03-31"
RULES = Path(__file__).parent / "rules"


def t(*numbers: int) -> set[str]:
    return {f"T{i:03d}" for i in numbers}


CUSTOMERS = [customer(f"T{i:03d}", credit=i) for i in range(1, 101)]
SPEND = {1: 500, 2: 500, 3: 400, **{i: 100 for i in range(4, 11)}}
EVENTS = [{"code": f"T{i:03d}", "ts": "2026-01-10 10:00:00", "amount": a} for i, a in SPEND.items()]

EXPECTED: dict[str, set[str]] = {
    "top7": t(*range(94, 101)),  # 7% of 100 is 7, never 8
    "bottom7": t(*range(1, 8)),
    "top14": t(*range(87, 101)),
    "top57": t(*range(44, 101)),
    "top1": t(100),
    "spend_top2": t(1, 2),
    "spend_top3": t(1, 2, 3),
    "spend_top4_ties": t(*range(1, 11)),  # rank of the 100s is 4: ties at the border all in
    "spend_bottom1": t(*range(11, 101)),  # the 90 non-buyers tie at 0, rank 1
    "buyers_bottom50": set(),  # ranks ignore the other conditions: buyers rank 91..100
    "basket_top20": t(1, 2),  # 10 non-null baskets: k = 2
    "basket_top30": t(1, 2, 3),
    "basket_top40": t(*range(1, 11)),
    "top7_and_even": t(97, 98, 99, 100),
    "rfm_ties_555": t(1, 2),  # M: 500s have k = 10 -> 5
    "rfm_ties_554": t(*range(3, 11)),  # M: 400 has k = 8, 100s k = 7 -> ceil(40/10) = ceil(35/10) = 4
    "rfm_ties_champions": t(*range(1, 11)),  # R and F all tie: k = 10 -> 5
    "rfm_ties_null": t(*range(11, 101)),
}


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    files = {name: (RULES / name).read_text("utf-8")
             for name in ("ranking.seg", "ranking_every_n.seg")}
    return make_workspace(module_dir / "ws", CUSTOMERS, EVENTS, segments=files)


@pytest.fixture(scope="module")
def built(ws: Ws) -> dict[str, set[str]]:
    return ws.build(AS_OF)


@pytest.mark.parametrize("segment", sorted(EXPECTED))
def test_ranking_members(built: dict[str, set[str]], segment: str) -> None:
    assert built[segment] == EXPECTED[segment]


def test_preview_top7(ws: Ws) -> None:
    assert ws.preview("top7", AS_OF) == EXPECTED["top7"]


FLOAT_TRAPS = [1, 7, 14, 28, 29, 50, 55, 56, 57, 99, 100]


def test_n_percent_of_100_is_exactly_n(built: dict[str, set[str]]) -> None:
    wrong = {}
    for n in FLOAT_TRAPS:
        if built[f"top_{n}"] != t(*range(101 - n, 101)):
            wrong[f"top_{n}"] = len(built[f"top_{n}"])
        if built[f"bottom_{n}"] != t(*range(1, n + 1)):
            wrong[f"bottom_{n}"] = len(built[f"bottom_{n}"])
    assert not wrong, f"segment -> size where size != N: {wrong}"
