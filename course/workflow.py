"""Instructor steps, each a thin wrapper over nbgrader's own API (``NbGraderAPI``).

nbgrader stays usable directly (``nbgrader generate_assignment jc01`` reads the
same ``nbgrader_config.py``); these wrappers add what a whole course needs:
all chapters at once, parallel autograding with a progress bar, and the
trusted re-scoring of quiz answers (:mod:`course.trusted`).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from tqdm import tqdm

from course import trusted
from course.errors import WorkflowError
from course.loader import Course
from course.nbconfig import course_config, db_url
from course.submission import SubmissionScores, score_submission


def _tools_on_path() -> None:
    # nbgrader shells out to `alembic`; it sits beside this interpreter, maybe not on PATH.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


@functools.lru_cache(maxsize=4)
def nbgrader_api(root: Path) -> NbGraderAPI:
    _tools_on_path()
    return NbGraderAPI(config=course_config(root))


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        detail = (result.get("error") or result.get("log") or "").strip().splitlines()[-15:]
        raise WorkflowError(f"{what} failed:\n" + "\n".join(detail))


def generate(root: Path, chapters: Iterable[str]) -> None:
    """``nbgrader generate_assignment``: release versions under ``release/`` and the gradebook entries."""
    api = nbgrader_api(root)
    for chapter in chapters:
        if not (root / "source" / chapter / f"{chapter}.ipynb").exists():
            raise WorkflowError(f"source/{chapter}/{chapter}.ipynb does not exist: run `course build` first")
        stray = sorted((root / "source" / chapter).glob("*.answers.json"))
        if stray:
            # autograde copies source files over the submission: it would replace every learner's answers.
            raise WorkflowError(f"{stray[0]} must not be in source/: delete it (it would overwrite learners' answers)")
        _check(api.generate_assignment(chapter, force=True, create=True), f"generate_assignment {chapter}")


def release(root: Path, chapters: Iterable[str]) -> None:
    """``nbgrader release_assignment``: copy to the exchange for learners to fetch."""
    api = nbgrader_api(root)
    for chapter in chapters:
        if not (root / "release" / chapter).is_dir():
            raise WorkflowError(f"release/{chapter} does not exist: run `course generate {chapter}` first")
        if chapter in api.get_released_assignments():
            _check(api.unrelease(chapter), f"unrelease {chapter}")  # re-release replaces the old copy
        _check(api.release_assignment(chapter), f"release_assignment {chapter}")


def collect(root: Path, chapters: Iterable[str]) -> None:
    """``nbgrader collect``: copy learners' submissions from the exchange to ``submitted/``."""
    api = nbgrader_api(root)
    for chapter in chapters:
        _check(api.collect(chapter, update=True), f"collect {chapter}")


def submissions(root: Path, chapters: Iterable[str] | None = None,
                students: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(student, chapter) pairs present under ``submitted/``, sorted."""
    wanted_ch = set(chapters) if chapters is not None else None
    wanted_st = set(students) if students is not None else None
    found = []
    for folder in sorted((root / "submitted").glob("*/*")):
        student, chapter = folder.parent.name, folder.name
        if folder.is_dir() and (wanted_ch is None or chapter in wanted_ch) and (
                wanted_st is None or student in wanted_st):
            found.append((student, chapter))
    return found


@dataclass
class AutogradeReport:
    graded: list[tuple[str, str]] = field(default_factory=list)
    failed: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _autograde_one(root: str, student: str, chapter: str) -> tuple[str, str, bool, str]:
    result = nbgrader_api(Path(root)).autograde(chapter, student, force=True, create=True)
    return student, chapter, bool(result.get("success")), (result.get("error") or "")


def snapshot(root: Path, course: Course, tasks: list[tuple[str, str]]) -> dict[tuple[str, str], SubmissionScores]:
    """Score every submitted answers file before any learner code runs."""
    return {
        (s, c): score_submission(root / "submitted" / s / c, s, c, course.questions_of(c)) for s, c in tasks
    }


def autograde(root: Path, course: Course, chapters: Iterable[str] | None = None,
              students: Iterable[str] | None = None, workers: int | None = None,
              progress: bool = True) -> AutogradeReport:
    """Autograde submissions in parallel worker processes, then apply trusted quiz scores."""
    root = root.resolve()
    tasks = submissions(root, chapters, students)
    trusted_scores = snapshot(root, course, tasks)
    workers = workers or min(2, os.cpu_count() or 1)
    report = AutogradeReport()
    bar = tqdm(total=len(tasks), desc="autograde", unit="nb", disable=not progress)
    if workers <= 1:
        for student, chapter in tasks:
            _record(report, _autograde_one(str(root), student, chapter))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_autograde_one, str(root), s, c) for s, c in tasks]
            for future in as_completed(futures):
                _record(report, future.result())
                bar.update()
    bar.close()
    for student, chapter in tasks:
        report.problems += _drop_linked_copies(root, student, chapter)
    # One gradebook connection for the whole trusted step, not one per submission.
    with Gradebook(db_url(root), course_id=course_config(root).CourseDirectory.course_id) as gb:
        for (student, chapter), scores in sorted(trusted_scores.items()):
            if scores.error:
                report.problems.append(scores.error)
            report.problems += [r.problem for r in scores.scored.values() if r.problem and not scores.error]
            nb = root / "autograded" / student / chapter / f"{chapter}.ipynb"
            trusted.apply(gb, nb, course.questions_of(chapter), scores)
    return report


def _drop_linked_copies(root: Path, student: str, chapter: str) -> list[str]:
    """nbgrader copies submitted files following symlinks; remove what a link pulled in (it would reach feedback)."""
    submitted = root / "submitted" / student / chapter
    problems = []
    for link in sorted(p for p in submitted.rglob("*") if p.is_symlink()):
        copy = root / "autograded" / student / chapter / link.relative_to(submitted)
        copy.unlink(missing_ok=True)
        problems.append(f"{link} is a symbolic link; its target was not graded and was removed from "
                        f"autograded/: ask the learner to resubmit")
    return problems


def _record(report: AutogradeReport, outcome: tuple[str, str, bool, str]) -> None:
    student, chapter, ok, error = outcome
    if ok:
        report.graded.append((student, chapter))
    else:
        report.failed[(student, chapter)] = error.strip().splitlines()[-1] if error.strip() else "unknown error"


def feedback(root: Path, chapters: Iterable[str], students: Iterable[str] | None = None) -> None:
    """Generate feedback (hidden tests and rubrics stripped) and release it to learners."""
    api = nbgrader_api(root)
    targets: list[str | None] = list(students) if students else [None]  # None: every learner
    for chapter in chapters:
        for student in targets:
            _check(api.generate_feedback(chapter, student), f"generate_feedback {chapter}")
            _check(api.release_feedback(chapter, student), f"release_feedback {chapter}")
