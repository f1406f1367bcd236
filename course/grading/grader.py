"""One grading run: submitted answers files → autograded notebooks → gradebook rows.

The run reads like a script:

1. discover the submissions under ``submitted/`` (links and bad timestamps are
   named failures, never followed);
2. read each assignment's layout from the gradebook once, and build its
   autograded-notebook template from the released notebook;
3. create the learners that are new — one writer, before any worker starts,
   so no two processes ever race to create the same row;
4. score and write notebooks in worker processes (pure work on files);
5. write the gradebook rows of each finished batch in one transaction, from
   this process only.

A crash, Ctrl-C or SIGTERM loses no finished batch: rows are diffed against
what is there, so the next run carries on and a run with nothing new writes
nothing. Workers die with the run: the kernel kills them when it does
(Linux ``PR_SET_PDEATHSIG``), however it ends, SIGKILL included.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import logging
import multiprocessing
import os
import re
import shutil
import signal
import stat
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from course import model as m
from course.errors import CourseError, WorkflowError
from course.grading import rows
from course.grading.answers import Spec, score_submission, shown, specs_of
from course.grading.notebook import NotebookText, notebook_text, read_released, template
from course.loader import Course
from course.nbconfig import course_config
from course.ostools import die_with_parent

log = logging.getLogger("course.grading")
BATCH = 400  # submissions per gradebook transaction
CHUNK = 25  # submissions per worker task
IN_FLIGHT = 2 * BATCH // CHUNK  # worker tasks queued beyond one per worker: two batches' worth
READ_ONLY = 0o444  # nbgrader's default mode for autograded files


# ---------------------------------------------------------------- what to grade
@dataclass(frozen=True, slots=True)
class Submission:
    """One learner's collected submission of one assignment, in ``<base>/<student>/<assignment>/``.

    No path of its own (``base`` is shared, the assignment id interned): a national run holds 220,000 of
    these at once, and a path each made them half a kilobyte."""

    student: str
    assignment: str
    base: Path  # <course>/submitted

    @property
    def folder(self) -> Path:
        return self.base / self.student / self.assignment


@dataclass(frozen=True, slots=True)
class Failure:
    student: str
    assignment: str
    message: str


# A learner id shows in formgrader, feedback and every manager report: letters (any script), digits, . _ - @ only,
# so no id a learner picks (nbgrader's default exchange takes any --student) can be markup or a terminal escape.
LEARNER_ID = re.compile(r"[^\W][\w.@-]{0,63}")


def discover(root: Path, assignments: Iterable[str] | None = None,
             students: Iterable[str] | None = None) -> tuple[list[Submission], list[Failure]]:
    """Submissions under ``submitted/<student>/<assignment>/``, sorted; links and unsafe ids are failures."""
    wanted_a = set(assignments) if assignments is not None else None
    wanted_s = set(students) if students is not None else None
    found, failed = [], []
    base = root / "submitted"
    if not base.is_dir():
        return [], []
    for student_dir in sorted(base.iterdir()):
        student = student_dir.name
        if wanted_s is not None and student not in wanted_s:
            continue
        if student_dir.is_symlink() or not student_dir.is_dir():
            failed += [Failure(student, a, f"{student_dir} is a link or a file, not a folder: delete it and run "
                                           "`course collect` again") for a in sorted(wanted_a or ["*"])]
            continue
        if not LEARNER_ID.fullmatch(student):
            failed += [Failure(shown(student), a, f"{base}: the folder of learner id {shown(student)} was not graded: "
                               "a learner id has letters, digits, . _ - @ only (at most 64); remove the folder and "
                               "ask the learner to submit under their own account")
                       for a in sorted(wanted_a or ["*"])]
            continue
        for folder in sorted(student_dir.iterdir()):
            if wanted_a is not None and folder.name not in wanted_a:
                continue
            if folder.is_symlink() or not folder.is_dir():
                failed.append(Failure(student, folder.name, f"{folder} is a link or a file, not a submission "
                                                            "folder: delete it and run `course collect` again"))
                continue
            found.append(Submission(student, sys.intern(folder.name), base))
    return found, failed


def _small_file(path: Path, limit: int = 200) -> bytes | None:
    """A small file nbgrader's exchange wrote; None if absent. Links and non-files are refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CourseError(f"{path} cannot be read ({exc.strerror}): run `course collect --update` again") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise CourseError(f"{path} is not a regular file: run `course collect` again")
        return fh.read(limit)


