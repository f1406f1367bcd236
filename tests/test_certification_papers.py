"""Exam papers: each variant to its blueprint, different per learner, reproducible, refused with the exact shortfall."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from course.certification import manifest, papers
from course.certification.blueprint import Blueprint, BlueprintError, blueprint
from course.certification.config import Certification, load_certification
from course.errors import ContentError, WorkflowError
from course.loader import Course, load_course
from tests.conftest import CERT

CONTENT = CERT  # the module fixtures `course` and `cert` (tests/conftest.py) load it
LEARNERS = [f"learner{i:02d}" for i in range(12)]


def achieved(course: Course, variant: papers.Variant) -> tuple[dict[str, float], dict[str, float]]:
    """Points per area and per type of a variant's theory items."""
    areas: dict[str, float] = {}
    types: dict[str, float] = {}
    for qid in variant.theory:
        q = course.by_id[qid]
        areas[course.area_of(q)] = areas.get(course.area_of(q), 0) + q.points
        types[q.type] = types.get(q.type, 0) + q.points
    return areas, types


def test_the_l4_blueprint_is_the_hand_computed_one(course: Course, cert: Certification) -> None:
    """Does 70/30 of 20 points give 14 + 6, with 8 points of singles and 12 of true/false?"""
    plan = blueprint(course, cert, "L4")
    assert plan.area_points == {"basic.telecom": 14, "legal.law": 6}
    assert plan.type_points == {"single": 8, "truefalse": 12}
    assert (plan.theory_points, plan.skills_max) == (20, 10)


@pytest.mark.parametrize("level", ["L4", "L1"])
def test_every_variant_matches_its_blueprint_exactly(course: Course, cert: Certification, level: str) -> None:
    """Does every variant hold each area's and each type's points exactly, with suitable, distinct items?"""
    plan = blueprint(course, cert, level)
    for learner in LEARNERS:
        variant = papers.draw(course, cert, plan, "P1", "seed", learner)
        areas, types = achieved(course, variant)
        assert areas == plan.area_points and types == plan.type_points
        assert len(set(variant.questions)) == len(variant.questions)
        assert [course.by_id[q].points for q in variant.skills] == [10]
        assert all(course.by_id[q].mastery in cert.mastery[level] for q in variant.questions)


def test_variants_differ_between_learners(course: Course, cert: Certification) -> None:
    plan = blueprint(course, cert, "L4")
    drawn = {papers.draw(course, cert, plan, "P1", "seed", x).questions for x in LEARNERS}
    assert len(drawn) == len(LEARNERS)


def test_same_seed_same_paper_other_seed_other_paper(course: Course, cert: Certification) -> None:
    plan = blueprint(course, cert, "L4")
    first = papers.draw(course, cert, plan, "P1", "seed", "learner01")
    assert papers.draw(course, cert, plan, "P1", "seed", "learner01") == first
    assert papers.draw(course, cert, plan, "P1", "other", "learner01").questions != first.questions


def test_near_duplicates_never_share_a_paper(course: Course, cert: Certification) -> None:
    """The fixture plants ch01-024/ch01-025, stems one character apart."""
    assert "ch01-025" in papers.near_duplicates(list(course.questions), 0.6)["ch01-024"]
    plan = blueprint(course, cert, "L4")
    for learner in [f"x{i}" for i in range(40)]:
        drawn = set(papers.draw(course, cert, plan, "P1", "s", learner).questions)
        assert not {"ch01-024", "ch01-025"} <= drawn


def test_a_bank_short_of_an_area_is_refused_with_the_area_and_points(course: Course, cert: Certification) -> None:
    law = [q for q in course.questions if course.area_of(q) == "legal.law"]
    tf = [q.id for q in law if q.type == "truefalse"]
    single = [q.id for q in law if q.type == "single"]
    with pytest.raises(BlueprintError) as info:
        # 1 of 9 true/false and 1 of 3 singles left: 1 + 2 of the 6 points (the multiple is no paper type here)
        papers.draw(course, cert, blueprint(course, cert, "L4"), "P", "s", "a", exclude=tf[:8] + single[:2])
    assert str(info.value) == (
        "the question bank cannot fill the L4 paper blueprint:\n"
        "  法律知识 lacks 3 points: needs 6, the bank has 3 eligible\n"
        "fix: add questions of that type and area to the bank, or change theory/skills in certification.yaml")


