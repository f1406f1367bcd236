"""Shared fixtures: a real course folder built from the small fixture content."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from course.build import write_sources
from course.certification.config import Certification, load_certification
from course.loader import Course, load_course

ROOT = Path(__file__).resolve().parents[1]
MINI = Path(__file__).parent / "fixtures" / "mini"
CERT = Path(__file__).parent / "fixtures" / "cert"  # the certification fixture course


@dataclass(frozen=True)
class CourseDir:
    root: Path
    course: Course


@pytest.fixture(scope="module")
def course(request: pytest.FixtureRequest) -> Course:
    """The content a test module names as ``CONTENT`` (the shipped course if it names none), loaded once."""
    return load_course(getattr(request.module, "CONTENT", None))


@pytest.fixture(scope="module")
def cert(course: Course) -> Certification:
    """The certification settings of the module's ``course``."""
    return load_certification(course)


def read_json_written(path: Path) -> Any | None:
    """``path``'s JSON, or None while it is missing or half written: JupyterLab's save rewrites a notebook in
    place (jupyter_server's atomic_writing keeps a backup copy, not a temporary file), so a reader polling it
    may see it empty."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def answers_saved(path: Path, wanted: dict[str, Any], timeout: float = 15) -> dict[str, Any]:
    """The answers in the learner's answers file at ``path`` once they hold ``wanted``, else what they hold at
    ``timeout`` (a click is saved at once, but over a websocket: poll)."""
    deadline = time.monotonic() + timeout
    answers: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if (found := read_json_written(path)) is not None:
            answers = found["answers"]
            if all(answers.get(k) == v for k, v in wanted.items()):
                return answers
        time.sleep(0.2)
    return answers


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
    saved = {k: os.environ.get(k) for k in ("COURSE_DB_URL", "COURSE_EXCHANGE", "JUPYTER_CONFIG_DIR",
                                            "COURSE_CACHE_DIR")}
    os.environ.pop("COURSE_DB_URL", None)
    os.environ.pop("COURSE_EXCHANGE", None)
    os.environ["JUPYTER_CONFIG_DIR"] = str(tmp_path_factory.mktemp("jupyter-config"))
    os.environ["COURSE_CACHE_DIR"] = str(tmp_path_factory.mktemp("course-cache") / "content")
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


# ---------------------------------------------------------------- the suite in three groups, quickest first
# CI's whole run takes about 8–11 minutes; most of it goes to the two later groups. Files not listed
# here are quick (no nbgrader, no kernel, no browser); list a new slow file in its group.
GROUPS = [
    ("quick checks: content, scoring, statistics, charts, tables", ()),
    ("nbgrader, kernels, PostgreSQL and report notebooks", (
        "test_analytics.py", "test_answers_files.py", "test_certification_lifecycle.py", "test_certification_papers.py",
        "test_certification_register.py", "test_certification_round.py", "test_cli.py", "test_cli_flow.py",
        "test_grading.py", "test_import_answers.py", "test_lint.py", "test_paper_commands.py", "test_pipeline.py",
        "test_report.py", "test_report_tables.py", "test_review.py", "test_review_flags.py", "test_runtime.py",
        "test_runtime_package.py", "test_shown_pages.py", "test_sittings.py", "test_snapshot.py",
        "test_validation.py")),
    ("root, OS accounts and headless Chromium (CI runs them as root; skipped without root or Chromium)", (
        "test_browser.py", "test_certification_verify_page.py", "test_hostile_answers_browser.py",
        "test_hub_browser.py", "test_hub_deploy.py", "test_hub_exchange.py", "test_hub_keys.py",
        "test_hub_national.py", "test_hub_sittings.py", "test_newcomers.py", "test_report_pages.py")),
]


def group_of(path: Path) -> int:
    return next((i for i, (_, files) in enumerate(GROUPS) if path.name in files), 0)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="Rewrite the golden files (tests/fixtures/pages/) from this run; review their diff.")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Quick tests first; a file's tests stay together (a stable sort), so module fixtures are built once."""
    items.sort(key=lambda item: group_of(item.path))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Each group's size among the tests that will run (after -k and other deselection)."""
    session.config.stash[_GROUP_SIZES] = [sum(group_of(item.path) == i for item in session.items)
                                          for i in range(len(GROUPS))]


_GROUP_SIZES = pytest.StashKey[list[int]]()
_SHOWN = pytest.StashKey[int]()
_SHOWN_ANY = pytest.StashKey[bool]()
_STARTED = pytest.StashKey[float]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.monotonic()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """A line when a new group starts: which one, how many tests, the time so far (a busy machine sees progress)."""
    config = item.config
    group = group_of(item.path)
    sizes = config.stash.get(_GROUP_SIZES, [])
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if config.stash.get(_SHOWN, -1) == group or group >= len(sizes) or reporter is None:
        return
    config.stash[_SHOWN] = group
    minutes, seconds = divmod(int(time.monotonic() - config.stash.get(_STARTED, time.monotonic())), 60)
    reporter.ensure_newline()
    if config.get_verbosity() < 0 and config.stash.get(_SHOWN_ANY, False):
        reporter.write("\n")  # -q prints dots without a file name, which ensure_newline does not see
    config.stash[_SHOWN_ANY] = True
    count = sizes[group]
    reporter.write_sep("-", f"group {group + 1}/{len(GROUPS)}: {GROUPS[group][0]} — {count} "
                            f"test{'' if count == 1 else 's'} (after {minutes} min {seconds} s)")


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
