"""Read one submitted answers file without trusting it, and score it.

A submitted file may be missing, damaged, a link to another file, a FIFO or a
folder, huge, built to exhaust the parser (nested 100,000 deep, a number of
5,000 digits, millions of entries), hold duplicate keys, a peer's answers,
answers of another chapter or of unknown questions, or answers of the wrong
shape. Each case becomes a :class:`~course.errors.SubmissionError` (with its
reason in Chinese for the learner's feedback) or a problem that names the
file and the fix — never a silent zero and never an exception of Python's —
and the file is never followed, copied on or changed. The limits
(``MAX_*``) are checked before or while parsing, never after a parser gave up.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from course_runtime.answersfile import ANSWERS_FORMAT
from course_runtime.scoring import Scorer, check_shape, is_answered, scorer

from course import model as m
from course.errors import SubmissionError
from course.specs import key_spec, public_spec

MAX_BYTES = 1_000_000  # a full chapter of long case answers is ~100 kB
MAX_DEPTH = 8  # an answers file nests 3 deep: the file, its answers, one answer's list or pairs
MAX_DIGITS = 20  # answers hold no integers, and Python refuses to read one of over 4,300 digits
MAX_KEYS = 2_000  # entries of one object: a paper asks a few hundred questions at most
MAX_CHARS = 50_000  # characters of one text: a long case answer is a few thousand
RESUBMIT = "ask the learner to resubmit"
NOT_AN_ANSWERS_FILE = "这不是本系统保存的答案文件"


def answers_path(folder: Path, assignment: str) -> Path:
    return folder / f"{assignment}.answers.json"


def shown(value: Any, width: int = 40) -> str:
    """A learner-written value for a log line: quoted, control characters escaped, cut to ``width``."""
    text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def _read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None if it does not exist; links, folders, FIFOs and huge files are refused."""
    try:
        # O_NOFOLLOW: a link planted after the check cannot be followed (no check-then-open race).
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SubmissionError(path, f"is a symbolic link, not the learner's answers: {RESUBMIT}",
                                  "提交的是一个链接，不是答案文件") from None
        raise SubmissionError(path, f"cannot be read ({exc.strerror}): check its permissions",
                              "答案文件无法读取") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SubmissionError(path, f"is a folder, not an answers file: {RESUBMIT}", "提交的答案文件是一个文件夹")
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(path, f"is not a regular file: {RESUBMIT}", "提交的答案文件不是普通文件")
        if info.st_size > MAX_BYTES:
            raise SubmissionError(path, f"is {info.st_size:,} bytes, over the {MAX_BYTES:,}-byte limit: "
                                  f"not an answers file; it was not read or copied; {RESUBMIT}",
                                  "文件超过 1 MB 的大小上限")
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # the file object closes it now
            data = fh.read(MAX_BYTES + 1)
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > MAX_BYTES:  # grew while we looked
        raise SubmissionError(path, f"is over the {MAX_BYTES:,}-byte limit: {RESUBMIT}", "文件超过 1 MB 的大小上限")
    return data


class _Refused(Exception):
    """Raised inside json's hooks; becomes a SubmissionError naming the file."""

    def __init__(self, message: str, for_learner: str) -> None:
        super().__init__(message)
        self.for_learner = for_learner


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_OPENING = (b"[", b"{")


