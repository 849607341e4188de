"""RFM scores exactly as DSL.md defines them, in integer arithmetic only.

Among the n customers with at least one purchase in the window, k is how many have a
value <= theirs (recency: a days_since >= theirs), and the score is ceil(B*k/n) for B
bins, i.e. the smallest s with B*k <= s*n. With RANK() over the n (ties share):
k = n + 1 - RANK() ordered descending (ascending for recency). Others get null.
``rfm.segment`` always uses five-bin R and F scores, so the name table applies whatever
``bins`` is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from dsl.compile.values import Compiler

__all__ = ["SEGMENT_TABLE", "rfm_columns", "score", "segment_name"]

# R -> names for F = 1..5 (DSL.md)
SEGMENT_TABLE: dict[int, tuple[str, str, str, str, str]] = {
    5: ("New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"),
    4: ("Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Loyal Customers"),
    3: ("About To Sleep", "About To Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"),
    2: ("Hibernating", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"),
    1: ("Lost", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"),
}


def segment_name(r: int, f: int) -> str:
    return SEGMENT_TABLE[r][f - 1]


def score(k: int, n: int, bins: int = 5) -> int:
    """ceil(bins * k / n) in integers (the reference used by docs and tests)."""
    return -(-bins * k // n)


def _c(name: str) -> exp.Column:
    return exp.column(name)


def _bin(k: exp.Expression, n: exp.Expression, bins: int) -> exp.Expression:
    ifs = [
        exp.If(
            this=exp.LTE(
                this=exp.Mul(this=exp.Literal.number(bins), expression=exp.Paren(this=k.copy())),
                expression=exp.Mul(this=exp.Literal.number(s), expression=n.copy()),
            ),
            true=exp.Literal.number(s),
        )
        for s in range(1, bins)
    ]
    return exp.Case(ifs=ifs, default=exp.Literal.number(bins))


def rfm_columns(
    c: Compiler, recency: exp.Expression, frequency: exp.Expression, monetary: exp.Expression
) -> dict[str, exp.Expression]:
    """Register the RFM layers once; return the column of each ``rfm.*`` score."""
    L = c.layers
    if "_rfm_n" not in L.rfm_rank:
        active = exp.GT(this=frequency.copy(), expression=exp.Literal.number(0))
        part = exp.Case(ifs=[exp.If(this=active.copy(), true=exp.Literal.number(1))], default=exp.Literal.number(0))

        def rank(value: exp.Expression, desc: bool) -> exp.Expression:
            order = exp.Order(expressions=[exp.Ordered(this=value.copy(), desc=desc, nulls_first=False)])
            return exp.Window(this=exp.Anonymous(this="RANK"), partition_by=[part.copy()], order=order)

        L.rfm_rank["_rfm_n"] = exp.Window(this=exp.Sum(this=part.copy()))
        L.rfm_rank["_rfm_kr"] = rank(recency, desc=False)
        L.rfm_rank["_rfm_kf"] = rank(frequency, desc=True)
        L.rfm_rank["_rfm_km"] = rank(monetary, desc=True)
        bins = c.rfm_settings.bins
        n = _c("_rfm_n")

        def k(rank_col: str) -> exp.Expression:
            return exp.Sub(this=exp.Add(this=n.copy(), expression=exp.Literal.number(1)), expression=_c(rank_col))

        def scored(rank_col: str, b: int) -> exp.Expression:
            return exp.Case(ifs=[exp.If(this=active.copy(), true=_bin(k(rank_col), n, b))])

        L.rfm_score["_rfm_r"] = scored("_rfm_kr", bins)
        L.rfm_score["_rfm_f"] = scored("_rfm_kf", bins)
        L.rfm_score["_rfm_m"] = scored("_rfm_km", bins)
        r5, f5 = ("_rfm_r", "_rfm_f") if bins == 5 else ("_rfm_r5", "_rfm_f5")
        if bins != 5:
            L.rfm_score["_rfm_r5"] = scored("_rfm_kr", 5)
            L.rfm_score["_rfm_f5"] = scored("_rfm_kf", 5)
        text = exp.DataType(this=exp.DataType.Type.VARCHAR)
        L.rfm_label["_rfm_score"] = exp.DPipe(
            this=exp.DPipe(this=exp.cast(_c("_rfm_r"), text), expression=exp.cast(_c("_rfm_f"), text)),
            expression=exp.cast(_c("_rfm_m"), text),
        )
        names: dict[str, list[tuple[int, int]]] = {}
        for r, row in SEGMENT_TABLE.items():
            for f, name in enumerate(row, start=1):
                names.setdefault(name, []).append((r, f))
        ifs = []
        for name, cells in names.items():
            conds = [
                exp.and_(_c(r5).eq(exp.Literal.number(r)), _c(f5).eq(exp.Literal.number(f))) for r, f in cells
            ]
            ifs.append(exp.If(this=exp.or_(*conds) if len(conds) > 1 else conds[0], true=exp.Literal.string(name)))
        L.rfm_label["_rfm_segment"] = exp.Case(ifs=ifs)
    return {
        "r": _c("_rfm_r"),
        "f": _c("_rfm_f"),
        "m": _c("_rfm_m"),
        "score": _c("_rfm_score"),
        "segment": _c("_rfm_segment"),
    }
