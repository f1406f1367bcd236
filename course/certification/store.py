"""The certification office's records, as tables of this product in the gradebook's database.

nbgrader's gradebook stays the only store of grades; beside its tables this product keeps its own,
all named ``kam_*`` and all **append-only**: a later fact is a new row that points to the one it
follows, never an edit. On SQLite and PostgreSQL a trigger refuses every UPDATE and DELETE on them,
so no code path (and no slip in a SQL console) can rewrite the history.

| table | one row per |
|---|---|
| ``kam_round`` | certification round (认证批次) |
| ``kam_round_paper`` | paper (or sitting) a round counts |
| ``kam_decision`` | decision on a learner at a level in a round; a re-decision points to the one it supersedes |
| ``kam_certificate`` | certificate: what it states, under an HMAC (:mod:`course.certification.register`) |
| ``kam_certificate_event`` | status change (有效, 暂停, 撤销), signed and chained to the one before |
| ``kam_appeal`` | appeal (复核): the decision appealed, the reason, the outcome (the new decision points to it) |
| ``kam_audit`` | audit entry: who, when, what, before and after |

Times are ISO 8601 text with the UTC offset; structured values are JSON text.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from course.errors import CourseError

metadata = sa.MetaData()
Text, Int = sa.Text, sa.Integer

rounds = sa.Table(
    "kam_round", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("title", Text, nullable=False),
    sa.Column("opened_at", Text, nullable=False),
    sa.Column("opened_by", Text, nullable=False),
)

round_papers = sa.Table(
    "kam_round_paper", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("round_id", sa.String(64), sa.ForeignKey("kam_round.id"), nullable=False),
    # a paper id today; a sitting id (考试场次) once sittings exist: the general name of what counts
    sa.Column("paper", sa.String(128), nullable=False, unique=True),
    sa.Column("added_at", Text, nullable=False),
    sa.Column("added_by", Text, nullable=False),
)

decisions = sa.Table(
    "kam_decision", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("round_id", sa.String(64), sa.ForeignKey("kam_round.id"), nullable=False),
    sa.Column("run", Int, nullable=False),
    sa.Column("learner", sa.String(128), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("outcome", sa.String(8), nullable=False),  # 通过 / 未通过
    sa.Column("row", Text, nullable=False),  # the results-list row (JSON)
    sa.Column("evidence", Text, nullable=False),  # what it was decided on: sitting, scores per question, inputs
    sa.Column("decided_at", Text, nullable=False),
    sa.Column("decided_by", Text, nullable=False),
    sa.Column("supersedes", Int, sa.ForeignKey("kam_decision.id")),
    sa.Column("appeal_id", Int),
    sa.Index("ix_kam_decision_round_learner", "round_id", "learner"),
)

certificates = sa.Table(
    "kam_certificate", metadata,
    sa.Column("number", sa.String(96), primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("learner", sa.String(128), nullable=False),
    sa.Column("name", Text, nullable=False),
    sa.Column("region", Text, nullable=False),
    sa.Column("department", Text, nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("level_title", Text, nullable=False),
    sa.Column("round_id", sa.String(64), sa.ForeignKey("kam_round.id"), nullable=False),
    sa.Column("sitting", Text, nullable=False),  # the paper (later: the sitting) that counted
    sa.Column("exam_date", Text, nullable=False),
    sa.Column("issue_date", Text, nullable=False),
    sa.Column("valid_until", Text, nullable=False),
    sa.Column("renews", sa.String(96)),  # 复审: the certificate this one renews
    sa.Column("decision_id", Int, sa.ForeignKey("kam_decision.id"), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.UniqueConstraint("learner", "level", "round_id", name="uq_kam_certificate_learner_level_round"),
)

events = sa.Table(
    "kam_certificate_event", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("number", sa.String(96), sa.ForeignKey("kam_certificate.number"), nullable=False),
    sa.Column("seq", Int, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),  # 有效 / 暂停 / 撤销
    sa.Column("reason", Text, nullable=False),
    sa.Column("effective_date", Text, nullable=False),
    sa.Column("cause", sa.String(16), nullable=False),  # issue / decision / manual
    sa.Column("recorded_at", Text, nullable=False),
    sa.Column("recorded_by", Text, nullable=False),
    # the chain: the previous event's mac (the certificate's code for the first), so no event can go unnoticed
    sa.Column("prev_mac", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),
    sa.UniqueConstraint("number", "seq", name="uq_kam_certificate_event_seq"),
)

appeals = sa.Table(
    "kam_appeal", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("round_id", sa.String(64), sa.ForeignKey("kam_round.id"), nullable=False),
    sa.Column("learner", sa.String(128), nullable=False),
    sa.Column("reason", Text, nullable=False),
    sa.Column("filed_at", Text, nullable=False),
    sa.Column("filed_by", Text, nullable=False),
    sa.Column("decision_before", Int, sa.ForeignKey("kam_decision.id"), nullable=False),
    sa.Column("outcome", Text, nullable=False),  # the decision it led to names it in kam_decision.appeal_id
)

audit = sa.Table(
    "kam_audit", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("at", Text, nullable=False),
    sa.Column("who", Text, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("round_id", sa.String(64)),
    sa.Column("learner", sa.String(128)),
    sa.Column("subject", Text, nullable=False),
    sa.Column("before", Text),
    sa.Column("after", Text),
)

TABLES = [t.name for t in metadata.sorted_tables]


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def who() -> str:
    """The account acting: on a hub, an instructor's server runs as the instructor's own account."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return f"uid {os.getuid()}"


