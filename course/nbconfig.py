"""nbgrader configuration of a course folder, shared by ``nbgrader_config.py`` and the ``course`` tools.

The gradebook URL and the exchange folder come from the environment when set
(``COURSE_DB_URL``, ``COURSE_EXCHANGE``), so the same course runs on the
embedded defaults (SQLite under ``gradebook/``, an exchange folder beside the
course) or on a PostgreSQL gradebook and a hub-wide exchange.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from traitlets.config import Config

COURSE_ID = "kam-cert"
CODE_STUB = "# 请在上方文本框中作答，无需修改本单元格。"
SHOW_SHARED_PARTS = "course.nbgrader_ext.ShowSharedParts"  # runs before FEEDBACK_PREPROCESSORS (an exporter's own)
INERT_LEARNER_NOTEBOOK = "course.nbgrader_ext.InertLearnerNotebook"  # a kernel-graded notebook shown as data
FEEDBACK_PREPROCESSORS = [
    "course.nbgrader_ext.FeedbackGrades",  # nbgrader's GetGrades plus question numbers and pending grades
    # nbgrader's default feedback shows hidden tests; these strip them and grader-only notes.
    "nbgrader.preprocessors.ClearHiddenTests",
    "course.nbgrader_ext.StripGraderOnly",
    "course.nbgrader_ext.DropAnswerHints",
    "course.nbgrader_ext.SafeOutputs",  # last: whatever reaches the page is text, paragraphs and emphasis
]
# The learner's feedback page in Chinese (course/templates/feedback): nbgrader asks for the template named
# "feedback", found first here; formgrader's own templates stay reachable after it.
FEEDBACK_TEMPLATES = Path(__file__).parent / "templates"


def _package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ImportError(f"{name} is not installed: install the course with `pip install -e .`")
    return Path(spec.origin).parent


# Not `import nbgrader`: its package import loads all its apps and nbformat's validator (about 2 s), and every
# `course` command and nbgrader app reads this module through nbgrader_config.py.
NBGRADER_TEMPLATES = _package_dir("nbgrader") / "server_extensions" / "formgrader" / "templates"


# nbgrader 0.9.6's GenerateAssignment.preprocessors, then the kernel's language_info (a notebook opens unmodified)
NBGRADER_GENERATE = [
    "nbgrader.preprocessors.IncludeHeaderFooter", "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells", "nbgrader.preprocessors.ClearSolutions", "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata", "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells", "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme", "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]
GENERATE_PREPROCESSORS = [*NBGRADER_GENERATE, "course.nbgrader_ext.KernelLanguage"]


# Plain `nbgrader autograde` grades the answers files too: no kernel, no learner code (course.grading).
GRADE_WITHOUT_KERNEL = {
    "sanitize_preprocessors": ["course.grading.preprocessors.GradeFromAnswers"],
    "autograde_preprocessors": [
        "course.grading.preprocessors.SaveTrustedGrades",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ],
}


NBGRADER_AUTOGRADE = [  # nbgrader 0.9.6's Autograde.autograde_preprocessors
    "nbgrader.preprocessors.Execute", "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]


def db_url(root: Path) -> str:
    return os.environ.get("COURSE_DB_URL") or f"sqlite:///{(root / 'gradebook' / 'gradebook.db').resolve()}"


def exchange_root(root: Path) -> Path:
    return Path(os.environ.get("COURSE_EXCHANGE") or root / "exchange")


def exchange_closed() -> bool:
    """On a multi-user hub (``COURSE_EXCHANGE_MODE=closed``) nbgrader's exchange steps are the closed ones."""
    return os.environ.get("COURSE_EXCHANGE_MODE", "") == "closed"


def exchange_service() -> bool:
    """The ngshare service is the exchange (``COURSE_EXCHANGE_MODE=ngshare``, the national path): no folder."""
    return os.environ.get("COURSE_EXCHANGE_MODE", "") == "ngshare"


def configure_ngshare_exchange(c: Config) -> Config:
    """nbgrader's exchange steps from ngshare_exchange, talking to ``COURSE_NGSHARE_URL`` with the hub token."""
    url = os.environ.get("COURSE_NGSHARE_URL", "")
    if not url:
        raise ValueError("COURSE_EXCHANGE_MODE=ngshare needs COURSE_NGSHARE_URL, the ngshare service's address "
                         "(e.g. http://127.0.0.1:8000/services/ngshare); `course hub` sets both in instructors' "
                         "servers")
    from ngshare_exchange import configureExchange  # only here: it reads JUPYTERHUB_USER (or USER) on import

    configureExchange(c, url)
    return c


def configure_closed_exchange(c: Config) -> Config:
    """nbgrader's exchange with the hub's identity and a verified collect (see :mod:`course.hub.exchange`)."""
    from course_runtime.exchange import configure_learner_exchange  # imports nbgrader: only on a hub

    configure_learner_exchange(c)
    c.ExchangeFactory.collect = "course.hub.exchange.VerifiedCollect"
    return c


def configure(c: Config, root: Path, course_id: str = COURSE_ID) -> Config:
    """Fill ``c`` with this course's nbgrader settings; create the folders nbgrader expects."""
    root = root.resolve()
    url = db_url(root)
    if url.startswith("sqlite:///"):
        # nbgrader cannot create the folder and its error hides the cause.
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = course_id
    c.CourseDirectory.db_url = url
    c.Exchange.root = str(exchange_root(root))
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.OverwriteCells.add_missing_cells = True
    c.GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS
    c.GenerateAssignment.preprocessors = GENERATE_PREPROCESSORS
    mode = os.environ.get("COURSE_EXECUTE", "")
    if mode == "sandbox":  # `course autograde --execute`: learner code in course.grading.execute's sandbox
        c.Autograde.autograde_preprocessors = [
            "course.grading.execute.SandboxedExecute" if step == "nbgrader.preprocessors.Execute" else step
            for step in NBGRADER_AUTOGRADE]
    elif mode != "nbgrader":  # "nbgrader": nbgrader's own kernel run, kept only as the tests' reference
        for name, steps in GRADE_WITHOUT_KERNEL.items():
            c.Autograde[name] = list(steps)
    c.HTMLExporter.extra_template_basedirs = [str(FEEDBACK_TEMPLATES), str(NBGRADER_TEMPLATES)]
    # formgrader's pages and the feedback pages: what autograded notebooks share is shown from where it is kept;
    # a notebook a kernel graded (the learner's own, run) is shown as data
    c.HTMLExporter.preprocessors = [SHOW_SHARED_PARTS, INERT_LEARNER_NOTEBOOK]
    c.Execute.timeout = 120
    c.Execute.interrupt_on_timeout = True
    if exchange_closed():
        configure_closed_exchange(c)
    elif exchange_service():
        configure_ngshare_exchange(c)
    else:  # nbgrader's own exchange, with collect refusing hard links and rewritten submission times
        c.ExchangeFactory.collect = "course.hub.exchange.CheckedCollect"
    return c


def course_config(root: Path) -> Config:
    """The course folder's own ``nbgrader_config.py`` (an instructor's settings included), as nbgrader reads it."""
    path = root.resolve() / "nbgrader_config.py"
    if path.is_file():
        from traitlets.config.loader import PyFileConfigLoader

        return PyFileConfigLoader(path.name, str(path.parent)).load_config()
    return configure(Config(), root)
