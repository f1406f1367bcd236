"""Read one submitted answers file without trusting it, and score it.

A submitted file may be missing, damaged, a link to another file, a FIFO,
huge, hold answers of another chapter, or answers of the wrong shape. Each
case becomes a :class:`~course.errors.SubmissionError` or a per-question
problem that names the file and the fix — never a silent zero, and the file
is never followed, copied on or changed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_runtime.quiz import ANSWERS_FORMAT
from course_runtime.scoring import check_shape, is_answered, score

from course import model as m
from course.errors import SubmissionError
from course.specs import key_spec, public_spec

MAX_BYTES = 1_000_000  # a full chapter of long case answers is ~100 kB


def answers_path(folder: Path, assignment: str) -> Path:
    return folder / f"{assignment}.answers.json"


def _read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None if it does not exist; links, FIFOs and huge files are refused."""
    try:
        # O_NOFOLLOW: a link planted after the check cannot be followed (no check-then-open race).
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SubmissionError(path, "is a symbolic link, not the learner's answers: "
                                  "ask the learner to resubmit") from None
        raise SubmissionError(path, f"cannot be read ({exc.strerror}): check its permissions") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(path, "is not a regular file: ask the learner to resubmit")
        if info.st_size > MAX_BYTES:
            raise SubmissionError(path, f"is {info.st_size:,} bytes, over the {MAX_BYTES:,}-byte limit: "
                                  "not an answers file; it was not read or copied; ask the learner to resubmit")
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:  # grew while we looked
        raise SubmissionError(path, f"is over the {MAX_BYTES:,}-byte limit: ask the learner to resubmit")
    return data


def read_answers_file(path: Path, assignment: str) -> dict[str, Any]:
    """The answers of one submission; {} when the learner saved none."""
    raw = _read_bytes(path)
    if raw is None:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError(path, "is not UTF-8 text: the file is damaged; ask the learner to resubmit") from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            path, f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}); "
            "the file is damaged: ask the learner to resubmit") from None
    if not isinstance(data, dict) or data.get("format") != ANSWERS_FORMAT or not isinstance(data.get("answers"), dict):
        raise SubmissionError(path, f"is not a {ANSWERS_FORMAT} answers file: ask the learner to resubmit")
    if data.get("notebook") != assignment:
        raise SubmissionError(path, f"holds answers of '{data.get('notebook')}', not '{assignment}': "
                              "ask the learner to resubmit this assignment")
    return data["answers"]


def digest(response: Any) -> str:
    """A short fingerprint of one response, to notice a changed answer after hand grading."""
    text = json.dumps(response, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Scored:
    """Trusted result of one question for one learner."""

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

    @property
    def problems(self) -> list[str]:
        if self.error:
            return [self.error]
        return [r.problem for r in self.scored.values() if r.problem]


Spec = tuple[dict[str, Any], int | None]  # (key spec, answer width)


def specs_of(questions: list[m.Question]) -> list[Spec]:
    """What scoring needs of each question; the same for every learner, so a run builds it once."""
    return [(key_spec(q), public_spec(q, number).get("width")) for number, q in enumerate(questions, 1)]


def score_answers(questions: list[m.Question], answers: dict[str, Any],
                  specs: list[Spec] | None = None) -> dict[str, Scored]:
    """Score each question from ``answers``; keys of other questions are ignored, never echoed."""
    out = {}
    for q, (key, width) in zip(questions, specs or specs_of(questions), strict=True):
        response = answers.get(q.id)
        problem = check_shape(q.type, response, width)
        if problem:
            out[q.id] = Scored(q.id, None, 0.0, f"answer of {q.id} scored 0: {problem}; the widgets never "
                               "save this, so the file was altered: ask the learner to answer again")
        elif isinstance(q, m.CaseAnalysis):
            out[q.id] = Scored(q.id, response, None if is_answered(response) else 0.0)
        else:
            out[q.id] = Scored(q.id, response, score(key, response))
    return out


def score_submission(folder: Path, student: str, assignment: str, questions: list[m.Question],
                     specs: list[Spec] | None = None) -> SubmissionScores:
    """Trusted scores of one submission; every problem names the learner, the assignment and the file."""
    path = answers_path(folder, assignment)
    try:
        answers = read_answers_file(path, assignment)
    except SubmissionError as exc:
        message = f"learner {student}, {assignment}: {exc}"
        zero = {q.id: Scored(q.id, None, 0.0, message) for q in questions}
        return SubmissionScores(student, assignment, zero, message)
    scored = {}
    for qid, result in score_answers(questions, answers, specs).items():
        if result.problem:
            result = Scored(qid, None, 0.0, f"learner {student}, {assignment}: {path}: {result.problem}")
        scored[qid] = result
    return SubmissionScores(student, assignment, scored)
