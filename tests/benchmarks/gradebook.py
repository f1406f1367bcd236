"""A national-cohort gradebook for benchmarks, built from real graded submissions.

How it comes about:

1. ``nbgrader generate_assignment`` (``course.workflow.generate``) creates the
   assignments, notebooks and grade cells in the gradebook, exactly as for a real run;
2. a simulated cohort (``course.simulate``: roster, 2PL abilities, answers in the form the
   widgets save) answers every chapter; each submission is placed as ``nbgrader collect``
   leaves it in ``submitted/<learner>/<chapter>/``: the released notebook (a hard link),
   the answers file and ``timestamp.txt`` (times spread over a quarter);
3. ``course autograde`` (``course.workflow.autograde``) grades them into nbgrader's rows
   and writes ``autograded/``; an answered case question waits for a manual grade;
4. a grader then scores most case answers (``GRADED_SHARE``), written as formgrader does:
   ``manual_score`` set and ``needs_manual_grade`` cleared on the grade row.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from course_runtime.answersfile import write_answers
from nbgrader.api import BaseCell, Grade

from course import model as m
from course import workflow
from course.analytics.roster import write_roster
from course.loader import Course
from course.nbconfig import db_url
from course.simulate import Settings, abilities, answers_for, item_parameters, make_roster

GRADED_SHARE = 0.9  # share of answered case questions a grader has already scored
START = dt.datetime(2026, 9, 1, 8, 0)


def place_submissions(root: Path, course: Course, chapters: list[str], settings: Settings) -> int:
    """Collected submissions of a simulated 2PL cohort in ``root/submitted``; returns how many."""
    roster = make_roster(course, settings)
    write_roster(roster, root / "roster.csv")
    theta, params = abilities(roster, settings.seed), item_parameters(course, settings.seed)
    rng = np.random.default_rng(settings.seed + 3)
    n = 0
    for student in roster.index:
        for chapter in chapters:
            if rng.random() < settings.skip_chapter:
                continue
            folder = root / "submitted" / student / chapter
            folder.mkdir(parents=True, exist_ok=True)
            os.link(root / "release" / chapter / f"{chapter}.ipynb", folder / f"{chapter}.ipynb")
            write_answers(folder / f"{chapter}.answers.json", chapter, student,
                          answers_for(course, chapter, theta[student], params, settings, rng))
            when = START + dt.timedelta(minutes=int(rng.integers(0, 90 * 24 * 60)))
            (folder / "timestamp.txt").write_text(f"{when:%Y-%m-%d %H:%M:%S}.000000 UTC", encoding="utf-8")
            n += 1
    return n


def hand_grade_cases(root: Path, course: Course, seed: int) -> int:
    """Score ``GRADED_SHARE`` of the case answers awaiting a grader; returns how many were scored."""
    cases = {q.id: q for q in course.questions if isinstance(q, m.CaseAnalysis)}
    rng = np.random.default_rng(seed + 4)
    grade, cell = Grade.__table__, BaseCell.__table__  # a grade cell's name is on its base cell
    engine = sa.create_engine(db_url(root))
    with engine.begin() as conn:
        waiting = conn.execute(
            sa.select(grade.c.id, cell.c.name).join(cell, grade.c.cell_id == cell.c.id)
            .where(grade.c.needs_manual_grade.is_(True), grade.c.manual_score.is_(None))
            .order_by(grade.c.id)).all()
        scored = [{"gid": gid, "score": float(rng.integers(0, int(cases[name].points) + 1))}
                  for gid, name in waiting if name in cases and rng.random() < GRADED_SHARE]
        if scored:
            conn.execute(grade.update().where(grade.c.id == sa.bindparam("gid"))
                         .values(manual_score=sa.bindparam("score"), needs_manual_grade=False), scored)
    engine.dispose()
    return len(scored)


def build_gradebook(root: Path, course: Course, chapters: list[str], learners: int, *, seed: int = 2026,
                    workers: int = 2) -> int:
    """Generate ``chapters`` in course folder ``root``, place, autograde and hand-grade; return grade rows."""
    workflow.generate(root, chapters)
    settings = Settings(learners=learners, seed=seed, skip_chapter=0.02, skip_question=0.03)
    placed = place_submissions(root, course, chapters, settings)
    report = workflow.autograde(root, course, chapters, workers=workers, progress=False)
    if len(report.graded) != placed or report.failed:
        raise RuntimeError(f"autograde graded {len(report.graded)} of {placed} submissions; "
                           f"failed: {report.failed[:5]}")
    hand_grade_cases(root, course, seed)
    engine = sa.create_engine(db_url(root))
    with engine.connect() as conn:
        rows = int(conn.execute(sa.select(sa.func.count()).select_from(Grade.__table__)).scalar_one())
    engine.dispose()
    return rows
