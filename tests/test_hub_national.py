"""Does the national path work, and hold, on one machine: JupyterHub with the ngshare service and PostgreSQL?

`course hub --exchange ngshare`'s parts, started as the product starts them (tests/hubtools.national_course):
JupyterHub (PAM, each user's server as their own OS account ``kamhub-n-*``; needs root, as CI runs), the ngshare
service in its own environment with the patch layer, and one PostgreSQL server (a password; its clock in China
time, as a server in China runs) holding the gradebook and ngshare's tables. No exchange folder exists.

Two learners work in headless Chromium from the Chinese course page through fetch, answer and submit; the
instructor collects, autogrades, hand-grades in formgrader and releases feedback over ngshare; each learner
fetches and reads their own. Then the second learner tries every way round the exchange, with his own hub token
(what his server and kernels hold), and each attempt is refused with its error.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from course_runtime.coursepage import when
from course_runtime.quiz import ANSWERS_FORMAT

from course.hub import ngshare
from course.hub.hubconfig import server_environment
from tests import pg
from tests.conftest import ROOT
from tests.hubtools import NationalCourse, national_course, needs_root

needs_root()
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it and never skips",
                allow_module_level=True)

# only once chromium is known to be there
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.hubpages import ARGS, course_page, login, menu, saved  # noqa: E402

TEACHER, LI, WANG = "kamhub-n-teacher", "kamhub-n-li", "kamhub-n-wang"
CASE = {LI: "李：先倾听并致歉，再承诺处理时限。", WANG: "王：立即升级投诉并回访客户。"}
PICK = {LI: "5月17日", WANG: "6月1日"}  # ch01-001 (2 points): 5月17日 is right
DENIED = {"success": False, "message": "Permission denied"}
# course/hub/ngshare_service.py (run by ngshare's interpreter, not importable here)
UNAUTHENTICATED = "Permission denied (no hub identity: send `Authorization: token <your hub API token>`)"
COURSE = "kam-cert"


@pytest.fixture(scope="module")
def nc() -> Iterator[NationalCourse]:
    with national_course("n", ["li", "wang"], port=18500) as course:
        yield course


def gradebook(nc: NationalCourse) -> Any:
    from nbgrader.api import Gradebook

    return Gradebook(nc.db_url, course_id=COURSE)


def learner_session(browser: Any, nc: NationalCourse, name: str) -> str:
    """Log in, fetch, answer with clicks, submit, all from the course page; the page's text after submitting."""
    page = login(browser, nc, name)
    try:
        listed = course_page(page, nc, name)
        assert "基础篇　测试章" in listed and "未获取" in listed, listed  # by its Chinese title, from ngshare
        assert course_page(page, nc, name, "获取") == "获取成功：基础篇　测试章"
        page.get_by_role("link", name="打开作答").click()
        page.get_by_text("Python 3 (ipykernel) | 空闲").wait_for()
        menu(page, "运行", "运行所有单元格")  # the learners' lab is in Chinese
        page.wait_for_selector("textarea")
        page.get_by_label(PICK[name], exact=False).check()
        page.locator("textarea").fill(CASE[name])
        page.locator("textarea").blur()
        answers = Path(f"/home/{name}/ch01/ch01.answers.json")
        assert saved(answers, "ch01-007", CASE[name]), answers.read_text(encoding="utf-8")
        assert course_page(page, nc, name, "提交") == "提交成功：基础篇　测试章"
        return course_page(page, nc, name)
    except Exception:
        # the hub's folder is removed after the test; test-artifacts/ is kept (.ci/run lists it)
        (ROOT / "test-artifacts" / "hub-browser").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ROOT / "test-artifacts" / "hub-browser" / f"{name}-failed.png"))
        raise
    finally:
        page.context.close()


