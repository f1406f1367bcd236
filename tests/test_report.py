"""Do the manager notebooks run headless on a simulated cohort, with every Chinese glyph present?"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from course import workflow
from course.report import NOTEBOOKS, parameters, report
from course.simulate import Settings, hand_grade, simulate
from tests.conftest import MINI, CourseDir, make_course_dir

READS: list[str] = []


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[CourseDir, list[Path]]:
    """The whole report, with every gradebook read counted and the gradebook moved away after the first."""
    from course import report as report_module
    from course.analytics import frames

    cd = make_course_dir(tmp_path_factory.mktemp("course"))
    simulate(cd.root, cd.course, ["ch01"], Settings(learners=8, skip_chapter=0.0), progress=False)
    workflow.autograde(cd.root, cd.course, ["ch01"], progress=False)
    hand_grade(cd.root, cd.course, ["ch01"])
    params = parameters(content=str(MINI), roster_csv=str(cd.root / "roster.csv"))
    gradebook = cd.root / "gradebook"
    read, take = frames.read_grades, report_module.take_snapshot

    def counted(url: str, course_id: str) -> object:
        READS.append(url)
        return read(url, course_id)

    def then_away(root: Path, content: str | None = None, *, responses: bool = True) -> object:
        snap = take(root, content, responses=responses)
        gradebook.rename(cd.root / "gradebook.away")  # any later read, in any kernel or step, would fail
        return snap

    frames.read_grades, report_module.take_snapshot = counted, then_away  # type: ignore[assignment]
    try:
        pages = report(cd.root, params, out_dir=cd.root / "reports", progress=False)
    finally:
        frames.read_grades, report_module.take_snapshot = read, take
        (cd.root / "gradebook.away").rename(gradebook)
    return cd, pages


def test_a_report_run_reads_the_gradebook_once(rendered: tuple[CourseDir, list[Path]]) -> None:
    """Do all pages come from one read of the gradebook (the snapshot), none of them opening it again?"""
    _, pages = rendered
    assert len(READS) == 1
    assert len(pages) == len(NOTEBOOKS)


def test_every_notebook_renders_to_html(rendered: tuple[CourseDir, list[Path]]) -> None:
    _, pages = rendered
    assert [p.stem for p in pages] == list(NOTEBOOKS)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "Traceback" not in html
        # The fixture course has two areas: the drill-down shows a table where a radar needs three.
        # The item scatter is inline SVG (its numbers are checked in the browser), the other charts PNG.
        assert ("<img" in html) == (page.stem not in ("03_item_analysis", "04_learner_drilldown"))
        assert ('<svg' in html) == (page.stem == "03_item_analysis")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_error_and_no_missing_glyph_warning(rendered: tuple[CourseDir, list[Path]], name: str) -> None:
    cd, _ = rendered
    nb = nbformat.read(cd.root / "reports" / f"{name}.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = json.dumps(outputs, ensure_ascii=False)
    assert "Glyph" not in text and "missing from font" not in text
    assert any("image/png" in o.get("data", {}) for o in outputs) == (name not in ("03_item_analysis",
                                                                                  "04_learner_drilldown"))


def test_parameters_reach_the_notebook(tmp_path: Path, rendered: tuple[CourseDir, list[Path]]) -> None:
    """Does a cohort filter (region) and a level change what the overview reports?"""
    cd, _ = rendered
    roster = (cd.root / "roster.csv").read_text(encoding="utf-8").splitlines()
    region = roster[1].split(",")[2]
    params = parameters(content=str(MINI), roster_csv=str(cd.root / "roster.csv"), level="L1", region=region)
    (page,) = report(cd.root, params, out_dir=tmp_path, notebooks=("01_cohort_overview",), progress=False)
    html = page.read_text(encoding="utf-8")
    assert f"地区：{region}" in html and "认证级别：<strong>一级（资深）</strong>" in html


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_notebook_declares_exactly_the_report_parameters(name: str) -> None:
    import ast

    from course.report import analytics_dir

    nb = nbformat.read(analytics_dir() / f"{name}.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    declared = {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)}
    assert declared == {"course_root", *parameters()}
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # committed clean
