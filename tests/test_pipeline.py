"""End to end with real nbgrader: build -> generate -> release -> learners -> collect -> autograde.

Simulated learners fetch and submit through nbgrader's exchange; hostile ones
do every attack a learner-written cell or file could try (issue 10): print
the course's keys, rewrite the gradebook, overwrite a peer's answers, kill or
hang the kernel, forge cell metadata, flood the output, link or bloat the
answers file. The gradebook must hold exactly what each learner's saved
answers earn, peers stay untouched, and nothing but the grader's own text
reaches ``autograded/`` or ``feedback/``.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.converters import GenerateAssignment

from course import learners, workflow
from course.nbconfig import GENERATE_PREPROCESSORS, NBGRADER_GENERATE, db_url
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
PARTIAL_SCORES = {**ZERO, "ch01-001": 2.0, "ch01-002": 2.0, "ch01-004": 1.0, "ch01-005": 1.0, "ch01-006": 1.0}
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
    **{name: PARTIAL_SCORES for name in (
        "prints-course-files", "writes-gradebook", "overwrites-peer", "exits-kernel", "endless-loop",
        "forges-metadata", "floods-output", "answers-of-other-chapters")},
    "links-system-file": ZERO,
    "huge-answers": ZERO,
    "html-in-answers": {**PARTIAL_SCORES, "ch01-007": None},
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


MARK = "HOSTILE-7f3a"  # printed or written by hostile cells; must never reach graded files
OTHER_KEYS = {f"zz{i:02d}-{j:03d}": "A" for i in range(13) for j in range(27)}  # 351 answers of other chapters


def _add_cell(source: str, **meta: Any) -> Any:
    def edit(nb: nbformat.NotebookNode) -> None:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata.update(meta)
        nb.cells.insert(3, cell)
    return edit


def _flood(nb: nbformat.NotebookNode) -> None:
    cell = nbformat.v4.new_code_cell(f"print('{MARK}' * 10)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=(MARK + "x" * 1000) * 5000)]
    nb.cells.insert(3, cell)


def _forge(nb: nbformat.NotebookNode) -> None:
    no_id = nbformat.v4.new_code_cell(f"print('{MARK}')")
    no_id.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": False, "points": 50,
                                  "schema_version": 3}
    twin = nbformat.v4.new_code_cell("1.0")
    twin.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 99,
                                 "grade_id": "ch01-001", "schema_version": 3}
    setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    setup.metadata["nbgrader"]["points"] = 100
    nb.cells[3:3] = [no_id, twin]


PEEK = (f"import pathlib\nprint('{MARK}')\n"
        "for p in pathlib.Path('../../..').rglob('*'):\n"
        "    if p.suffix in ('.ipynb', '.yaml') and p.is_file(): print(p.read_text())")
GRADEBOOK = (f"import sqlite3\ndb = sqlite3.connect('../../../gradebook/gradebook.db')\n"
             "db.execute('update grade set auto_score = 99, manual_score = 99')\n"
             f"db.execute(\"insert into student (id) values ('{MARK}')\")\ndb.commit()")
PEER = ("import json, pathlib\n"
        "p = pathlib.Path('../../../submitted/all-correct/ch01/ch01.answers.json')\n"
        "p.write_text(json.dumps({'format': 'kam-answers/1', 'notebook': 'ch01', 'answers': {}}))")

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
    "prints-course-files": {"answers": PARTIAL, "edit": _add_cell(PEEK)},
    "writes-gradebook": {"answers": PARTIAL, "edit": _add_cell(GRADEBOOK)},
    "overwrites-peer": {"answers": PARTIAL, "edit": _add_cell(PEER)},
    "exits-kernel": {"answers": PARTIAL, "edit": _add_cell("import os\nos._exit(1)")},
    "endless-loop": {"answers": PARTIAL, "edit": _add_cell("while True:\n    pass")},
    "forges-metadata": {"answers": PARTIAL, "edit": _forge},
    "floods-output": {"answers": PARTIAL, "edit": _flood},
    "links-system-file": {"answers": ALL_CORRECT, "link_after_collect": True, "target": "/etc/passwd"},
    "huge-answers": {"raw": json.dumps({"format": "kam-answers/1", "notebook": CH, "answers": ALL_CORRECT,
                                        "padding": MARK * 200_000})},
    "answers-of-other-chapters": {"answers": {**PARTIAL, **OTHER_KEYS}},
    "html-in-answers": {"answers": {**PARTIAL, "ch01-007": "<script>alert(1)</script>"}},
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
            os.symlink(plan.get("target", secret), target)
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


def test_damaged_submissions_are_reported_with_learner_file_and_fix(graded: Any) -> None:
    cd, report = graded
    corrupt = cd.root / "submitted" / "corrupt-answers" / CH / "ch01.answers.json"
    assert (f"learner corrupt-answers, ch01: {corrupt}: line 1 column 56: not valid JSON (Expecting ',' delimiter); "
            "the file is damaged: ask the learner to resubmit") in report.problems
    link = cd.root / "submitted" / "symlinked-answers" / CH / "ch01.answers.json"
    assert (f"learner symlinked-answers, ch01: {link}: is a symbolic link, not the learner's answers: "
            "ask the learner to resubmit") in report.problems
    wrong = cd.root / "submitted" / "wrong-types" / CH / "ch01.answers.json"
    assert (f"learner wrong-types, ch01: {wrong}: answer of ch01-001 scored 0: a single answer cannot be list ['A']; "
            "the widgets never save this, so the file was altered: ask the learner to answer again") in report.problems
    huge = cd.root / "submitted" / "huge-answers" / CH / "ch01.answers.json"
    size = huge.stat().st_size
    assert (f"learner huge-answers, ch01: {huge}: is {size:,} bytes, over the 1,000,000-byte limit: not an answers "
            "file; it was not read or copied; ask the learner to resubmit") in report.problems


def test_no_run_fails_and_no_one_else_is_in_the_gradebook(graded: Any) -> None:
    cd, report = graded
    assert report.failed == {}
    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        assert sorted(s.id for s in gb.students) == sorted(LEARNERS)


def _graded_files(root: Path) -> dict[Path, str]:
    assert workflow.nbgrader_api(root).generate_feedback(CH)["success"]  # generated, not released
    files = [p for top in ("autograded", "feedback") for p in (root / top).rglob("*")]
    return {p: p.read_text(encoding="utf-8", errors="replace") for p in files if p.is_file() or p.is_symlink()}


def test_only_the_graders_files_reach_autograded_and_feedback(graded: Any) -> None:
    """Does any file under autograded/ or feedback/ hold text the grader did not write?"""
    cd, _ = graded
    files = _graded_files(cd.root)
    names = {(p.parent.parent.parent.name, p.name) for p in files}
    exchange = ("timestamp.txt", "submission_secret.txt")  # written by nbgrader's exchange, checked by the grader
    assert names == {(top, n) for top, ns in (("autograded", ("ch01.ipynb", *exchange)),
                                              ("feedback", ("ch01.html", *exchange))) for n in ns}
    assert not any(p.is_symlink() for p in files)
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    content = (cd.course.root / "questions" / "ch01.yaml").read_text(encoding="utf-8")
    for path, text in files.items():
        for forbidden in (MARK, passwd, "答案：A", "zz00-000", content[:80], "<script>"):
            assert forbidden not in text, (path, forbidden)
        honest = files[path.parents[2] / "all-correct" / CH / path.name]
        assert len(text) < len(honest) + 20_000, path  # no flood of learner output


def test_a_case_answer_is_shown_to_graders_as_text_never_as_html(graded: Any) -> None:
    cd, _ = graded
    text = (cd.root / "autograded" / "html-in-answers" / CH / f"{CH}.ipynb").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text


def test_learner_cells_are_ignored_and_every_notebook_has_the_honest_shape(graded: Any) -> None:
    cd, _ = graded
    def shape(student: str) -> list[tuple[str, str, str]]:
        nb = nbformat.read(cd.root / "autograded" / student / CH / f"{CH}.ipynb", as_version=4)
        return [(c.id, c.cell_type, c.source) for c in nb.cells]
    honest = shape("all-correct")
    for student in LEARNERS:
        assert shape(student) == honest, student


def test_a_linked_file_never_reaches_the_graded_copy(graded: Any) -> None:
    cd, _ = graded
    for student in ("symlinked-answers", "links-system-file"):
        assert sorted(p.name for p in (cd.root / "autograded" / student / CH).iterdir()) == [
            "ch01.ipynb", "submission_secret.txt", "timestamp.txt"]


def test_the_damaged_file_is_kept_untouched(graded: Any) -> None:
    """Nothing is lost: the learner's damaged file stays in submitted/ as it came."""
    cd, _ = graded
    path = cd.root / "submitted" / "corrupt-answers" / CH / "ch01.answers.json"
    assert path.read_text(encoding="utf-8") == LEARNERS["corrupt-answers"]["raw"]


