"""Shared fixtures: a real course folder built from the small fixture content."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from course.build import write_sources
from course.loader import Course, load_course

ROOT = Path(__file__).resolve().parents[1]
MINI = Path(__file__).parent / "fixtures" / "mini"


@dataclass(frozen=True)
class CourseDir:
    root: Path
    course: Course


def make_course_dir(path: Path, content: Path = MINI) -> CourseDir:
    """A course folder like the repo's: nbgrader_config.py, source/ built from ``content``."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", path / "nbgrader_config.py")
    course = load_course(content)
    write_sources(course, path / "source")
    return CourseDir(path, course)


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Never touch the developer's own gradebook, exchange or Jupyter settings.
    saved = {k: os.environ.get(k) for k in ("COURSE_DB_URL", "COURSE_EXCHANGE", "JUPYTER_CONFIG_DIR")}
    os.environ.pop("COURSE_DB_URL", None)
    os.environ.pop("COURSE_EXCHANGE", None)
    os.environ["JUPYTER_CONFIG_DIR"] = str(tmp_path_factory.mktemp("jupyter-config"))
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def make_gradebook(cd: CourseDir, chapter: str, scores: dict[str, dict[str, float | None]],
                   manual: dict[str, dict[str, float]] | None = None) -> None:
    """A real gradebook: nbgrader generates the assignment; submissions and scores go in through its API."""
    from nbgrader.api import Gradebook

    from course import workflow
    from course.nbconfig import db_url

    workflow.generate(cd.root, [chapter])
    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        for learner, by_question in scores.items():
            gb.update_or_create_student(learner)
            gb.add_submission(chapter, learner)
            for qid, value in by_question.items():
                grade = gb.find_grade(qid, chapter, chapter, learner)
                grade.auto_score = value
                grade.needs_manual_grade = value is None
            for qid, value in (manual or {}).get(learner, {}).items():
                gb.find_grade(qid, chapter, chapter, learner).manual_score = value
        gb.db.commit()


@pytest.fixture(scope="session")
def empty_register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gradebook with nbgrader's tables and the certification tables, made once (nbgrader's set-up takes ~2 s)."""
    from course.certification import store

    root = tmp_path_factory.mktemp("empty-register")
    store.open_course(root)
    return root / "gradebook" / "gradebook.db"


def with_register(root: Path, template: Path) -> Path:
    """Give the course folder ``root`` a copy of the empty register; return ``root``."""
    (root / "gradebook").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, root / "gradebook" / "gradebook.db")
    return root
