"""Do the knowledge-weight scores of course.analytics.weighting give the hand-worked values?

Small hand-built scores frames (learner × question rows with area, levels, points, score);
every expected value is worked out in the comments, never computed by the code under test.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from course import model as m
from course.analytics import weighting
from course.loader import Course, load_course
from tests.conftest import MINI

BOTH = ("L4", "L1")
COLUMNS = ["learner", "area", "levels", "points", "score"]
NAN = math.nan


@pytest.fixture(scope="module")
def mini() -> Course:
    # The fixture course: areas basic.telecom (电信基础知识), legal.law (法律知识);
    # weights L4 {telecom 70, law 30}, L1 {telecom 40, law 60}; levels L4 then L1.
    return load_course(MINI)


@pytest.fixture(scope="module")
def three(mini: Course) -> Course:
    """The fixture course with a third area, legal.ethics, weighing 20 at L4 and 0 at L1."""
    areas = m.Areas(areas=[
        m.Area(id="basic", title="基础知识", children=[m.Area(id="basic.telecom", title="电信基础知识")]),
        m.Area(id="legal", title="法律知识", children=[m.Area(id="legal.law", title="法律知识"),
                                                        m.Area(id="legal.ethics", title="职业道德")]),
    ])
    weights = m.Weights(status="default", note="测试", tables={
        "L4": {"basic.telecom": 50, "legal.law": 30, "legal.ethics": 20},
        "L1": {"basic.telecom": 40, "legal.law": 60, "legal.ethics": 0},
    })
    return dataclasses.replace(mini, areas=areas, weights=weights)


def frame(*rows: tuple[str, str, tuple[str, ...], float, float]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=COLUMNS)


@pytest.fixture
def cohort() -> pd.DataFrame:
    # Learner b comes first on purpose: every per-learner result is sorted by learner.
    return frame(
        ("b", "basic.telecom", BOTH, 2.0, 1.0),
        ("b", "basic.telecom", ("L4",), 3.0, 3.0),
        ("b", "basic.telecom", ("L1",), 5.0, 0.0),
        ("b", "legal.law", BOTH, 4.0, NAN),  # awaiting a manual grade: neither earned nor possible
        ("b", "legal.law", BOTH, 1.0, 1.0),
        ("a", "basic.telecom", BOTH, 2.0, 0.5),
        ("a", "legal.law", BOTH, 4.0, NAN),
        ("c", "legal.law", BOTH, 4.0, NAN),  # nothing graded yet
    )


def records(result: pd.DataFrame) -> list[dict[str, object]]:
    return result.to_dict("records")  # type: ignore[return-value]


# ---------------------------------------------------------------- area_mastery
def test_area_mastery_is_earned_over_possible_of_the_levels_graded_questions(cohort: pd.DataFrame) -> None:
    """Is mastery earned ÷ possible over the graded questions serving the level, one row per learner × area?"""
    # L4: a telecom 0.5 / 2 = 0.25 (a's law is pending: no row);
    #     b telecom (1 + 3) / (2 + 3) = 0.8 (the L1-only question is left out);
    #     b law 1 / 1 = 1.0 (the pending 4-point question counts in neither sum); c: no row.
    result = weighting.area_mastery(cohort, "L4")
    assert list(result.columns) == ["learner", "area", "earned", "possible", "mastery"]
    assert list(result.index) == [0, 1, 2]
    assert records(result) == [
        {"learner": "a", "area": "basic.telecom", "earned": 0.5, "possible": 2.0, "mastery": 0.25},
        {"learner": "b", "area": "basic.telecom", "earned": 4.0, "possible": 5.0, "mastery": 0.8},
        {"learner": "b", "area": "legal.law", "earned": 1.0, "possible": 1.0, "mastery": 1.0},
    ]


def test_area_mastery_of_another_level_takes_that_levels_questions(cohort: pd.DataFrame) -> None:
    """Does L1 take the L1 questions only: b's telecom (1 + 0) / (2 + 5)?"""
    result = weighting.area_mastery(cohort, "L1").set_index(["learner", "area"])
    assert result["earned"].to_dict() == {("a", "basic.telecom"): 0.5, ("b", "basic.telecom"): 1.0,
                                          ("b", "legal.law"): 1.0}
    assert result["possible"].to_dict() == {("a", "basic.telecom"): 2.0, ("b", "basic.telecom"): 7.0,
                                            ("b", "legal.law"): 1.0}
    assert result.loc[("b", "basic.telecom"), "mastery"] == pytest.approx(1 / 7)


