"""Is a sitting's clock the service's, and does only what a learner saved in time reach the gradebook?

The pure rules first (ends, states, what counts), then a whole sitting through the real service
(its tornado app on a real port, its records in a real gradebook) and the instructor's commands:
``course paper create``, ``generate``, ``sitting create``, ``collect``, ``autograde``. The hub's
identity is the one stand-in: a header names the learner (the hub tests use the real hub).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from typer.testing import CliRunner

from course.cli import app
from course.sittings import clock, records
from course.sittings.clock import Attempt, Sitting, status, tally
from tests.conftest import make_course_dir

CERT = Path(__file__).parent / "fixtures" / "cert"
UTC = dt.UTC
T0 = dt.datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # 09:00 China time
SITTING = Sitting("L4-s-1", "L4-s", T0, T0 + dt.timedelta(hours=2), 90, ("a", "b"), {"b": 15})


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


# ---------------------------------------------------------------- the rules
def test_the_end_is_start_plus_duration_and_extra_cut_by_the_closing_time() -> None:
    """Does a late start lose the time past closing, extra time extend both, and handing in end it at once?"""
    assert SITTING.end("a", at(10)) == at(100)
    assert SITTING.end("a", at(60)) == at(120)  # closing time cuts it
    assert SITTING.end("b", at(60)) == at(135)  # extra minutes extend the closing time too
    assert SITTING.end("a", at(10), finished=at(40)) == at(40)


@pytest.mark.parametrize(("attempt", "now", "state", "message"), [
    (Attempt(1), at(-30), "not-open", "考试尚未开始：开考时间 2026-12-10 09:00，考试时长 90 分钟。"),
    (Attempt(1), at(5), "ready",
     "可以开始考试：考试时长 90 分钟，须在 2026-12-10 11:00 前开始。点击“开始考试”后开始计时。"),
    (Attempt(1), at(120), "missed", "本场考试已于 2026-12-10 11:00 截止，你未参加。"),
    (Attempt(1, at(10)), at(20), "running", "考试进行中：剩余时间 80 分 00 秒。"),
    (Attempt(1, at(10)), at(100), "over", "考试时间已到（2026-12-10 10:40）。之后的作答不再计分。"),
    (Attempt(1, at(10), at(30)), at(31), "over", "你已交卷（2026-12-10 09:30）。之后的作答不再计分。"),
    (Attempt(2, None, None, at(600)), at(300), "ready",
     "可以开始考试：考试时长 90 分钟，须在 2026-12-10 19:00 前开始。点击“开始考试”后开始计时。"),
    # a reopened attempt started after the sitting closed runs to its own closing time, not the sitting's
    (Attempt(2, at(300), None, at(600)), at(310), "running", "考试进行中：剩余时间 80 分 00 秒。"),
    (Attempt(2, at(550), None, at(600)), at(560), "running", "考试进行中：剩余时间 40 分 00 秒。"),
])
def test_a_learners_status_at_each_moment(attempt: Attempt, now: dt.datetime, state: str, message: str) -> None:
    result = status(SITTING, "a", attempt, now)
    assert (result.state, result.message) == (state, message)


def test_a_learner_not_admitted_is_told_so() -> None:
    assert status(SITTING, "c", Attempt(1), at(5)).state == "not-admitted"


def test_only_the_last_answer_saved_by_the_end_counts_and_late_ones_are_kept_apart() -> None:
    rows = [
        {"id": 1, "question": "q1", "value": '"A"', "saved_at": clock.iso(at(10))},
        {"id": 2, "question": "q1", "value": '"B"', "saved_at": clock.iso(at(20))},
        {"id": 3, "question": "q2", "value": "true", "saved_at": clock.iso(at(30))},
        {"id": 4, "question": "q2", "value": "false", "saved_at": clock.iso(at(31))},
        {"id": 5, "question": "q3", "value": '["x"]', "saved_at": clock.iso(at(33.5))},
    ]
    result = tally(rows, at(30))
    assert result.counted == {"q1": "B", "q2": True}
    assert (result.late, result.overrun_seconds, result.last_saved) == (2, 210, at(33.5))


def test_an_answer_within_the_second_after_the_end_is_late() -> None:
    """Is an answer saved 0.4 s after a start-to-the-microsecond end late (to the second, it compared equal)?"""
    started = at(0) + dt.timedelta(seconds=12.6)
    end = SITTING.end("a", clock.parse(clock.stamp(started)))
    rows = [{"id": 1, "question": "q1", "value": '"A"', "saved_at": clock.stamp(end + dt.timedelta(seconds=0.4))}]
    assert (tally(rows, end).counted, tally(rows, end).late) == ({}, 1)


def test_a_reopening_starts_a_new_attempt_with_its_own_deadline() -> None:
    starts = [{"learner": "a", "attempt": 1, "started_at": clock.iso(at(10))}]
    reopens = [{"learner": "a", "attempt": 2, "closes_at": clock.iso(at(600))}]
    assert clock.latest_attempt("a", starts, [], []) == Attempt(1, at(10))
    assert clock.latest_attempt("a", starts, [], reopens) == Attempt(2, None, None, at(600))


def test_a_reopening_never_taken_up_leaves_the_earlier_attempt_counted() -> None:
    """Does the attempt that counts stay the first until the learner starts the reopened one?"""
    starts = [{"learner": "a", "attempt": 1, "started_at": clock.iso(at(10))}]
    finishes = [{"learner": "a", "attempt": 1, "finished_at": clock.iso(at(40))}]
    reopens = [{"learner": "a", "attempt": 2, "closes_at": clock.iso(at(600))}]
    assert clock.latest_attempt("a", starts, finishes, reopens, counted=True) == Attempt(1, at(10), at(40))
    started = [*starts, {"learner": "a", "attempt": 2, "started_at": clock.iso(at(300))}]
    assert clock.latest_attempt("a", started, finishes, reopens, counted=True) == Attempt(2, at(300), None, at(600))
    assert Attempt(2, at(300), None, at(600)).end(SITTING, "a") == at(390)


# ---------------------------------------------------------------- a sitting through the service and the commands
class TestClock:
    now = at(0)


class HeaderIdentity:
    """Stands in for JupyterHub's HubAuthenticated: the learner is named by a header."""

    def get_current_user(self) -> dict[str, str] | None:
        name = self.request.headers.get("X-Learner")  # type: ignore[attr-defined]
        return {"name": name} if name else None


