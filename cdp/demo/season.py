"""Seasonality of a Turkish cash & carry: which days customers come and how much they buy.

Three profiles of daily weight (visit likelihood) and basket multiplier:

- ``general`` (grocery, market, office, kiosk): stocking up in the two weeks before Ramadan and
  during it, before Kurban Bayramı, a little before New Year; quiet on Sundays and on the
  bayram days themselves;
- ``horeca`` (restaurants, cafés, hotels, caterers in other cities): iftar menus in Ramadan,
  a Monday restock, New Year's Eve, a quieter August;
- ``horeca_tourist`` (the same in Antalya, Muğla, Aydın, İzmir, Çanakkale, Nevşehir): the
  summer season (June–September) doubles purchases, winter halves them.

Baskets also grow with inflation (about 30% a year in nominal lira), so the last twelve
months are worth more than the twelve before. Religious holiday dates come from the
``holidays`` package, so any end date works.

The generator draws a day by inverse CDF: :func:`inverse_table` maps 2**12 equal-probability
buckets of each profile to a day (about 5 buckets a day), a constant list that SQL indexes, so
drawing a day for 50M events needs no join and keeps the rows in order.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

__all__ = ["BUCKETS", "PROFILES", "cdf_table", "day_weights", "inverse_table"]

PROFILES = ("general", "horeca", "horeca_tourist")
BUCKETS = 1 << 12
INFLATION = 0.30


def _bayrams(first: date, last: date) -> tuple[list[date], list[date]]:
    """First days of Ramazan Bayramı and Kurban Bayramı around [first, last]."""
    import holidays

    tr = holidays.country_holidays("TR", years=range(first.year - 1, last.year + 2), language="en_US")
    fitr: list[date] = []
    adha: list[date] = []
    for day, name in sorted(tr.items()):
        for bucket, key in ((fitr, "Eid al-Fitr"), (adha, "Eid al-Adha")):
            if key in name and (not bucket or (day - bucket[-1]).days > 5):
                bucket.append(day)
    return fitr, adha


def day_weights(start: date, days: int) -> tuple[np.ndarray, np.ndarray]:
    """(weights, basket multipliers), each shaped (len(PROFILES), days)."""
    end = start + timedelta(days=days - 1)
    fitr, adha = _bayrams(start, end)
    dates = [start + timedelta(days=i) for i in range(days)]
    ordinal = np.array([d.toordinal() for d in dates])
    weekday = np.array([d.weekday() for d in dates])   # Monday = 0
    month = np.array([d.month for d in dates])
    dom = np.array([d.day for d in dates])

    def within(firsts: list[date], before: int, after: int) -> np.ndarray:
        mask = np.zeros(days, dtype=bool)
        for f in firsts:
            lo, hi = f.toordinal() - before, f.toordinal() + after
            mask |= (ordinal >= lo) & (ordinal < hi)
        return mask

    ramadan = within(fitr, 30, 0)
    pre_ramadan = within([f - timedelta(days=30) for f in fitr], 14, 0)
    fitr_days = within(fitr, 0, 3)
    pre_adha = within(adha, 8, 0)
    adha_days = within(adha, 0, 4)
    new_year = (month == 12) & (dom >= 20)

    w = np.ones((3, days))
    m = np.ones((3, days))
    # general trade
    w[0] *= np.where(weekday == 6, 0.55, np.where(weekday == 5, 1.1, 1.0))
    w[0] *= np.where(pre_ramadan, 1.6, 1.0) * np.where(ramadan, 1.3, 1.0) * np.where(pre_adha, 1.35, 1.0)
    w[0] *= np.where(new_year, 1.1, 1.0)
    m[0] *= np.where(pre_ramadan | ramadan, 1.25, 1.0) * np.where(pre_adha, 1.15, 1.0)
    # HORECA, city
    w[1] *= np.where(weekday == 0, 1.25, np.where(weekday == 6, 0.6, 1.0))
    w[1] *= np.where(ramadan, 1.25, 1.0) * np.where(month == 8, 0.85, 1.0) * np.where(new_year, 1.25, 1.0)
    m[1] *= np.where(ramadan, 1.2, 1.0) * np.where(new_year, 1.15, 1.0)
    # HORECA, tourist coast
    season = np.select(
        [np.isin(month, [6, 7, 8, 9]), np.isin(month, [5, 10]), np.isin(month, [11, 12, 1, 2, 3])],
        [2.2, 1.4, 0.55],
        1.0,
    )
    w[2] *= season * np.where(weekday == 0, 1.2, np.where(weekday == 6, 0.7, 1.0))
    m[2] *= np.where(np.isin(month, [6, 7, 8, 9]), 1.2, 1.0)
    # bayram days: most shops close
    w *= np.where(fitr_days | adha_days, 0.35, 1.0)
    # inflation: nominal baskets grow over time, 1.0 on the last day
    years_before_end = (ordinal[-1] - ordinal) / 365.25
    m *= (1.0 + INFLATION) ** (-years_before_end)
    return w, m


def cdf_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per profile and day, the cumulative probability before and after that day."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1:]
    after = cum / total
    before = np.concatenate([np.zeros((weights.shape[0], 1)), after[:, :-1]], axis=1)
    return before, after


def inverse_table(weights: np.ndarray) -> np.ndarray:
    """For each profile, the day index of each of the BUCKETS equal-probability buckets."""
    _before, after = cdf_table(weights)
    q = (np.arange(BUCKETS) + 0.5) / BUCKETS
    out = np.empty((weights.shape[0], BUCKETS), dtype=np.int32)
    for i in range(weights.shape[0]):
        out[i] = np.minimum(np.searchsorted(after[i], q, side="left"), weights.shape[1] - 1)
    return out
