"""The CDNOW sample reproduces the published summary and parameter estimates.

Data: ``../shared/data`` beside the repository (not part of a checkout).
Published values: Fader, Hardie & Lee (2005), Marketing Science 24(2)
(BG/NBD: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4) and
Fader & Hardie, "The Gamma-Gamma Model of Monetary Value" (946 repeat buyers:
p = 6.25, q = 3.74, gamma = 15.44).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy")

from crmcore_plugins.clv import (
    RfmSummary,
    fit_bgnbd,
    fit_gamma_gamma,
    read_cdnow,
)

DATA = Path(__file__).parents[2].parent / "shared" / "data"


def _require(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"CDNOW data {path} is absent (it lives in ../shared/data, not in the repo)")
    return path


@pytest.fixture(scope="module")
def summary() -> RfmSummary:
    return read_cdnow(_require("CDNOW_sample.txt")).summary(unit_days=7.0)


def test_log_has_the_documented_size() -> None:
    log = read_cdnow(_require("CDNOW_sample.txt"))
    assert len(log) == 6919
    assert len(np.unique(log.customer_ids)) == 2357


def test_summary_equals_the_published_csv(summary: RfmSummary) -> None:
    with open(_require("cdnow_customers_summary.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert summary.customer_ids.tolist() == [int(r["ID"]) for r in rows]
    assert summary.frequency.tolist() == [int(r["frequency"]) for r in rows]
    assert np.round(summary.recency, 2).tolist() == [float(r["recency"]) for r in rows]
    assert np.round(summary.T, 2).tolist() == [float(r["T"]) for r in rows]


def test_bgnbd_fit_reproduces_published_parameters(summary: RfmSummary) -> None:
    fit = fit_bgnbd(summary.frequency, summary.recency, summary.T)
    assert fit.converged
    assert fit.n_customers == 2357
    published = (0.243, 4.414, 0.793, 2.426)
    assert tuple(round(v, 3) for v in (fit.r, fit.alpha, fit.a, fit.b)) == published
    assert round(fit.log_likelihood, 1) == -9582.4


def test_gamma_gamma_fit_reproduces_published_parameters(summary: RfmSummary) -> None:
    fit = fit_gamma_gamma(summary.frequency, summary.monetary_value)
    assert fit.converged
    assert (fit.n_customers, fit.n_zero_spend_excluded) == (946, 0)
    assert (round(fit.p, 2), round(fit.q, 2), round(fit.gamma, 2)) == (6.25, 3.74, 15.44)
