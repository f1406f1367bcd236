"""Does `course validate --review` list the items the statistics flag, and say what to run when it cannot?"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
from course_runtime.quiz import ANSWERS_FORMAT
from typer.testing import CliRunner
from wcwidth import wcswidth

from course.analytics.frames import Cohort
from course.analytics.review import REVIEW_COLUMNS, render_review, render_table, review_items, stem_start
from course.cli import app
from course.loader import load_course
from tests.conftest import MINI, make_course_dir, make_gradebook

LEARNERS = [f"L{i:02d}" for i in range(20)]
POINTS = {"ch01-001": 2.0, "ch01-002": 3.0, "ch01-003": 1.0, "ch01-004": 2.0, "ch01-005": 3.0, "ch01-006": 2.0}
TYPES = {"ch01-001": "single", "ch01-002": "multiple", "ch01-003": "truefalse", "ch01-004": "blank",
         "ch01-005": "ordering", "ch01-006": "matching"}


def marks_of(i: int) -> dict[str, float]:
    """Learner i's marks: the abler half gets 001; the weaker half gets 002 (a reversed item); all get 003."""
    return {"ch01-001": 2.0 if i >= 10 else 0.0, "ch01-002": 3.0 if i < 10 else 0.0, "ch01-003": 1.0,
            "ch01-004": 2.0 if i >= 5 else 0.0, "ch01-005": 3.0 if i >= 8 else 0.0,
            "ch01-006": 2.0 if i >= 12 else 0.0}


def synthetic_cohort(n_answering: int = 20) -> Cohort:
    course = load_course(MINI)
    rows = [{"learner": learner, "chapter": "ch01", "question": q, "type": TYPES[q], "points": POINTS[q],
             "score": mark, "submitted_at": pd.Timestamp("2026-11-30 09:00")}
            for i, learner in enumerate(LEARNERS) for q, mark in marks_of(i).items()]
    # ch01-001 (options A–C, key A): the abler half answers A, the rest B; nobody picks C.
    responses = pd.DataFrame([{"learner": learner, "chapter": "ch01", "question": "ch01-001", "type": "single",
                               "response": ("A" if i >= 10 else "B") if i < n_answering else None}
                              for i, learner in enumerate(LEARNERS)])
    return Cohort(course, pd.DataFrame(rows), responses, None, dt.datetime(2026, 11, 30, 18, 0))


def test_review_lists_the_flagged_items_with_their_stems() -> None:
    """Are the reversed item, the item everyone gets and the unused distractor listed, the good item not?"""
    table = review_items(synthetic_cohort())
    assert tuple(table.columns) == REVIEW_COLUMNS
    table = table.set_index("question")
    assert "负区分" in table.loc["ch01-002", "flags"] and "区分度差" in table.loc["ch01-002", "flags"]
    assert table.loc["ch01-003", "flags"][:2] == ("过易", "无变异")
    assert "干扰项无效（C）" in table.loc["ch01-001", "flags"]  # 0 of 20 chose C
    assert table.loc["ch01-002", "stem"] == "以下哪些属于市场营销4P？"
    assert table.loc["ch01-002", "n"] == 20
    assert "ch01-004" not in table.index  # facility .75, r well above .20


def test_a_distractor_of_few_respondents_is_a_small_sample() -> None:
    """With 12 answering, is the unused option 样本量小 rather than non-functional, and the cohort noted?"""
    cohort = synthetic_cohort(n_answering=12)
    table = review_items(cohort).set_index("question")
    flags = table.loc["ch01-001", "flags"] if "ch01-001" in table.index else ()
    assert not any(f.startswith("干扰项无效") for f in flags)
    text = render_review(cohort, review_items(cohort))
    assert "注意：ch01 的作答人数少于 20，干扰项比例仅供参考（样本量小）。" in text.splitlines()


def test_stem_start_counts_display_width() -> None:
    """Is a stem cut to 30 display columns (a CJK character is 2) with an ellipsis, and kept whole if short?"""
    assert stem_start("世界电信日是哪一天？") == "世界电信日是哪一天？"
    long = stem_start("按照基础电信业务与增值电信业务的划分，下列属于基础电信业务的是（ ）")
    assert long == "按照基础电信业务与增值电信业…" and wcswidth(long) <= 30
    assert stem_start("a\n  b\tc") == "a b c"


def test_review_table_columns_align_by_display_width() -> None:
    """Does every line start each column at the same display column, Chinese headers included?"""
    lines = render_table(review_items(synthetic_cohort())).splitlines()
    assert lines[0].split() == ["章节", "题号", "题型", "人数", "通过率", "区分度", "高低分组差", "问题", "题干"]
    stem_column = {wcswidth(line[: line.rindex("  ") + 2]) for line in lines}
    assert len(stem_column) == 1  # the stem (last column) starts at one display offset on every line


def test_review_without_a_gradebook_says_what_to_run(tmp_path: Path) -> None:
    """Is a missing gradebook one Error line naming the command to run, exit 1, and no gradebook created?"""
    result = CliRunner().invoke(app, ["validate", "--review", "--content", str(MINI), "--root", str(tmp_path)])
    assert result.exit_code == 1
    db = (tmp_path / "gradebook" / "gradebook.db").resolve()
    assert result.output.splitlines() == [
        f"Error: 没有成绩库 {db}：先运行 `course autograde`（或用 `course demo` 生成模拟数据），"
        "再运行 `course validate --review`"]
    assert not db.exists()


def test_review_of_a_gradebook_without_grades_says_what_to_run(tmp_path: Path) -> None:
    """Is a gradebook with no graded answer one Error line naming the commands to run, exit 1?"""
    cd = make_course_dir(tmp_path / "course")
    make_gradebook(cd, "ch01", {"u1": dict.fromkeys([*POINTS, "ch01-007"], None)})  # submitted, nothing graded
    result = CliRunner().invoke(app, ["validate", "--review", "--content", str(MINI), "--root", str(cd.root)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: 成绩库里还没有已评分的作答：先运行 `course collect` 和 `course autograde`，"
        "再运行 `course validate --review`"]


def test_review_reads_a_real_gradebook_and_the_answers_files(tmp_path: Path) -> None:
    """Through nbgrader's gradebook and the submitted answers files, is the reversed item listed?"""
    cd = make_course_dir(tmp_path / "course")
    make_gradebook(cd, "ch01", {learner: {**marks_of(i), "ch01-007": None} for i, learner in enumerate(LEARNERS)})
    for i, learner in enumerate(LEARNERS):
        folder = cd.root / "submitted" / learner / "ch01"
        folder.mkdir(parents=True, exist_ok=True)
        answers = {"ch01-001": "A" if i >= 10 else "B"}
        (folder / "ch01.answers.json").write_text(
            json.dumps({"format": ANSWERS_FORMAT, "notebook": "ch01", "answers": answers}), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "--review", "--content", str(MINI), "--root", str(cd.root)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "题目复核：成绩库中 20 名学员的最新提交，1 章；3 道题需要复核。"  # no submission time here
    assert lines[1].split()[:3] == ["章节", "题号", "题型"]
    assert lines[-1] == "差异题目功能（DIF）：没有学员名册（roster.csv），无法按地区和部门分组分析。"
    by_id = {line.split()[1]: line for line in lines[2:-1]}
    assert "负区分" in by_id["ch01-002"] and "以下哪些属于市场营销4P？" in by_id["ch01-002"]
    assert "干扰项无效（C）" in by_id["ch01-001"]
