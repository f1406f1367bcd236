"""Are the Moodle-style item and test statistics right by hand, and do they agree with pingouin and scipy?"""

from __future__ import annotations

import math
import warnings
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy import stats

from course import model as m
from course.analytics import frames, items, weighting
from course.analytics.items import (
    ITEM_STATISTICS_COLUMNS,
    QUIZ_STATISTICS_FIELDS,
    MoodleThresholds,
    Thresholds,
    alpha_if_deleted,
    corrected_item_total,
    cronbach_alpha,
    discriminative_efficiency,
    effective_weight,
    facility,
    group_size,
    group_weights,
    intended_weight,
    item_points,
    item_statistics,
    item_table,
    mark_matrix,
    moodle_flags,
    quiz_statistics,
    quiz_table,
    random_guess_score,
    random_guess_scores,
    score_matrix,
    upper_lower_index,
)
from course.loader import load_course
from tests.conftest import MINI

POINTS = {"qA": 1.0, "qB": 3.0, "qC": 2.0}


def scores_from_marks(marks: pd.DataFrame, points: dict[str, float], chapter: str = "ch") -> pd.DataFrame:
    """A tidy scores frame holding the raw ``marks`` of single-choice items worth ``points``."""
    long = marks.rename_axis(index="learner", columns="question").stack().rename("score").reset_index()
    return long.assign(chapter=chapter, type="single", points=long["question"].map(points))


@pytest.fixture
def unequal() -> pd.DataFrame:
    # Raw marks of 4 learners on items worth 1, 3 and 2 points. Totals w 6, x 3, y 3, z 0.
    data = {"qA": [1, 0, 1, 0], "qB": [3, 3, 0, 0], "qC": [2, 0, 2, 0]}
    return pd.DataFrame(data, index=pd.Index(list("wxyz"), name="learner"), dtype=float)


# ---------------------------------------------------------------- unequal maximum points, by hand
def test_alpha_on_marks_differs_from_the_equal_weight_alpha(unequal: pd.DataFrame) -> None:
    """Is α on raw marks 1/3 where the equal-weight (score ÷ points) α is 0.6?"""
    # Marks: item variances (ddof=1) qA 1/3, qB 9/3 = 3, qC 4/3 → Σ 14/3; totals 6, 3, 3, 0 → var 18/3 = 6.
    # α = 3/2 · (1 − (14/3)/6) = 3/2 · 2/9 = 1/3.
    # Proportions: every item 1,0,1,0-like with var 1/3 → Σ 1; totals 3, 1, 2, 0 → var 5/3.
    # α = 3/2 · (1 − 3/5) = 0.6.
    scores = scores_from_marks(unequal, POINTS)
    assert cronbach_alpha(mark_matrix(scores, "ch")) == pytest.approx(1 / 3, abs=1e-15)
    assert cronbach_alpha(score_matrix(scores, "ch")) == pytest.approx(0.6, abs=1e-15)


def test_discrimination_on_marks_by_hand(unequal: pd.DataFrame) -> None:
    """Is qA's corrected item-total r 2/√13 on marks (1/√2 on proportions), and qB's exactly 0?"""
    # qA = 1,0,1,0; rest on marks = 5, 3, 2, 0 (mean 2.5): Σdxdy = .5(2.5 + .5 + .5 + 2.5)... signed:
    # (.5)(2.5) + (−.5)(.5) + (.5)(−.5) + (−.5)(−2.5) = 2; SSx = 1; SSy = 13 → r = 2/√13.
    # On proportions rest = 2, 1, 1, 0 → Σdxdy = 1, SSy = 2 → r = 1/√2.
    # qB = 3,3,0,0; rest = 3, 0, 3, 0 → the deviations cancel: r = 0.
    scores = scores_from_marks(unequal, POINTS)
    marks = corrected_item_total(mark_matrix(scores, "ch"))
    assert marks["qA"] == pytest.approx(2 / math.sqrt(13), abs=1e-15)
    assert marks["qB"] == pytest.approx(0.0, abs=1e-15)
    assert corrected_item_total(score_matrix(scores, "ch"))["qA"] == pytest.approx(1 / math.sqrt(2), abs=1e-15)


def test_discriminative_efficiency_by_hand(unequal: pd.DataFrame) -> None:
    """Is DE cov(item, rest) ÷ cov(sorted item, sorted rest): 2/3 for qA, 0 for qB?"""
    # qA: Σ(dx·dy) = 2 (above). Sorted x 0,0,1,1 and sorted rest 0,2,3,5 (mean 2.5):
    # (−.5)(−2.5) + (−.5)(−.5) + (.5)(.5) + (.5)(2.5) = 3 → DE = 2/3.
    de = discriminative_efficiency(unequal)
    assert de["qA"] == pytest.approx(2 / 3, abs=1e-15)
    assert de["qB"] == pytest.approx(0.0, abs=1e-15)


def test_weights_by_hand(unequal: pd.DataFrame) -> None:
    """Are the intended weights points ÷ 6 and the effective weights √cov(item, total) ÷ Σ√cov?"""
    # Totals 6, 3, 3, 0 (mean 3): cov(qA, T) = 3/3 = 1, cov(qB, T) = 9/3 = 3, cov(qC, T) = 6/3 = 2.
    root = np.sqrt([1.0, 3.0, 2.0])
    assert effective_weight(unequal).tolist() == pytest.approx((root / root.sum()).tolist(), abs=1e-15)
    assert intended_weight(pd.Series(POINTS)).tolist() == pytest.approx([1 / 6, 3 / 6, 2 / 6], abs=1e-15)


