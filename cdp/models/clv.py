"""Customer lifetime value: BG/NBD for purchase counts and Gamma-Gamma for spend.

Both are fitted by maximum likelihood with scipy (Fader, Hardie & Lee 2005, "Counting
your customers the easy way" and "RFM and CLV"). Inputs per customer, in one time unit
(weeks here, as in the papers): ``x`` repeat purchases, ``t_x`` time of the last purchase
since the first, ``T`` age since the first purchase, ``m`` mean value of the repeat
purchases. Everything is plain floats, so fitted parameters go to JSON as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from cdp.errors import ModelError

__all__ = [
    "BGNBD",
    "GammaGamma",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "rfm_summary",
]


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD parameters (r, alpha: purchase rate; a, b: dropout)."""

    r: float
    alpha: float
    a: float
    b: float

    def to_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def _tail(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """δ(x>0)·a/(b+x-1)·((α+T)/(α+t_x))^(r+x), computed in logs to avoid overflow."""
        x = np.asarray(x, dtype=float)
        out = np.zeros_like(x)
        pos = x > 0
        if np.any(pos):
            xp = x[pos]
            log_term = (
                np.log(self.a)
                - np.log(self.b + xp - 1)
                + (self.r + xp) * (np.log(self.alpha + np.asarray(T, float)[pos]) - np.log(self.alpha + np.asarray(t_x, float)[pos]))
            )
            out[pos] = np.exp(np.minimum(log_term, 700.0))
        return out

    def probability_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(still active | history), eq. (13) of the BG/NBD note."""
        return 1.0 / (1.0 + self._tail(x, t_x, T))

    def expected_purchases(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[purchases in the next ``t`` time units | history], eq. (10) of the BG/NBD paper."""
        x = np.asarray(x, dtype=float)
        T = np.asarray(T, dtype=float)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1)
        second = 1.0 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp
        return first * second / (1.0 + self._tail(x, t_x, T))


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend parameters (p, q, gamma)."""

    p: float
    q: float
    gamma: float

    def to_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    def expected_spend(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """E[value of a purchase | x repeat purchases of mean m]; the population mean when x = 0."""
        x = np.asarray(x, dtype=float)
        m = np.nan_to_num(np.asarray(m, dtype=float))
        p, q, g = self.p, self.q, self.gamma
        return (p * (g + x * m)) / (p * x + q - 1)


def _bgnbd_negll(log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray) -> float:
    r, alpha, a, b = np.exp(log_params)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a1 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a2 = np.where(
            x > 0,
            special.betaln(a + 1, b + np.maximum(x, 1) - 1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    ll = common + np.logaddexp(a1, a2)
    value = -float(np.sum(w * ll))
    return value if np.isfinite(value) else 1e300


def fit_bgnbd(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, weights: np.ndarray | None = None
) -> tuple[BGNBD, dict[str, float]]:
    """Maximum-likelihood BG/NBD fit; returns the parameters and fit statistics."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    _check_rfm(x, t_x, T)
    scale = 1.0 / max(float(np.max(T)), 1e-9) * 10.0  # keep alpha near 1 while optimizing
    xs, txs, Ts = x, t_x * scale, T * scale
    start = np.log([1.0, 1.0, 1.0, 1.0])
    res = optimize.minimize(_bgnbd_negll, start, args=(xs, txs, Ts, w), method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20000, "maxfev": 40000})
    res = optimize.minimize(_bgnbd_negll, res.x, args=(xs, txs, Ts, w), method="BFGS", options={"gtol": 1e-8})
    r, alpha, a, b = np.exp(res.x)
    if not np.all(np.isfinite([r, alpha, a, b])):
        raise ModelError("BG/NBD fit did not converge", hint="check that customers have repeat purchases")
    model = BGNBD(float(r), float(alpha / scale), float(a), float(b))
    return model, {"log_likelihood": -float(res.fun), "customers": int(np.sum(w))}


def _gg_negll(log_params: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    p, q, g = np.exp(log_params)
    ll = (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(g)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(g + m * x)
    )
    value = -float(np.sum(ll))
    return value if np.isfinite(value) else 1e300


def fit_gamma_gamma(x: np.ndarray, m: np.ndarray) -> tuple[GammaGamma, dict[str, float]]:
    """Maximum-likelihood Gamma-Gamma fit on customers with x > 0 repeat purchases of mean m > 0."""
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    if keep.sum() < 3:
        raise ModelError("Gamma-Gamma needs at least 3 customers with repeat purchases")
    x, m = x[keep], m[keep]
    start = np.log([1.0, 1.0, float(np.mean(m))])
    res = optimize.minimize(_gg_negll, start, args=(x, m), method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20000, "maxfev": 40000})
    res = optimize.minimize(_gg_negll, res.x, args=(x, m), method="BFGS", options={"gtol": 1e-8})
    p, q, g = np.exp(res.x)
    if q <= 1:
        raise ModelError("Gamma-Gamma fit gave q <= 1: expected spend is undefined",
                         hint="the spend data is too heavy-tailed; check amounts for outliers")
    return GammaGamma(float(p), float(q), float(g)), {"log_likelihood": -float(res.fun), "repeat_buyers": int(keep.sum())}


def _check_rfm(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
    if len(x) == 0:
        raise ModelError("no customers to fit")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T + 1e-9) or np.any((x == 0) & (t_x > 0)):
        raise ModelError("inconsistent purchase summary (need 0 <= t_x <= T, t_x = 0 when x = 0)")


def rfm_summary(
    customer_idx: np.ndarray, day: np.ndarray, value: np.ndarray, end_day: float, *, unit_days: float = 7.0
) -> dict[str, np.ndarray]:
    """Per-customer (x, t_x, T, m) from transactions, purchases on one day counting once.

    ``customer_idx`` are integer customer numbers, ``day`` whole days (any origin),
    ``end_day`` the end of the observation period on the same scale (exclusive).
    ``m`` is the mean value of the repeat purchase days (NaN when x = 0).
    """
    cust = np.asarray(customer_idx)
    day = np.asarray(day, dtype=float)
    value = np.asarray(value, dtype=float)
    keep = day < end_day
    cust, day, value = cust[keep], day[keep], value[keep]
    order = np.lexsort((day, cust))
    cust, day, value = cust[order], day[order], value[order]
    # one purchase per customer-day, summing its value
    new_group = np.ones(len(cust), dtype=bool)
    new_group[1:] = (cust[1:] != cust[:-1]) | (day[1:] != day[:-1])
    gid = np.cumsum(new_group) - 1
    g_cust = cust[new_group]
    g_day = day[new_group]
    g_val = np.bincount(gid, weights=value)
    ids, first_pos, counts = np.unique(g_cust, return_index=True, return_counts=True)
    first = g_day[first_pos]
    last = g_day[first_pos + counts - 1]
    total = np.add.reduceat(g_val, first_pos)
    first_val = g_val[first_pos]
    x = counts - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x > 0, (total - first_val) / np.maximum(x, 1), np.nan)
    return {
        "customer": ids,
        "x": x.astype(float),
        "t_x": (last - first) / unit_days,
        "T": (end_day - first) / unit_days,
        "m": m,
    }
