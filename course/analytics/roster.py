"""The cohort roster: who the learners are, where they work, which level they aim at.

CSV with a header row (UTF-8, Excel's "CSV UTF-8" works)::

    learner_id,name,region,department,target_level
    zhang.san,张三,华东,政企客户部,L4

``target_level`` is a level id (L4…L1) or its title (四级, 三级（中级）…).
Every bad row is reported with its row number; nothing is dropped.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from course.errors import InputFileError
from course.loader import Course

COLUMNS = ("learner_id", "name", "region", "department", "target_level")
UNREGISTERED = "（未登记）"


def read_roster(path: Path, course: Course) -> pd.DataFrame:
    """Roster frame indexed by learner id; InputFileError lists every bad row."""
    levels = {lv.id: lv.id for lv in course.levels.levels} | {lv.title: lv.id for lv in course.levels.levels}
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError(path, [f"cannot be read as a UTF-8 CSV file ({exc}): save it as CSV UTF-8"]) from None
    if not rows or tuple(c.strip() for c in rows[0]) != COLUMNS:
        raise InputFileError(path, [f"row 1: the header must be {','.join(COLUMNS)}"])
    problems: list[str] = []
    records: list[dict[str, str]] = []
    first_row: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(COLUMNS):
            problems.append(f"row {number}: has {len(row)} column(s), expected {len(COLUMNS)} ({','.join(COLUMNS)})")
            continue
        record = dict(zip(COLUMNS, (c.strip() for c in row), strict=True))
        learner = record["learner_id"]
        if not learner:
            problems.append(f"row {number}: learner_id is empty: fill it in")
            continue
        if learner in first_row:
            problems.append(f"row {number}: learner '{learner}' is listed again (first on row {first_row[learner]}): "
                            "keep one row")
            continue
        first_row[learner] = number
        for column in ("region", "department"):
            if not record[column]:
                problems.append(f"row {number}: {column} of '{learner}' is empty: fill it in")
        if record["target_level"] not in levels:
            problems.append(f"row {number}: target_level '{record['target_level']}' of '{learner}' is not a level: "
                            f"use one of {', '.join(levels)}")
            continue
        record["target_level"] = levels[record["target_level"]]
        records.append(record)
    if problems:
        raise InputFileError(path, problems)
    return pd.DataFrame.from_records(records, columns=list(COLUMNS)).set_index("learner_id")


def write_roster(frame: pd.DataFrame, path: Path) -> None:
    frame.reset_index()[list(COLUMNS)].to_csv(path, index=False, encoding="utf-8")
