"""nbgrader's gradebook tables as SQLAlchemy Core tables, declared without importing nbgrader.

nbgrader owns this schema: its models (``nbgrader.api``) and its alembic migrations create the
tables. They are declared again here, the same names, columns, types, keys and unique
constraints, so that a grading run need not import ``nbgrader``, whose package import loads its
server extensions, nbconvert and nbformat's validator (about 2 s of a one-learner regrade).
``tests/test_rows.py`` compares every table here with ``nbgrader.api``'s own, so an nbgrader that
changes its schema fails that test, never a gradebook. The grader gives every value it writes,
so nbgrader's Python-side defaults (``new_uuid`` ids and the like) are not repeated.
"""

from __future__ import annotations

import sqlalchemy as sa

METADATA = sa.MetaData()
_ID = 32  # nbgrader.api's uuid4().hex ids
_NAME = 128

COURSE = sa.Table(
    "course", METADATA,
    sa.Column("id", sa.String(_NAME), primary_key=True, unique=True),
)
ASSIGNMENT = sa.Table(
    "assignment", METADATA,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("name", sa.String(_NAME), nullable=False, unique=True),
    sa.Column("duedate", sa.DateTime()),
    sa.Column("course_id", sa.String(_NAME), sa.ForeignKey("course.id"), nullable=False),
)
NOTEBOOK = sa.Table(
    "notebook", METADATA,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("name", sa.String(_NAME), nullable=False),
    sa.Column("assignment_id", sa.String(_ID), sa.ForeignKey("assignment.id")),
    sa.Column("kernelspec", sa.String(1024)),
    sa.UniqueConstraint("name", "assignment_id"),
)
BASE_CELL = sa.Table(
    "base_cell", METADATA,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("name", sa.String(_NAME), nullable=False),
    sa.Column("notebook_id", sa.String(_ID), sa.ForeignKey("notebook.id"), nullable=False),
    sa.Column("type", sa.String(50)),
    sa.UniqueConstraint("name", "notebook_id", "type"),
)
GRADE_CELL = sa.Table(
    "grade_cells", METADATA,
    sa.Column("id", sa.String(_ID), sa.ForeignKey("base_cell.id"), primary_key=True),
    sa.Column("max_score", sa.Float(), nullable=False),
    sa.Column("cell_type", sa.Enum("code", "markdown", name="grade_cell_type"), nullable=False),
)
SOLUTION_CELL = sa.Table(
    "solution_cells", METADATA,
    sa.Column("id", sa.String(_ID), sa.ForeignKey("base_cell.id"), primary_key=True),
)
TASK_CELL = sa.Table(
    "task_cells", METADATA,
    sa.Column("id", sa.String(_ID), sa.ForeignKey("base_cell.id"), primary_key=True),
    sa.Column("max_score", sa.Float(), nullable=False),
    sa.Column("cell_type", sa.Enum("code", "markdown", name="grade_cell_type"), nullable=False),
)
SOURCE_CELL = sa.Table(
    "source_cell", METADATA,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("name", sa.String(_NAME), nullable=False),
    sa.Column("cell_type", sa.Enum("code", "markdown", name="source_cell_type"), nullable=False),
    sa.Column("locked", sa.Boolean(), nullable=False),
    sa.Column("source", sa.Text()),
    sa.Column("checksum", sa.String(_NAME)),
    sa.Column("notebook_id", sa.String(_ID), sa.ForeignKey("notebook.id")),
    sa.UniqueConstraint("name", "notebook_id"),
)
STUDENT = sa.Table(
    "student", METADATA,
    sa.Column("id", sa.String(_NAME), primary_key=True),
    sa.Column("first_name", sa.String(_NAME)),
    sa.Column("last_name", sa.String(_NAME)),
    sa.Column("email", sa.String(_NAME)),
    sa.Column("lms_user_id", sa.String(_NAME)),
)
SUBMISSION = sa.Table(
    "submitted_assignment", METADATA,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("assignment_id", sa.String(_ID), sa.ForeignKey("assignment.id")),
    sa.Column("student_id", sa.String(_NAME), sa.ForeignKey("student.id")),
    sa.Column("timestamp", sa.DateTime()),
    sa.Column("extension", sa.Interval()),
    sa.UniqueConstraint("assignment_id", "student_id"),
)
SUBMITTED_NB = sa.Table(
    "submitted_notebook", METADATA,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("assignment_id", sa.String(_ID), sa.ForeignKey("submitted_assignment.id")),
    sa.Column("notebook_id", sa.String(_ID), sa.ForeignKey("notebook.id")),
    sa.Column("flagged", sa.Boolean()),
    sa.Column("late_submission_penalty", sa.Float(0)),
    sa.UniqueConstraint("notebook_id", "assignment_id"),
)
GRADE = sa.Table(
    "grade", METADATA,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("notebook_id", sa.String(_ID), sa.ForeignKey("submitted_notebook.id")),
    sa.Column("cell_id", sa.String(_ID), sa.ForeignKey("base_cell.id")),
    sa.Column("auto_score", sa.Float()),
    sa.Column("manual_score", sa.Float()),
    sa.Column("extra_credit", sa.Float()),
    sa.Column("needs_manual_grade", sa.Boolean(), nullable=False),
    sa.UniqueConstraint("cell_id", "notebook_id"),
)
COMMENT = sa.Table(
    "comment", METADATA,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("notebook_id", sa.String(_ID), sa.ForeignKey("submitted_notebook.id")),
    sa.Column("cell_id", sa.String(_ID), sa.ForeignKey("base_cell.id")),
    sa.Column("auto_comment", sa.Text()),
    sa.Column("manual_comment", sa.Text()),
    sa.UniqueConstraint("cell_id", "notebook_id"),
)
NBGRADER_TABLES = (COURSE, ASSIGNMENT, NOTEBOOK, BASE_CELL, GRADE_CELL, SOLUTION_CELL, TASK_CELL, SOURCE_CELL,
                   STUDENT, SUBMISSION, SUBMITTED_NB, GRADE, COMMENT)