def test_a_bank_short_of_singles_and_cases_is_refused_naming_each(course: Course, cert: Certification) -> None:
    gone = [q.id for q in course.questions if q.type == "single"][:7] + [
        q.id for q in course.questions if q.type == "case"]
    with pytest.raises(BlueprintError) as info:
        papers.draw(course, cert, blueprint(course, cert, "L4"), "P", "s", "a", exclude=gone)
    assert info.value.shortfalls == [
        "单选题 lacks 4 points: needs 8, the bank has 4 eligible",
        "技能 lacks 10 points of 案例分析题 (10-point items): needs 1, the bank has 0 eligible",
    ]


def test_points_that_cannot_add_up_are_refused_with_the_fix(course: Course, cert: Certification) -> None:
    """Telecom keeps exactly its 14 points (3 singles, 8 true/false), but two of them are near-duplicates."""
    telecom = [q for q in course.questions if course.area_of(q) == "basic.telecom"]
    tf = [q.id for q in telecom if q.type == "truefalse" and q.id not in ("ch01-024", "ch01-025")]
    single = [q.id for q in telecom if q.type == "single"]
    with pytest.raises(BlueprintError) as info:
        papers.draw(course, cert, blueprint(course, cert, "L4"), "P", "s", "a", exclude=tf[:11] + single[:3])
    assert info.value.shortfalls == [
        "no set of eligible items gives every area its 比重表 points and every type its points at once (the items' "
        "points do not add up, or near-duplicates exclude each other): add items, above all of 1 or 2 points"]


def test_the_shipped_bank_fills_every_level_blueprint() -> None:
    """Every level of the real content gets a paper of 100 theory points in the 比重表's split and the type mix."""
    course = load_course()
    cert = load_certification(course)
    for level in course.weights.tables:
        plan = blueprint(course, cert, level)
        variant = papers.draw(course, cert, plan, "R", "2026", "zhang.san")
        areas, types = achieved(course, variant)
        assert areas == {a: w for a, w in course.weights.tables[level].items()}
        assert types == {"single": 34, "multiple": 21, "blank": 12, "matching": 8, "ordering": 4, "truefalse": 21}
        assert plan.theory_points == 100 and not variant.miss


def test_blueprint_report_shows_target_against_achieved(course: Course, cert: Certification) -> None:
    """A hand-made variant: 3 singles + 8 true/false in telecom, 1 single + 4 true/false in law, one case."""
    plan = blueprint(course, cert, "L4")
    telecom = [q for q in course.questions if course.area_of(q) == "basic.telecom"]
    law = [q for q in course.questions if course.area_of(q) == "legal.law"]
    theory = ([q.id for q in telecom if q.type == "single"][:3] + [q.id for q in telecom if q.type == "truefalse"][:8]
              + [q.id for q in law if q.type == "single"][:1] + [q.id for q in law if q.type == "truefalse"][:4])
    case = next(q.id for q in telecom if q.type == "case")
    variant = papers.Variant("learner01", "P1-learner01", tuple(theory), (case,))
    assert papers.render_report(course, plan, variant).splitlines() == [
        "P1-learner01: L4 试卷蓝图（目标 / 实际分值）",
        "  电信基础知识: 14 / 14 ✓  单选题3道，判断题8道",
        "  法律知识: 6 / 6 ✓  单选题1道，判断题4道",
        "  技能（案例分析）: 10 / 10 ✓  案例分析题1道",
        "  题型分值：单选题 8 / 8 ✓，判断题 12 / 12 ✓",
        "  合计 30 分，17 题",
    ]


