"""Decision consistency (Livingston–Lewis) and Mantel–Haenszel DIF against hand computations and simulations."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, comb
from scipy.stats import beta as beta_dist
from scipy.stats import betabinom, binom
from statsmodels.stats.contingency_tables import StratifiedTable

from course.analytics.dif import ets_class, mantel_haenszel
from course.certification.config import load_certification
from course.certification.consistency import decision_table, effective_length, livingston_lewis, true_score_beta
from course.loader import Course, load_course

CERT = Path(__file__).parent / "fixtures" / "cert"


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
    # accuracy: P(pass | τ) where τ ≥ 0.6, P(fail | τ) below, over Beta(17.4, 11.6); a midpoint grid of
    # 200,000 points gives 0.8538681 (a Monte Carlo of 10⁶ learners 0.8540)
    t = (np.arange(200_000) + 0.5) / 200_000
    p_pass = binom.sf(k - 1, n, t)
    grid = float((np.where(t >= 0.6, p_pass, 1 - p_pass) * beta_dist.pdf(t, a, b)).mean())
    assert c.accuracy == pytest.approx(grid, abs=1e-6) and c.accuracy == pytest.approx(0.853868, abs=1e-6)


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


def dif_scores(course: Course, shift: float, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """600 learners × ch01's auto-graded items by a Rasch model; region 华南 (the first 200) finds ch01-001
    ``shift`` logits harder; departments are assigned at random. Returns the scores frame and the roster."""
    rng = np.random.default_rng(seed)
    items = [q for q in course.questions_of("ch01") if q.type in ("single", "truefalse")]
    learners = [f"s{i:03d}" for i in range(600)]
    region = ["华南"] * 200 + ["华东"] * 200 + ["华北"] * 200
    department = list(rng.choice(["政企客户部", "行业拓展部"], size=600))
    theta = rng.normal(0, 1, 600)
    rows = []
    for q in items:
        b = rng.normal(0, 0.7) + np.where((np.array(region) == "华南") & (q.id == "ch01-001"), shift, 0.0)
        right = rng.random(600) < 1 / (1 + np.exp(-(theta - b)))
        rows += [{"learner": x, "chapter": "ch01", "question": q.id, "type": q.type, "points": float(q.points),
                  "score": float(q.points) * r} for x, r in zip(learners, right, strict=True)]
    roster = pd.DataFrame({"region": region, "department": department}, index=pd.Index(learners, name="learner_id"))
    return pd.DataFrame(rows), roster


def test_an_item_planted_harder_for_one_region_is_class_c_and_listed_with_its_stem() -> None:
    """ch01-001 1.5 logits harder for 华南 (200 of 600): class C, Δ_MH below −1.5 for 华南, listed by render_dif
    with its stem as harder for that group; a department split with no DIF planted flags no item C."""
    from types import SimpleNamespace

    from course.analytics.dif import dif_items
    from course.analytics.review import render_dif, stem_start

    course = load_course(CERT)
    scores, roster = dif_scores(course, 1.5)
    table = dif_items(scores.assign(region=scores["learner"].map(roster["region"])), "region")
    row = table[(table["question"] == "ch01-001") & (table["group"] == "华南")].iloc[0]
    assert row["ets"] == "C" and row["delta"] < -1.5 and (row["n_focal"], row["n_reference"]) == (200, 400)
    departments = dif_items(scores.assign(department=scores["learner"].map(roster["department"])), "department")
    assert "C" not in set(departments["ets"])
    text = render_dif(SimpleNamespace(scores=scores, course=course), roster)  # type: ignore[arg-type]
    line = next(x for x in text.splitlines() if "ch01-001" in x and "地区=华南" in x)
    assert line.startswith("  C 级  ch01-001  单选题  地区=华南（200 人，对照 400 人）  Δ_MH -")
    assert line.endswith(f"，对该组偏难  {stem_start(course.by_id['ch01-001'].stem)}")


def test_with_two_groups_each_item_is_analysed_once_with_the_smaller_group_as_focal() -> None:
    """Two departments of 250 and 350: one row per item, the 250 as the focal group (not also the 350 against
    the 250, which is the same table turned round)."""
    from course.analytics.dif import dif_items

    course = load_course(CERT)
    scores, _ = dif_scores(course, 0.0)
    group = {f"s{i:03d}": ("行业拓展部" if i < 250 else "政企客户部") for i in range(600)}
    table = dif_items(scores.assign(department=scores["learner"].map(group)), "department")
    assert set(table["group"]) == {"行业拓展部"} and table["question"].is_unique
    assert set(table["n_focal"]) == {250} and set(table["n_reference"]) == {350}


def sat_papers(course: Course, learners: int, seed: int = 0) -> tuple[list[dict], pd.DataFrame]:
    """A first sitting (paper P1) of ``learners`` drawn variants at L4 and a re-sit (P2, sitting 2) for the first
    ten, graded by a Rasch model (an item's points or nothing)."""
    from course.certification import papers
    from course.certification.blueprint import blueprint

    cert = load_certification(course)
    plan = blueprint(course, cert, "L4")
    rng = np.random.default_rng(seed)
    theta = {f"s{i:02d}": float(rng.normal(0.5, 1)) for i in range(learners)}
    manifests, rows = [], []
    for paper, sitting, who in (("P1", 1, list(theta)), ("P2", 2, list(theta)[:10])):
        variants = {}
        for x in who:
            v = papers.draw(course, cert, plan, paper, "7", x)
            variants[x] = {"assignment": v.assignment, "theory": list(v.theory)}
            for q in v.theory:
                right = rng.random() < 1 / (1 + np.exp(-(theta[x] - rng.normal(0, 1))))
                rows.append({"learner": x, "chapter": v.assignment, "question": q,
                             "score": float(course.by_id[q].points) * right})
        manifests.append({"paper": paper, "level": "L4", "sitting": sitting, "theory_max": plan.theory_points,
                          "variants": variants})
    return manifests, pd.DataFrame(rows)


def test_decision_consistency_from_the_gradebook_uses_alpha_of_the_area_scores() -> None:
    """60 learners sit P1, ten of them re-sit P2. Per paper: α is Cronbach's α of the learners' area sums
    (computed here from a pivot of the grades) and the agreement is Livingston–Lewis with that α on the theory
    scores on 100. Per level each learner counts once, with the latest sitting: 60, not 70."""
    course = load_course(CERT)
    manifests, grades = sat_papers(course, 60)
    cert = load_certification(course)
    table = decision_table(course, cert, manifests, grades).set_index(["kind", "key"])
    area = grades["question"].map(lambda q: course.area_of(course.by_id[q]))
    for paper, data in (("P1", manifests[0]), ("P2", manifests[1])):
        mine = grades[grades["chapter"].str.startswith(paper + "-")]
        parts = mine.pivot_table(index="learner", columns=area[mine.index], values="score", aggfunc="sum")
        k = parts.shape[1]
        alpha = k / (k - 1) * (1 - parts.var(ddof=1).sum() / parts.sum(axis=1).var(ddof=1))
        row = table.loc[("paper", paper)]
        assert row["n"] == len(data["variants"]) and row["reliability"] == pytest.approx(alpha, abs=1e-12)
        theory = parts.sum(axis=1) / 20 * 100
        c = livingston_lewis(theory.to_numpy(), alpha, cert.pass_marks.theory, 0, 100)
        assert math.isfinite(c.agreement) or paper == "P2"  # ten learners may not carry it
        assert row["agreement"] == pytest.approx(c.agreement, abs=1e-12, nan_ok=True)
    level = table.loc[("level", "L4")]
    assert level["n"] == 60
    resat = set(manifests[1]["variants"])
    latest = grades[grades["chapter"].map(lambda ch: ch.startswith("P2-") or ch.split("-", 1)[1] not in resat)]
    assert level["mean"] == pytest.approx(latest.groupby("learner")["score"].sum().mean() / 20 * 100, abs=1e-9)
