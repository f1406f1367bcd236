"""Is a certification exam sat, on the hub, on a clock no learner can touch — through the commands and a browser?

A whole round only through `course` commands (as the instructor's account) and headless Chromium
(real hub, real OS accounts; needs root as CI runs), on both paths: the closed exchange with a SQLite
gradebook, and the national path (the ngshare exchange, the gradebook on PostgreSQL with its clock in
China time; tests/hubtools.national_course): paper create → generate → release → a sitting
opened → two learners sit it (li, with extra time, answers everything and hands in; wang answers
two questions, runs out of time, then answers more from his own kernel and rewrites every file in
his home) → collect → autograde → the instructor hand-grades li's case in formgrader → training,
applicants, ratings imported → certify results. Only answers the sittings service received before
a learner's end count, and both decisions are the hand-computed ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
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


def gradebook_url(hc: HubCourse) -> str:
    """The course's gradebook: PostgreSQL on the national path, else the course folder's SQLite file."""
    return getattr(hc, "db_url", "") or f"sqlite:///{hc.root / 'gradebook' / 'gradebook.db'}"


def server_token(learner: str) -> str:
    """The hub token of ``learner``'s running server, which their kernels inherit (read as root from /proc)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        env = dict(item.decode(errors="replace").partition("=")[::2] for item in environ if b"=" in item)
        if env.get("JUPYTERHUB_USER") == learner and env.get("JUPYTERHUB_API_TOKEN"):
            return env["JUPYTERHUB_API_TOKEN"]
    raise AssertionError(f"no running server of {learner}")


def variant(hc: HubCourse, learner: str) -> dict[str, Any]:
    return dict(json.loads((hc.root / "papers" / f"{PAPER}.json").read_text(encoding="utf-8"))["variants"][learner])


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


def recorded(hc: HubCourse, learner: str) -> dict[str, Any]:
    """What the sittings service recorded for ``learner`` (latest per question, any time)."""
    from course.sittings import records
    from course.sittings.store import open_url

    with open_url(gradebook_url(hc), "kam-cert").connect() as conn:
        rows = records.answer_rows(conn, f"{PAPER}-1", learner, 1)
    return {r["question"]: json.loads(r["value"]) for r in rows}


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
        wait_for(lambda: set(recorded(hc, WANG)) >= set(wang_tf), "wang's answers reach the service")
        page.locator(".kam-clock", has_text="考试时间已到").first.wait_for(timeout=240_000)
        page.locator(".widget-toggle-buttons button:disabled").first.wait_for()  # no widget takes an answer now
        # ... and answers on with his server's own hub token (what his kernel holds): kept, as late
        late = {q: course.by_id[q].answer for q in wang_order if course.by_id[q].type in ("truefalse", "single")}
        token = server_token(WANG)
        posted = hc.learner(WANG, str(Path(hc.settings.learner_bindir) / "python"), "-c", (
            "import json, os, sys; from course_runtime import exam\n"
            f"print(json.dumps(exam.call({wang['assignment'] + '/answers'!r}, {{'answers': {late!r}}})))"),
            env_extra={"JUPYTERHUB_API_TOKEN": token})
        reply = json.loads(posted.stdout)
        assert (reply["state"], reply["counted"]) == ("over", False), posted
        wait_for(lambda: len(recorded(hc, WANG)) == len(late), "wang's late answers reach the service")
        page.context.close()
        # li: everything, with her extra time, then hands in
        page = start(browser, hc, LI)
        answer(page, hc, li_order, li_order)
        wait_for(lambda: len(recorded(hc, LI)) == len(li_order), "li's answers reach the service")
        assert course_page(page, hc, LI, "交卷").startswith("已交卷")
        page.context.close()

        # wang rewrites every file in his home: answers, notebook metadata, times
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
        assert f"  {WANG}: attempt 1" in collected and "2 answer(s) counted; " in collected
        assert "answer(s) after the end" in collected.split(f"  {WANG}:")[1].splitlines()[0]
        assert f"{len(li_order)} answer(s) counted" in collected.split(f"  {LI}:")[1].splitlines()[0]
        hc.instructor("autograde", PAPER, "-j", "1")
        # the instructor gives li's case answer 8 of 10 in formgrader
        grade_case(browser, hc, LI, li)
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
    hc.instructor("certify", "results", "--round", "R1")
    decided = decisions(hc)
    theory_max = sum(course.by_id[q].points for q in li["theory"])  # 20 points, as every variant of L4
    wang_theory = sum(course.by_id[q].points for q in wang_tf)  # only his two answers saved in time: 2 points
    assert (theory_max, wang_theory) == (20, 2)
    assert (decided[LI]["outcome"], decided[LI]["row"]["理论"], decided[LI]["row"]["技能"]) == ("通过", 100.0, 80.0)
    assert (decided[WANG]["outcome"], decided[WANG]["row"]["理论"], decided[WANG]["row"]["技能"]) == (
        "未通过", 10.0, 0.0)
    assert decided[WANG]["row"]["原因"] == "理论成绩 10 低于合格线 60；技能成绩 0 低于合格线 60"


def grade_case(browser: Any, hc: HubCourse, learner: str, paper: dict[str, Any]) -> None:
    from nbgrader.api import Gradebook

    case = paper["skills"][0]
    url = gradebook_url(hc)
    with Gradebook(url, course_id="kam-cert") as gb:
        submission = gb.find_submission_notebook(paper["assignment"], paper["assignment"], learner).id
    page = login(browser, hc, TEACHER)
    page.goto(f"{hc.settings.url}/user/{TEACHER}/formgrader/submissions/{submission}/?index=0")
    page.wait_for_load_state("networkidle")  # formgrader binds its inputs once the grades have come over its API
    score = page.locator(f'input.score[id="{case}"]')
    score.fill("8")
    score.press("Tab")  # formgrader saves on change

    def graded() -> bool:
        with Gradebook(url, course_id="kam-cert") as gb:
            return gb.find_grade(case, paper["assignment"], paper["assignment"], learner).manual_score == 8

    wait_for(graded, "formgrader saved the case grade")
    page.context.close()


def decisions(hc: HubCourse) -> dict[str, dict[str, Any]]:
    """The round's latest decision per learner, from the register (the gradebook's kam_decision)."""
    import sqlalchemy as sa

    from course.certification import store

    with store.existing(gradebook_url(hc)).connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(store.decisions).order_by(store.decisions.c.id)).mappings()]
    return {r["learner"]: {**r, "row": json.loads(r["row"])} for r in rows}
