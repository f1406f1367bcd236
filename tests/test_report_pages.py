"""Would a manager be glad to read and print the report pages? Each page in headless Chromium, checked from the DOM.

A simulated cohort of 24 on the certification fixture course (one chapter of 41 questions, two
areas, levels 四级 and 一级) with a certification round; ``course report`` renders the five pages,
and Chromium (Debian's, driven by Playwright) opens each at its printed width with the print
styles: A4 less the page margins, 186 mm (703 px) across, or 273 mm (1,032 px) for a page that
prints in landscape. From the DOM:

- no table cell is narrower than two CJK characters, and only the long-text columns (原因,
  缺交章节, ...) take more than one line: 何超 or 西北 never break;
- every table ends inside the printed width (nothing is cut off on paper);
- every number of the item scatter lies inside the plotting area (the scatter is SVG: each
  number is the group ``item-label-<n>``, the plotting area ``item-axes``);
- the visible text holds no file name, flag, English tool name, paper id or internal word.

Each page's screenshot and A4 PDF are kept in ``test-artifacts/report-pages/`` (git-ignored;
CI keeps the folder as an artifact), to look at.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course import workflow
from course.analytics.fonts import font_path
from course.certification import demo_round, manifest
from course.report import NOTEBOOKS, parameters, report
from course.simulate import Settings, hand_grade, simulate
from tests.conftest import ROOT, CourseDir, make_course_dir

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it and never skips",
                allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402 - only once chromium is known to be there

CERT = Path(__file__).parent / "fixtures" / "cert"
ARTIFACTS = ROOT / "test-artifacts" / "report-pages"
# the flags tests/test_browser.py launches Chromium with
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PORTRAIT, LANDSCAPE = 703, 1032  # A4 less 12 mm margins each side, in CSS pixels (96 per inch)
FORBIDDEN = (".yaml", ".csv", ".json", ".ipynb", "--", "formgrader", "nbgrader", "papermill", "种子", "Traceback")

# Runs in the page: every table cell's text, content width, font size, line count and white-space;
# the scatter's numbers and plotting area; the visible text.
MEASURE = """() => {
  const cells = [...document.querySelectorAll('table td, table th')].map(cell => {
    const style = getComputedStyle(cell);
    const range = document.createRange();
    range.selectNodeContents(cell);
    const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.bottom)));
    return {text: cell.innerText.trim(), lines: lines.size, wraps: style.whiteSpace !== 'nowrap',
            em: parseFloat(style.fontSize),
            width: cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)};
  });
  const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const axes = document.getElementById('item-axes');
  return {cells, text: document.body.innerText, axes: axes ? box(axes) : null,
          width: document.documentElement.scrollWidth,
          tables: [...document.querySelectorAll('table')].map(t => [t.rows[0]?.innerText.trim() ?? '', box(t)[2]]),
          labels: [...document.querySelectorAll('[id^="item-label-"]')].map(el => [el.id, box(el)])};
}"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[CourseDir, list[Path]]:
    cd = make_course_dir(tmp_path_factory.mktemp("pages") / "course", CERT)
    simulate(cd.root, cd.course, ["ch01"], Settings(learners=24, skip_chapter=0.1), progress=False)
    workflow.autograde(cd.root, cd.course, ["ch01"], progress=False)
    hand_grade(cd.root, cd.course, ["ch01"])
    demo_round(cd.root, cd.course, progress=False)
    params = parameters(content=str(CERT), roster_csv=str(cd.root / "roster.csv"))
    return cd, report(cd.root, params, out_dir=cd.root / "reports", progress=False)


