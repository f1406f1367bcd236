"""Is a hand grade whose answer the learner changed flagged, however the submission is regraded? (issue 20)

A person hand-grades a case answer; the learner then submits a changed answer. Whatever
regrades it (``course autograde``, plain ``nbgrader autograde``, formgrader's button (nbgrader's
API in formgrader's process), a run killed between writing the autograded notebook and committing, a deleted
``autograded/`` folder), the grade must be kept and flagged for review, and the feedback must
say 待复核 until a person looks again.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from typer.testing import CliRunner

from course import workflow
from course.cli import app
from course.grading import rows
from course.nbconfig import course_config
from tests.conftest import MINI, CourseDir
from tests.grading_helpers import fresh_course, nbgrader, place_submission, url
from tests.test_pipeline import ALL_CORRECT

CASE = "ch01-007"
CHANGED = "客户投诉后，先安抚情绪，再查明原因。"
LATER = "2026-11-21 09:30:00.000000 UTC"

KILLED = """
import os, signal, sys
from pathlib import Path
from course.grading import grader
from course.loader import load_course
def progress(done, total):  # the worker has written the autograded notebook; nothing is committed yet
    os.kill(os.getpid(), signal.SIGKILL)
grader.grade(Path(sys.argv[1]), load_course(Path(sys.argv[2])), ["ch01"], workers=1, on_progress=progress)
"""


def _course_autograde(cd: CourseDir) -> None:
    report = workflow.autograde(cd.root, cd.course, ["ch01"], progress=False)
    assert report.rereview == [("li", CASE)] and not report.failed


def _nbgrader_autograde(cd: CourseDir) -> None:
    nbgrader(cd.root, "autograde", "ch01", "--force")


def _formgrader_button(cd: CourseDir) -> None:
    """What formgrader's autograde button calls, in formgrader's own process: NbGraderAPI.autograde."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = course_config(cd.root)
    with pytest.MonkeyPatch.context() as env:  # the content a formgrader server is started with
        env.setenv("COURSE_CONTENT", str(cd.course.root))
        result = NbGraderAPI(CourseDirectory(config=config), config=config).autograde("ch01", "li")
    assert result["success"], result.get("log")


def _killed_then_course_autograde(cd: CourseDir) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED, str(cd.root), str(cd.course.root)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    nb = nbformat.read(cd.root / "autograded" / "li" / "ch01" / "ch01.ipynb", as_version=4)
    shown = next(c for c in nb.cells if c.get("id") == CASE).outputs[0]["data"]["text/html"]
    assert CHANGED in shown  # the notebook already shows the new answer ...
    assert _grade(cd) == (3.0, False)  # ... the gradebook does not know yet
    _course_autograde(cd)


def _deleted_autograded_then_course_autograde(cd: CourseDir) -> None:
    shutil.rmtree(cd.root / "autograded" / "li")
    _course_autograde(cd)


PATHS: dict[str, Callable[[CourseDir], None]] = {
    "course-autograde": _course_autograde,
    "plain-nbgrader-autograde": _nbgrader_autograde,
    "formgrader-button": _formgrader_button,
    "killed-between-notebook-and-commit": _killed_then_course_autograde,
    "deleted-autograded-folder": _deleted_autograded_then_course_autograde,
}


def _grade(cd: CourseDir) -> tuple[float | None, bool]:
    with Gradebook(url(cd), course_id="kam-cert") as gb:
        grade = gb.find_grade(CASE, "ch01", "ch01", "li")
        return grade.manual_score, bool(grade.needs_manual_grade)


def _hand_graded_then_changed(path: Path) -> CourseDir:
    cd = fresh_course(path)
    (cd.root / "exchange").mkdir()  # feedback is released into nbgrader's exchange
    folder = place_submission(cd.root, "li", "ch01", ALL_CORRECT)
    (folder / "submission_secret.txt").write_text("secret42", encoding="ascii")  # release_feedback needs it
    assert not workflow.autograde(cd.root, cd.course, ["ch01"], progress=False).failed
    with Gradebook(url(cd), course_id="kam-cert") as gb:  # as formgrader saves a person's score
        grade = gb.find_grade(CASE, "ch01", "ch01", "li")
        grade.manual_score, grade.needs_manual_grade = 3.0, False
        gb.db.commit()
    place_submission(cd.root, "li", "ch01", {**ALL_CORRECT, CASE: CHANGED}, timestamp=LATER)
    return cd


