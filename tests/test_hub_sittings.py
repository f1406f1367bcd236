"""Is a certification exam sat, on the hub, on a clock no learner can touch — through the commands and a browser?

A whole round only through `course` commands (as the instructor's account) and headless Chromium
(real hub, real OS accounts; needs root as CI runs), on both paths: the closed exchange with a SQLite
gradebook, and the national path (the ngshare exchange, the gradebook on PostgreSQL with its clock in
China time; tests/hubtools.national_course): paper create → generate → release → a sitting
opened → two learners sit it (li, with extra time, answers everything and hands in; wang answers
two questions, runs out of time, then types code into his notebook that sends more answers with his
own hub token, and rewrites every file of his paper) → collect → autograde → the instructor
hand-grades li's case in formgrader, reached through its pages → training, applicants, ratings
imported → certify results. The test waits by polling `course sitting report` and reads the
decisions from the results.xlsx `course certify results` names: only answers the sittings service
received before a learner's end count, and both decisions are the hand-computed ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hubtools import HubCourse, hub_course, national_course, needs_root, running_hub

needs_root()
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it and never skips",
                allow_module_level=True)

# only once chromium is known to be there
from playwright.sync_api import sync_playwright  # noqa: E402

from course import model as m  # noqa: E402
from course.loader import load_course  # noqa: E402
from tests.hubpages import ARGS, course_page, login, menu  # noqa: E402

CERT = Path(__file__).parent / "fixtures" / "cert"
TEACHER, LI, WANG = "kamhub-s-teacher", "kamhub_s_li", "kamhub_s_wang"  # paper variants: no hyphen in an id
PAPER = "L4-h"
CASE_TEXT = "先倾听客户诉求并致歉，说明处理时限，升级专人跟进并按时回访。"


@pytest.fixture(scope="module", params=["closed", "ngshare"])
def hub(request: pytest.FixtureRequest) -> Iterator[HubCourse]:
    if request.param == "closed":
        with hub_course("s", ["li", "wang"], port=18600, content=CERT, separator="_") as hc, running_hub(hc):
            yield hc
    else:
        with national_course("s", ["li", "wang"], port=18600, content=CERT, separator="_") as nc:
            yield nc


def variant(hc: HubCourse, learner: str) -> dict[str, Any]:
    """The learner's variant, from the paper's manifest `course paper create` wrote."""
    return dict(json.loads((hc.root / "papers" / f"{PAPER}.json").read_text(encoding="utf-8"))["variants"][learner])


CODE_ON_SCREEN = ("def ", "import ", "quiz.", "Test cell", "Grade cell", "Out[")


def start(browser: Any, hc: HubCourse, name: str) -> Any:
    """Log in, start the sitting from the course page (accepting its confirmation), run all cells."""
    page = login(browser, hc, name)
    page.on("dialog", lambda d: d.accept())
    listed = course_page(page, hc, name)
    assert "岗位技能四级 考核试卷" in listed and "可以开始考试" in listed, listed
    page.get_by_role("button", name="开始考试", exact=True).click()
    page.wait_for_selector(".jp-Notebook")
    page.get_by_text("Python 3 (ipykernel) | 空闲").wait_for()
    menu(page, "运行", "运行所有单元格")
    page.locator(".kam-clock", has_text="剩余时间").first.wait_for()
    # like a chapter: Chinese instructions (here: how the sitting is timed and handed in), no code on screen
    text = str(page.locator(".jp-NotebookPanel-notebook").first.inner_text())
    assert "考试计时" in text and "点击 交卷" in text, text
    assert [s for s in CODE_ON_SCREEN if s in text] == []
    return page


def answer(page: Any, hc: HubCourse, qids: list[str], order: list[str]) -> None:
    """Click the right answer of each question in ``qids`` (``order``: the paper's questions as numbered)."""
    course = load_course(Path(hc.settings.content))
    kinds = [course.by_id[q].type for q in order]
    for qid in qids:
        q = course.by_id[qid]
        nth = sum(1 for k in kinds[:order.index(qid)] if k == q.type)  # the nth widget of its type
        if isinstance(q, m.SingleChoice):
            page.locator(".widget-radio-box").nth(nth).get_by_label(q.options[q.answer], exact=False).check()
        elif isinstance(q, m.TrueFalse):
            label = "正确 ✓" if q.answer else "错误 ✗"
            page.locator(".widget-toggle-buttons").nth(nth).get_by_role("button", name=label).click()
        elif isinstance(q, m.CaseAnalysis):
            page.locator("textarea").nth(nth).fill(CASE_TEXT)
            page.locator("textarea").nth(nth).blur()


def run_code(page: Any, code: str) -> str:
    """Add a code cell below the notebook's last, type ``code`` into it and run it, as a learner can; its output."""
    page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name="insert"]').first.click()
    page.locator(".jp-Notebook .jp-Cell.jp-mod-active .cm-content").click()
    page.keyboard.insert_text(code)  # as typed, without the editor's auto-closing brackets
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-OutputArea-output", has_text="RESULT ").first
    output.wait_for()
    return str(output.inner_text()).split("RESULT ", 1)[1]


