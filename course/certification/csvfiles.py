"""Reading the certification CSV files with the roster's conventions: every bad row named, nothing half-read."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from course.csvrows import parse_rows
from course.errors import InputFileError

# a row checker gets (row number, record) and returns problems; it may normalise the record in place
RowCheck = Callable[[int, dict[str, str]], list[str]]


def read_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(row number, record) of every non-empty row; InputFileError on a bad header or wrong column count."""
    rows, problems = parse_rows(path, columns)
    if problems:
        raise InputFileError(path, [message for _, message in problems])
    return rows


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
