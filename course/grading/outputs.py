"""The outputs a graded cell shows: the learner's answer, the key, the 解析 and the score.

Every output is ``text/html`` the grader builds, which formgrader and the feedback page show as
it is. Learner-written text is data, never markup: :func:`inert` turns it into HTML that shows
the characters typed (escaped, line breaks kept, then cleaned by nh3 with nothing allowed but
``<br>``, inside MathJax's ignore class). It never passes through Markdown or TeX, so
``[点我](javascript:…)``, ``![](http://…)``, a ``# 得分：10 / 10 分`` heading, ``$\\href{…}{…}$`` or
raw HTML show as text, load nothing and run nothing. Formgrader's page loads no MathJax at all
(``course/templates/formgrade/mathjax.html.j2``). The
course's own text (key, 解析, rubric) is Markdown written by the course's authors, rendered once
per text. A case question's rubric is marked grader-only (stripped from feedback by
:class:`course.nbgrader_ext.StripGraderOnly`).

Two parts, kept in two places. A learner's own part (:func:`learner_outputs`: the answer, a
note on an altered file, the score) is written into that learner's autograded notebook; the
part every learner of a question shares (:func:`key_outputs`: the key, the 解析, the rubric)
is not copied into every notebook but added when a page shows one
(:class:`course.nbgrader_ext.ShowSharedParts`), right after the answer: :func:`graded_outputs`
is what a page shows.
"""

from __future__ import annotations

import functools
import html
import json
from typing import Any

import nh3
from course_runtime.scoring import arrange_blanks

from course import model as m
from course.grading.answers import Scored

NO_MATH = "tex2jax_ignore"  # MathJax 2's and 3's ignore class: nothing inside is typeset
GRADER_ONLY = "grader_only"  # an output's metadata.course flag: for graders, stripped from learners' feedback

UNANSWERED = "（未作答）"
UNREADABLE = "（答案文件无法识别，按 0 分计）"
EMPTY = "（空）"
ANY_ORDER_KEY = "（各空顺序不限）"
ANY_ORDER_ANSWER = "（各空顺序不限，已按正确答案的顺序对照排列）"
ALTERED = "你提交的答案文件已损坏或被改动，本题按 0 分计，请联系讲师。"


def inert(text: str) -> str:
    """Learner-written text as HTML that shows exactly the characters typed, line breaks kept, nothing else.

    Wrapped in MathJax's ignore class, so a page that typesets (a JupyterLab view, an instructor's own
    formgrader template) leaves ``$\\href{…}{…}$`` or ``$\\Huge …$`` from a learner as the characters typed."""
    lines = html.escape(text, quote=False).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return f'<span class="{NO_MATH}">{nh3.clean("<br>".join(lines), tags={"br"}, attributes={})}</span>'


@functools.lru_cache(maxsize=4096)
def course_html(markdown: str) -> str:
    """The course authors' Markdown as HTML (rendered once per distinct text in a process)."""
    from nbconvert.filters.markdown import markdown2html  # only where a page is shown, never per submission

    return str(markdown2html(markdown)).strip()


def _blanks(q: m.FillBlank, response: list[Any]) -> str:
    shown = arrange_blanks(q.blanks, response, q.compare == "text") if q.any_order else response
    text = "；".join(f"({i}) {inert(v) if v else EMPTY}" for i, v in enumerate(shown, 1))
    return text + ANY_ORDER_ANSWER if q.any_order else text


def format_response(q: m.Question, response: Any) -> str:
    """A learner's answer as HTML, in the option wording (never the key letter alone); their own text inert."""
    if response in (None, "", [], {}):
        return UNANSWERED
    if isinstance(q, m.SingleChoice):
        return html.escape(q.options.get(response, UNREADABLE), quote=False)
    if isinstance(q, m.MultipleChoice):
        return html.escape("；".join(q.options.get(k, UNREADABLE) for k in response), quote=False)
    if isinstance(q, m.TrueFalse):
        return "正确" if response else "错误"
    if isinstance(q, m.Ordering):
        return html.escape(" → ".join(q.items.get(k, EMPTY) if k else EMPTY for k in response), quote=False)
    if isinstance(q, m.Matching):
        return html.escape("；".join(f"{text} — {q.options.get(response.get(p) or '', EMPTY)}"
                                    for p, text in q.prompts.items()), quote=False)
    if isinstance(q, m.FillBlank):
        return _blanks(q, response)
    return inert(response)