def report_line(hc: HubCourse, learner: str) -> str:
    """The learner's line of `course sitting report` (as the instructor runs it)."""
    report = hc.instructor("sitting", "report", f"{PAPER}-1")
    return next(line for line in report.splitlines() if line.startswith(f"  {learner}: "))


def wait_for(check: Any, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_a_certification_round_sat_through_the_hub(hub: HubCourse) -> None:
    hc = hub
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    hc.instructor("paper", "create", "L4", "--paper", PAPER, "--learner", LI, "--learner", WANG)
    hc.instructor("generate", PAPER)
    assert "learners receive their variant when they start their sitting" in hc.instructor("release", PAPER)
    opened = hc.instructor("sitting", "create", PAPER, "--opens", f"{now - dt.timedelta(minutes=1):%Y-%m-%d %H:%M}",
                           "--closes", f"{now + dt.timedelta(minutes=40):%Y-%m-%d %H:%M}", "--minutes", "2",
                           "--extra", f"{LI}=20")
    assert opened.startswith(f"sitting {PAPER}-1: paper {PAPER}, 2 learner(s), 2 min")
    li, wang = variant(hc, LI), variant(hc, WANG)
    li_order, wang_order = li["theory"] + li["skills"], wang["theory"] + wang["skills"]
    course = load_course(Path(hc.settings.content))
    wang_tf = [q for q in wang_order if course.by_id[q].type == "truefalse"][:2]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        # wang: two answers in time, then his two minutes run out
        page = start(browser, hc, WANG)
        answer(page, hc, wang_tf, wang_order)
        wait_for(lambda: re.search(r"[^0-9]2 answer\(s\) (so far|counted)", report_line(hc, WANG)),
                 "wang's answers reach the service")
        page.locator(".kam-clock", has_text="考试时间已到").first.wait_for(timeout=240_000)
        page.locator(".widget-toggle-buttons button:disabled").first.wait_for()  # no widget takes an answer now
        # ... and answers on from a cell he types into his notebook (his kernel holds his hub token): kept, as late
        late = {q: course.by_id[q].answer for q in wang_order if course.by_id[q].type in ("truefalse", "single")}
        reply = json.loads(run_code(page, (
            "import json\nfrom course_runtime import exam\n"
            f"print('RESULT', json.dumps(exam.call({wang['assignment'] + '/answers'!r}, {{'answers': {late!r}}})))")))
        assert (reply["state"], reply["counted"]) == ("over", False), reply
        wait_for(lambda: f"; {len(late)} answer(s) after the end" in report_line(hc, WANG),
                 "wang's late answers reach the service")
        page.context.close()
        # li: everything, with her extra time, then hands in
        page = start(browser, hc, LI)
        answer(page, hc, li_order, li_order)
        wait_for(lambda: f"{len(li_order)} answer(s) so far" in report_line(hc, LI), "li's answers reach the service")
        assert course_page(page, hc, LI, "交卷").startswith("已交卷")
        page.context.close()

        # wang rewrites every file of his paper: answers, notebook metadata, times
        folder = f"/home/{WANG}/{wang['assignment']}"
        forged = hc.python_as(WANG, (
            "import json, os, glob\n"
            f"folder = {folder!r}\n"
            f"path = folder + '/{wang['assignment']}.answers.json'\n"
            "data = json.load(open(path))\n"
            f"data['answers'] = {late!r}; data['saved_at'] = '2020-01-01T00:00:00+00:00'\n"
            "json.dump(data, open(path, 'w'))\n"
            f"nb = folder + '/{wang['assignment']}.ipynb'\n"
            "d = json.load(open(nb)); d['metadata']['course']['sitting_end'] = '2099-01-01'\n"
            "json.dump(d, open(nb, 'w'))\n"
            "for f in glob.glob(folder + '/*'): os.utime(f, (946684800, 946684800))\n"))
        assert forged.returncode == 0, forged.stderr

        collected = hc.instructor("collect", PAPER)
        wang_line = collected.split(f"  {WANG}:")[1].splitlines()[0]
        assert wang_line.startswith(" attempt 1, ") and f"2 answer(s) counted; {len(late)} answer(s) after the end" \
            in wang_line, collected
        assert f"{len(li_order)} answer(s) counted" in collected.split(f"  {LI}:")[1].splitlines()[0]
        assert collected.splitlines()[-1] == "collected 2 new or updated submission(s) of 2 assignment(s)."
        hc.instructor("autograde", PAPER, "-j", "1")
        # the instructor gives li's case answer 8 of 10 in formgrader
        grade_case(browser, hc, li)
        browser.close()

    records_dir = hc.root
    (records_dir / "roster.csv").write_text(
        f"learner_id,name,region,department,target_level\n{LI},李娜,华东,政企客户部,L4\n{WANG},王强,华南,政企客户部,L4\n",
        encoding="utf-8")
    (records_dir / "t.csv").write_text(f"learner_id,course,hours,date\n{LI},基础篇,30,2026-09-01\n"
                                       f"{WANG},基础篇,30,2026-09-01\n", encoding="utf-8")
    (records_dir / "a.csv").write_text(f"learner_id,years_in_post,held_level,education\n{LI},2,,大专\n"
                                       f"{WANG},2,,本科\n", encoding="utf-8")
    competencies = [c.id for c in course.competencies.items if getattr(c, "assessed_by", None) != "exam"]
    (records_dir / "r.csv").write_text("learner_id,competency,level,rater\n" + "".join(
        f"{lr},{c},初级,张经理\n" for lr in (LI, WANG) for c in competencies), encoding="utf-8")
    for name in ("roster.csv", "t.csv", "a.csv", "r.csv"):
        shutil.chown(records_dir / name, TEACHER)
    hc.instructor("certify", "import-training", "t.csv")
    hc.instructor("certify", "import-applicants", "a.csv")
    hc.instructor("certify", "import-ratings", "r.csv")
    decided = results(hc.instructor("certify", "results", "--round", "R1"))
    theory_max = sum(course.by_id[q].points for q in li["theory"])  # 20 points, as every variant of L4
    wang_theory = sum(course.by_id[q].points for q in wang_tf)  # only his two answers saved in time: 2 points
    assert (theory_max, wang_theory) == (20, 2)
    assert decided[LI] == {"计分考试": "四级认证考试", "理论": 100.0, "技能": 80.0, "结论": "通过",
                           "原因": "全部条件达到"}
    assert decided[WANG] == {"计分考试": "四级认证考试", "理论": 10.0, "技能": 0.0, "结论": "未通过",
                             "原因": "理论成绩 10 低于合格线 60；技能成绩 0 低于合格线 60"}


def grade_case(browser: Any, hc: HubCourse, paper: dict[str, Any]) -> None:
    """In formgrader, through its pages: Gradebook → the learner's variant → its notebook → the submission;
    the case gets 8 points, and the submissions list then shows 28 / 30 (20 theory points + 8)."""
    case, assignment = paper["skills"][0], paper["assignment"]
    page = login(browser, hc, TEACHER)
    page.goto(f"{hc.settings.url}/user/{TEACHER}/formgrader/gradebook")  # formgrader's Gradebook page
    page.locator(f'table a[href$="/formgrader/gradebook/{assignment}"]').click()
    page.locator(f'table a[href$="/formgrader/gradebook/{assignment}/{assignment}"]').click()
    submissions = page.url
    page.locator('table a[href*="/formgrader/submissions/"]:visible').first.click()
    page.wait_for_load_state("networkidle")  # formgrader binds its inputs once the grades have come over its API
    score = page.locator(f'input.score[id="{case}"]')
    score.fill("8")
    score.press("Tab")  # formgrader saves on change
    listing = page.context.new_page()

    def graded() -> bool:
        listing.goto(submissions)
        cell = listing.locator("table tbody tr td", has_text=" / ").first
        cell.wait_for()
        return str(cell.inner_text()).strip() == "28 / 30"

    wait_for(graded, "formgrader saved the case grade")
    page.context.close()


def results(printed: str) -> dict[str, dict[str, Any]]:
    """Each learner's decision in the results.xlsx that `course certify results` printed the path of."""
    from openpyxl import load_workbook

    path = Path(next(line for line in printed.splitlines() if line.startswith("Results: "))[len("Results: "):])
    sheet = load_workbook(path, read_only=True)["认证结果"]
    rows = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]  # row 1: the title; row 2: the header
    header = rows[0]
    wanted = ("计分考试", "理论", "技能", "结论", "原因")
    return {str(r[header.index("学员编号")]): {k: r[header.index(k)] for k in wanted} for r in rows[1:]}
