"""The autograded notebook of one submission, built from the released notebook.

nbgrader's autograde starts from the learner's notebook and restores its locked cells from the
gradebook (``OverwriteCells``). Here the learner's notebook is not read at all: the template is
the *released* notebook with nbgrader's checksums and points applied once per assignment, so
every learner-added cell, output or metadata change is ignored by construction. Per submission,
only the graded cells' outputs (and a notice about the answers file) differ.

What every learner's notebook of an assignment would repeat is not copied into each one (a
national cohort writes hundreds of thousands): a locked cell's source and checksum, which nbgrader
keeps once in the gradebook (``source_cell``, what its autograde restores from), and each question's key
and 解析, which the course content holds; and the cell flags that keep a learner from editing
their copy (:data:`LEARNER_EDITING`), which no page reads. The notebook says so (``metadata.course.format`` is
:data:`FORMAT`), and :class:`course.nbgrader_ext.ShowSharedParts` puts both back whenever
formgrader or the feedback page shows it, so both pages show what they always showed.

The notebook's file text is built from a template too: the assignment's notebook is encoded
once, with holes where a learner's outputs go, and each submission fills the holes with text
written directly (:func:`course.grading.outputs.learner_outputs_json`); the result is exactly
``json.dumps`` of :func:`graded_notebook`, which the tests check.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_runtime.scoring import frozen

from course import model as m
from course.errors import WorkflowError
from course.grading.answers import SubmissionScores
from course.grading.outputs import learner_outputs, learner_outputs_json

# Distinct answers whose outputs a template keeps. Small on purpose: multiple-choice and matching answers come in
# thousands of rare combinations (20,000 kept grew a worker by 20 MB over 22,000 submissions), while the frequent
# ones (every right answer) are back in the cache right after it is cleared.
SEEN = 200
FORMAT = "kam-autograded/2"  # locked sources and keys are shown from where they are kept once
# Cell flags that guard a learner's copy in JupyterLab (read-only, hidden code): no page reads them.
LEARNER_EDITING = ("deletable", "editable", "jupyter")


def read_released(path: Path) -> dict[str, Any]:
    """A released notebook as plain JSON: nbgrader wrote and validated it; nbformat 4 only."""
    try:
        nb = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise WorkflowError(f"{path} cannot be read ({exc}): run `course generate` again") from None
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        raise WorkflowError(f"{path} is not an nbformat 4 notebook: run `course generate` again")
    return nb


def _nbgrader(cell: Mapping[str, Any]) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def template(released: dict[str, Any], source_cells: dict[str, tuple[str, str]],
             points: dict[str, float], content: Path | None = None) -> dict[str, Any]:
    """The released notebook with nbgrader's checksums and points; locked sources left to the gradebook.

    ``source_cells``: grade id → (source, checksum) as saved by ``generate_assignment``;
    ``points``: grade id → max score; ``content``: the course content the keys come from, recorded
    so the pages show the keys the notebook was graded with. ``released`` is not changed.
    """
    nb = copy.deepcopy(released)
    for cell in nb["cells"]:
        for flag in LEARNER_EDITING:
            cell.get("metadata", {}).pop(flag, None)
        meta = _nbgrader(cell)
        if "grade_id" not in meta:
            continue
        gid = meta["grade_id"]
        if gid not in source_cells:
            raise WorkflowError(f"cell '{gid}' of the released notebook is not in the gradebook: "
                                "run `course generate` again")
        if meta.get("grade"):
            meta["points"] = points[gid]
        if meta.get("locked"):  # source and checksum kept once, in the gradebook's source_cell; shown from there
            cell["source"] = ""
            meta.pop("checksum", None)
        else:
            meta["checksum"] = source_cells[gid][1]
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    course_meta = nb.setdefault("metadata", {}).setdefault("course", {})
    course_meta["format"] = FORMAT
    if content is not None:
        course_meta["content"] = str(content)
    return nb


def graded_notebook(base: dict[str, Any], questions: dict[str, m.Question], scores: SubmissionScores) -> dict[str, Any]:
    """One submission's autograded notebook as a plain dict (``base`` is not changed).

    What the learner's feedback says about the answers file itself (Chinese, see
    :func:`course.grading.answers.unreadable_notice`) goes in ``metadata.course.answers_notice``.
    """
    nb: dict[str, Any] = dict(base)
    if scores.notice:
        meta = dict(base["metadata"])
        meta["course"] = {**meta.get("course", {}), "answers_notice": scores.notice}
        nb["metadata"] = meta
    cells = []
    for cell in base["cells"]:
        meta = _nbgrader(cell)
        gid = meta.get("grade_id")
        if cell["cell_type"] == "code" and gid in scores.scored:
            cell = dict(cell, outputs=learner_outputs(questions[gid], scores.scored[gid]), execution_count=1)
        elif cell["cell_type"] == "code" and meta.get("grade"):
            # A grade cell that is not a question (the 0-point setup cell) passes with no output.
            cell = dict(cell, outputs=[], execution_count=1)
        cells.append(cell)
    nb["cells"] = cells
    return nb


def notebook_json(nb: dict[str, Any]) -> str:
    """Notebook file text. No indentation: with ``indent`` json falls back to its pure-Python encoder."""
    return json.dumps(nb, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def _hole(n: int) -> str:
    return f"\x00hole {n}\x00"  # no notebook text holds a NUL


@dataclass(frozen=True)
class NotebookText:
    """The file text of an assignment's autograded notebook, with holes for one learner's parts.

    ``parts`` are the fixed texts around the holes; ``holes`` name what fills each: a question's
    grade id (its cell's outputs), or ``""`` for ``metadata.course`` (it may carry a notice).
    """

    parts: tuple[str, ...]
    holes: tuple[str, ...]
    course_meta: dict[str, Any]
    # A cohort gives the same answers again and again (every right answer is one text): outputs kept by answer.
    seen: dict[Any, str] = field(default_factory=dict, compare=False, repr=False)

    def fill(self, questions: dict[str, m.Question], scores: SubmissionScores) -> str:
        """The text :func:`notebook_json` gives for :func:`graded_notebook` of ``scores``."""
        out = [self.parts[0]]
        for hole, part in zip(self.holes, self.parts[1:], strict=True):
            if hole:
                result = scores.scored[hole]
                answer = result.response
                key = (hole, answer if type(answer) is str else frozen(answer), result.score, result.problem is None)
                text = self.seen.get(key)
                if text is None:
                    text = learner_outputs_json(questions[hole], result)
                    if len(self.seen) >= SEEN:
                        self.seen.clear()  # bounded: memory stays flat however large the cohort
                    self.seen[key] = text
                out.append(text)
            else:
                meta = {**self.course_meta, "answers_notice": scores.notice} if scores.notice else self.course_meta
                out.append(json.dumps(meta, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
            out.append(part)
        return "".join(out)


def notebook_text(base: dict[str, Any], question_ids: list[str]) -> NotebookText:
    """Encode ``base`` once with a hole for each question's outputs and one for ``metadata.course``."""
    wanted = set(question_ids)
    nb = copy.deepcopy(base)
    holes: list[str] = []
    for cell in nb["cells"]:
        gid = _nbgrader(cell).get("grade_id")
        if cell["cell_type"] == "code" and gid in wanted:
            cell["outputs"], cell["execution_count"] = _hole(len(holes)), 1
            holes.append(gid)
        elif cell["cell_type"] == "code" and _nbgrader(cell).get("grade"):
            cell["outputs"], cell["execution_count"] = [], 1
    course_meta = nb["metadata"].get("course", {})
    nb["metadata"]["course"] = _hole(len(holes))
    holes.append("")
    text = notebook_json(nb)
    parts: list[str] = []
    for n in range(len(holes)):
        before, text = text.split(json.dumps(_hole(n)), 1)
        parts.append(before)
    parts.append(text)  # the holes come in this order in the text: cells first, then metadata (sorted keys)
    return NotebookText(tuple(parts), tuple(holes), course_meta)


def score_of_cell(cell: Any) -> float | None:
    """The score nbgrader itself would read from this cell (for the differential test)."""
    from nbgrader import utils as nbutils

    return nbutils.determine_grade(cell)[0]
