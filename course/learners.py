"""A learner's side of the nbgrader exchange: fetch, answer, submit.

Used for simulated cohorts and tests, and by ``course import-answers``. It
goes through nbgrader's own exchange classes, exactly as the Assignments tab
of JupyterLab does, with the learner id given explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from course_runtime.answersfile import write_answers
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit

from course.errors import WorkflowError
from course.nbconfig import course_config


def _run(cls: type, root: Path, chapter: str, student: str, home: Path) -> None:
    config = course_config(root)
    config.Exchange.assignment_dir = str(home)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = chapter
    coursedir.student_id = student
    app = cls(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
    try:
        app.start()
    except Exception as exc:  # nbgrader reports exchange failures as bare exceptions
        raise WorkflowError(f"{cls.__name__} of {chapter} for learner {student} failed: {exc}") from exc


def fetch(root: Path, chapter: str, student: str, home: Path) -> Path:
    """Fetch a released chapter into ``home/<chapter>``; return that folder."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / chapter).exists():
        _run(ExchangeFetchAssignment, root, chapter, student, home)
    return home / chapter


def answer(folder: Path, chapter: str, student: str, answers: dict[str, Any]) -> None:
    """Save answers exactly as the widgets do when a learner clicks."""
    write_answers(folder / f"{chapter}.answers.json", chapter, student, answers)


def submit(root: Path, chapter: str, student: str, home: Path) -> None:
    _run(ExchangeSubmit, root, chapter, student, home)
