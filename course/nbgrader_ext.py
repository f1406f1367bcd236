"""nbgrader preprocessors of this course (see ``FEEDBACK_PREPROCESSORS`` in :mod:`course.nbconfig`)."""

from __future__ import annotations

from typing import Any

import nh3
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import GetGrades
from traitlets import Bool

GRADER_ONLY = "grader_only"
# What a feedback page may show of an output: text, paragraphs, emphasis, lists and line breaks. No link,
# image, heading, table, form, script or style, whoever wrote the output.
FEEDBACK_TAGS = frozenset({"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "code"})
FEEDBACK_DATA = ("text/html", "text/plain")  # every other kind of output data is dropped


def safe_html(text: str) -> str:
    """``text`` with only :data:`FEEDBACK_TAGS` left, and no attribute at all (nh3, the Ammonia sanitiser)."""
    return nh3.clean(text, tags=set(FEEDBACK_TAGS), attributes={})


def is_grader_only(output: NotebookNode) -> bool:
    return bool(output.get("metadata", {}).get("course", {}).get(GRADER_ONLY))


class StripGraderOnly(Preprocessor):
    """Remove outputs meant for graders (case rubrics) from learner feedback."""

    enabled = Bool(True)  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not is_grader_only(o)]
        return cell, resources


class SafeOutputs(Preprocessor):
    """Feedback shows outputs only as :func:`safe_html` lets them through; other data (Markdown, images,
    scripts) is dropped. The grader's own outputs pass unchanged; this stops anything else."""

    enabled = Bool(True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[NotebookNode, dict[str, Any]]:
        for output in cell.get("outputs", []):
            if "data" in output:
                output.data = {k: v for k, v in output.data.items() if k in FEEDBACK_DATA}
                if "text/html" in output.data:
                    output.data["text/html"] = safe_html(str(output.data["text/html"]))
        return cell, resources


class FeedbackGrades(GetGrades):
    """nbgrader's GetGrades plus what the course's feedback template shows.

    Per question cell, ``cell.metadata.course_feedback``: the question number
    (its place in ``notebook.metadata.course.questions``), whether it still
    waits for a grader (``pending``) and whether a grader's score waits for
    review because the learner changed the answer after it (``review``); in
    ``resources["course_feedback"]``: those questions and their points, for
    the headline.
    """

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        order = list(nb.metadata.get("course", {}).get("questions", []))
        self._numbers = {qid: i for i, qid in enumerate(order, 1)}
        resources["course_feedback"] = {"pending": [], "pending_points": 0.0, "review": [], "review_points": 0.0}
        nb, resources = super().preprocess(nb, resources)
        return nb, resources

    def _get_score(self, cell: NotebookNode, resources: dict[str, Any]) -> None:
        super()._get_score(cell, resources)
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        grade = self.gradebook.find_grade(grade_id, self.notebook_id, self.assignment_id, self.student_id)
        waits = bool(grade.needs_manual_grade)
        pending = waits and grade.manual_score is None
        review = waits and grade.manual_score is not None  # a machine flagged a person's grade: stale
        number = self._numbers.get(grade_id)
        cell.metadata["course_feedback"] = {"no": number, "pending": pending, "review": review}
        summary = resources["course_feedback"]
        if pending and number is not None:
            summary["pending"].append({"no": number, "points": grade.max_score})
            summary["pending_points"] += grade.max_score
        if review and number is not None:
            summary["review"].append({"no": number, "points": grade.max_score, "score": grade.score})
            summary["review_points"] += grade.score


class DropAnswerHints(Preprocessor):
    """Remove the how-to-answer lines under each stem ("请在下方…") from learner feedback."""

    enabled = Bool(True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[NotebookNode, dict[str, Any]]:
        from course.build import ANSWER_HINTS

        if cell.cell_type == "markdown" and str(cell.get("id", "")).endswith("-stem"):
            hints = set(ANSWER_HINTS.values())
            cell.source = "\n".join(line for line in cell.source.splitlines() if line.strip() not in hints).rstrip()
        return cell, resources
