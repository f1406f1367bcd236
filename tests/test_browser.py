"""Does a real click in JupyterLab reach the gradebook?

A JupyterLab server runs the learner's fetched notebook; headless Chromium
(Debian's package, driven by Playwright) runs the cells and clicks, types and
selects like a learner. The answers file must hold each click at once, a
browser reload must show the answers again, and after submit, collect and
autograde the gradebook must hold the clicked answers' scores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nbgrader.api import Gradebook
from typer.testing import CliRunner

from course import learners, workflow
from course.cli import app
from course.lab import install_learner_settings
from course.nbconfig import db_url
from tests.conftest import MINI, CourseDir, answers_saved, make_course_dir, read_json_written
from tests.ports import free_port

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it and never skips",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402 - only once chromium is known to be there

LEARNER = "zhang.san"
TOKEN = "browser-test"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CourseDir, Path, str]]:
    cd = make_course_dir(tmp_path_factory.mktemp("course"))
    workflow.generate(cd.root, ["ch01"])
    workflow.release(cd.root, ["ch01"])
    home = tmp_path_factory.mktemp("home")
    learners.fetch(cd.root, "ch01", LEARNER, home)
    port = free_port()
    bindir = str(Path(sys.executable).parent)
    config_dir = tmp_path_factory.mktemp("jupyter-config")
    install_learner_settings(config_dir)  # an editable install does not put them in the environment
    env = {**os.environ, "JUPYTERHUB_USER": LEARNER, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
           "JUPYTER_CONFIG_DIR": str(config_dir)}
    log = (home.parent / "lab.log").open("w")
    server = subprocess.Popen(
        [f"{bindir}/jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={home}", "--LabApp.expose_app_in_browser=True"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"JupyterLab did not start; see {log.name}") from None
                time.sleep(0.3)
        yield cd, home, url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


CODE_ON_SCREEN = ("def ", "import ", "quiz.", "Test cell", "Grade cell", "Out[")
NOTEBOOK = "window.jupyterapp?.shell.currentWidget"


def _open(page: Any, url: str) -> None:
    page.goto(f"{url}/lab/tree/ch01/ch01.ipynb?token={TOKEN}")
    page.wait_for_function(f"() => {NOTEBOOK}?.sessionContext?.session?.kernel"
                           "?.connectionStatus === 'connected'", timeout=90_000)


def _opens_unmodified(page: Any, url: str, path: Path, widget_state: bool = False) -> None:
    """Open the notebook: once its kernel has said what it is, the notebook is unmodified and its file unchanged.

    With saved widget state (``widget_state``), ipywidgets' lab manager marks the notebook dirty for each widget
    model it restores (saveState is on), so autosave writes the file again a second later: with the same text.
    """
    written, text = path.stat().st_mtime_ns, path.read_bytes()
    page.goto(f"{url}/lab/tree/ch01/ch01.ipynb?token={TOKEN}")
    page.wait_for_function(f"() => {NOTEBOOK}?.context?.isReady", timeout=90_000)
    page.evaluate(f"""() => {{ window.kamChanges = [];
        {NOTEBOOK}.context.model.stateChanged.connect((_, c) =>
            c.name === 'dirty' && window.kamChanges.push(c.newValue));
        {NOTEBOOK}.context.model.metadataChanged.connect((_, c) => window.kamChanges.push(c.key)); }}""")
    page.wait_for_function(f"() => {NOTEBOOK}?.sessionContext?.session?.kernel"
                           "?.connectionStatus === 'connected'", timeout=90_000)
    page.evaluate(f"() => {NOTEBOOK}.sessionContext.session.kernel.info.then(() => null)")
    time.sleep(3)  # JupyterLab writes language_info as the kernel's info arrives; autosave runs every second
    if widget_state:
        page.wait_for_function(f"() => !{NOTEBOOK}.context.model.dirty", timeout=10_000)
        assert [c for c in page.evaluate("() => window.kamChanges") if c not in (True, False)] == []
        assert path.read_bytes() == text
    else:
        assert page.evaluate("() => window.kamChanges") == []
        assert page.evaluate(f"() => {NOTEBOOK}.context.model.dirty") is False
        assert path.stat().st_mtime_ns == written


def _open_and_run(page: Any, url: str) -> None:
    _open(page, url)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector("textarea", timeout=90_000)  # the case question is the last widget drawn


def _notebook_text(page: Any) -> str:
    """What a learner can read in the notebook panel (hidden elements excluded)."""
    return str(page.locator(".jp-NotebookPanel-notebook").first.inner_text())


def _choose(menu: Any, label: str) -> None:
    menu.select_option(label=next(o for o in menu.locator("option").all_inner_texts() if o.endswith(label)))


def _saved(home: Path, wanted: dict[str, Any], timeout: float = 15) -> dict[str, Any]:
    return answers_saved(home / "ch01" / "ch01.answers.json", wanted, timeout)


def _saved_with_every_widget(home: Path, timeout: float = 60, holding: str = "") -> bool:
    """Once the notebook file holds a widget output in every code cell and the widget state (with ``holding``)."""
    path = home / "ch01" / "ch01.ipynb"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (nb := read_json_written(path)) is None:  # being saved
            time.sleep(0.3)
            continue
        views = [any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in c.get("outputs", []))
                 for c in nb["cells"] if c["cell_type"] == "code"]
        if all(views) and "widgets" in nb["metadata"] and holding in json.dumps(nb["metadata"]["widgets"],
                                                                                 ensure_ascii=False):
            return True
        time.sleep(0.3)
    return False


def test_clicks_are_saved_survive_a_reload_and_reach_the_gradebook(lab: tuple[CourseDir, Path, str]) -> None:
    cd, home, url = lab
    assert CHROMIUM, "chromium is not installed: .ci/run installs it with apt-get"
    shots = home.parent
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 2400})
        _opens_unmodified(page, url, home / "ch01" / "ch01.ipynb")
        # Before the cells run (no widgets yet): the static hint says what to do; no code is readable.
        page.wait_for_selector(".jp-MarkdownCell blockquote", timeout=30_000)
        before = _notebook_text(page)
        assert "如果题目下方没有出现选项或输入框，请选择菜单 运行 → 运行所有单元格" in before
        assert [s for s in CODE_ON_SCREEN if s in before] == []  # a hidden cell shows only its Chinese first line
        page.screenshot(path=str(shots / "not-run.png"))
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_selector("textarea", timeout=90_000)

        menus = page.locator(".widget-dropdown select")
        assert menus.count() == 5
        assert all(menus.nth(i).evaluate("m => m.options[m.selectedIndex].text") == "（请选择）" for i in range(5))
        # Legible menus: each takes (nearly) the full width of its answer area, under its prompt.
        for i in range(5):
            ratio = menus.nth(i).evaluate("m => m.getBoundingClientRect().width / "
                                          "m.closest('.jp-OutputArea').getBoundingClientRect().width")
            assert ratio > 0.8, (i, ratio)
        page.get_by_label("5月17日", exact=False).check()                       # single choice
        for text in ("产品", "价格", "渠道"):                                    # multiple choice
            page.get_by_label(text, exact=False).check()
        page.get_by_role("button", name="错误 ✗").click()                        # true/false
        blanks = page.locator(".widget-text input")
        blanks.nth(0).fill("基础电信业务")                                       # fill in the blanks: 1 of 2
        _choose(menus.nth(0), "事前准备")                                         # ordering: 1 of 3 ...
        _choose(menus.nth(1), "事前准备")                                         # ... and a repeat, refused
        page.get_by_text("“事前准备”已排在其他位置，每一项只能排一次").wait_for(timeout=15_000)
        assert menus.nth(1).evaluate("m => m.options[m.selectedIndex].text") == "（请选择）"
        page.locator(".kam-quiz button", has_text="检查作答情况").click()
        page.get_by_text("部分作答：第4题（缺第2空）；第5题（缺第2位、第3位）").wait_for(timeout=15_000)
        assert _saved(home, {"ch01-005": ["B", None, None]})["ch01-005"] == ["B", None, None]
        page.screenshot(path=str(shots / "partial.png"), full_page=True)

        blanks.nth(1).fill("增值电信业务")
        for i, label in ((1, "接近拜访"), (2, "把握情况"), (3, "优势"), (4, "劣势")):   # ordering, matching
            _choose(menus.nth(i), label)
        page.locator("textarea").fill("先倾听并致歉，再承诺处理时限并回访。")      # case analysis
        wanted = {"ch01-001": "A", "ch01-002": ["A", "B", "D"], "ch01-003": False,
                  "ch01-004": ["基础电信业务", "增值电信业务"], "ch01-005": ["B", "A", "C"],
                  "ch01-006": {"1": "B", "2": "A"}, "ch01-007": "先倾听并致歉，再承诺处理时限并回访。"}
        assert _saved(home, wanted) == wanted
        # the progress line follows the answers file over the websocket: wait for it
        page.locator(".widget-html", has_text="已作答 7 / 7 题").first.wait_for(timeout=15_000)
        text = _notebook_text(page)
        assert [s for s in CODE_ON_SCREEN if s in text] == []
        assert "答题控件" not in text  # no collapsed first line of a hidden cell either
        page.screenshot(path=str(shots / "answered.png"), full_page=True)

        # Autosave (the learner settings) leaves the notebook saved, every widget in the file: a reload
        # asks no "leave site?".
        assert _saved_with_every_widget(home, holding="已作答 7 / 7 题")  # the last answer's state, autosaved
        page.wait_for_function(f"() => !{NOTEBOOK}.context.model.dirty", timeout=60_000)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
        # A browser reload: the widgets come back with the saved answers without running anything.
        page.reload()
        _opens_unmodified(page, url, home / "ch01" / "ch01.ipynb", widget_state=True)
        page.wait_for_selector("textarea", timeout=90_000)
        assert dialogs == []
        assert page.get_by_label("5月17日", exact=False).is_checked()
        assert page.get_by_label("渠道", exact=False).is_checked()
        assert page.locator(".widget-text input").nth(1).input_value() == "增值电信业务"
        # the progress line follows the answers file over the websocket: wait for it
        page.locator(".widget-html", has_text="已作答 7 / 7 题").first.wait_for(timeout=15_000)
        assert [s for s in CODE_ON_SCREEN if s in _notebook_text(page)] == []
        page.screenshot(path=str(shots / "reloaded.png"), full_page=True)
        browser.close()

    learners.submit(cd.root, "ch01", LEARNER, home)
    workflow.collect(cd.root, ["ch01"])
    report = workflow.autograde(cd.root, cd.course, ["ch01"], workers=1, progress=False)
    assert report.graded == [(LEARNER, "ch01")]
    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        grades = {g.name: g.auto_score for g in gb.find_submission_notebook("ch01", "ch01", LEARNER).grades}
    assert grades == {"setup": 0.0, "ch01-001": 2.0, "ch01-002": 3.0, "ch01-003": 1.0, "ch01-004": 2.0,
                      "ch01-005": 3.0, "ch01-006": 2.0, "ch01-007": None}
    _feedback_is_chinese_without_code(cd, shots)


def _feedback_is_chinese_without_code(cd: CourseDir, shots: Path) -> None:
    """`course feedback` warns about the pending case answer, can hold it back, and the page shows no code."""
    root = str(cd.root)
    held = CliRunner().invoke(app, ["feedback", "--root", root, "--content", str(MINI), "--hold-pending"])
    warning = (f"Warning: ch01: 1 case answer(s) of 1 learner(s) still wait for a hand grade ({LEARNER} 第7题); "
               "their feedback is held back. Grade them in formgrader, then run `course feedback ch01` again.")
    assert (held.exit_code, held.output) == (0, f"{warning}\n"
                                             "feedback released to 0 learner(s) in 1 chapter(s); "
                                             "1 held back until hand grading is done.\n")
    page_file = cd.root / "feedback" / LEARNER / "ch01" / "ch01.html"
    assert not page_file.exists()
    result = CliRunner().invoke(app, ["feedback", "--root", root, "--content", str(MINI)])
    assert result.exit_code == 0, result.output
    assert "their feedback shows these as 待评分" in result.output
    assert result.output.endswith("feedback released to 1 learner(s) in 1 chapter(s).\n")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        page.goto(page_file.as_uri())
        page.screenshot(path=str(shots / "feedback.png"), full_page=True)
        text = str(page.locator("body").inner_text())
        browser.close()
    assert [s for s in (*CODE_ON_SCREEN, "Student's answer", "Comments:", "Score:", "In [", "No response")
            if s in text] == []
    assert "总分：13 / 17 分" in text
    assert "请在下方" not in text  # how-to-answer hints stay in the notebook
    assert "其中 第7题（4分） 待讲师评分，共 4 分尚未计入总分" in text
    for number, points, score in ((1, 2, 2), (2, 3, 3), (3, 1, 1), (4, 2, 2), (5, 3, 3), (6, 2, 2)):
        block = text[text.index(f"第{number}题　"):text.index(f"第{number + 1}题　")]
        assert f"（{points}分）" in block and f"得分：{score} / {points} 分" in block
        assert "你的答案：" in block and "正确答案：" in block and "解析：" in block
    case = text[text.index("第7题　"):]
    assert "待评分（满分 4 分）" in case and "学员作答：" in case and "先倾听并致歉" in case
    # the rubric and the reference answer are for graders only
    assert "仅评分人可见" not in case and "给出处理时限和回访安排" not in case and "参考答案" not in case

    # A grader scores the case answer (as formgrader does); `course feedback` again shows the new total.
    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        grade = gb.find_grade("ch01-007", "ch01", "ch01", LEARNER)
        grade.manual_score, grade.needs_manual_grade = 3.0, False
        gb.db.commit()
    again = CliRunner().invoke(app, ["feedback", "--root", root, "--content", str(MINI), "--hold-pending"])
    assert (again.exit_code, again.output) == (0, "feedback released to 1 learner(s) in 1 chapter(s).\n")
    html = page_file.read_text(encoding="utf-8")
    assert "16 / 17 分" in html and "得分：3 / 4 分" in html and "待评分" not in html