def hand_grade(browser: Any, nc: NationalCourse, points: int) -> float | None:
    """The instructor gives li's case answer ``points`` in formgrader; the score the PostgreSQL gradebook holds."""
    with gradebook(nc) as gb:
        submission = gb.find_submission_notebook("ch01", "ch01", LI).id
    page = login(browser, nc, TEACHER)
    page.goto(f"{nc.settings.url}/user/{TEACHER}/formgrader/submissions/{submission}/?index=0")
    page.wait_for_load_state("networkidle")  # formgrader binds its inputs once the grades have come over its API
    score = page.locator('input.score[id="ch01-007"]')
    score.fill(str(points))
    score.press("Tab")  # formgrader saves on change, over its API
    found = None
    for _ in range(300):
        with gradebook(nc) as gb:
            found = gb.find_grade("ch01-007", "ch01", "ch01", LI).manual_score
        if found == points:
            break
        time.sleep(0.2)
    page.context.close()
    return found


def feedback_of(browser: Any, nc: NationalCourse, name: str) -> str:
    """The learner fetches feedback from the course page and opens it there."""
    url = nc.settings.url
    page = login(browser, nc, name)
    assert course_page(page, nc, name, "获取反馈") == "获取反馈成功：基础篇　测试章"
    href = page.get_by_role("link", name="查看反馈").get_attribute("href")
    page.goto(f"{url}{href}")
    text = str(page.locator("body").inner_text())
    page.context.close()
    return text


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def test_two_learners_and_an_instructor_through_ngshare(nc: NationalCourse) -> None:
    assert CHROMIUM, "chromium is not installed: .ci/run installs it with apt-get"
    assert not Path(nc.settings.exchange).exists()  # nothing is shared through a folder
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        before = utc_now()
        pages = {name: learner_session(browser, nc, name) for name in (LI, WANG)}
        after = utc_now()

        nc.instructor("collect", "ch01")
        nc.instructor("autograde", "ch01", "-j", "1")
        assert hand_grade(browser, nc, 3) == 3
        nc.instructor("feedback", "ch01")
        mine, theirs = feedback_of(browser, nc, LI), feedback_of(browser, nc, WANG)
        browser.close()

    with gradebook(nc) as gb:
        scores = {name: gb.find_submission("ch01", name).score for name in (LI, WANG)}
        times = {name: gb.find_submission("ch01", name).timestamp for name in (LI, WANG)}
    assert scores == {LI: 5.0, WANG: 0.0}  # li: ch01-001 (2) + her case, hand-graded (3); wang: 6月1日 is wrong
    for name in (LI, WANG):
        # the service's clock, in UTC although the database runs in China time; the page shows it in China time
        assert before <= times[name] <= after, (times, before, after)
        assert f"已提交（{when(str(times[name]))}）" in pages[name], pages[name]
    assert CASE[LI] in mine and CASE[WANG] not in mine
    assert CASE[WANG] in theirs and CASE[LI] not in theirs


# ---------------------------------------------------------------------- the second learner tries every way round

API = """
import json, sys, requests
method, url, token, data = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
headers = {"Authorization": f"token {token}"} if token else {}
r = requests.request(method, url, headers=headers, **data)
try:
    body = r.json()
except ValueError:
    body = r.text[:200]
print(json.dumps({"status": r.status_code, "body": body}))
"""


