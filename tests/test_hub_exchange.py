"""Is the hub's nbgrader exchange closed?

Real OS accounts (``kamhub-x-*``, created and removed here; needs root, as CI runs) use
nbgrader's own exchange commands with the learner's hub configuration, exactly as the
Assignments tab does, then try each known hole (nbgrader #978, #1097, #1104, #1225) by hand.
Every attack asserts the exact error the learner gets.
"""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from course_runtime.exchange import impersonation_message

from course.hub.exchange import COPY_SECONDS, REJECTED_LOG, Entry, rejection_message, submission_problem
from tests.hubtools import HubCourse, hub_course, needs_root

needs_root()

LI, WANG = "kamhub-x-li", "kamhub-x-wang"
ANSWERS = {LI: {"ch01-001": "A", "ch01-003": False}, WANG: {"ch01-001": "B", "ch01-003": True}}


def denied(path: Path | str, errno: int = 13) -> str:
    text = "Permission denied" if errno == 13 else "Operation not permitted"
    return f"PermissionError: [Errno {errno}] {text}: '{path}'"


def last_line(done: object) -> str:
    return str(getattr(done, "stderr", "")).strip().splitlines()[-1]


def answer_and_submit(hc: HubCourse, name: str) -> None:
    fetched = hc.nbgrader_as(name, "fetch_assignment", "ch01")
    assert fetched.returncode == 0 or "You already have a copy" in fetched.stderr, fetched.stderr
    code = ("from pathlib import Path; from course_runtime.quiz import write_answers; "
            f"write_answers(Path('ch01/ch01.answers.json'), 'ch01', {name!r}, {ANSWERS[name]!r})")
    assert hc.python_as(name, code).returncode == 0
    done = hc.nbgrader_as(name, "submit", "ch01")
    assert done.returncode == 0, done.stderr


def submission_of(hc: HubCourse, name: str) -> Path:
    """The newest submission folder written by ``name`` (root can list the inbound)."""
    return sorted(p for p in hc.inbound.glob(f"{name}+ch01+*") if p.owner() == name)[-1]


def collected_answers(hc: HubCourse, name: str) -> dict:
    path = hc.root / "submitted" / name / "ch01" / "ch01.answers.json"
    return json.loads(path.read_text(encoding="utf-8"))["answers"]