def test_alpha_if_deleted_by_hand(unequal: pd.DataFrame) -> None:
    """Does deleting qB (r = 0) raise α from 1/3 to 8/9, while deleting qA or qC drops it to 0?"""
    # Without qB: variances 1/3 + 4/3 = 5/3; totals 3, 0, 3, 0 → var 3; α = 2(1 − 5/9) = 8/9.
    # Without qA: 3 + 4/3 = 13/3; totals 5, 3, 2, 0 → var 13/3 → α = 0. Without qC: 10/3 and 10/3 → 0.
    assert alpha_if_deleted(unequal).tolist() == pytest.approx([0.0, 8 / 9, 0.0], abs=1e-15)


def test_item_statistics_table_by_hand(unequal: pd.DataFrame) -> None:
    """Does the Moodle table carry the hand values and flags for unequal points?"""
    table = item_statistics(scores_from_marks(unequal, POINTS), "ch", guess={"qA": 0.25}).set_index("question")
    assert tuple(table.reset_index().columns) == ITEM_STATISTICS_COLUMNS
    assert table["n"].tolist() == [4, 4, 4]
    assert table["points"].tolist() == [1.0, 3.0, 2.0]
    assert table["facility"].tolist() == [0.5, 0.5, 0.5]
    # sd of mark ÷ points: every item is 1,1,0,0-like in proportions → √(1/3).
    assert table["sd"].tolist() == pytest.approx([math.sqrt(1 / 3)] * 3, abs=1e-15)
    assert table.loc["qA", "random_guess"] == 0.25 and math.isnan(table.loc["qB", "random_guess"])
    # n = 4 → g = round(1.08) = 1: upper w (6), lower z (0); every item is full marks for w, 0 for z.
    assert table["ul_index"].tolist() == [1.0, 1.0, 1.0]
    # qA: r = 2/√13 ≈ .555 ≥ .50, DE 2/3: no flag.
    # qB: r = 0 → 区分度差 and Moodle's 需复核（很可能）; DE 0 < .15 → 区分效率低; α 1/3 → 8/9 without it.
    # qC = 2,0,2,0, rest 4,3,1,0: Σdxdy = 2, SSx 4, SSy 10 → r = 1/√10 ≈ .316 → 需复核（可能）.
    assert table["discrimination"].tolist() == pytest.approx([2 / math.sqrt(13), 0.0, 1 / math.sqrt(10)], abs=1e-15)
    assert table["flags"].to_dict() == {
        "qA": (),
        "qB": ("区分度差", "区分效率低", "需复核（很可能）", "删题后α升高"),
        "qC": ("需复核（可能）",),
    }
    # The compatible item table keeps its columns and its Ebel flags, now on marks.
    compatible = item_table(scores_from_marks(unequal, POINTS), "ch")
    assert list(compatible.columns) == ["question", "facility", "discrimination", "ul_index", "flags"]
    assert compatible["flags"].tolist() == [(), ("区分度差",), ()]
    equal_weight = item_table(scores_from_marks(unequal, POINTS), "ch", basis="proportions")
    assert equal_weight["discrimination"].iloc[0] == pytest.approx(1 / math.sqrt(2), abs=1e-15)


def test_quiz_statistics_by_hand(unequal: pd.DataFrame) -> None:
    """Are mean, median, SD, skewness, kurtosis, α, error ratio and SE Moodle's values for totals 6, 3, 3, 0?"""
    # Deviations 3, 0, 0, −3: m2 = 18/4, m3 = 0, m4 = 162/4. SD = √(18/3) = √6. Skewness k3/k2^1.5 = 0.
    # k2 = 4 · 4.5/3 = 6; k4 = 16 · (5 · 40.5 − 3 · 3 · 4.5²)/(3 · 2 · 1) = 16 · 20.25/6 = 54 → kurtosis 54/36 = 1.5.
    # α = 1/3 → error ratio √(2/3); standard error √(2/3) · √6 = 2 marks.
    result = quiz_statistics(unequal, pd.Series(POINTS))
    assert tuple(result.index) == QUIZ_STATISTICS_FIELDS
    assert result.to_dict() == pytest.approx({
        "n": 4, "items": 3, "max_total": 6, "mean": 3, "median": 3, "sd": math.sqrt(6), "skewness": 0,
        "kurtosis": 1.5, "alpha": 1 / 3, "error_ratio": math.sqrt(2 / 3), "standard_error": 2,
    }, abs=1e-14)


def test_quiz_table_has_one_row_per_chapter(unequal: pd.DataFrame) -> None:
    """Does quiz_table give each chapter its own statistics, on marks unless asked otherwise?"""
    scores = pd.concat([scores_from_marks(unequal, POINTS, "ch1"), scores_from_marks(unequal.iloc[:2], POINTS, "ch2")])
    table = quiz_table(scores).set_index("chapter")
    assert table.loc["ch1", "alpha"] == pytest.approx(1 / 3, abs=1e-15)
    assert table.loc["ch2", "n"] == 2 and table.loc["ch2", "mean"] == 4.5
    assert quiz_table(scores, ["ch1"], basis="proportions")["alpha"].tolist() == pytest.approx([0.6], abs=1e-15)


# ---------------------------------------------------------------- undefined values are NaN
def test_one_learner_gives_nan_not_zero() -> None:
    """With one learner, are the group index, r, DE, α, SD, skewness and weights NaN, and mean/median defined?"""
    one = pd.DataFrame({"qA": [1.0], "qB": [2.0]}, index=pd.Index(["solo"], name="learner"))
    assert group_size(1, 0.27) == 0
    assert upper_lower_index(one).isna().all()
    assert corrected_item_total(one).isna().all()
    assert discriminative_efficiency(one).isna().all()
    assert effective_weight(one).isna().all()
    assert math.isnan(cronbach_alpha(one))
    result = quiz_statistics(one)
    assert result["mean"] == 3.0 and result["median"] == 3.0
    for field in ("sd", "skewness", "kurtosis", "alpha", "error_ratio", "standard_error", "max_total"):
        assert math.isnan(result[field]), field
    table = item_statistics(scores_from_marks(one, {"qA": 1.0, "qB": 2.0}), "ch")
    assert table["sd"].isna().all() and table["flags"].tolist() == [("过易",), ("过易",)]


