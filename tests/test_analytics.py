"""Are the cohort figures right on a small gradebook checked by hand?

Fixture course (tests/fixtures/mini): questions 001 (2 pts), 002 (3), 004 (2),
005 (3), 006 (2) are 电信基础知识 = 12 points; 003 (1) and the case 007 (4) are
法律知识 = 5 points. 比重表: L4 70/30, L1 40/60. Pass mark 60.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from course.analytics import frames, weighting
from course.analytics.roster import read_roster
from course.errors import InputFileError
from course.nbconfig import db_url
from tests.conftest import MINI, CourseDir, make_course_dir, make_gradebook

FULL = {"ch01-001": 2.0, "ch01-002": 3.0, "ch01-003": 1.0, "ch01-004": 2.0, "ch01-005": 3.0, "ch01-006": 2.0,
        "ch01-007": None}
ZERO = dict.fromkeys(FULL, 0.0)
SCORES = {
    "amy": FULL,  # case hand-graded 3 of 4
    "bo": {**ZERO, "ch01-001": 2.0, "ch01-002": 2.0, "ch01-004": 1.0, "ch01-005": 1.0, "ch01-006": 1.0},
    "cai": ZERO,
    "dan": ZERO,
}
ROSTER = """learner_id,name,region,department,target_level
amy,艾米,华东,政企客户部,L4
bo,波,华东,商客部,四级
cai,蔡,华南,政企客户部,L1
"""


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[CourseDir, pd.DataFrame]:
    cd = make_course_dir(tmp_path_factory.mktemp("course"))
    make_gradebook(cd, "ch01", SCORES, manual={"amy": {"ch01-007": 3.0}})
    roster_csv = cd.root / "roster.csv"
    roster_csv.write_text(ROSTER, encoding="utf-8")
    roster = read_roster(roster_csv, cd.course)
    grades = frames.read_grades(db_url(cd.root), "kam-cert")
    return cd, frames.scores_frame(grades, cd.course, roster)


def test_scores_frame_has_one_row_per_learner_and_question(cohort: tuple[CourseDir, pd.DataFrame]) -> None:
    _, scores = cohort
    assert len(scores) == 4 * 7
    amy = scores[scores["learner"] == "amy"].set_index("question")
    assert amy.loc["ch01-007", "score"] == 3.0  # the manual score wins over the empty auto score
    assert amy.loc["ch01-001", ["area_title", "region", "target_level"]].tolist() == ["电信基础知识", "华东", "L4"]
    assert scores.loc[scores["learner"] == "dan", "region"].unique().tolist() == ["（未登记）"]


def test_area_mastery_is_earned_over_possible(cohort: tuple[CourseDir, pd.DataFrame]) -> None:
    _, scores = cohort
    m = weighting.area_mastery(scores, "L4").set_index(["learner", "area"])["mastery"]
    assert m["amy", "basic.telecom"] == 1.0
    assert m["amy", "legal.law"] == pytest.approx(4 / 5)
    assert m["bo", "basic.telecom"] == pytest.approx(7 / 12)
    assert m["bo", "legal.law"] == 0.0


def test_weighted_scores_use_each_level_table(cohort: tuple[CourseDir, pd.DataFrame]) -> None:
    cd, scores = cohort
    l4 = weighting.weighted_scores(scores, cd.course, "L4").set_index("learner")["weighted_score"]
    l1 = weighting.weighted_scores(scores, cd.course, "L1").set_index("learner")["weighted_score"]
    assert l4.to_dict() == pytest.approx({"amy": 70 + 30 * 0.8, "bo": 70 * 7 / 12, "cai": 0.0, "dan": 0.0})
    assert l1.to_dict() == pytest.approx({"amy": 40 + 60 * 0.8, "bo": 40 * 7 / 12, "cai": 0.0, "dan": 0.0})


def test_training_priority_is_weight_times_cohort_gap(cohort: tuple[CourseDir, pd.DataFrame]) -> None:
    cd, scores = cohort
    priority = weighting.training_priority(scores, cd.course, "L4").set_index("area")
    assert priority.loc["basic.telecom", "mastery"] == pytest.approx(100 * 19 / 48)
    assert priority.loc["basic.telecom", "priority"] == pytest.approx(70 * (1 - 19 / 48))
    assert priority.loc["legal.law", "priority"] == pytest.approx(30 * (1 - 4 / 20))
    assert priority.index.tolist() == ["basic.telecom", "legal.law"]


def test_pass_rates_by_region(cohort: tuple[CourseDir, pd.DataFrame]) -> None:
    cd, scores = cohort
    passed = weighting.pass_status(weighting.weighted_scores(scores, cd.course, "L4"), 60)
    assert passed.set_index("learner")["passed"].to_dict() == {"amy": True, "bo": False, "cai": False, "dan": False}
    rates = weighting.pass_rates(passed, scores, "region").set_index("group")
    assert rates.loc["华东", "pass_rate"] == 0.5 and rates.loc["华东", "n"] == 2
    assert rates.loc["华南", "pass_rate"] == 0.0 and rates.loc["（未登记）", "n"] == 1


def test_a_pending_manual_grade_counts_in_neither_earned_nor_possible(tmp_path: Path) -> None:
    cd = make_course_dir(tmp_path / "course")
    make_gradebook(cd, "ch01", {"eve": FULL})
    scores = frames.scores_frame(frames.read_grades(db_url(cd.root), "kam-cert"), cd.course)
    m = weighting.area_mastery(scores, "L4").set_index("area")
    assert m.loc["legal.law", "possible"] == 1.0 and m.loc["legal.law", "mastery"] == 1.0


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("learner_id,name,region,department,target_level\nx,甲,华东,,五级\n",
         ["row 2: department of 'x' is empty: fill it in",
          "row 2: target_level '五级' of 'x' is not a level: use one of L4, L1, 四级, 一级（资深）"]),
        ("learner_id,name,region,department,target_level\nx,甲,华东,部,L4\nx,乙,华南,部,L4\n",
         ["row 3: learner 'x' is listed again (first on row 2): keep one row"]),
        ("id,name\n", ["row 1: the header must be learner_id,name,region,department,target_level"]),
        ("learner_id,name,region,department,target_level\n,甲,华东,部,L4\ny,乙,华南\nz,丙,华南,部,九级\n",
         ["row 2: learner_id is empty: fill it in",
          "row 3: has 3 column(s), expected 5 (learner_id,name,region,department,target_level)",
          "row 4: target_level '九级' of 'z' is not a level: use one of L4, L1, 四级, 一级（资深）"]),
    ],
    ids=["empty-department-and-bad-level", "duplicate-learner", "bad-header", "short-row-among-bad-rows"],
)
def test_a_malformed_roster_names_every_bad_row(tmp_path: Path, text: str, problems: list[str]) -> None:
    from course.loader import load_course

    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_roster(path, load_course(MINI))
    assert caught.value.problems == problems