class Attacker:
    """The learner ``name`` with his own hub token, running the learners' interpreter as his own account."""

    def __init__(self, nc: NationalCourse, name: str) -> None:
        self.nc, self.name, self.token = nc, name, nc.hub_token(name)

    def run(self, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        if env is None:
            return self.nc.with_token(self.name, self.token, *argv)
        from course.hub import accounts

        base = {**server_environment(self.nc.settings, "learner"), "JUPYTERHUB_API_TOKEN": self.token}
        return accounts.run_as(self.name, argv, accounts.user_env(self.name, {**base, **env}))

    def nbgrader(self, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(f"{self.nc.settings.learner_bindir}/nbgrader", *argv, "--course", COURSE, env=env)

    def api(self, method: str, path: str, token: str | None = "", **data: Any) -> tuple[int, Any]:
        """ngshare's API through the hub's proxy, as this learner (``token=None``: no token at all)."""
        sent = self.token if token == "" else (token or "")
        done = self.run(f"{self.nc.settings.learner_bindir}/python", "-c", API, method,
                        f"{self.nc.settings.ngshare_url}{path}", sent, json.dumps(data))
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        return answer["status"], answer["body"]


@pytest.fixture(scope="module")
def wang(nc: NationalCourse) -> Attacker:
    return Attacker(nc, WANG)


@pytest.fixture(scope="module")
def li_time(nc: NationalCourse) -> str:
    """li's latest submission time as the service recorded it (she submits with her own token if she has not)."""
    teacher = Attacker(nc, TEACHER)
    status, body = teacher.api("GET", f"/submissions/{COURSE}/ch01/{LI}")
    assert status == 200, body
    if not body["submissions"]:
        li = Attacker(nc, LI)
        assert li.nbgrader("fetch_assignment", "ch01").returncode == 0
        assert li.nbgrader("submit", "ch01").returncode == 0
        status, body = teacher.api("GET", f"/submissions/{COURSE}/ch01/{LI}")
    return str(body["submissions"][-1]["timestamp"])


def log_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split("] ", 1)[-1] for line in done.stderr.strip().splitlines()]


def test_a_learner_cannot_list_anothers_submissions(nc: NationalCourse, wang: Attacker, li_time: str) -> None:
    """Can wang see who submitted, or when li did?"""
    assert wang.api("GET", f"/submissions/{COURSE}/ch01") == (403, DENIED)
    assert wang.api("GET", f"/submissions/{COURSE}/ch01/{LI}") == (403, DENIED)
    listed = wang.nbgrader("list", "--inbound")
    assert f"ngshare endpoint /submissions/{COURSE}/ch01 returned failure: Permission denied" in log_lines(listed)


def test_a_learner_cannot_fetch_or_read_anothers_submission(nc: NationalCourse, wang: Attacker, li_time: str) -> None:
    """Neither through the service (li's latest, or by its time) nor in the service's files on disk."""
    assert wang.api("GET", f"/submission/{COURSE}/ch01/{LI}") == (403, DENIED)
    assert wang.api("GET", f"/submission/{COURSE}/ch01/{LI}", params={"timestamp": li_time}) == (403, DENIED)
    files = Path(nc.settings.ngshare_storage) / "files"
    done = wang.run(f"{nc.settings.learner_bindir}/python", "-c", f"import os; os.listdir({str(files)!r})")
    assert done.stderr.strip().splitlines()[-1] == (
        f"PermissionError: [Errno 13] Permission denied: '{files}'")


def test_a_learner_cannot_read_anothers_feedback(nc: NationalCourse, wang: Attacker, li_time: str) -> None:
    """Neither by asking for li's feedback with his token, nor by posing as li to nbgrader's fetch_feedback."""
    assert wang.api("GET", f"/feedback/{COURSE}/ch01/{LI}", params={"timestamp": li_time}) == (403, DENIED)
    posing = wang.nbgrader("fetch_feedback", "ch01", env={"JUPYTERHUB_USER": LI})
    assert f"ngshare endpoint /feedback/{COURSE}/ch01/{LI} returned failure: Permission denied" in log_lines(posing)
    fetched = [p.read_text(encoding="utf-8") for p in Path(f"/home/{WANG}").glob("ch01/feedback/*/ch01.html")]
    assert fetched and all(CASE[WANG] in page and CASE[LI] not in page for page in fetched)  # his own only


def test_a_learner_cannot_plant_feedback_or_change_the_release(wang: Attacker, li_time: str) -> None:
    """Only instructors write feedback, releases and the roster."""
    empty = json.dumps([])
    assert wang.api("POST", f"/feedback/{COURSE}/ch01/{LI}",
                    data={"timestamp": li_time, "files": empty}) == (403, DENIED)
    assert wang.api("POST", f"/assignment/{COURSE}/ch01", data={"files": empty}) == (403, DENIED)
    assert wang.api("DELETE", f"/assignment/{COURSE}/ch01") == (403, DENIED)
    assert wang.api("POST", f"/instructor/{COURSE}/{WANG}",
                    data={"first_name": "", "last_name": "", "email": ""}) == (403, DENIED)


def test_a_request_without_a_hub_identity_is_refused(wang: Attacker) -> None:
    """No token, or a made-up one: refused before any handler runs (upstream ngshare answers 500 here)."""
    refused = (403, {"success": False, "message": UNAUTHENTICATED})
    assert wang.api("GET", f"/submission/{COURSE}/ch01/{LI}", token=None) == refused
    assert wang.api("GET", f"/submissions/{COURSE}/ch01", token="0" * 32) == refused


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def test_a_learner_can_neither_submit_as_another_nor_backdate(nc: NationalCourse, wang: Attacker, li_time: str
                                                               ) -> None:
    """wang submits li's name and an old time every way he can; the service records him, at its own clock."""
    refused = wang.nbgrader("submit", "ch01", "--student", LI)
    assert "Submitting assignments with an explicit student ID is not possible with ngshare." in log_lines(refused)

    forged = {"format": ANSWERS_FORMAT, "notebook": "ch01", "learner": LI, "answers": {"ch01-001": "A"}}
    files = [{"path": "ch01.answers.json", "content": b64(json.dumps(forged))},
             {"path": "timestamp.txt", "content": b64("2020-01-01 00:00:00.000000 UTC")}]
    before = utc_now()
    # ngshare_exchange itself sends `user`; the service reads only the token
    status, body = wang.api("POST", f"/submission/{COURSE}/ch01", data={
        "user": LI, "student_id": LI, "timestamp": "2020-01-01 00:00:00.000000", "files": json.dumps(files)})
    after = utc_now()
    assert status == 200 and body["success"], body
    stamp = body["timestamp"]
    assert before <= dt.datetime.fromisoformat(stamp) <= after  # the service's clock, in UTC

    teacher = Attacker(nc, TEACHER)
    listed = teacher.api("GET", f"/submissions/{COURSE}/ch01")[1]["submissions"]
    assert {"student_id": WANG, "timestamp": stamp} in listed
    assert [s["timestamp"] for s in listed if s["student_id"] == LI][-1] == li_time  # li's record untouched

    nc.instructor("collect", "ch01")
    submitted = Path(nc.settings.root) / "submitted"
    assert (submitted / WANG / "ch01" / "timestamp.txt").read_text(encoding="utf-8") == stamp  # not 2020
    assert json.loads((submitted / WANG / "ch01" / "ch01.answers.json").read_text(encoding="utf-8")) == forged
    assert (submitted / LI / "ch01" / "timestamp.txt").read_text(encoding="utf-8") == li_time


def test_a_learner_cannot_reach_the_databases(nc: NationalCourse, wang: Attacker) -> None:
    """PostgreSQL (gradebook and exchange) asks for a password wang does not have; the hub's copy is root's."""
    psql = pg._bindir() / "psql"  # type: ignore[operator]
    port = nc.db_url.rsplit(":", 1)[1].split("/")[0]
    done = wang.run(str(psql), "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "gradebook", "-c", "select 1",
                    "-w")
    assert done.stderr.strip().endswith("fe_sendauth: no password supplied"), done.stderr
    secrets = nc.settings.secrets_path
    read = wang.run(f"{nc.settings.learner_bindir}/python", "-c", f"open({str(secrets)!r}).read()")
    assert read.stderr.strip().splitlines()[-1] == f"PermissionError: [Errno 13] Permission denied: '{secrets}'"
    assert ngshare.Secrets.load(secrets).db_url == nc.db_url
