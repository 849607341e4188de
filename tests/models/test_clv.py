"""BG/NBD and Gamma-Gamma reproduce the published CDNOW estimates (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from cdp.errors import ModelError
from cdp.models.clv import fit_bgnbd, fit_gamma_gamma, rfm_summary

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def summary() -> np.ndarray:
    return np.genfromtxt(DATA / "cdnow_customers_summary.csv", delimiter=",", names=True)


@pytest.fixture(scope="module")
def with_spend() -> np.ndarray:
    return np.genfromtxt(DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True)


def test_bgnbd_reproduces_published_parameters(summary):
    assert len(summary) == 2357
    model, _ = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for key, value in published.items():
        assert model.to_dict()[key] == pytest.approx(value, rel=0.01), key


def test_gamma_gamma_reproduces_published_parameters(with_spend):
    repeat = with_spend["x"] > 0
    assert repeat.sum() == 946
    model, _ = fit_gamma_gamma(with_spend["x"], with_spend["zbar"])
    for key, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert model.to_dict()[key] == pytest.approx(value, rel=0.01), key


def test_conditional_expectation_of_the_paper(summary):
    model, _ = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    # FHL (2005) §5: x=2, t_x=30.43, T=38.86 expects 1.226 purchases in the next 39 weeks
    got = model.expected_purchases(39.0, np.array([2.0]), np.array([30.43]), np.array([38.86]))[0]
    assert got == pytest.approx(1.226, abs=0.002)
    alive = model.probability_alive(np.array([0.0, 2.0]), np.array([0.0, 30.43]), np.array([38.86, 38.86]))
    assert alive[0] == 1.0 and 0 < alive[1] < 1


def test_summary_from_transactions_matches_the_published_summary(summary, with_spend):
    rows = np.genfromtxt(DATA / "CDNOW_sample.txt", dtype=None, encoding=None)
    origin = date(1997, 1, 1)
    days = np.array([(date(v // 10000, v // 100 % 100, v % 100) - origin).days for v in rows["f2"]], dtype=float)
    # the published T counts to 1997-09-30 and that day's purchases are in the calibration period
    end = (date(1997, 9, 30) - origin).days + 1e-9
    s = rfm_summary(rows["f1"], days, rows["f4"], end, unit_days=7.0)
    assert len(s["x"]) == 2357
    assert np.array_equal(s["x"], summary["frequency"])
    assert np.max(np.abs(s["t_x"] - summary["recency"])) < 0.006  # the csv rounds to 2 decimals
    assert np.max(np.abs(s["T"] - summary["T"])) < 0.006
    repeat = s["x"] > 0
    assert np.max(np.abs(s["m"][repeat] - with_spend["zbar"][repeat])) < 0.006


def test_inconsistent_summary_is_refused():
    with pytest.raises(ModelError):
        fit_bgnbd(np.array([1.0]), np.array([5.0]), np.array([3.0]))
    with pytest.raises(ModelError):
        fit_gamma_gamma(np.array([0.0, 1.0]), np.array([np.nan, 3.0]))