def test_area_mastery_keeps_extra_credit_above_one() -> None:
    """Does extra credit show as a mastery above 1 (3 of 2 points → 1.5)?"""
    result = weighting.area_mastery(frame(("a", "legal.law", BOTH, 2.0, 3.0)), "L4")
    assert result["mastery"].tolist() == [1.5]


def test_a_level_no_question_serves_gives_no_rows() -> None:
    """Is there no mastery at all for a level none of the questions serves?"""
    assert weighting.area_mastery(frame(("a", "legal.law", ("L1",), 2.0, 2.0)), "L4").empty


# ---------------------------------------------------------------- weights_frame
def test_weights_frame_lists_the_levels_table_in_order(three: Course) -> None:
    """Does the weights frame list the level's areas in table order with their titles and float weights?"""
    result = weighting.weights_frame(three, "L4")
    assert list(result.columns) == ["area", "area_title", "weight"]
    assert records(result) == [
        {"area": "basic.telecom", "area_title": "电信基础知识", "weight": 50.0},
        {"area": "legal.law", "area_title": "法律知识", "weight": 30.0},
        {"area": "legal.ethics", "area_title": "职业道德", "weight": 20.0},
    ]
    assert all(isinstance(w, float) for w in result["weight"])


def test_weights_frame_follows_the_content_order_whatever_the_tables(three: Course) -> None:
    """A table listing its areas in another order: does the frame keep the areas' own order (one order per page)?"""
    shuffled = dataclasses.replace(three, weights=m.Weights(status="default", note="测试", tables={
        "L4": {"legal.ethics": 20, "basic.telecom": 50, "legal.law": 30},
        "L1": {"basic.telecom": 40, "legal.law": 60, "legal.ethics": 0}}))
    assert weighting.weights_frame(shuffled, "L4")["area"].tolist() == ["basic.telecom", "legal.law", "legal.ethics"]
    assert weighting.weights_frame(shuffled, "L4")["weight"].tolist() == [50.0, 30.0, 20.0]


# ---------------------------------------------------------------- weighted_scores
def test_weighted_score_is_weight_times_mastery_and_unmeasured_earns_nothing(
        cohort: pd.DataFrame, mini: Course) -> None:
    """Is the score Σ weight × mastery, an unmeasured area 0 and marked incomplete, learners sorted?"""
    # L4 weights telecom 70, law 30.
    # a: 70 × 0.25 + law unmeasured (0) = 17.5, incomplete;
    # b: 70 × 0.8 + 30 × 1.0 = 56 + 30 = 86, complete;
    # c: nothing graded: 0, incomplete.
    result = weighting.weighted_scores(cohort, mini, "L4")
    assert list(result.columns) == ["learner", "level", "weighted_score", "complete"]
    assert list(result.index) == [0, 1, 2]
    assert records(result) == [
        {"learner": "a", "level": "L4", "weighted_score": pytest.approx(17.5), "complete": False},
        {"learner": "b", "level": "L4", "weighted_score": pytest.approx(86.0), "complete": True},
        {"learner": "c", "level": "L4", "weighted_score": 0.0, "complete": False},
    ]