def test_zero_variance_item_and_totals() -> None:
    """Is an item everyone gets right 无变异 with r and DE NaN, and the index NaN when all totals tie?"""
    data = {"same": [1.0, 1.0, 1.0, 1.0], "q2": [1.0, 0.0, 1.0, 0.0], "q3": [1.0, 1.0, 0.0, 0.0]}
    matrix = pd.DataFrame(data, index=pd.Index(list("abcd"), name="learner"))
    assert math.isnan(corrected_item_total(matrix)["same"])
    assert math.isnan(discriminative_efficiency(matrix)["same"])
    table = item_statistics(scores_from_marks(matrix, dict.fromkeys(data, 1.0)), "ch").set_index("question")
    assert table.loc["same", "sd"] == 0.0
    assert table.loc["same", "flags"] == ("过易", "无变异")
    tied = pd.DataFrame({"q1": [1.0, 0.0], "q2": [0.0, 1.0]}, index=pd.Index(["a", "b"], name="learner"))
    assert upper_lower_index(tied).isna().all()  # both totals 1: no upper or lower group
    assert math.isnan(quiz_statistics(tied)["alpha"])


# ---------------------------------------------------------------- groups and flags
@pytest.mark.parametrize(("n", "ceil_size", "size"),
                         [(2, 1, 1), (4, 2, 1), (5, 2, 1), (6, 2, 2), (20, 6, 5), (30, 9, 8), (50, 14, 14),
                          (60, 17, 16), (100, 27, 27), (150, 41, 41)])
def test_group_size_rounds_half_up(n: int, ceil_size: int, size: int) -> None:
    """Is the 27 % group rounded to the nearest learner, halves up (150 → 40.5 → 41), not ceil'd?"""
    assert math.ceil(round(0.27 * n, 9)) == ceil_size  # the old rule, for the record
    assert group_size(n, 0.27) == size


def test_group_size_half_up_is_not_pythons_round() -> None:
    """Does 40.5 go up to 41 here where Python's round (halves to even) gives 40?"""
    assert round(0.27 * 150) == 40
    assert group_size(150, 0.27) == 41
    assert group_size(5, 0.5) == 3


def test_group_weights_share_the_cut() -> None:
    """Do three learners tied for the last two places of a group get 2/3 each, and weights sum to g?"""
    # n = 12 → g = round(3.24) = 3. Lowest totals 1, 5, 5, 5: the 1 has weight 1, the three 5s share 2 places.
    totals = [5, 1, 5, 9, 5, 8, 7, 7, 6, 6, 6, 9]
    lower, upper = group_weights(totals)
    assert lower.tolist() == pytest.approx([2 / 3, 1, 2 / 3, 0, 2 / 3, 0, 0, 0, 0, 0, 0, 0], abs=1e-15)
    assert upper.tolist() == [0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1]
    assert lower.sum() == pytest.approx(3) and upper.sum() == 3


def test_moodle_flag_bounds() -> None:
    """Are Moodle's cut-offs strict (15 % DE, 30 % / 50 % discrimination), and NaN never flagged?"""
    base = {"sd": 0.5, "alpha_without": 0.5, "alpha": 0.7}
    assert moodle_flags(discrimination=0.50, efficiency=0.15, **base) == ()
    assert moodle_flags(discrimination=0.4999, efficiency=0.1499, **base) == ("区分效率低", "需复核（可能）")
    assert moodle_flags(discrimination=0.30, efficiency=0.5, **base) == ("需复核（可能）",)
    assert moodle_flags(discrimination=0.2999, efficiency=0.5, **base) == ("需复核（很可能）",)
    assert moodle_flags(discrimination=math.nan, efficiency=math.nan, sd=math.nan, alpha_without=math.nan,
                        alpha=math.nan) == ()
    assert moodle_flags(discrimination=0.6, efficiency=0.6, sd=0.5, alpha_without=0.71, alpha=0.7) == ("删题后α升高",)


# ---------------------------------------------------------------- random guess score
def _q(kind: str, **fields: object) -> m.Question:
    common = {"id": "ch01-001", "section": "s", "mastery": "了解", "stem": "题", "explanation": "解",
              "provenance": {"source": "general"}, "points": 1.0}
    model = {"single": m.SingleChoice, "multiple": m.MultipleChoice, "truefalse": m.TrueFalse,
             "ordering": m.Ordering, "matching": m.Matching, "blank": m.FillBlank, "case": m.CaseAnalysis}[kind]
    return model.model_validate({**common, "type": kind, **fields})  # type: ignore[attr-defined, no-any-return]