def nesting(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in the JSON text ``raw``, counted up to ``limit + 1``.

    Counted before parsing: json recurses once per level and a 100,000-deep list exhausts the stack.
    """
    depth = 0
    deepest = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub(b"", raw)):
        if bracket[0] in _OPENING:
            depth += 1
            if depth > limit:
                return depth
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise _Refused(f"holds a number of {digits:,} digits (answers hold no numbers; the limit is {MAX_DIGITS}): "
                       f"not an answers file; {RESUBMIT}",
                       f"文件中有一个长达 {digits:,} 位的数字，{NOT_AN_ANSWERS_FILE}")
    return int(text)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) > MAX_KEYS:
        raise _Refused(f"has an object of {len(pairs):,} entries (the limit is {MAX_KEYS:,}): not an answers file; "
                       f"{RESUBMIT}", f"文件中的条目过多（超过 {MAX_KEYS:,} 项），{NOT_AN_ANSWERS_FILE}")
    obj = dict(pairs)
    if len(obj) < len(pairs):
        twice = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        raise _Refused(f"names {shown(twice)} twice (a duplicate JSON key): the widgets never save this, so the "
                       f"file was altered; {RESUBMIT}", "同一项在文件中出现了两次，文件被改动过")
    return obj


def _longest_text(data: Any) -> int:
    """Characters of the longest string (key or value) in parsed JSON; iterative, the depth is already bounded."""
    longest, stack = 0, [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            longest = max(longest, len(value))
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return longest


def parse_answers(path: Path, raw: bytes) -> Any:
    """The JSON value of ``raw`` within this module's limits; every refusal names the file, the limit and the fix."""
    if nesting(raw) > MAX_DEPTH:
        raise SubmissionError(path, f"nests more than {MAX_DEPTH} levels deep (an answers file nests 3): "
                              f"not an answers file; {RESUBMIT}", f"文件结构嵌套过深，{NOT_AN_ANSWERS_FILE}")
    try:
        data = json.loads(raw.decode("utf-8"), parse_int=_integer, object_pairs_hook=_object)
    except UnicodeDecodeError:
        raise SubmissionError(path, f"is not UTF-8 text: the file is damaged; {RESUBMIT}", "文件已损坏") from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            path, f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}); "
            f"the file is damaged: {RESUBMIT}", "文件已损坏") from None
    except _Refused as exc:
        raise SubmissionError(path, str(exc), exc.for_learner) from None
    longest = _longest_text(data) if len(raw) > MAX_CHARS else 0  # a text is never longer than the file
    if longest > MAX_CHARS:
        raise SubmissionError(path, f"holds a text of {longest:,} characters (the limit is {MAX_CHARS:,}): "
                              f"not an answers file; {RESUBMIT}",
                              f"文件中有一段长达 {longest:,} 字的文字，超过 {MAX_CHARS:,} 字的上限")
    return data


def read_answers_file(path: Path, assignment: str, learner: str | None = None) -> dict[str, Any]:
    """The answers of one submission; {} when the learner saved none.

    ``learner``: the learner who submitted it; a file the widgets saved for someone else is refused. A file
    that names no learner is read: the field is the learner's to edit (whoever deletes it could as well
    rewrite it), so it catches a plain copy of a peer's file, not a forged one; the exchange's own checks
    (who submitted, hard links, times) are what bind a file to its learner. Refusing it would only refuse
    the files saved before the widgets wrote the field.
    """
    raw = _read_bytes(path)
    if raw is None:
        return {}
    data = parse_answers(path, raw)
    if not isinstance(data, dict) or data.get("format") != ANSWERS_FORMAT or not isinstance(data.get("answers"), dict):
        raise SubmissionError(path, f"is not a {ANSWERS_FORMAT} answers file: {RESUBMIT}", NOT_AN_ANSWERS_FILE)
    if data.get("notebook") != assignment:
        raise SubmissionError(path, f"holds answers of {shown(data.get('notebook'))}, not '{assignment}': "
                              "ask the learner to resubmit this assignment", "文件是其他章节或试卷的答案")
    if learner is not None and "learner" in data and data["learner"] != learner:
        raise SubmissionError(path, f"was saved by learner {shown(data['learner'])}, not by {learner}: a copy of "
                              f"another learner's answers is not graded; ask {learner} to answer in their own "
                              "notebook and resubmit", "文件是另一位学员保存的，不是你本人的作答")
    return data["answers"]


