"""Balancing two measures: complete answers by item type, their curves, and what a miss names."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course.certification import assembly, papers
from course.certification import difficulty as d
from course.certification.blueprint import blueprint
from course.certification.config import Certification, load_certification
from course.loader import Course, load_course
from tests.conftest import CERT

CONTENT = CERT  # the module fixtures `course` and `cert` (tests/conftest.py) load it


@pytest.fixture(scope="module")
def shipped() -> Course:
    return load_course()


def first(course: Course, qtype: str, **attrs: object) -> object:
    return next(q for q in course.questions if q.type == qtype and all(getattr(q, k) == v for k, v in attrs.items()))


def test_complete_answers_are_full_credit_or_pairs_less_guessing_by_type(shipped: Course) -> None:
    """Multiple choice and ordering: full credit 1/0; matching: pairs right with 1/#options by guessing; else None."""
    shares = np.array([1.0, 0.5, 1 - 1e-12, 0.0])
    multiple = d.complete_answers(first(shipped, "multiple", scoring="partial"), shares)  # type: ignore[arg-type]
    ordering = d.complete_answers(first(shipped, "ordering", scoring="partial"), shares)  # type: ignore[arg-type]
    matching_q = first(shipped, "matching")
    matching = d.complete_answers(matching_q, shares)  # type: ignore[arg-type]
    assert multiple is not None and list(multiple[0]) == [1.0, 0.0, 1.0, 0.0] and multiple[1] == 0.0
    assert ordering is not None and list(ordering[0]) == [1.0, 0.0, 1.0, 0.0] and ordering[1] == 0.0
    assert matching is not None and matching[0] is shares
    assert matching[1] == 1 / len(matching_q.options)  # type: ignore[attr-defined]
    for qtype in ("single", "truefalse", "blank"):
        assert d.complete_answers(first(shipped, qtype), shares) is None  # type: ignore[arg-type]


def test_a_complete_answer_curve_through_two_abilities_is_the_hand_computed_2pl() -> None:
    """Respondents known to sit at two abilities θ1, θ2 with complete-answer rates 0.2 and 0.8: the 2PL through
    both points has a = (logit 0.8 − logit 0.2)/(θ2 − θ1) = 2 ln 4/(θ2 − θ1) and b = (θ1 + θ2)/2. A matching
    item whose guessing floor is 0.25 shows the same curve at pair rates 0.25 + 0.75·0.2 = 0.4 and 0.85."""
    i1, i2 = 17, 23
    t1, t2 = float(d._NODES[i1]), float(d._NODES[i2])
    posterior = np.zeros((10, len(d._NODES)))
    posterior[:5, i1] = 1.0
    posterior[5:, i2] = 1.0
    y = np.array([1, 0, 0, 0, 0, 1, 1, 1, 1, 0], dtype=float)
    a, b = d._complete_curve(y, 0.0, posterior, (1.0, 0.0)) or (math.nan, math.nan)
    assert a == pytest.approx(2 * math.log(4) / (t2 - t1), rel=1e-4) and b == pytest.approx((t1 + t2) / 2, abs=1e-4)
    pairs = np.array([0.4] * 5 + [0.85] * 5)
    a2, b2 = d._complete_curve(pairs, 0.25, posterior, (1.0, 0.0)) or (math.nan, math.nan)
    assert a2 == pytest.approx(a, rel=1e-4) and b2 == pytest.approx(b, abs=1e-4)


def test_few_respondents_give_a_complete_share_corrected_for_guessing_and_pulled_to_the_prior(
        shipped: Course) -> None:
    """A matching item with 4 options, 10 respondents with 70 % of pairs right: (0.7 − 0.25)/0.75 = 0.6,
    pulled to its mastery's prior facility weighing 10 respondents, on the assumed discrimination."""
    cert = load_certification(shipped)
    q = next(q for q in shipped.questions if q.type == "matching" and len(q.options) == 4)  # type: ignore[attr-defined]
    responses = pd.DataFrame({"respondent": [f"r{i}" for i in range(10)], "question": q.id,
                              "proportion": [0.75] * 6 + [0.625] * 4})
    item = d.estimate([q], cert, responses, "2026-12-01T00:00:00+00:00").items[q.id]
    prior = cert.difficulty.prior_facility[q.mastery]
    share = (10 * 0.6 + 10 * prior) / 20
    assert item.facility == pytest.approx(0.7)
    assert item.complete == (1.7, pytest.approx(d.location_for(share, 1.7), abs=1e-12))


def test_estimates_written_before_complete_curves_read_as_the_expected_curve(tmp_path: Path) -> None:
    folder = tmp_path / "papers" / "estimates"
    folder.mkdir(parents=True)
    item = {"source": "facility", "n": 12, "facility": 0.5, "a": 1.7, "b": [0.3], "values": [0.0, 1.0]}
    (folder / "20261201T000000Z.json").write_text(json.dumps(
        {"as_of": "2026-12-01T00:00:00+00:00", "respondents": 12, "method": "facility", "items": {"q": item}}),
        encoding="utf-8")
    est = d.latest_estimates(tmp_path)
    assert est is not None and est.items["q"].complete is None
    assert est.items["q"].complete_share(0.5) == est.items["q"].expected(0.5)