def test_graded_notebook_shows_the_trusted_answer_and_score(graded: Any) -> None:
    cd, _ = graded
    nb = nbformat.read(cd.root / "autograded" / "redefines-reader" / CH / f"{CH}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ch01-001")
    assert "<p><strong>你的答案</strong>：6月1日</p>" in cell.outputs[0]["data"]["text/html"]
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


def test_the_released_notebook_says_what_the_learners_kernel_will_say(graded: Any) -> None:
    """Does the released notebook hold the kernel's own language_info, so that opening it modifies nothing?"""
    cd, _ = graded
    for nb_path in (cd.root / "release" / CH / f"{CH}.ipynb", cd.root / "homes" / "all-wrong" / CH / f"{CH}.ipynb"):
        assert nbformat.read(nb_path, as_version=4).metadata.language_info == {
            "name": "python", "version": platform.python_version(), "mimetype": "text/x-python",
            "codemirror_mode": {"name": "ipython", "version": 3}, "pygments_lexer": "ipython3",
            "nbconvert_exporter": "python", "file_extension": ".py"}
    # the course's steps are nbgrader's own, in its order, then the kernel's language_info
    assert [f"{c.__module__.split('.')[0]}.preprocessors.{c.__name__}"
            for c in GenerateAssignment.class_traits()["preprocessors"].default()] == NBGRADER_GENERATE
    assert GENERATE_PREPROCESSORS[-1] == "course.nbgrader_ext.KernelLanguage"
    assert GENERATE_PREPROCESSORS[:-1] == NBGRADER_GENERATE


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
