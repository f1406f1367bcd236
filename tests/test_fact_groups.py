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