def test_a_zero_weight_area_counts_as_measured(three: Course) -> None:
    """Is a learner complete at L1 without the 0-weight area, and incomplete at L4 where it weighs 20?"""
    scores = frame(
        ("a", "basic.telecom", BOTH, 2.0, 1.0),  # mastery 0.5
        ("a", "legal.law", BOTH, 4.0, 4.0),  # mastery 1.0; legal.ethics never graded
    )
    # L1: 40 × 0.5 + 60 × 1.0 + 0 × (unmeasured) = 80, complete (the ethics weight is 0).
    # L4: 50 × 0.5 + 30 × 1.0 + 20 × 0 = 55, incomplete.
    l1 = weighting.weighted_scores(scores, three, "L1")
    l4 = weighting.weighted_scores(scores, three, "L4")
    assert records(l1) == [{"learner": "a", "level": "L1", "weighted_score": 80.0, "complete": True}]
    assert records(l4) == [{"learner": "a", "level": "L4", "weighted_score": 55.0, "complete": False}]


def test_a_measured_zero_weight_area_adds_nothing(three: Course) -> None:
    """Does a graded area of weight 0 leave the score as it is (full ethics marks at L1 add 0 × 1)?"""
    scores = frame(("a", "basic.telecom", BOTH, 2.0, 2.0), ("a", "legal.ethics", BOTH, 1.0, 1.0))
    # L1: 40 × 1 + 60 × (law unmeasured) 0 + 0 × 1 = 40, incomplete (law weighs 60).
    assert records(weighting.weighted_scores(scores, three, "L1")) == [
        {"learner": "a", "level": "L1", "weighted_score": 40.0, "complete": False}]


def test_an_area_outside_the_levels_table_is_ignored(three: Course) -> None:
    """Is a graded area that is not in the level's table left out of score and completeness?"""
    scores = frame(("a", "basic.telecom", BOTH, 1.0, 1.0), ("a", "legal.law", BOTH, 1.0, 1.0),
                   ("a", "other.area", BOTH, 1.0, 1.0))
    # L1: 40 × 1 + 60 × 1 = 100; ethics weighs 0, other.area is in no table.
    assert records(weighting.weighted_scores(scores, three, "L1")) == [
        {"learner": "a", "level": "L1", "weighted_score": 100.0, "complete": True}]


def test_extra_credit_counts_but_the_score_is_capped_at_100(mini: Course) -> None:
    """Does extra credit make up for lost points, yet never lift the score past 100?"""
    scores = frame(
        ("x", "basic.telecom", BOTH, 1.0, 2.0), ("x", "legal.law", BOTH, 1.0, 2.0),  # double credit everywhere
        ("y", "basic.telecom", BOTH, 5.0, 6.0), ("y", "legal.law", BOTH, 2.0, 1.0),  # 1.2 and 0.5
        ("z", "basic.telecom", BOTH, 10.0, 11.0), ("z", "legal.law", BOTH, 10.0, 10.0),  # 1.1 and 1.0
    )
    # x: 70 × 2 + 30 × 2 = 200 → 100.  y: 70 × 1.2 + 30 × 0.5 = 84 + 15 = 99.
    # z: 70 × 1.1 + 30 × 1 = 77 + 30 = 107 → 100 (just above the cap is capped too).
    result = weighting.weighted_scores(scores, mini, "L4").set_index("learner")["weighted_score"]
    assert result.to_dict() == pytest.approx({"x": 100.0, "y": 99.0, "z": 100.0})
    assert weighting.MAX_WEIGHTED_SCORE == 100.0


def test_a_negative_sum_is_clipped_to_zero(mini: Course) -> None:
    """Is the weighted score clipped at 0 below (a negative score of −1 of 2 points gives 70 × −0.5 → 0)?"""
    scores = frame(("a", "basic.telecom", BOTH, 2.0, -1.0), ("a", "legal.law", BOTH, 1.0, 0.0))
    assert weighting.weighted_scores(scores, mini, "L4")["weighted_score"].tolist() == [0.0]


