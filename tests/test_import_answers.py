"""Do answers from elsewhere become real nbgrader submissions, and does a bad row stop everything?"""

from __future__ import annotations

from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from course import workflow
from course.errors import InputFileError
from course.import_answers import import_answers, read_csv
from course.loader import load_course
from course.nbconfig import db_url
from tests.conftest import MINI, make_course_dir

GOOD = """student_id,question_id,answer
paper01,ch01-001,a
paper01,ch01-002,"A,B,D"
paper01,ch01-003,错
paper01,ch01-004,基础电信业务|增值电信业务
paper01,ch01-005,"B,A,C"
paper01,ch01-006,"1=B,2=A"
paper02,ch01-001,C
paper02,ch01-003,对
"""


def test_imported_answers_are_graded_like_online_ones(tmp_path: Path) -> None:
    cd = make_course_dir(tmp_path / "course")
    workflow.generate(cd.root, ["ch01"])
    workflow.release(cd.root, ["ch01"])
    csv = tmp_path / "paper.csv"
    csv.write_text(GOOD, encoding="utf-8")
    assert import_answers(cd.root, cd.course, csv) == [("paper01", "ch01"), ("paper02", "ch01")]
    workflow.autograde(cd.root, cd.course, ["ch01"], workers=1, progress=False)
    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        assert gb.find_submission("ch01", "paper01").score == 13.0
        assert gb.find_submission("ch01", "paper02").score == 0.0


@pytest.mark.parametrize(
    ("rows", "problems"),
    [
        ("student_id,question_id,answer\nzhang,ch01-009,A\n",
         ["row 2: question 'ch01-009' does not exist: use an id from the question bank"]),
        ("student_id,question_id,answer\nzhang,ch01-001,E\nli,ch01-003,maybe\n",
         ["row 2: 'E' is not an option of ch01-001: use one of A, B, C",
          "row 3: 'maybe' is not true/false: write 对 or 错"]),
        ("student_id,question_id,answer\nzhang,ch01-004,基础\n",
         ["row 2: '基础' has 1 blank(s); ch01-004 has 2: separate them with |"]),
        ("student_id,question_id,answer\nzhang,ch01-001,A\nzhang,ch01-001,B\n",
         ["row 3: answers ch01-001 for zhang again (first on row 2): keep one row"]),
        ("student_id,question_id,answer\n../x,ch01-001,A\n",
         ["row 2: student id '../x' is empty or has / \\ * + or spaces: fix the id"]),
        ("student_id,question_id,answer\nzhang,ch01-001\n",
         ["row 2: has 2 column(s), expected 3 (student_id,question_id,answer)"]),
        ("learner,question,answer\n", ["row 1: the header must be student_id,question_id,answer"]),
        ("student_id,question_id,answer\nzhang,ch01-006,1=B\n",
         []),
    ],
    ids=["unknown-question", "bad-option-and-bad-truefalse", "blank-count", "duplicate-row", "unsafe-student-id",
         "short-row", "bad-header", "partial-matching-is-fine"],
)
def test_bad_rows_are_named_by_row_number(tmp_path: Path, rows: str, problems: list[str]) -> None:
    csv = tmp_path / "answers.csv"
    csv.write_text(rows, encoding="utf-8")
    course = load_course(MINI)
    if not problems:
        assert read_csv(csv, course) == {("zhang", "ch01"): {"ch01-006": {"1": "B"}}}
        return
    with pytest.raises(InputFileError) as caught:
        read_csv(csv, course)
    assert caught.value.problems == problems
    assert str(caught.value).startswith(f"{csv}: row ")


def test_a_bad_row_writes_no_submission_at_all(tmp_path: Path) -> None:
    cd = make_course_dir(tmp_path / "course")
    csv = tmp_path / "answers.csv"
    csv.write_text(GOOD + "paper03,ch01-001,Z\n", encoding="utf-8")
    with pytest.raises(InputFileError):
        import_answers(cd.root, cd.course, csv)
    assert not (cd.root / "submitted").exists()
    assert not (cd.root / "exchange").exists()
