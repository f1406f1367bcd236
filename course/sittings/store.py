"""Exam sittings (考试场次) as append-only tables of this product in the gradebook's database.

The learner controls everything in their home (files, their times, the kernel). So the clock of a
sitting is kept here, written only by the instructor's commands and by the sittings service (a
JupyterHub service the learner cannot write to): when each learner started, every answer they
saved with the service's own time, when they handed in. Like the certification tables
(:mod:`course.certification.store`), every table refuses UPDATE and DELETE: a change is a new row.

| table | one row per |
|---|---|
| ``kam_sitting`` | version of a sitting's definition (a change is a new version pointing to the last) |
| ``kam_sitting_start`` | learner's attempt at a sitting: when the service first handed them the paper |
| ``kam_sitting_answer`` | answer the learner saved, as the service received it, with the service's time |
| ``kam_sitting_finish`` | learner's hand-in (交卷) of an attempt |
| ``kam_sitting_reopen`` | reopening of a learner's sitting by an instructor, with the reason |
"""

from __future__ import annotations

import sqlalchemy as sa

from course.certification import store as cert_store

metadata = sa.MetaData()
Text, Int = sa.Text, sa.Integer

sittings = sa.Table(
    "kam_sitting", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("sitting", sa.String(128), nullable=False),  # the sitting's name, e.g. L4-2026a-1
    sa.Column("paper", sa.String(128), nullable=False),
    sa.Column("opens_at", Text, nullable=False),  # ISO 8601 with offset
    sa.Column("closes_at", Text, nullable=False),
    sa.Column("minutes", Int, nullable=False),
    sa.Column("learners", Text, nullable=False),  # JSON list of admitted learner ids
    sa.Column("extra", Text, nullable=False),  # JSON {learner: extra minutes} (accommodation)
    sa.Column("recorded_at", Text, nullable=False),
    sa.Column("recorded_by", Text, nullable=False),
    sa.Column("supersedes", Int, sa.ForeignKey("kam_sitting.id")),
    sa.Index("ix_kam_sitting_sitting", "sitting"),
)

starts = sa.Table(
    "kam_sitting_start", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("sitting", sa.String(128), nullable=False),
    sa.Column("learner", sa.String(128), nullable=False),
    sa.Column("attempt", Int, nullable=False),
    sa.Column("started_at", Text, nullable=False),
    sa.UniqueConstraint("sitting", "learner", "attempt", name="uq_kam_sitting_start"),
)

answers = sa.Table(
    "kam_sitting_answer", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("sitting", sa.String(128), nullable=False),
    sa.Column("learner", sa.String(128), nullable=False),
    sa.Column("attempt", Int, nullable=False),
    sa.Column("question", sa.String(128), nullable=False),
    sa.Column("value", Text, nullable=False),  # JSON
    sa.Column("saved_at", Text, nullable=False),
    sa.Index("ix_kam_sitting_answer_learner", "sitting", "learner", "attempt"),
)

finishes = sa.Table(
    "kam_sitting_finish", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("sitting", sa.String(128), nullable=False),
    sa.Column("learner", sa.String(128), nullable=False),
    sa.Column("attempt", Int, nullable=False),
    sa.Column("finished_at", Text, nullable=False),
    sa.UniqueConstraint("sitting", "learner", "attempt", name="uq_kam_sitting_finish"),
)

reopens = sa.Table(
    "kam_sitting_reopen", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("sitting", sa.String(128), nullable=False),
    sa.Column("learner", sa.String(128), nullable=False),
    sa.Column("attempt", Int, nullable=False),  # the attempt this reopening allows
    sa.Column("closes_at", Text),  # until when that attempt may start (default: the sitting's closing time)
    sa.Column("reason", Text, nullable=False),
    sa.Column("reopened_at", Text, nullable=False),
    sa.Column("reopened_by", Text, nullable=False),
    sa.UniqueConstraint("sitting", "learner", "attempt", name="uq_kam_sitting_reopen"),
)


def open_url(url: str, course_id: str) -> sa.Engine:
    """The gradebook at ``url`` with the certification and the sittings tables (created when missing)."""
    engine = cert_store.create(url, course_id)
    cert_store.add_append_only_tables(engine, metadata)
    return engine
