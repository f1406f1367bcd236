"""End to end with real nbgrader: build -> generate -> release -> learners -> collect -> autograde.

Simulated learners fetch and submit through nbgrader's exchange; hostile ones
edit or delete locked cells, redefine the scoring code, or send damaged
answers files. The gradebook must hold exactly the expected score of every
question for every learner.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbgrader.api import Gradebook

from course import learners, workflow
from course.nbconfig import db_url
from tests.conftest import CourseDir, make_course_dir

CH = "ch01"
ALL_CORRECT = {
    "ch01-001": "A", "ch01-002": ["A", "B", "D"], "ch01-003": False,
    "ch01-004": ["基础电信业务", "增值电信业务"], "ch01-005": ["B", "A", "C"],
    "ch01-006": {"1": "B", "2": "A"}, "ch01-007": "先倾听并致歉，承诺处理时限，事后回访。",
}
ALL_WRONG = {
    "ch01-001": "B", "ch01-002": ["A", "C"], "ch01-003": True, "ch01-004": ["增值", "基础"],
    "ch01-005": ["A", "C", "B"], "ch01-006": {"1": "A", "2": "B"},
}
PARTIAL = {
    "ch01-002": ["A", "B"], "ch01-004": ["基础电信业务 ", ""], "ch01-005": ["B", "C", "A"],
    "ch01-006": {"1": "B", "2": "C"}, "ch01-001": "A",
}
# Scores per question: 001 single 2, 002 multiple 3, 003 tf 1, 004 blank 2, 005 ordering 3, 006 matching 2,
# 007 case 4 (None = waits for the instructor's manual grade).
FULL = {"ch01-001": 2.0, "ch01-002": 3.0, "ch01-003": 1.0, "ch01-004": 2.0, "ch01-005": 3.0, "ch01-006": 2.0,
        "ch01-007": None}
ZERO = {q: 0.0 for q in FULL}
EXPECTED: dict[str, dict[str, float | None]] = {
    "all-correct": FULL,
    "all-wrong": ZERO,
    "partial": {**ZERO, "ch01-001": 2.0, "ch01-002": 2.0, "ch01-004": 1.0, "ch01-005": 1.0, "ch01-006": 1.0},
    "unanswered": ZERO,
    "edits-locked-cells": {**ZERO, "ch01-001": 2.0, "ch01-002": 2.0, "ch01-004": 1.0, "ch01-005": 1.0,
                           "ch01-006": 1.0},
    "deletes-cells": FULL,
    "redefines-reader": ZERO,
    "corrupt-answers": ZERO,
    "wrong-types": {**ZERO, "ch01-002": 3.0},
    "symlinked-answers": ZERO,
}


def _edit_notebook(folder: Path, edit: Any) -> None:
    path = folder / f"{CH}.ipynb"
    nb = nbformat.read(path, as_version=4)
    edit(nb)
    nbformat.write(nb, path)


def _edit_locked(nb: nbformat.NotebookNode) -> None:
    setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    setup.source += "\nscore = lambda spec, response: spec['points']\n"
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ch01-003")
    cell.source = "1.0"


def _delete_cells(nb: nbformat.NotebookNode) -> None:
    doomed = {"setup", "ch01-001", "ch01-002", "ch01-006"}
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in doomed]


def _redefine_reader(nb: nbformat.NotebookNode) -> None:
    hack = nbformat.v4.new_code_cell(
        "Quiz.grade = lambda self, qid, key: key['points']\n"
        "read_answers = lambda path: {}\n"
        "import json, pathlib\n"
        "pathlib.Path('ch01.answers.json').write_text(json.dumps({'format': 'kam-answers/1', "
        "'notebook': 'ch01', 'answers': " + json.dumps(ALL_CORRECT, ensure_ascii=False) + "}))\n")
    nb.cells.insert(2, hack)


LEARNERS: dict[str, dict[str, Any]] = {
    "all-correct": {"answers": ALL_CORRECT},
    "all-wrong": {"answers": ALL_WRONG},
    "partial": {"answers": PARTIAL},
    "unanswered": {},
    "edits-locked-cells": {"answers": PARTIAL, "edit": _edit_locked},
    "deletes-cells": {"answers": ALL_CORRECT, "edit": _delete_cells},
    "redefines-reader": {"answers": ALL_WRONG, "edit": _redefine_reader},
    "corrupt-answers": {"raw": '{"format": "kam-answers/1", "answers": {"ch01-001": "A"'},
    "wrong-types": {"answers": {"ch01-001": ["A"], "ch01-002": ["A", "B", "D"], "ch01-003": "对",
                                "ch01-004": "基础电信业务", "ch01-006": ["B", "A"]}},
    # A link planted in submitted/ after collect (nbgrader's submit already copies a link's target).
    "symlinked-answers": {"answers": ALL_CORRECT, "link_after_collect": True},
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[CourseDir, workflow.AutogradeReport]:
    cd = make_course_dir(tmp_path_factory.mktemp("course"))
    root = cd.root
    workflow.generate(root, [CH])
    workflow.release(root, [CH])
    for student, plan in LEARNERS.items():
        home = root / "homes" / student
        folder = learners.fetch(root, CH, student, home)
        if "answers" in plan:
            learners.answer(folder, CH, student, plan["answers"])
        if "raw" in plan:
            (folder / f"{CH}.answers.json").write_text(plan["raw"], encoding="utf-8")
        if "edit" in plan:
            _edit_notebook(folder, plan["edit"])
        learners.submit(root, CH, student, home)
    workflow.collect(root, [CH])
    secret = root / "instructor-secret.txt"
    secret.write_text("答案：A", encoding="utf-8")
    for student, plan in LEARNERS.items():
        if plan.get("link_after_collect"):
            target = root / "submitted" / student / CH / f"{CH}.answers.json"
            target.unlink()
            os.symlink(secret, target)
    report = workflow.autograde(root, cd.course, [CH], workers=2, progress=False)
    return cd, report


def _scores(root: Path, student: str) -> dict[str, float | None]:
    with Gradebook(db_url(root), course_id="kam-cert") as gb:
        nb = gb.find_submission_notebook(CH, CH, student)
        return {g.name: g.score if g.auto_score is not None or g.manual_score is not None else None
                for g in nb.grades if g.name != "setup"}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_gradebook_holds_the_expected_score_of_every_question(graded: Any, student: str) -> None:
    cd, report = graded
    assert (student, CH) in report.graded, report.failed
    assert _scores(cd.root, student) == EXPECTED[student]


def test_answered_case_waits_for_manual_grading_and_unanswered_does_not(graded: Any) -> None:
    cd, _ = graded
    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        answered = gb.find_grade("ch01-007", CH, CH, "all-correct")
        blank = gb.find_grade("ch01-007", CH, CH, "unanswered")
        assert answered.needs_manual_grade and answered.auto_score is None
        assert not blank.needs_manual_grade and blank.auto_score == 0


def test_damaged_submissions_are_reported_with_file_and_fix(graded: Any) -> None:
    cd, report = graded
    corrupt = cd.root / "submitted" / "corrupt-answers" / CH / "ch01.answers.json"
    assert (f"{corrupt}: line 1 column 56: not valid JSON (Expecting ',' delimiter); the file is damaged: "
            "ask the learner to resubmit") in report.problems
    link = cd.root / "submitted" / "symlinked-answers" / CH / "ch01.answers.json"
    assert f"{link}: is a symbolic link, not the learner's answers: ask the learner to resubmit" in report.problems
    wrong = cd.root / "submitted" / "wrong-types" / CH / "ch01.answers.json"
    assert (f"{wrong}: answer of ch01-001 scored 0: a single answer cannot be list ['A']; the widgets never save "
            "this, so the file was altered: ask the learner to answer again") in report.problems


def test_a_symlinked_file_never_reaches_the_graded_copy(graded: Any) -> None:
    cd, _ = graded
    assert not (cd.root / "autograded" / "symlinked-answers" / CH / "ch01.answers.json").exists()


def test_the_damaged_file_is_kept_untouched(graded: Any) -> None:
    """Nothing is lost: the learner's damaged file stays in submitted/ as it came."""
    cd, _ = graded
    path = cd.root / "submitted" / "corrupt-answers" / CH / "ch01.answers.json"
    assert path.read_text(encoding="utf-8") == LEARNERS["corrupt-answers"]["raw"]


