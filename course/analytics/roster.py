"""The cohort roster: who the learners are, where they work, which level they aim at.

CSV (UTF-8 or GBK) or .xlsx with a header row (:mod:`course.csvrows`)::

    learner_id,name,region,department,target_level
    zhang.san,张三,华东,政企客户部,L4

``target_level`` is a level id (L4…L1) or its title (四级, 三级（中级）…).
Every bad row is reported with its row number; nothing is dropped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from course.csvrows import key, parse_rows
from course.errors import InputFileError
from course.loader import Course

COLUMNS = ("learner_id", "name", "region", "department", "target_level")
UNREGISTERED = "（未登记）"


def read_roster(path: Path, course: Course) -> pd.DataFrame:
    """Roster frame indexed by learner id; InputFileError lists every bad row."""
    levels = {lv.id: lv.id for lv in course.levels.levels} | {lv.title: lv.id for lv in course.levels.levels}
    lookup = {key(name): level for name, level in levels.items()}  # 三级(中级) and 三级（中级） alike
    rows, problems = parse_rows(path, COLUMNS)  # (row, message): listed in row order at the end
    records: list[dict[str, str]] = []
    first_row: dict[str, int] = {}
    for number, record in rows:
        learner = record["learner_id"]
        if not learner:
            problems.append((number, f"row {number}: learner_id is empty: fill it in"))
            continue
        if learner in first_row:
            problems.append((number, f"row {number}: learner '{learner}' is listed again (first on row "
                                     f"{first_row[learner]}): keep one row"))
            continue
        first_row[learner] = number
        for column in ("region", "department"):
            if not record[column]:
                problems.append((number, f"row {number}: {column} of '{learner}' is empty: fill it in"))
        if record["target_level"] not in lookup:
            problems.append((number, f"row {number}: target_level '{record['target_level']}' of '{learner}' is not "
                                     f"a level: use one of {', '.join(levels)}"))
            continue
        record["target_level"] = lookup[record["target_level"]]
        records.append(record)
    if problems:
        raise InputFileError(path, [message for _, message in sorted(problems, key=lambda p: p[0])])
    return pd.DataFrame.from_records(records, columns=list(COLUMNS)).set_index("learner_id")


def write_roster(frame: pd.DataFrame, path: Path) -> None:
    frame.reset_index()[list(COLUMNS)].to_csv(path, index=False, encoding="utf-8")
