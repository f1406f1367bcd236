"""The autograded notebook of one submission, built from the released notebook.

nbgrader's autograde starts from the learner's notebook and restores its
locked cells from the gradebook (``OverwriteCells``). Here the learner's
notebook is not read at all: the template is the *released* notebook with
the same restoration applied once per assignment, so every learner-added
cell, output or metadata change is ignored by construction. Per submission,
only the graded cells' outputs differ.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from nbformat import NotebookNode
from nbgrader import utils as nbutils

from course import model as m
from course.errors import WorkflowError
from course.grading.answers import SubmissionScores
from course.grading.outputs import graded_outputs


def template(released: NotebookNode, source_cells: dict[str, tuple[str, str]],
             points: dict[str, float]) -> NotebookNode:
    """The released notebook with nbgrader's locked sources, checksums and points restored.

    ``source_cells``: grade id → (source, checksum) as saved by ``generate_assignment``;
    ``points``: grade id → max score.
    """
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta or "grade_id" not in meta:
            continue
        gid = meta["grade_id"]
        if gid not in source_cells:
            raise WorkflowError(f"cell '{gid}' of the released notebook is not in the gradebook: "
                                "run `course generate` again")
        source, checksum = source_cells[gid]
        if meta.get("grade"):
            meta["points"] = points[gid]
        meta["checksum"] = checksum
        if meta.get("locked") and nbutils.compute_checksum(cell) != checksum:
            cell.source = source
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def graded_notebook(base: NotebookNode, questions: dict[str, m.Question], scores: SubmissionScores) -> dict[str, Any]:
    """One submission's autograded notebook as a plain dict (``base`` is not changed).

    What the learner's feedback says about the answers file itself (Chinese, see
    :func:`course.grading.answers.unreadable_notice`) goes in ``metadata.course.answers_notice``.
    """
    nb: dict[str, Any] = dict(base)
    if scores.notice:
        meta = dict(base.metadata)
        meta["course"] = {**meta.get("course", {}), "answers_notice": scores.notice}
        nb["metadata"] = meta
    cells = []
    for cell in base.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and gid in scores.scored:
            result = scores.scored[gid]
            cell = dict(cell, outputs=graded_outputs(questions[gid], result), execution_count=1)
        elif cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            # A grade cell that is not a question (the 0-point setup cell) passes with no output.
            cell = dict(cell, outputs=[], execution_count=1)
        cells.append(cell)
    nb["cells"] = cells
    return nb


def notebook_json(nb: dict[str, Any]) -> str:
    """Notebook file text. No indentation: with ``indent`` json falls back to its pure-Python encoder."""
    return json.dumps(nb, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def score_of_cell(cell: NotebookNode) -> float | None:
    """The score nbgrader itself would read from this cell (for the differential test)."""
    return nbutils.determine_grade(cell)[0]

