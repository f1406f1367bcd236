"""Put trusted quiz scores into nbgrader's gradebook and the autograded notebooks.

nbgrader runs the learner's notebook with no sandbox: code a learner adds can
redefine the scoring helpers or write files. Quiz answers are data, so after
nbgrader's autograde this step re-scores every question from a snapshot of
the *submitted* answers file taken before any learner code ran, writes the
scores through nbgrader's Gradebook API, and rewrites the graded cells'
outputs (answer, explanation, score; the rubric for graders) so formgrader
and feedback show what was really graded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from course import model as m
from course.nbgrader_ext import GRADER_ONLY
from course.submission import Scored, SubmissionScores


def format_response(q: m.Question, response: Any) -> str:
    """A learner's answer as text, in the option wording (never the key)."""
    if response in (None, "", [], {}):
        return "（未作答）"
    if isinstance(q, m.SingleChoice):
        return q.options.get(response, str(response))
    if isinstance(q, m.MultipleChoice):
        return "；".join(q.options.get(k, str(k)) for k in response)
    if isinstance(q, m.TrueFalse):
        return "正确" if response else "错误"
    if isinstance(q, m.Ordering):
        return " → ".join(q.items.get(k, "（空）") if k else "（空）" for k in response)
    if isinstance(q, m.Matching):
        return "；".join(f"{text} — {q.options.get(response.get(p) or '', '（空）')}" for p, text in q.prompts.items())
    if isinstance(q, m.FillBlank):
        return "；".join(f"({i}) {v or '（空）'}" for i, v in enumerate(response, 1))
    return str(response)


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


def _markdown(text: str, grader_only: bool = False) -> nbformat.NotebookNode:
    meta = {"course": {GRADER_ONLY: True}} if grader_only else {}
    return nbformat.v4.new_output("display_data", data={"text/markdown": text}, metadata=meta)


def graded_outputs(q: m.Question, result: Scored) -> list[nbformat.NotebookNode]:
    """The outputs a graded cell should show after trusted scoring."""
    if result.problem:
        answer = f"（无法识别：{json.dumps(result.response, ensure_ascii=False)[:200]}）"
    else:
        answer = format_response(q, result.response)
    if isinstance(q, m.CaseAnalysis):
        rubric = "\n".join(f"- {r.criterion}（{r.points:g}分）" for r in q.rubric)
        reference = f"\n\n**参考答案**：{q.reference}" if q.reference else ""
        return [
            _markdown(f"**学员作答**：\n\n{answer}"),
            _markdown(f"**评分要点（仅评分人可见）**\n\n{rubric}{reference}", grader_only=True),
        ]
    lines = [f"**你的答案**：{answer}", f"**正确答案**：{correct_answer(q)}", f"**解析**：{q.explanation}"]
    if result.problem:
        lines.append(f"**注意**：{result.problem}")
    return [
        _markdown("\n\n".join(lines)),
        nbformat.v4.new_output("execute_result", data={"text/plain": json.dumps(result.score)}, execution_count=1),
    ]


def apply(gb: Gradebook, autograded_nb: Path, questions: list[m.Question], scores: SubmissionScores) -> None:
    """Write ``scores`` to the (open) gradebook and the autograded notebook of one submission."""
    by_id = {q.id: q for q in questions}
    for qid, result in scores.scored.items():
        try:
            grade = gb.find_grade(qid, scores.chapter, scores.chapter, scores.student)
        except MissingEntry:
            continue  # nbgrader could not grade this notebook at all; its own log says why
        grade.auto_score = result.score
        grade.needs_manual_grade = result.score is None
    gb.db.commit()
    if not autograded_nb.exists():
        return
    nb = nbformat.read(autograded_nb, as_version=4)
    for cell in nb.cells:
        qid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and qid in scores.scored:
            cell.outputs = graded_outputs(by_id[qid], scores.scored[qid])
    nbformat.write(nb, autograded_nb)
