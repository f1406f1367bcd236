"""The outputs a graded cell shows: the learner's answer, the key, the 解析 and the score.

These are the only outputs of an autograded notebook, all written by the
grader. Learner text is escaped: it is rendered as Markdown by formgrader and
the feedback page, and must not inject HTML there. A case question's rubric
is marked grader-only (stripped from feedback by
:class:`course.nbgrader_ext.StripGraderOnly`).
"""

from __future__ import annotations

import html
import json
from typing import Any

from nbformat import NotebookNode

from course import model as m
from course.grading.answers import Scored
from course.nbgrader_ext import GRADER_ONLY

UNANSWERED = "（未作答）"
UNREADABLE = "（答案文件无法识别，按 0 分计）"


def _text(value: Any) -> str:
    """Learner-written text, safe inside Markdown/HTML."""
    return html.escape(str(value), quote=False).replace("\n", "  \n")


def format_response(q: m.Question, response: Any) -> str:
    """A learner's answer as text, in the option wording (never the key letter alone)."""
    if response in (None, "", [], {}):
        return UNANSWERED
    if isinstance(q, m.SingleChoice):
        return q.options.get(response, UNREADABLE)
    if isinstance(q, m.MultipleChoice):
        return "；".join(q.options.get(k, UNREADABLE) for k in response)
    if isinstance(q, m.TrueFalse):
        return "正确" if response else "错误"
    if isinstance(q, m.Ordering):
        return " → ".join(q.items.get(k, "（空）") if k else "（空）" for k in response)
    if isinstance(q, m.Matching):
        return "；".join(f"{text} — {q.options.get(response.get(p) or '', '（空）')}" for p, text in q.prompts.items())
    if isinstance(q, m.FillBlank):
        return "；".join(f"({i}) {_text(v) if v else '（空）'}" for i, v in enumerate(response, 1))
    return _text(response)


def correct_answer(q: m.Question) -> str:
    if isinstance(q, m.SingleChoice):
        return q.options[q.answer]
    if isinstance(q, m.MultipleChoice):
        return "；".join(q.options[k] for k in sorted(q.answer))
    if isinstance(q, m.TrueFalse):
        return "正确" if q.answer else "错误"
    if isinstance(q, m.Ordering):
        return " → ".join(q.items[k] for k in q.answer)
    if isinstance(q, m.Matching):
        return "；".join(f"{q.prompts[p]} — {q.options[k]}" for p, k in q.answer.items())
    if isinstance(q, m.FillBlank):
        return "；".join(f"({i}) {' / '.join(alts)}" for i, alts in enumerate(q.blanks, 1))
    return ""


# Plain dicts, valid nbformat v4 outputs by construction: nbformat.v4.new_output validates each
# against the JSON schema, which was more than half of the grading time.
def _markdown(text: str, grader_only: bool = False) -> NotebookNode:
    meta = {"course": {GRADER_ONLY: True}} if grader_only else {}
    return NotebookNode(output_type="display_data", data={"text/markdown": text}, metadata=meta)


def score_output(points: float) -> NotebookNode:
    """nbgrader reads a test cell's last ``execute_result`` as its partial credit."""
    return NotebookNode(output_type="execute_result", data={"text/plain": json.dumps(points)}, metadata={},
                        execution_count=1)


def graded_outputs(q: m.Question, result: Scored) -> list[NotebookNode]:
    """The outputs of one graded cell after trusted scoring."""
    answer = UNREADABLE if result.problem else format_response(q, result.response)
    if isinstance(q, m.CaseAnalysis):
        rubric = "\n".join(f"- {r.criterion}（{r.points:g}分）" for r in q.rubric)
        reference = f"\n\n**参考答案**：{q.reference}" if q.reference else ""
        return [
            _markdown(f"**学员作答**：\n\n{answer}"),
            _markdown(f"**解析**：{q.explanation}"),
            _markdown(f"**评分要点（仅评分人可见）**\n\n{rubric}{reference}", grader_only=True),
        ]
    lines = [f"**你的答案**：{answer}", f"**正确答案**：{correct_answer(q)}", f"**解析**：{q.explanation}"]
    if result.problem:
        lines.append("**注意**：你提交的答案文件已损坏或被改动，本题按 0 分计，请联系讲师。")
    return [_markdown("\n\n".join(lines)), score_output(result.score or 0.0)]
