"""Grading reads answers files and never runs a kernel: is it exact, lossless and idempotent?

Real nbgrader on real notebooks: ``generate_assignment`` creates the gradebook,
submissions sit in ``submitted/`` exactly as ``nbgrader collect`` leaves them,
and the reference rows come from ``nbgrader autograde`` itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from course import workflow
from course.errors import WorkflowError
from course.grading import grader
from course.grading.notebook import score_of_cell
from course.loader import load_course
from tests.conftest import MINI
from tests.grading_helpers import dump, fresh_course, nbgrader, place_submission, shown, two_chapter_content, url
from tests.systemtools import postgres_reason, sandbox_reason, skip_unless_met
from tests.test_pipeline import ALL_CORRECT, ALL_WRONG, EXPECTED, PARTIAL

HONEST = {"all-correct": ALL_CORRECT, "all-wrong": ALL_WRONG, "partial": PARTIAL, "unanswered": {}}
ANSWERED_CASE = "ch01-007"


def _grade(cd, **kwargs):  # type: ignore[no-untyped-def]
    return workflow.autograde(cd.root, cd.course, ["ch01"], progress=False, **kwargs)


# ---------------------------------------------------------------- differential
@pytest.fixture(scope="module")
def three_routes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """The same honest submissions graded by nbgrader with a kernel, by plain nbgrader, and by `course autograde`."""
    out = {}
    for route in ("kernel", "nbgrader", "course"):
        cd = fresh_course(tmp_path_factory.mktemp(route) / "course")
        with Gradebook(url(cd), course_id="kam-cert") as gb:  # a due date, so late penalties are exercised
            gb.update_or_create_assignment("ch01", duedate=dt.datetime(2026, 11, 25))
        config = cd.root / "nbgrader_config.py"
        config.write_text(config.read_text() + "\nc.LateSubmissionPlugin.penalty_method = 'zero'\n")
        for student, answers in HONEST.items():
            late = "2026-11-26 08:00:00.000000 UTC" if student == "partial" else "2026-11-20 09:30:00.000000 UTC"
            place_submission(cd.root, student, "ch01", answers, timestamp=late)
        if route == "kernel":
            nbgrader(cd.root, "autograde", "ch01", execute=True)
        elif route == "nbgrader":
            nbgrader(cd.root, "autograde", "ch01")
        else:
            report = workflow.autograde(cd.root, load_course(cd.course.root), ["ch01"], progress=False)
            assert not report.failed
        out[route] = (cd.root, dump(url(cd)))
    return out


def _without_answered_case(rows: list[tuple]) -> list[tuple]:
    return [r for r in rows if not (r[3] == ANSWERED_CASE and r[1] == "all-correct")]


def test_kernel_nbgrader_and_course_autograde_write_the_same_rows(three_routes: dict) -> None:
    """Every grade, comment, submission and late-penalty row equal, but the one case a kernel cannot see."""
    kernel, plain, course = (three_routes[r][1] for r in ("kernel", "nbgrader", "course"))
    assert course == plain
    assert course["notebook"] == kernel["notebook"] and course["student"] == kernel["student"]
    assert _without_answered_case(course["grade"]) == _without_answered_case(kernel["grade"])
    assert _without_answered_case(course["comment"]) == _without_answered_case(kernel["comment"])
    # A case answer lives in the answers file: a kernel sees an unchanged cell ("No response.", 0 points);
    # the grader sees the answer and leaves it to a person.
    kernel_case = next(r for r in kernel["grade"] if r[1] == "all-correct" and r[3] == ANSWERED_CASE)
    course_case = next(r for r in course["grade"] if r[1] == "all-correct" and r[3] == ANSWERED_CASE)
    assert kernel_case[4:] == (0.0, None, None, False) and course_case[4:] == (None, None, None, True)


def test_the_rows_hold_the_expected_scores_and_the_late_penalty(three_routes: dict) -> None:
    rows = three_routes["course"][1]
    scores = {(r[1], r[3]): r[4] for r in rows["grade"] if r[3] != "setup"}
    for student in HONEST:
        expected = EXPECTED[student]
        assert {q: scores[(student, q)] for q in expected} == expected
    penalties = {r[1]: r[5] for r in rows["notebook"]}
    assert penalties == {"all-correct": None, "all-wrong": None, "partial": 7.0, "unanswered": None}


def test_autograded_notebooks_are_equivalent(three_routes: dict) -> None:
    """As the pages show them: same cells in the same order with the same sources and checksums, each graded cell
    scoring the same for nbgrader; plain nbgrader's steps and `course autograde` write the very same cells."""
    for student in HONEST:
        nbs = {route: shown(root, root / "autograded" / student / "ch01" / "ch01.ipynb")
               for route, (root, _) in three_routes.items()}
        shape = {r: [(c.id, c.cell_type, c.source) for c in nb.cells] for r, nb in nbs.items()}
        assert shape["course"] == shape["kernel"] == shape["nbgrader"]
        for route in ("kernel", "nbgrader"):
            for mine, theirs in zip(nbs["course"].cells, nbs[route].cells, strict=True):
                meta = mine.metadata.get("nbgrader", {})
                if meta.get("grade") and not meta.get("solution"):
                    assert score_of_cell(mine) == score_of_cell(theirs), (student, route, mine.id)
                assert meta.get("checksum") == theirs.metadata.get("nbgrader", {}).get("checksum"), (route, mine.id)
        for mine, plain in zip(nbs["course"].cells, nbs["nbgrader"].cells, strict=True):
            assert (mine.get("outputs"), mine.metadata) == (plain.get("outputs"), plain.metadata), (student, mine.id)


