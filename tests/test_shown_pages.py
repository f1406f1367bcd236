"""Do formgrader and the feedback page show graders and learners exactly the text they showed before (issue 23)?

The autograded notebooks became smaller; what they no longer hold must still reach both pages.
Each page's visible text (no markup, scripts or styles) is compared with a golden file taken from
the pages as they were (``tests/fixtures/pages/``): formgrader's page of every submission, as
nbgrader's formgrader renders it (its ``formgrade`` template, through the course's
``nbgrader_config.py``), and every learner's feedback page as ``course feedback`` writes it.
After an intended change of a page, rewrite the goldens with ``pytest --update-goldens`` and
review their diff.
"""

from __future__ import annotations

import html.parser
import json
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa

from course import workflow
from course.grading.outputs import NO_MATH
from course.nbconfig import course_config
from tests.grading_helpers import fresh_course, place_submission, url
from tests.test_pipeline import ALL_CORRECT, ALL_WRONG, PARTIAL

GOLDEN = Path(__file__).parent / "fixtures" / "pages"
CH = "ch01"
CASE = "ch01-007"
SUBMISSIONS = {
    "all-correct": ALL_CORRECT,  # the case answer then gets a hand grade of 3
    "all-wrong": ALL_WRONG,
    "partial": PARTIAL,
    "unanswered": {},
    "pending": {**PARTIAL, CASE: "先核实情况，再给出方案。"},  # the case answer waits for a grader
    "changed": ALL_CORRECT,  # hand-graded, then the learner changed the case answer: 待复核
    "wrong-types": {"ch01-001": ["A"], "ch01-002": ["A", "B", "D"], "ch01-003": "对"},
    "other-chapters": {**PARTIAL, "zz01-001": "A"},
    "inert": {**PARTIAL, CASE: "[点我](javascript:alert(1))\n# 得分：4 / 4 分\n<b>粗体</b>"},
}
DAMAGED = '{"format": "kam-answers/1", "answers": {"ch01-001": "A"'