def call(port: int, learner: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/services/sittings/api/sittings{path}",
                                     data=None if body is None else json.dumps(body).encode(),
                                     method="GET" if body is None else "POST", headers={"X-Learner": learner})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(autouse=True)
def _commands_on_the_test_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The instructor's commands read the same test clock as the service."""
    monkeypatch.setattr(clock, "now", lambda: TestClock.now)


@pytest.fixture(scope="module")
def sat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Paper L4-s for a and b, generated, in sitting L4-s-1 served on a real port with a test clock."""
    from course.nbconfig import course_config, db_url
    from course.sittings.service import State, make_app
    from course.sittings.store import open_url

    cd = make_course_dir(tmp_path_factory.mktemp("sitting") / "course", CERT)
    root, runner = str(cd.root), CliRunner()
    for argv in (["paper", "create", "L4", "--paper", "L4-s", "--learner", "a", "--learner", "b"],
                 ["generate", "L4-s"],
                 ["sitting", "create", "L4-s", "--opens", "2026-12-10 09:00", "--closes", "2026-12-10 11:00",
                  "--minutes", "30", "--extra", "b=10"]):
        done = runner.invoke(app, [*argv, "--root", root, *(["--content", str(CERT)] if argv[0] != "sitting" else [])])
        assert done.exit_code == 0, done.output
    engine = open_url(db_url(cd.root), str(course_config(cd.root).CourseDirectory.course_id))
    state = State(lambda: engine, cd.root, clock=lambda: TestClock.now)
    # Listening before the first request: a socket bound here queues connections until the loop serves them
    # (listening from inside the thread raced the first test's request in a CI rehearsal: connection refused).
    sockets = bind_sockets(0, "127.0.0.1")
    port = int(sockets[0].getsockname()[1])
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        HTTPServer(make_app(state, "/services/sittings/", HeaderIdentity)).add_sockets(sockets)
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    manifest = json.loads((cd.root / "papers" / "L4-s.json").read_text(encoding="utf-8"))
    yield {"cd": cd, "port": port, "engine": engine, "variants": manifest["variants"]}
    loop.call_soon_threadsafe(loop.stop)


def test_a_paper_that_cannot_be_read_starts_no_clock(sat: dict[str, Any]) -> None:
    """b's notebook gone from release/: is her start refused with 503, and no start recorded (her time not begun)?"""
    b = sat["variants"]["b"]["assignment"]
    notebook = sat["cd"].root / "release" / b / f"{b}.ipynb"
    aside = notebook.with_name("aside.ipynb")
    TestClock.now = at(5)
    notebook.rename(aside)
    try:
        code, reply = call(sat["port"], "b", f"/{b}/start", {})
    finally:
        aside.rename(notebook)
    assert (code, reply["error"]) == (503, f"{notebook} cannot be read: run `course generate`")
    with sat["engine"].connect() as conn:
        assert records.attempt(conn, "L4-s-1", "b") == Attempt(1)
        assert records.started(conn, "L4-s-1") == set()


