"""What the course folder holds right now: submissions, grades, grades still pending.

The CLI asks these before it starts a step, so that a step that would find
nothing says so (and what to run first) instead of doing nothing quietly.
They only read: a gradebook that does not exist is never created.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa

from course.nbconfig import COURSE_ID, db_url

# Answers waiting for a person: never graded (manual_score NULL), or graded and then changed by the learner,
# which the grader flags again keeping the score (manual_score set: "review").
PENDING_SQL = sa.text("""
SELECT st.id AS learner, a.name AS chapter, bc.name AS question, g.manual_score IS NOT NULL AS review
FROM grade g
JOIN base_cell bc            ON bc.id = g.cell_id
JOIN submitted_notebook sn   ON sn.id = g.notebook_id
JOIN submitted_assignment sa ON sa.id = sn.assignment_id
JOIN assignment a            ON a.id = sa.assignment_id
JOIN student st              ON st.id = sa.student_id
WHERE a.course_id = :course_id AND g.needs_manual_grade
""")
# EXISTS, not COUNT: the answer is known at the first scored cell (a national gradebook has millions)
GRADED_SQL = sa.text("""
SELECT EXISTS (SELECT 1 FROM grade g
JOIN submitted_notebook sn   ON sn.id = g.notebook_id
JOIN submitted_assignment sa ON sa.id = sn.assignment_id
JOIN assignment a            ON a.id = sa.assignment_id
WHERE a.course_id = :course_id AND (g.auto_score IS NOT NULL OR g.manual_score IS NOT NULL))
""")


def is_course_folder(root: Path) -> bool:
    return (root / "nbgrader_config.py").is_file()


def roster_file(root: Path, given: Path | None = None) -> Path:
    """The roster a certification round decides on: ``given``, else ``roster.csv`` of the course folder."""
    from course.errors import WorkflowError

    roster = given or root / "roster.csv"
    if not roster.exists():
        raise WorkflowError(f"{roster} does not exist: give the roster (learner_id,name,region,department,"
                            "target_level) with --roster")
    return roster


def submissions(root: Path, chapters: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Learner ids per chapter with a folder under ``submitted/<learner>/<chapter>``."""
    return _folders(root / "submitted", chapters)


def autograded(root: Path, chapters: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Learner ids per chapter with an autograded notebook (what feedback is made from)."""
    found = _folders(root / "autograded", chapters)
    return {c: [s for s in learners if (root / "autograded" / s / c / f"{c}.ipynb").is_file()]
            for c, learners in found.items()}


def _folders(base: Path, chapters: Iterable[str] | None) -> dict[str, list[str]]:
    wanted = set(chapters) if chapters is not None else None
    found: dict[str, list[str]] = {}
    for folder in sorted(base.glob("*/*")):
        if folder.is_dir() and (wanted is None or folder.name in wanted):
            found.setdefault(folder.name, []).append(folder.parent.name)
    return found


def _engine(root: Path) -> sa.Engine | None:
    """An engine on the gradebook, or None if there is none yet (an SQLite file is never created here)."""
    url = db_url(root)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    return sa.create_engine(url)


def has_grades(root: Path, course_id: str = COURSE_ID) -> bool:
    """Whether the gradebook holds any grade (a scored cell); False without a gradebook or its tables."""
    engine = _engine(root)
    if engine is None:
        return False
    try:
        if not sa.inspect(engine).has_table("grade"):
            return False
        with engine.connect() as conn:
            return bool(conn.execute(GRADED_SQL, {"course_id": course_id}).scalar())
    finally:
        engine.dispose()


Waiting = dict[tuple[str, str], list[str]]  # (learner, chapter) -> question ids


def pending_manual(root: Path, course_id: str = COURSE_ID) -> tuple[Waiting, Waiting]:
    """Question ids waiting for a person, per (learner, chapter): those never hand-graded, and those whose
    hand grade waits for review because the learner changed the answer after it."""
    engine = _engine(root)
    if engine is None:
        return {}, {}
    try:
        if not sa.inspect(engine).has_table("grade"):
            return {}, {}
        with engine.connect() as conn:
            rows = conn.execute(PENDING_SQL, {"course_id": course_id}).all()
    finally:
        engine.dispose()
    pending: Waiting = {}
    review: Waiting = {}
    for learner, chapter, question, stale in sorted(rows):
        (review if stale else pending).setdefault((learner, chapter), []).append(question)
    return pending, review
