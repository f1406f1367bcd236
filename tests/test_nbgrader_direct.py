"""Is the course still usable with nbgrader's own commands alone?

The hidden tests score honest submissions correctly in the grading kernel;
`course autograde` only adds the trusted re-scoring on top.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nbgrader.api import Gradebook

from course import learners
from course.nbconfig import db_url
from tests.conftest import make_course_dir
from tests.test_pipeline import ALL_CORRECT, EXPECTED, PARTIAL


def _nbgrader(root: Path, *args: str) -> None:
    bindir = str(Path(sys.executable).parent)
    subprocess.run([f"{bindir}/nbgrader", *args], cwd=root, check=True, capture_output=True,
                   env={"PATH": bindir + ":/usr/bin:/bin", "HOME": str(root)})


def test_plain_nbgrader_autograde_scores_honest_learners_like_the_trusted_step(tmp_path: Path) -> None:
    cd = make_course_dir(tmp_path / "course")
    _nbgrader(cd.root, "generate_assignment", "ch01")
    _nbgrader(cd.root, "release_assignment", "ch01")
    for student, answers in {"all-correct": ALL_CORRECT, "partial": PARTIAL}.items():
        home = cd.root / "homes" / student
        folder = learners.fetch(cd.root, "ch01", student, home)
        learners.answer(folder, "ch01", student, answers)
        learners.submit(cd.root, "ch01", student, home)
    _nbgrader(cd.root, "collect", "ch01")
    _nbgrader(cd.root, "autograde", "ch01")
    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        for student in ("all-correct", "partial"):
            grades = {g.name: g.auto_score for g in gb.find_submission_notebook("ch01", "ch01", student).grades}
            expected = {q: s for q, s in EXPECTED[student].items() if q != "ch01-007"}
            assert {q: grades[q] for q in expected} == expected