def test_random_guess_scores_by_hand() -> None:
    """Are the guess scores 1/4, 1/2, 2/7, 1/3, 1/3, 0 and NaN for the seven types?"""
    abcd = {"A": "甲", "B": "乙", "C": "丙", "D": "丁"}
    assert random_guess_score(_q("single", options=abcd, answer="B")) == 0.25
    assert random_guess_score(_q("truefalse", answer=True)) == 0.5
    # Key A, C of A–C: the 7 non-empty sets score A ½, C ½, AC 1, any set with B 0 → 2/7.
    multiple = _q("multiple", options={"A": "甲", "B": "乙", "C": "丙"}, answer=["A", "C"], points=2.0)
    assert random_guess_score(multiple) == pytest.approx(2 / 7, abs=1e-15)
    # 3 items, 3 points: a random permutation has 1 right place on average → 1 of 3 points.
    ordering = _q("ordering", items={"A": "一", "B": "二", "C": "三"}, answer=["B", "A", "C"], points=3.0)
    assert random_guess_score(ordering) == pytest.approx(1 / 3, abs=1e-15)
    # 2 prompts, 3 options each chosen freely: 2/3 right pairs of 2 on average → 1/3.
    matching = _q("matching", prompts={"1": "一", "2": "二"}, options={"A": "甲", "B": "乙", "C": "丙"},
                  answer={"1": "A", "2": "B"}, points=2.0)
    assert random_guess_score(matching) == pytest.approx(1 / 3, abs=1e-15)
    assert random_guess_score(_q("blank", blanks=[["答案"]])) == 0.0
    assert math.isnan(random_guess_score(_q("case", rubric=[{"criterion": "要点", "points": 1}])))
    assert random_guess_scores([_q("truefalse", answer=False)]) == {"ch01-001": 0.5}


# ---------------------------------------------------------------- agreement with pingouin and scipy
@pytest.fixture(scope="module")
def simulated_marks() -> tuple[pd.DataFrame, pd.Series]:
    # 150 learners × 10 items worth 1–4 points; partial credit in steps of a quarter of the points.
    rng = np.random.default_rng(20261201)
    ability = rng.normal(size=(150, 1))
    p = 1 / (1 + np.exp(-(ability - rng.normal(size=10))))
    points = pd.Series([1.0, 1, 2, 2, 3, 3, 4, 4, 1, 2], index=[f"i{j:02d}" for j in range(10)])
    marks = rng.binomial(4, p) / 4 * points.to_numpy()
    index = pd.Index([f"L{i:03d}" for i in range(150)], name="learner")
    return pd.DataFrame(marks, index=index, columns=points.index), points


def test_alpha_on_marks_agrees_with_pingouin(simulated_marks: tuple[pd.DataFrame, pd.Series]) -> None:
    """Does α on raw marks, and α with each item deleted, equal pingouin.cronbach_alpha?"""
    marks, _ = simulated_marks
    assert cronbach_alpha(marks) == pytest.approx(pingouin.cronbach_alpha(data=marks)[0], abs=1e-12)
    deleted = alpha_if_deleted(marks)
    for item in marks.columns:
        assert deleted[item] == pytest.approx(pingouin.cronbach_alpha(data=marks.drop(columns=item))[0], abs=1e-12)


def test_discrimination_on_marks_agrees_with_scipy(simulated_marks: tuple[pd.DataFrame, pd.Series]) -> None:
    """Does each item's discrimination on marks equal scipy's pearsonr(item marks, total marks − item)?"""
    marks, _ = simulated_marks
    result, total = corrected_item_total(marks), marks.sum(axis=1)
    for item in marks.columns:
        assert result[item] == pytest.approx(stats.pearsonr(marks[item], total - marks[item]).statistic, abs=1e-12)


def test_quiz_statistics_agree_with_scipy(simulated_marks: tuple[pd.DataFrame, pd.Series]) -> None:
    """Are Moodle's skewness and kurtosis scipy's bias-corrected G1 and G2, SD numpy's ddof=1, median numpy's?"""
    marks, points = simulated_marks
    total = marks.sum(axis=1).to_numpy()
    result = quiz_statistics(marks, points)
    assert result["skewness"] == pytest.approx(stats.skew(total, bias=False), abs=1e-12)
    assert result["kurtosis"] == pytest.approx(stats.kurtosis(total, fisher=True, bias=False), abs=1e-12)
    assert result["sd"] == pytest.approx(np.std(total, ddof=1), abs=1e-12)
    assert result["median"] == np.median(total) and result["max_total"] == 23.0
    expected_se = np.std(total, ddof=1) * math.sqrt(1 - result["alpha"])
    assert result["standard_error"] == pytest.approx(expected_se, abs=1e-12)


def test_effective_weights_sum_to_one(simulated_marks: tuple[pd.DataFrame, pd.Series]) -> None:
    """Do effective weights (all covariances positive here) sum to 1, heavier items weighing more?"""
    marks, points = simulated_marks
    weights = effective_weight(marks)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert weights[points == 4].mean() > weights[points == 1].mean()


def test_mark_matrix_clips_extra_credit_to_the_points() -> None:
    """Does the mark matrix keep raw marks, clip extra credit to the points and list each item's points?"""
    rows = [("u1", "ch", "q1", "single", 1.0, 1.5), ("u1", "ch", "q2", "multiple", 2.0, 1.0),
            ("u2", "ch", "q1", "single", 1.0, 0.0), ("u2", "ch", "q2", "multiple", 2.0, np.nan)]
    scores = pd.DataFrame(rows, columns=["learner", "chapter", "question", "type", "points", "score"])
    assert mark_matrix(scores, "ch").to_numpy().tolist() == [[1.0, 1.0], [0.0, 0.0]]
    assert item_points(scores, "ch").to_dict() == {"q1": 1.0, "q2": 2.0}


# ---------------------------------------------------------------- weighted score and extra credit
def test_double_extra_credit_does_not_give_200() -> None:
    """Is the weighted score capped at 100 however much extra credit, and the priority never negative?"""
    course = load_course(MINI)
    questions = frames.question_frame(course)
    double = questions.assign(learner="x", score=questions["points"] * 2)  # every question at double credit
    partial = questions.assign(learner="y", score=np.where(questions["area"] == "basic.telecom",
                                                           questions["points"] * 1.2, questions["points"] * 0.5))
    scores = pd.concat([double, partial], ignore_index=True)
    weighted = weighting.weighted_scores(scores, course, "L4").set_index("learner")["weighted_score"]
    # x: 70 · 2 + 30 · 2 = 200 → 100.  y: 70 · 1.2 + 30 · .5 = 99 (extra credit in one area counts).
    assert weighted.to_dict() == pytest.approx({"x": 100.0, "y": 99.0})
    assert (weighting.training_priority(scores, course, "L4")["priority"] >= 0).all()


