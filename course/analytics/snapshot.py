"""One consistent snapshot of the gradebook per report run, read by every manager page.

``course report`` reads nbgrader's gradebook once (one read transaction, see
``frames.read_grades``) into a folder of Parquet files with a ``snapshot.json``
beside them; each analytics notebook then reads only the Parquet columns it needs.
nbgrader's gradebook stays the only source of grades: the snapshot is a cache of it,
keyed by a fingerprint of the gradebook, and taken again as soon as the gradebook
changes (a SQLite file's size and modification time, including its journal; for a server
database a checksum query over the grade and submission tables).

``snapshot.json`` is written last, so a folder without it (an interrupted run) is never used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from pandas.api.types import union_categoricals

from course import model as m
from course.analytics import frames
from course.errors import CourseError
from course.grading.answers import answers_path
from course.loader import Course, load_course
from course.ostools import die_with_parent

VERSION = 1
GRADES = "grades.parquet"
RESPONSES = "responses.parquet"
META = "snapshot.json"
ANSWER_FILES = "answer-files.parquet"  # the stamp of every answers file the responses were read from
ANSWER_FILES_META = "answer-files.json"
RESPONSE_COLUMNS = ("learner", "chapter", "question", "type")
READ_WORKERS = 2  # processes reading answers files for a snapshot (the 2-core reference machine)
PARALLEL_FROM = 20_000  # fewer files are read in this process (a worker's start-up costs about a second)
# what the pages read of the grades (the raw nbgrader columns stay in the file for audits)
PAGE_COLUMNS = ["learner", "chapter", "question", "score", "needs_manual_grade", "submitted_at"]

_CHECKSUM_SQL = sa.text("""
SELECT (SELECT count(*) FROM grade), (SELECT sum(coalesce(auto_score, -1) + 2 * coalesce(manual_score, -1)
        + 3 * coalesce(extra_credit, 0)) FROM grade),
       (SELECT sum(CASE WHEN needs_manual_grade THEN 1 ELSE 0 END) FROM grade),
       (SELECT count(*) FROM submitted_assignment), (SELECT max(timestamp) FROM submitted_assignment),
       (SELECT count(*) FROM student)
""")


@dataclass(frozen=True)
class Snapshot:
    """Where a snapshot lives and what it holds."""

    folder: Path
    as_of: dt.datetime  # when the gradebook was read (UTC)
    fingerprint: str
    course_id: str
    grade_rows: int
    chapters: tuple[str, ...]


def fingerprint(db_url: str) -> str:
    """Changes whenever the gradebook's content can have changed."""
    url = sa.engine.make_url(db_url)
    path = frames._sqlite_path(url)
    if path is not None:
        parts = []
        for suffix in ("", "-wal", "-journal"):
            try:
                stat = os.stat(path + suffix)
            except FileNotFoundError:
                continue
            parts.append(f"{suffix}:{stat.st_size}:{stat.st_mtime_ns}")
        if not parts:
            raise CourseError(f"cannot read the gradebook at {db_url}: there is no such file; "
                              "run `course autograde` first or check COURSE_DB_URL")
        state = "|".join(parts)
    else:
        engine = sa.create_engine(db_url)
        try:
            with engine.connect() as conn:
                state = repr(tuple(conn.execute(_CHECKSUM_SQL).one()))
        except sa.exc.SQLAlchemyError as exc:
            raise CourseError(f"cannot read the gradebook at {db_url}: {exc}; check COURSE_DB_URL") from None
        finally:
            engine.dispose()
    return hashlib.sha256(f"{VERSION}|{url.render_as_string(hide_password=True)}|{state}".encode()).hexdigest()[:16]


def _meta(folder: Path) -> Snapshot | None:
    try:
        data = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("version") != VERSION:
        return None
    return Snapshot(folder, dt.datetime.fromisoformat(data["as_of"]), data["fingerprint"], data["course_id"],
                    int(data["grade_rows"]), tuple(data["chapters"]))


