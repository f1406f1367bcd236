"""Can any answers file stop a grading run, a feedback run or a report? (issue 20)

A real course goes through nbgrader's default exchange twice. In round one every learner
submits honest answers and is graded. In round two each hostile learner resubmits one
malformed answers file (nested 100,000 deep, a 5,000-digit number, a folder, duplicate
keys, a copy of a peer's file, another chapter's file, unknown question ids, too many
entries, an endless text) or tampers with the submission in the exchange (a hard link to
a peer's file, a rewritten timestamp). Each is a named problem with its fix for the
instructor and a reason in Chinese for the learner; everyone else is graded; feedback and
``course report`` complete.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from course_runtime.quiz import ANSWERS_FORMAT, write_answers
from nbgrader.api import Gradebook
from typer.testing import CliRunner

from course import learners, workflow
from course.cli import app
from course.errors import SubmissionError
from course.grading.answers import MAX_DEPTH, nesting, read_answers_file
from course.hub.exchange import REJECTED_LOG, Entry, submission_problem
from course.nbconfig import db_url
from tests.conftest import MINI, make_course_dir
from tests.test_pipeline import ALL_CORRECT, FULL, PARTIAL, PARTIAL_SCORES

CH = "ch01"
ZERO = {q: 0.0 for q in FULL}
HONEST = {"honest-1": ALL_CORRECT, "honest-2": PARTIAL}


def _raw(text: str | bytes) -> Callable[[Path, str], None]:
    def write(folder: Path, learner: str) -> None:
        path = folder / f"{CH}.answers.json"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return write


def _file(answers: dict[str, Any], *, notebook: str = CH, learner: str | None = None) -> Callable[[Path, str], None]:
    def write(folder: Path, who: str) -> None:
        write_answers(folder / f"{CH}.answers.json", notebook, learner or who, answers)
    return write


def _folder(folder: Path, learner: str) -> None:
    path = folder / f"{CH}.answers.json"
    path.unlink()
    path.mkdir()
    (path / "note.txt").write_text("一个文件夹", encoding="utf-8")


def _header(learner: str) -> str:
    return f'{{"format": "{ANSWERS_FORMAT}", "notebook": "{CH}", "learner": "{learner}", "answers": '


def _deep(folder: Path, learner: str) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    _raw(_header(learner) + f'{{"ch01-001": {nested}}}}}')(folder, learner)


def _huge_integer(folder: Path, learner: str) -> None:
    _raw(_header(learner) + f'{{"ch01-001": {"9" * 5000}}}}}')(folder, learner)


def _duplicate_keys(folder: Path, learner: str) -> None:
    _raw(_header(learner) + '{"ch01-001": "A", "ch01-003": false, "ch01-001": "B"}}')(folder, learner)


def _peer_copy(folder: Path, learner: str) -> None:
    (folder / f"{CH}.answers.json").write_bytes(
        (folder.parents[1] / "honest-1" / CH / f"{CH}.answers.json").read_bytes())


RESUBMIT = "ask the learner to resubmit"
NOT_OURS = "这不是本系统保存的答案文件"
# learner -> (how round two's file is made, the instructor's message after the file's path, the learner's reason)
MALFORMED: dict[str, tuple[Callable[[Path, str], None], str, str]] = {
    "deep-nesting": (_deep, f"nests more than {MAX_DEPTH} levels deep (an answers file nests 3): not an answers "
                     f"file; {RESUBMIT}", f"文件结构嵌套过深，{NOT_OURS}"),
    "huge-integer": (_huge_integer, "holds a number of 5,000 digits (answers hold no numbers; the limit is 20): "
                     f"not an answers file; {RESUBMIT}", f"文件中有一个长达 5,000 位的数字，{NOT_OURS}"),
    "directory": (_folder, f"is a folder, not an answers file: {RESUBMIT}", "提交的答案文件是一个文件夹"),
    "duplicate-keys": (_duplicate_keys, "names 'ch01-001' twice (a duplicate JSON key): the widgets never save "
                       f"this, so the file was altered; {RESUBMIT}", "同一项在文件中出现了两次，文件被改动过"),
    "foreign-learner": (_peer_copy, "was saved by learner 'honest-1', not by foreign-learner: a copy of another "
                        "learner's answers is not graded; ask foreign-learner to answer in their own notebook and "
                        "resubmit", "文件是另一位学员保存的，不是你本人的作答"),
    "foreign-chapter": (_file(ALL_CORRECT, notebook="ch02"), "holds answers of 'ch02', not 'ch01': ask the learner "
                        "to resubmit this assignment", "文件是其他章节或试卷的答案"),
    "too-many-keys": (_file({f"ch01-{i:04d}": "A" for i in range(2001)}), "has an object of 2,001 entries (the "
                      f"limit is 2,000): not an answers file; {RESUBMIT}",
                      f"文件中的条目过多（超过 2,000 项），{NOT_OURS}"),
    "endless-text": (_file({"ch01-007": "长" * 50_001}), "holds a text of 50,001 characters (the limit is 50,000): "
                     f"not an answers file; {RESUBMIT}", "文件中有一段长达 50,001 字的文字，超过 50,000 字的上限"),
}
UNKNOWN_IDS = {"zz01-001": "A", "zz09-002": ["B", "C"]}  # answers of questions this chapter does not ask


def _newest_inbound(root: Path, learner: str) -> Path:
    return max((root / "exchange" / "kam-cert" / "inbound").glob(f"{learner}+{CH}+*"), key=lambda p: p.name)


def _hard_link_to_peer(root: Path, learner: str) -> Path:
    folder = _newest_inbound(root, learner)
    (folder / f"{CH}.answers.json").unlink()
    os.link(root / "homes" / "honest-1" / CH / f"{CH}.answers.json", folder / f"{CH}.answers.json")
    return folder


def _earlier_timestamp(root: Path, learner: str) -> Path:
    folder = _newest_inbound(root, learner)
    (folder / "timestamp.txt").write_text("2026-01-01 08:00:00.000000 UTC", encoding="utf-8")
    return folder


TAMPERED: dict[str, Callable[[Path, str], Path]] = {"hard-link": _hard_link_to_peer,
                                                    "forged-timestamp": _earlier_timestamp}


def _submit(root: Path, learner: str, make: Callable[[Path, str], None]) -> None:
    home = root / "homes" / learner
    folder = learners.fetch(root, CH, learner, home)
    make(folder, learner)
    time.sleep(0.01)  # a new submission time for round two
    learners.submit(root, CH, learner, home)


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cd = make_course_dir(tmp_path_factory.mktemp("course"))
    root = cd.root
    workflow.generate(root, [CH])
    workflow.release(root, [CH])
    everyone = [*HONEST, *MALFORMED, "unknown-ids", *TAMPERED]
    for learner in everyone:  # round one: honest answers, graded
        _submit(root, learner, _file(HONEST.get(learner, ALL_CORRECT)))
    workflow.collect(root, [CH])
    first = workflow.autograde(root, cd.course, [CH], workers=2, progress=False)
    assert (len(first.graded), first.failed, first.problems) == (len(everyone), {}, [])
    for learner, (make, _, _) in MALFORMED.items():  # round two
        _submit(root, learner, make)
    _submit(root, "unknown-ids", _file({**PARTIAL, **UNKNOWN_IDS}))
    tampered = {}
    for learner, tamper in TAMPERED.items():
        _submit(root, learner, _file(PARTIAL))
        tampered[learner] = tamper(root, learner)
    collected = CliRunner().invoke(app, ["collect", CH, "--root", str(root), "--content", str(MINI)])
    second = workflow.autograde(root, cd.course, [CH], workers=2, progress=False)
    feedback = CliRunner().invoke(app, ["feedback", CH, "--root", str(root), "--content", str(MINI)])
    return {"cd": cd, "collected": collected, "second": second, "feedback": feedback, "tampered": tampered}


def _scores(root: Path, learner: str) -> dict[str, float | None]:
    with Gradebook(db_url(root), course_id="kam-cert") as gb:
        nb = gb.find_submission_notebook(CH, CH, learner)
        return {g.name: g.score if g.auto_score is not None or g.manual_score is not None else None
                for g in nb.grades if g.name != "setup"}


def test_everyone_is_graded_and_nothing_fails(rounds: dict[str, Any]) -> None:
    """Does round two grade every learner whose submission was collected, with no failure?"""
    second = rounds["second"]
    assert second.failed == {}
    assert sorted(learner for learner, _ in second.graded) == sorted([*HONEST, *MALFORMED, "unknown-ids", *TAMPERED])
    root = rounds["cd"].root
    assert _scores(root, "honest-1") == FULL and _scores(root, "honest-2") == PARTIAL_SCORES


@pytest.mark.parametrize("learner", sorted(MALFORMED))
def test_each_malformed_file_is_a_named_problem_and_scores_zero(rounds: dict[str, Any], learner: str) -> None:
    """Is the file named with what is wrong and the fix, the submission graded 0, and the learner told why?"""
    root = rounds["cd"].root
    _, message, reason = MALFORMED[learner]
    path = root / "submitted" / learner / CH / f"{CH}.answers.json"
    assert rounds["second"].problems.count(f"learner {learner}, {CH}: {path}: {message}") == 1
    assert _scores(root, learner) == ZERO  # graded again from the resubmission: the old grade is not kept
    page = (root / "feedback" / learner / CH / f"{CH}.html").read_text(encoding="utf-8")
    assert f"答案文件无法识别：{reason}。本次提交按 0 分计，请联系讲师后重新提交。" in page
    assert str(path) not in page and "learner" not in page  # no file names or English for the learner


def test_unknown_question_ids_are_named_ignored_and_the_rest_scored(rounds: dict[str, Any]) -> None:
    root = rounds["cd"].root
    path = root / "submitted" / "unknown-ids" / CH / f"{CH}.answers.json"
    assert (f"learner unknown-ids, {CH}: {path}: holds answers to 2 question id(s) {CH} does not ask ('zz01-001', "
            "'zz09-002'): they were ignored and the others scored; the widgets never save these, so the file was "
            "altered or belongs to another assignment") in rounds["second"].problems
    assert _scores(root, "unknown-ids") == PARTIAL_SCORES
    page = (root / "feedback" / "unknown-ids" / CH / f"{CH}.html").read_text(encoding="utf-8")
    assert "答案文件无法识别的部分：有 2 项作答不属于本次作业的题目，已忽略；本次作业各题的作答照常评分。" in page
    assert "zz01-001" not in page


@pytest.mark.parametrize(("learner", "reason"), [
    ("hard-link", "{folder}/ch01.answers.json is a hard link to another file (2 names)"),
    ("forged-timestamp", "timestamp.txt does not hold the time in its name ({stamp})"),
])
def test_a_tampered_submission_is_refused_at_collect_and_the_earlier_one_kept(
        rounds: dict[str, Any], learner: str, reason: str) -> None:
    """Does `course collect` refuse it with its reason, and the learner keep the grade of the last valid one?"""
    root = rounds["cd"].root
    folder = rounds["tampered"][learner]
    stamp = folder.name.split("+")[2]
    message = (f"Rejected submission {folder}: {reason.format(folder=folder, stamp=stamp)}. It was not collected; "
               "the learner's latest valid submission is used if there is one. Ask the learner to submit again "
               "from the Assignments tab.")
    assert rounds["collected"].exit_code == 0, rounds["collected"].output
    logged = (root / REJECTED_LOG).read_text(encoding="utf-8").splitlines()
    assert [line.split("\t", 1)[1] for line in logged if learner in line] == [message]
    assert _scores(root, learner) == FULL  # round one's answers: the tampered copy was never collected


def test_feedback_completes_for_everyone(rounds: dict[str, Any]) -> None:
    result = rounds["feedback"]
    assert result.exit_code == 0, result.output
    count = len(HONEST) + len(MALFORMED) + 1 + len(TAMPERED)
    assert f"feedback released to {count} learner(s) in 1 chapter(s).\n" in result.output


def test_course_report_completes_and_counts_what_it_could_not_read(rounds: dict[str, Any]) -> None:
    """Does `course report` render every page, leaving out and naming the files it cannot read?"""
    root = rounds["cd"].root
    result = CliRunner().invoke(app, ["report", "--root", str(root), "--content", str(MINI)])
    assert result.exit_code == 0, result.output
    skipped = sorted(MALFORMED)
    assert (f"Warning: {len(skipped)} answers file(s) could not be read and are left out of the distractor analysis "
            f"({'; '.join(f'{s}/{CH}' for s in skipped[:5])}; …): `course autograde` names the problem and the fix "
            "of each.") in result.output
    assert result.output.count("wrote ") == 5


# ---------------------------------------------------------------- the reader's limits, one by one
@pytest.mark.parametrize(("raw", "depth"), [
    (b'{"a": [1, [2, {"b": []}]]}', 5), (b'{"a": "[[[[[[[[[[[[[[[[[["}', 1), (b'"\\\\"', 0),
    (b'{"a": "\\"[[[[[[[[[[[[[[["}', 1), (b"[" * 100_000, MAX_DEPTH + 1),
])
def test_nesting_is_counted_outside_strings_and_stops_past_the_limit(raw: bytes, depth: int) -> None:
    assert nesting(raw) == depth


def test_a_missing_file_is_no_answers_and_a_fifo_is_refused(tmp_path: Path) -> None:
    assert read_answers_file(tmp_path / "ch01.answers.json", CH, "li") == {}
    os.mkfifo(tmp_path / "ch01.answers.json")
    with pytest.raises(SubmissionError) as err:
        read_answers_file(tmp_path / "ch01.answers.json", CH, "li")
    assert str(err.value) == f"{tmp_path / 'ch01.answers.json'}: is not a regular file: {RESUBMIT}"
    assert err.value.for_learner == "提交的答案文件不是普通文件"


@pytest.mark.parametrize(("text", "message", "reason"), [
    (b"\xff\xfe", f"is not UTF-8 text: the file is damaged; {RESUBMIT}", "文件已损坏"),
    (b'["not", "an", "object"]', f"is not a kam-answers/1 answers file: {RESUBMIT}", NOT_OURS),
    (b'{"format": "kam-answers/1", "notebook": "ch01", "answers": {"\\u001b[2J": "A", "\\u001b[2J": "B"}}',
     f"names '\\x1b[2J' twice (a duplicate JSON key): the widgets never save this, so the file was altered; "
     f"{RESUBMIT}", "同一项在文件中出现了两次，文件被改动过"),
    (json.dumps({"format": ANSWERS_FORMAT, "notebook": CH, "learner": "x" * 100, "answers": {}}).encode(),
     "was saved by learner 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…, not by li: a copy of another learner's answers "
     "is not graded; ask li to answer in their own notebook and resubmit", "文件是另一位学员保存的，不是你本人的作答"),
])
def test_learner_text_in_a_message_is_quoted_escaped_and_cut(tmp_path: Path, text: bytes, message: str,
                                                            reason: str) -> None:
    """Does a message show learner-written values quoted, with control characters escaped, at most 40 wide?"""
    path = tmp_path / "ch01.answers.json"
    path.write_bytes(text)
    with pytest.raises(SubmissionError) as err:
        read_answers_file(path, CH, "li")
    assert (str(err.value), err.value.for_learner) == (f"{path}: {message}", reason)


def test_a_file_without_a_learner_field_is_read(tmp_path: Path) -> None:
    """Is a file that names no learner read (only a different learner is refused)? The field is the learner's to
    edit: it catches a plain copy, not a forged one (read_answers_file says why)."""
    path = tmp_path / "ch01.answers.json"
    path.write_text(json.dumps({"format": ANSWERS_FORMAT, "notebook": CH, "answers": {"ch01-001": "A"}}),
                    encoding="utf-8")
    assert read_answers_file(path, CH, "li") == {"ch01-001": "A"}


# ---------------------------------------------------------------- the exchange's verdicts without accounts
T = 1_800_000_000.0
NAME = "li+ch01+2027-01-15 08:00:00.000000 UTC+abc"
STAMP = "2027-01-15 08:00:00.000000 UTC"


@pytest.mark.parametrize(("entries", "stamp", "problem"), [
    ([Entry("f", "shared", T, False), Entry("f/a", "shared", T, False)], STAMP, None),
    ([Entry("f", "shared", T, False), Entry("f/a", "shared", T, False, 2)], STAMP,
     "f/a is a hard link to another file (2 names)"),
    ([Entry("f", "shared", T, False)], "2026-01-01 08:00:00.000000 UTC",
     f"timestamp.txt does not hold the time in its name ({STAMP})"),
    ([Entry("f", "shared", T, False), Entry("f/timestamp.txt", "shared", T + 5, False)], STAMP,
     "f/timestamp.txt was changed after it was submitted"),
])
def test_default_exchange_verdicts_skip_only_the_account_checks(entries: list[Entry], stamp: str,
                                                                problem: str | None) -> None:
    """Without a hub (one account for all), are hard links and rewritten times still refused, by name?"""
    assert submission_problem(NAME, entries, stamp, by_account=False) == problem
    assert submission_problem(NAME, entries, stamp) == "it claims to be from li but was written by shared"
