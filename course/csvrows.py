"""The rows of a learner-facing CSV file (roster, training, ratings): one reading, one set of messages.

UTF-8 (Excel's "CSV UTF-8" with its byte-order mark works), a header row that must be exactly
the expected columns, blank rows skipped, every cell stripped.
"""

from __future__ import annotations

import csv
from pathlib import Path

from course.errors import InputFileError


def parse_rows(path: Path,
               columns: tuple[str, ...]) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """(row number, record) of every well-formed non-empty row; (row number, problem) per row of the wrong width.

    An unreadable file or a wrong header raises InputFileError at once: no row can be trusted then.
    """
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError(path, [f"cannot be read as a UTF-8 CSV file ({exc}): save it as CSV UTF-8"]) from None
    if not rows or tuple(c.strip() for c in rows[0]) != columns:
        raise InputFileError(path, [f"row 1: the header must be {','.join(columns)}"])
    out: list[tuple[int, dict[str, str]]] = []
    problems: list[tuple[int, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(columns):
            problems.append((number, f"row {number}: has {len(row)} column(s), expected {len(columns)} "
                                     f"({','.join(columns)})"))
            continue
        out.append((number, dict(zip(columns, (c.strip() for c in row), strict=True))))
    return out, problems
