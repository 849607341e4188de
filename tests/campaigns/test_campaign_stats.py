"""Interval methods against published values and independent implementations.

Reference numbers: Newcombe (1998), Statistics in Medicine 17:873-890, example (a) 56/70 vs 48/80,
method 10 interval (0.0524, 0.3339); statsmodels 0.15 `proportion_confint(method="wilson")`,
`confint_proportions_2indep(method="log", compare="ratio")`; scipy `ttest_ind(equal_var=False)`.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cdp.campaigns.stats import compare_means, compare_proportions, standardized_difference, wilson


def test_wilson_matches_statsmodels() -> None:
    iv = wilson(56, 70)
    assert iv.low == pytest.approx(0.6918335550374695, abs=1e-12)
    assert iv.high == pytest.approx(0.8769526075163705, abs=1e-12)


def test_newcombe_difference_matches_the_paper() -> None:
    cmp = compare_proportions(56, 70, 48, 80)
    assert cmp.difference.estimate == pytest.approx(0.2)
    assert cmp.difference.low == pytest.approx(0.0524, abs=5e-5)
    assert cmp.difference.high == pytest.approx(0.3339, abs=5e-5)


def test_relative_uplift_is_the_log_risk_ratio_interval() -> None:
    rel = compare_proportions(56, 70, 48, 80).relative
    assert rel.low == pytest.approx(1.0766264227631928 - 1, abs=1e-12)
    assert rel.high == pytest.approx(1.6512485112663873 - 1, abs=1e-12)


def test_welch_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = list(rng.gamma(2, 50, 300)), list(rng.gamma(2, 40, 250))
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval()
    got = compare_means(a, b)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert got.difference.low == pytest.approx(ci.low, rel=1e-9)
    assert got.difference.high == pytest.approx(ci.high, rel=1e-9)


def test_no_uplift_gives_an_interval_around_zero() -> None:
    cmp = compare_proportions(100, 1000, 100, 1000)
    assert cmp.difference.contains(0.0) and not cmp.difference.excludes_zero()
    assert cmp.p_value == pytest.approx(1.0)


def test_degenerate_groups_do_not_crash() -> None:
    assert compare_proportions(0, 0, 5, 10).p_value is None
    assert compare_means([1.0], [2.0, 3.0]).difference.low is None
    assert compare_means([5.0, 5.0], [5.0, 5.0]).difference.estimate == 0
    assert standardized_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 0.0
