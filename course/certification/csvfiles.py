"""Reading the certification CSV files with the roster's conventions: every bad row named, nothing half-read."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from course.errors import InputFileError

# a row checker gets (row number, record) and returns problems; it may normalise the record in place
RowCheck = Callable[[int, dict[str, str]], list[str]]


def read_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(row number, record) of every non-empty row; InputFileError on a bad header or wrong column count."""
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError(path, [f"cannot be read as a UTF-8 CSV file ({exc}): save it as CSV UTF-8"]) from None
    if not rows or tuple(c.strip() for c in rows[0]) != columns:
        raise InputFileError(path, [f"row 1: the header must be {','.join(columns)}"])
    out, problems = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(columns):
            problems.append(f"row {number}: has {len(row)} column(s), expected {len(columns)} ({','.join(columns)})")
            continue
        out.append((number, dict(zip(columns, (c.strip() for c in row), strict=True))))
    if problems:
        raise InputFileError(path, problems)
    return out


def read_checked(path: Path, columns: tuple[str, ...], check: RowCheck) -> pd.DataFrame:
    """All rows of ``path`` checked by ``check``; InputFileError listing every problem, or the frame."""
    problems: list[str] = []
    records = []
    for number, record in read_rows(path, columns):
        found = check(number, record)
        problems += found
        if not found:
            records.append(record)
    if problems:
        raise InputFileError(path, problems)
    return pd.DataFrame.from_records(records, columns=list(columns))


def number(value: str, row: int, column: str, *, minimum: float = 0) -> tuple[float | None, list[str]]:
    try:
        parsed = float(value)
    except ValueError:
        return None, [f"row {row}, column {column}: '{value}' is not a number: write e.g. 4 or 2.5"]
    if parsed < minimum or parsed != parsed:
        return None, [f"row {row}, column {column}: {value} is below {minimum:g}: write a number of at least "
                      f"{minimum:g}"]
    return parsed, []


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
