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
from course_runtime.quiz import ANSWERS_FORMAT, missing_parts, shuffled
from nbclient import NotebookClient

from course import workflow
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
    assert "已作答 2 / 7 题" in progress and "部分作答 1 题：第4题（缺第1空）" in progress


def test_a_question_counts_as_answered_only_when_every_part_is_given(released: CourseDir, tmp_path: Path) -> None:
    """Are a fill-in with 1 of 2 blanks, an ordering with 1 of 3 positions and a matching with 1 of 2 pairs partial?"""
    path = _learner_copy(released, tmp_path)
    (progress, message) = _run(
        path, "quiz.widgets['ch01-001'].value = 'A'\n"
              "quiz.widgets['ch01-004'].children[0].value = '基础电信业务'\n"
              "quiz.widgets['ch01-005'].children[1].value = 'B'\n"
              "quiz.widgets['ch01-006'].children[1].value = 'A'\n"
              "print(quiz.progress.value)",
        "print(quiz.unanswered_message())")
    assert "已作答 1 / 7 题" in progress
    assert "部分作答 3 题：第4题（缺第2空）；第5题（缺第2位、第3位）；第6题（缺第2项）" in progress
    assert message.strip() == ("尚未作答：第 2、3、7 题。\n\n"
                               "部分作答：第4题（缺第2空）；第5题（缺第2位、第3位）；第6题（缺第2项）。")


def test_an_ordering_refuses_a_repeated_item_with_a_message_and_saves_nothing(released: CourseDir,
                                                                             tmp_path: Path) -> None:
    path = _learner_copy(released, tmp_path)
    (out,) = _run(path, "w = quiz.widgets['ch01-005']\n"
                        "menus = [c for c in w.children if hasattr(c, 'options')]\n"
                        "menus[0].value = 'B'\n"
                        "menus[1].value = 'B'\n"
                        "print(repr(menus[1].value), [m.value for m in menus])\n"
                        "print(w.children[-1].value)")
    values, warning = out.strip().splitlines()
    assert values == "'' ['B', '', '']"
    assert warning == "“事前准备”已排在其他位置，每一项只能排一次；第2位未更改，请先把原位置改为其他项。"
    saved = json.loads((path.parent / "ch01.answers.json").read_text(encoding="utf-8"))["answers"]
    assert saved == {"ch01-005": ["B", None, None]}


def test_dropdowns_start_at_the_placeholder(released: CourseDir, tmp_path: Path) -> None:
    """Does every ordering and matching menu show （请选择） before a choice (not an empty box)?"""
    path = _learner_copy(released, tmp_path)
    (out,) = _run(path, "for q in ('ch01-005', 'ch01-006'):\n"
                        "    for m in quiz.widgets[q].children:\n"
                        "        if hasattr(m, 'options'):\n"
                        "            print(m.label)")
    assert out.split() == ["（请选择）"] * 5


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


def test_missing_parts_names_blanks_positions_and_pairs() -> None:
    blank, order = {"type": "blank", "width": 2}, {"type": "ordering", "width": 3}
    pairs = {"type": "matching", "prompts": {"1": "S", "2": "W"}}
    assert missing_parts(blank, None) is None and missing_parts(blank, ["", " "]) is None
    assert missing_parts(blank, ["x", ""]) == ["第2空"] and missing_parts(blank, ["x", "y"]) == []
    assert missing_parts(order, [None, "A", None]) == ["第1位", "第3位"]
    assert missing_parts(pairs, {"1": None, "2": "B"}) == ["第1项"]
    assert missing_parts({"type": "multiple"}, []) is None and missing_parts({"type": "multiple"}, ["A"]) == []
    assert missing_parts({"type": "truefalse"}, False) == [] and missing_parts({"type": "case"}, "  ") is None


def test_option_order_is_stable_per_learner_and_differs_between_learners() -> None:
    keys = list("ABCDE")
    assert shuffled(keys, "zhang", "q1") == shuffled(keys, "zhang", "q1")
    orders = {tuple(shuffled(keys, f"learner{i}", "q1")) for i in range(20)}
    assert len(orders) > 5 and all(sorted(o) == keys for o in orders)
