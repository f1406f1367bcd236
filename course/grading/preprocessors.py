"""The same grading inside plain ``nbgrader autograde`` (and formgrader's autograde button).

nbgrader's ``Autograde`` converter takes its steps from configuration
(:func:`course.nbconfig.configure` sets them): instead of sanitising and
*executing* the learner's notebook, :class:`GradeFromAnswers` replaces it with
the grader's own notebook built from the submitted answers file, and
:class:`SaveTrustedGrades` writes the rows with the rules of
:mod:`course.grading.rows`. No kernel starts; nbgrader's own
``AssignLatePenalties`` runs after them as usual.

``course autograde`` is the fast path (one writer, many workers); this route
grades one notebook at a time, exactly the same way.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from course.errors import CourseError
from course.grading import grader, rows
from course.grading.answers import score_submission, shown
from course.loader import Course, load_course


@functools.lru_cache(maxsize=2)
def _course(content: str | None) -> Course:
    return load_course(Path(content) if content else None)  # once per process, not per notebook


def _where(config: Any, resources: ResourcesDict) -> tuple[Path, str, str, str]:
    info = resources["nbgrader"]
    return Path(config.CourseDirectory.root).resolve(), info["assignment"], info["student"], info["notebook"]


def _context(root: Path, config: Any, assignment: str) -> tuple[rows.Layout, grader.Context]:
    eng = grader.engine(config.CourseDirectory.db_url)
    try:
        with eng.connect() as conn:
            layout = rows.read_layout(conn, config.CourseDirectory.course_id, assignment)
    finally:
        eng.dispose()
    return layout, grader.context(root, _course(None), layout)


class GradeFromAnswers(NbGraderPreprocessor):
    """Sanitise step: the learner's notebook is replaced by the grader's, scored from the answers file."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        root, assignment, student, notebook = _where(self.config, resources)
        if not grader.LEARNER_ID.fullmatch(student):
            raise CourseError(f"{root / 'submitted'}: the folder of learner id {shown(student)} was not graded: a "
                              "learner id has letters, digits, . _ - @ only (at most 64); remove the folder and ask "
                              "the learner to submit under their own account")
        _, ctx = _context(root, self.config, assignment)
        grader.grade_one(root, grader.Submission(student, assignment, root / "submitted"), ctx)
        graded = nbformat.read(root / "autograded" / student / assignment / f"{notebook}.ipynb", as_version=4)
        return graded, resources


class SaveTrustedGrades(NbGraderPreprocessor):
    """Autograde step in place of ``Execute`` + ``SaveAutoGrades``: the trusted scores into the gradebook."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        root, assignment, student, _ = _where(self.config, resources)
        layout, ctx = _context(root, self.config, assignment)
        folder = root / "submitted" / student / assignment
        timestamp, _ = grader.read_timestamp(folder)
        scores = {name: score_submission(folder, student, assignment, qs, ctx.specs[name], ctx.known)
                  for name, qs in ctx.questions.items()}
        graded = rows.Graded(student, assignment, timestamp, scores)
        eng = grader.engine(self.config.CourseDirectory.db_url)
        try:
            with eng.begin() as conn:
                rows.ensure_tables(conn)  # what each grade was given to, kept in this same transaction
                existing = rows.read_existing(conn, layout, [student])
                rows.apply(conn, rows.plan(layout, [graded], existing, grader.late_penalty(self.config)))
        finally:
            eng.dispose()
        return nb, resources