# ---------------------------------------------------------------- matrices: clipping, 0-point items, names
def test_matrices_clip_to_the_item_range_and_leave_out_zero_point_items() -> None:
    """Is a negative score clipped to 0, extra credit to the points, and a 0-point question left out?"""
    rows = [("u1", "ch", "q1", "single", 1.0, -0.5), ("u1", "ch", "q2", "multiple", 2.0, 1.0),
            ("u1", "ch", "q0", "single", 0.0, 0.0),  # a 0-point question has no proportion
            ("u2", "ch", "q1", "single", 1.0, 1.0), ("u2", "ch", "q2", "multiple", 2.0, 2.5),
            ("u2", "ch", "q0", "single", 0.0, 0.0)]
    scores = pd.DataFrame(rows, columns=["learner", "chapter", "question", "type", "points", "score"])
    # marks: u1 q1 −0.5 → 0, q2 1; u2 q1 1, q2 2.5 → 2.  proportions: u1 0, ½; u2 1, 1.
    assert mark_matrix(scores, "ch").to_dict("index") == {"u1": {"q1": 0.0, "q2": 1.0}, "u2": {"q1": 1.0, "q2": 2.0}}
    assert score_matrix(scores, "ch").to_dict("index") == {"u1": {"q1": 0.0, "q2": 0.5}, "u2": {"q1": 1.0, "q2": 1.0}}
    points = item_points(scores, "ch")
    assert points.to_dict() == {"q1": 1.0, "q2": 2.0}
    assert (points.name, points.index.name) == ("points", "question")


def test_facility_of_a_mark_matrix_divides_by_each_items_points() -> None:
    """Is the facility of marks mean ÷ the item's own points, whatever the order or extra items of ``points``?"""
    marks = pd.DataFrame({"q1": [0.0, 1.0], "q2": [1.0, 2.0]}, index=["u1", "u2"])
    # q1: mean ½ ÷ 1 = ½; q2: mean 1.5 ÷ 2 = ¾; q9 is not in the matrix.
    result = facility(marks, pd.Series({"q2": 2.0, "q9": 5.0, "q1": 1.0}))
    assert result.to_dict() == {"q1": 0.5, "q2": 0.75}
    assert result.name == "facility"


# ---------------------------------------------------------------- two and three learners
@pytest.fixture
def pair() -> pd.DataFrame:
    # Two learners, marks on 1-point items: a 0.5 and 0.25, b nothing. Totals a 0.75, b 0.
    return pd.DataFrame({"q1": [0.5, 0.0], "q2": [0.25, 0.0]}, index=pd.Index(["a", "b"], name="learner"))


def test_two_learners_are_enough_for_every_statistic(pair: pd.DataFrame) -> None:
    """With two learners, are r, DE, α, the weights and the SD defined (not NaN) and the hand values?"""
    # r: each item against the other (two points, both varying) → 1.
    assert corrected_item_total(pair).tolist() == [1.0, 1.0]
    # DE q1: x ½, 0 and rest ¼, 0 are already in the same order: cov = cov_max = 2 · ¼ · ⅛ = 1/16 → 1.
    assert discriminative_efficiency(pair).tolist() == [1.0, 1.0]
    # α: item variances (ddof=1) ⅛ and 1/32 → Σ 5/32; totals ¾, 0 → var 9/32; α = 2 (1 − 5/9) = 8/9.
    assert cronbach_alpha(pair) == pytest.approx(8 / 9, abs=1e-15)
    # cov(item, total): q1 (¼ · ⅜ + ¼ · ⅜) / 1 = 3/16, q2 3/32: the roots are in the ratio √2 : 1,
    # so the weights are √2/(1 + √2) = 2 − √2 and 1/(1 + √2) = √2 − 1 (the roots add up to 0.74, below 1).
    assert effective_weight(pair).tolist() == pytest.approx([2 - math.sqrt(2), math.sqrt(2) - 1], abs=1e-15)
    # g = round(0.54) = 1: upper a, lower b → ½ and ¼.
    assert upper_lower_index(pair).tolist() == [0.5, 0.25]
    table = item_statistics(scores_from_marks(pair, {"q1": 1.0, "q2": 1.0}), "ch")
    # sd (ddof=1) of ½, 0 = √⅛; of ¼, 0 = √(1/32).
    assert table["sd"].tolist() == pytest.approx([math.sqrt(1 / 8), math.sqrt(1 / 32)], abs=1e-15)
    result = quiz_statistics(pair)
    # totals ¾, 0: mean = median = ⅜, sd = √(2 · (⅜)²) = √(9/32); α 8/9 → error ratio ⅓, SE sd/3.
    assert result[["n", "mean", "median", "sd", "alpha", "error_ratio", "standard_error"]].tolist() == pytest.approx(
        [2, 0.375, 0.375, math.sqrt(9 / 32), 8 / 9, 1 / 3, math.sqrt(9 / 32) / 3], abs=1e-15)
    assert math.isnan(result["skewness"]) and math.isnan(result["kurtosis"])  # need 3 and 4 learners


