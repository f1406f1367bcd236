"""The rows of a file an office supplies (roster, training, applicants, ratings): one reading, one set of messages.

What a Chinese office exports is read as it comes:

- CSV in UTF-8, with or without Excel's byte-order mark ("CSV UTF-8"), or else in GB18030, the
  superset of GBK that Excel writes as plain "CSV" on a Chinese Windows;
- Excel workbooks (``.xlsx``, also when saved under a ``.csv`` name): the first sheet, read with
  openpyxl; a date cell becomes ``YYYY-MM-DD``, a whole number ``30`` (not ``30.0``).

Every cell is stripped and NFKC-normalised, so full-width letters, digits and brackets read as their
half-width forms (``三级（中级）`` and ``三级(中级)`` are one value; compare against :func:`key`).
The header row must be exactly the expected columns; blank rows are skipped; row numbers are the
file's own (the header is row 1), as Excel shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

from course.errors import InputFileError

XLSX_MAGIC = b"PK\x03\x04"
OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"  # the .xls (BIFF) container


def key(text: str) -> str:
    """``text`` as a cell of a file reads: NFKC-normalised and stripped (compare lookup keys with this)."""
    return unicodedata.normalize("NFKC", text).strip()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(path: Path, data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputFileError(path, [f"cannot be read as an Excel workbook ({exc}): open it in Excel and save it "
                                    "again as .xlsx, or as CSV UTF-8"]) from None
    try:
        sheet = book.worksheets[0]
        return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _text_rows(path: Path, data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise InputFileError(path, [f"cannot be read as a CSV file ({exc}): save it as CSV UTF-8 or .xlsx"]
                                 ) from None
    raise InputFileError(path, ["cannot be read: it is neither UTF-8 nor GBK/GB18030 text: save it as CSV UTF-8 "
                                "or as an Excel workbook (.xlsx)"])


def read_table(path: Path) -> tuple[list[list[str]], bool]:
    """Every row of ``path`` (CSV in UTF-8 or GB18030, or .xlsx) as stripped, NFKC-normalised text cells;
    and whether it was a workbook."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, [f"cannot be read ({exc.strerror}): check the path"]) from None
    if data.startswith(OLD_EXCEL_MAGIC):
        raise InputFileError(path, ["is an old Excel 97-2003 workbook (.xls): save it as .xlsx or as CSV UTF-8"])
    sheet = data.startswith(XLSX_MAGIC)
    rows = _xlsx_rows(path, data) if sheet else _text_rows(path, data)
    return [[key(c) for c in row] for row in rows], sheet


def _fit(row: list[str], width: int) -> list[str]:
    """A sheet row to the table's width: a sheet pads rows to its widest one and drops empty cells at the end."""
    if any(row[width:]):
        return row
    return row[:width] + [""] * (width - len(row))


def parse_rows(path: Path,
               columns: tuple[str, ...]) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """(row number, record) of every well-formed non-empty row; (row number, problem) per row of the wrong width.

    An unreadable file or a wrong header raises InputFileError at once: no row can be trusted then.
    """
    rows, sheet = read_table(path)
    if sheet:
        rows = [_fit(row, len(columns)) for row in rows]
    if not rows or tuple(rows[0]) != columns:
        raise InputFileError(path, [f"row 1: the header must be {','.join(columns)}"])
    out: list[tuple[int, dict[str, str]]] = []
    problems: list[tuple[int, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        if len(row) != len(columns):
            problems.append((number, f"row {number}: has {len(row)} column(s), expected {len(columns)} "
                                     f"({','.join(columns)})"))
            continue
        out.append((number, dict(zip(columns, row, strict=True))))
    return out, problems