def read_secret(folder: Path) -> bytes | None:
    """``submission_secret.txt``: nbgrader's exchange writes it; ``release_feedback`` needs it."""
    path = folder / "submission_secret.txt"
    raw = _small_file(path, 200)
    if raw is not None and (len(raw) > 128 or not raw.strip().isascii() or not raw.strip().isalnum()):
        raise CourseError(f"{path} is not nbgrader's submission secret: run `course collect --update` again "
                          "or ask the learner to resubmit")
    return raw


def read_timestamp(folder: Path) -> tuple[dt.datetime | None, bytes | None]:
    """The submission time nbgrader's exchange wrote (naive UTC), and the file's bytes."""
    path = folder / "timestamp.txt"
    raw = _small_file(path)
    if raw is None:
        return None, None
    try:
        text = raw.decode("ascii").strip()
        return (_parse_time(text) if text else None), raw
    except (UnicodeDecodeError, ValueError, OverflowError):
        raise CourseError(f"{path} does not hold a submission time ({raw[:40]!r}): restore it with "
                          "`course collect` or ask the learner to resubmit") from None


def _parse_time(text: str) -> dt.datetime:
    """nbgrader's ``parse_utc``, with a fast path for the format its exchange writes."""
    if text.endswith(" UTC"):
        try:
            return dt.datetime.strptime(text[:-4], "%Y-%m-%d %H:%M:%S.%f")
        except ValueError:
            pass
    from nbgrader.utils import parse_utc  # other forms are rare: nbgrader's parser, with its imports, only then

    return parse_utc(text)


# ---------------------------------------------------------------- one assignment
@dataclass(frozen=True)
class Context:
    """Everything a worker needs to grade one assignment (built once, in this process)."""

    assignment: str
    questions: dict[str, list[m.Question]]  # notebook name -> its questions in order
    templates: dict[str, dict[str, Any]]  # notebook name -> autograded-notebook template
    specs: dict[str, list[Spec]]  # notebook name -> each question's key spec and width
    texts: dict[str, NotebookText] = field(default_factory=dict)  # notebook name -> its file text with holes

    @functools.cached_property
    def by_id(self) -> dict[str, dict[str, m.Question]]:
        return {name: {q.id: q for q in qs} for name, qs in self.questions.items()}

    @property
    def known(self) -> frozenset[str]:
        """The question ids of the whole assignment: an answers file may answer these and no others."""
        return frozenset(q.id for qs in self.questions.values() for q in qs)


def questions_of_notebook(course: Course, released: dict[str, Any], path: Path) -> list[m.Question]:
    """The questions a released notebook asks, by the ids ``course build`` recorded in its metadata."""
    ids = released.get("metadata", {}).get("course", {}).get("questions")
    if not isinstance(ids, list):
        raise WorkflowError(f"{path} records no question list: rebuild it with `course build` and "
                            "`course generate`")
    unknown = [q for q in ids if q not in course.by_id]
    if unknown:
        raise WorkflowError(f"{path} asks {', '.join(unknown)}, which the course content does not have: "
                            "restore the content or run `course build` and `course generate` again")
    return [course.by_id[q] for q in ids]


def context(root: Path, course: Course, layout: rows.Layout) -> Context:
    questions, templates = {}, {}
    for nb in layout.notebooks.values():
        path = root / "release" / layout.name / f"{nb.name}.ipynb"
        if not path.is_file():
            raise WorkflowError(f"{path} does not exist: run `course generate {layout.name}`")
        released = read_released(path)
        qs = questions_of_notebook(course, released, path)
        extra = set(nb.grade_cells) - {q.id for q in qs} - {"setup"}
        if extra:
            raise WorkflowError(f"gradebook cells {', '.join(sorted(extra))} of {layout.name} are not questions of "
                                f"{path}: run `course generate {layout.name}` again")
        points = {gid: pts for gid, (_cid, pts) in nb.grade_cells.items()}
        questions[nb.name] = qs
        templates[nb.name] = template(released, nb.source_cells, points, course.root)
    texts = {name: notebook_text(base, [q.id for q in questions[name]]) for name, base in templates.items()}
    return Context(layout.name, questions, templates, {name: specs_of(qs) for name, qs in questions.items()}, texts)


# ---------------------------------------------------------------- worker side (pure work on files)
_CONTEXTS: dict[str, Context] = {}
def _init_worker(contexts: dict[str, Context], log_file: str | None, parent: int) -> None:
    die_with_parent(parent)
    _CONTEXTS.clear()
    _CONTEXTS.update(contexts)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _log_to(log_file)


def _write_atomic(path: Path, text: bytes) -> bool:
    """Write unless the file already holds ``text``; True if written."""
    try:
        if path.read_bytes() == text:
            return False
    except OSError:
        pass
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, READ_ONLY)  # read-only from birth
    except FileExistsError:  # left by a run that died here
        tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, READ_ONLY)
    with os.fdopen(fd, "wb") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return True