def correct_answer(q: m.Question) -> str:
    """The key in words, as Markdown of the course's own text."""
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
        key = "；".join(f"({i}) {' / '.join(alts)}" for i, alts in enumerate(q.blanks, 1))
        return key + ANY_ORDER_KEY if q.any_order else key
    return ""


# Plain dicts, valid nbformat v4 outputs by construction: nbformat.v4.new_output validates each
# against the JSON schema, which was more than half of the grading time.
def _html(text: str, grader_only: bool = False) -> dict[str, Any]:
    meta = {"course": {GRADER_ONLY: True}} if grader_only else {}
    return {"output_type": "display_data", "data": {"text/html": text}, "metadata": meta}


def score_output(points: float) -> dict[str, Any]:
    """nbgrader reads a test cell's last ``execute_result`` as its partial credit."""
    return {"output_type": "execute_result", "data": {"text/plain": json.dumps(points)}, "metadata": {},
            "execution_count": 1}


def _answer_html(q: m.Question, result: Scored) -> str:
    answer = UNREADABLE if result.problem else format_response(q, result.response)
    if isinstance(q, m.CaseAnalysis):
        return f"<p><strong>学员作答</strong>：</p>\n<p>{answer}</p>"
    return f"<p><strong>你的答案</strong>：{answer}</p>"


def learner_outputs(q: m.Question, result: Scored) -> list[dict[str, Any]]:
    """One learner's part of a graded cell: their answer, a note if their file was altered, the score."""
    outputs = [_html(_answer_html(q, result))]
    if isinstance(q, m.CaseAnalysis):
        return outputs
    if result.problem:
        outputs.append(_html(f"<p><strong>注意</strong>：{ALTERED}</p>"))
    return [*outputs, score_output(result.score or 0.0)]


_text = json.JSONEncoder(ensure_ascii=False).encode  # one str as JSON text, by the C encoder
_DISPLAY = '{{"data":{{"text/html":{}}},"metadata":{{}},"output_type":"display_data"}}'
_SCORE = '{{"data":{{"text/plain":{}}},"execution_count":1,"metadata":{{}},"output_type":"execute_result"}}'


def learner_outputs_json(q: m.Question, result: Scored) -> str:
    """:func:`learner_outputs` as the JSON text ``json.dumps(..., sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))`` gives, written directly: a national cohort writes half a million of these."""
    parts = [_DISPLAY.format(_text(_answer_html(q, result)))]
    if not isinstance(q, m.CaseAnalysis):
        if result.problem:
            parts.append(_DISPLAY.format(_text(f"<p><strong>注意</strong>：{ALTERED}</p>")))
        parts.append(_SCORE.format(_text(json.dumps(result.score or 0.0))))
    return "[" + ",".join(parts) + "]"


def key_outputs(q: m.Question) -> list[dict[str, Any]]:
    """What every learner's graded cell of ``q`` shows after the answer: the key and the 解析, or for a case
    question the 解析 and, for graders only, the rubric and the reference answer."""
    if isinstance(q, m.CaseAnalysis):
        rubric = "\n".join(f"- {r.criterion}（{r.points:g}分）"
                           + "".join(f"\n    - {lv.points:g}分：{lv.descriptor}" for lv in r.levels) for r in q.rubric)
        reference = f"\n\n**参考答案**：{q.reference}" if q.reference else ""
        return [_html(course_html(f"**解析**：{q.explanation}")),
                _html(course_html(f"**评分要点（仅评分人可见）**\n\n{rubric}{reference}"), grader_only=True)]
    return [_html(course_html(f"**正确答案**：{correct_answer(q)}\n\n**解析**：{q.explanation}"))]


def graded_outputs(q: m.Question, result: Scored) -> list[dict[str, Any]]:
    """What a page shows of one graded cell: the learner's part with the shared part after the answer."""
    mine = learner_outputs(q, result)
    return [mine[0], *key_outputs(q), *mine[1:]]