def test_three_learners_have_a_skewness_but_no_kurtosis() -> None:
    """With three learners, is the skewness defined (√3 for totals 0, 0, ¾) and the kurtosis NaN?"""
    marks = pd.DataFrame({"q1": [0.0, 0.0, 0.5], "q2": [0.0, 0.0, 0.25]})
    # totals 0, 0, ¾: mean ¼, deviations −¼, −¼, ½: m2 = ⅜/3 = ⅛, m3 = (−2/64 + 8/64)/3 = 1/32.
    # k2 = 3 · ⅛ / 2 = 3/16; skewness = 9 · (1/32) / (2 · 1) / (3/16)^1.5 = (9/64) / ((3/16) · √3/4) = √3.
    result = quiz_statistics(marks)
    assert result["skewness"] == pytest.approx(math.sqrt(3), abs=1e-14)
    assert math.isnan(result["kurtosis"])
    # every total equal: no skewness (k2 = 0), not a division by zero
    tied = quiz_statistics(pd.DataFrame({"q1": [1.0, 0.0, 1.0], "q2": [0.0, 1.0, 0.0]}))
    assert tied["sd"] == 0.0 and math.isnan(tied["skewness"]) and math.isnan(tied["kurtosis"])


def test_quiz_statistics_of_no_learners_and_quiz_table_of_no_chapters() -> None:
    """Are all fields there with no learners (n 0, items, Σ points, the rest NaN), and the columns with no chapter?"""
    empty = pd.DataFrame({"q1": [], "q2": []}, dtype=float)
    result = quiz_statistics(empty, pd.Series({"q1": 1.0, "q2": 2.0}))
    assert tuple(result.index) == QUIZ_STATISTICS_FIELDS and result.dtype == float
    assert result[["n", "items", "max_total"]].tolist() == [0.0, 2.0, 3.0]
    assert result.drop(["n", "items", "max_total"]).isna().all()
    table = quiz_table(pd.DataFrame(columns=["learner", "chapter", "question", "type", "points", "score"]), [])
    assert list(table.columns) == ["chapter", *QUIZ_STATISTICS_FIELDS] and table.empty


def test_quiz_table_carries_the_points_total(unequal: pd.DataFrame) -> None:
    """Is the chapter's max_total Σ points on marks (6) and the item count on proportions (3 × 1)?"""
    scores = scores_from_marks(unequal, POINTS, "ch1")
    assert quiz_table(scores)["max_total"].tolist() == [6.0]
    assert quiz_table(scores, basis="proportions")["max_total"].tolist() == [3.0]


