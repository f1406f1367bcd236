"""Question -> spec dicts: what a learner's widget may see (public) and what scoring needs (key).

Kept apart from :mod:`course.build` (which needs nbformat) so grading and analytics can turn
content into specs without importing the notebook toolchain.
"""

from __future__ import annotations

from typing import Any

from course import model as m


def public_spec(q: m.Question, number: int) -> dict[str, Any]:
    """What the learner's widget needs: options and sizes, never the key."""
    spec: dict[str, Any] = {"no": number, "type": q.type}
    if isinstance(q, m.SingleChoice | m.MultipleChoice):
        spec["options"] = dict(q.options)
    elif isinstance(q, m.Ordering):
        spec["items"], spec["width"] = dict(q.items), len(q.items)
    elif isinstance(q, m.Matching):
        spec["prompts"], spec["options"] = dict(q.prompts), dict(q.options)
    elif isinstance(q, m.FillBlank):
        spec["width"] = len(q.blanks)
    return spec


def key_spec(q: m.Question) -> dict[str, Any]:
    """What scoring needs (see :mod:`course_runtime.scoring`); lives only in hidden tests and the content."""
    spec: dict[str, Any] = {"type": q.type, "points": q.points, "explanation": q.explanation}
    if isinstance(q, m.FillBlank):
        spec["blanks"], spec["any_order"] = [list(b) for b in q.blanks], q.any_order
        if q.compare != "auto":
            spec["compare"] = q.compare
    elif isinstance(q, m.MultipleChoice):
        spec["answer"], spec["scoring"] = sorted(q.answer), q.scoring
    elif isinstance(q, m.Ordering):
        spec["answer"], spec["scoring"] = list(q.answer), q.scoring
    elif isinstance(q, m.Matching):
        spec["answer"] = dict(sorted(q.answer.items()))
    elif not isinstance(q, m.CaseAnalysis):
        spec["answer"] = q.answer
    return dict(sorted(spec.items()))
