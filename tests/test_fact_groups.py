"""Are "same fact, same answer" groups checked in the content and kept apart on exam papers?"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from course import model as m
from course.loader import load_course

MINI = Path(__file__).parent / "fixtures" / "mini"
_QUESTION: TypeAdapter[m.Question] = TypeAdapter(m.Question)


def item(qid: str, stem: str, **fields: Any) -> m.Question:
    return _QUESTION.validate_python({
        "id": qid, "section": "s", "mastery": "了解", "stem": stem, "explanation": "解析。", "points": 1,
        "provenance": {"source": "general"}, "type": "truefalse", "answer": True, **fields})


def test_a_group_of_two_questions_is_valid(tmp_path: Path) -> None:
    """Do a choice item and a true/false item sharing a group load without a problem?"""
    root = tmp_path / "content"
    shutil.copytree(MINI, root)
    path = root / "questions" / "ch01.yaml"
    text = path.read_text(encoding="utf-8")
    for qid in ("ch01-001", "ch01-003"):
        text = text.replace(f"  - id: {qid}\n", f"  - id: {qid}\n    fact_group: telecom-day\n")
    path.write_text(text, encoding="utf-8")
    course = load_course(root)
    assert [q.id for q in course.questions if q.fact_group == "telecom-day"] == ["ch01-001", "ch01-003"]


def test_questions_of_one_fact_group_never_share_a_paper() -> None:
    """Are two unlike stems of one group near-duplicates for papers, while unlike stems without a group are not?"""
    from course.certification.papers import near_duplicates

    bank = [item("ch01-001", "ChinaNet属于业务品牌。", fact_group="chinanet"),
            item("ch02-001", "按照当时的品牌体系，下列哪一个与天翼处于同一层次？", fact_group="chinanet"),
            item("ch03-001", "世界电信日是5月17日。"),
            item("ch04-001", "SWOT中的S指优势。", fact_group="swot")]
    assert near_duplicates(bank, 0.6) == {"ch01-001": frozenset({"ch02-001"}), "ch02-001": frozenset({"ch01-001"}),
                                          "ch03-001": frozenset(), "ch04-001": frozenset()}