# ---------------------------------------------------------------- undefined values: NaN, no warnings, names
def quiet(call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)`` with every warning an error (an undefined value is NaN, not a numpy warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call(*args, **kwargs)


def test_constant_items_and_rests_give_nan_without_warnings() -> None:
    """Is r NaN (not 0/0 with a warning) for a constant item or a constant rest?"""
    item_constant = pd.DataFrame({"same": [1.0, 1.0, 1.0], "q2": [1.0, 0.0, 1.0], "q3": [0.0, 0.0, 1.0]})
    r = quiet(corrected_item_total, item_constant)
    assert math.isnan(r["same"]) and not math.isnan(r["q2"])
    rest_constant = pd.DataFrame({"q1": [1.0, 0.0, 1.0], "q2": [1.0, 1.0, 1.0]})  # q1's rest is q2
    assert math.isnan(quiet(corrected_item_total, rest_constant)["q1"])


def test_effective_weights_of_zero_and_negative_covariances() -> None:
    """Does a constant item get weight 0, a negative covariance NaN, and no positive covariance all NaN, quietly?"""
    # q1 = 1, 0, 1, 0 and a constant q2: totals 2, 1, 2, 1; cov(q1, T) = 4 · ¼ / 3 = ⅓, cov(q2, T) = 0.
    constant = pd.DataFrame({"q1": [1.0, 0.0, 1.0, 0.0], "q2": [1.0, 1.0, 1.0, 1.0]})
    assert quiet(effective_weight, constant).tolist() == [1.0, 0.0]
    # The same with a mean total of 4/3 (no exact binary fraction): the constant item's weight is exactly 0.
    thirds = pd.DataFrame({"q1": [0.0, 0.0, 1.0], "q2": [1.0, 1.0, 1.0]})
    assert quiet(effective_weight, thirds).tolist() == [1.0, 0.0]
    # q1 = 2, 2, 0, 0 and q2 = 0, 0, 1, 0: totals 2, 2, 1, 0 (mean 1.25).
    # cov(q1, T) = (.75 + .75 + .25 + 1.25) / 3 = 1; cov(q2, T) = (−.1875 · 3 + .3125) / 3 = −1/12 < 0.
    negative = pd.DataFrame({"q1": [2.0, 2.0, 0.0, 0.0], "q2": [0.0, 0.0, 1.0, 0.0]})
    result = quiet(effective_weight, negative)
    assert result["q1"] == 1.0 and math.isnan(result["q2"])
    # q1 = 1, 0 and q2 = 0, 1: both totals 1, every covariance 0 → no weights at all.
    none = pd.DataFrame({"q1": [1.0, 0.0], "q2": [0.0, 1.0]})
    assert quiet(effective_weight, none).isna().all()
    # Totals all ½ with item means ⅙ and ⅓ (no exact binary fractions): still no weights.
    assert quiet(effective_weight, pd.DataFrame({"q1": [0.0, 0.5, 0.0], "q2": [0.5, 0.0, 0.5]})).isna().all()


def test_discriminative_efficiency_is_nan_for_a_constant_item_or_rest() -> None:
    """Is DE NaN both for a constant item and for the item whose rest is that constant item?"""
    # q1 = 0, ½, 1, ½, 1 (mean 0.6, no exact binary fraction); its rest is the constant q2.
    matrix = pd.DataFrame({"q1": [0.0, 0.5, 1.0, 0.5, 1.0], "q2": [1.0] * 5})
    assert quiet(discriminative_efficiency, matrix).isna().all()


def test_a_missing_mark_gives_nan_not_an_error() -> None:
    """Does a missing mark (pd.NA in a nullable frame) make r and DE of the items NaN rather than fail?"""
    matrix = pd.DataFrame({"q1": [1, 0, 1, None], "q2": [1, 1, 0, 0]}).astype("Float64")
    assert corrected_item_total(matrix).isna().all()
    assert discriminative_efficiency(matrix).isna().all()


def test_the_statistics_are_named_and_float_even_without_items(unequal: pd.DataFrame) -> None:
    """Does every per-item statistic carry its name and float dtype, for items, one learner and no items?"""
    one = unequal.iloc[:1]
    no_items = unequal[[]]
    for matrix in (unequal, one, no_items):
        for function, name in ((corrected_item_total, "discrimination"),
                               (discriminative_efficiency, "discriminative_efficiency"),
                               (alpha_if_deleted, "alpha_if_deleted"), (effective_weight, "effective_weight"),
                               (upper_lower_index, "ul_index")):
            result = function(matrix)
            assert (result.name, result.dtype, list(result.index)) == (name, float, list(matrix.columns)), name
    assert intended_weight(pd.Series(POINTS)).name == "intended_weight"


def test_intended_weights_of_small_and_zero_totals() -> None:
    """Are intended weights points ÷ total for a total below 1, and NaN (never ±inf) for a total of 0?"""
    assert intended_weight(pd.Series({"a": 0.25, "b": 0.5})).tolist() == [1 / 3, 2 / 3]
    assert intended_weight(pd.Series({"a": 1.0, "b": -1.0})).isna().all()
    assert intended_weight(pd.Series({"a": 0.0, "b": 0.0})).isna().all()


# ---------------------------------------------------------------- 27 % groups: fraction, rounding, points
def test_no_group_gives_no_weights() -> None:
    """Is a fraction whose group rounds to 0 learners (10 % of 3) a group of nobody, and an empty roll too?"""
    lower, upper = group_weights([1.0, 2.0, 3.0], fraction=0.1)
    assert lower.tolist() == [0.0, 0.0, 0.0] and upper.tolist() == [0.0, 0.0, 0.0]
    assert [w.tolist() for w in group_weights([])] == [[], []]


def test_totals_closer_than_nine_decimals_are_tied() -> None:
    """Do totals 3e-10 apart tie at the cut (compared at 9 decimals), for the groups and the index?"""
    # n = 3 → g = 1: 2 and 2 + 3e-10 share the lowest place.
    lower, upper = group_weights([2.0, 2.0 + 3e-10, 5.0])
    assert lower.tolist() == [0.5, 0.5, 0.0] and upper.tolist() == [0.0, 0.0, 1.0]
    near = pd.DataFrame({"q1": [1.0, 1.0 + 3e-10]})
    assert upper_lower_index(near).isna().all()  # every total the same: no upper or lower group


def test_totals_below_one_apart_still_rank() -> None:
    """Are totals ¼ and ½ (both below 1) two ranks, not one (index ½ − ¼)?"""
    assert upper_lower_index(pd.DataFrame({"q1": [0.25, 0.5]})).tolist() == [0.25]


def test_the_fraction_sets_the_group_size() -> None:
    """Is fraction 0.5 allowed (5 learners → groups of 3) and 0 refused?"""
    marks = pd.DataFrame({"q1": [0.0, 0.25, 0.5, 0.75, 1.0]})
    # g = round(2.5) = 3: upper c, d, e (0.5 + 0.75 + 1 = 2.25), lower a, b, c (0 + 0.25 + 0.5 = 0.75) → 1.5 / 3.
    assert upper_lower_index(marks, fraction=0.5).tolist() == [0.5]
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 0.5\], got 0"):
        upper_lower_index(marks, fraction=0)


def test_upper_lower_index_takes_each_items_points(unequal: pd.DataFrame) -> None:
    """Does ``points`` divide each item's index by that item's points, whatever the order of ``points``?"""
    # g = 1: upper w (1, 3, 2), lower z (0, 0, 0) → marks 1, 3, 2 → ÷ points 1, 3, 2 = 1 each.
    points = pd.Series({"qC": 2.0, "qA": 1.0, "qB": 3.0})
    assert upper_lower_index(unequal, points=points).tolist() == [1.0, 1.0, 1.0]


# ---------------------------------------------------------------- item_statistics options
def test_item_statistics_on_proportions(unequal: pd.DataFrame) -> None:
    """On proportions, is every item worth 1 point, with facility ½, intended weight ⅓ and a full index?"""
    table = item_statistics(scores_from_marks(unequal, POINTS), "ch", basis="proportions")
    assert table["points"].tolist() == [1.0, 1.0, 1.0]
    assert table["facility"].tolist() == [0.5, 0.5, 0.5]
    assert table["intended_weight"].tolist() == pytest.approx([1 / 3] * 3, abs=1e-15)
    assert table["ul_index"].tolist() == [1.0, 1.0, 1.0]


def test_item_statistics_uses_the_given_thresholds(unequal: pd.DataFrame) -> None:
    """Do stricter Ebel and Moodle thresholds flag qA (r = 2/√13 ≈ .555, DE ⅔)?"""
    table = item_statistics(scores_from_marks(unequal, POINTS), "ch", Thresholds(poor_discrimination=0.6),
                            moodle=MoodleThresholds(dubious_efficiency=0.7, check_very_likely=0.6))
    assert table["flags"].iloc[0] == ("区分度差", "区分效率低", "需复核（很可能）")