def test_the_service_hands_out_the_paper_only_in_the_window_and_keeps_the_clock(sat: dict[str, Any]) -> None:
    port, variants = sat["port"], sat["variants"]
    a, b = variants["a"]["assignment"], variants["b"]["assignment"]
    first, second = variants["a"]["theory"][:2]
    TestClock.now = at(-10)
    assert call(port, "a", f"/{a}/start", {})[0] == 409  # not open yet
    assert call(port, "c", f"/{a}")[0] == 404  # not this learner's paper
    listed = call(port, "a", "")[1]["sittings"]
    assert [(s["assignment"], s["state"]) for s in listed] == [(a, "not-open")]
    TestClock.now = at(5)
    code, started = call(port, "a", f"/{a}/start", {})
    assert (code, started["state"], started["end"]) == (200, "running", clock.iso(at(35)))
    assert started["notebook"]["metadata"]["course"]["questions"] == variants["a"]["theory"] + variants["a"]["skills"]
    TestClock.now = at(10)
    assert call(port, "a", f"/{a}/start", {})[1]["start"] == clock.iso(at(5))  # resuming keeps the first start
    assert call(port, "a", f"/{a}/answers", {"answers": {first: "A", second: "A"}})[1]["counted"] is True
    assert call(port, "a", f"/{a}/answers", {"answers": {"jc99-001": "A"}})[0] == 400  # not on this paper
    assert call(port, "a", f"/{b}/answers", {"answers": {first: "A"}})[0] == 404  # not her paper
    TestClock.now = at(36)  # a's 30 minutes are over
    late = call(port, "a", f"/{a}/answers", {"answers": {first: "B"}})[1]
    assert (late["state"], late["counted"]) == ("over", False)
    TestClock.now = at(200)  # the sitting closed long ago: b never started
    assert call(port, "b", f"/{b}")[1]["state"] == "missed"


def test_collect_writes_what_counted_and_reports_who_ran_over(sat: dict[str, Any]) -> None:
    """The submission holds a's answers saved by 09:35 (not the late one); b is 缺考; autograde grades it."""
    cd, variants = sat["cd"], sat["variants"]
    a = variants["a"]["assignment"]
    first, second = variants["a"]["theory"][:2]
    runner = CliRunner()
    done = runner.invoke(app, ["collect", "L4-s", "--root", str(cd.root), "--content", str(CERT)])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "sitting L4-s-1 (paper L4-s, 30 min, opens 2026-12-10 09:00, closes 2026-12-10 11:00)",
        "  a: attempt 1, started 2026-12-10 09:05, ended 2026-12-10 09:35, 2 answer(s) counted; 1 answer(s) after "
        "the end, up to 60 s late: kept, not scored",
        "  b: 缺考 (never started)",
        "collected 1 new or updated submission(s) of 2 assignment(s).",
    ]
    saved = json.loads((cd.root / "submitted" / "a" / a / f"{a}.answers.json").read_text(encoding="utf-8"))
    assert saved["answers"] == {first: "A", second: "A"} and saved["learner"] == "a"
    assert (cd.root / "submitted" / "a" / a / "timestamp.txt").read_text() == "2026-12-10 01:35:00.000000 UTC"
    assert not (cd.root / "submitted" / "b").exists()
    graded = runner.invoke(app, ["autograde", "L4-s", "--root", str(cd.root), "--content", str(CERT),
                                 "--no-progress", "-j", "1"])
    assert graded.exit_code == 0, graded.output
    expected = sum(q.points for q in cd.course.questions if q.id in (first, second) and q.answer == "A")
    from nbgrader.api import Gradebook

    from course.nbconfig import db_url

    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        assert gb.find_submission(a, "a").score == expected