# ---------------------------------------------------------------- idempotent, manual grades sacred
def test_a_second_run_writes_nothing_and_manual_grades_survive_a_regrade(tmp_path: Path) -> None:
    cd = fresh_course(tmp_path / "course")
    for student, answers in HONEST.items():
        place_submission(cd.root, student, "ch01", answers)
    assert not _grade(cd).failed
    with Gradebook(url(cd), course_id="kam-cert") as gb:
        grade = gb.find_grade(ANSWERED_CASE, "ch01", "ch01", "all-correct")
        grade.manual_score, grade.needs_manual_grade = 3.0, False
        gb.find_comment(ANSWERED_CASE, "ch01", "ch01", "all-correct").manual_comment = "条理清楚"
        gb.find_grade("ch01-001", "ch01", "ch01", "all-wrong").manual_score = 1.5  # an override
        gb.db.commit()
    before = dump(url(cd))
    again = _grade(cd)
    assert again.rows_written == 0 and not again.failed
    assert dump(url(cd)) == before
    assert again.pending_manual == []


def test_a_changed_case_answer_is_flagged_for_review_and_its_grade_kept(tmp_path: Path) -> None:
    cd = fresh_course(tmp_path / "course")
    place_submission(cd.root, "all-correct", "ch01", ALL_CORRECT)
    _grade(cd)
    with Gradebook(url(cd), course_id="kam-cert") as gb:
        grade = gb.find_grade(ANSWERED_CASE, "ch01", "ch01", "all-correct")
        grade.manual_score, grade.needs_manual_grade = 3.0, False
        gb.db.commit()
    place_submission(cd.root, "all-correct", "ch01", {**ALL_CORRECT, ANSWERED_CASE: "改写后的答案"},
                     timestamp="2026-11-21 09:30:00.000000 UTC")
    report = _grade(cd)
    assert report.rereview == [("all-correct", ANSWERED_CASE)]
    with Gradebook(url(cd), course_id="kam-cert") as gb:
        grade = gb.find_grade(ANSWERED_CASE, "ch01", "ch01", "all-correct")
        assert (grade.manual_score, grade.needs_manual_grade) == (3.0, True)


def test_hand_grade_fills_only_what_no_one_graded(tmp_path: Path) -> None:
    from course.simulate import hand_grade

    cd = fresh_course(tmp_path / "course")
    for student in ("a", "b"):
        place_submission(cd.root, student, "ch01", ALL_CORRECT)
    _grade(cd)
    with Gradebook(url(cd), course_id="kam-cert") as gb:
        gb.find_grade(ANSWERED_CASE, "ch01", "ch01", "a").manual_score = 1.0  # graded, flag left up
        gb.db.commit()
    assert hand_grade(cd.root, cd.course, ["ch01"]) == 1
    with Gradebook(url(cd), course_id="kam-cert") as gb:
        assert gb.find_grade(ANSWERED_CASE, "ch01", "ch01", "a").manual_score == 1.0
        assert gb.find_grade(ANSWERED_CASE, "ch01", "ch01", "b").manual_score is not None