def test_every_variant_holds_both_measures_within_the_tolerance(course: Course, cert: Certification) -> None:
    """With complete-answer curves unlike the expected ones, each variant's expected score and complete-answer
    points are both within ±0.5 of their targets at θ = −1, 0, +1, as the manifest records them."""
    rng = np.random.default_rng(5)
    items = {}
    for q in course.questions:
        b = float(rng.normal(0, 1))
        items[q.id] = flat(0.5) if q.type == "case" else d.ItemEstimate(
            "facility", 50, 0.5, 1.7, (b,), (0.0, 1.0), (1.7, b + float(rng.normal(0.5, 1))))
    est = d.Estimates("2026-12-01T00:00:00+00:00", 50, "facility", items)
    plan = blueprint(course, cert, "L4")
    clash = papers.near_duplicates(list(course.questions), cert.near_duplicate_threshold)
    drawn = []
    for i in range(6):
        v = papers.draw(course, cert, plan, "L4-t", "s", f"learner{i}", (), est)
        assert len(v.expected) == len(v.complete) == 3 and not v.miss
        assert max(abs(np.subtract(v.expected, v.target))) <= 0.5 + 0.01
        assert max(abs(np.subtract(v.complete, v.complete_target))) <= 0.5 + 0.01
        assert v.complete != v.expected
        # with these estimates too: near-duplicates apart, and the same seed and learner give the same variant
        assert not {"ch01-024", "ch01-025"} <= set(v.questions)
        assert papers.draw(course, cert, plan, "L4-t", "s", f"learner{i}", (), est, clash) == v
        drawn.append(v)
    # a re-sit with these estimates leaves out every item of the first paper and their near-duplicates
    seen = papers.with_near_duplicates(drawn[0].questions, clash)
    resit = papers.draw(course, cert, plan, "L4-r", "s", "learner0", seen, est, clash)
    assert not set(resit.questions) & seen and not resit.miss


def test_a_miss_is_the_closest_variant_and_names_the_cell_furthest_from_its_mean() -> None:
    """One item from each of two areas (1 point each), target 0.8, tolerance 0.05: the pair sums are 0.4, 1.0,
    0.5 and 1.1, so the closest is 0.1 + 0.9 (0.2 off); area 1's mean is 0.6, so its 0.9 is +0.3 off, area 0's
    0.1 against 0.15 only −0.05."""
    p = assembly.Problem(points=np.ones(4), area=np.array([0, 0, 1, 1]), qtype=np.zeros(4, dtype=int),
                         expected=np.array([[0.1], [0.2], [0.3], [0.9]]), area_points=np.array([1.0, 1.0]),
                         type_points=np.array([2.0]), clashes=[], target=np.array([0.8]), cell=np.array([0, 0, 1, 1]),
                         cell_mean=np.array([[0.15], [0.6]]))
    chosen, miss = assembly.solve(p, np.array([0.9, 0.1, 0.5, 0.5]), 0.05)
    assert chosen is not None and list(chosen) == [True, False, False, True]
    assert miss is not None and (miss.column, miss.cell) == (0, 1)
    assert (miss.distance, miss.cell_distance) == (pytest.approx(0.2), pytest.approx(0.3))


def test_a_miss_note_says_measure_ability_distance_and_cell(course: Course, cert: Certification) -> None:
    plan = blueprint(course, cert, "L4")
    areas, types = list(plan.area_points), list(plan.type_points)
    miss = assembly.Miss(0.734, 4, len(types) + types.index("truefalse"), -0.61)
    note = papers.miss_note(course, cert, "a.b", miss, areas, types)
    assert note == (f"a.b: expected complete-answer points at θ = 0 is 0.73 points from the target (tolerance 0.5); "
                    f"the cell furthest off is {course.leaf_areas[areas[1]].title} × 判断题 (-0.61 points against "
                    "the bank's average for its items)")


def flat(share: float) -> d.ItemEstimate:
    """A curve that is ``share`` at every ability."""
    return d.ItemEstimate("facility", 40, share, 1.7, (0.0,), (share, share))


def test_the_skills_part_takes_a_case_within_its_tolerance_whatever_the_learner_order(
        course: Course, cert: Certification) -> None:
    """Cases worth 10 scoring 2, 5 and 8 on average: the target is 10 × 0.5 = 5, so with a tolerance of 1 point
    only the middle case qualifies; with 3.5 points the first case in the learner's order does."""
    cases = ["ch01-038", "ch01-039", "ch01-040"]
    est = d.Estimates("2026-12-01T00:00:00+00:00", 40, "facility",
                      {q: flat(x) for q, x in zip(cases, (0.2, 0.5, 0.8), strict=True)})
    plan = blueprint(course, cert, "L4")
    order = [course.by_id[q] for q in ("ch01-040", "ch01-038", "ch01-039")]
    assert papers.draw_skills(course, cert, plan, order, {}, est) == (["ch01-039"], "")
    loose = cert.model_copy(update={"balance": cert.balance.model_copy(update={"skills_tolerance": 3.5})})
    assert papers.draw_skills(course, loose, plan, order, {}, est) == (["ch01-040"], "")


def test_skills_out_of_reach_take_the_closest_and_say_how_far(course: Course, cert: Certification) -> None:
    """Left with the 2 and the 8 (the 5 seen before), the target stays 5: both are 3 points off; the first in
    the learner's order is taken."""
    cases = ["ch01-038", "ch01-039", "ch01-040"]
    est = d.Estimates("2026-12-01T00:00:00+00:00", 40, "facility",
                      {q: flat(x) for q, x in zip(cases, (0.2, 0.5, 0.8), strict=True)})
    plan = blueprint(course, cert, "L4")
    order = [course.by_id[q] for q in ("ch01-040", "ch01-038")]
    assert papers.draw_skills(course, cert, plan, order, {}, est) == (["ch01-040"], (
        "the skills part's expected score is 3.00 points from its target (tolerance 1); the level's case "
        "questions differ too much in difficulty"))
