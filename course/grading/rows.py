"""nbgrader's gradebook rows for a batch of graded submissions, written in one transaction.

The rows are exactly those ``nbgrader autograde`` leaves (``student``,
``submitted_assignment``, ``submitted_notebook``, ``grade``, ``comment``),
written with SQLAlchemy Core on nbgrader's own tables: one statement per
table and kind instead of an ORM round trip per cell. The differential tests
prove the rows equal nbgrader's.

:func:`plan` is pure: desired values diffed against the rows already there,
so a second run with nothing new writes nothing. Two rules differ from
nbgrader's ``SaveAutoGrades`` on purpose: a grade a human gave
(``manual_score``) is never touched, and its "needs manual grade" flag is
raised again only when the learner's answer to that question changed.

What answer a grade was given to is kept with the grade, in the gradebook:
:data:`ANSWER_DIGEST`, one row per submitted notebook holding a fingerprint
of each answer as last graded, written in the same transaction as the grade
rows. Every route that grades (``course autograde``, plain ``nbgrader
autograde``, formgrader's button) reads and writes it through :func:`plan`,
so a changed answer is flagged whatever happened to ``autograded/`` or to an
earlier run. It holds no score: nbgrader's ``grade`` table stays the only
grade store.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import operator
import os
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from course_runtime.scoring import frozen

from course.errors import WorkflowError
from course.grading.answers import SubmissionScores, digest
from course.grading.tables import (
    ASSIGNMENT,
    BASE_CELL,
    COMMENT,
    GRADE,
    GRADE_CELL,
    NOTEBOOK,
    SOLUTION_CELL,
    SOURCE_CELL,
    STUDENT,
    SUBMISSION,
    SUBMITTED_NB,
    TASK_CELL,
)

NO_RESPONSE = "No response."  # nbgrader's own auto comment; the feedback page translates it

# This product's one table in nbgrader's gradebook database (nbgrader ignores tables it does not know).
ANSWER_DIGEST = sa.Table(
    "course_answer_digest", sa.MetaData(),
    sa.Column("id", sa.String(32), primary_key=True, comment="submitted_notebook.id"),
    sa.Column("digests", sa.Text, nullable=False, comment="JSON: grade id -> fingerprint of the answer as graded"),
)


def ensure_tables(conn: sa.Connection) -> None:
    """Create :data:`ANSWER_DIGEST` in the gradebook if it is not there (safe to run concurrently)."""
    conn.execute(sa.schema.CreateTable(ANSWER_DIGEST, if_not_exists=True))


def new_id() -> str:
    """A row id as nbgrader stores them (32 hex digits), time-ordered: a UUID version 7 (RFC 9562).

    nbgrader's own ``new_uuid`` is a random uuid4; any 32-digit id is as good to it. Ordered by
    time, a batch's new rows go to the end of the gradebook's indexes instead of random places in
    them, so a national gradebook does not write slower as it grows.
    """
    millis = time.time_ns() // 1_000_000
    rand = _RANDOM.getrandbits(74)
    value = (millis & (1 << 48) - 1) << 80 | 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | rand & (1 << 62) - 1
    return f"{value:032x}"


# Ids are names, not secrets: a generator seeded once per process from the OS, no system call per row.
_RANDOM = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _RANDOM.seed(os.urandom(32)))  # a forked worker never repeats its parent


def fingerprints(scores: SubmissionScores) -> str:
    """What each answer of a notebook was graded as: ``{grade id: digest}`` as the JSON :data:`ANSWER_DIGEST` keeps.

    One text per notebook; workers make it, so the one writer only compares it with what is stored.
    """
    return json.dumps({gid: _digest(result.response) for gid, result in scores.scored.items()},
                      sort_keys=True, separators=(",", ":"))


_DIGESTS: dict[Any, str] = {}  # answer -> digest: a cohort repeats its answers; bounded


def _digest(response: Any) -> str:
    key = response if type(response) is str else frozen(response)  # a text stands for itself
    found = _DIGESTS.get(key)
    if found is None:
        if len(_DIGESTS) >= 20_000:
            _DIGESTS.clear()
        found = _DIGESTS[key] = digest(response)
    return found


# ---------------------------------------------------------------- the assignment, read once
@dataclass(frozen=True)
class NotebookLayout:
    id: str
    name: str
    grade_cells: dict[str, tuple[str, float]]  # grade id -> (cell id, max score)
    comment_cells: dict[str, str]  # grade id -> cell id (solution cells)
    source_cells: dict[str, tuple[str, str]]  # grade id -> (source, checksum)


@dataclass(frozen=True)
class Layout:
    id: str
    name: str
    duedate: dt.datetime | None
    notebooks: dict[str, NotebookLayout]


def read_layout(conn: sa.Connection, course_id: str, assignment: str) -> Layout:
    row = conn.execute(sa.select(ASSIGNMENT.c.id, ASSIGNMENT.c.duedate).where(
        ASSIGNMENT.c.name == assignment, ASSIGNMENT.c.course_id == course_id)).first()
    if row is None:
        raise WorkflowError(f"assignment '{assignment}' is not in the gradebook: run `course generate {assignment}`")
    notebooks = {}
    for nb_id, nb_name in conn.execute(sa.select(NOTEBOOK.c.id, NOTEBOOK.c.name).where(
            NOTEBOOK.c.assignment_id == row.id)):
        cells = sa.select(BASE_CELL.c.name, BASE_CELL.c.id).where(BASE_CELL.c.notebook_id == nb_id)
        grades = {name: (cid, float(points)) for name, cid, points in conn.execute(
            cells.add_columns(GRADE_CELL.c.max_score).join(GRADE_CELL, GRADE_CELL.c.id == BASE_CELL.c.id))}
        solutions = cells.join(SOLUTION_CELL, SOLUTION_CELL.c.id == BASE_CELL.c.id)
        comments: dict[str, str] = {name: cid for name, cid in conn.execute(solutions)}
        if conn.execute(cells.join(TASK_CELL, TASK_CELL.c.id == BASE_CELL.c.id)).first():
            raise WorkflowError(f"{assignment}/{nb_name} has task cells, which only a person can grade: "
                                "grade it with `course autograde --execute`")
        sources = {name: (src or "", checksum or "") for name, src, checksum in conn.execute(
            sa.select(SOURCE_CELL.c.name, SOURCE_CELL.c.source, SOURCE_CELL.c.checksum).where(
                SOURCE_CELL.c.notebook_id == nb_id))}
        notebooks[nb_name] = NotebookLayout(nb_id, nb_name, grades, comments, sources)
    return Layout(row.id, assignment, row.duedate, notebooks)


# ---------------------------------------------------------------- what is there
@dataclass
class Existing:
    """One learner's submission rows as they are now."""

    submission_id: str
    timestamp: dt.datetime | None
    extension: dt.timedelta | None
    notebooks: dict[str, tuple[str, float | None]] = field(default_factory=dict)  # nb id -> (row id, penalty)
    grades: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (nb id, cell id) -> row
    comments: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # submitted notebook row id -> ANSWER_DIGEST JSON