def test_a_reopening_needs_a_reason_and_is_audited(sat: dict[str, Any]) -> None:
    cd, engine = sat["cd"], sat["engine"]
    runner = CliRunner()
    empty = runner.invoke(app, ["sitting", "reopen", "L4-s-1", "--learner", "b", "--reason", " ",
                                "--root", str(cd.root)])
    assert (empty.exit_code, empty.output) == (
        1, "Error: --reason is empty: say why the sitting is reopened (it is kept in the audit trail)\n")
    TestClock.now = at(100)  # before the sitting closes: the new attempt closes with it
    done = runner.invoke(app, ["sitting", "reopen", "L4-s-1", "--learner", "b", "--reason", "停电，经批准补考",
                               "--root", str(cd.root)])
    assert (done.exit_code, done.output) == (
        0, "sitting L4-s-1 reopened for b: attempt 2, to start and end by 2026-12-10 11:00 (China time; audited).\n")
    from course.certification import store as cert_store

    with engine.connect() as conn:
        last = conn.execute(sa.select(cert_store.audit).order_by(cert_store.audit.c.id.desc())).mappings().first()
        assert records.attempt(conn, "L4-s-1", "b").number == 2
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.execute(sa.text("UPDATE kam_sitting_start SET started_at = 'x'"))
    assert (last["action"], last["learner"], json.loads(last["after"])["reason"]) == (
        "sitting-reopen", "b", "停电，经批准补考")


def test_a_reopening_after_the_close_needs_a_time_the_attempt_can_still_start_by(sat: dict[str, Any]) -> None:
    """Is a reopening after the sitting closed refused without --until, and with an --until already past?"""
    from course.errors import WorkflowError
    from course.sittings import admin

    with sat["engine"].begin() as conn:
        with pytest.raises(WorkflowError) as closed:
            admin.reopen(conn, "L4-s-1", "a", "停电", None, at(200))
        with pytest.raises(WorkflowError) as past:
            admin.reopen(conn, "L4-s-1", "a", "停电", at(150), at(200))
        assert records.attempt(conn, "L4-s-1", "a").number == 1  # nothing recorded
    assert str(closed.value) == (
        "sitting L4-s-1 closed at 2026-12-10 11:00: give --until, the time by which the new attempt must start "
        "(it also ends by then), e.g. '2026-12-11 17:00' (China time)")
    assert str(past.value) == (
        "--until 2026-12-10 11:30 is past: give the time by which the new attempt must start (it also ends by then), "
        "e.g. '2026-12-11 17:00' (China time)")


def test_a_reopened_attempt_started_after_the_close_is_timed_and_counted(sat: dict[str, Any]) -> None:
    """b, reopened at 12:20 until 17:00, starts at 14:00 (the sitting closed at 11:00): does she get her 30 + 10
    minutes, and do her answers count? a, reopened but never starting again, keeps her first attempt counted."""
    cd, port, variants = sat["cd"], sat["port"], sat["variants"]
    b = variants["b"]["assignment"]
    first = variants["b"]["theory"][0]
    runner = CliRunner()
    TestClock.now = at(200)
    for learner, reason in (("a", "误点交卷"), ("b", "停电后未能在截止前开考")):
        again = runner.invoke(app, ["sitting", "reopen", "L4-s-1", "--learner", learner, "--reason", reason,
                                    "--until", "2026-12-10 17:00", "--root", str(cd.root)])
        assert again.exit_code == 0, again.output
    TestClock.now = at(300)
    code, started = call(port, "b", f"/{b}/start", {})
    assert (code, started["state"], started["attempt"], started["end"]) == (200, "running", 3, clock.iso(at(340)))
    TestClock.now = at(320)
    assert call(port, "b", f"/{b}/answers", {"answers": {first: "A"}})[1]["counted"] is True
    a_line = ("  a: attempt 1, started 2026-12-10 09:05, ended 2026-12-10 09:35, 2 answer(s) counted; 1 answer(s) "
              "after the end, up to 60 s late: kept, not scored")
    running = runner.invoke(app, ["collect", "L4-s", "--root", str(cd.root), "--content", str(CERT)])
    assert running.output.splitlines()[1:] == [  # b's time runs: her partial answers are not collected yet
        a_line,
        "  b: attempt 3, started 2026-12-10 14:00, still running until 2026-12-10 14:40, 1 answer(s) so far: "
        "collected after the end",
        "collected 1 new or updated submission(s) of 2 assignment(s).",
    ]
    assert not (cd.root / "submitted" / "b").exists()
    TestClock.now = at(400)
    done = runner.invoke(app, ["collect", "L4-s", "--root", str(cd.root), "--content", str(CERT)])
    assert done.output.splitlines()[1:] == [
        a_line, "  b: attempt 3, started 2026-12-10 14:00, ended 2026-12-10 14:40, 1 answer(s) counted",
        "collected 2 new or updated submission(s) of 2 assignment(s).",
    ]
    saved = json.loads((cd.root / "submitted" / "b" / b / f"{b}.answers.json").read_text(encoding="utf-8"))
    assert saved["answers"] == {first: "A"}