@pytest.fixture(scope="module")
def measured(pages: tuple[CourseDir, list[Path]],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """Each page opened as it prints, screenshot and PDF kept; what MEASURE found, by page name."""
    _, rendered = pages
    # the pages name Noto Sans CJK SC first: Chromium finds it in the package's font folder, whatever
    # the machine has installed (a Debian without fonts-noto-cjk would draw empty boxes)
    fonts = tmp_path_factory.mktemp("fontconfig")
    (fonts / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{font_path().parent}</dir><cachedir>{fonts / 'cache'}</cachedir></fontconfig>", encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    found = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                    env={**os.environ, "FONTCONFIG_FILE": str(fonts / "fonts.conf")})
        try:
            for html in rendered:
                landscape = "size: A4 landscape" in html.read_text(encoding="utf-8")
                page = browser.new_page(viewport={"width": LANDSCAPE if landscape else PORTRAIT, "height": 1000})
                page.emulate_media(media="print")
                page.goto(html.as_uri())
                page.wait_for_load_state("load")
                page.screenshot(path=str(ARTIFACTS / f"{html.stem}.png"), full_page=True)
                page.pdf(path=str(ARTIFACTS / f"{html.stem}.pdf"), format="A4", landscape=landscape,
                         print_background=True)
                found[html.stem] = {**page.evaluate(MEASURE), "landscape": landscape}
                page.close()
        finally:
            browser.close()
    yield found


def test_every_page_was_rendered_and_measured(measured: dict[str, dict[str, Any]]) -> None:
    assert sorted(measured) == sorted(NOTEBOOKS)
    assert all(page["cells"] for page in measured.values())  # every page has a table
    for name in NOTEBOOKS:
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
        assert (ARTIFACTS / f"{name}.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_table_cell_is_narrower_than_two_characters_or_breaks_a_name(
        measured: dict[str, dict[str, Any]], name: str) -> None:
    """Is every cell at least two CJK characters wide, and one line unless it holds a long text?"""
    cells = [c for c in measured[name]["cells"] if c["text"]]
    narrow = [(c["text"], round(c["width"], 1)) for c in cells if c["width"] < 2 * c["em"] - 0.5]
    assert narrow == []
    broken = [c["text"] for c in cells if c["lines"] > 1 and not c["wraps"]]
    assert broken == []


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_table_fits_the_printed_width(measured: dict[str, dict[str, Any]], name: str) -> None:
    """Does every table end inside the printed width, so that no column (原因) is cut off on paper?"""
    page = measured[name]
    printed = LANDSCAPE if page["landscape"] else PORTRAIT
    assert page["width"] == printed
    assert [(header, right) for header, right in page["tables"] if right > printed] == []


def test_names_and_regions_are_in_the_tables(measured: dict[str, dict[str, Any]],
                                             pages: tuple[CourseDir, list[Path]]) -> None:
    """Are the learners' names and regions shown whole (the cells the issue saw as 何/超 and 西/北)?"""
    import pandas as pd

    cd, _ = pages
    roster = pd.read_csv(cd.root / "roster.csv", dtype=str)
    for name in ("01_cohort_overview", "05_certification"):
        texts = {c["text"] for c in measured[name]["cells"] if c["lines"] == 1}
        assert set(roster["name"]) <= texts, name
        assert set(roster["region"]) <= texts, name


def test_every_scatter_number_is_inside_the_plotting_area(measured: dict[str, dict[str, Any]]) -> None:
    page = measured["03_item_analysis"]
    left, top, right, bottom = page["axes"]
    assert right - left > 400  # the chart spans the page, not a strip beside it
    assert len(page["labels"]) >= 5
    outside = [label for label, (x0, y0, x1, y1) in page["labels"]
               if not (left <= x0 and x1 <= right and top <= y0 and y1 <= bottom)]
    assert outside == []


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_file_name_flag_tool_name_or_internal_word_is_visible(
        measured: dict[str, dict[str, Any]], pages: tuple[CourseDir, list[Path]], name: str) -> None:
    cd, _ = pages
    text = measured[name]["text"]
    papers = [data["paper"] for data in manifest.manifests(cd.root)]
    assert papers  # the round gave papers, so their ids could show
    assert [word for word in (*FORBIDDEN, *papers) if word in text] == []


def test_levels_go_from_four_to_one_and_the_two_rates_are_told_apart(measured: dict[str, dict[str, Any]]) -> None:
    """Do the levels read 四级 before 一级, and does each page say how its rate differs from the other's?"""
    certification = measured["05_certification"]["text"]
    overview = measured["01_cohort_overview"]["text"]
    by_level = certification[certification.index("目标级别\t人数"):]
    assert by_level.index("四级") < by_level.index("一级（资深）")
    assert overview.index("四级\t") < overview.index("一级（资深）\t")
    for text in (certification, overview):
        assert "衡量的不是同一件事" in text


def test_the_scatter_page_says_its_caution_once(measured: dict[str, dict[str, Any]]) -> None:
    text = measured["03_item_analysis"]["text"]
    assert text.count("仅供参考") <= 3  # the method note, the caution above the tables, its reminder
    assert "样本较少" not in json.dumps([c["text"] for c in measured["03_item_analysis"]["cells"]],
                                       ensure_ascii=False)