def read_existing(conn: sa.Connection, layout: Layout, students: Iterable[str]) -> dict[str, Existing]:
    wanted = list(students)
    out: dict[str, Existing] = {}
    for chunk in _chunks(wanted, 500):
        for r in conn.execute(sa.select(SUBMISSION.c.id, SUBMISSION.c.student_id, SUBMISSION.c.timestamp,
                                        SUBMISSION.c.extension).where(
                SUBMISSION.c.assignment_id == layout.id, SUBMISSION.c.student_id.in_(chunk))):
            out[r.student_id] = Existing(r.id, r.timestamp, r.extension)
    by_sub = {e.submission_id: e for e in out.values()}
    for chunk in _chunks(list(by_sub), 500):
        sn = conn.execute(sa.select(SUBMITTED_NB.c.id, SUBMITTED_NB.c.assignment_id, SUBMITTED_NB.c.notebook_id,
                                    SUBMITTED_NB.c.late_submission_penalty).where(
            SUBMITTED_NB.c.assignment_id.in_(chunk))).all()
        owner = {}
        for r in sn:
            by_sub[r.assignment_id].notebooks[r.notebook_id] = (r.id, r.late_submission_penalty)
            owner[r.id] = (by_sub[r.assignment_id], r.notebook_id)
        for table, target in ((GRADE, "grades"), (COMMENT, "comments")):
            # 500 submissions may hold more notebooks than that: the notebook ids are chunked too
            for nb_chunk in _chunks(list(owner), 500):
                for r in conn.execute(sa.select(table).where(table.c.notebook_id.in_(nb_chunk))):
                    existing, nb_id = owner[r.notebook_id]
                    getattr(existing, target)[(nb_id, r.cell_id)] = dict(r._mapping)
        for nb_chunk in _chunks(list(owner), 500):
            for row_id, digests in conn.execute(sa.select(ANSWER_DIGEST).where(ANSWER_DIGEST.c.id.in_(nb_chunk))):
                owner[row_id][0].digests[row_id] = digests
    return out


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ---------------------------------------------------------------- what should be there
class Result(NamedTuple):
    """What the gradebook needs of one graded notebook: all a worker sends the writer (no answer text)."""

    scores: dict[str, float | None]  # grade id -> trusted score (None: waits for a person)
    answered: frozenset[str]  # grade ids the learner answered (nbgrader's "No response." for the others)
    fingerprints: str  # fingerprints() of the answers as graded
    problems: tuple[str, ...]  # what the answers file's problems were (learner, assignment, file and fix)