def test_a_learner_cannot_grow_the_records_without_bound(sat: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """b's attempt 3 ended at 14:40 with 1 answer: with the bounds set to 2 late rows and 3 rows an attempt, is
    the third late row refused (409, in Chinese), and then any row, and nothing more stored?"""
    from course.sittings import service

    port, b = sat["port"], sat["variants"]["b"]["assignment"]
    first, second = sat["variants"]["b"]["theory"][:2]
    monkeypatch.setattr(service, "MAX_LATE_ROWS", 2)
    TestClock.now = at(400)
    assert call(port, "b", f"/{b}/answers", {"answers": {first: "B", second: "B"}})[1]["counted"] is False
    assert call(port, "b", f"/{b}/answers", {"answers": {first: "C"}}) == (
        409, {"error": "late limit", "message": "考试时间已到，之后的作答不再记录。"})
    monkeypatch.setattr(service, "MAX_LATE_ROWS", 200)
    monkeypatch.setattr(service, "MAX_ROWS_PER_ATTEMPT", 3)
    assert call(port, "b", f"/{b}/answers", {"answers": {first: "C"}}) == (
        409, {"error": "answer limit",
              "message": "本场考试的作答保存次数已达上限，之后的修改不再记录。请联系监考老师。"})
    with sat["engine"].connect() as conn:
        assert records.answer_load(conn, "L4-s-1", "b", 3, at(340)) == (3, 9, 2)  # '"A"', '"B"', '"B"'


def test_the_learners_clock_counts_down_from_what_the_service_said() -> None:
    """Does the notebook's 剩余时间 subtract the time passed since the service answered, and say when it is up?"""
    from course_runtime.exam import clock_text, remaining

    said = {"state": "running", "remaining_seconds": 600, "message": "考试进行中"}
    assert remaining(said, at(0), at(0) + dt.timedelta(seconds=75)) == 525
    assert remaining(said, at(0), at(20)) == 0
    assert remaining({"state": "over", "remaining_seconds": 0}, at(0), at(1)) is None
    assert clock_text(525, said, 0) == "剩余时间：8 分 45 秒（答案自动保存并实时提交）"
    assert clock_text(0, said, 2) == ("考试时间已到：之后的作答不再计分。请回到“课程作业”页面查看。"
                                      "　【2 题答案尚未送达考试服务，正在重试，请勿关闭页面】")
    assert clock_text(None, {"state": "over", "message": "你已交卷（2026-12-10 09:30）。"}, 0) == (
        "你已交卷（2026-12-10 09:30）。")


def test_answers_the_service_never_received_are_sent_again_after_a_kernel_restart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer saved while the service was out of reach, then the kernel restarted: does the new kernel send it
    (before, it showed it answered, never sent it, and the 尚未送达 warning dropped to 0)?"""
    import time

    from course_runtime import exam
    from course_runtime.quiz import Quiz

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KAM_SITTINGS_URL", "http://127.0.0.1:9/services/sittings/")
    monkeypatch.setattr(exam, "RETRY_SECONDS", 0.05)
    running = {"state": "running", "remaining_seconds": 3600, "message": "考试进行中"}
    reachable, tried, dead = threading.Event(), threading.Event(), set()
    posted: list[dict[str, Any]] = []

    def service(path: str, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        if not reachable.is_set() or threading.get_ident() in dead:  # out of reach; or the old kernel, gone
            if body is not None:
                dead.add(threading.get_ident())
                tried.set()
            return None
        if body is None:
            return running
        posted.append(body["answers"])
        return {**running, "counted": True}

    monkeypatch.setattr(exam, "call", service)
    questions = {"q1": {"type": "single", "no": 1}, "q2": {"type": "single", "no": 2}}
    before = Quiz("P-a", questions, exam=True)
    before.save("q1", "B")
    assert tried.wait(5) and before.sender is not None and before.sender.unsent() == 1
    reachable.set()  # the service is back; the learner restarts the kernel and runs every cell
    after = Quiz("P-a", questions, exam=True)
    deadline = time.monotonic() + 5
    while not posted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert posted == [{"q1": "B"}]
    assert after.sender is not None and after.sender.unsent() == 0
