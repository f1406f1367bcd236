"""Does a grader see what earns part of each rubric criterion's points, and the learner's feedback none of it?"""

from __future__ import annotations

from pydantic import TypeAdapter

from course import model as m
from course.grading.answers import Scored
from course.grading.outputs import graded_outputs
from course.nbgrader_ext import StripGraderOnly, is_grader_only

CASE = TypeAdapter(m.Question).validate_python({
    "id": "ch01-007", "section": "s", "mastery": "掌握", "type": "case", "points": 4,
    "stem": "某客户投诉网络中断，请说明你的处理步骤。", "explanation": "先倾听致歉，再承诺时限并回访。",
    "provenance": {"source": "general"},
    "rubric": [
        {"criterion": "先倾听并致歉", "points": 2, "levels": [
            {"points": 2, "descriptor": "先倾听、复述问题，再致歉"}, {"points": 1, "descriptor": "只致歉，没有倾听"}]},
        {"criterion": "给出处理时限和回访安排", "points": 2},
    ],
})


def test_grader_sees_each_criterion_with_its_levels_under_it() -> None:
    """Are the levels a nested list under their criterion, in the grader-only output?"""
    outputs = graded_outputs(CASE, Scored("ch01-007", "先道歉，然后报修。", None))
    (rubric,) = [o for o in outputs if is_grader_only(o)]
    assert rubric["data"]["text/html"] == (
        "<p><strong>评分要点（仅评分人可见）</strong></p>\n<ul>\n<li>先倾听并致歉（2分）<ul>\n"
        "<li>2分：先倾听、复述问题，再致歉</li>\n<li>1分：只致歉，没有倾听</li>\n</ul>\n</li>\n"
        "<li>给出处理时限和回访安排（2分）</li>\n</ul>")


def test_feedback_keeps_no_level() -> None:
    """Once StripGraderOnly has run, is no level descriptor left in the cell's outputs?"""
    from nbformat.v4 import new_code_cell

    cell = new_code_cell("quiz.show('ch01-007')")
    cell.outputs = graded_outputs(CASE, Scored("ch01-007", "先道歉，然后报修。", None))
    stripped, _ = StripGraderOnly().preprocess_cell(cell, {}, 0)
    text = str(stripped.outputs)
    assert "先倾听、复述问题，再致歉" not in text and "只致歉，没有倾听" not in text
    assert "先倾听致歉，再承诺时限并回访。" in text  # the explanation stays