def grade_one(root: Path, sub: Submission, ctx: Context) -> rows.Graded:
    """Score one submission and write its autograded folder; raises CourseError naming the file."""
    folder = sub.folder
    timestamp, raw_ts = read_timestamp(folder)
    secret = read_secret(folder)
    dest = root / "autograded" / sub.student / sub.assignment
    dest.mkdir(parents=True, exist_ok=True)
    exchange_files = {"timestamp.txt": raw_ts, "submission_secret.txt": secret}
    keep = {name for name, raw in exchange_files.items() if raw is not None}
    results: dict[str, rows.Result] = {}
    known, by_id = ctx.known, ctx.by_id
    for nb_name, questions in ctx.questions.items():
        out = dest / f"{nb_name}.ipynb"
        result = score_submission(folder, sub.student, sub.assignment, questions, ctx.specs[nb_name], known)
        _write_atomic(out, ctx.texts[nb_name].fill(by_id[nb_name], result).encode("utf-8"))
        results[nb_name] = rows.result_of(result)
        keep.add(out.name)
    for name, raw in exchange_files.items():
        if raw is not None:
            _write_atomic(dest / name, raw)
    _remove_all_but(dest, keep)
    return rows.Graded(sub.student, sub.assignment, timestamp, results)


def _remove_all_but(folder: Path, keep: set[str]) -> None:
    """Only the grader's files stay: copies an earlier run made of learner files never reach feedback."""
    for path in folder.iterdir():
        if path.name in keep and not path.is_symlink():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def _grade_chunk(root: str, subs: list[Submission]) -> list[rows.Graded | Failure]:
    out: list[rows.Graded | Failure] = []
    for sub in subs:
        try:
            out.append(grade_one(Path(root), sub, _CONTEXTS[sub.assignment]))
        except CourseError as exc:
            out.append(Failure(sub.student, sub.assignment, str(exc)))
        except Exception as exc:  # an OS or programming error must not stop the other learners
            log.exception("grading %s/%s failed", sub.student, sub.assignment)
            out.append(Failure(sub.student, sub.assignment, f"{sub.folder}: {type(exc).__name__}: {exc}"))
    return out


# ---------------------------------------------------------------- the run
@dataclass
class Report:
    graded: list[tuple[str, str]] = field(default_factory=list)
    failed: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # graded, but an answers file had a problem
    pending_manual: list[tuple[str, str]] = field(default_factory=list)  # (student, question)
    rereview: list[tuple[str, str]] = field(default_factory=list)
    unrecorded: list[tuple[str, str]] = field(default_factory=list)  # see rows.Changes
    rows_written: int = 0
    log_file: Path | None = None


