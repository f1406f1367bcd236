"""Do answers from elsewhere become real nbgrader submissions, and does a bad row stop everything?"""

from __future__ import annotations

from pathlib import Path

import pytest
from course_runtime.scoring import check_shape
from nbgrader.api import Gradebook

from course import model as m
from course import workflow
from course.errors import InputFileError
from course.import_answers import import_answers, parse_answer, read_csv
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
         ["row 2, column question_id: question 'ch01-009' does not exist: use an id from the question bank"]),
        ("student_id,question_id,answer\nzhang,ch01-001,E\nli,ch01-003,maybe\n",
         ["row 2, column answer: 'E' is not an option of ch01-001: write one key of A, B, C "
          "(A, Ａ, (A), A. are read alike)",
          "row 3, column answer: 'maybe' is not true/false: write 对 or 错 (正确/错误, √/×, ✓/✗, T/F also read)"]),
        ("student_id,question_id,answer\nzhang,ch01-004,基础\n",
         ["row 2, column answer: '基础' has 1 blank(s); ch01-004 has 2: separate them with | (｜ also read)"]),
        ("student_id,question_id,answer\nzhang,ch01-001,A\nzhang,ch01-001,B\n",
         ["row 3: answers ch01-001 for zhang again (first on row 2): keep one row"]),
        ("student_id,question_id,answer\n../x,ch01-001,A\n",
         ["row 2, column student_id: student id '../x' is empty or has / \\ * + or spaces: fix the id"]),
        ("student_id,question_id,answer\nzhang,ch01-001\n",
         ["row 2: has 2 column(s), expected 3 (student_id,question_id,answer)"]),
        ("learner,question,answer\n", ["row 1: the header must be student_id,question_id,answer"]),
        ("student_id,question_id,answer\nzhang,ch01-005,\"B,B,B\"\n",
         ["row 2, column answer: 'B,B,B' is not an order of the items of ch01-005: write each of A, B, C once, "
          "such as C,B,A (B、A、C, B;A;C, B A C, BAC are read alike)"]),
        ("student_id,question_id,answer\nzhang,ch01-005,\"B,A\"\n",
         ["row 2, column answer: 'B,A' is not an order of the items of ch01-005: write each of A, B, C once, "
          "such as C,B,A (B、A、C, B;A;C, B A C, BAC are read alike)"]),
        ("student_id,question_id,answer\nzhang,ch01-002,\"A,E\"\n",
         ["row 2, column answer: 'A,E' is not a choice of options of ch01-002: write keys of A, B, C, D such as A,C "
          "(A、C, A;C, A C, AC are read alike)"]),
        ("student_id,question_id,answer\nzhang,ch01-002,\n",
         ["row 2, column answer: '' is not a choice of options of ch01-002: write keys of A, B, C, D such as A,C "
          "(A、C, A;C, A C, AC are read alike)"]),
        ("student_id,question_id,answer\nzhang,ch01-006,1-B\n",
         ["row 2, column answer: '1-B' must be prompt=key pairs like 1=B,2=A, each prompt once: prompts 1, 2, "
          "keys A, B, C (＝, ，, 、 also read)"]),
        ("student_id,question_id,answer\nzhang,ch01-006,\"1=B,1=A\"\n",
         ["row 2, column answer: '1=B,1=A' must be prompt=key pairs like 1=B,2=A, each prompt once: prompts 1, 2, "
          "keys A, B, C (＝, ，, 、 also read)"]),
        ("student_id,question_id,answer\nzhang,ch01-006,1=B\n",
         []),
    ],
    ids=["unknown-question", "bad-option-and-bad-truefalse", "blank-count", "duplicate-row", "unsafe-student-id",
         "short-row", "bad-header", "ordering-repeats-an-item", "ordering-misses-an-item", "multiple-unknown-key",
         "multiple-empty", "matching-without-equals", "matching-prompt-twice", "partial-matching-is-fine"],
)
def test_bad_rows_are_named_by_row_column_and_fix(tmp_path: Path, rows: str, problems: list[str]) -> None:
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


