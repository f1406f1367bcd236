"""Reading the certification files with the roster's conventions: every bad row named, nothing half-read.

The files come as an office exports them (:mod:`course.csvrows`: UTF-8 or GBK CSV, .xlsx). On top
of that reading, the cell checks every certification import shares: numbers that are finite and
plausible, dates in the common Chinese forms and not in the future, learner ids that are in the
roster, rows that are not given twice.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from course.csvrows import parse_rows
from course.errors import InputFileError

if TYPE_CHECKING:
    import pandas as pd

# a row checker gets (row number, record) and returns problems; it may normalise the record in place
RowCheck = Callable[[int, dict[str, str]], list[str]]

# 2026-09-01, 2026-9-1, 2026/9/1, 2026.9.1, 2026年9月1日 (NFKC has already made full-width digits ASCII)
# a time of day after the date (an Excel date-time cell, 2026-09-01 08:30:00; 2026/9/1 8:30) is dropped: a record
# is of a day
DATE_FORMS = re.compile(r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?"
                        r"(?:\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
DATE_HELP = "write e.g. 2026-09-01, 2026/9/1 or 2026年9月1日"


def read_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(row number, record) of every non-empty row; InputFileError on a bad header or wrong column count."""
    rows, problems = parse_rows(path, columns)
    if problems:
        raise InputFileError(path, [message for _, message in problems])
    return rows


def read_checked(path: Path, columns: tuple[str, ...], check: RowCheck) -> pd.DataFrame:
    """All rows of ``path`` checked by ``check``; InputFileError listing every problem, or the frame.

    The frame's ``row`` column holds each record's row number in the file.
    """
    problems: list[str] = []
    records = []
    for number, record in read_rows(path, columns):
        found = check(number, record)
        problems += found
        if not found:
            records.append({**record, "row": number})
    if problems:
        raise InputFileError(path, problems)
    import pandas as pd  # only where a frame is made: a command that stops early never loads it

    return pd.DataFrame.from_records(records, columns=[*columns, "row"])


def number(value: str, row: int, column: str, *, minimum: float = 0, maximum: float = math.inf,
           unit: str = "") -> tuple[float | None, list[str]]:
    """A finite number within [minimum, maximum], or the problem with the fix."""
    try:
        parsed = float(value)
    except ValueError:
        return None, [f"row {row}, column {column}: '{value}' is not a number: write e.g. 4 or 2.5"]
    if not math.isfinite(parsed):
        return None, [f"row {row}, column {column}: '{value}' is not a finite number: write e.g. 4 or 2.5"]
    if parsed < minimum:
        return None, [f"row {row}, column {column}: {value} is below {minimum:g}: write a number of at least "
                      f"{minimum:g}"]
    if parsed > maximum:
        return None, [f"row {row}, column {column}: {value} is more than {maximum:g}{unit}, which no record "
                      f"can hold: check the value"]
    return parsed, []


def date(value: str, row: int, column: str, today: dt.date) -> tuple[str | None, list[str]]:
    """An ISO date from the common Chinese forms, not after ``today``; or the problem with the fix."""
    found = DATE_FORMS.fullmatch(value)
    try:
        if found is None:
            raise ValueError(value)
        parsed = dt.date(*(int(g) for g in found.groups()))
    except ValueError:
        return None, [f"row {row}, column {column}: '{value}' is not a date: {DATE_HELP}"]
    if parsed > today:
        return None, [f"row {row}, column {column}: {parsed.isoformat()} is in the future (today is "
                      f"{today.isoformat()}): check the date"]
    return parsed.isoformat(), []


def not_empty(rec: dict[str, str], row: int, column: str, fix: str) -> list[str]:
    return [] if rec[column] else [f"row {row}, column {column}: is empty: {fix}"]


class Learners:
    """Which learner ids an import accepts: the roster's, or any with ``allow_new``."""

    def __init__(self, known: set[str] | None, allow_new: bool, roster: Path | None) -> None:
        self.known, self.allow_new, self.roster = known, allow_new, roster

    def check(self, learner: str, row: int) -> list[str]:
        if not learner:
            return [f"row {row}, column learner_id: is empty: fill in the learner id"]
        if self.allow_new or self.known is None or learner in self.known:
            return []
        return [f"row {row}, column learner_id: '{learner}' is not in the roster ({self.roster}): correct the id, "
                "add the learner to the roster, or import with --allow-new"]


def duplicate(keys: dict[tuple[str, ...], int], key: tuple[str, ...], row: int, what: str, fix: str) -> list[str]:
    """A problem if ``key`` was on an earlier row of the file (``keys`` remembers first rows)."""
    if key in keys:
        return [f"row {row}: {what} is the same as row {keys[key]}: {fix}"]
    keys[key] = row
    return []


def write_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV so that readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
