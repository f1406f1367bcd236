"""Does the whole course work on the hub, in a real browser, for two learners and an instructor?

A real JupyterHub (PAM login page, configurable-http-proxy, each user spawned as their own OS
account ``kamhub-b-*``; needs root, as CI runs) and headless Debian Chromium: two learners log
in to the Chinese course page (课程作业), fetch, answer with clicks in a Chinese JupyterLab, and
submit; one reloads the page three seconds after her last answer and again after a kernel restart,
and sees every answer each time. The instructor collects and autogrades (``course`` commands as
the instructor's account), hand-grades the case question in formgrader, opens formgrader's tab
inside JupyterLab, and releases feedback; each learner fetches feedback and sees their own only.
The learner's lab has no instructor tool, and a learner cannot reach formgrader.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, read_json_written
from tests.hubtools import HubCourse, hub_course, needs_root, running_hub

needs_root()
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it and never skips",
                allow_module_level=True)

# only once chromium is known to be there
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.hubpages import ARGS, course_page, login, menu, menu_items, saved  # noqa: E402

TEACHER, LI, WANG = "kamhub-b-teacher", "kamhub-b-li", "kamhub-b-wang"
CASE = {LI: "李：先倾听并致歉，再承诺处理时限。", WANG: "王：立即升级投诉并回访客户。"}
PICK = {LI: "5月17日", WANG: "6月1日"}


@pytest.fixture(scope="module")
def hub() -> Iterator[HubCourse]:
    with hub_course("b", ["li", "wang"], port=18200) as hc, running_hub(hc):
        yield hc


def learner_session(browser: Any, hc: HubCourse, name: str, *, reload: bool = False) -> list[str]:
    """Log in, fetch, answer with clicks (and reload and restart the kernel), submit; the menu bar's labels."""
    page = login(browser, hc, name)
    try:
        return _learner_steps(page, hc, name, reload)
    except Exception:
        # the hub's folder is removed after the test; test-artifacts/ is kept (.ci/run lists it)
        (ROOT / "test-artifacts" / "hub-browser").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ROOT / "test-artifacts" / "hub-browser" / f"{name}-failed.png"))
        raise


QUESTIONS = 7  # ch01 of tests/fixtures/mini
# Widget views the saved notebook holds: the setup cell's progress line, one per question, the check box
SAVED_VIEWS = 1 + QUESTIONS + 1
# A question's widget as drawn: every top-level widget of the course is .kam-quiz; the progress line and the
# check box (which holds it) are not questions
QUESTION_VIEWS = ".jp-OutputArea-output .kam-quiz:not(.kam-progress):not(:has(.kam-progress))"
AUTOSAVE_BOUND = 5.0  # s after the learner's 3 s: the course's lab settings autosave every second


