"""The demo segments' logic in pandas, for the comparison in benchmarks/segments.py.

Reads customers and events from Parquet (the load is part of the timing, as a pandas
user would do it) and computes the same 16 segments with the same semantics (windows,
top-N% with ties, RFM scores, Turkish case folding, holdout hash).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

AS_OF = "2026-01-31"


def _control(segment: str, ids: list[str], pct: float) -> int:
    n = 0
    for cid in ids:
        if int(hashlib.sha256(f"{segment}:{cid}".encode()).hexdigest()[:8], 16) % 10000 < pct * 100:
            n += 1
    return n


def _top(values, pct: float):
    valid = values.notna()
    n = int(valid.sum())
    cutoff = math.ceil(pct * n / 100) if n else 0
    rank = values.rank(method="min", ascending=False)
    return valid & (rank <= cutoff)


def run(folder: Path) -> dict[str, tuple[int, int]]:
    import numpy as np
    import pandas as pd

    as_of = pd.Timestamp(AS_OF)
    customers = pd.read_parquet(folder / "customers.parquet",
                                columns=["customer_id", "city", "business_type", "recipient_type", "signup_date"])
    events = pd.read_parquet(folder / "events.parquet",
                             columns=["customer_id", "event_type", "ts", "amount", "category"])
    events = events[events["ts"] < as_of]
    purchases = events[events["event_type"] == "purchase"]
    p12 = purchases[purchases["ts"] >= as_of - pd.DateOffset(months=12)]
    p90 = purchases[purchases["ts"] >= as_of - pd.Timedelta(days=90)]
    p6 = purchases[(purchases["ts"] >= as_of - pd.DateOffset(months=6)) & (purchases["category"] == "beverages")]

    m = customers.set_index("customer_id")
    m["spend_12m"] = p12.groupby("customer_id")["amount"].sum().astype(float)
    m["spend_12m"] = m["spend_12m"].fillna(0.0)
    m["orders_12m"] = p12.groupby("customer_id").size()
    m["orders_12m"] = m["orders_12m"].fillna(0).astype(int)
    m["orders_90d"] = p90.groupby("customer_id").size()
    m["orders_90d"] = m["orders_90d"].fillna(0).astype(int)
    m["basket_avg"] = p12.groupby("customer_id")["amount"].mean().astype(float)
    m["beverages_6m"] = p6.groupby("customer_id").size()
    m["beverages_6m"] = m["beverages_6m"].fillna(0).astype(int)
    last = purchases.groupby("customer_id")["ts"].max()
    m["recency"] = (as_of.normalize() - last.dt.normalize()).dt.days
    m["tenure"] = (as_of.normalize() - pd.to_datetime(m["signup_date"])).dt.days

    out: dict[str, pd.Index] = {}
    spend_pos = m["spend_12m"] > 0
    out["platinum"] = m.index[spend_pos & _top(m["spend_12m"], 5)]
    out["gold"] = m.index[spend_pos & _top(m["spend_12m"], 20) & ~m.index.isin(out["platinum"])]
    out["silver"] = m.index[spend_pos & _top(m["spend_12m"], 50) & ~m.index.isin(out["platinum"])
                            & ~m.index.isin(out["gold"])]
    out["fallen_platinum"] = m.index[:0]

    rfm = m[m["orders_12m"] > 0]
    n = len(rfm)
    kr = rfm["recency"].rank(method="max", ascending=False)
    kf = rfm["orders_12m"].rank(method="max", ascending=True)
    r = ((5 * kr + n - 1) // n).astype(int)
    f = ((5 * kf + n - 1) // n).astype(int)
    table = {
        5: ["New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"],
        4: ["Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Loyal Customers"],
        3: ["About To Sleep", "About To Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"],
        2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"],
        1: ["Lost", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"],
    }
    names = np.array([table[a][b - 1] for a, b in zip(r, f, strict=True)])
    seg = pd.Series(names, index=rfm.index)
    out["champions"] = seg.index[seg == "Champions"]
    out["loyal"] = seg.index[seg == "Loyal Customers"]
    out["potential_loyalists"] = seg.index[seg == "Potential Loyalists"]
    out["at_risk"] = seg.index[seg == "At Risk"]
    out["cannot_lose_them"] = seg.index[seg == "Cannot Lose Them"]
    out["hibernating"] = seg.index[seg.isin(["Hibernating", "Lost"])]

    horeca = m["business_type"].isin(["restaurant", "cafe", "hotel", "catering"])
    out["horeca_winback"] = m.index[horeca & m["recency"].between(60, 180) & (m["orders_12m"] >= 3)]
    out["new_customers"] = m.index[m["tenure"] < 90]
    out["beverages_lovers"] = m.index[(m["beverages_6m"] >= 6) & ~m.index.isin(out["horeca_winback"])]
    folded = m["city"].fillna("").str.translate(str.maketrans({"I": "i", "İ": "i", "ı": "i"})).str.lower()
    out["istanbul_kiosks"] = m.index[folded.str.contains("istanbul", regex=False)
                                     & (m["business_type"] == "kiosk") & (m["orders_90d"] >= 1)]
    out["big_baskets"] = m.index[(m["orders_12m"] >= 2) & _top(m["basket_avg"], 10)]
    out["merchants_active"] = m.index[(m["recipient_type"] == "TACIR") & (m["orders_90d"] >= 1)]

    holdout = {"potential_loyalists", "at_risk", "cannot_lose_them", "horeca_winback", "new_customers",
               "beverages_lovers", "istanbul_kiosks", "merchants_active"}
    return {
        name: (len(ids), _control(name, list(ids), 10) if name in holdout else 0)
        for name, ids in out.items()
    }
