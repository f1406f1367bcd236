"""Are the generated source notebooks valid nbgrader v3, deterministic and up to date?"""

from __future__ import annotations

import ast
import json
from itertools import pairwise
from pathlib import Path

import nbformat
from course_runtime.scoring import score
from nbgrader.nbgraderformat import MetadataValidator

from course.build import chapter_notebook, key_spec, stale_sources, write_sources
from course.loader import load_course
from tests.conftest import MINI, ROOT


def test_committed_source_notebooks_match_the_content() -> None:
    """Is source/ exactly what `course build` makes from the shipped content?"""
    assert stale_sources(load_course(), ROOT / "source") == []


def test_rebuilding_changes_nothing(tmp_path: Path) -> None:
    course = load_course(MINI)
    assert len(write_sources(course, tmp_path)) == 1
    first = (tmp_path / "ch01" / "ch01.ipynb").read_bytes()
    assert write_sources(course, tmp_path) == []
    assert (tmp_path / "ch01" / "ch01.ipynb").read_bytes() == first


def test_cells_follow_nbgrader_v3_metadata_with_one_locked_grade_cell_per_question() -> None:
    course = load_course(MINI)
    nb = chapter_notebook(course, "ch01")
    MetadataValidator().validate_nb(nb)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata.nbgrader.grade_id for c in graded] == ["setup"] + [q.id for q in course.questions]
    for cell in graded:
        meta = cell.metadata.nbgrader
        assert meta.schema_version == 3
        assert cell.metadata.jupyter.source_hidden is True
        if meta.grade_id == "ch01-007":
            assert meta.solution and not meta.locked and meta.points == 4
        else:
            assert meta.locked and not meta.solution and cell.metadata.editable is False
    assert len({c.id for c in nb.cells}) == len(nb.cells)


def test_every_grade_cell_is_preceded_by_a_graded_cell() -> None:
    """Can nbgrader's add_missing_cells put back any deleted grade cell (it needs a graded predecessor)?"""
    nb = chapter_notebook(load_course(MINI), "ch01")
    tracked = [c.metadata.nbgrader for c in nb.cells if "nbgrader" in c.metadata]
    for before, cell in pairwise(tracked):
        if cell.grade:
            assert before.grade or before.solution


def test_learner_notebook_holds_no_key() -> None:
    """The widget specs in the setup cell carry options but never answers or explanations."""
    course = load_course(MINI)
    setup = chapter_notebook(course, "ch01").cells[1].source
    for q in course.questions:
        assert q.explanation not in setup
    call = ast.parse(setup.split("\n\nquiz = ", 1)[1]).body[0].value  # Quiz('ch01', json.loads('...'))
    specs = json.loads(ast.literal_eval(call.args[1].args[0]))
    assert set(specs) == {q.id for q in course.questions}
    assert all(not {"answer", "blanks", "explanation", "rubric"} & set(spec) for spec in specs.values())


def test_setup_cell_imports_the_keyless_runtime_and_nothing_of_the_course() -> None:
    """Does a learner's kernel need only course_runtime (no copy of the scorer, no import of course)?"""
    setup = chapter_notebook(load_course(MINI), "ch01").cells[1].source
    imported = {node.module for node in ast.walk(ast.parse(setup)) if isinstance(node, ast.ImportFrom)}
    assert imported == {"IPython.display", "course_runtime.quiz"}
    assert "def score" not in setup and len(setup) < 4000


def test_stems_render_blanks_and_instructions_in_chinese() -> None:
    nb = chapter_notebook(load_course(MINI), "ch01")
    stem = next(c for c in nb.cells if c.id == "ch01-004-stem").source
    assert stem.startswith("### 第4题　填空题（2分）")
    assert "＿＿(1)＿＿" in stem and "＿＿(2)＿＿" in stem
    assert nbformat.validate(nb) is None


def test_a_blank_key_carries_compare_only_when_it_forces_text() -> None:
    """Does key_spec pass `compare: text` to the scorer, and leave existing keys as they were?"""
    q = next(q for q in load_course(MINI).questions if q.type == "blank")
    assert "compare" not in key_spec(q)
    forced = key_spec(q.model_copy(update={"compare": "text"}))
    assert forced["compare"] == "text"
    assert score(forced, ["基础电信业务", "增值-电信业务"]) == q.points