def test_graded_notebook_shows_the_trusted_answer_and_score(graded: Any) -> None:
    cd, _ = graded
    nb = nbformat.read(cd.root / "autograded" / "redefines-reader" / CH / f"{CH}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ch01-001")
    assert "**你的答案**：6月1日" in cell.outputs[0]["data"]["text/markdown"]
    assert cell.outputs[-1]["data"]["text/plain"] == "0.0"


def _key_markers(cd: CourseDir) -> list[str]:
    """Strings that would give an answer away: hidden-test markers, key specs, explanations, rubrics."""
    markers = ["BEGIN HIDDEN TESTS", "quiz.grade(", "评分要点（仅评分人可见）", "参考答案"]
    for q in cd.course.questions:
        markers.append(q.explanation)
        markers += [r.criterion for r in getattr(q, "rubric", [])]
    return markers


def test_no_key_reaches_release_or_the_learner(graded: Any) -> None:
    """Do release/, the exchange's outbound copy and a learner's fetched files hold no key at all?"""
    cd, _ = graded
    places = [cd.root / "release", cd.root / "exchange" / "kam-cert" / "outbound", cd.root / "homes" / "all-wrong"]
    texts = {p: p.read_text(encoding="utf-8") for place in places for p in place.rglob("*.ipynb")}
    assert texts
    for marker in _key_markers(cd):
        leaks = [str(p) for p, text in texts.items() if marker in text]
        assert leaks == [], f"{marker!r} leaked into {leaks}"


def test_feedback_is_released_only_by_the_instructor_and_shows_no_hidden_tests(graded: Any) -> None:
    cd, _ = graded
    outbound_feedback = cd.root / "exchange" / "kam-cert" / "feedback"
    assert not outbound_feedback.exists() or not any(outbound_feedback.iterdir())
    workflow.feedback(cd.root, [CH])
    html = (cd.root / "feedback" / "partial" / CH / f"{CH}.html").read_text(encoding="utf-8")
    for marker in ("BEGIN HIDDEN TESTS", "quiz.grade(", "评分要点（仅评分人可见）", "参考答案", "倾听并致歉"):
        assert marker not in html
    assert "5月17日被定为“世界电信日”。" in html  # the explanation is part of the feedback
    assert "**你的答案**" not in html and "你的答案" in html
    assert any(outbound_feedback.rglob("*.html"))