def result_of(scores: SubmissionScores) -> Result:
    return Result({gid: r.score for gid, r in scores.scored.items()},
                  frozenset(gid for gid, r in scores.scored.items() if r.answered),
                  fingerprints(scores), tuple(scores.problems))


@dataclass(frozen=True)
class Graded:
    """What the grader decided for one learner's submission of one assignment."""

    student: str
    assignment: str
    timestamp: dt.datetime | None
    notebooks: Mapping[str, Result | SubmissionScores]  # notebook name -> trusted scores

    def result(self, notebook: str) -> Result:
        found = self.notebooks[notebook]
        return found if isinstance(found, Result) else result_of(found)


@dataclass
class Changes:
    inserts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    updates: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (table, row id, values)
    rereview: list[tuple[str, str]] = field(default_factory=list)  # (student, question) flagged again
    # (student, question) hand-graded with no record of the answer the grade was given to (a gradebook from
    # before course_answer_digest): flagged once, since a change cannot be ruled out
    unrecorded: list[tuple[str, str]] = field(default_factory=list)
    pending: list[tuple[str, str]] = field(default_factory=list)  # (student, question) waiting for a human

    def insert(self, table: sa.Table, row: dict[str, Any]) -> None:
        self.inserts.setdefault(table.name, []).append(row)

    def update(self, table: sa.Table, row_id: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if changed:
            self.updates.append((table.name, row_id, changed))

    @property
    def rows_written(self) -> int:
        return sum(map(len, self.inserts.values())) + len(self.updates)


def _grade_score(row: dict[str, Any]) -> float:
    """nbgrader's ``Grade.score``: manual if set, else auto, plus extra credit; 0 if neither."""
    base = row["manual_score"] if row["manual_score"] is not None else row["auto_score"]
    return 0.0 if base is None else base + (row["extra_credit"] or 0.0)


def seconds_late(timestamp: dt.datetime | None, duedate: dt.datetime | None, extension: dt.timedelta | None) -> float:
    """nbgrader's ``SubmittedAssignment.total_seconds_late``."""
    if timestamp is None or duedate is None:
        return 0.0
    return max(0.0, (timestamp - (duedate + extension if extension else duedate)).total_seconds())


def plan(layout: Layout, graded: Iterable[Graded], existing: dict[str, Existing],
         penalty: Any = None) -> Changes:
    """The inserts and updates that make the gradebook hold ``graded``; nothing for rows already right.

    ``penalty(student, score, seconds_late) -> float | None`` is nbgrader's late-submission
    plugin method (``LateSubmissionPlugin.late_submission_penalty``).
    """
    changes = Changes()
    for g in graded:
        old = existing.get(g.student)
        if old is None:
            old = Existing(new_id(), None, None)
            changes.insert(SUBMISSION, {"id": old.submission_id, "assignment_id": layout.id,
                                        "student_id": g.student, "timestamp": g.timestamp, "extension": None})
        elif old.timestamp != g.timestamp:
            changes.update(SUBMISSION, old.submission_id, {"timestamp": old.timestamp}, {"timestamp": g.timestamp})
        late = seconds_late(g.timestamp, layout.duedate, old.extension)
        for nb in layout.notebooks.values():
            _plan_notebook(changes, nb, g, old, late, penalty)
    return changes


def _plan_notebook(changes: Changes, nb: NotebookLayout, g: Graded, old: Existing, late: float,
                   penalty: Any) -> None:
    result = g.result(nb.name)
    nb_row = old.notebooks.get(nb.id)
    nb_row_id = nb_row[0] if nb_row else new_id()
    stored_text = old.digests.get(nb_row_id)
    answered = result.fingerprints
    final_rows = []
    for gid, (cell_id, _points) in sorted(nb.grade_cells.items()):
        auto = result.scores.get(gid, 0.0)  # a grade cell that is no question: the 0-point setup
        row = old.grades.get((nb.id, cell_id))
        if row is None:
            new = {"id": new_id(), "notebook_id": nb_row_id, "cell_id": cell_id, "auto_score": auto,
                   "manual_score": None, "extra_credit": None, "needs_manual_grade": auto is None}
            changes.insert(GRADE, new)
            final_rows.append(new)
            if new["needs_manual_grade"]:
                changes.pending.append((g.student, gid))
            continue
        if row["manual_score"] is not None:
            graded_to = json.loads(stored_text) if stored_text else {}  # what the grade was given to
            answers = json.loads(answered)
            changed = gid in answers and gid in graded_to and graded_to[gid] != answers[gid]
            unknown = stored_text is None and gid in answers
            needs = True if changed or unknown else row["needs_manual_grade"]
            if changed and not row["needs_manual_grade"]:
                changes.rereview.append((g.student, gid))
            elif unknown and not row["needs_manual_grade"]:
                changes.unrecorded.append((g.student, gid))
        else:
            needs = auto is None
        changes.update(GRADE, row["id"], row, {"auto_score": auto, "needs_manual_grade": needs})
        final_rows.append({**row, "auto_score": auto, "needs_manual_grade": needs})
        if needs:
            changes.pending.append((g.student, gid))
    for gid, cell_id in sorted(nb.comment_cells.items()):
        auto_comment = None if gid in result.answered else NO_RESPONSE
        row = old.comments.get((nb.id, cell_id))
        if row is None:
            changes.insert(COMMENT, {"id": new_id(), "notebook_id": nb_row_id, "cell_id": cell_id,
                                     "auto_comment": auto_comment, "manual_comment": None})
        else:
            changes.update(COMMENT, row["id"], row, {"auto_comment": auto_comment})
    _plan_digests(changes, nb_row_id, stored_text, answered)
    late_penalty = None
    if late > 0 and penalty is not None:
        score = sum(_grade_score(r) for r in final_rows)
        found = penalty(g.student, score, late)
        # nbgrader's AssignLatePenalties clips the plugin's answer to [0, score].
        late_penalty = None if found is None else min(max(found, 0.0), score)
    if nb_row is None:
        changes.insert(SUBMITTED_NB, {
            "id": nb_row_id, "assignment_id": old.submission_id, "notebook_id": nb.id,
            "late_submission_penalty": late_penalty, "flagged": False})
    else:
        changes.update(SUBMITTED_NB, nb_row_id, {"late_submission_penalty": nb_row[1]},
                       {"late_submission_penalty": late_penalty})


def _plan_digests(changes: Changes, nb_row_id: str, stored: str | None, text: str) -> None:
    """Record the answers just graded; written with the grades, so a flag and its cause never part."""
    if stored is None:
        changes.insert(ANSWER_DIGEST, {"id": nb_row_id, "digests": text})
    elif stored != text:
        changes.update(ANSWER_DIGEST, nb_row_id, {"digests": stored}, {"digests": text})


# ---------------------------------------------------------------- writing
INSERT_ORDER = (SUBMISSION, SUBMITTED_NB, GRADE, COMMENT, ANSWER_DIGEST)  # foreign keys first
TABLES = {t.name: t for t in INSERT_ORDER}


def ensure_students(conn: sa.Connection, students: Iterable[str]) -> int:
    """Create the learners that are not in the gradebook yet (as ``update_or_create_student`` does)."""
    wanted = sorted(set(students))
    have: set[str] = set()
    for chunk in _chunks(wanted, 500):
        have.update(conn.execute(sa.select(STUDENT.c.id).where(STUDENT.c.id.in_(chunk))).scalars())
    missing = [{"id": s, "first_name": None, "last_name": None, "email": None, "lms_user_id": None}
               for s in wanted if s not in have]
    if missing:
        insert(conn, STUDENT, missing)
    return len(missing)


def insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (each with every column of ``table``) by the fastest way there is for the dialect,
    on SQLAlchemy's connection, inside its transaction.

    SQLite: the driver's ``executemany`` through ``Connection.exec_driver_sql``, each value converted once
    by the column type's own bind processor (``TypeEngine.bind_processor``), the statement compiled once:
    Core's per-row parameter handling cost more than the inserts themselves. PostgreSQL with psycopg2:
    ``COPY ... FROM STDIN`` on the DBAPI connection SQLAlchemy holds (15 times Core's "insertmanyvalues"
    for 20,000 grade rows); every value is written in COPY's text form by :func:`_copy_field`, which
    refuses any type it does not know. Other dialects: Core's executemany. The rows read back the same
    every way (tests/test_rows_sql.py, the differential tests, SQLite against PostgreSQL).
    """
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2":
        _copy(conn, table, rows)
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), rows)
        return
    sql, values, processors = _driver_insert(table, conn.dialect)
    params = [list(values(row)) for row in rows]
    for at, process in processors:
        for row_values in params:
            if row_values[at] is not None:
                row_values[at] = process(row_values[at])
    conn.exec_driver_sql(sql, list(map(tuple, params)))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, float | int):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.isoformat(" ")
    if isinstance(value, dt.timedelta):
        return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"
    raise TypeError(f"no COPY form for {type(value).__name__} {value!r}")


def _copy(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    names = [c.name for c in table.columns]
    text = "".join("\t".join(_copy_field(row[n]) for n in names) + "\n" for row in rows)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        columns = ", ".join(f'"{n}"' for n in names)
        cursor.copy_expert(f'COPY "{table.name}" ({columns}) FROM STDIN', io.StringIO(text))
    finally:
        cursor.close()


_DRIVER_INSERTS: dict[tuple[str, str], tuple[str, Any, list[tuple[int, Any]]]] = {}


def _driver_insert(table: sa.Table, dialect: sa.Dialect) -> tuple[str, Any, list[tuple[int, Any]]]:
    """``table``'s INSERT of every column compiled for ``dialect``, a getter of a row's values in its order,
    and the bind processor of each column that has one, by position."""
    key = (table.name, dialect.name)
    if key not in _DRIVER_INSERTS:
        names = [c.name for c in table.columns]
        compiled = table.insert().values({n: sa.bindparam(n) for n in names}).compile(dialect=dialect)
        order = list(compiled.positiontup or names)
        process = {c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns}
        _DRIVER_INSERTS[key] = (str(compiled), operator.itemgetter(*order),
                                [(i, process[n]) for i, n in enumerate(order) if process[n] is not None])
    return _DRIVER_INSERTS[key]


def apply(conn: sa.Connection, changes: Changes) -> None:
    for table in INSERT_ORDER:
        rows = changes.inserts.get(table.name)
        if rows:
            insert(conn, table, rows)
    grouped: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for table_name, row_id, values in changes.updates:
        grouped.setdefault((table_name, tuple(sorted(values))), []).append(
            {"row_id": row_id, **{f"new_{k}": v for k, v in values.items()}})
    for (table_name, columns), params in grouped.items():
        table = TABLES[table_name]
        # Bind names must differ from column names in an UPDATE ... SET.
        stmt = table.update().where(table.c.id == sa.bindparam("row_id")).values(
            {c: sa.bindparam(f"new_{c}") for c in columns})
        conn.execute(stmt, params)
