"""The floor of grading a cohort: what reading the submissions and storing their rows costs, and nothing more.

Run (the bench_autograde cohort benchmark runs it beside `course autograde`, on a copy of the same gradebook):
    python -m tests.benchmarks.floor <course folder> <gradebook URL>

In one process: read each collected submission's answers file and its ``timestamp.txt`` (and parse
the JSON), then insert the same rows the grader inserts — one ``submitted_assignment``, one
``submitted_notebook``, a ``grade`` per grade cell, a ``comment`` per answer cell, one
``course_answer_digest`` — with the database driver's ``executemany``, a transaction per 400
submissions as the grader commits. No scoring, no checks, no autograded notebook, no SQLAlchemy
on the way: the least any grader that stores nbgrader's rows must do. Prints one JSON line:
submissions, rows, seconds, peak memory.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from course.grading import rows

BATCH = 400
INSERTS = {
    "submitted_assignment": ("id", "assignment_id", "student_id", "timestamp", "extension"),
    "submitted_notebook": ("id", "assignment_id", "notebook_id", "late_submission_penalty", "flagged"),
    "grade": ("id", "notebook_id", "cell_id", "auto_score", "manual_score", "extra_credit", "needs_manual_grade"),
    "comment": ("id", "notebook_id", "cell_id", "auto_comment", "manual_comment"),
    "course_answer_digest": ("id", "digests"),
}


def _statement(table: str, columns: tuple[str, ...], paramstyle: str) -> str:
    marks = ", ".join("?" if paramstyle == "qmark" else "%s" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def _when(raw: bytes, sqlite: bool) -> Any:
    stamp = dt.datetime.strptime(raw.decode("ascii").strip()[:-4], "%Y-%m-%d %H:%M:%S.%f")
    return stamp.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else stamp  # SQLAlchemy's SQLite DATETIME text


def floor(root: Path, url: str, course_id: str = "kam-cert") -> dict[str, Any]:
    start = time.perf_counter()
    engine = sa.create_engine(url)
    assignments = sorted({p.name for p in (root / "submitted").glob("*/*") if p.is_dir()})
    with engine.connect() as conn:
        layouts = {a: rows.read_layout(conn, course_id, a) for a in assignments}
    raw = engine.raw_connection()
    sqlite = engine.dialect.name == "sqlite"
    style = "qmark" if sqlite else "pyformat"
    cursor = raw.cursor()
    submissions, written = 0, 0
    batch: dict[str, list[tuple[Any, ...]]] = {t: [] for t in INSERTS}
    students = sorted(p.name for p in (root / "submitted").iterdir())
    cursor.executemany(_statement("student", ("id", "first_name", "last_name", "email", "lms_user_id"), style),
                       [(s, None, None, None, None) for s in students])
    raw.commit()

    def flush() -> int:
        count = 0
        for table, values in batch.items():
            if values:
                cursor.executemany(_statement(table, INSERTS[table], style), values)
                count += len(values)
                values.clear()
        raw.commit()
        return count

    for student in students:
        for folder in sorted((root / "submitted" / student).iterdir()):
            layout = layouts[folder.name]
            answers = json.loads((folder / f"{folder.name}.answers.json").read_bytes())["answers"]
            stamp = _when((folder / "timestamp.txt").read_bytes(), sqlite)
            sub_id = uuid.uuid4().hex
            batch["submitted_assignment"].append((sub_id, layout.id, student, stamp, None))
            for nb in layout.notebooks.values():
                nb_id = uuid.uuid4().hex
                batch["submitted_notebook"].append((nb_id, sub_id, nb.id, None, False))
                for gid, (cell_id, points) in nb.grade_cells.items():
                    batch["grade"].append((uuid.uuid4().hex, nb_id, cell_id, points if gid in answers else 0.0, None,
                                           None, False))
                for gid, cell_id in nb.comment_cells.items():
                    batch["comment"].append((uuid.uuid4().hex, nb_id, cell_id, None if gid in answers else
                                             "No response.", None))
                batch["course_answer_digest"].append((nb_id, json.dumps({gid: "" for gid in nb.grade_cells})))
            submissions += 1
            if submissions % BATCH == 0:
                written += flush()
    written += flush()
    raw.close()
    engine.dispose()
    return {"submissions": submissions, "rows": written + len(students), "seconds": time.perf_counter() - start,
            "peak_mb": peak_mb()}


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would keep the peak of the process it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    root, url = Path(sys.argv[1]), sys.argv[2]
    with sa.create_engine(url).begin() as conn:
        rows.ensure_tables(conn)
    os.environ.pop("COURSE_DB_URL", None)
    print(json.dumps(floor(root, url)))


if __name__ == "__main__":
    main()
