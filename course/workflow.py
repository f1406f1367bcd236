"""Instructor steps, each a thin wrapper over nbgrader's own API (``NbGraderAPI``).

nbgrader stays usable directly (``nbgrader generate_assignment jc01`` reads the
same ``nbgrader_config.py``); these wrappers add what a whole course needs:
all chapters at once, and grading of the submitted answers files without a
kernel (:mod:`course.grading`) with a progress bar.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from course.errors import WorkflowError
from course.grading import grader, rows
from course.loader import Course
from course.nbconfig import course_config

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI


def _tools_on_path() -> None:
    # nbgrader shells out to `alembic`; it sits beside this interpreter, maybe not on PATH.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


@functools.lru_cache(maxsize=4)
def nbgrader_api(root: Path) -> NbGraderAPI:
    from nbgrader.apps import NbGraderAPI  # about 2 s of imports: only for the steps that run nbgrader's apps

    _tools_on_path()
    return NbGraderAPI(config=course_config(root))


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        detail = (result.get("error") or result.get("log") or "").strip().splitlines()[-15:]
        raise WorkflowError(f"{what} failed:\n" + "\n".join(detail))


def generate(root: Path, chapters: Iterable[str]) -> None:
    """``nbgrader generate_assignment``: release versions under ``release/`` and the gradebook entries."""
    chapters = list(chapters)
    for chapter in chapters:  # every chapter checked before nbgrader starts
        if not (root / "source" / chapter / f"{chapter}.ipynb").exists():
            raise WorkflowError(f"source/{chapter}/{chapter}.ipynb does not exist: run `course build` first")
        stray = sorted((root / "source" / chapter).glob("*.answers.json"))
        if stray:
            # autograde copies source files over the submission: it would replace every learner's answers.
            raise WorkflowError(f"{stray[0]} must not be in source/: delete it (it would overwrite learners' answers)")
    api = nbgrader_api(root)
    for chapter in chapters:
        _check(api.generate_assignment(chapter, force=True, create=True), f"generate_assignment {chapter}")


def released(root: Path) -> set[str]:
    """The assignments in the exchange (closed or ngshare), as nbgrader's own list reports them (none when the
    exchange does not exist yet)."""
    from nbgrader.exchange import ExchangeError

    api = nbgrader_api(root)
    # api.get_released_assignments() answered nothing after a first release made in the same process (measured;
    # it trusts a check of the exchange made when an API is built): ask the exchange's own List.
    lister = api.exchange.List(coursedir=api.coursedir, authenticator=api.authenticator, parent=api)
    try:
        return {str(x["assignment_id"]) for x in lister.start()}
    except ExchangeError:
        return set()


def release(root: Path, chapters: Iterable[str]) -> None:
    """``nbgrader release_assignment``: copy to the exchange for learners to fetch."""
    chapters = list(chapters)
    for chapter in chapters:  # every chapter checked before nbgrader starts
        if not (root / "release" / chapter).is_dir():
            raise WorkflowError(f"release/{chapter} does not exist: run `course generate {chapter}` first")
    api = nbgrader_api(root)
    for chapter in chapters:
        if chapter in api.get_released_assignments():
            _check(api.unrelease(chapter), f"unrelease {chapter}")  # re-release replaces the old copy
        _check(api.release_assignment(chapter), f"release_assignment {chapter}")


def collect(root: Path, chapters: Iterable[str]) -> None:
    """``nbgrader collect``: copy learners' submissions from the exchange to ``submitted/``."""
    api = nbgrader_api(root)
    for chapter in chapters:
        _check(api.collect(chapter, update=True), f"collect {chapter}")


AutogradeReport = grader.Report


def autograde(root: Path, course: Course, chapters: Iterable[str] | None = None,
              students: Iterable[str] | None = None, workers: int | None = None,
              progress: bool = True) -> grader.Report:
    """Grade the submitted answers files of ``chapters`` (default: every assignment submitted).

    No kernel starts and no learner code runs (see :mod:`course.grading`); the rows
    written are nbgrader's own, and a human's manual grade is never touched.
    """
    root = root.resolve()
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    log_file = logs / f"autograde-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    from tqdm import tqdm

    bar = tqdm(desc="autograde", unit="nb", disable=not progress)

    def advance(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        return grader.grade(root, course, chapters, students, workers or min(2, os.cpu_count() or 1),
                            on_progress=advance, log_file=log_file)
    finally:
        bar.close()


def autograde_executing(root: Path, chapters: Iterable[str] | None = None,
                        students: Iterable[str] | None = None) -> grader.Report:
    """Only for notebooks that really hold learner code: nbgrader's autograde, kernel in a sandbox.

    See :mod:`course.grading.execute`; learners are created first by one writer, so the
    serial nbgrader runs never race to create them.
    """
    root = root.resolve()
    report = grader.Report()
    subs, failures = grader.discover(root, chapters, students)
    report.failed.update({(f.student, f.assignment): f.message for f in failures})
    if not subs:
        return report
    saved = os.environ.get("COURSE_EXECUTE")
    os.environ["COURSE_EXECUTE"] = "sandbox"
    try:
        config = course_config(root)
        eng = grader.engine(config.CourseDirectory.db_url)
        with eng.begin() as conn:
            rows.ensure_students(conn, (s.student for s in subs))
        eng.dispose()
        from nbgrader.apps import NbGraderAPI

        _tools_on_path()
        api = NbGraderAPI(config=config)
        for sub in subs:
            result = api.autograde(sub.assignment, sub.student, force=True, create=True)
            if result.get("success"):
                report.graded.append((sub.student, sub.assignment))
            else:
                log = (result.get("error") or result.get("log") or "").strip().splitlines()
                reason = next((ln for ln in reversed(log) if "SandboxError" in ln or "Error" in ln), "see the log")
                report.failed[(sub.student, sub.assignment)] = f"{sub.folder}: {reason.strip()}"
    finally:
        if saved is None:
            os.environ.pop("COURSE_EXECUTE", None)
        else:
            os.environ["COURSE_EXECUTE"] = saved
    return report


def feedback(root: Path, chapters: Iterable[str], students: Iterable[str] | None = None) -> None:
    """Generate feedback (hidden tests and rubrics stripped) and release it to learners."""
    api = nbgrader_api(root)
    targets: list[str | None] = list(students) if students else [None]  # None: every learner
    for chapter in chapters:
        for student in targets:
            _check(api.generate_feedback(chapter, student), f"generate_feedback {chapter}")
            _check(api.release_feedback(chapter, student), f"release_feedback {chapter}")