def test_an_unknown_basis_is_refused(unequal: pd.DataFrame) -> None:
    """Is a basis other than marks or proportions an error naming both?"""
    with pytest.raises(ValueError, match=r"^basis must be 'marks' or 'proportions', got 'raw'$"):
        item_statistics(scores_from_marks(unequal, POINTS), "ch", basis="raw")  # type: ignore[arg-type]


# ---------------------------------------------------------------- random guess: the enumeration limit
@pytest.mark.parametrize(("limit", "multiple", "ordering", "matching"), [
    (5, None, None, None),
    (6, None, 1 / 3, None),  # 3! = 6 orders
    (7, 2 / 7, 1 / 3, None),  # 2³ − 1 = 7 non-empty sets
    (8, 2 / 7, 1 / 3, None),
    (9, 2 / 7, 1 / 3, 1 / 3),  # 3² = 9 matchings
])
def test_random_guess_is_enumerated_up_to_the_limit(monkeypatch: pytest.MonkeyPatch, limit: int,
                                                    multiple: float | None, ordering: float | None,
                                                    matching: float | None) -> None:
    """Is every answer enumerated when there are at most MAX_GUESS_RESPONSES of them, and NaN beyond?"""
    monkeypatch.setattr(items, "MAX_GUESS_RESPONSES", limit)
    questions = [
        _q("multiple", options={"A": "甲", "B": "乙", "C": "丙"}, answer=["A", "C"], points=2.0),
        _q("ordering", items={"A": "一", "B": "二", "C": "三"}, answer=["B", "A", "C"], points=3.0),
        _q("matching", prompts={"1": "一", "2": "二"}, options={"A": "甲", "B": "乙", "C": "丙"},
           answer={"1": "A", "2": "B"}, points=2.0),
    ]
    for q, expected in zip(questions, (multiple, ordering, matching), strict=True):
        got = random_guess_score(q)
        if expected is None:
            assert math.isnan(got), q.type
        else:
            assert got == pytest.approx(expected, abs=1e-15), q.type


# ---------------------------------------------------------------- marks that are not float64
@pytest.mark.parametrize("kind", ["int64", "Int64", "Float64", "decimal", "bool"])
def test_marks_of_any_numeric_dtype_give_the_hand_values(kind: str) -> None:
    """Are whole-number marks as int64, nullable Int64/Float64, Decimal objects or booleans read as the floats?"""
    # Right (1) / wrong (0) on three items; totals a 3, b 1, c 2, d 0 (mean 1.5).
    marks = pd.DataFrame({"q1": [1, 0, 1, 0], "q2": [1, 0, 0, 0], "q3": [1, 1, 1, 0]},
                         index=pd.Index(list("abcd"), name="learner"))
    marks = marks.map(Decimal) if kind == "decimal" else marks.astype(kind)
    # q1 = 1,0,1,0, rest q2 + q3 = 2,1,1,0 (mean 1): Σdxdy = ½(1 + 0 − 0 + 1) = 1 (dx ±½, dy 1,0,0,−1);
    #   SSx 1, SSy 2 → r = 1/√2.  Sorted rest 0,1,1,2 against sorted q1 0,0,1,1: −½·−1 − ½·0 + ½·0 + ½·1 = 1 → DE 1.
    # q2 = 1,0,0,0 (mean ¼), rest 2,1,2,0 (mean 5/4): Σdxdy = ¾ · ¾ − ¼ (−¼ + ¾ − 5/4) = 9/16 + 3/16 = ¾;
    #   SSx ¾, SSy 11/4 → r = ¾ / √(33/16) = 3/√33.  Sorted rest 0,1,2,2 vs 0,0,0,1: ¾·¾ + ¼(5/4 + ¼ − ¾) = ¾ → DE 1.
    # q3 = 1,1,1,0 (mean ¾), rest 2,0,1,0 (mean ¾): Σdxdy = ¼(5/4 − ¾ + ¼) + (−¾)(−¾) = 3/16 + 9/16 = ¾;
    #   SSx ¾, SSy 11/4 → r = 3/√33.  Sorted rest 0,0,1,2 vs 0,1,1,1: (−¾)(−¾) + ¼(−¾ + ¼ + 5/4) = ¾ → DE 1.
    assert corrected_item_total(marks).tolist() == pytest.approx([1 / math.sqrt(2), 3 / math.sqrt(33),
                                                                  3 / math.sqrt(33)], abs=1e-15)
    assert discriminative_efficiency(marks).tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-15)
    # cov(item, total) · 3 = Σ dx (T − 1.5): q1 ½(1.5 + 0.5 + 0.5 + 1.5) = 2; q2 ¾ · 1.5 + ¼ (0.5 − 0.5 + 1.5) = 1.5;
    # q3 ¼ (1.5 − 0.5 + 0.5) + ¾ · 1.5 = 1.5 → roots √2 : √1.5 : √1.5 (the 3 cancels).
    root = np.sqrt([2.0, 1.5, 1.5])
    assert effective_weight(marks).tolist() == pytest.approx((root / root.sum()).tolist(), abs=1e-15)
    # g = 1: upper a (1, 1, 1), lower d (0, 0, 0); ÷ points 1 each (points of the same kind as the marks).
    points = marks.iloc[0].rename("points")
    index = upper_lower_index(marks, points=points)
    assert (index.tolist(), index.dtype) == ([1.0, 1.0, 1.0], float)
    totals = marks.sum(axis=1).tolist()
    assert [w.tolist() for w in group_weights(totals)] == [[0, 0, 0, 1], [1, 0, 0, 0]]
    # totals 3, 1, 2, 0: mean 1.5, median 1.5, sd √(5/3).
    result = quiz_statistics(marks)
    assert result[["mean", "median", "sd"]].tolist() == pytest.approx([1.5, 1.5, math.sqrt(5 / 3)], abs=1e-15)