def _feedback(cd: CourseDir, *args: str) -> str:
    result = CliRunner().invoke(app, ["feedback", "ch01", "--root", str(cd.root), "--content", str(MINI), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", list(PATHS))
def test_a_changed_answer_is_flagged_its_hand_grade_kept_and_feedback_says_review(tmp_path: Path, path: str) -> None:
    cd = _hand_graded_then_changed(tmp_path / "course")
    PATHS[path](cd)
    assert _grade(cd) == (3.0, True)  # the person's score stays; the flag is up again
    warning = ("Warning: ch01: 1 hand-graded answer(s) of 1 learner(s) were changed after grading and wait for "
               "review (li 第7题); {}. Review them in formgrader, then run `course feedback ch01` again.")
    held = _feedback(cd, "--hold-pending")
    assert warning.format("their feedback is held back") in held
    assert "feedback released to 0 learner(s) in 1 chapter(s); 1 held back until hand grading is done." in held
    assert not (cd.root / "feedback" / "li").exists()
    shown = _feedback(cd)
    assert warning.format("their feedback shows these as 待复核") in shown
    page = (cd.root / "feedback" / "li" / "ch01" / "ch01.html").read_text(encoding="utf-8")
    assert "总分：<b>16 / 17 分</b>" in page
    assert ("其中 第7题（原评分 3 / 4 分）\n 待讲师复核：你在评分后修改了答案，这 3 分暂按原评分计入总分；"
            "复核完成后总分会更新。") in page
    assert "待复核：原评分 3 / 4 分（你在评分后修改了答案，讲师复核后更新）" in page
    assert CHANGED in page


def test_a_second_run_keeps_the_flag_and_a_persons_new_grade_clears_it(tmp_path: Path) -> None:
    """Once flagged, does the flag stay through regrades until a person grades again, and then stay down?"""
    cd = _hand_graded_then_changed(tmp_path / "course")
    _course_autograde(cd)
    again = workflow.autograde(cd.root, cd.course, ["ch01"], progress=False)
    assert (again.rereview, again.rows_written, _grade(cd)) == ([], 0, (3.0, True))
    with Gradebook(url(cd), course_id="kam-cert") as gb:  # a person reviews the new answer
        grade = gb.find_grade(CASE, "ch01", "ch01", "li")
        grade.manual_score, grade.needs_manual_grade = 3.5, False
        gb.db.commit()
    shutil.rmtree(cd.root / "autograded")
    after = workflow.autograde(cd.root, cd.course, ["ch01"], progress=False)
    assert (after.rereview, _grade(cd)) == ([], (3.5, False))
    assert "待复核" not in _feedback(cd)


def test_the_record_lives_in_the_gradebook_not_in_the_notebook(tmp_path: Path) -> None:
    """Is what each grade was given to stored in the gradebook's own table, and nowhere in the notebook?"""
    import sqlalchemy as sa

    cd = _hand_graded_then_changed(tmp_path / "course")
    text = (cd.root / "autograded" / "li" / "ch01" / "ch01.ipynb").read_text(encoding="utf-8")
    assert "digest" not in text
    eng = sa.create_engine(url(cd))
    try:
        with eng.connect() as conn:
            assert len(conn.execute(sa.select(rows.ANSWER_DIGEST)).all()) == 1  # one submitted notebook
    finally:
        eng.dispose()


@pytest.mark.parametrize("answer", [CHANGED, ALL_CORRECT[CASE]], ids=["changed", "unchanged"])
def test_a_hand_grade_with_no_record_of_its_answer_is_flagged_once(tmp_path: Path, answer: str) -> None:
    """A gradebook from before the answer records: is a hand grade whose answer cannot be compared flagged for
    review (changed or not: nothing tells), its score kept, and only once?"""
    import sqlalchemy as sa

    cd = _hand_graded_then_changed(tmp_path / "course")
    place_submission(cd.root, "li", "ch01", {**ALL_CORRECT, CASE: answer}, timestamp=LATER)
    eng = sa.create_engine(url(cd))
    try:
        with eng.begin() as conn:
            conn.execute(sa.delete(rows.ANSWER_DIGEST))
    finally:
        eng.dispose()
    report = workflow.autograde(cd.root, cd.course, ["ch01"], progress=False)
    assert (report.unrecorded, report.rereview, _grade(cd)) == ([("li", CASE)], [], (3.0, True))
    again = workflow.autograde(cd.root, cd.course, ["ch01"], progress=False)
    assert (again.unrecorded, again.rereview, _grade(cd)) == ([], [], (3.0, True))  # recorded now: no second note
