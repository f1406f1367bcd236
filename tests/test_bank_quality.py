"""Does the shipped bank meet issue 22's goals, measured as `course validate` prints them?

Run alone (`python -m pytest tests/test_bank_quality.py -q`) it is the measurement script of
the issue: every number below comes from :mod:`course.bank.metrics` over the shipped content.
"""

from __future__ import annotations

from collections import Counter

import pytest
from course_runtime.scoring import blank_matches

from course import model as m
from course.bank.lint import RULES, Finding, counts, lint
from course.bank.metrics import GOAL_BY_ID, always_longest, cue_guessable, measure, truefalse_outside
from course.loader import Course


@pytest.fixture(scope="module")
def findings(course: Course) -> list[Finding]:
    return lint(course)


def test_always_choosing_the_longest_option_scores_at_most_30_percent(course: Course) -> None:
    """On every single-choice item (160 today), does the longest-option strategy stay at or under 30 %?"""
    assert always_longest(course.questions) <= GOAL_BY_ID["always-longest"].goal == 30


def test_at_most_5_percent_of_items_are_guessable_from_wording(course: Course, findings: list[Finding]) -> None:
    """Do lint cues give away the key of at most 5 % of all items?"""
    assert 100 * len(cue_guessable(findings)) / len(course.questions) <= GOAL_BY_ID["cue-guessable"].goal == 5


def test_truefalse_keys_are_45_to_55_percent_true_in_every_chapter_with_six(course: Course) -> None:
    """Strictly, with no rounding allowance, in every chapter with at least 6 true/false items?"""
    band = m.TrueFalseBalance(low=45, high=55, min_items=6)
    assert truefalse_outside(course.questions, band) == {}
    judged = Counter(q.chapter for q in course.questions if isinstance(q, m.TrueFalse))
    assert {c for c, n in judged.items() if n >= 6} == {"jc02", "jc04", "jc05", "jc07", "jc08", "js01"}


def test_no_explanation_names_an_absent_option_and_no_history_is_unlabelled(findings: list[Finding]) -> None:
    assert [f for f in findings if f.rule in ("explanation-absent-option", "historical-unlabelled")] == []


def test_every_lint_rule_is_clean_and_every_goal_met(course: Course, findings: list[Finding]) -> None:
    """Does the shipped bank need no allowance in course.yaml, and meet every goal of the table?"""
    assert counts(findings) == {r.id: 0 for r in RULES}
    assert all(mm.met and mm.target == mm.goal.goal for mm in measure(course, findings))
    quality = course.settings.quality
    assert quality is not None and quality.lint.allowed == {} and quality.lint.goals == {}


def test_multiple_choice_key_counts_vary(course: Course) -> None:
    """No item has more keys than wrong options, and no key count covers more than half the items, over the bank
    and among the items with 6 and with 8 options (4 of 8 is no longer a safe guess)?"""
    items = [q for q in course.questions if isinstance(q, m.MultipleChoice)]
    assert all(len(q.answer) <= len(q.options) - len(q.answer) for q in items)
    spread = Counter(len(q.answer) for q in items)
    assert set(spread) == {2, 3, 4} and max(spread.values()) <= len(items) / 2
    for n_options, keys in ((6, {2, 3}), (8, {2, 3, 4})):
        group = Counter(len(q.answer) for q in items if len(q.options) == n_options)
        assert set(group) == keys and max(group.values()) <= group.total() / 2, (n_options, group)


def test_keys_are_spread_over_the_option_positions(course: Course) -> None:
    """A paper sat on paper is answered in the bank's own option letters (`course import-answers --paper`), and
    nothing shuffles a sheet printed from the content: is no letter the single-choice key of more than 30 % of
    the items (it was A in 101 of 160), and are the keys of at most 10 % of multiple-choice items its first
    letters (A,B / A,B,C / A,B,C,D: 59 of 75 before)?"""
    singles = [q for q in course.questions if isinstance(q, m.SingleChoice)]
    positions = Counter(q.answer for q in singles)
    assert set(positions) == {"A", "B", "C", "D"} and max(positions.values()) <= 0.3 * len(singles)
    multiples = [q for q in course.questions if isinstance(q, m.MultipleChoice)]
    leading = [q.id for q in multiples if q.answer == list(q.options)[:len(q.answer)]]
    assert len(leading) <= 0.1 * len(multiples)


@pytest.mark.parametrize("ids", [("jc03-010", "jc03-016"), ("gw01-001", "xs07-012", "jc08-014"),
                                 ("jc05-008", "jc08-022"), ("jc02-016", "jc08-008", "jc08-009"),
                                 ("jc06-007", "xs08-008", "js02-021")])
def test_the_issues_same_fact_groups_are_declared(course: Course, ids: tuple[str, ...]) -> None:
    groups = {course.by_id[i].fact_group for i in ids}
    assert len(groups) == 1 and None not in groups


@pytest.mark.parametrize(("qid", "blank", "answer"), [
    ("jc05-013", 0, "1公分"), ("jc07-013", 0, "人际关系"), ("jc07-013", 0, "群体"), ("xs01-008", 1, "文化程度"),
    ("xs04-001", 0, "特性"), ("xs08-008", 1, "调整"), ("jc04-016", 0, "20天"), ("jc04-016", 0, "20日"),
    ("jc04-029", 0, "60日"), ("jc05-024", 0, "3声"), ("jc02-003", 0, "9月"), ("js02-012", 0, "254个"),
    ("jc04-018", 0, "2000年9月25日。"), ("jc04-025", 0, "“119”"), ("jc02-002", 0, "1 580"),
    ("jc02-002", 0, "1580亿"),
])
def test_fill_ins_accept_synonyms_unit_repeats_and_sentence_forms(course: Course, qid: str, blank: int,
                                                                  answer: str) -> None:
    q = course.by_id[qid]
    assert isinstance(q, m.FillBlank)
    assert any(blank_matches(alt, answer, q.compare == "text") for alt in q.blanks[blank])


@pytest.mark.parametrize(("qid", "blank", "answer"), [
    ("jc05-020", 1, "单位"), ("jc05-020", 1, "部门"),
])
def test_fill_ins_refuse_half_answers(course: Course, qid: str, blank: int, answer: str) -> None:
    """The second element of a self-introduction is 供职单位或部门: is a bare 单位 or 部门 refused?"""
    q = course.by_id[qid]
    assert isinstance(q, m.FillBlank)
    assert not any(blank_matches(alt, answer, q.compare == "text") for alt in q.blanks[blank])


def test_the_pricing_item_is_history_and_refuses_the_seed_typo(course: Course) -> None:
    """jc04-020: labelled 历史, explained by the 2014 revision, and 政付指导价 is no key."""
    q = course.by_id["jc04-020"]
    assert isinstance(q, m.FillBlank)
    assert "历史" in q.stem and "2014年修订" in q.explanation
    assert not any(blank_matches(alt, "政付指导价") for alt in q.blanks[1])


def test_every_case_criterion_says_what_earns_part_of_its_points(course: Course) -> None:
    cases = [q for q in course.questions if isinstance(q, m.CaseAnalysis)]
    assert len(cases) == 24
    assert all(any(0 < lv.points < r.points for lv in r.levels) for q in cases for r in q.rubric)


def test_the_local_data_items_can_be_graded_centrally(course: Course) -> None:
    """jc08-012/013 ask for how data is got and what a definition says, not for the learner's own region."""
    for qid in ("jc08-012", "jc08-013"):
        q = course.by_id[qid]
        assert isinstance(q, m.CaseAnalysis) and "你所在" not in q.stem
        assert q.provenance.note and "集中阅卷" in q.provenance.note
