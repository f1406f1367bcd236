"""``course import-answers``: answers given elsewhere (paper, another system) -> nbgrader submissions.

The CSV has a header row and three columns::

    student_id,question_id,answer
    zhang.san,jc01-003,B

The answer's text form by question type:

=========== ================================ ==========================================
type        text form                        also read
=========== ================================ ==========================================
single      the option key ``B``             ``b``, ``Ｂ``, ``(B)``, ``（B）``, ``B.``, ``B、``
multiple    keys separated by commas ``A,C`` ``A，C``, ``A、C``, ``A;C``, ``A；C``, ``A C``,
                                             ``AC`` (one-letter keys), each key as above
truefalse   ``对`` / ``错``                   正确/错误, √/×, ✓/✗, ✔/✘, T/F (Ｔ), X for 错,
                                             true/false, 是/否, Y/N
blank       blanks separated by ``|``        ``｜``; each blank's text is kept as written
            ``基础电信业务|增值电信业务``
ordering    every item once, in order        as for multiple: ``B、A、C``, ``BAC``;
            ``B,A,C``                        not ``B,B,A`` (each item exactly once)
matching    prompt=key pairs ``1=B,2=A``     ``１＝Ｂ，２＝Ａ``, ``1=B、2=A``, ``1=B;2=A``
case        the text                         —
=========== ================================ ==========================================

Full-width letters, digits and signs are read as half-width (NFKC). A text that
is still unreadable is reported as ``row N, column answer: ...`` with the
accepted forms.

Every row is checked before anything is written; one bad row stops the
import with its row number, and no submission is created. Valid rows go
through nbgrader's own exchange (fetch, submit) and ``collect``, so imported
learners are graded exactly like online ones.

With a paper (``--paper L4-2026a``, a paper sat on paper), each row's question
must be on that learner's variant of the paper; the answers become the
learner's submission of their variant (``submitted/<learner>/<paper>-<learner>/``,
written directly: papers are never in the exchange), graded by ``course autograde``.
A learner who already has a submission of their variant, or who started a sitting of the
paper, is refused (with their names) unless the instructor asks to replace it.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from course_runtime.scoring import check_shape

from course import learners, workflow
from course import model as m
from course.certification.manifest import manifest_path, read_manifest
from course.errors import InputFileError, WorkflowError
from course.instructor.submissions import write_submission
from course.loader import Course

COLUMNS = ("student_id", "question_id", "answer")
_TRUE = {"对", "正确", "t", "true", "√", "✓", "✔", "是", "y"}
_FALSE = {"错", "错误", "f", "false", "×", "✗", "✘", "x", "否", "n"}
_SEPARATORS = re.compile(r"[,;、\s]+")  # after NFKC: ， → ,  ；→ ;
_WRAPPED = re.compile(r"[(\[]\s*(.*?)\s*[)\]]|(.*?)\s*[.、]")


def _flat(text: str) -> str:
    """Full-width forms to half-width (Ａ → A, ， → ,, ｜ → |, ＝ → =), outer spaces dropped."""
    return unicodedata.normalize("NFKC", text).strip()


def option_key(text: str) -> str:
    """One option key as written on paper: A, a, Ａ, (A), （A）, [A], A., A、 → A."""
    text = _flat(text)
    m = _WRAPPED.fullmatch(text)
    if m:
        text = m[1] if m[1] is not None else m[2]
    return text.upper()


def option_keys(text: str, allowed: Iterable[str]) -> list[str]:
    """Keys in the order written: A,C  A、C  A;C  A C  AC (when every key is one letter)."""
    allowed = set(allowed)
    keys = [option_key(part) for part in _SEPARATORS.split(_flat(text)) if part]
    if len(keys) == 1 and keys[0] not in allowed and all(len(k) == 1 for k in allowed):
        keys = list(keys[0])
    return keys


def truth(text: str) -> bool | None:
    """对/错, 正确/错误, √/×, ✓/✗, T/F, true/false, 是/否, Y/N (X for false) → bool; None if none of these."""
    low = _flat(text).casefold()
    return True if low in _TRUE else False if low in _FALSE else None


def parse_answer(q: m.Question, text: str) -> Any:
    """Turn the CSV text form into the value the widget would save; ValueError says why not and the fix."""
    value = _parse(q, text.strip())
    problem = check_shape(q.type, value, len(q.blanks) if isinstance(q, m.FillBlank) else None)
    if problem:  # the one shape rule the widgets and the grader use
        raise ValueError(f"'{text.strip()}' gives {problem}")
    return value


def _parse(q: m.Question, text: str) -> Any:
    if isinstance(q, m.SingleChoice):
        key = option_key(text)
        if key not in q.options:
            raise ValueError(f"'{text}' is not an option of {q.id}: write one key of {', '.join(q.options)} "
                             "(A, Ａ, (A), A. are read alike)")
        return key
    if isinstance(q, m.MultipleChoice):
        keys = option_keys(text, q.options)
        if not keys or any(k not in q.options for k in keys):
            raise ValueError(f"'{text}' is not a choice of options of {q.id}: write keys of {', '.join(q.options)} "
                             "such as A,C (A、C, A;C, A C, AC are read alike)")
        return sorted(set(keys))
    if isinstance(q, m.Ordering):
        keys = option_keys(text, q.items)
        if sorted(keys) != sorted(q.items):
            raise ValueError(f"'{text}' is not an order of the items of {q.id}: write each of "
                             f"{', '.join(q.items)} once, such as {','.join(reversed(q.items))} "
                             "(B、A、C, B;A;C, B A C, BAC are read alike)")
        return keys
    if isinstance(q, m.TrueFalse):
        value = truth(text)
        if value is None:
            raise ValueError(f"'{text}' is not true/false: write 对 or 错 (正确/错误, √/×, ✓/✗, T/F also read)")
        return value
    if isinstance(q, m.FillBlank):
        parts = [p.strip() for p in text.replace("｜", "|").split("|")]
        if len(parts) != len(q.blanks):
            raise ValueError(f"'{text}' has {len(parts)} blank(s); {q.id} has {len(q.blanks)}: "
                             "separate them with | (｜ also read)")
        return parts
    if isinstance(q, m.Matching):
        return _pairs(q, text)
    return text


def _pairs(q: m.Matching, text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in re.split(r"[,;、]+", _flat(text)):
        prompt, sep, key = (part.strip() for part in item.partition("="))
        key = option_key(key)
        if not sep or prompt not in q.prompts or key not in q.options or prompt in pairs:
            raise ValueError(f"'{text}' must be prompt=key pairs like 1=B,2=A, each prompt once: prompts "
                             f"{', '.join(q.prompts)}, keys {', '.join(q.options)} (＝, ，, 、 also read)")
        pairs[prompt] = key
    return pairs


def read_csv(path: Path, course: Course,
             variants: dict[str, dict[str, Any]] | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    """Answers grouped by (student, chapter), or by (student, variant) given a paper's ``variants``.

    InputFileError lists every bad row.
    """
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
            problems.append(f"row {number}, column student_id: student id '{student}' is empty or has / \\ * + "
                            "or spaces: fix the id")
            continue
        question = course.by_id.get(qid)
        if question is None:
            problems.append(f"row {number}, column question_id: question '{qid}' does not exist: "
                            "use an id from the question bank")
            continue
        if (student, qid) in seen:
            problems.append(f"row {number}: answers {qid} for {student} again (first on row {seen[student, qid]}): "
                            "keep one row")
            continue
        seen[student, qid] = number
        group = question.chapter
        if variants is not None:
            variant = variants.get(student)
            if variant is None:
                problems.append(f"row {number}, column student_id: learner '{student}' has no variant of this paper: "
                                "check the id, or create their variant with `course paper create`")
                continue
            if qid not in variant["theory"] and qid not in variant["skills"]:
                problems.append(f"row {number}, column question_id: {qid} is not on {student}'s paper "
                                f"({variant['assignment']}): use a question id of that variant")
                continue
            group = variant["assignment"]
        try:
            grouped[student, group][qid] = parse_answer(question, text)
        except ValueError as exc:
            problems.append(f"row {number}, column answer: {exc}")
    if problems:
        raise InputFileError(path, problems)
    return dict(grouped)


def import_paper_answers(root: Path, course: Course, path: Path, paper: str, submitted_at: dt.datetime,
                         sat_online: Collection[str] = (), replace: bool = False) -> list[tuple[str, str]]:
    """Create one submission per learner of ``paper`` in the CSV (their variant); return (learner, variant).

    A learner who already has a submission of their variant, or who started a sitting of the paper
    (``sat_online``: their answers are the sittings service's), is refused unless ``replace``.
    """
    manifest = manifest_path(root, paper)
    if not manifest.is_file():
        known = ", ".join(sorted(p.stem for p in (root / "papers").glob("*.json"))) or "none"
        raise WorkflowError(f"no paper {paper!r} in {root / 'papers'} (papers: {known}): create it with "
                            "`course paper create`")
    grouped = read_csv(path, course, read_manifest(manifest)["variants"])
    if not replace:
        online = sorted(s for s, _ in grouped if s in sat_online)
        existing = sorted(s for s, a in grouped if s not in sat_online and (root / "submitted" / s / a).is_dir())
        clashes = ([f"{', '.join(online)} sat paper {paper} in a sitting (their answers are the sittings "
                    "service's record)"] if online else []) + (
                   [f"{', '.join(existing)} already have a submission of paper {paper}"] if existing else [])
        if clashes:
            raise WorkflowError(f"{path}: {'; '.join(clashes)}: nothing imported; remove their rows, or give "
                                "--replace to put these answers in place of their submission")
    for (student, assignment), answers in sorted(grouped.items()):
        write_submission(root.resolve(), student, assignment, answers, submitted_at)
    return sorted(grouped)


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
