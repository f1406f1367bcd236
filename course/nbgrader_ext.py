"""nbgrader preprocessors of this course (see ``FEEDBACK_PREPROCESSORS`` in :mod:`course.nbconfig`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import nh3
import sqlalchemy as sa
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import GetGrades
from traitlets import Bool

from course.grading import tables
from course.grading.notebook import FORMAT
from course.grading.outputs import GRADER_ONLY, NO_MATH, inert, key_outputs

MISSING_QUESTION = "<p>（题库中已没有这道题：答案与解析无法显示。）</p>"
# What a feedback page may show of an output: text, paragraphs, emphasis, lists and line breaks. No link,
# image, heading, table, form, script or style, whoever wrote the output.
FEEDBACK_TAGS = frozenset({"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "code", "span"})
FEEDBACK_DATA = ("text/html", "text/plain")  # every other kind of output data is dropped


def safe_html(text: str) -> str:
    """``text`` with only :data:`FEEDBACK_TAGS` left, and no attribute but MathJax's ignore class around a
    learner's text (nh3, the Ammonia sanitiser)."""
    return nh3.clean(text, tags=set(FEEDBACK_TAGS), attributes={},
                     tag_attribute_values={"span": {"class": {NO_MATH}}})


def is_grader_only(output: NotebookNode) -> bool:
    return bool(output.get("metadata", {}).get("course", {}).get(GRADER_ONLY))


def locked_sources(db_url: str, course_id: str, assignment: str, notebook: str) -> dict[str, tuple[str, str]]:
    """The source and checksum nbgrader keeps of each locked cell of a notebook (``source_cell``), by grade id."""
    engine = sa.create_engine(db_url)
    a, n, s = tables.ASSIGNMENT, tables.NOTEBOOK, tables.SOURCE_CELL
    try:
        with engine.connect() as conn:
            return {name: (source or "", checksum or "") for name, source, checksum in conn.execute(
                sa.select(s.c.name, s.c.source, s.c.checksum).join(n, n.c.id == s.c.notebook_id)
                .join(a, a.c.id == n.c.assignment_id)
                .where(a.c.name == assignment, a.c.course_id == course_id, n.c.name == notebook, s.c.locked))}
    finally:
        engine.dispose()


def _shown_notebook(resources: dict[str, Any]) -> tuple[str, str] | None:
    """(assignment, notebook) of the page being made: formgrader's resources, or GenerateFeedback's."""
    if "assignment_id" in resources and "notebook_id" in resources:
        return str(resources["assignment_id"]), str(resources["notebook_id"])
    info = resources.get("nbgrader") or {}
    if "assignment" in info and "notebook" in info:
        return str(info["assignment"]), str(info["notebook"])
    return None


def _gradebook_sources(config: Any, resources: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The locked cells' sources of the notebook a page shows, from the gradebook ({} where it is not known)."""
    where = _shown_notebook(resources)
    course_dir = config.CourseDirectory
    if where is None or not isinstance(course_dir.get("db_url"), str):
        return {}
    return locked_sources(course_dir.db_url, str(course_dir.get("course_id", "")), *where)


class ShowSharedParts(Preprocessor):
    """Formgrader and the feedback page show an autograded notebook whole (see :mod:`course.grading.notebook`).

    A notebook the grader wrote holds each learner's own part only; this puts back what every
    learner's copy shares: the locked cells' sources and checksums, from the gradebook where nbgrader keeps
    them, and after each answer the question's key and 解析 (and, for graders, a case's rubric),
    from the course content it was graded with (``metadata.course.content``; where that folder is
    gone, ``$COURSE_CONTENT`` or the content shipped). Any other notebook, one
    nbgrader's kernel graded included, passes unchanged. Configured as ``HTMLExporter.preprocessors``,
    so formgrader's page and nbgrader's feedback both run it first.
    """

    enabled = Bool(True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        meta = nb.metadata.get("course", {})
        if meta.get("format") != FORMAT:
            return nb, resources
        sources = _gradebook_sources(self.config, resources)
        from course.loader import load_course

        graded_with = Path(str(meta.get("content", "")))
        course = load_course(graded_with if meta.get("content") and graded_with.is_dir() else None)
        asked = set(meta.get("questions", []))
        for cell in nb.cells:
            grading = cell.metadata.get("nbgrader", {})
            gid = grading.get("grade_id")
            if grading.get("locked") and not cell.source and gid in sources:
                cell.source, grading["checksum"] = sources[gid]
            if cell.cell_type == "code" and gid in asked and cell.outputs:
                shared = key_outputs(course.by_id[gid]) if gid in course.by_id else [
                    {"output_type": "display_data", "data": {"text/html": MISSING_QUESTION}, "metadata": {}}]
                cell.outputs[1:1] = [nbformat.from_dict(o) for o in shared]
        return nb, resources


def _safe_outputs(cell: NotebookNode) -> None:
    for output in cell.get("outputs", []):
        if "data" in output:
            output.data = {k: v for k, v in output.data.items() if k in FEEDBACK_DATA}
            if "text/html" in output.data:
                output.data["text/html"] = safe_html(str(output.data["text/html"]))


def _source_texts(config: Any, resources: dict[str, Any]) -> set[str]:
    """The text cells of the instructor's source notebook of the page ({} where it is not known)."""
    where = _shown_notebook(resources)
    course_dir = config.CourseDirectory
    if where is None or not isinstance(course_dir.get("root"), str):
        return set()
    path = Path(course_dir.root) / str(course_dir.get("source_directory", "source")) / where[0] / f"{where[1]}.ipynb"
    try:
        source = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return set()
    return {cell.source for cell in source.cells if cell.cell_type != "code"}


class InertLearnerNotebook(Preprocessor):
    """A notebook the course's grader did not write (``course autograde --execute`` or nbgrader's kernel graded
    it: the learner's own notebook, run) shows on formgrader's page as data. Outputs only as :func:`safe_html`
    lets them through (no script, image, SVG, Markdown or widget), and every Markdown or raw cell that is not the
    instructor's own text (the source notebook's, the gradebook's locked cells) as the text typed: a learner may
    add cells, or edit the stems, which nbgrader does not lock. The course's own notebooks pass unchanged (their
    outputs are the grader's; :class:`ShowSharedParts` completes them)."""

    enabled = Bool(True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        if nb.metadata.get("course", {}).get("format") == FORMAT:
            return nb, resources
        known = _source_texts(self.config, resources)
        known |= {source for source, _ in _gradebook_sources(self.config, resources).values()}
        for cell in nb.cells:
            _safe_outputs(cell)
            if cell.cell_type != "code" and cell.source not in known:
                # one line of HTML: Markdown leaves an HTML block as it is, so nothing in it is read as Markdown
                cell.cell_type, cell.source = "markdown", f"<p>{inert(cell.source)}</p>"
                cell.pop("attachments", None)
                cell.metadata.pop("raw_mimetype", None)
        return nb, resources


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
        _safe_outputs(cell)
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


class KernelLanguage(Preprocessor):
    """Release step: the notebook's ``language_info`` as the learners' kernel reports it.

    JupyterLab writes the kernel's ``language_info`` into a notebook when the kernel connects and marks the
    notebook modified unless the value is already there. The learners' environment is built from this
    interpreter (:mod:`course.hub.learnerenv`), so its ipykernel reports what this one does.
    """

    enabled = Bool(True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        from ipykernel.ipkernel import IPythonKernel  # only when releasing: it imports IPython

        nb.metadata["language_info"] = nbformat.from_dict(IPythonKernel.language_info)
        return nb, resources