def engine(url: str) -> sa.Engine:
    """A gradebook engine; on SQLite each transaction takes the write lock at once (no lost update)."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url)
    eng = sa.create_engine(url, connect_args={"timeout": 120, "isolation_level": None})

    @sa.event.listens_for(eng, "begin")
    def _begin_immediate(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return eng


def late_penalty(config: Any) -> Callable[[str, float, float], float | None]:
    """nbgrader's configured late-submission plugin (``AssignLatePenalties.plugin_class``).

    Made at the first late submission: nbgrader's preprocessors take about 2 s to import, which a
    run without a late submission never needs.
    """
    @functools.lru_cache(maxsize=1)
    def plugin() -> Callable[[str, float, float], float | None]:
        from nbgrader.preprocessors import AssignLatePenalties

        step = AssignLatePenalties(config=config)
        step.init_plugin()
        return step.plugin_inst.late_submission_penalty

    def penalty(student: str, score: float, seconds_late: float) -> float | None:
        return plugin()(student, score, seconds_late)

    return penalty


def _log_to(log_file: str | None) -> logging.Handler | None:
    """Send logging and third-party warnings (SAWarning, kernel notices) to ``log_file``, not the terminal."""
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    logging.getLogger("py.warnings").propagate = False
    if not log_file:
        return None
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    for name in ("", "py.warnings"):
        logging.getLogger(name).addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    return handler


@contextlib.contextmanager
def _logging(log_file: Path | None) -> Iterator[None]:
    handler = _log_to(str(log_file) if log_file else None)
    try:
        yield
    finally:
        if handler:
            for name in ("", "py.warnings"):
                logging.getLogger(name).removeHandler(handler)
            handler.close()
        logging.captureWarnings(False)


def grade(root: Path, course: Course, assignments: Iterable[str] | None = None,
          students: Iterable[str] | None = None, workers: int = 2,
          on_progress: Callable[[int, int], None] | None = None, log_file: Path | None = None) -> Report:
    """Grade every submission found; see the module docstring for the steps."""
    root = root.resolve()
    config = course_config(root)
    with _logging(log_file), _terminate_like_ctrl_c():
        return _grade(root, course, config, assignments, students, workers, on_progress, log_file)


class Terminated(KeyboardInterrupt):
    """SIGTERM: stop as after Ctrl-C, keeping what finished."""


@contextlib.contextmanager
def _terminate_like_ctrl_c() -> Iterator[None]:
    """While grading in the main thread, SIGTERM stops the run as Ctrl-C does: finished batches are written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _grade(root: Path, course: Course, config: Any, assignments: Iterable[str] | None,
           students: Iterable[str] | None, workers: int, on_progress: Callable[[int, int], None] | None,
           log_file: Path | None) -> Report:
    report = Report(log_file=log_file)
    subs, failures = discover(root, assignments, students)
    for f in failures:
        report.failed[(f.student, f.assignment)] = f.message
    if not subs:
        return report
    course_id = config.CourseDirectory.course_id
    eng = engine(config.CourseDirectory.db_url)
    try:
        with eng.connect() as conn:
            layouts = {}
            for a in sorted({s.assignment for s in subs}):
                try:
                    layouts[a] = rows.read_layout(conn, course_id, a)
                except WorkflowError as exc:
                    for s in (s for s in subs if s.assignment == a):
                        report.failed[(s.student, a)] = str(exc)
            conn.rollback()
        subs = [s for s in subs if s.assignment in layouts]
        contexts = {a: context(root, course, lay) for a, lay in layouts.items()}
        with eng.begin() as conn:
            rows.ensure_tables(conn)
            rows.ensure_students(conn, (s.student for s in subs))
        penalty = late_penalty(config)
        done = 0
        pending: list[rows.Graded] = []
        try:
            for results in _run(root, subs, contexts, workers, log_file):
                for r in results:
                    if isinstance(r, Failure):
                        report.failed[(r.student, r.assignment)] = r.message
                    else:
                        pending.append(r)
                done += len(results)
                if on_progress:
                    on_progress(done, len(subs))
                if len(pending) >= BATCH:
                    _commit(eng, layouts, pending, penalty, report)
        finally:
            # Ctrl-C or a crash: what finished is written before the run ends.
            _commit(eng, layouts, pending, penalty, report)
    finally:
        eng.dispose()
    return report


def _run(root: Path, subs: list[Submission], contexts: dict[str, Context], workers: int,
         log_file: Path | None) -> Iterator[list[rows.Graded | Failure]]:
    chunks = [subs[i:i + CHUNK] for i in range(0, len(subs), CHUNK)]
    if workers <= 1 or len(chunks) == 1:
        _CONTEXTS.update(contexts)
        for chunk in chunks:
            yield _grade_chunk(str(root), chunk)
        return
    # fork (Python's default on Linux up to 3.13): each worker is this process's child, which die_with_parent needs
    start = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=start, initializer=_init_worker,
                             initargs=(contexts, str(log_file) if log_file else None, os.getpid())) as pool:
        waiting = iter(chunks)
        futures: set[Future[list[rows.Graded | Failure]]] = set()
        try:
            while True:
                # A bounded number in flight: results never pile up while the writer commits (flat memory).
                for chunk in itertools.islice(waiting, IN_FLIGHT + workers - len(futures)):
                    futures.add(pool.submit(_grade_chunk, str(root), chunk))
                if not futures:
                    break
                finished, futures = wait(futures, return_when=FIRST_COMPLETED)
                for fut in finished:
                    yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _commit(eng: sa.Engine, layouts: dict[str, rows.Layout], graded: list[rows.Graded],
            penalty: Callable[[str, float, float], float | None], report: Report) -> None:
    """Write one batch in one transaction; only then is it reported as graded."""
    if not graded:
        return
    groups: dict[str, list[rows.Graded]] = {}
    for g in graded:
        groups.setdefault(g.assignment, []).append(g)
    with eng.begin() as conn:
        for a, batch in sorted(groups.items()):
            existing = rows.read_existing(conn, layouts[a], [g.student for g in batch])
            changes = rows.plan(layouts[a], batch, existing, penalty)
            rows.apply(conn, changes)
            report.rows_written += changes.rows_written
            report.rereview += changes.rereview
            report.unrecorded += changes.unrecorded
            report.pending_manual += changes.pending
    for g in graded:
        report.graded.append((g.student, g.assignment))
        for result in g.notebooks.values():
            report.problems += result.problems
    graded.clear()
