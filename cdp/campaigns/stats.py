"""Treatment-versus-control statistics for campaign reports (docs/measurement.md).

Methods, chosen because they behave well for the group sizes a holdout gives
(hundreds to hundreds of thousands) and need no simulation:

- a proportion's interval: Wilson score;
- difference of two proportions: Newcombe's hybrid score interval (his method 10), built
  from the two Wilson intervals; p-value from the pooled two-proportion z-test;
- relative uplift of proportions (p_t / p_c - 1): Katz log interval of the risk ratio;
- difference of means (revenue per member): Welch's t interval and test;
- relative uplift of means: Fieller-free delta method on the log ratio, reported only when
  the control mean is positive.
All intervals are two-sided at ``level`` (default 0.95).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from scipy import stats as _st

__all__ = [
    "Interval",
    "ProportionComparison",
    "MeanComparison",
    "wilson",
    "compare_proportions",
    "compare_means",
    "standardized_difference",
]


@dataclass(frozen=True)
class Interval:
    estimate: float | None
    low: float | None
    high: float | None

    def contains(self, value: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= value <= self.high

    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


@dataclass(frozen=True)
class ProportionComparison:
    n_t: int
    x_t: int
    n_c: int
    x_c: int
    rate_t: Interval
    rate_c: Interval
    difference: Interval       # absolute uplift, p_t - p_c
    relative: Interval         # p_t / p_c - 1
    p_value: float | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MeanComparison:
    n_t: int
    n_c: int
    mean_t: float | None
    mean_c: float | None
    difference: Interval       # mean_t - mean_c (Welch)
    relative: Interval         # mean_t / mean_c - 1 (delta method on logs)
    p_value: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def _z(level: float) -> float:
    return float(_st.norm.ppf(0.5 + level / 2))


def wilson(x: int, n: int, level: float = 0.95) -> Interval:
    """Wilson score interval for x successes out of n."""
    if n <= 0:
        return Interval(None, None, None)
    z = _z(level)
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def compare_proportions(x_t: int, n_t: int, x_c: int, n_c: int, level: float = 0.95) -> ProportionComparison:
    """Response rates of treatment and control with Newcombe's interval for the difference."""
    rt, rc = wilson(x_t, n_t, level), wilson(x_c, n_c, level)
    if n_t <= 0 or n_c <= 0:
        empty = Interval(None, None, None)
        return ProportionComparison(n_t, x_t, n_c, x_c, rt, rc, empty, empty, None)
    p1, p2 = x_t / n_t, x_c / n_c
    l1, u1, l2, u2 = rt.low, rt.high, rc.low, rc.high
    assert l1 is not None and u1 is not None and l2 is not None and u2 is not None
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    diff = Interval(d, low, high)

    pooled = (x_t + x_c) / (n_t + n_c)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    p_value = None if se0 == 0 else float(2 * _st.norm.sf(abs(d) / se0))

    if x_t > 0 and x_c > 0:
        log_rr = math.log(p1 / p2)
        se = math.sqrt(1 / x_t - 1 / n_t + 1 / x_c - 1 / n_c)
        z = _z(level)
        rel = Interval(p1 / p2 - 1, math.exp(log_rr - z * se) - 1, math.exp(log_rr + z * se) - 1)
    else:
        rel = Interval(None, None, None)
    return ProportionComparison(n_t, x_t, n_c, x_c, rt, rc, diff, rel, p_value)


def _moments(values: list[float]) -> tuple[int, float, float]:
    n = len(values)
    if n == 0:
        return 0, math.nan, math.nan
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return n, mean, var


def compare_means(treatment: list[float], control: list[float], level: float = 0.95) -> MeanComparison:
    """Revenue per member: Welch's interval and test for the difference of means."""
    n1, m1, v1 = _moments(treatment)
    n2, m2, v2 = _moments(control)
    none = Interval(None, None, None)
    if n1 < 2 or n2 < 2:
        return MeanComparison(n1, n2, m1 if n1 else None, m2 if n2 else None, none, none, None)
    se2 = v1 / n1 + v2 / n2
    d = m1 - m2
    if se2 == 0:
        return MeanComparison(n1, n2, m1, m2, Interval(d, d, d), none, None if d == 0 else 0.0)
    se = math.sqrt(se2)
    df = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1)) if (v1 > 0 or v2 > 0) else n1 + n2 - 2
    t = float(_st.t.ppf(0.5 + level / 2, df))
    p_value = float(2 * _st.t.sf(abs(d) / se, df))
    diff = Interval(d, d - t * se, d + t * se)
    rel = none
    if m1 > 0 and m2 > 0:
        log_ratio = math.log(m1 / m2)
        se_log = math.sqrt(v1 / (n1 * m1 * m1) + v2 / (n2 * m2 * m2))
        z = _z(level)
        rel = Interval(m1 / m2 - 1, math.exp(log_ratio - z * se_log) - 1, math.exp(log_ratio + z * se_log) - 1)
    return MeanComparison(n1, n2, m1, m2, diff, rel, p_value)


def standardized_difference(treatment: list[float], control: list[float]) -> float | None:
    """Cohen-style standardized mean difference; |d| < 0.1 is the usual 'groups are alike'."""
    n1, m1, v1 = _moments(treatment)
    n2, m2, v2 = _moments(control)
    if n1 < 2 or n2 < 2:
        return None
    pooled = math.sqrt((v1 + v2) / 2)
    if pooled == 0:
        return 0.0
    return (m1 - m2) / pooled
