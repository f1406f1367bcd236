"""Benchmark: tidy frames by one SQL query (course.analytics.frames) against `nbgrader export`.

Run: python -m tests.benchmarks.bench_frames [--learners 1000 10000]

The gradebook is real: nbgrader generates the assignment and creates one
learner's submission through its API; the other learners are copies of
that submission's rows (new ids, varied scores) made with SQL, because
creating 10,000 submissions one ORM object at a time would take longer than
the measurement itself. Both readers then read the same file, side by side
in one run; the numbers printed are rows/second and the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sqlite3
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import numpy as np
from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin
from sqlalchemy.exc import SAWarning

from course.analytics import frames
from course.build import write_sources
from course.loader import load_course
from course.nbconfig import db_url
from tests.conftest import make_course_dir, make_gradebook

CHAPTER = "jc01"


def populate(root: Path, learners: int) -> int:
    """Clone learner 0's submission to ``learners`` learners; return the number of grade rows."""
    rng = np.random.default_rng(7)
    path = db_url(root).removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    (asg_id, ts) = con.execute("SELECT assignment_id, timestamp FROM submitted_assignment").fetchone()
    (sn_id, nb_id) = con.execute("SELECT id, notebook_id FROM submitted_notebook").fetchone()
    grades = con.execute("SELECT cell_id, auto_score FROM grade WHERE notebook_id = ?", (sn_id,)).fetchall()
    students, sas, sns, rows = [], [], [], []
    for i in range(1, learners):
        sid, new_sa, new_sn = f"learner{i:05d}", uuid.uuid4().hex, uuid.uuid4().hex
        students.append((sid,))
        sas.append((new_sa, asg_id, sid, ts))
        sns.append((new_sn, new_sa, nb_id))
        rows += [(uuid.uuid4().hex, new_sn, cell, float(rng.integers(0, 3)), None, None, 0) for cell, _ in grades]
    with con:
        con.executemany("INSERT INTO student (id) VALUES (?)", students)
        con.executemany("INSERT INTO submitted_assignment (id, assignment_id, student_id, timestamp) "
                        "VALUES (?, ?, ?, ?)", sas)
        con.executemany("INSERT INTO submitted_notebook (id, assignment_id, notebook_id, flagged) "
                        "VALUES (?, ?, ?, 0)", sns)
        con.executemany("INSERT INTO grade (id, notebook_id, cell_id, auto_score, manual_score, extra_credit, "
                        "needs_manual_grade) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    total = con.execute("SELECT count(*) FROM grade").fetchone()[0]
    con.close()
    return total


def measure(root: Path, grade_rows: int) -> tuple[float, float]:
    course = load_course()
    start = time.perf_counter()
    scores = frames.scores_frame(frames.read_grades(db_url(root), "kam-cert"), course)
    t_sql = time.perf_counter() - start
    assert len(scores) > 0
    start = time.perf_counter()
    with Gradebook(db_url(root), course_id="kam-cert") as gb, contextlib.redirect_stderr(io.StringIO()):
        CsvExportPlugin(to=str(root / "grades.csv")).export(gb)
    t_export = time.perf_counter() - start
    return t_sql, t_export


def run(learners: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cd = make_course_dir(Path(tmp) / "course", content=Path(load_course().root))
        write_sources(cd.course, cd.root / "source", [CHAPTER])
        questions = [q.id for q in cd.course.questions_of(CHAPTER)]
        make_gradebook(cd, CHAPTER, {"learner00000": dict.fromkeys(questions, 1.0)})
        rows = populate(cd.root, learners)
        t_sql, t_export = measure(cd.root, rows)
        print(f"{learners:>6} learners, {rows:>7} grade rows | frames (SQL): {t_sql:7.2f} s "
              f"{rows / t_sql:>10,.0f} rows/s | nbgrader export: {t_export:7.2f} s {rows / t_export:>10,.0f} rows/s "
              f"| speed-up x{t_export / t_sql:.1f}")


def main() -> None:
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own ORM notices, not ours
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, nargs="+", default=[1000, 10000])
    for n in parser.parse_args().learners:
        run(n)


if __name__ == "__main__":
    main()
