"""A national-cohort gradebook for benchmarks: nbgrader's schema, rows written in bulk.

How the rows come about:

1. ``nbgrader generate_assignment`` (``course.workflow.generate``) creates the
   assignments, notebooks and grade cells in the gradebook, exactly as for a real run;
2. a simulated cohort (``course.simulate``: roster, 2PL abilities, answers in the form the
   widgets save) answers every chapter;
3. every answer is scored with ``course.scoring.score`` and the key spec the hidden tests
   use (``course.build.key_spec``): the rule ``course autograde`` applies; an answered case
   question waits for a manual grade (auto score NULL, needs_manual_grade), and most of
   them are then given a rubric score as a grader would in formgrader;
4. the student, submitted_assignment, submitted_notebook and grade rows are written with
   SQLAlchemy Core bulk inserts into nbgrader's own ORM tables (``nbgrader.api``).

Step 3–4 stand in for the kernel-free bulk grader being built in ``course/grading/``:
``build_gradebook`` takes the row writer as ``write_rows`` so it can be switched to the
real grader without touching the benchmark. Comment rows (one per solution cell in a real
autograde) are not written: the quiz cells are not solution cells and analytics never read
comments.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from nbgrader.api import Grade, Student, SubmittedAssignment, SubmittedNotebook

from course import model as m
from course import scoring, workflow
from course.analytics.roster import write_roster
from course.build import key_spec
from course.loader import Course
from course.nbconfig import db_url
from course.simulate import Settings, abilities, answers_for, item_parameters, make_roster

GRADED_SHARE = 0.9  # share of answered case questions a grader has already scored
START = dt.datetime(2026, 9, 1, 8, 0)

RowWriter = Callable[[Path, Course, list[str], Settings], int]


def _cells(engine: sa.Engine) -> dict[str, list[tuple[str, str, str]]]:
    """Per assignment name: (notebook id, grade cell id, cell name) as generate_assignment made them."""
    query = sa.text("""
        SELECT a.name, nb.id, gc.id, bc.name FROM grade_cells gc
        JOIN base_cell bc ON bc.id = gc.id JOIN notebook nb ON nb.id = bc.notebook_id
        JOIN assignment a ON a.id = nb.assignment_id""")
    out: dict[str, list[tuple[str, str, str]]] = {}
    with engine.connect() as conn:
        for chapter, notebook, cell, name in conn.execute(query):
            out.setdefault(chapter, []).append((notebook, cell, name))
    return out


def _assignment_ids(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT name, id FROM assignment")).all())


def simulated_rows(root: Path, course: Course, chapters: list[str], settings: Settings) -> int:
    """Score simulated answers with course.scoring and bulk-insert nbgrader's rows; return grade rows."""
    roster = make_roster(course, settings)
    write_roster(roster, root / "roster.csv")
    theta = abilities(roster, settings.seed)
    params = item_parameters(course, settings.seed)
    rng = np.random.default_rng(settings.seed + 3)
    specs = {q.id: key_spec(q) for q in course.questions}
    cases = {q.id: q for q in course.questions if isinstance(q, m.CaseAnalysis)}
    engine = sa.create_engine(db_url(root))
    cells, assignments = _cells(engine), _assignment_ids(engine)
    total = 0
    students: list[dict[str, Any]] = [{"id": s} for s in roster.index]
    with engine.begin() as conn:
        conn.execute(sa.insert(Student.__table__), students)
    batch_sa: list[dict[str, Any]] = []
    batch_sn: list[dict[str, Any]] = []
    batch_g: list[dict[str, Any]] = []

    def flush() -> None:
        with engine.begin() as conn:
            if batch_sa:
                conn.execute(sa.insert(SubmittedAssignment.__table__), batch_sa)
                conn.execute(sa.insert(SubmittedNotebook.__table__), batch_sn)
                conn.execute(sa.insert(Grade.__table__), batch_g)
        batch_sa.clear(), batch_sn.clear(), batch_g.clear()

    for student in roster.index:
        for chapter in chapters:
            if rng.random() < settings.skip_chapter:
                continue
            answers = answers_for(course, chapter, theta[student], params, settings, rng)
            sa_id, sn_id = uuid.uuid4().hex, uuid.uuid4().hex
            when = START + dt.timedelta(minutes=int(rng.integers(0, 90 * 24 * 60)))
            notebook = cells[chapter][0][0]
            batch_sa.append({"id": sa_id, "assignment_id": assignments[chapter], "student_id": student,
                             "timestamp": when})
            batch_sn.append({"id": sn_id, "assignment_id": sa_id, "notebook_id": notebook, "flagged": False})
            for _, cell, name in cells[chapter]:
                auto: float | None
                manual: float | None = None
                if name in cases:
                    auto = None if scoring.is_answered(answers.get(name)) else 0.0
                    if auto is None and rng.random() < GRADED_SHARE:
                        manual = float(rng.integers(0, int(cases[name].points) + 1))
                elif name in specs:
                    auto = scoring.score(specs[name], answers.get(name))
                else:
                    auto = 0.0  # a graded cell that is not a question (none in this course)
                batch_g.append({"id": uuid.uuid4().hex, "cell_id": cell, "notebook_id": sn_id, "auto_score": auto,
                                "manual_score": manual, "extra_credit": None,
                                "needs_manual_grade": auto is None and manual is None})
            total += len(cells[chapter])
            if len(batch_g) >= 200_000:
                flush()
    flush()
    engine.dispose()
    return total


def build_gradebook(root: Path, course: Course, chapters: list[str], learners: int, *, seed: int = 2026,
                    write_rows: RowWriter = simulated_rows) -> int:
    """generate_assignment for ``chapters`` in course folder ``root``, then ``write_rows``; return grade rows."""
    workflow.generate(root, chapters)
    settings = Settings(learners=learners, seed=seed, skip_chapter=0.02, skip_question=0.03)
    return write_rows(root, course, chapters, settings)