def test_all_levels_is_every_level_in_the_courses_order(cohort: pd.DataFrame, mini: Course) -> None:
    """Are all levels stacked in the course's level order (L4, then L1) with a fresh index?"""
    # L4 as above: a 17.5, b 86, c 0.  L1 (telecom 40, law 60): a 40 × 0.25 = 10;
    # b 40 × 1/7 + 60 × 1 = 65.714…; c 0.
    result = weighting.all_levels(cohort, mini)
    assert list(result.index) == list(range(6))
    assert list(zip(result["level"], result["learner"], strict=True)) == [
        ("L4", "a"), ("L4", "b"), ("L4", "c"), ("L1", "a"), ("L1", "b"), ("L1", "c")]
    assert result["weighted_score"].tolist() == pytest.approx([17.5, 86.0, 0.0, 10.0, 40 / 7 + 60, 0.0])
    assert result["complete"].tolist() == [False, True, False, False, True, False]


# ---------------------------------------------------------------- pass_status
def test_pass_status_passes_at_the_mark_itself() -> None:
    """Does a score equal to the pass mark pass (>=), just below fail, and the input stay as it was?"""
    weighted = pd.DataFrame({"learner": ["a", "b", "c", "d"], "weighted_score": [59.99, 60.0, 60.01, 0.0]})
    result = weighting.pass_status(weighted, 60)
    assert result["passed"].tolist() == [False, True, True, False]
    assert result["learner"].tolist() == ["a", "b", "c", "d"]
    assert list(weighted.columns) == ["learner", "weighted_score"]


# ---------------------------------------------------------------- cohort_mastery
def test_cohort_mastery_pools_earned_and_possible(cohort: pd.DataFrame, mini: Course) -> None:
    """Is the cohort mastery Σ earned ÷ Σ possible × 100 (not a mean of learners' masteries)?"""
    # L4 telecom: a 0.5 of 2, b 4 of 5 → 4.5 / 7 × 100 = 64.2857… (the mean of 25 % and 80 % would be 52.5).
    # L4 law: only b, 1 of 1 → 100.
    result = weighting.cohort_mastery(cohort, mini, "L4")
    assert list(result.columns) == ["area", "area_title", "weight", "mastery"]
    assert result["area"].tolist() == ["basic.telecom", "legal.law"]
    assert result["area_title"].tolist() == ["电信基础知识", "法律知识"]
    assert result["weight"].tolist() == [70.0, 30.0]
    assert result["mastery"].tolist() == pytest.approx([450 / 7, 100.0])


def test_cohort_mastery_of_an_unmeasured_area_is_missing(three: Course) -> None:
    """Is the mastery of an area nobody was graded in NaN, in the table's area order?"""
    scores = frame(("a", "legal.law", BOTH, 4.0, 1.0), ("b", "basic.telecom", BOTH, 2.0, 2.0))
    # telecom 2 / 2 = 100, law 1 / 4 = 25, ethics: no graded question.
    result = weighting.cohort_mastery(scores, three, "L4")
    assert result["area"].tolist() == ["basic.telecom", "legal.law", "legal.ethics"]
    assert result["mastery"].tolist()[:2] == [100.0, 25.0]
    assert math.isnan(result["mastery"].iloc[2])


# ---------------------------------------------------------------- training_priority
def test_training_priority_is_weight_times_the_gap_largest_first(three: Course) -> None:
    """Is the priority weight × (1 − mastery), an unmeasured area its whole weight, sorted largest first?"""
    scores = frame(
        ("a", "basic.telecom", BOTH, 2.0, 2.0),  # telecom 100 % → 50 × 0 = 0
        ("a", "legal.law", BOTH, 4.0, 1.0), ("b", "legal.law", BOTH, 4.0, 3.0),  # law 4 / 8 = 50 % → 30 × 0.5 = 15
    )  # ethics unmeasured → 20 × (1 − 0) = 20
    result = weighting.training_priority(scores, three, "L4")
    assert list(result.index) == [0, 1, 2]
    assert result["area"].tolist() == ["legal.ethics", "legal.law", "basic.telecom"]
    assert result["priority"].tolist() == [20.0, 15.0, 0.0]
    assert list(result.columns) == ["area", "area_title", "weight", "mastery", "priority"]


