"""What does a graded cell show? The learner's text inert, the key, and blanks that may come in any order."""

from __future__ import annotations

import json

import pytest

from course import model as m
from course.grading.answers import Scored
from course.grading.outputs import (
    ALTERED,
    correct_answer,
    format_response,
    graded_outputs,
    inert,
    key_outputs,
    learner_outputs,
    learner_outputs_json,
)
from course.loader import load_course
from tests.conftest import MINI
from tests.test_pipeline import ALL_CORRECT, ALL_WRONG, PARTIAL

COURSE = load_course(MINI)
BLANK = COURSE.by_id["ch01-004"]  # blanks [[基础电信业务], [增殖电信业务, 增值电信业务]], in order
assert isinstance(BLANK, m.FillBlank)
ANY_ORDER = BLANK.model_copy(update={"any_order": True})
S, E = '<span class="tex2jax_ignore">', "</span>"  # around each piece of a learner's text


@pytest.mark.parametrize(("typed", "html"), [
    ("[点我](javascript:alert(1))", "[点我](javascript:alert(1))"),
    ("![](http://evil.example/t.png)", "![](http://evil.example/t.png)"),
    ("# 得分：10 / 10 分", "# 得分：10 / 10 分"),
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("第一行\n第二行\r\n第三行", "第一行<br>第二行<br>第三行"),
    ("A & B <!-- x -->", "A &amp; B &lt;!-- x --&gt;"),
    (r"$\href{http://evil.example/x}{点我}$", r"$\href{http://evil.example/x}{点我}$"),
])
def test_learner_text_becomes_html_that_shows_it_as_typed(typed: str, html: str) -> None:
    """Is a learner's text escaped, its line breaks kept, and the whole inside MathJax's ignore class?"""
    assert inert(typed) == f"{S}{html}{E}"


def test_blanks_in_order_are_shown_as_given() -> None:
    assert format_response(BLANK, ["增值电信业务", "基础电信业务"]) == f"(1) {S}增值电信业务{E}；(2) {S}基础电信业务{E}"
    assert correct_answer(BLANK) == "(1) 基础电信业务；(2) 增殖电信业务 / 增值电信业务"


def test_blanks_in_any_order_stand_beside_the_key_and_say_the_order_does_not_matter() -> None:
    """Is a right answer in another order shown in the key's order, with 顺序不限, and given full marks?"""
    swapped = ["增值电信业务", "基础电信业务"]
    assert format_response(ANY_ORDER, swapped) == (
        f"(1) {S}基础电信业务{E}；(2) {S}增值电信业务{E}（各空顺序不限，已按正确答案的顺序对照排列）")
    assert correct_answer(ANY_ORDER) == "(1) 基础电信业务；(2) 增殖电信业务 / 增值电信业务（各空顺序不限）"
    answer, key, score = graded_outputs(ANY_ORDER, Scored(ANY_ORDER.id, swapped, 2.0))
    assert answer["data"]["text/html"] == (f"<p><strong>你的答案</strong>：(1) {S}基础电信业务{E}；"
                                           f"(2) {S}增值电信业务{E}（各空顺序不限，已按正确答案的顺序对照排列）</p>")
    key_text = "<strong>正确答案</strong>：(1) 基础电信业务；(2) 增殖电信业务 / 增值电信业务（各空顺序不限）"
    assert key_text in key["data"]["text/html"]
    assert score["data"] == {"text/plain": "2.0"}


def test_a_wrong_blank_keeps_its_place_among_the_right_ones() -> None:
    assert format_response(ANY_ORDER, ["<b>错</b>", "基础电信业务"]) == (
        f"(1) {S}基础电信业务{E}；(2) {S}&lt;b&gt;错&lt;/b&gt;{E}（各空顺序不限，已按正确答案的顺序对照排列）")


def test_a_case_answer_is_shown_inert_and_its_rubric_only_to_graders() -> None:
    case = COURSE.by_id["ch01-007"]
    outputs = graded_outputs(case, Scored(case.id, "**满分**\n[x](javascript:1)", None))
    shown = f"<p><strong>学员作答</strong>：</p>\n<p>{S}**满分**<br>[x](javascript:1){E}</p>"
    assert outputs[0]["data"] == {"text/html": shown}
    assert [o["metadata"] for o in outputs] == [{}, {}, {"course": {"grader_only": True}}]
    assert outputs[2]["data"]["text/html"].startswith("<p><strong>评分要点（仅评分人可见）</strong></p>")


def test_a_learners_own_part_holds_no_key_and_the_shared_part_comes_right_after_the_answer() -> None:
    """Is the key only in the shared part, and does a page show answer, key, 解析, note, score in that order?"""
    single = COURSE.by_id["ch01-001"]
    altered = Scored(single.id, None, 0.0, "the file was altered")
    mine = learner_outputs(single, altered)
    assert [o["data"] for o in mine] == [
        {"text/html": "<p><strong>你的答案</strong>：（答案文件无法识别，按 0 分计）</p>"},
        {"text/html": f"<p><strong>注意</strong>：{ALTERED}</p>"},
        {"text/plain": "0.0"}]
    assert graded_outputs(single, altered) == [mine[0], *key_outputs(single), *mine[1:]]
    assert "正确答案" in key_outputs(single)[0]["data"]["text/html"]


ODD = {"ch01-004": ["<b>x</b>\n\"引号\"\\", None], "ch01-007": "第一行\r\n[x](y)"}
RESPONSES = [ALL_CORRECT, ALL_WRONG, PARTIAL, ODD]


@pytest.mark.parametrize("qid", sorted(ALL_CORRECT))
def test_a_learners_outputs_as_text_are_exactly_what_json_dumps_gives(qid: str) -> None:
    """Is the JSON the grader writes directly byte for byte json.dumps of the outputs (sorted, compact)?"""
    q = COURSE.by_id[qid]
    results = [Scored(qid, answers.get(qid), score) for answers in RESPONSES for score in (0.0, 1.5, None)]
    for scored in [*results, Scored(qid, None, 0.0, "the file was altered")]:
        expected = json.dumps(learner_outputs(q, scored), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert learner_outputs_json(q, scored) == expected