def rejected_lines(hc: HubCourse) -> list[str]:
    log = hc.root / REJECTED_LOG
    return [line.split("\t", 1)[1] for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


@pytest.fixture(scope="module")
def hc() -> Iterator[HubCourse]:
    with hub_course("x", ["li", "wang"], port=18100) as course:
        for name in (LI, WANG):
            answer_and_submit(course, name)
        yield course


def test_a_peer_cannot_list_the_submissions(hc: HubCourse) -> None:
    """#978: can wang see who submitted, or the folder names?"""
    done = hc.python_as(WANG, f"import os; os.listdir({str(hc.inbound)!r})")
    assert last_line(done) == denied(hc.inbound)


def test_a_peer_cannot_read_a_submission_even_knowing_its_name(hc: HubCourse) -> None:
    """#978: a leaked folder name is not enough to read li's answers."""
    target = submission_of(hc, LI) / "ch01.answers.json"
    done = hc.python_as(WANG, f"open({str(target)!r}).read()")
    assert last_line(done) == denied(target)


def test_a_peer_cannot_change_rename_or_delete_a_submission(hc: HubCourse) -> None:
    """#978: can wang write into li's submission, or move it out of the way?"""
    folder = submission_of(hc, LI)
    write = hc.python_as(WANG, f"open({str(folder / 'x.txt')!r}, 'w')")
    assert last_line(write) == denied(folder / "x.txt")
    moved = hc.python_as(WANG, f"import os; os.rename({str(folder)!r}, {str(folder) + '-gone'!r})")
    assert last_line(moved) == f"PermissionError: [Errno 1] Operation not permitted: '{folder}' -> '{folder}-gone'"
    assert folder.is_dir()


def test_a_learner_cannot_submit_as_someone_else(hc: HubCourse) -> None:
    """#1097: `nbgrader submit --student li` run by wang."""
    before = sorted(hc.inbound.iterdir())
    done = hc.nbgrader_as(WANG, "submit", "ch01", "--student", LI)
    assert done.returncode != 0
    assert impersonation_message(WANG, LI) in done.stderr
    assert impersonation_message(WANG, LI) == (
        f"不能以他人身份操作：你登录的账号是 {WANG}，不能使用 --student {LI}。请去掉 --student 后重试。")
    assert sorted(hc.inbound.iterdir()) == before


def test_a_folder_forged_in_another_learners_name_is_not_collected(hc: HubCourse) -> None:
    """#1097 by hand: wang writes a newer `li+ch01+<time>+x` folder straight into the inbound."""
    real = submission_of(hc, LI)
    stamp = real.name.split("+")[2].replace(real.name.split("+")[2][:4], "2099")
    forged = hc.inbound / f"{LI}+ch01+{stamp}+forged"
    code = (f"import os, shutil; shutil.copytree(os.path.expanduser('~/ch01'), {str(forged)!r}); "
            f"open({str(forged / 'timestamp.txt')!r}, 'w').write({stamp!r})")
    assert hc.python_as(WANG, code).returncode == 0
    hc.instructor("collect", "ch01")
    assert rejection_message(forged, f"it claims to be from {LI} but was written by {WANG}") in rejected_lines(hc)
    assert collected_answers(hc, LI) == ANSWERS[LI]
    shutil.rmtree(forged)


def test_a_submission_changed_after_submitting_is_not_collected(hc: HubCourse) -> None:
    """#1104: li edits her submitted answers and timestamp.txt in the inbound."""
    folder = submission_of(hc, LI)
    answers = folder / "ch01.answers.json"
    direct = hc.python_as(LI, f"open({str(answers)!r}, 'w')")
    assert last_line(direct) == denied(answers)          # submitted files are read-only ...
    code = (f"import os; os.chmod({str(answers)!r}, 0o644); "  # ... but li owns them
            f"open({str(answers)!r}, 'w').write('{{}}')")
    assert hc.python_as(LI, code).returncode == 0
    hc.instructor("collect", "ch01")
    assert rejection_message(folder, f"{answers} was changed after it was submitted") in rejected_lines(hc)



def test_a_backdated_submission_is_not_collected(hc: HubCourse) -> None:
    """#1104: li submits late, then edits timestamp.txt, then also renames the folder to the earlier time."""
    answer_and_submit(hc, LI)
    folder = submission_of(hc, LI)
    _, chapter, when, rand = folder.name.split("+")
    early = "2026-01-01 00:00:00.000000 UTC"
    stamp = folder / "timestamp.txt"
    code = f"import os; os.chmod({str(stamp)!r}, 0o644); open({str(stamp)!r}, 'w').write({early!r})"
    assert hc.python_as(LI, code).returncode == 0
    hc.instructor("collect", "ch01")
    assert rejection_message(folder, f"timestamp.txt does not hold the time in its name ({when})") in rejected_lines(hc)

    backdated = folder.with_name(f"{LI}+{chapter}+{early}+{rand}")
    assert hc.python_as(LI, f"import os; os.rename({str(folder)!r}, {str(backdated)!r})").returncode == 0
    hc.instructor("collect", "ch01")
    assert rejection_message(backdated, f"it was changed after it was submitted at {early}") in rejected_lines(hc)


def test_the_exchange_root_is_not_world_writable(hc: HubCourse) -> None:
    """#1225: nbgrader's release makes the exchange root 0777; the hub's stays root's 0755."""
    root = Path(hc.settings.exchange)
    assert stat.S_IMODE(root.stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "kam-cert").stat().st_mode) == 0o750
    for target in (root / "x.txt", root / "kam-cert" / "outbound" / "ch01" / "x.txt"):
        done = hc.python_as(WANG, f"open({str(target)!r}, 'w')")
        assert last_line(done) == denied(target)


