"""Does the item analysis give the textbook values, and agree with independent libraries?"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy.stats import pearsonr

from course.analytics.items import (
    DEFAULT_THRESHOLDS,
    Thresholds,
    corrected_item_total,
    cronbach_alpha,
    distractors,
    facility,
    group_size,
    item_flags,
    item_table,
    nonfunctional_distractors,
    score_matrix,
    upper_lower_index,
)


def scores_from_matrix(matrix: pd.DataFrame, chapter: str) -> pd.DataFrame:
    """A tidy scores frame (1-point single-choice questions) holding ``matrix``."""
    long = matrix.rename_axis(index="learner", columns="question").stack().rename("score").reset_index()
    return long.assign(chapter=chapter, type="single", points=1.0)


@pytest.fixture
def hand() -> pd.DataFrame:
    # 6 learners × 4 items; q4 is partial credit. Totals: a 4, b 2.5, c 2.5, d 2, e 2, f 0.
    data = {
        "q1": [1, 1, 1, 1, 1, 0],
        "q2": [1, 1, 0, 1, 0, 0],
        "q3": [1, 0, 1, 0, 1, 0],
        "q4": [1, 0.5, 0.5, 0, 0, 0],
    }
    return pd.DataFrame(data, index=pd.Index(list("abcdef"), name="learner"), dtype=float)


# ---------------------------------------------------------------- hand-checked statistics
def test_facility_is_the_mean_proportion(hand: pd.DataFrame) -> None:
    """Is facility the mean proportion correct of each item?"""
    # q1 5/6, q2 3/6, q3 3/6, q4 (1 + .5 + .5) / 6 = 1/3
    result = facility(hand)
    assert result.to_dict() == pytest.approx({"q1": 5 / 6, "q2": 0.5, "q3": 0.5, "q4": 1 / 3}, abs=1e-15)
    assert result.name == "facility"


def test_upper_lower_index_by_hand_with_ties(hand: pd.DataFrame) -> None:
    """Are the 27 % groups shared fractionally by learners tied at the cut, and the index upper − lower?"""
    # n = 6 → g = round(0.27 × 6) = round(1.62) = 2. Totals f 0, d 2, e 2, b 2.5, c 2.5, a 4.
    # Lower: f (below the cut) weight 1; d and e tie on the cut total 2 and share the last place: ½ each.
    # Upper: a weight 1; b and c tie on 2.5 and share the last place: ½ each. Means divide by g = 2.
    # q1: upper (1 + ½ + ½)/2 = 1     − lower (0 + ½ + ½)/2 = ½  → ½
    # q2: upper (1 + ½ + 0)/2 = ¾     − lower (0 + ½ + 0)/2 = ¼  → ½
    # q3: upper (1 + 0 + ½)/2 = ¾     − lower (0 + 0 + ½)/2 = ¼  → ½
    # q4: upper (1 + ¼ + ¼)/2 = ¾     − lower 0                  → ¾
    result = upper_lower_index(hand)
    assert result.to_dict() == {"q1": 0.5, "q2": 0.5, "q3": 0.5, "q4": 0.75}


def test_cronbach_alpha_by_hand(hand: pd.DataFrame) -> None:
    """Is alpha k/(k−1)(1 − Σ item var / total var) with ddof=1?"""
    # Item variances (ddof=1), binary p: n/(n−1)·p(1−p):
    #   q1 6/5 · 5/6 · 1/6 = 1/6; q2 = q3 = 6/5 · 1/4 = 3/10;
    #   q4: Σx² = 1.5, mean 1/3 → SS = 1.5 − 6/9 = 5/6 → var 1/6.  Σ = 1/6 + 3/10 + 3/10 + 1/6 = 14/15.
    # Totals 4, 2.5, 2.5, 2, 2, 0: Σ = 13, Σx² = 36.5 → SS = 36.5 − 169/6 = 25/3 → var 5/3.
    # alpha = 4/3 · (1 − (14/15)/(5/3)) = 4/3 · 11/25 = 44/75.
    assert cronbach_alpha(hand) == pytest.approx(44 / 75, abs=1e-15)


def test_corrected_item_total_by_hand(hand: pd.DataFrame) -> None:
    """Is discrimination r(item, total of the other items), NaN for a constant item?"""
    # q3 = 1,0,1,0,1,0; rest = total − q3 = 3, 2.5, 1.5, 2, 1, 0 (mean 5/3).
    # Σ(x−x̄)(y−ȳ) = 0.5 · [(3 + 1.5 + 1) − (2.5 + 2 + 0)] = 0.5;  SSx = 6 · 0.25 = 1.5;
    # SSy = 22.5 − 6 · 25/9 = 35/6  → r = 0.5 / √(1.5 · 35/6) = 0.5 / √(35/4) = 1/√35.
    # q2 = 1,1,0,1,0,0; rest = 3, 1.5, 2.5, 1, 2, 0: the same sums → 1/√35.
    result = corrected_item_total(hand.assign(q5=1.0))
    assert result["q3"] == pytest.approx(1 / math.sqrt(35), abs=1e-15)
    assert result["q2"] == pytest.approx(1 / math.sqrt(35), abs=1e-15)
    assert math.isnan(result["q5"])
    assert result.name == "discrimination"


def test_group_size_ignores_float_noise() -> None:
    """Is the 27 % group of 100 learners 27, though 0.27 × 100 is 27.000000000000004 in floats?"""
    assert group_size(100, 0.27) == 27
    assert group_size(6, 0.27) == 2
    assert group_size(5, 0.5) == 3


def test_upper_lower_fraction_must_be_a_share_of_half() -> None:
    """Is a fraction outside (0, 0.5] refused?"""
    with pytest.raises(ValueError, match="fraction"):
        upper_lower_index(pd.DataFrame({"q1": [1.0, 0.0]}), fraction=0.6)


def test_alpha_is_nan_when_undefined() -> None:
    """Is alpha NaN for one item or for totals without variance?"""
    assert math.isnan(cronbach_alpha(pd.DataFrame({"q1": [1.0, 0.0, 1.0]})))
    assert math.isnan(cronbach_alpha(pd.DataFrame({"q1": [1.0, 0.0], "q2": [0.0, 1.0]})))


# ---------------------------------------------------------------- agreement with pingouin and scipy
@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    # 200 learners × 12 items from a logistic model: 8 binary items, 4 partial-credit items in quarters.
    rng = np.random.default_rng(20240601)
    ability = rng.normal(size=(200, 1))
    difficulty = rng.normal(size=12)
    p = 1 / (1 + np.exp(-(ability - difficulty)))
    binary = (rng.random((200, 8)) < p[:, :8]).astype(float)
    partial = rng.binomial(4, p[:, 8:]) / 4
    index = pd.Index([f"L{i:03d}" for i in range(200)], name="learner")
    return pd.DataFrame(np.hstack([binary, partial]), index=index, columns=[f"i{j:02d}" for j in range(12)])


def test_alpha_agrees_with_pingouin(simulated: pd.DataFrame) -> None:
    """Does alpha equal pingouin.cronbach_alpha on a 200 × 12 mixed matrix?"""
    expected, _ci = pingouin.cronbach_alpha(data=simulated)
    assert cronbach_alpha(simulated) == pytest.approx(expected, abs=1e-9)
    assert 0.5 < expected < 1  # the simulated items do measure one trait


def test_corrected_item_total_agrees_with_scipy(simulated: pd.DataFrame) -> None:
    """Does each item's discrimination equal scipy's pearsonr(item, total − item)?"""
    result = corrected_item_total(simulated)
    total = simulated.sum(axis=1)
    for item in simulated.columns:
        expected = pearsonr(simulated[item], total - simulated[item]).statistic
        assert result[item] == pytest.approx(expected, abs=1e-9), item


def test_upper_lower_is_the_mean_over_every_tie_break(hand: pd.DataFrame) -> None:
    """Is the fractional index the average of the plain-sort index over all 720 orders of the learners?"""
    totals = hand.sum(axis=1)
    indices = []
    for order in itertools.permutations(hand.index):
        rank = {learner: i for i, learner in enumerate(order)}  # the tie-breaker of this order
        ranked = sorted(hand.index, key=lambda learner: (totals[learner], rank[learner]))
        lower, upper = ranked[:2], ranked[-2:]
        indices.append(hand.loc[upper].mean() - hand.loc[lower].mean())
    expected = pd.concat(indices, axis=1).mean(axis=1).rename("ul_index")
    pd.testing.assert_series_equal(upper_lower_index(hand), expected, rtol=0, atol=1e-12)


def test_relabelling_learners_cannot_change_the_index(simulated: pd.DataFrame) -> None:
    """Does renaming the learners (reversing the ids) leave the 27 % index exactly as it was?"""
    relabelled = simulated.set_axis(simulated.index[::-1], axis=0).sort_index()
    pd.testing.assert_series_equal(upper_lower_index(relabelled), upper_lower_index(simulated), rtol=0, atol=1e-12)


# ---------------------------------------------------------------- score matrix and item table
def test_score_matrix_keeps_submitted_learners_and_auto_graded_items() -> None:
    """Are case questions, other chapters and unsubmitted learners left out, and NaN → 0 otherwise?"""
    rows = [
        # learner, chapter, question, type, points, score
        ("u1", "jc01", "jc01-001", "single", 1.0, 1.5),  # extra credit → clipped to 1
        ("u1", "jc01", "jc01-002", "multiple", 2.0, 1.0),  # partial credit → 0.5
        ("u1", "jc01", "jc01-003", "case", 5.0, np.nan),
        ("u2", "jc01", "jc01-001", "single", 1.0, 0.0),
        ("u2", "jc01", "jc01-002", "multiple", 2.0, np.nan),  # submitted but not graded → 0
        ("u2", "jc01", "jc01-003", "case", 5.0, 4.0),
        ("u3", "jc01", "jc01-001", "single", 1.0, np.nan),  # no score at all → not a learner of jc01
        ("u3", "jc01", "jc01-002", "multiple", 2.0, np.nan),
        ("u4", "jc02", "jc02-001", "single", 1.0, 1.0),
    ]
    scores = pd.DataFrame(rows, columns=["learner", "chapter", "question", "type", "points", "score"])
    expected = pd.DataFrame(
        [[1.0, 0.5], [0.0, 0.0]],
        index=pd.Index(["u1", "u2"], name="learner"),
        columns=pd.Index(["jc01-001", "jc01-002"], name="question"),
    )
    pd.testing.assert_frame_equal(score_matrix(scores, "jc01"), expected)


def test_item_table_flags() -> None:
    """Does the item table carry the hand-derived flags for hard, easy, poor and negative items?"""
    # Totals a 4, b 2, c 2, d 2, e 2, f 3. Σ(x−x̄)(y−ȳ) = Σxy − n·x̄·ȳ, y = rest = total − item.
    # 001: rest 3,2,2,2,1,2 (ȳ 2); right a, e, f: 3 + 1 + 2 − 6·.5·2 = 0 → r = 0 → 区分度差 only
    # 002: rest 3,2,2,2,2,2 (ȳ 13/6); cov 5 − 13/3 = 2/3, SSx 4/3, SSy 29 − 169/6 = 5/6 → r = 2/√10 ≈ .63
    # 003: facility 1/6 < .20 → 过难; rest 3,2,2,2,2,3 (ȳ 7/3); cov 3 − 7/3 = 2/3, SSx 5/6, SSy 4/3 → r = 2/√10
    # 004: facility 1 > .90 → 过易; constant → r NaN → no discrimination flag
    # 005: rest 4,1,1,1,2,3 (ȳ 2); cov 3 − 6 = −3, SSx 1.5, SSy 8 → r = −3/√12 = −√3/2 → 区分度差 and 负区分
    data = {
        "jc02-001": [1, 0, 0, 0, 1, 1],
        "jc02-002": [1, 0, 0, 0, 0, 1],
        "jc02-003": [1, 0, 0, 0, 0, 0],
        "jc02-004": [1, 1, 1, 1, 1, 1],
        "jc02-005": [0, 1, 1, 1, 0, 0],
    }
    matrix = pd.DataFrame(data, index=pd.Index(list("abcdef"), name="learner"), dtype=float)
    table = item_table(scores_from_matrix(matrix, "jc02"), "jc02")
    assert list(table.columns) == ["question", "facility", "discrimination", "ul_index", "flags"]
    assert dict(zip(table["question"], table["flags"], strict=True)) == {
        "jc02-001": ("区分度差",),
        "jc02-002": (),
        "jc02-003": ("过难",),
        "jc02-004": ("过易",),
        "jc02-005": ("区分度差", "负区分"),
    }
    expected_r = [0.0, 2 / math.sqrt(10), 2 / math.sqrt(10), math.nan, -math.sqrt(3) / 2]
    assert table["discrimination"].tolist() == pytest.approx(expected_r, abs=1e-15, nan_ok=True)
    assert table["facility"].tolist() == pytest.approx([0.5, 1 / 3, 1 / 6, 1.0, 0.5], abs=1e-15)
    # g = round(1.62) = 2; upper {a 4, f 3}; lower: b, c, d, e all tie on 2 for 2 places → ½ each.
    # 001: upper (1 + 1)/2 − lower (0 + 0 + 0 + 1)·½/2 = 1 − ¼ = ¾;  005: 0 − (1 + 1 + 1 + 0)·½/2 = −¾
    assert table["ul_index"].tolist() == [0.75, 1.0, 0.5, 0.0, -0.75]
    # Stricter bands flag the .63 items as well.
    strict = item_table(scores_from_matrix(matrix, "jc02"), "jc02", Thresholds(poor_discrimination=0.7))
    assert strict["flags"].tolist()[1:3] == [("区分度差",), ("过难", "区分度差")]


def test_flag_bounds_are_strict() -> None:
    """Are items exactly on a band edge left unflagged, and NaN statistics never flagged?"""
    assert item_flags(0.20, 0.20) == ()
    assert item_flags(0.90, 0.0) == ("区分度差",)
    assert item_flags(0.5, math.nan) == ()
    assert item_flags(0.19, -0.01) == ("过难", "区分度差", "负区分")


def test_thresholds_are_frozen_with_the_usual_defaults() -> None:
    """Are the default cut-offs .20/.90/.20/0 and immutable?"""
    assert dataclasses.astuple(DEFAULT_THRESHOLDS) == (0.20, 0.90, 0.20, 0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_THRESHOLDS.too_hard = 0.3  # type: ignore[misc]


# ---------------------------------------------------------------- distractors
@pytest.fixture
def responses() -> pd.DataFrame:
    rows = [
        ("u1", "q1", "single", "B"),
        ("u2", "q1", "single", "B"),
        ("u3", "q1", "single", "A"),
        ("u4", "q1", "single", None),  # unanswered: not a respondent
        ("u5", "q1", "single", "B"),
        ("u1", "q2", "multiple", ["A", "C"]),
        ("u2", "q2", "multiple", ["A"]),
        ("u3", "q2", "multiple", []),  # nothing ticked: not a respondent
        ("u4", "q2", "multiple", ["A", "B", "C"]),
        ("u5", "q2", "multiple", np.array(["C"])),  # as read back from parquet
        ("u1", "q3", "truefalse", True),  # no options: ignored
        ("u1", "q4", "single", None),
    ]
    return pd.DataFrame(rows, columns=["learner", "question", "type", "response"]).assign(chapter="jc01")


OPTIONS = {
    "q1": {"A": "甲", "B": "乙", "C": "丙", "D": "丁"},
    "q2": {"A": "甲", "B": "乙", "C": "丙"},
    "q4": {"A": "甲", "B": "乙"},
}
KEYS = {"q1": "B", "q2": ["A", "C"], "q4": "A"}


def test_distractor_shares(responses: pd.DataFrame) -> None:
    """Are shares counted over respondents only, and by inclusion for multiple choice?"""
    # q1: 4 respondents: A 1, B 3, C 0, D 0.  q2: 4 respondents (u1, u2, u4, u5): A 3, B 1, C 3.
    frame = distractors(responses, OPTIONS, KEYS)
    assert list(frame.columns) == ["question", "option", "text", "share", "is_key", "n"]
    got = {(q, o): (s, k, n) for q, o, s, k, n in frame[["question", "option", "share", "is_key", "n"]].itertuples(
        index=False)}
    assert {key: value for key, value in got.items() if key[0] != "q4"} == {
        ("q1", "A"): (0.25, False, 4),
        ("q1", "B"): (0.75, True, 4),
        ("q1", "C"): (0.0, False, 4),
        ("q1", "D"): (0.0, False, 4),
        ("q2", "A"): (0.75, True, 4),
        ("q2", "B"): (0.25, False, 4),
        ("q2", "C"): (0.75, True, 4),
    }
    assert frame.loc[frame["question"] == "q1", "text"].tolist() == ["甲", "乙", "丙", "丁"]
    q4 = frame[frame["question"] == "q4"]
    assert q4["n"].tolist() == [0, 0] and q4["share"].isna().all()


def test_distractor_shares_do_not_depend_on_shared_answer_objects(responses: pd.DataFrame) -> None:
    """Do answers decoded once and shared (as the snapshot gives them) count exactly as separate copies do?"""
    import copy

    separate = responses.assign(response=[copy.deepcopy(r) for r in responses["response"]])
    canonical: dict[str, object] = {}
    shared = responses.assign(response=[canonical.setdefault(repr(r), r) for r in responses["response"]])
    expected = distractors(separate, OPTIONS, KEYS)
    pd.testing.assert_frame_equal(distractors(shared, OPTIONS, KEYS), expected)
    # one shared answer object repeated 1,000 times is 1,000 respondents
    many = pd.concat([shared] * 1000, ignore_index=True)
    counted = distractors(many, OPTIONS, KEYS)
    assert counted["n"].tolist() == [n * 1000 for n in expected["n"]]
    pd.testing.assert_series_equal(counted["share"], expected["share"])


def test_nonfunctional_distractors(responses: pd.DataFrame) -> None:
    """Are only wrong options chosen by fewer than 5 % (or the given share) flagged, given enough respondents?"""
    frame = distractors(responses, OPTIONS, KEYS)
    labels = frame["question"] + frame["option"]
    # 4 respondents: below the default 20 the rare options are 样本量小, not non-functional.
    assert set(labels[nonfunctional_distractors(frame, min_n=4)["nonfunctional"]]) == {"q1C", "q1D"}
    assert set(labels[nonfunctional_distractors(frame, min_share=0.3, min_n=4)["nonfunctional"]]) == {
        "q1A", "q1C", "q1D", "q2B"}


def test_a_distractor_share_from_few_learners_is_a_small_sample(responses: pd.DataFrame) -> None:
    """With fewer than 20 respondents, is a rarely chosen wrong option 样本量小 rather than non-functional?"""
    marked = nonfunctional_distractors(distractors(responses, OPTIONS, KEYS))
    labels = marked["question"] + marked["option"]
    assert not marked["nonfunctional"].any()
    assert set(labels[marked["small_sample"]]) == {"q1C", "q1D"}
    assert set(labels[nonfunctional_distractors(distractors(responses, OPTIONS, KEYS), min_n=5)["small_sample"]]) == {
        "q1C", "q1D"}


def test_distractors_need_options_and_keys(responses: pd.DataFrame) -> None:
    """Is a choice question without options or key reported rather than silently skipped?"""
    with pytest.raises(KeyError, match="q2"):
        distractors(responses, OPTIONS, {"q1": "B", "q4": "A"})


def test_distractors_list_questions_by_id_and_name_the_missing_one() -> None:
    """Are questions listed by id whatever the order of the responses, and a missing key or option named?"""
    rows = [("u1", "q2", "single", "A"), ("u1", "q1", "single", "B"), ("u2", "q2", "single", "B")]
    responses = pd.DataFrame(rows, columns=["learner", "question", "type", "response"])
    options = {"q1": {"A": "甲", "B": "乙"}, "q2": {"A": "甲", "B": "乙"}}
    frame = distractors(responses, options, {"q1": "B", "q2": "A"})
    assert frame["question"].tolist() == ["q1", "q1", "q2", "q2"]
    assert frame["share"].tolist() == [0.0, 1.0, 0.5, 0.5]
    message = "no options or key for q2: pass the content version of these responses"
    with pytest.raises(KeyError, match=message):
        distractors(responses, options, {"q1": "B"})
    with pytest.raises(KeyError, match=message):
        distractors(responses, {"q1": options["q1"]}, {"q1": "B", "q2": "A"})


def test_a_single_key_is_one_option_however_long_its_name() -> None:
    """Is a single-choice key named by several letters ("opt1") that one option, not its letters?"""
    responses = pd.DataFrame([("u1", "q1", "single", "opt1")], columns=["learner", "question", "type", "response"])
    frame = distractors(responses, {"q1": {"opt1": "甲", "opt2": "乙"}}, {"q1": "opt1"})
    assert frame["is_key"].tolist() == [True, False]


def test_malformed_multiple_answers_are_not_respondents() -> None:
    """Are a text, a missing answer, blank option names and non-text entries no multiple-choice answer?"""
    rows = [("u1", "q1", "multiple", "AC"),  # a string, not a selection
            ("u2", "q1", "multiple", None),
            ("u3", "q1", "multiple", ["", " "]),  # only blank names
            ("u4", "q1", "multiple", [1, 2]),  # not option keys
            ("u5", "q1", "multiple", ["A", 3, ""])]  # one real key: counts, as A
    responses = pd.DataFrame(rows, columns=["learner", "question", "type", "response"])
    frame = distractors(responses, {"q1": {"A": "甲", "C": "丙"}}, {"q1": ["A", "C"]})
    assert frame["n"].tolist() == [1, 1] and frame["share"].tolist() == [1.0, 0.0]


def test_no_choice_questions_give_an_empty_frame_with_the_columns() -> None:
    """Without a single- or multiple-choice question, is the distractor frame empty but with its columns?"""
    responses = pd.DataFrame([("u1", "q3", "truefalse", True)], columns=["learner", "question", "type", "response"])
    frame = distractors(responses, {}, {})
    assert frame.empty and list(frame.columns) == ["question", "option", "text", "share", "is_key", "n"]


def test_a_share_of_exactly_five_percent_is_functional() -> None:
    """Is a wrong option chosen by exactly 5 % (1 of 20) functional, and one chosen by nobody not?"""
    frame = pd.DataFrame({"question": ["q1"] * 3, "option": ["A", "B", "C"], "text": ["甲", "乙", "丙"],
                          "share": [0.95, 0.05, 0.0], "is_key": [True, False, False], "n": [20, 20, 20]})
    marked = nonfunctional_distractors(frame)
    assert marked["nonfunctional"].tolist() == [False, False, True]
    assert marked["small_sample"].tolist() == [False, False, False]
