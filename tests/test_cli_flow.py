"""Does every instructor command work end to end through the CLI, with the right exit status?

typer's CliRunner drives the real commands on a real course folder: generate,
release, learners submit through nbgrader's exchange, collect, autograde,
hand-grade, feedback, report, import-answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from typer.testing import CliRunner

from course import learners
from course.cli import app
from course.nbconfig import db_url
from tests.conftest import CourseDir, make_course_dir
from tests.test_pipeline import ALL_CORRECT, PARTIAL


def _run(cd: CourseDir, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--root", str(cd.root), "--content", str(cd.course.root)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    cd = make_course_dir(tmp_path_factory.mktemp("cli") / "course")
    _run(cd, "generate")
    _run(cd, "release")
    for student, answers in {"zhang": ALL_CORRECT, "li": PARTIAL}.items():
        home = cd.root / "homes" / student
        folder = learners.fetch(cd.root, "ch01", student, home)
        learners.answer(folder, "ch01", student, answers)
        learners.submit(cd.root, "ch01", student, home)
    _run(cd, "collect")
    return cd


def test_autograde_then_a_regrade_changes_nothing(course_dir: CourseDir) -> None:
    out = _run(course_dir, "autograde", "-j", "2")
    assert "graded 2 submission(s); failed 0; waiting for hand grading 1 answer(s)" in out
    again = _run(course_dir, "autograde")
    assert "; 0 gradebook row(s) written." in again


def test_hand_grade_then_feedback_reaches_each_learner(course_dir: CourseDir) -> None:
    _run(course_dir, "autograde")
    assert "hand-graded 1 case answer(s)" in _run(course_dir, "hand-grade")
    assert "hand-graded 0 case answer(s)" in _run(course_dir, "hand-grade")  # nothing left: nothing replaced
    _run(course_dir, "feedback", "ch01")
    for student in ("zhang", "li"):
        assert (course_dir.root / "feedback" / student / "ch01" / "ch01.html").is_file()
    with Gradebook(db_url(course_dir.root), course_id="kam-cert") as gb:
        assert gb.find_grade("ch01-007", "ch01", "ch01", "zhang").manual_score is not None


def test_report_renders_after_grading(course_dir: CourseDir) -> None:
    _run(course_dir, "autograde")
    out = _run(course_dir, "report", "--out", str(course_dir.root / "reports" / "cli"))
    pages = [line.removeprefix("Report: ") for line in out.splitlines() if line.startswith("Report: ")]
    assert pages and Path(pages[0]).is_file()


def test_import_answers_then_autograde(tmp_path: Path) -> None:
    cd = make_course_dir(tmp_path / "course")
    _run(cd, "generate")
    _run(cd, "release")
    csv = tmp_path / "paper.csv"
    csv.write_text("student_id,question_id,answer\nwang,ch01-001,A\nwang,ch01-003,错\n", encoding="utf-8")
    assert "created and collected 1 submission(s)" in _run(cd, "import-answers", str(csv))
    assert "graded 1 submission(s); failed 0" in _run(cd, "autograde")
    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        nb = gb.find_submission_notebook("ch01", "ch01", "wang")
        assert {g.name: g.auto_score for g in nb.grades}["ch01-001"] == 2.0