def test_instructor_files_are_unreadable_to_learners(hc: HubCourse) -> None:
    """The gradebook, source/ (keys and hidden tests) and the content YAML."""
    for target in (hc.root / "gradebook" / "gradebook.db", hc.root / "source" / "ch01" / "ch01.ipynb",
                   Path(hc.settings.content) / "questions" / "ch01.yaml"):
        done = hc.python_as(WANG, f"open({str(target)!r}).read()")
        assert last_line(done) == denied(target)


def test_feedback_reaches_its_learner_only(hc: HubCourse) -> None:
    """#978 for feedback: li fetches her own; wang can neither list it nor fetch it as li."""
    hc.instructor("collect", "ch01")
    hc.instructor("autograde", "ch01", "-j", "1")
    hc.instructor("feedback", "ch01")
    own = hc.nbgrader_as(LI, "fetch_feedback", "ch01")
    assert own.returncode == 0, own.stderr
    home = Path(f"/home/{LI}")
    assert sorted(p.name for p in (home / "ch01" / "feedback").glob("*/ch01.html")) != []
    feedback = Path(hc.settings.exchange) / "kam-cert" / "feedback"
    listing = hc.python_as(WANG, f"import os; os.listdir({str(feedback)!r})")
    assert last_line(listing) == denied(feedback)
    as_li = hc.nbgrader_as(WANG, "fetch_feedback", "ch01", "--student", LI)
    assert impersonation_message(WANG, LI) in as_li.stderr
    cache = hc.python_as(WANG, f"import os; os.listdir({str(home)!r})")  # li's secrets live in her home
    assert last_line(cache) == denied(home)


# The verdict on a submission, from the kernel's facts (pure; every branch).
T = 1_800_000_000.0
NAME = "li+ch01+2027-01-15 08:00:00.000000 UTC+abc"


def entries(*changes: tuple[str, str, float], link: bool = False) -> list[Entry]:
    return [Entry(path, owner, ctime, link and i == len(changes) - 1) for i, (path, owner, ctime) in enumerate(changes)]


@pytest.mark.parametrize(("name", "facts", "stamp", "problem"), [
    (NAME, entries(("f", "li", T + 1), ("f/a", "li", T + 1)), "2027-01-15 08:00:00.000000 UTC", None),
    ("li+ch01", entries(("f", "li", T)), "", "its name 'li+ch01' is not <learner>+<chapter>+<time>[+<random>]"),
    ("li+ch01+yesterday+abc", entries(("f", "li", T)), "", "the time 'yesterday' in its name cannot be read"),
    (NAME, entries(("f", "wang", T)), "x", "it claims to be from li but was written by wang"),
    (NAME, entries(("f", "li", T), ("f/a", "wang", T)), "x", "f/a was written by wang, not by li"),
    (NAME, entries(("f", "li", T), ("f/a", "li", T), link=True), "x", "f/a is a symbolic link"),
    (NAME, entries(("f", "li", T)), "2000-01-01 00:00:00 UTC",
     "timestamp.txt does not hold the time in its name (2027-01-15 08:00:00.000000 UTC)"),
    (NAME, entries(("f", "li", T), ("f/a", "li", T + 5)), "2027-01-15 08:00:00.000000 UTC",
     "f/a was changed after it was submitted"),
    (NAME, entries(("f", "li", T + COPY_SECONDS + 1)), "2027-01-15 08:00:00.000000 UTC",
     "it was changed after it was submitted at 2027-01-15 08:00:00.000000 UTC"),
    (NAME, entries(("f", "li", T - COPY_SECONDS - 1)), "2027-01-15 08:00:00.000000 UTC",
     "the time in its name (2027-01-15 08:00:00.000000 UTC) is later than the submission was written"),
])
def test_submission_verdicts(name: str, facts: list[Entry], stamp: str, problem: str | None) -> None:
    """Which facts make a submission untrustworthy, and what does the instructor read?"""
    assert submission_problem(name, facts, stamp) == problem