def test_student_option_regrades_one_learner_only(tmp_path: Path) -> None:
    cd = fresh_course(tmp_path / "course")
    for student, answers in HONEST.items():
        place_submission(cd.root, student, "ch01", answers)
    _grade(cd)
    before = dump(url(cd))
    place_submission(cd.root, "all-wrong", "ch01", ALL_CORRECT, timestamp="2026-11-22 09:30:00.000000 UTC")
    place_submission(cd.root, "partial", "ch01", ALL_CORRECT, timestamp="2026-11-22 09:30:00.000000 UTC")
    report = _grade(cd, students=["all-wrong"])
    assert report.graded == [("all-wrong", "ch01")]
    after = dump(url(cd))
    changed = {r[1] for r in set(after["grade"]) ^ set(before["grade"])}
    assert changed == {"all-wrong"}


# ---------------------------------------------------------------- concurrency and crashes
def test_eight_workers_on_a_fresh_gradebook_lose_nothing_five_times(tmp_path: Path) -> None:
    """200 submissions of two chapters sharing 100 new learners, 8 workers, no student row yet: no failure."""
    content = two_chapter_content(tmp_path / "content")
    for attempt in range(5):
        cd = fresh_course(tmp_path / f"course{attempt}", content, ("ch01", "ch02"))
        for i in range(100):
            for chapter in ("ch01", "ch02"):
                answers = {k.replace("ch01", chapter): v for k, v in PARTIAL.items()}
                place_submission(cd.root, f"learner{i:03d}", chapter, answers)
        report = workflow.autograde(cd.root, cd.course, ["ch01", "ch02"], workers=8, progress=False)
        assert (len(report.graded), report.failed) == (200, {}), attempt
        rows = dump(url(cd))
        assert len(rows["student"]) == 100 and len(rows["notebook"]) == 200
        assert len(rows["grade"]) == 200 * 8  # 7 questions + setup
        assert sum(r[4] or 0 for r in rows["grade"]) == 100 * 2 * 7.0  # PARTIAL earns 7


CRASH = """
import os, signal, sys
from pathlib import Path
from course.errors import WorkflowError
from course.grading import grader
from course.loader import load_course
grader.BATCH, grader.CHUNK = 10, 5
def progress(done, total):
    if done >= 20:  # two batches written, more in flight: die like a killed process
        os.kill(os.getpid(), signal.SIGKILL)
grader.grade(Path(sys.argv[1]), load_course(Path(sys.argv[2])), ["ch01"], workers=1, on_progress=progress)
"""


