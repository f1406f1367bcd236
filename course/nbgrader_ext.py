"""nbgrader preprocessors of this course."""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool

GRADER_ONLY = "grader_only"


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
