"""Does the learner's notebook save every answer at once and show it again after a kernel restart?

These run the released notebook in a real IPython kernel (nbclient); a widget
value set in the kernel is what a click in JupyterLab sends over the comm.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course import workflow
from course.runtime import ANSWERS_FORMAT, shuffled
from tests.conftest import CourseDir, make_course_dir


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    cd = make_course_dir(tmp_path_factory.mktemp("course"))
    workflow.generate(cd.root, ["ch01"])
    return cd


def _learner_copy(cd: CourseDir, tmp_path: Path) -> Path:
    folder = tmp_path / "ch01"
    shutil.copytree(cd.root / "release" / "ch01", folder)
    return folder / "ch01.ipynb"


def _run(path: Path, *extra: str) -> list[str]:
    """Run all cells plus ``extra`` code cells in a fresh kernel; return the extras' text outputs."""
    nb = nbformat.read(path, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(code) for code in extra]
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outs = []
    for cell in nb.cells[len(nb.cells) - len(extra):]:
        outs.append("".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs))
    return outs


def test_a_change_is_saved_at_once_and_survives_a_kernel_restart(released: CourseDir, tmp_path: Path) -> None:
    path = _learner_copy(released, tmp_path)
    _run(path, "quiz.widgets['ch01-001'].value = 'C'",
         "quiz.widgets['ch01-003'].value = False",
         "quiz.widgets['ch01-004'].children[1].value = '增值电信业务'")
    saved = json.loads((path.parent / "ch01.answers.json").read_text(encoding="utf-8"))
    assert saved["format"] == ANSWERS_FORMAT and saved["notebook"] == "ch01"
    assert saved["answers"] == {"ch01-001": "C", "ch01-003": False, "ch01-004": ["", "增值电信业务"]}
    # A new kernel (restart) draws the widgets with the saved answers and counts them.
    (restored, progress) = _run(path, "print(quiz.widgets['ch01-001'].value, quiz.widgets['ch01-003'].value)",
                                "print(quiz.progress.value)")
    assert restored.strip() == "C False"
    assert "已作答 3 / 7 题" in progress


def test_a_damaged_answers_file_is_kept_aside_not_overwritten(released: CourseDir, tmp_path: Path) -> None:
    path = _learner_copy(released, tmp_path)
    (path.parent / "ch01.answers.json").write_text("{broken", encoding="utf-8")
    _run(path, "quiz.widgets['ch01-001'].value = 'A'")
    kept = list(path.parent.glob("ch01.answers.damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "{broken"
    assert json.loads((path.parent / "ch01.answers.json").read_text(encoding="utf-8"))["answers"] == {"ch01-001": "A"}


def test_check_button_names_unanswered_questions_without_keys(released: CourseDir, tmp_path: Path) -> None:
    path = _learner_copy(released, tmp_path)
    (out,) = _run(path, "quiz.widgets['ch01-001'].value = 'B'\n"
                        "quiz.check_button.click()\n"
                        "print(quiz.unanswered_message())")
    assert out.strip() == "尚未作答：第 2、3、4、5、6、7 题。"


def test_option_order_is_stable_per_learner_and_differs_between_learners() -> None:
    keys = list("ABCDE")
    assert shuffled(keys, "zhang", "q1") == shuffled(keys, "zhang", "q1")
    orders = {tuple(shuffled(keys, f"learner{i}", "q1")) for i in range(20)}
    assert len(orders) > 5 and all(sorted(o) == keys for o in orders)