# ---------------------------------------------------------------- papers in a course folder
def test_create_paper_writes_one_notebook_per_learner_listing_its_questions(
        tmp_path: Path, course: Course, cert: Certification) -> None:
    made = papers.create_paper(course, cert, tmp_path, "L4-2026a", "L4", "s", ["a.b", "c"])
    for learner, variant in made.variants.items():
        nb = nbformat.read(tmp_path / "source" / variant.assignment / f"{variant.assignment}.ipynb", as_version=4)
        assert nb.metadata.course == {"paper": "L4-2026a", "level": "L4", "learner": learner,
                                      "title": "岗位技能四级 考核试卷", "questions": list(variant.questions)}
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert sum(c.metadata.nbgrader["points"] for c in graded) == 30
        assert [q.id for q in papers.questions_of_assignment(course, tmp_path, variant.assignment)] == list(
            variant.questions)
    assert manifest.paper_assignments(tmp_path) == {"L4-2026a-a.b", "L4-2026a-c"}
    data = json.loads((tmp_path / "papers" / "L4-2026a.json").read_text(encoding="utf-8"))
    assert data["variants"]["a.b"]["assignment"] == "L4-2026a-a.b"
    assert (data["theory_max"], data["skills_max"], data["sitting"]) == (20, 10, 1)


def test_a_resit_paper_avoids_every_item_the_learner_has_seen(
        tmp_path: Path, course: Course, cert: Certification) -> None:
    """Are the first paper's items and their near-duplicates all left out of the re-sit?"""
    first = papers.create_paper(course, cert, tmp_path, "L4-a", "L4", "s", ["a", "b"])
    resit = papers.create_paper(course, cert, tmp_path, "L4-b", "L4", "s", ["a"], resit=True)
    clash = papers.near_duplicates(list(course.questions), cert.near_duplicate_threshold)
    assert not papers.with_near_duplicates(first.variants["a"].questions, clash) & set(resit.variants["a"].questions)
    points, _ = achieved(course, resit.variants["a"])
    assert points == {"basic.telecom": 14, "legal.law": 6}
    assert manifest.read_manifest(tmp_path / "papers" / "L4-b.json")["sitting"] == 2


def test_a_third_sitting_is_refused_when_the_unseen_bank_runs_out(
        tmp_path: Path, course: Course, cert: Certification) -> None:
    papers.create_paper(course, cert, tmp_path, "L4-a", "L4", "s", ["a"])
    papers.create_paper(course, cert, tmp_path, "L4-b", "L4", "s", ["a"], resit=True)
    with pytest.raises(BlueprintError, match=r"电信基础知识 lacks 1[12] points: needs 14, the bank has [23] eligible"):
        papers.create_paper(course, cert, tmp_path, "L4-c", "L4", "s", ["a"], resit=True)
    assert not (tmp_path / "papers" / "L4-c.json").exists()
    assert not (tmp_path / "source" / "L4-c-a").exists()


def test_a_paper_id_is_never_redrawn(tmp_path: Path, course: Course, cert: Certification) -> None:
    papers.create_paper(course, cert, tmp_path, "L4-a", "L4", "s", ["a"])
    with pytest.raises(WorkflowError, match=r"L4-a\.json exists: choose a new paper id"):
        papers.create_paper(course, cert, tmp_path, "L4-a", "L4", "s", ["a"])


def test_learner_ids_that_cannot_name_an_assignment_are_refused(
        tmp_path: Path, course: Course, cert: Certification) -> None:
    with pytest.raises(WorkflowError) as info:
        papers.create_paper(course, cert, tmp_path, "L4-a", "L4", "s", ["ok", "a b", "x/y"])
    assert str(info.value) == ("learner id(s) a b, x/y cannot name an nbgrader assignment: use letters, digits, "
                               "_ and .")