def _widget_outputs(path: Path) -> int:
    """How many widget views the saved notebook holds (autosave keeps them in the file)."""
    for _ in range(50):  # None while JupyterLab is writing it
        if (nb := read_json_written(path)) is not None:
            return sum("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                       for c in nb["cells"] for o in c.get("outputs", []))
        time.sleep(0.1)
    raise AssertionError(f"{path} stayed unreadable for 5 s")


def _autosaved(page: Any) -> float:
    """Seconds until no open document has unsaved changes (JupyterLab marks its tab jp-mod-dirty until autosave);
    fails once the bound has passed, rather than reloading later than a learner would."""
    start = time.monotonic()
    while page.locator(".lm-TabBar-tab.jp-mod-dirty").count() > 0:
        waited = time.monotonic() - start
        assert waited < AUTOSAVE_BOUND, f"the notebook is still unsaved {waited:.1f} s after the learner's 3 s"
        time.sleep(0.2)
    return time.monotonic() - start


def _answers_shown(page: Any, name: str) -> bool:
    """The learner's answers on screen: the chosen option, and the case text."""
    page.locator("textarea").first.wait_for()
    return bool(page.get_by_label(PICK[name], exact=False).is_checked()
                and page.locator("textarea").first.input_value() == CASE[name])


def _questions_drawn(page: Any) -> int:
    """How many question widgets the page draws, once all of them are (or after 30 s, how many are)."""
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(f"() => document.querySelectorAll({QUESTION_VIEWS!r}).length >= {QUESTIONS}",
                               timeout=30_000)
    return int(page.locator(QUESTION_VIEWS).count())


def _reload_after_three_seconds(page: Any, name: str, dialogs: list[str]) -> tuple[float, int]:
    """The learner reloads 3 s after the last change; (autosave's extra wait, widget views saved). Asserts that
    every question is drawn again with the answers, and no "leave site?" prompt came."""
    time.sleep(3)  # a learner reloads a few seconds after the last answer ...
    waited = _autosaved(page)  # ... by when autosave (every second) has run
    on_disk = _widget_outputs(Path(f"/home/{name}/ch01/ch01.ipynb"))
    page.reload()
    assert _answers_shown(page, name) and dialogs == [], (dialogs, on_disk)  # no "leave site?", nothing lost
    assert (_questions_drawn(page), on_disk) == (QUESTIONS, SAVED_VIEWS), waited  # from the saved state, no run
    page.locator(".widget-html", has_text="已作答 2 / 7 题").first.wait_for()
    return waited, on_disk


def _learner_steps(page: Any, hc: HubCourse, name: str, reload: bool) -> list[str]:
    listed = course_page(page, hc, name)
    assert "基础篇　测试章" in listed and "未获取" in listed, listed  # by its Chinese title, not ch01
    assert course_page(page, hc, name, "获取") == "获取成功：基础篇　测试章"
    notebook = Path(f"/home/{name}/ch01/ch01.ipynb")
    fetched = notebook.read_bytes(), notebook.stat().st_mtime_ns
    page.get_by_role("link", name="打开作答").click()
    page.wait_for_selector(".jp-Notebook")
    page.get_by_text("Python 3 (ipykernel) | 空闲").wait_for()  # the kernel is up: Run All will run
    # Opening does not modify the notebook (released with the kernel's language_info): its tab is not marked,
    # and autosave (every second) has not rewritten it. First open only: restoring saved widget state later
    # marks it modified for a moment, by ipywidgets' own doing.
    time.sleep(2)
    assert page.locator(".lm-TabBar-tab.jp-mod-dirty").count() == 0
    assert (notebook.read_bytes(), notebook.stat().st_mtime_ns) == fetched
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    menu(page, "运行", "运行所有单元格")  # the learners' lab is in Chinese (zh_CN language pack)
    page.wait_for_selector("textarea")  # the case question is the last widget drawn
    page.get_by_label(PICK[name], exact=False).check()
    page.locator("textarea").fill(CASE[name])
    page.locator("textarea").blur()
    answers = Path(f"/home/{name}/ch01/ch01.answers.json")
    assert saved(answers, "ch01-007", CASE[name]), answers.read_text(encoding="utf-8")
    if reload:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
        waits = [_reload_after_three_seconds(page, name, dialogs)]
        kernel_menu = menu_items(page, "内核")
        assert "重启内核…" not in kernel_menu and "重启内核 和 运行所有单元格…" in kernel_menu, kernel_menu
        menu(page, "内核", "重启内核 和 运行所有单元格…")  # the learner's only restart: it draws the answers again
        page.locator(".jp-Dialog button.jp-mod-accept").click()
        page.locator(".widget-html", has_text="已作答 2 / 7 题").first.wait_for()
        assert _answers_shown(page, name)
        # Run All has finished (the progress line is drawn by the first cell, the rest may still run):
        # a reload while cells still write their outputs would rightly ask to leave unsaved changes
        page.get_by_text("Python 3 (ipykernel) | 空闲").wait_for()
        waits.append(_reload_after_three_seconds(page, name, dialogs))
        print("autosave's wait after the 3 s, widget views saved (after answering, after restart):", waits)
    assert course_page(page, hc, name, "提交") == "提交成功：基础篇　测试章"
    assert "已提交" in course_page(page, hc, name)
    page.context.close()
    return menus


def manual_score(hc: HubCourse, name: str, qid: str) -> float | None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{hc.root / 'gradebook' / 'gradebook.db'}", course_id="kam-cert") as gb:
        return gb.find_grade(qid, "ch01", "ch01", name).manual_score


def hand_grade(browser: Any, hc: HubCourse) -> float | None:
    """The instructor gives li's case answer 3 points in formgrader; the score the gradebook then holds."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{hc.root / 'gradebook' / 'gradebook.db'}", course_id="kam-cert") as gb:
        submission = gb.find_submission_notebook("ch01", "ch01", LI).id
    page = login(browser, hc, TEACHER)
    page.goto(f"{hc.settings.url}/user/{TEACHER}/formgrader/submissions/{submission}/?index=0")
    page.wait_for_load_state("networkidle")  # formgrader binds its inputs once the grades have come over its API
    score = page.locator('input.score[id="ch01-007"]')
    score.fill("3")
    score.press("Tab")  # formgrader saves on change
    for _ in range(300):  # formgrader saves over an API call; a loaded machine takes its time
        if manual_score(hc, LI, "ch01-007") == 3:
            break
        time.sleep(0.2)
    page.context.close()
    return manual_score(hc, LI, "ch01-007")


def formgrader_in_the_lab(browser: Any, hc: HubCourse) -> str:
    """The instructor opens formgrader's tab inside JupyterLab; the text its frame shows."""
    page = login(browser, hc, TEACHER)
    menu(page, "Nbgrader", "Formgrader")
    frame = page.frame_locator("iframe").first
    frame.get_by_text("Manage Assignments").first.wait_for()
    frame.get_by_role("link", name="ch01").first.wait_for()  # the assignments table, loaded over the API
    text = str(frame.locator("body").inner_text())
    page.context.close()
    return text


def feedback_of(browser: Any, hc: HubCourse, name: str) -> str:
    """The learner fetches feedback from the course page and opens it there."""
    page = login(browser, hc, name)
    assert course_page(page, hc, name, "获取反馈") == "获取反馈成功：基础篇　测试章"
    href = page.get_by_role("link", name="查看反馈").get_attribute("href")
    page.goto(f"{hc.settings.url}{href}")
    text = str(page.locator("body").inner_text())
    page.context.close()
    return text


def test_two_learners_and_an_instructor_through_the_hub(hub: HubCourse) -> None:
    hc = hub
    assert CHROMIUM, "chromium is not installed: .ci/run installs it with apt-get"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for name in (LI, WANG):
            menus = learner_session(browser, hc, name, reload=name == LI)
            assert {"文件", "编辑", "运行", "内核", "作业"} <= set(menus) and "Nbgrader" not in menus, menus

        hc.instructor("collect", "ch01")
        hc.instructor("autograde", "ch01", "-j", "1")
        assert hand_grade(browser, hc) == 3
        assert "ch01" in formgrader_in_the_lab(browser, hc)  # framed by the same origin: not blank

        page = login(browser, hc, LI)  # no formgrader for a learner: not in her lab, not the instructor's
        assert page.goto(f"{hc.settings.url}/user/{LI}/formgrader").status == 404
        assert page.goto(f"{hc.settings.url}/user/{TEACHER}/formgrader").status == 403  # his server runs
        page.context.close()
        hc.instructor("feedback", "ch01")

        mine, theirs = feedback_of(browser, hc, LI), feedback_of(browser, hc, WANG)
        browser.close()
    assert CASE[LI] in mine and CASE[WANG] not in mine
    assert CASE[WANG] in theirs and CASE[LI] not in theirs


def test_the_hub_serves_the_certificate_verification_page_without_a_login(hub: HubCourse) -> None:
    """Does the hub route /services/certificates/ to the page, for anyone, saying why it cannot check yet?"""
    url = f"{hub.settings.url}/services/certificates/?code=AAAA-BBBB-CCCC-DDDD-EEEE"
    deadline = time.monotonic() + 60
    while True:  # the hub starts its services beside itself
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = response.read().decode("utf-8")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert "岗位技能认证证书核验" in body and 'id="status" class="warn">暂不可用<' in body  # no register yet
