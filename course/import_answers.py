"""``course import-answers``: answers given elsewhere (paper, another system) -> nbgrader submissions.

The CSV has a header row and three columns::

    student_id,question_id,answer
    zhang.san,jc01-003,B

The answer's text form by question type:

=========== ============================== =====================================
type        text form                      example
=========== ============================== =====================================
single      the option key                 ``B``
multiple    keys separated by commas       ``A,C``
truefalse   对/错, 正确/错误, T/F, true/false ``对``
blank       blanks separated by ``|``      ``基础电信业务|增值电信业务``
ordering    keys in order, comma-separated ``B,A,C``
matching    prompt=key pairs, comma-sep.   ``1=B,2=A``
case        the text                       ``先倾听……``
=========== ============================== =====================================

Every row is checked before anything is written; one bad row stops the
import with its row number, and no submission is created. Valid rows go
through nbgrader's own exchange (fetch, submit) and ``collect``, so imported
learners are graded exactly like online ones.
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from course import learners, workflow
from course import model as m
from course.errors import InputFileError
from course.loader import Course

COLUMNS = ("student_id", "question_id", "answer")
_TRUE = {"对", "正确", "t", "true", "√", "是", "y"}
_FALSE = {"错", "错误", "f", "false", "×", "否", "n"}


def _keys(text: str) -> list[str]:
    return [k.strip().upper() for k in text.replace("，", ",").split(",") if k.strip()]


def parse_answer(q: m.Question, text: str) -> Any:
    """Turn the CSV text form into the value the widget would save; ValueError says why not."""
    text = text.strip()
    if isinstance(q, m.SingleChoice):
        key = text.upper()
        if key not in q.options:
            raise ValueError(f"'{text}' is not an option of {q.id}: use one of {', '.join(q.options)}")
        return key
    if isinstance(q, m.MultipleChoice | m.Ordering):
        keys = _keys(text)
        allowed = q.options if isinstance(q, m.MultipleChoice) else q.items
        bad = [k for k in keys if k not in allowed]
        if bad or not keys:
            raise ValueError(f"'{text}' must be keys of {q.id} separated by commas, from {', '.join(allowed)}")
        if isinstance(q, m.Ordering) and len(keys) != len(q.items):
            raise ValueError(f"'{text}' must order all {len(q.items)} items of {q.id}")
        return sorted(set(keys)) if isinstance(q, m.MultipleChoice) else keys
    if isinstance(q, m.TrueFalse):
        low = text.casefold()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"'{text}' is not true/false: write 对 or 错")
    if isinstance(q, m.FillBlank):
        parts = [p.strip() for p in text.split("|")]
        if len(parts) != len(q.blanks):
            raise ValueError(f"'{text}' has {len(parts)} blank(s); {q.id} has {len(q.blanks)}: separate them with |")
        return parts
    if isinstance(q, m.Matching):
        pairs: dict[str, str] = {}
        for item in text.replace("，", ",").split(","):
            prompt, sep, key = item.partition("=")
            if not sep or prompt.strip() not in q.prompts or key.strip().upper() not in q.options:
                raise ValueError(f"'{text}' must be prompt=key pairs like 1=B, prompts {', '.join(q.prompts)}, "
                                 f"keys {', '.join(q.options)}")
            pairs[prompt.strip()] = key.strip().upper()
        return pairs
    return text


def read_csv(path: Path, course: Course) -> dict[tuple[str, str], dict[str, Any]]:
    """Answers grouped by (student, chapter); InputFileError lists every bad row."""
    problems: list[str] = []
    grouped: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError(path, [f"cannot be read as a UTF-8 CSV file ({exc}): save it as CSV UTF-8"]) from None
    if not rows or tuple(c.strip() for c in rows[0]) != COLUMNS:
        raise InputFileError(path, [f"row 1: the header must be {','.join(COLUMNS)}"])
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            problems.append(f"row {number}: has {len(row)} column(s), expected 3 ({','.join(COLUMNS)})")
            continue
        student, qid, text = (cell.strip() for cell in row)
        if not student or any(ch in student for ch in "/\\*+ ") or student.startswith("."):
            problems.append(f"row {number}: student id '{student}' is empty or has / \\ * + or spaces: fix the id")
            continue
        question = course.by_id.get(qid)
        if question is None:
            problems.append(f"row {number}: question '{qid}' does not exist: use an id from the question bank")
            continue
        if (student, qid) in seen:
            problems.append(f"row {number}: answers {qid} for {student} again (first on row {seen[student, qid]}): "
                            "keep one row")
            continue
        seen[student, qid] = number
        try:
            grouped[student, question.chapter][qid] = parse_answer(question, text)
        except ValueError as exc:
            problems.append(f"row {number}: {exc}")
    if problems:
        raise InputFileError(path, problems)
    return dict(grouped)


def import_answers(root: Path, course: Course, path: Path) -> list[tuple[str, str]]:
    """Create one nbgrader submission per (student, chapter) in the CSV; return them."""
    grouped = read_csv(path, course)
    root = root.resolve()
    with tempfile.TemporaryDirectory(prefix="import-answers-") as tmp:
        for (student, chapter), answers in sorted(grouped.items()):
            home = Path(tmp) / student
            folder = learners.fetch(root, chapter, student, home)
            learners.answer(folder, chapter, student, answers)
            learners.submit(root, chapter, student, home)
    workflow.collect(root, sorted({c for _, c in grouped}))
    return sorted(grouped)