def test_training_priority_of_partial_mastery(mini: Course, cohort: pd.DataFrame) -> None:
    """Is telecom's priority at L4 70 × (1 − 4.5 / 7) = 25 and law's 30 × (1 − 1) = 0?"""
    result = weighting.training_priority(cohort, mini, "L4")
    assert result["area"].tolist() == ["basic.telecom", "legal.law"]
    assert result["priority"].tolist() == pytest.approx([25.0, 0.0])


def test_training_priority_is_never_negative(mini: Course) -> None:
    """Does extra credit (mastery 150 %) count as 100 %, so the priority is 0, not −35?"""
    scores = frame(("a", "basic.telecom", BOTH, 2.0, 3.0), ("a", "legal.law", BOTH, 10.0, 9.0))
    # telecom 150 % → min(150, 100) → 70 × 0 = 0 (not 70 × −0.5 = −35); law 90 % → 30 × 0.1 = 3.
    result = weighting.training_priority(scores, mini, "L4")
    assert result["area"].tolist() == ["legal.law", "basic.telecom"]
    assert result["priority"].tolist() == pytest.approx([3.0, 0.0])
    assert result["mastery"].tolist() == pytest.approx([90.0, 150.0])  # the table still shows the real mastery


def test_training_priority_at_exactly_full_mastery_is_zero(mini: Course) -> None:
    """Is the priority 0 at exactly 100 % mastery, and a mastery just above 100 still 0?"""
    scores = frame(("a", "basic.telecom", BOTH, 100.0, 100.5), ("a", "legal.law", BOTH, 1.0, 1.0))
    # telecom 100.5 % → 100 → 0; law 100 % → 0.
    assert weighting.training_priority(scores, mini, "L4")["priority"].tolist() == [0.0, 0.0]


# ---------------------------------------------------------------- pass_rates
def test_pass_rates_per_group_with_n_best_first() -> None:
    """Is the pass rate the share passed per roster group, with n learners (not rows), best first?"""
    passed = pd.DataFrame({"learner": ["a", "b", "c", "d", "e"], "passed": [True, False, True, True, False]})
    # The roster columns repeat on every score row (one per question): a learner counts once.
    roster = pd.DataFrame({
        "learner": ["a", "a", "b", "b", "b", "c", "d", "d", "e"],
        "question": ["q1", "q2", "q1", "q2", "q3", "q1", "q1", "q2", "q1"],
        "region": ["east", "east", "east", "east", "east", "north", "north", "north", "west"],
        "department": ["x", "x", "y", "y", "y", "y", "y", "y", "y"],
    })
    # east: a passed, b not → 1/2, n 2; north: c, d passed → 2/2, n 2; west: e not → 0/1, n 1.
    result = weighting.pass_rates(passed, roster, "region")
    assert list(result.columns) == ["group", "pass_rate", "n"]
    assert list(result.index) == [0, 1, 2]
    assert records(result) == [
        {"group": "north", "pass_rate": 1.0, "n": 2},
        {"group": "east", "pass_rate": 0.5, "n": 2},
        {"group": "west", "pass_rate": 0.0, "n": 1},
    ]
    # department x: a → 1/1; y: b, c, d, e → 2/4.
    by_department = weighting.pass_rates(passed, roster, "department")
    assert records(by_department) == [{"group": "x", "pass_rate": 1.0, "n": 1},
                                      {"group": "y", "pass_rate": 0.5, "n": 4}]