class _Text(html.parser.HTMLParser):
    """The text a browser shows: no script or style; one line per block, spaces collapsed."""

    BLOCKS = frozenset({"p", "div", "li", "h1", "h2", "h3", "h4", "br", "tr", "pre", "span", "button", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.parts: list[str] = []
        self.spans: list[bool] = []  # per open span: a block here (code tokens) or inline (a learner's text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        if tag == "span":  # a learner's text in MathJax's ignore class is inline, as a browser shows it
            self.spans.append(("class", NO_MATH) not in attrs)
        if tag in self.BLOCKS and (tag != "span" or self.spans[-1]):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1
        if tag in self.BLOCKS and (tag != "span" or not self.spans or self.spans.pop()):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def formgrader_page(root: Path, student: str) -> str:
    """nbgrader's formgrader page of one submission, rendered as its SubmissionHandler does."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    config = course_config(root)
    config.HTMLExporter.template_name = "formgrade"  # FormgradeExtension.build_extra_config
    if not config.HTMLExporter.get("extra_template_basedirs"):
        config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": CH, "notebook_id": CH, "submission_id": "submission", "index": 0, "total": 1,
                 "base_url": "", "student": student, "last_name": None, "first_name": None,
                 "notebook_path": f"autograded/{student}/{CH}/{CH}.ipynb"}
    page, _ = HTMLExporter(config=config).from_filename(str(root / "autograded" / student / CH / f"{CH}.ipynb"),
                                                        resources=resources)
    return page


def _hand_grade(root: Path, student: str, score: float) -> None:
    """What formgrader writes when a grader scores the case answer."""
    eng = sa.create_engine(url_of(root))
    with eng.begin() as conn:
        conn.execute(sa.text(
            "UPDATE grade SET manual_score = :score, needs_manual_grade = 0 WHERE id = (SELECT g.id FROM grade g "
            "JOIN base_cell bc ON bc.id = g.cell_id JOIN submitted_notebook sn ON sn.id = g.notebook_id "
            "JOIN submitted_assignment sa ON sa.id = sn.assignment_id WHERE bc.name = :cell AND sa.student_id = :who)"),
            {"score": score, "cell": CASE, "who": student})
    eng.dispose()


def url_of(root: Path) -> str:
    return f"sqlite:///{root / 'gradebook' / 'gradebook.db'}"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cd = fresh_course(tmp_path_factory.mktemp("pages") / "course")
    root = cd.root
    for student, answers in SUBMISSIONS.items():
        place_submission(root, student, CH, answers)
    folder = place_submission(root, "damaged", CH, None)
    (folder / f"{CH}.answers.json").write_text(DAMAGED, encoding="utf-8")
    assert not workflow.autograde(root, cd.course, [CH], progress=False).failed
    _hand_grade(root, "all-correct", 3.0)
    _hand_grade(root, "changed", 4.0)
    place_submission(root, "changed", CH, {**ALL_CORRECT, CASE: "改过的答案：先倾听，再致歉。"},
                     timestamp="2026-11-21 10:00:00.000000 UTC")
    assert not workflow.autograde(root, cd.course, [CH], ["changed"], progress=False).failed
    assert workflow.nbgrader_api(root).generate_feedback(CH)["success"]  # as `course feedback` does, unreleased
    assert url(cd) == url_of(root)
    out = {}
    for student in [*SUBMISSIONS, "damaged"]:
        out[f"{student}.formgrader"] = visible_text(formgrader_page(root, student))
        out[f"{student}.feedback"] = visible_text(
            (root / "feedback" / student / CH / f"{CH}.html").read_text(encoding="utf-8"))
    out["sizes"] = json.dumps({s: (root / "autograded" / s / CH / f"{CH}.ipynb").stat().st_size
                               for s in [*SUBMISSIONS, "damaged"]}, indent=1)
    return out


@pytest.mark.parametrize("name", [f"{s}.{page}" for s in [*SUBMISSIONS, "damaged"]
                                  for page in ("formgrader", "feedback")])
def test_each_page_shows_the_text_it_showed_before(pages: dict[str, str], name: str,
                                                   request: pytest.FixtureRequest) -> None:
    """Is every line of the page's visible text what the golden file holds, in the same order?"""
    golden = GOLDEN / f"{name}.txt"
    if request.config.getoption("--update-goldens"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(pages[name], encoding="utf-8")
    assert pages[name] == golden.read_text(encoding="utf-8")


def test_the_pages_show_key_explanation_score_and_the_learners_text_as_typed(pages: dict[str, str]) -> None:
    """Do the golden pages themselves hold what a grader and a learner must see (so the goldens are right)?"""
    grader, learner = pages["inert.formgrader"], pages["inert.feedback"]
    for page in (grader, learner):
        assert "[点我](javascript:alert(1))" in page and "# 得分：4 / 4 分" in page and "<b>粗体</b>" in page
    assert "评分要点（仅评分人可见）" in grader and "评分要点（仅评分人可见）" not in learner
    assert "BEGIN HIDDEN TESTS" in grader and "BEGIN HIDDEN TESTS" not in learner
    assert "待评分" in pages["pending.feedback"] and "待复核" in pages["changed.feedback"]
    assert "答案文件无法识别" in pages["damaged.feedback"]
    assert "解析" in pages["all-wrong.feedback"] and "正确答案" in pages["all-wrong.feedback"]


class _Tags(html.parser.HTMLParser):
    """Every element of a page with its attributes, and the text of its scripts and headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: list[str] = []
        self.inside: list[str] = []
        self.scripts: list[str] = []
        self.headings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs += [f"{tag} {name}={value}" for name, value in attrs if value is not None]
        self.inside.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.inside:
            del self.inside[len(self.inside) - 1 - self.inside[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        if self.inside and self.inside[-1] == "script":
            self.scripts.append(data)
        elif self.inside and self.inside[-1] in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(data)


def test_a_kernel_graded_notebook_shows_the_learners_cells_and_outputs_as_data(tmp_path: Path) -> None:
    """`course autograde --execute` shows the learner's own notebook, run: do their added and edited text cells and
    their code's rich outputs reach formgrader's page as text, while the instructor's cells still render?"""
    root = fresh_course(tmp_path / "course").root
    nb = nbformat.read(root / "source" / CH / f"{CH}.ipynb", as_version=4)
    stem = next(i for i, cell in enumerate(nb.cells) if cell.get("id") == "ch01-001-stem")
    nb.cells[stem].source = "### 第1题 <img src=\"http://evil.example/stem.png\">"  # stems are not locked
    code = next(cell for cell in nb.cells if cell.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": '<img src="http://evil.example/o.png"><script>alert(3)</script><b>粗体</b>',
        "application/javascript": "alert(4)", "image/svg+xml": "<svg onload=alert(5)></svg>",
        "text/markdown": "[m](javascript:alert(6))", "text/plain": "<display>"})]
    nb.cells += [nbformat.v4.new_markdown_cell("# 得分：4 / 4 分\n[点我](javascript:alert(1))\n![](http://evil.example/t.png)"),
                 nbformat.v4.new_raw_cell("<script>alert(2)</script>", metadata={"raw_mimetype": "text/html"})]
    target = root / "autograded" / "li" / CH / f"{CH}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)
    page = formgrader_page(root, "li")
    tags = _Tags()
    tags.feed(page)
    assert [a for a in tags.attrs if "evil.example" in a or "javascript:" in a.lower()] == []
    assert [t for t in tags.scripts if "alert(" in t] == []
    assert [h for h in tags.headings if "得分" in h or "第1题" in h] == []
    text = visible_text(page)
    for typed in ("# 得分：4 / 4 分", "[点我](javascript:alert(1))", "![](http://evil.example/t.png)",
                  "<script>alert(2)</script>", '### 第1题 <img src="http://evil.example/stem.png">', "粗体"):
        assert typed in text, typed
    title = nb.cells[0].source.splitlines()[0].lstrip("# ")
    assert title in tags.headings  # the instructor's own header cell still renders as Markdown

