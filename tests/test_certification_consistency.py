"""Decision consistency (Livingston–Lewis) and Mantel–Haenszel DIF against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import betaln, comb
from scipy.stats import betabinom
from statsmodels.stats.contingency_tables import StratifiedTable

from course.analytics.dif import ets_class, mantel_haenszel
from course.certification.consistency import effective_length, livingston_lewis, true_score_beta


def test_effective_length_and_true_score_beta_by_hand() -> None:
    """μ 60, σ² 100, r 0.8 on 0–100: n = (60·40 − 0.8·100) / (100·0.2) = 116; τ ~ Beta(17.4, 11.6)."""
    assert effective_length(60, 100, 0.8, 0, 100) == 116
    a, b = true_score_beta(60, 100, 0.8, 0, 100)  # mean 0.6, variance 0.008: 0.24/0.008 − 1 = 29
    assert (a, b) == pytest.approx((17.4, 11.6))


def test_livingston_lewis_agrees_with_the_closed_form_of_two_beta_binomial_forms() -> None:
    """Is P(same decision) the double sum Σ C(n,i)C(n,j)B(a+i+j, b+2n−i−j)/B(a,b) over agreeing (i, j)?

    Scores 50 and 70: mean 60, variance 100 (population), so n = 116, a = 17.4, b = 11.6, and a
    pass (60 of 100) is at least ceil(116 × 0.6) = 70 on the effective scale.
    """
    c = livingston_lewis([50, 70], 0.8, 60, 0, 100)
    n, a, b, k = 116, 17.4, 11.6, 70
    i = np.arange(n + 1)
    log_c = np.log(comb(n, i))
    joint = np.exp(log_c[:, None] + log_c[None, :] + betaln(a + i[:, None] + i[None, :],
                                                            b + 2 * n - i[:, None] - i[None, :]) - betaln(a, b))
    agree = joint[k:, k:].sum() + joint[:k, :k].sum()
    assert joint.sum() == pytest.approx(1.0, abs=1e-9)
    assert c.effective_length == n
    assert c.agreement == pytest.approx(agree, abs=1e-6)
    rate = betabinom.sf(k - 1, n, a, b)
    assert c.pass_rate == pytest.approx(rate, abs=1e-6)
    chance = rate ** 2 + (1 - rate) ** 2
    assert c.kappa == pytest.approx((agree - chance) / (1 - chance), abs=1e-5)
    assert c.sem == pytest.approx(10 * math.sqrt(0.2))  # σ√(1 − r) = 4.472
    assert c.sem_at_cut == pytest.approx(100 * math.sqrt(0.6 * 0.4 / 116))  # 4.549
    assert 0.5 < c.accuracy < 1 and c.accuracy > c.agreement


def test_livingston_lewis_says_nan_when_the_data_cannot_carry_it() -> None:
    c = livingston_lewis([60.0], 0.8, 60, 0, 100)
    assert c.n == 1 and math.isnan(c.agreement) and c.effective_length == 0
    assert math.isnan(livingston_lewis([50, 70], math.nan, 60, 0, 100).agreement)


TABLES = np.array([[[10, 10], [5, 15]],   # stratum 1: reference 10 right 10 wrong, focal 5 right 15 wrong
                   [[15, 5], [10, 10]]])  # stratum 2


def test_mantel_haenszel_of_a_2x2x2_table_by_hand() -> None:
    """α = Σ AD/T ÷ Σ BC/T = (3.75 + 3.75) / (1.25 + 1.25) = 3; Δ = −2.35 ln 3 = −2.5817.

    χ² = (|25 − 20| − ½)² / (2 × 20·20·15·25 / (40²·39)) = 20.25 / 4.8077 = 4.2120;
    Var(ln α) (RBG) = 4.6875/112.5 + 4.375/37.5 + 0.9375/12.5 = 0.23333, SE(Δ) = 2.35 × 0.48305 = 1.1352.
    """
    mh = mantel_haenszel(TABLES)
    assert mh.alpha == pytest.approx(3.0)
    assert mh.delta == pytest.approx(-2.35 * math.log(3))
    assert mh.chi2 == pytest.approx(20.25 / (2 * 20 * 20 * 15 * 25 / (40 ** 2 * 39)))
    assert mh.se_delta == pytest.approx(2.35 * math.sqrt(0.7 / 3))
    # |Δ| ≥ 1.5 and χ² significant (p 0.040), but (|Δ| − 1)/SE = 1.393 < 1.645: not C, so B
    assert (round(mh.p, 4), mh.ets) == (0.0401, "B")
    # the same numbers from statsmodels' StratifiedTable (tables as 2×2×K)
    st = StratifiedTable(np.moveaxis(TABLES, 0, -1).astype(float))
    assert st.oddsratio_pooled == pytest.approx(mh.alpha)
    assert st.test_null_odds(correction=True).statistic == pytest.approx(mh.chi2)
    assert st.logodds_pooled_se * 2.35 == pytest.approx(mh.se_delta)


@pytest.mark.parametrize(("delta", "se", "p", "ets"), [
    (-0.9, 0.2, 0.001, "A"),   # |Δ| < 1
    (-1.2, 0.2, 0.20, "A"),    # not significant
    (-1.2, 0.2, 0.001, "B"),   # 1 ≤ |Δ| < 1.5
    (-1.6, 0.5, 0.001, "B"),   # |Δ| ≥ 1.5 but (1.6 − 1)/0.5 = 1.2 < 1.645
    (1.6, 0.3, 0.001, "C"),    # (1.6 − 1)/0.3 = 2 > 1.645, either direction
    (math.nan, 0.3, 0.001, ""),
])
def test_ets_classes(delta: float, se: float, p: float, ets: str) -> None:
    assert ets_class(delta, se, p) == ets


def test_a_stratum_of_one_learner_is_left_out_and_a_table_without_discordance_is_nan() -> None:
    with_single = np.concatenate([TABLES, [[[1, 0], [0, 0]]]])
    assert mantel_haenszel(with_single) == mantel_haenszel(TABLES)
    assert mantel_haenszel(np.array([[[5, 0], [5, 0]]])).ets == ""
