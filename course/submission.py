"""Read a learner's submitted answers file without trusting it.

Used by the grading side only. A submitted file may be missing, damaged,
a link to another file, huge, or hold answers of the wrong shape; each case
becomes a :class:`~course.errors.SubmissionError` or a per-question problem
that names the file and the fix — never a silent zero.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from course import model as m
from course.build import key_spec, public_spec
from course.errors import SubmissionError
from course.runtime import ANSWERS_FORMAT
from course.scoring import check_shape, is_answered, score

MAX_BYTES = 1_000_000


def answers_path(folder: Path, chapter: str) -> Path:
    return folder / f"{chapter}.answers.json"


def read_answers_file(path: Path, chapter: str) -> dict[str, Any]:
    """The answers of one submission; {} when the learner saved none."""
    if path.is_symlink():
        raise SubmissionError(path, "is a symbolic link, not the learner's answers: ask the learner to resubmit")
    if not path.exists():
        return {}
    if not path.is_file():
        raise SubmissionError(path, "is not a regular file: ask the learner to resubmit")
    if path.stat().st_size > MAX_BYTES:
        raise SubmissionError(
            path, f"is larger than {MAX_BYTES} bytes: not an answers file; ask the learner to resubmit")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError(path, "is not UTF-8 text: the file is damaged; ask the learner to resubmit") from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            path, f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}); "
            "the file is damaged: ask the learner to resubmit") from None
    if not isinstance(data, dict) or data.get("format") != ANSWERS_FORMAT or not isinstance(data.get("answers"), dict):
        raise SubmissionError(path, f"is not a {ANSWERS_FORMAT} answers file: ask the learner to resubmit")
    if data.get("notebook") != chapter:
        raise SubmissionError(path, f"holds answers of '{data.get('notebook')}', not '{chapter}': "
                              "ask the learner to resubmit this assignment")
    return data["answers"]


@dataclass(frozen=True)
class Scored:
    """Trusted result of one question for one learner."""

    question: str
    response: Any
    score: float | None  # None: needs manual grading
    problem: str | None = None


@dataclass(frozen=True)
class SubmissionScores:
    student: str
    chapter: str
    scored: dict[str, Scored] = field(default_factory=dict)
    error: str | None = None  # the whole answers file could not be read


def score_answers(questions: list[m.Question], answers: dict[str, Any]) -> dict[str, Scored]:
    out = {}
    for number, q in enumerate(questions, 1):
        response = answers.get(q.id)
        width = public_spec(q, number).get("width")
        problem = check_shape(q.type, response, width)
        if problem:
            out[q.id] = Scored(q.id, response, 0.0, f"answer of {q.id} scored 0: {problem}; the widgets never "
                               "save this, so the file was altered: ask the learner to answer again")
        elif isinstance(q, m.CaseAnalysis):
            out[q.id] = Scored(q.id, response, None if is_answered(response) else 0.0)
        else:
            out[q.id] = Scored(q.id, response, score(key_spec(q), response))
    return out


def score_submission(folder: Path, student: str, chapter: str, questions: list[m.Question]) -> SubmissionScores:
    """Trusted scores of one submission; every problem names the answers file."""
    path = answers_path(folder, chapter)
    try:
        answers = read_answers_file(path, chapter)
    except SubmissionError as exc:
        zero = {q.id: Scored(q.id, None, 0.0, str(exc)) for q in questions}
        return SubmissionScores(student, chapter, zero, str(exc))
    scored = {
        qid: replace(result, problem=f"{path}: {result.problem}") if result.problem else result
        for qid, result in score_answers(questions, answers).items()
    }
    return SubmissionScores(student, chapter, scored)