def digest(response: Any) -> str:
    """A short fingerprint of one response, to notice a changed answer after hand grading."""
    text = json.dumps(response, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Scored(NamedTuple):
    """Trusted result of one question for one learner (a tuple: a cohort makes half a million of them)."""

    question: str
    response: Any
    score: float | None  # None: waits for a manual grade
    problem: str | None = None

    @property
    def answered(self) -> bool:
        return self.problem is None and is_answered(self.response)


@dataclass(frozen=True)
class SubmissionScores:
    student: str
    assignment: str
    scored: dict[str, Scored] = field(default_factory=dict)
    error: str | None = None  # the whole answers file could not be read
    notes: tuple[str, ...] = ()  # problems of the file that did not stop its scoring
    notice: str = ""  # what the learner's feedback says about the file (Chinese); "" when it was fine

    @property
    def problems(self) -> list[str]:
        if self.error:
            return [self.error]
        return [*self.notes, *(r.problem for r in self.scored.values() if r.problem)]


Spec = tuple[dict[str, Any], int | None, Scorer]  # (key spec, answer width, its scorer)


def specs_of(questions: list[m.Question]) -> list[Spec]:
    """What scoring needs of each question, its matcher built; the same for every learner: a run builds it once."""
    out: list[Spec] = []
    for number, q in enumerate(questions, 1):
        key = key_spec(q)
        out.append((key, public_spec(q, number).get("width"), scorer(key)))
    return out


def score_answers(questions: list[m.Question], answers: dict[str, Any],
                  specs: list[Spec] | None = None) -> dict[str, Scored]:
    """Score each question from ``answers``; keys of other questions are ignored, never echoed."""
    out = {}
    for q, (_key, width, score) in zip(questions, specs or specs_of(questions), strict=True):
        response = answers.get(q.id)
        problem = check_shape(q.type, response, width)
        if problem:
            out[q.id] = Scored(q.id, None, 0.0, f"answer of {q.id} scored 0: {_cut(problem)}; the widgets never "
                               "save this, so the file was altered: ask the learner to answer again")
        elif isinstance(q, m.CaseAnalysis):
            out[q.id] = Scored(q.id, response, None if is_answered(response) else 0.0)
        else:
            out[q.id] = Scored(q.id, response, score.of_checked(response) if is_answered(response) else 0.0)
    return out


def _cut(text: str, width: int = 300) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def unreadable_notice(why: str) -> str:
    """The learner's feedback on a file that could not be read (Chinese, no file names)."""
    return f"答案文件无法识别：{why or '文件已损坏或被改动'}。本次提交按 0 分计，请联系讲师后重新提交。"


def score_submission(folder: Path, student: str, assignment: str, questions: list[m.Question],
                     specs: list[Spec] | None = None, known: Collection[str] | None = None) -> SubmissionScores:
    """Trusted scores of one submission; every problem names the learner, the assignment and the file.

    ``known``: the question ids of the whole assignment (default: ``questions``'); answers to any
    other id are ignored and named, never scored or echoed to the learner.
    """
    path = answers_path(folder, assignment)
    try:
        answers = read_answers_file(path, assignment, student)
    except SubmissionError as exc:
        message = f"learner {student}, {assignment}: {exc}"
        zero = {q.id: Scored(q.id, None, 0.0, message) for q in questions}
        return SubmissionScores(student, assignment, zero, message, notice=unreadable_notice(exc.for_learner))
    ids = set(known) if known is not None else {q.id for q in questions}
    unknown = sorted(set(answers) - ids)
    notes: tuple[str, ...] = ()
    notice = ""
    if unknown:
        listed = ", ".join(shown(qid) for qid in unknown[:3]) + (", …" if len(unknown) > 3 else "")
        notes = (f"learner {student}, {assignment}: {path}: holds answers to {len(unknown)} question id(s) "
                 f"{assignment} does not ask ({listed}): they were ignored and the others scored; "
                 "the widgets never save these, so the file was altered or belongs to another assignment",)
        notice = (f"答案文件无法识别的部分：有 {len(unknown)} 项作答不属于本次作业的题目，已忽略；"
                  "本次作业各题的作答照常评分。")
    scored = {}
    for qid, result in score_answers(questions, answers, specs).items():
        if result.problem:
            result = Scored(qid, None, 0.0, f"learner {student}, {assignment}: {path}: {result.problem}")
        scored[qid] = result
    return SubmissionScores(student, assignment, scored, notes=notes, notice=notice)
