"""The autograded notebook of one submission: is its text exact, small, and free of what every copy shares?"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from course import model as m
from course.build import chapter_notebook
from course.grading.answers import SubmissionScores, score_answers, unreadable_notice
from course.grading.notebook import FORMAT, SEEN, graded_notebook, notebook_json, notebook_text, template
from course.loader import load_course

COURSE = load_course()
CHAPTER = "jc01"  # 19 questions, one of them a case
QUESTIONS = COURSE.questions_of(CHAPTER)
CASE_TEXT = "先倾听客户诉求并致歉，记录故障现象与影响范围，承诺处理时限；随后联系网络部门定位故障，" * 3


def right_answer(q: m.Question) -> Any:
    """What the widgets save for a fully right answer."""
    if isinstance(q, m.MultipleChoice):
        return sorted(q.answer)
    if isinstance(q, m.FillBlank):
        return [alts[0] for alts in q.blanks]
    if isinstance(q, m.Matching):
        return dict(q.answer)
    if isinstance(q, m.CaseAnalysis):
        return CASE_TEXT
    return q.answer  # single, true/false, ordering


def released() -> dict[str, Any]:
    """The chapter's notebook as plain JSON (as nbgrader releases it, hidden tests aside)."""
    return json.loads(json.dumps(chapter_notebook(COURSE, CHAPTER)))


def base() -> dict[str, Any]:
    nb = released()
    sources = {c["metadata"]["nbgrader"]["grade_id"]: (c["source"], hashlib.md5(c["source"].encode()).hexdigest())
               for c in nb["cells"] if "nbgrader" in c["metadata"]}
    points = {gid: 0.0 for gid in sources} | {q.id: q.points for q in QUESTIONS}
    return template(nb, sources, points, COURSE.root)


def scores(answers: dict[str, Any], notice: str = "") -> SubmissionScores:
    return SubmissionScores("li", CHAPTER, score_answers(QUESTIONS, answers), notice=notice)


SUBMISSIONS = {
    "all right": scores({q.id: right_answer(q) for q in QUESTIONS}),
    "nothing answered": scores({}),
    "an unreadable file": SubmissionScores("li", CHAPTER, {k: v.__class__(k, None, 0.0, "damaged") for k, v in
                                                         score_answers(QUESTIONS, {}).items()},
                                           "damaged", notice=unreadable_notice("文件已损坏")),
}


@pytest.mark.parametrize("name", sorted(SUBMISSIONS))
def test_the_text_from_the_template_is_json_dumps_of_the_notebook(name: str) -> None:
    """Does filling the encoded template give byte for byte the text of the notebook built as a dict?"""
    nb = base()
    by_id = {q.id: q for q in QUESTIONS}
    text = notebook_text(nb, [q.id for q in QUESTIONS]).fill(by_id, SUBMISSIONS[name])
    assert text == notebook_json(graded_notebook(nb, by_id, SUBMISSIONS[name]))
    assert json.loads(text)["metadata"]["course"]["format"] == FORMAT


def test_a_19_question_chapter_graded_is_at_most_20_kb_and_holds_no_key() -> None:
    """Is jc01, every answer right and a case answer of 200 characters, at most 20,000 bytes, and without any
    hidden test, locked source, checksum, key or 解析 (shown from the gradebook and the content instead)?"""
    nb = base()
    text = notebook_text(nb, [q.id for q in QUESTIONS]).fill({q.id: q for q in QUESTIONS}, SUBMISSIONS["all right"])
    assert len(QUESTIONS) == 19
    assert len(text.encode("utf-8")) <= 20_000
    for q in QUESTIONS:
        assert q.explanation not in text
    assert "BEGIN HIDDEN TESTS" not in text and text.count("quiz.show(") == text.count('"checksum"') == 1
    cells = json.loads(text)["cells"]
    locked = [c for c in cells if c["metadata"].get("nbgrader", {}).get("locked")]
    assert len(locked) == 20 and all(c["source"] == "" for c in locked)  # setup, 18 questions, check
    case = next(c for c in cells if c["id"] == next(q.id for q in QUESTIONS if isinstance(q, m.CaseAnalysis)))
    assert case["source"] and case["metadata"]["nbgrader"]["checksum"]  # a learner's answer cell stays whole


# The size target of an autograded notebook: a fixed part (header, setup and check cells, metadata) and a part
# per question (its cells, the learner's answer and score). jc01's 19 questions give 19,200 bytes, within the
# issue's 20 KB; js01's 53 give 46,400. Measured, every answer right: 17,341 (jc01) to 39,749 bytes (js01).
FIXED_BYTES, BYTES_PER_QUESTION = 4_000, 800


@pytest.mark.parametrize("chapter", sorted({q.id.rsplit("-", 1)[0] for q in COURSE.questions}))
def test_every_chapter_graded_stays_within_the_size_target(chapter: str) -> None:
    """Is every shipped chapter's autograded notebook, every answer right (case answers of 200 characters), at
    most 4,000 bytes plus 800 a question?"""
    questions = COURSE.questions_of(chapter)
    nb = json.loads(json.dumps(chapter_notebook(COURSE, chapter)))
    sources = {c["metadata"]["nbgrader"]["grade_id"]: (c["source"], hashlib.md5(c["source"].encode()).hexdigest())
               for c in nb["cells"] if "nbgrader" in c["metadata"]}
    points = {gid: 0.0 for gid in sources} | {q.id: q.points for q in questions}
    submission = SubmissionScores("li", chapter, score_answers(questions, {q.id: right_answer(q) for q in questions}))
    text = notebook_text(template(nb, sources, points, COURSE.root), [q.id for q in questions]).fill(
        {q.id: q for q in questions}, submission)
    assert len(text.encode("utf-8")) <= FIXED_BYTES + BYTES_PER_QUESTION * len(questions)


def test_a_template_keeps_the_outputs_of_a_bounded_number_of_answers_and_each_text_stays_exact() -> None:
    """Do SEEN + 50 learners with different case answers leave at most SEEN outputs kept (a worker's memory
    stays flat over a national cohort), and is every filled text still the notebook's json.dumps?"""
    nb = base()
    by_id = {q.id: q for q in QUESTIONS}
    case = next(q.id for q in QUESTIONS if isinstance(q, m.CaseAnalysis))
    text = notebook_text(nb, [q.id for q in QUESTIONS])
    for i in range(SEEN + 50):
        submission = scores({q.id: right_answer(q) for q in QUESTIONS} | {case: f"{CASE_TEXT}{i}"})
        filled = text.fill(by_id, submission)
        assert len(text.seen) <= SEEN
        if i % 97 == 0 or i > SEEN - 2:  # the first after a clear among them
            assert filled == notebook_json(graded_notebook(nb, by_id, submission)), i
