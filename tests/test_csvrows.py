"""Does the one reader of office files take what a Chinese office exports, and name what it cannot read?"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from course.csvrows import key, parse_rows
from course.errors import InputFileError

COLUMNS = ("learner_id", "course", "hours", "date")
ROWS = [(2, {"learner_id": "a", "course": "面授(一)", "hours": "6", "date": "2026/9/1"}),
        (4, {"learner_id": "b", "course": "面授(二)", "hours": "2.5", "date": "2026年9月1日"})]
TEXT = "learner_id,course,hours,date\na,面授（一）,6,2026/9/1\n\nb,面授(二),2.5,2026年9月1日\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk_reads_the_same(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(TEXT.encode(encoding))
    assert parse_rows(path, COLUMNS) == (ROWS, [])


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_an_excel_workbook_reads_dates_and_whole_numbers_as_an_office_typed_them(tmp_path: Path) -> None:
    """A date cell is YYYY-MM-DD, 6.0 is 6, the sheet's padding columns and blank rows are dropped."""
    path = write_xlsx(tmp_path / "t.xlsx", [list(COLUMNS), ["a", "面授（一）", 6.0, dt.datetime(2026, 9, 1)],
                                            [None, None, None, None], ["b", "面授(二)", 2.5, "2026年9月1日", None]])
    assert parse_rows(path, COLUMNS) == ([(2, dict(ROWS[0][1], date="2026-09-01")), ROWS[1]], [])


def test_a_workbook_saved_under_a_csv_name_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.csv", [list(COLUMNS), ["a", "面授（一）", 6, "2026/9/1"]])
    assert parse_rows(path, COLUMNS) == ([ROWS[0]], [])


def test_full_and_half_width_forms_are_one_key() -> None:
    assert key("三级（中级）") == key("三级(中级)") == "三级(中级)"
    assert key("　ＡＢｃ１２ ") == "ABc12"


@pytest.mark.parametrize(("data", "problem"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64,
     "is an old Excel 97-2003 workbook (.xls): save it as .xlsx or as CSV UTF-8"),
    (b"PK\x03\x04 not really a workbook",
     "cannot be read as an Excel workbook (File is not a zip file): open it in Excel and save it again as .xlsx, "
     "or as CSV UTF-8"),
    (b"learner_id,course\n\xff\xfe\xff\xfe,x\n",
     "cannot be read: it is neither UTF-8 nor GBK/GB18030 text: save it as CSV UTF-8 or as an Excel workbook (.xlsx)"),
    (b"learner_id,course,hours\n", "row 1: the header must be learner_id,course,hours,date"),
], ids=["xls", "broken-xlsx", "neither-encoding", "header"])
def test_what_cannot_be_read_is_named_with_the_fix(tmp_path: Path, data: bytes, problem: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(InputFileError) as caught:
        parse_rows(path, COLUMNS)
    assert caught.value.problems == [problem]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        parse_rows(tmp_path / "none.csv", COLUMNS)
    assert caught.value.problems == ["cannot be read (No such file or directory): check the path"]


def test_a_roster_level_with_half_width_brackets_is_the_level(tmp_path: Path) -> None:
    from course.analytics.roster import read_roster
    from course.loader import load_course

    content = Path(__file__).parent / "fixtures" / "cert"
    path = tmp_path / "roster.csv"
    path.write_bytes("learner_id,name,region,department,target_level\na,张三,华东,政企客户部,一级(资深)\n"
                     .encode("gbk"))
    assert read_roster(path, load_course(content)).loc["a", "target_level"] == "L1"


def test_a_date_cell_with_a_time_of_day_reads_as_its_day(tmp_path: Path) -> None:
    """An Excel date-time cell (or its CSV export, 2026/9/1 8:30) is a training day, not a refused 'not a date'."""
    from course.certification.csvfiles import date

    path = write_xlsx(tmp_path / "t.xlsx", [list(COLUMNS), ["a", "面授", 6, dt.datetime(2026, 9, 1, 8, 30)]])
    [(_, row)], problems = parse_rows(path, COLUMNS)
    assert (row["date"], problems) == ("2026-09-01 08:30:00", [])
    today = dt.date(2026, 12, 1)
    assert [date(v, 2, "date", today) for v in (row["date"], "2026/9/1 8:30", "2026年9月1日 08:30")] == [
        ("2026-09-01", [])] * 3
    assert date("2026-09-01 8h30", 2, "date", today) == (None, [
        "row 2, column date: '2026-09-01 8h30' is not a date: write e.g. 2026-09-01, 2026/9/1 or 2026年9月1日"])