def _write_parquet(frame: pd.DataFrame, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    frame.to_parquet(partial, index=False, compression="zstd")
    os.replace(partial, target)


def _json_texts(values: Iterable[Any]) -> list[str | None]:
    """Each answer as JSON text (None stays None), every distinct answer encoded once.

    A national cohort gives millions of answers but a few hundred distinct ones. The memo key
    carries each value's type (and its items' types), so True and 1, or [True] and [1], stay apart.
    """
    memo: dict[Any, str] = {}
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        key = (list, tuple((type(x), x) for x in value)) if isinstance(value, list) else (type(value), value)
        try:
            text = memo.get(key)
            if text is None:
                text = memo[key] = json.dumps(value, ensure_ascii=False)
        except TypeError:  # unhashable (a malformed answer holding a dict or list): encoded on its own
            text = json.dumps(value, ensure_ascii=False)
        out.append(text)
    return out


def _content_key(course: Course) -> str:
    """Changes when the choice questions (the only ones with responses here) or their chapters change."""
    choice = [(q.id, q.type) for q in course.questions
              if isinstance(q, m.SingleChoice | m.MultipleChoice | m.TrueFalse)]
    return hashlib.sha256(json.dumps(choice).encode()).hexdigest()[:16]


def _stamp(path: str) -> tuple[int, int, int, int] | None:
    """Identity and version of an answers file: inode, size, modification and change time (ns).

    A re-collected submission is a new file (new inode and change time, which no copy can keep);
    a link is not followed here, and reading refuses it anyway.
    """
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


Pair = tuple[str, str]  # (learner, chapter)


def _previous(folder: Path, key: str) -> tuple[pd.DataFrame, dict[Pair, tuple[int, ...]], set[Pair]] | None:
    """The responses, answers-file stamps and unreadable files of the last snapshot in ``folder``, if taken
    with the same content."""
    try:
        index_meta = _answer_files_meta(folder)
        if index_meta.get("version") != VERSION or index_meta.get("content") != key:
            return None
        index = pd.read_parquet(folder / ANSWER_FILES)
        frame = pd.read_parquet(folder / RESPONSES)
    except (OSError, ValueError):
        return None
    stamps = zip(index["ino"], index["size"], index["mtime_ns"], index["ctime_ns"], strict=True)
    unreadable = {(str(learner), str(chapter)) for learner, chapter in index_meta.get("unreadable", [])}
    return frame, dict(zip(zip(index["learner"], index["chapter"], strict=True), stamps, strict=True)), unreadable


def _text_categorical(values: pd.Series) -> pd.Categorical:
    """Categorical with text categories even when every value is missing (those would be untyped)."""
    cat = pd.Categorical(values)
    return cat.set_categories(cat.categories.astype("str"))


def _read_coded(root: Path, course: Course, pairs: list[Pair]) -> tuple[pd.DataFrame, list[Pair]]:
    """The responses of ``pairs``, every column categorical (compact, also to pass between processes),
    and the pairs whose answers file could not be read.

    Answers are JSON values (a list for multiple choice): kept as JSON text, one dictionary entry per
    distinct answer, so reading decodes a few hundred texts rather than one per learner and question.
    """
    fresh, unreadable = frames.read_responses(root, course, pairs)
    coded = pd.DataFrame({c: _text_categorical(fresh[c]) for c in RESPONSE_COLUMNS}
                         | {"response": _text_categorical(_json_texts(fresh["response"]))})
    return coded, unreadable


def _read_coded_in_worker(root: Path, content: Path, pairs: list[Pair]) -> tuple[pd.DataFrame, list[Pair]]:
    return _read_coded(root, load_course(content), pairs)


def _read_fresh(root: Path, course: Course, pairs: list[Pair]) -> tuple[list[pd.DataFrame], list[Pair]]:
    """The responses of ``pairs`` in parts, and the pairs whose file could not be read; many files are
    read by ``READ_WORKERS`` processes at once.

    Reading is file-system bound and single-threaded, so a first snapshot of a national cohort
    (215,000 files) takes half the time on the 2-core reference machine.
    """
    if len(pairs) < PARALLEL_FROM:
        frame, unreadable = _read_coded(root, course, pairs)
        return [frame], unreadable
    share = -(-len(pairs) // READ_WORKERS)
    chunks = [pairs[i:i + share] for i in range(0, len(pairs), share)]
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context, initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:  # a killed run leaves no reader behind
        done = list(pool.map(_read_coded_in_worker, [root] * len(chunks), [course.root] * len(chunks), chunks))
    return [frame for frame, _ in done], [pair for _, bad in done for pair in bad]


def _responses(root: Path, course: Course, grades: pd.DataFrame, folder: Path,
               key: str) -> tuple[pd.DataFrame, pd.DataFrame, list[Pair]]:
    """The responses frame (answers as JSON text), the stamps of the answers files it was read from, and
    the (learner, chapter) pairs whose answers file could not be read (left out, counted).

    An answers file whose stamp is the one recorded by the last snapshot (taken with the same
    questions, ``key``) is not read again: its rows are taken from that snapshot. So after the
    first report on a national cohort, a new snapshot reads only the submissions collected since.
    """
    pairs = grades[["learner", "chapter"]].drop_duplicates()
    known = pairs["chapter"].astype(str).isin(list(course.chapters)).to_numpy()
    pairs = sorted(zip(pairs["learner"].astype(str)[known], pairs["chapter"].astype(str)[known], strict=True))
    # paths joined as text: 215,000 pathlib joins cost seconds; the file name is still answers_path's
    names = {chapter: answers_path(Path(), chapter).name for chapter in course.chapters}
    submitted = str(root / "submitted")
    stamps = [_stamp(os.path.join(submitted, learner, chapter, names[chapter])) for learner, chapter in pairs]
    old_frame, old_stamps, old_unreadable = _previous(folder, key) or (None, {}, set())
    kept = {p for p, st in zip(pairs, stamps, strict=True) if st is not None and old_stamps.get(p) == st}
    parts, unreadable = _read_fresh(root, course, [p for p in pairs if p not in kept])
    unreadable = sorted([*unreadable, *(kept & old_unreadable)])
    if old_frame is not None and kept:
        wanted = pd.MultiIndex.from_tuples(sorted(kept), names=["learner", "chapter"])
        parts.append(old_frame[pd.MultiIndex.from_frame(old_frame[["learner", "chapter"]]).isin(wanted)])
    # one categorical per column over both parts, categories sorted, so sorting codes sorts text
    columns = [*RESPONSE_COLUMNS, "response"]
    coded = {c: union_categoricals([_text_categorical(part[c]) for part in parts], sort_categories=True)
             for c in columns}
    # the order responses_frame gives: learner, chapter, then bank order (lexsort is stable)
    order = np.lexsort((coded["chapter"].codes, coded["learner"].codes))
    responses = pd.DataFrame({c: coded[c].take(order) for c in columns})
    recorded = [(p, st) for p, st in zip(pairs, stamps, strict=True) if st is not None]
    index = pd.DataFrame({"learner": pd.Categorical([p[0] for p, _ in recorded]),
                          "chapter": pd.Categorical([p[1] for p, _ in recorded]),
                          **{name: np.array([st[i] for _, st in recorded], dtype=np.int64)
                             for i, name in enumerate(("ino", "size", "mtime_ns", "ctime_ns"))}})
    return responses, index, unreadable


def _answer_files_meta(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / ANSWER_FILES_META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_responses(folder: Path, responses: pd.DataFrame, index: pd.DataFrame, unreadable: list[Pair],
                     key: str, of: str) -> None:
    """Responses, then the stamps of the files they came from; a crash in between leaves no stamps (full read).

    ``of``: the fingerprint of the snapshot these responses belong to.
    """
    (folder / ANSWER_FILES_META).unlink(missing_ok=True)
    _write_parquet(responses, folder / RESPONSES)
    _write_parquet(index, folder / ANSWER_FILES)
    meta = {"version": VERSION, "content": key, "fingerprint": of, "unreadable": [list(p) for p in unreadable]}
    (folder / ANSWER_FILES_META).write_text(json.dumps(meta), encoding="utf-8")


def unreadable_answer_files(folder: Path | str) -> list[Pair]:
    """The (learner, chapter) pairs whose answers file the snapshot in ``folder`` could not read (left out)."""
    return [(str(learner), str(chapter)) for learner, chapter in _answer_files_meta(Path(folder)).get("unreadable", [])]


def has_responses(snap: Snapshot, content: Path | None = None) -> bool:
    """Whether the snapshot's responses were read for its grades and the questions of ``content``."""
    meta = _answer_files_meta(snap.folder)
    return meta.get("fingerprint") == snap.fingerprint and meta.get("content") == _content_key(load_course(content))


def add_responses(root: Path, snap: Snapshot, content: Path | None = None) -> None:
    """Read the learners' answers for the snapshot's submissions (only files changed since the last time)."""
    course = load_course(content)
    key = _content_key(course)
    grades = read_grades(snap.folder, columns=["learner", "chapter"])
    _write_responses(snap.folder, *_responses(root, course, grades, snap.folder, key), key, snap.fingerprint)


def take(root: Path, db_url: str, course_id: str, folder: Path, content: Path | None = None, *,
         responses: bool = True) -> Snapshot:
    """Read the gradebook once and write the snapshot into ``folder``.

    ``responses`` False leaves the learners' answers for :func:`add_responses` (``course report`` reads
    them while the pages that need only grades render).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / META).unlink(missing_ok=True)
    for _attempt in range(3):
        before = fingerprint(db_url)
        as_of = dt.datetime.now(dt.UTC).replace(microsecond=0)
        grades = frames.read_grades(db_url, course_id)
        if fingerprint(db_url) == before:
            break  # nothing was written while we read: one consistent state
    else:
        raise CourseError(f"the gradebook at {db_url} kept changing while it was read (autograde or formgrader "
                          "running?): run `course report` again when grading is done")
    _write_parquet(grades, folder / GRADES)
    chapters = tuple(str(c) for c in grades["chapter"].cat.categories[grades["chapter"].value_counts(sort=False) > 0])
    snap = Snapshot(folder, as_of, before, course_id, len(grades), chapters)
    meta = {"version": VERSION, "as_of": as_of.isoformat(), "fingerprint": before, "course_id": course_id,
            "grade_rows": len(grades), "chapters": list(chapters),
            "gradebook": sa.engine.make_url(db_url).render_as_string(hide_password=True)}
    (folder / META).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    if responses:
        add_responses(root, snap, content)
    return snap


def ensure(root: Path, db_url: str, course_id: str, folder: Path, content: Path | None = None, *,
           responses: bool = True) -> Snapshot:
    """The snapshot in ``folder`` if it still matches the gradebook, else a new one (see :func:`take`)."""
    current = _meta(folder)
    if current is None or current.course_id != course_id or current.fingerprint != fingerprint(db_url):
        return take(root, db_url, course_id, folder, content, responses=responses)
    if responses and not has_responses(current, content):
        add_responses(root, current, content)
    return current


def open_snapshot(folder: Path | str) -> Snapshot:
    snap = _meta(Path(folder))
    if snap is None:
        raise CourseError(f"{folder} holds no complete gradebook snapshot: run `course report` again")
    return snap


def read_grades(folder: Path | str, columns: list[str] | None = None) -> pd.DataFrame:
    """The grades frame of the snapshot, as ``frames.read_grades`` returned it (or some columns of it)."""
    return pd.read_parquet(Path(folder) / GRADES, columns=columns)


def read_responses(folder: Path | str, submissions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The responses frame of the snapshot, as ``frames.responses_frame`` returns it.

    ``submissions``: only the (learner, chapter) pairs in its two columns of those names (a filtered cohort).
    """
    snap = open_snapshot(folder)
    if _answer_files_meta(snap.folder).get("fingerprint") != snap.fingerprint:
        raise CourseError(f"{folder}: the learners' answers of this snapshot were not read (an interrupted "
                          "report): run `course report` again")
    frame = pd.read_parquet(Path(folder) / RESPONSES)
    if submissions is not None:
        # matched on the categorical codes (milliseconds), before any text is built or decoded
        pairs = pd.MultiIndex.from_frame(frame[["learner", "chapter"]])
        wanted = pd.MultiIndex.from_frame(submissions[["learner", "chapter"]].astype(str))
        frame = frame[pairs.isin(wanted)].reset_index(drop=True)
    answers = pd.Categorical(frame["response"])
    decoded = np.empty(len(answers.categories) + 1, dtype=object)  # filled one by one: values may be lists
    for i, text in enumerate(answers.categories, start=1):
        decoded[i] = json.loads(text)
    frame["response"] = decoded[answers.codes + 1]  # code -1 (no answer) → None
    for column in ("learner", "chapter", "question", "type"):
        frame[column] = frame[column].astype(str)
    return frame
