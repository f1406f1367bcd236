"""Helpers for the grading tests: course folders, submissions as `nbgrader collect` leaves them, row dumps."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from course_runtime.answersfile import write_answers

from course.grading import rows
from course.nbconfig import db_url
from tests.conftest import MINI, CourseDir, make_course_dir

TIMESTAMP = "2026-11-20 09:30:00.000000 UTC"


def two_chapter_content(dest: Path) -> Path:
    """The mini course with a second chapter ch02 (a copy of ch01 under new ids)."""
    shutil.copytree(MINI, dest)
    text = (dest / "questions" / "ch01.yaml").read_text(encoding="utf-8")
    (dest / "questions" / "ch02.yaml").write_text(text.replace("ch01", "ch02"), encoding="utf-8")
    syllabus = (dest / "syllabus.yaml").read_text(encoding="utf-8")
    chapter = syllabus[syllabus.index("      - id: ch01"):]
    (dest / "syllabus.yaml").write_text(syllabus.rstrip("\n") + "\n" + chapter.replace("ch01", "ch02")
                                        .replace("测试章", "测试章二"), encoding="utf-8")
    return dest


def place_submission(root: Path, student: str, chapter: str, answers: dict[str, Any] | None,
                     timestamp: str = TIMESTAMP) -> Path:
    """A submission folder exactly as `nbgrader collect` leaves it (released notebook, answers, timestamp)."""
    folder = root / "submitted" / student / chapter
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "release" / chapter / f"{chapter}.ipynb", folder / f"{chapter}.ipynb")
    if answers is not None:
        write_answers(folder / f"{chapter}.answers.json", chapter, student, answers)
    (folder / "timestamp.txt").write_text(timestamp, encoding="utf-8")
    return folder


def nbgrader(root: Path, *args: str, execute: bool = False, check: bool = True,
             content: Path = MINI) -> subprocess.CompletedProcess[str]:
    """Run nbgrader's own command line on the course folder (with the course content ``content``)."""
    bindir = str(Path(sys.executable).parent)
    env = {"PATH": bindir + ":/usr/bin:/bin", "HOME": str(root),
           "JUPYTER_CONFIG_DIR": os.environ.get("JUPYTER_CONFIG_DIR", str(root / ".jupyter"))}
    if execute:
        env["COURSE_EXECUTE"] = "nbgrader"  # nbgrader's own kernel run: the reference
    env["COURSE_CONTENT"] = str(content)
    for key in ("COURSE_DB_URL", "COURSE_EXCHANGE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return subprocess.run([f"{bindir}/nbgrader", *args], cwd=root, check=check, capture_output=True, text=True,
                          env=env)


def dump(url: str, course_id: str = "kam-cert") -> dict[str, list[tuple[Any, ...]]]:
    """Every submission row of the gradebook by natural keys (no generated ids), sorted."""
    eng = sa.create_engine(url)
    a, nb, bc = rows.ASSIGNMENT, rows.NOTEBOOK, rows.BASE_CELL
    sub, snb, g, c, st = rows.SUBMISSION, rows.SUBMITTED_NB, rows.GRADE, rows.COMMENT, rows.STUDENT
    try:
        with eng.connect() as conn:
            keys = (sa.select(a.c.name, sub.c.student_id, nb.c.name.label("nb"), snb.c.id.label("snb"))
                    .join(sub, sub.c.assignment_id == a.c.id).join(snb, snb.c.assignment_id == sub.c.id)
                    .join(nb, nb.c.id == snb.c.notebook_id).where(a.c.course_id == course_id).subquery())
            grade_rows = conn.execute(
                sa.select(keys.c.name, keys.c.student_id, keys.c.nb, bc.c.name, g.c.auto_score, g.c.manual_score,
                          g.c.extra_credit, g.c.needs_manual_grade)
                .join(g, g.c.notebook_id == keys.c.snb).join(bc, bc.c.id == g.c.cell_id)).all()
            comment_rows = conn.execute(
                sa.select(keys.c.name, keys.c.student_id, keys.c.nb, bc.c.name, c.c.auto_comment, c.c.manual_comment)
                .join(c, c.c.notebook_id == keys.c.snb).join(bc, bc.c.id == c.c.cell_id)).all()
            notebook_rows = conn.execute(
                sa.select(a.c.name, sub.c.student_id, sub.c.timestamp, sub.c.extension, nb.c.name,
                          snb.c.late_submission_penalty, snb.c.flagged)
                .join(sub, sub.c.assignment_id == a.c.id).join(snb, snb.c.assignment_id == sub.c.id)
                .join(nb, nb.c.id == snb.c.notebook_id)).all()
            students = conn.execute(sa.select(st)).all()
    finally:
        eng.dispose()
    return {"grade": sorted(map(tuple, grade_rows)), "comment": sorted(map(tuple, comment_rows), key=repr),
            "notebook": sorted(map(tuple, notebook_rows), key=repr), "student": sorted(map(tuple, students))}


def fresh_course(path: Path, content: Path = MINI, chapters: tuple[str, ...] = ("ch01",)) -> CourseDir:
    from course import workflow

    cd = make_course_dir(path, content)
    workflow.generate(cd.root, list(chapters))
    return cd


def url(cd: CourseDir) -> str:
    return db_url(cd.root)


def shown(root: Path, path: Path) -> Any:
    """An autograded notebook as formgrader and the feedback page show it (course.nbgrader_ext.ShowSharedParts)."""
    import nbformat

    from course.nbconfig import course_config
    from course.nbgrader_ext import ShowSharedParts

    nb = nbformat.read(path, as_version=4)
    step = ShowSharedParts(config=course_config(root))
    assignment, notebook = path.parent.name, path.stem
    return step.preprocess(nb, {"nbgrader": {"assignment": assignment, "notebook": notebook}})[0]
