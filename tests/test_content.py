"""Does the shipped course content hold the whole seed, validly?"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from course_runtime.scoring import score

import course as course_pkg
from course import model as m
from course.build import key_spec
from course.loader import Course
from course.rules import KANGXI, normalise_quote

SEED_ITEMS = yaml.safe_load((Path(__file__).parent / "fixtures" / "seed_items.yaml").read_text(encoding="utf-8"))


def test_shipped_content_validates(course: Course) -> None:
    """Does the shipped content pass every rule, with enough questions?"""
    assert len(course.questions) >= 250
    assert len(course.chapters) == 22


def test_every_chapter_has_twelve_questions_covering_every_section(course: Course) -> None:
    for chapter in course.chapters.values():
        questions = course.questions_of(chapter.id)
        assert len(questions) >= 12, chapter.id
        assert {s.id for s in chapter.sections} <= {q.section for q in questions}, chapter.id


def test_every_question_type_is_used(course: Course) -> None:
    assert set(Counter(q.type for q in course.questions)) == set(m.QUESTION_TYPES)


def test_syllabus_has_the_seed_parts_and_chapter_counts(course: Course) -> None:
    parts = {p.title: len(p.chapters) for p in course.syllabus.parts}
    assert parts == {"基础篇": 8, "技术产品与解决方案篇": 5, "客户经理岗位技能篇": 1, "销售技巧": 8}


def test_levels_carry_the_seed_training_hours(course: Course) -> None:
    assert {lv.title: lv.min_training_hours for lv in course.levels.levels} == {
        "四级": 30, "三级（中级）": 24, "二级（高级）": 18, "一级（资深）": 12,
    }


def test_weight_tables_are_labelled_defaults_summing_to_100(course: Course) -> None:
    assert course.weights.status == "default"
    for table in course.weights.tables.values():
        assert sum(table.values()) == 100
        assert set(table) == set(course.leaf_areas)


def test_competency_model_has_18_items_in_3_categories_and_4_levels(course: Course) -> None:
    model = course.competencies
    assert len(model.items) == 18
    assert {c.title for c in model.categories} == {"基本能力", "专业/技术能力", "职能行为能力"}
    assert [lv.title for lv in model.levels] == ["初级", "中级", "高级", "资深"]


def test_no_kangxi_radicals_anywhere_in_content() -> None:
    content = Path(course_pkg.__file__).parent / "content"
    offenders = [p.name for p in content.rglob("*") if p.is_file() and KANGXI.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def _questions_for(course: Course, item: str) -> list[m.Question]:
    return sorted((q for q in course.questions if item in q.provenance.items), key=lambda q: q.id)


@pytest.mark.parametrize("item", sorted(SEED_ITEMS))
def test_seed_item_is_present_with_the_seed_answer(course: Course, item: str) -> None:
    """Is every seed exam / knowledge-base question in the bank, keyed with the seed's own answer?"""
    expected = SEED_ITEMS[item]
    questions = _questions_for(course, item)
    assert questions, f"seed item {item} is missing from the question bank"
    assert all(q.provenance.source in ("seed", "seed-derived") for q in questions)
    if "choice" in expected:
        (q,) = questions
        assert isinstance(q, m.SingleChoice)
        assert normalise_quote(q.options[q.answer]) == normalise_quote(expected["choice"])
    elif "truefalse" in expected:
        (q,) = questions
        assert isinstance(q, m.TrueFalse) and q.answer is expected["truefalse"]
        assert q.provenance.note, "an answer decided from the seed's text must say so"
    elif "manual" in expected:
        assert all(isinstance(q, m.CaseAnalysis) and q.provenance.note for q in questions)
    elif "pairs" in expected:
        (q,) = questions
        assert isinstance(q, m.Matching)
        got = {q.prompts[p]: q.options[k] for p, k in q.answer.items()}
        assert {k: v for k, v in got.items() if k in expected["pairs"]}.keys() == expected["pairs"].keys()
        assert all(got[k].startswith(v) for k, v in expected["pairs"].items())
    else:
        words = list(expected["blanks"])
        for q in questions:
            assert isinstance(q, m.FillBlank)
            mine, words = words[: len(q.blanks)], words[len(q.blanks):]
            assert score(key_spec(q), mine) == q.points, f"{q.id} does not accept the seed's answer {mine}"
        assert words == [], f"{item}: seed blanks left over {words}"


def test_levels_say_what_the_seed_gives_about_who_may_apply(course: Course) -> None:
    """Does the note quote the seed's one condition (基本文化程度) verbatim and say 8.2 申报条件 is only a heading?"""
    import unicodedata

    note = course.levels.application_note
    quoted = "大专以上或同等学历（已有工作经验的人员可适当放低标准）"
    assert note and quoted in note and "只有标题" in note
    seed = (course.root / "seed.txt").read_text(encoding="utf-8")
    assert unicodedata.normalize("NFKC", f"6.基本文化程度{quoted}") in unicodedata.normalize("NFKC", seed)