def test_nbgrader_generates_every_variant_with_the_same_maximum(
        tmp_path: Path, course: Course, cert: Certification) -> None:
    from nbgrader.api import Gradebook

    from course import workflow
    from course.nbconfig import db_url
    from tests.conftest import make_course_dir

    cd = make_course_dir(tmp_path / "c", CERT)
    made = papers.create_paper(course, cert, cd.root, "L4-x", "L4", "s", ["a", "b"])
    ids = [v.assignment for v in made.variants.values()]
    workflow.generate(cd.root, ids)
    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:
        assert [gb.find_assignment(i).max_score for i in ids] == [30, 30]
    for variant in made.variants.values():
        released = (cd.root / "release" / variant.assignment / f"{variant.assignment}.ipynb").read_text("utf-8")
        assert "HIDDEN TESTS" not in released and "quiz.grade" not in released


# ---------------------------------------------------------------- configuration errors
def test_a_config_error_names_the_file_line_and_fix(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CERT, content)
    path = content / "certification.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("requires_level: L4", "requires_level: L9"),
                    encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_certification(load_course(content))
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "L9" in t)
    assert str(info.value) == (f"content/certification.yaml:{line}: requires_level 'L9' is not a level: "
                               "use one of L4, L1 or null")


def test_stored_variant_round_trips_the_blueprint(tmp_path: Path, course: Course, cert: Certification) -> None:
    made = papers.create_paper(course, cert, tmp_path, "L4-a", "L4", "s", ["a"])
    plan, variant = papers.stored_variant(manifest.read_manifest(tmp_path / "papers" / "L4-a.json"), "a")
    assert isinstance(plan, Blueprint) and plan == made.plans["a"] and variant == made.variants["a"]


def test_the_shipped_settings_are_labelled_defaults() -> None:
    cert = load_certification(load_course())
    assert cert.status == "default" and "默认" in cert.note


def test_a_manifest_of_item_counts_still_reads_as_points(course: Course, cert: Certification) -> None:
    """A manifest written before points-based blueprints (cells × one item's points) gives the same blueprint."""
    data = {"level": "L4", "area_points": {"basic.telecom": 14, "legal.law": 6}, "skills_count": 1,
            "skills_points": 10, "type_points": {"single": 2, "truefalse": 1},
            "variants": {"a": {"assignment": "P-a", "theory": ["ch01-001"], "skills": ["ch01-030"],
                               "cells": {"basic.telecom": {"single": 3, "truefalse": 8},
                                         "legal.law": {"single": 1, "truefalse": 4}}}}}
    plan, variant = papers.stored_variant(data, "a")
    assert plan == blueprint(course, cert, "L4")
    assert variant == papers.Variant("a", "P-a", ("ch01-001",), ("ch01-030",))


@pytest.mark.parametrize(("old", "new", "marker", "message"), [
    ("types: {single: 8, truefalse: 12}", "types: {single: 8, truefalse: 10}", "types:",
     "the types hold 18 points, not total_points 20: make them add up"),
    ("types: {single: 8, truefalse: 12}", "types: {single: 28, truefalse: -8}", "types:",
     "truefalse has -8 points: give 0 or more"),
    ("{了解: 0.8, 熟悉: 0.7, 掌握: 0.6, 熟练掌握: 0.5}", "{了解: 1.2, 熟悉: 0.7, 掌握: 0.6, 熟练掌握: 0.5}",
     "prior_facility", "prior facility 1.2 for 了解 must lie strictly between 0 and 1"),
    ("{了解: 0.8, 熟悉: 0.7, 掌握: 0.6, 熟练掌握: 0.5}", "{了解: 0.8, 熟悉: 0.7}", "prior_facility",
     "no prior facility for 掌握, 熟练掌握: add them"),
])
def test_theory_and_prior_errors_name_the_line_and_fix(tmp_path: Path, old: str, new: str, marker: str,
                                                       message: str) -> None:
    content = tmp_path / "content"
    shutil.copytree(CERT, content)
    path = content / "certification.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_certification(load_course(content))
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if marker in t)
    assert str(info.value) == f"content/certification.yaml:{line}: {message}"