# The accepted forms: (question, text on paper, value the widget would have saved).
ACCEPTED = [
    ("ch01-001", "A", "A"), ("ch01-001", "a", "A"), ("ch01-001", " B ", "B"), ("ch01-001", "Ａ", "A"),
    ("ch01-001", "ｃ", "C"), ("ch01-001", "(C)", "C"), ("ch01-001", "（C）", "C"), ("ch01-001", "（ C ）", "C"),
    ("ch01-001", "[B]", "B"), ("ch01-001", "C.", "C"), ("ch01-001", "C．", "C"), ("ch01-001", "C、", "C"),
    ("ch01-002", "A,B,D", ["A", "B", "D"]), ("ch01-002", "A，B，D", ["A", "B", "D"]),
    ("ch01-002", "A、B、C", ["A", "B", "C"]), ("ch01-002", "ABC", ["A", "B", "C"]),
    ("ch01-002", "abd", ["A", "B", "D"]),
    ("ch01-002", "A B C", ["A", "B", "C"]), ("ch01-002", "A；B；C", ["A", "B", "C"]), ("ch01-002", "A;C", ["A", "C"]),
    ("ch01-002", "D,A", ["A", "D"]), ("ch01-002", "Ａ，Ｃ", ["A", "C"]), ("ch01-002", "(A)(C)", None),
    ("ch01-002", "A.,C.", ["A", "C"]), ("ch01-002", "A, C", ["A", "C"]), ("ch01-002", "A,A,C", ["A", "C"]),
    ("ch01-002", "ＡＢＣ", ["A", "B", "C"]),
    ("ch01-003", "对", True), ("ch01-003", "错", False), ("ch01-003", "正确", True), ("ch01-003", "错误", False),
    ("ch01-003", "√", True), ("ch01-003", "×", False), ("ch01-003", "✓", True), ("ch01-003", "✗", False),
    ("ch01-003", "✔", True), ("ch01-003", "✘", False), ("ch01-003", "T", True), ("ch01-003", "Ｔ", True),
    ("ch01-003", "t", True), ("ch01-003", "F", False), ("ch01-003", "Ｆ", False), ("ch01-003", "X", False),
    ("ch01-003", "x", False), ("ch01-003", "true", True), ("ch01-003", "FALSE", False), ("ch01-003", "是", True),
    ("ch01-003", "否", False), ("ch01-003", "Y", True), ("ch01-003", "N", False),
    ("ch01-004", "基础电信业务|增值电信业务", ["基础电信业务", "增值电信业务"]),
    ("ch01-004", "基础电信业务｜增值电信业务", ["基础电信业务", "增值电信业务"]),
    ("ch01-004", " 基础电信业务 | 增值电信业务 ", ["基础电信业务", "增值电信业务"]),
    ("ch01-004", "|增值电信业务", ["", "增值电信业务"]),
    ("ch01-005", "B,A,C", ["B", "A", "C"]), ("ch01-005", "B、A、C", ["B", "A", "C"]),
    ("ch01-005", "BAC", ["B", "A", "C"]),
    ("ch01-005", "b a c", ["B", "A", "C"]), ("ch01-005", "B；A；C", ["B", "A", "C"]),
    ("ch01-005", "Ｂ，Ａ，Ｃ", ["B", "A", "C"]), ("ch01-005", "C,B,A", ["C", "B", "A"]),
    ("ch01-006", "1=B,2=A", {"1": "B", "2": "A"}), ("ch01-006", "１＝Ｂ，２＝Ａ", {"1": "B", "2": "A"}),
    ("ch01-006", "1=b、2=a", {"1": "B", "2": "A"}), ("ch01-006", "1 = B ; 2 = A", {"1": "B", "2": "A"}),
    ("ch01-006", "2=(A)", {"2": "A"}), ("ch01-006", "1=B；2=C", {"1": "B", "2": "C"}),
    ("ch01-007", "先倾听，再提方案。", "先倾听，再提方案。"),
]


@pytest.mark.parametrize(("qid", "text", "value"), ACCEPTED,
                         ids=[f"{qid[-3:]}-{text.strip() or 'blank'}" for qid, text, _ in ACCEPTED])
def test_paper_forms_become_what_the_widget_saves(qid: str, text: str, value: object) -> None:
    question = load_course(MINI).by_id[qid]
    if value is None:
        with pytest.raises(ValueError, match="is not a choice of options"):
            parse_answer(question, text)
        return
    assert parse_answer(question, text) == value


def test_every_parsed_answer_passes_the_shared_shape_rule() -> None:
    """Does each accepted paper form give a value the grader's check_shape accepts (full points for the key)?"""
    course = load_course(MINI)
    for qid, text, value in ACCEPTED:
        if value is None:
            continue
        q = course.by_id[qid]
        width = len(q.blanks) if isinstance(q, m.FillBlank) else None
        assert check_shape(q.type, parse_answer(q, text), width) is None, (qid, text)


def test_a_bad_row_writes_no_submission_at_all(tmp_path: Path) -> None:
    cd = make_course_dir(tmp_path / "course")
    csv = tmp_path / "answers.csv"
    csv.write_text(GOOD + "paper03,ch01-001,Z\n", encoding="utf-8")
    with pytest.raises(InputFileError):
        import_answers(cd.root, cd.course, csv)
    assert not (cd.root / "submitted").exists()
    assert not (cd.root / "exchange").exists()