def _guard_sqlite(conn: sa.Connection, tables: list[str]) -> None:
    for table in tables:
        for op in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: add a new row instead'); END")


def _guard_postgresql(conn: sa.Connection, tables: list[str]) -> None:
    conn.execute(sa.text(  # text(): the driver would read the % as a parameter
        "CREATE OR REPLACE FUNCTION kam_append_only() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION '% is append-only: add a new row instead', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"))
    for table in tables:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        conn.exec_driver_sql(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                             "FOR EACH ROW EXECUTE FUNCTION kam_append_only()")


def _init_nbgrader(url: str, course_id: str) -> None:
    """nbgrader's own tables first: nbgrader stamps its schema version only into a database without tables."""
    from nbgrader.api import Gradebook  # slow to import: only when the gradebook is new

    bindir = str(Path(sys.executable).parent)  # nbgrader shells out to `alembic`, installed beside the interpreter
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    with Gradebook(url, course_id=course_id):
        pass


def engine_for(url: str) -> sa.Engine:
    return sa.create_engine(url, future=True, poolclass=sa.pool.NullPool)


def create(url: str, course_id: str) -> sa.Engine:
    """The gradebook at ``url`` with this product's tables (created, with their guards, when missing)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for(url)
    names = set(sa.inspect(engine).get_table_names())
    if "alembic_version" not in names:
        _init_nbgrader(url, course_id)
    add_append_only_tables(engine, metadata, names)
    upgrade(engine)
    return engine


def upgrade(engine: sa.Engine) -> None:
    """Bring a register made before status events were chained up to date, in place.

    Its tables are append-only, so no row is rewritten: the new column is added with ``''`` for the events
    already there, which :func:`course.certification.register.intact` reads as events recorded before the
    chain (signed as they were, numbered, before every chained event).
    """
    names = {c["name"] for c in sa.inspect(engine).get_columns(events.name)}
    if "prev_mac" not in names:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {events.name} ADD COLUMN prev_mac VARCHAR(64) NOT NULL DEFAULT ''")


def add_append_only_tables(engine: sa.Engine, tables: sa.MetaData, present: set[str] | None = None) -> None:
    """Create ``tables`` where missing, each guarded by an append-only trigger (SQLite, PostgreSQL)."""
    names = [t.name for t in tables.sorted_tables]
    if present is None:
        present = set(sa.inspect(engine).get_table_names())
    if set(names) <= present:
        return
    with engine.begin() as conn:
        tables.create_all(conn)
        if engine.dialect.name == "sqlite":
            _guard_sqlite(conn, names)
        elif engine.dialect.name == "postgresql":
            _guard_postgresql(conn, names)


class RegisterMissing(CourseError):
    """No register where one was expected (no gradebook, or one without this product's tables)."""


def existing(url: str) -> sa.Engine:
    """The register at ``url`` for reading; RegisterMissing if there is none."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise RegisterMissing(f"there is no gradebook at {url.removeprefix('sqlite:///')}")
    engine = engine_for(url)
    try:
        names = set(sa.inspect(engine).get_table_names())
    except sa.exc.OperationalError as exc:
        raise RegisterMissing(f"the gradebook at {url} cannot be opened ({exc.orig})") from None
    if certificates.name not in names:
        raise RegisterMissing(f"the gradebook at {url} holds no certificate register (no certificate was issued)")
    upgrade(engine)
    return engine


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction; on SQLite taken for writing at once, so two runs cannot interleave their numbering."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.begin()
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def course_url(root: Path) -> str:
    from course.nbconfig import db_url  # imports nbgrader

    return db_url(root.resolve())


def open_course(root: Path) -> sa.Engine:
    """The register of the course folder ``root`` (its gradebook), created when missing."""
    from course.nbconfig import course_config

    return create(course_url(root), str(course_config(root.resolve()).CourseDirectory.course_id))