def test_a_run_killed_midway_keeps_what_finished_and_the_next_run_carries_on(tmp_path: Path) -> None:
    cd = fresh_course(tmp_path / "course")
    for i in range(40):
        place_submission(cd.root, f"learner{i:02d}", "ch01", PARTIAL if i % 2 else ALL_CORRECT)
    proc = subprocess.run([sys.executable, "-c", CRASH, str(cd.root), str(cd.course.root)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    assert 10 <= len(dump(url(cd))["notebook"]) < 40  # finished batches are in the gradebook
    report = _grade(cd)
    assert (len(report.graded), report.failed) == (40, {})
    reference = fresh_course(tmp_path / "reference")
    for i in range(40):
        place_submission(reference.root, f"learner{i:02d}", "ch01", PARTIAL if i % 2 else ALL_CORRECT)
    _grade(reference)
    assert dump(url(cd)) == dump(url(reference))


def test_ctrl_c_writes_what_finished(tmp_path: Path) -> None:
    cd = fresh_course(tmp_path / "course")
    for i in range(30):
        place_submission(cd.root, f"learner{i:02d}", "ch01", PARTIAL)

    def interrupt(done: int, total: int) -> None:
        if done >= 10:
            raise KeyboardInterrupt

    old = grader.CHUNK
    grader.CHUNK = 5
    try:
        with pytest.raises(KeyboardInterrupt):
            grader.grade(cd.root, cd.course, ["ch01"], workers=1, on_progress=interrupt)
    finally:
        grader.CHUNK = old
    assert len(dump(url(cd))["notebook"]) == 10


ORPHANS = """
import multiprocessing, os, signal, sys, time
from pathlib import Path
from course.grading import grader
from course.loader import load_course
grader.CHUNK = 2
honest = grader.grade_one
def grade_one(*args):  # each worker stays busy for seconds: it would outlive a parent it did not die with
    time.sleep(0.5)
    return honest(*args)
grader.grade_one = grade_one
def progress(done, total):  # the first chunk is back, the workers are grading the next ones
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
    sys.stdin.readline()  # the test has seen the workers alive (a SIGKILL right away could beat it)
    os.kill(os.getpid(), getattr(signal, sys.argv[3]))
    time.sleep(5)
grader.grade(Path(sys.argv[1]), load_course(Path(sys.argv[2])), ["ch01"], workers=2, on_progress=progress)
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(("how", "committed"), [("SIGKILL", 0), ("SIGTERM", 2), ("SIGINT", 2)])
def test_no_worker_outlives_a_killed_or_stopped_run(tmp_path: Path, how: str, committed: int) -> None:
    """SIGKILL, SIGTERM or Ctrl-C of `course autograde -j 2`: is every worker gone within 2 s of the parent?"""
    cd = fresh_course(tmp_path / "course")
    for i in range(16):
        place_submission(cd.root, f"learner{i:02d}", "ch01", PARTIAL)
    proc = subprocess.Popen([sys.executable, "-c", ORPHANS, str(cd.root), str(cd.course.root), how],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    workers = [int(pid) for pid in proc.stdout.readline().split()]
    assert len(workers) == 2 and all(map(_running, workers))
    proc.stdin.write("go\n")
    proc.stdin.close()
    proc.wait(timeout=120)
    proc.stdout.close()
    deadline = time.monotonic() + 2.0
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in workers if _running(pid)] == []
    assert len(dump(url(cd))["notebook"]) == committed  # stopped, not killed: what finished is written


# A report's page workers and a snapshot's answer readers, each held busy; the parent prints their pids once
# every one has started (each prints its own from inside the pool), then waits to be killed.
POOLS = {
    "snapshot": """
import os, sys, time
from pathlib import Path
from course.analytics import snapshot
from course.loader import load_course
def read(root, content, pairs):
    print(os.getpid(), flush=True)
    time.sleep(60)
if __name__ == "__main__":
    snapshot.PARALLEL_FROM = 2
    snapshot._read_coded_in_worker = read
    snapshot._read_fresh(Path(sys.argv[1]), load_course(Path(sys.argv[2])), [("a", "ch01"), ("b", "ch01")])
""",
    "report": """
import os, sys, time
from pathlib import Path
from course import report
def warm_up():
    print(os.getpid(), flush=True)
    time.sleep(60)
def take_snapshot(*args, **kwargs):
    time.sleep(60)
if __name__ == "__main__":
    report._warm_up = warm_up
    report.take_snapshot = take_snapshot
    report.report(Path(sys.argv[1]), report.parameters(content=sys.argv[2]), progress=False)
""",
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("pool", sorted(POOLS))
def test_no_report_or_snapshot_worker_outlives_a_killed_run(tmp_path: Path, pool: str) -> None:
    """SIGKILL of `course report` while its page workers or its snapshot's answer readers are busy: is every
    worker gone within 2 s?"""
    script = tmp_path / f"{pool}_run.py"
    script.write_text(POOLS[pool], encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(MINI)], cwd=Path(__file__).parents[1],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    workers = [int(proc.stdout.readline()) for _ in range(2)]
    try:
        assert all(map(_running, workers))
        proc.kill()
        proc.wait(timeout=30)
        deadline = time.monotonic() + 2.0
        while any(map(_running, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in workers if _running(pid)] == []
    finally:
        proc.stdout.close()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- failures are named
def test_a_bad_submission_is_named_and_the_others_are_graded(tmp_path: Path) -> None:
    cd = fresh_course(tmp_path / "course")
    place_submission(cd.root, "good", "ch01", ALL_CORRECT)
    bad = place_submission(cd.root, "bad-time", "ch01", ALL_CORRECT, timestamp="yesterday-ish")
    report = _grade(cd)
    assert report.graded == [("good", "ch01")]
    assert report.failed == {("bad-time", "ch01"): (
        f"{bad / 'timestamp.txt'} does not hold a submission time (b'yesterday-ish'): restore it with "
        "`course collect` or ask the learner to resubmit")}


def test_a_learner_id_that_could_be_markup_is_not_graded(tmp_path: Path) -> None:
    """nbgrader's default exchange takes any --student: is an id with HTML or control characters kept out?"""
    cd = fresh_course(tmp_path / "course")
    place_submission(cd.root, "good", "ch01", ALL_CORRECT)
    place_submission(cd.root, '<img src=x onerror="alert(1)">', "ch01", ALL_CORRECT)
    report = _grade(cd)
    assert report.graded == [("good", "ch01")]
    shown = "\'<img src=x onerror=\"alert(1)\">\'"
    assert report.failed == {(shown, "ch01"): (
        f"{cd.root / 'submitted'}: the folder of learner id {shown} was not graded: a learner id has letters, digits, "
        ". _ - @ only (at most 64); remove the folder and ask the learner to submit under their own account")}
    assert [row[0] for row in dump(url(cd))["student"]] == ["good"]


def test_the_cli_names_failures_and_exits_non_zero(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from course.cli import app

    cd = fresh_course(tmp_path / "course")
    place_submission(cd.root, "good", "ch01", ALL_CORRECT)
    place_submission(cd.root, "bad-time", "ch01", ALL_CORRECT, timestamp="not a time")
    result = CliRunner().invoke(app, ["autograde", "--root", str(cd.root), "--content", str(cd.course.root)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Error: learner bad-time, ch01: not graded: " in result.output
    assert ("graded 1 submission(s); failed 1 (bad-time/ch01); waiting for hand grading 1 answer(s) "
            "(grade them in formgrader)") in result.output


def test_no_kernel_starts(tmp_path: Path) -> None:
    """A submission whose notebook would hang a kernel forever is graded at once."""
    cd = fresh_course(tmp_path / "course")
    folder = place_submission(cd.root, "hangs", "ch01", ALL_CORRECT)
    nb = nbformat.read(folder / "ch01.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("while True:\n    pass"))
    nbformat.write(nb, folder / "ch01.ipynb")
    report = _grade(cd)
    assert report.graded == [("hangs", "ch01")]
    log = report.log_file.read_text(encoding="utf-8") if report.log_file else ""
    assert "kernel" not in log.lower()


def test_parallel_and_serial_grading_agree(tmp_path: Path) -> None:
    runs = {}
    for workers in (1, 3):
        cd = fresh_course(tmp_path / f"w{workers}")
        for i in range(60):
            place_submission(cd.root, f"l{i:02d}", "ch01", [ALL_CORRECT, PARTIAL, ALL_WRONG][i % 3])
        _grade(cd, workers=workers)
        runs[workers] = dump(url(cd))
    assert runs[1] == runs[3]


def test_an_unknown_question_id_in_the_released_notebook_is_named(tmp_path: Path) -> None:
    cd = fresh_course(tmp_path / "course")
    released = cd.root / "release" / "ch01" / "ch01.ipynb"
    nb = json.loads(released.read_text(encoding="utf-8"))
    nb["metadata"]["course"]["questions"].append("zz99-001")
    released.write_text(json.dumps(nb), encoding="utf-8")
    place_submission(cd.root, "a", "ch01", ALL_CORRECT)
    with pytest.raises(WorkflowError, match="asks zz99-001, which the course content does not have"):
        _grade(cd)
    assert os.path.exists(released)


# ---------------------------------------------------------------- PostgreSQL
@pytest.fixture()
def postgres_url(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tests import pg

    skip_unless_met(postgres_reason())
    server = pg.Postgres()
    url_ = server.start()
    try:
        yield url_
    finally:
        server.stop()


def test_postgresql_gets_exactly_the_rows_sqlite_gets(tmp_path: Path, postgres_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The same submissions, some late, graded twice and regraded after a manual grade: into SQLite (the driver's
    executemany) and a real PostgreSQL (COPY), are the rows the same?"""
    dumps = {}
    for name, db in (("sqlite", None), ("postgresql", postgres_url)):
        if db:
            monkeypatch.setenv("COURSE_DB_URL", db)
        cd = fresh_course(tmp_path / name)
        with Gradebook(url(cd), course_id="kam-cert") as gb:  # late submissions: penalties and times as well
            gb.update_or_create_assignment("ch01", duedate=dt.datetime(2026, 11, 25))
        config = cd.root / "nbgrader_config.py"
        config.write_text(config.read_text() + "\nc.LateSubmissionPlugin.penalty_method = 'zero'\n")
        for i in range(30):
            place_submission(cd.root, f"l{i:02d}", "ch01", [ALL_CORRECT, PARTIAL, ALL_WRONG, {}][i % 4],
                             timestamp=f"2026-11-{20 + i % 10} 09:30:{i:02d}.{i * 1001:06d} UTC")
        assert not _grade(cd, workers=2).failed
        with Gradebook(url(cd), course_id="kam-cert") as gb:
            gb.find_grade(ANSWERED_CASE, "ch01", "ch01", "l00").manual_score = 2.5
            gb.db.commit()
        assert _grade(cd).rows_written == 0
        dumps[name] = dump(url(cd))
        monkeypatch.delenv("COURSE_DB_URL", raising=False)
    assert dumps["postgresql"] == dumps["sqlite"]
    assert len(dumps["sqlite"]["grade"]) == 30 * 8
    assert sorted({r[5] for r in dumps["sqlite"]["notebook"]}, key=repr) == [0.0, 13.0, 7.0, None]  # penalties


# ---------------------------------------------------------------- kernel execution on request
PROBE = """
import os, pathlib
for name, path in {probes!r}.items():
    try:
        if name == 'write':
            open(path, 'ab').write(b'x')
        elif os.path.isdir(path):
            os.listdir(path) or (_ for _ in ()).throw(PermissionError('empty'))
        else:
            open(path, 'rb').read(1)
        print('LEAK', name)
    except OSError:
        print('BLOCKED', name)
"""


def test_executed_learner_code_cannot_reach_the_gradebook_course_files_or_peers(tmp_path: Path) -> None:
    from course.grading.execute import SandboxError, hidden_paths, run_isolated

    skip_unless_met(sandbox_reason())  # root, unshare and friends, and a Python that nobody can run

    cd = fresh_course(tmp_path / "course")
    peer = place_submission(cd.root, "peer", "ch01", ALL_CORRECT)
    probes = {"gradebook": str(cd.root / "gradebook" / "gradebook.db"), "write": str(cd.root / "gradebook" / "x"),
              "source": str(cd.root / "source" / "ch01" / "ch01.ipynb"), "peer": str(peer),
              "content": str(cd.course.root / "questions" / "ch01.yaml")}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE.format(probes=probes)),
                                         nbformat.v4.new_code_cell("print('y' * 5_000_000)")])
    done = run_isolated(nb, [], [*hidden_paths(cd.root), cd.course.root], timeout=60, memory_mb=1024,
                        max_output_bytes=100_000)
    printed = done.cells[0].outputs[0]["text"]
    assert printed.split() == [w for name in probes for w in ("BLOCKED", name)]
    assert done.cells[1].outputs[0]["text"] == "输出超过上限，已截断。"
    hang = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("while True:\n    pass")])
    stopped = run_isolated(hang, [], [], timeout=5, memory_mb=1024, max_output_bytes=100_000)
    assert [o["output_type"] for o in stopped.cells[0].outputs] == ["error"]  # interrupted: a graded cell scores 0
    exits = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nos._exit(1)")])
    with pytest.raises(SandboxError, match="could not be run to the end"):
        run_isolated(exits, [], [], timeout=30, memory_mb=1024, max_output_bytes=100_000)


def test_copies_an_earlier_run_left_in_autograded_are_removed(tmp_path: Path) -> None:
    """nbgrader's own autograde copied learner files on (an answers file, a damaged copy): they must go."""
    cd = fresh_course(tmp_path / "course")
    place_submission(cd.root, "a", "ch01", ALL_CORRECT)
    dest = cd.root / "autograded" / "a" / "ch01"
    dest.mkdir(parents=True)
    (dest / "ch01.answers.json").write_text("{}", encoding="utf-8")
    (dest / "ch01.answers.damaged-20261120.json").write_text("root:x:0:0", encoding="utf-8")
    (dest / "extra").mkdir()
    (dest / "link.txt").symlink_to("/etc/passwd")
    _grade(cd)
    assert sorted(p.name for p in dest.iterdir()) == ["ch01.ipynb", "timestamp.txt"]
