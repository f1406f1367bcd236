"""Do the manager pages name every learner, say who is missing what, and count pending grades right?

Known truth (fixture course, one chapter ch01 of 7 questions; the case question is ch01-007):
amy answered everything and a grader scored her case 3 of 4 (no longer waiting); bo and cai
answered the case and wait for a grader; dan left it empty (0, nothing to grade); eve is on the
roster and submitted nothing; dan is not on the roster.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from course.analytics import frames, tables
from course.analytics.roster import read_roster
from course.nbconfig import db_url
from course.report import parameters, report
from tests.conftest import CourseDir, make_course_dir, make_gradebook
from tests.test_analytics import FULL, ZERO

SCORES = {
    "amy": FULL,
    "bo": {**ZERO, "ch01-001": 2.0, "ch01-002": 2.0, "ch01-004": 1.0, "ch01-005": 1.0, "ch01-006": 1.0,
           "ch01-007": None},
    "cai": {**ZERO, "ch01-007": None},
    "dan": ZERO,
}
ROSTER = """learner_id,name,region,department,target_level
amy,艾米,华东,政企客户部,L4
bo,波,华东,商客部,四级
cai,蔡,华南,政企客户部,L1
eve,伊芙,华南,商客部,L4
"""


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> tuple[CourseDir, pd.DataFrame, pd.DataFrame]:
    from nbgrader.api import Gradebook

    cd = make_course_dir(tmp_path_factory.mktemp("course"))
    make_gradebook(cd, "ch01", SCORES, manual={"amy": {"ch01-007": 3.0}})
    with Gradebook(db_url(cd.root), course_id="kam-cert") as gb:  # what formgrader does on saving a grade
        gb.find_grade("ch01-007", "ch01", "ch01", "amy").needs_manual_grade = False
        gb.db.commit()
    (cd.root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    roster = read_roster(cd.root / "roster.csv", cd.course)
    scores = frames.scores_frame(frames.read_grades(db_url(cd.root), "kam-cert"), cd.course, roster)
    return cd, scores, roster


def test_pending_count_is_what_formgrader_waits_for(known: tuple[CourseDir, pd.DataFrame, pd.DataFrame]) -> None:
    """Are exactly bo's and cai's case answers counted as waiting (not amy's graded one, not dan's empty one)?"""
    cd, scores, _ = known
    assert tables.pending_grades(scores) == 2
    # pooled over graded questions: amy 16/17, bo 7/13 and cai 0/13 (their cases wait), dan 0/17 → 23/60
    assert tables.chapter_summary(scores, cd.course).to_dict("records") == [
        {"chapter": "ch01", "title": cd.course.chapters["ch01"].title, "learners": 4,
         "score": pytest.approx(100 * 23 / 60), "pending": 2}]


def test_results_table_names_learners_and_their_missing_work(
        known: tuple[CourseDir, pd.DataFrame, pd.DataFrame]) -> None:
    """Is every learner named, the roster's non-submitter included, with completion and missing chapters?"""
    cd, scores, roster = known
    results = tables.results_table(scores, cd.course, roster).set_index("learner")
    assert results.index.tolist() == ["eve", "amy", "bo", "cai", "dan"]  # least complete first
    assert results["name"].to_dict() == {"eve": "伊芙", "amy": "艾米", "bo": "波", "cai": "蔡", "dan": "（未登记）"}
    assert results["submitted"].to_dict() == {"eve": 0, "amy": 1, "bo": 1, "cai": 1, "dan": 1}
    assert results["expected"].unique().tolist() == [1]
    assert results["completion"].to_dict() == {"eve": 0.0, "amy": 1.0, "bo": 1.0, "cai": 1.0, "dan": 1.0}
    assert results["missing"].to_dict() == {"eve": "ch01", "amy": "", "bo": "", "cai": "", "dan": ""}
    assert results["pending"].to_dict() == {"eve": 0, "amy": 0, "bo": 1, "cai": 1, "dan": 0}
    # chapter score: graded points only (a pending case counts in neither earned nor possible)
    assert results.loc["amy", "ch01"] == pytest.approx(100 * 16 / 17)
    assert results.loc["bo", "ch01"] == pytest.approx(100 * 7 / 13)
    assert pd.isna(results.loc["eve", "ch01"])
    shown = tables.results_display(results.reset_index(), cd.course)
    assert shown.columns.tolist()[:4] == ["学员编号", "姓名", "地区", "部门"]
    assert shown.loc[0, f"ch01 {cd.course.chapters['ch01'].title}"] == "未提交"
    assert shown.loc[0, "完成率"] == "0%" and shown.loc[0, "缺交章节"] == "ch01"


def test_a_region_lists_its_registered_learners_only(known: tuple[CourseDir, pd.DataFrame, pd.DataFrame]) -> None:
    """With a region filter, are the region's registered non-submitters listed and nobody else?"""
    cd, scores, roster = known
    south = frames.filter_scores(scores, region="华南")
    results = tables.results_table(south, cd.course, roster, region="华南")
    assert results["learner"].tolist() == ["eve", "cai"]


@pytest.mark.parametrize(
    ("requested", "chosen", "notices"),
    [
        (None, [], ["本次报告未指定学员。生成报告时可按学员编号指定一名或多名学员，本页即显示其详情；"
                    "下表列出可选的学员。"]),
        ("amy", ["amy"], []),
        ("amy, bo,amy", ["amy", "bo"], []),
        ("dan", ["dan"], ["学员 dan 未在名册中登记（姓名显示为（未登记））。"]),
        ("nobody", [], ["学员 nobody 不在成绩库或名册中：请检查学员编号。"]),
    ],
    ids=["none-given", "one", "a-list", "unregistered", "unknown"],
)
def test_the_drill_down_never_picks_a_learner_by_itself(
        known: tuple[CourseDir, pd.DataFrame, pd.DataFrame], requested: str | None, chosen: list[str],
        notices: list[str]) -> None:
    _, scores, roster = known
    assert tables.choose_learners(requested, tables.learners_frame(scores, roster)) == (chosen, notices)


def test_page_texts() -> None:
    """Are yes/no, stems, levels and the small-sample caution in Chinese, the caution said once?"""
    from course.loader import load_course
    from tests.conftest import MINI

    course = load_course(MINI)
    assert tables.yes_no([True, False]) == ["是", "否"]
    assert tables.stem_start(course, "ch01-007", length=8) == "某客户投诉网络中…"
    assert tables.level_titles(course) == ["四级", "一级（资深）"]
    assert tables.area_titles(course) == {"basic.telecom": "电信基础知识", "legal.law": "法律知识"}
    titles = {"jc01": "通信行业概况", "jc04": "品牌体系"}
    note = tables.sample_note
    assert note({"jc01": 29, "jc04": 27}, titles) == "各章作答人数均少于 30 人（27–29 人），以下统计结果仅供参考。"
    assert note({"jc01": 25, "jc04": 25}, titles) == "各章作答人数均少于 30 人（25 人），以下统计结果仅供参考。"
    assert note({"jc01": 29, "jc04": 30}, titles) == (
        "作答人数少于 30 人的章：通信行业概况（29 人）；这些章的统计结果仅供参考。")  # by title, not jc01
    assert note({"jc01": 30}, titles) == ""


def test_flagged_items_are_numbered_in_table_order() -> None:
    items = pd.DataFrame({"flags": [("过易",), (), ("过难", "区分度差"), ()]}, index=[10, 11, 12, 13])
    assert tables.flag_numbers(items).tolist() == [1, pd.NA, 2, pd.NA]
    assert tables.flag_numbers(items).index.tolist() == [10, 11, 12, 13]


def test_a_page_table_keeps_names_on_one_line_and_shows_text_as_text() -> None:
    """Is every cell unbreakable but the long-text columns, numbers right, and markup in a name escaped?"""
    frame = pd.DataFrame({"姓名": ["何超", "<b>艾米</b>"], "人数": [3, 12], "通过率": [0.5, 0.25],
                          "原因": ["培训学时不足（29/30学时）；理论成绩 55 低于合格线 60", ""]})
    html = tables.show(frame, wrap=["原因"], formats={"通过率": "{:.0%}"}).to_html()
    assert "white-space: nowrap;" in html and "table-layout: auto;" in html
    assert "td.col3 {\n  white-space: normal;" in html
    assert "td.col1 {\n  text-align: right;" in html and "td.col2 {\n  text-align: right;" in html
    assert "&lt;b&gt;艾米&lt;/b&gt;" in html and "<b>艾米" not in html
    assert ">50%<" in html and ">—<" not in html  # an empty reason stays empty, not a dash
    assert "<th" in html and "level0 row0" not in html  # no index column


def test_weakest_learners_and_regions_list_areas_in_the_content_order(
        known: tuple[CourseDir, pd.DataFrame, pd.DataFrame]) -> None:
    """Are the heatmaps' columns the areas in the content's order, rows named, values pooled by hand?"""
    from course.analytics import weighting

    cd, scores, _ = known
    titles = tables.area_titles(cd.course)
    mastery = weighting.area_mastery(scores, "L4")
    # telecom questions 12 points, law 5 (the case, 4, waits for bo and cai): amy 12/12 and 4/5, bo 7/12 and
    # 0/1, cai 0/12 and 0/1, dan 0/12 and 0/5; cai and dan tie at the lowest mean and keep id order
    weakest = tables.weakest_learners(mastery, scores, titles, rows=2)
    assert weakest.to_dict("split") == {"index": ["蔡（cai）", "（未登记）（dan）"],
                                        "columns": ["电信基础知识", "法律知识"], "data": [[0.0, 0.0], [0.0, 0.0]]}
    regions = tables.region_area_matrix(mastery, scores, titles)
    assert regions.index.tolist() == ["华东（2 人）", "华南（1 人）", "（未登记）（1 人）"]
    assert regions.columns.tolist() == ["电信基础知识", "法律知识"]
    assert regions.to_numpy().tolist() == [[pytest.approx(19 / 24), pytest.approx(4 / 6)], [0.0, 0.0], [0.0, 0.0]]


def test_the_overview_page_shows_names_completion_and_pending(
        known: tuple[CourseDir, pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    """Does the rendered overview name learners, show completion columns and 待人工评分 2?"""
    cd, _, _ = known
    params = parameters(content=str(cd.course.root), roster_csv=str(cd.root / "roster.csv"), learner="amy,nobody")
    pages = ["01_cohort_overview", "04_learner_drilldown"]
    overview, drill = report(cd.root, params, out_dir=tmp_path, notebooks=pages, progress=False)
    html = overview.read_text(encoding="utf-8")
    for text in ("艾米", "伊芙", "完成率", "缺交章节", "已交章数", "待人工评分 <strong>2</strong>", "数据截至",
                 "涵盖章节（1 章）", "合格线", "可由讲师修改", "衡量的不是同一件事"):
        assert text in html, text
    for text in ("种子", "weights.yaml", "formgrader", "及格线", "True", "False"):
        assert text not in html, text
    header = (tmp_path / "学员成绩表.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("学员编号,姓名,地区,部门"), header
    assert not (Path.cwd() / "学员成绩表.csv").exists()  # pages run in their own folder, even two at a time
    assert "@media print" in html
    page = drill.read_text(encoding="utf-8")
    assert "艾米（amy）" in page and "学员 nobody 不在成绩库或名册中" in page
    assert "是否合格" in page and (">是<" in page or ">否<" in page)


FOUR_LEVELS = {  # the shipped content's four levels, added to the fixture's 四级 and 一级
    "levels.yaml": ("  - {id: L1,", "  - {id: L3, title: 三级（中级）, full_title: 岗位技能三级（中级）, "
                    "rank: 2, min_training_hours: 24}\n  - {id: L2, title: 二级（高级）, "
                    "full_title: 岗位技能二级（高级）, rank: 3, min_training_hours: 18}\n  - {id: L1,"),
    "weights.yaml": ("  L1: {", "  L3: {basic.telecom: 60, legal.law: 40}\n  L2: {basic.telecom: 50, legal.law: 50}\n"
                     "  L1: {"),
    "certification.yaml": ("  L1: ", "  L3: SAME\n  L2: SAME\n  L1: "),
}


def test_the_overview_lists_four_levels_from_four_to_one(
        known: tuple[CourseDir, pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    """With the shipped four levels, does the rendered overview list 四级, 三级, 二级, 一级 in that order?"""
    import shutil

    cd, _, _ = known
    content = tmp_path / "content"
    shutil.copytree(cd.course.root, content)
    for name, (anchor, replacement) in FOUR_LEVELS.items():
        lines = []
        for line in (content / name).read_text(encoding="utf-8").splitlines(keepends=True):
            if line.startswith(anchor) and "SAME" in replacement:  # each per-level setting of L1 copied to L3, L2
                same = line.removeprefix(anchor)
                line = replacement.replace("SAME", same.rstrip("\n")) + same
            elif line.startswith(anchor):
                line = replacement + line.removeprefix(anchor)
            lines.append(line)
        (content / name).write_text("".join(lines), encoding="utf-8")
    params = parameters(content=str(content), roster_csv=str(cd.root / "roster.csv"))
    [overview] = report(cd.root, params, out_dir=tmp_path / "pages", notebooks=["01_cohort_overview"], progress=False)
    html = overview.read_text(encoding="utf-8")
    table = html[html.index("各认证级别的加权成绩与合格率"):]
    rows = [table.index(f">{title}<") for title in ("四级", "三级（中级）", "二级（高级）", "一级（资深）")]
    assert rows == sorted(rows)


def test_paper_grades_are_not_counted_as_chapter_practice(tmp_path: Path) -> None:
    """An exam paper reuses bank items; its grades must not double the chapter's rows."""
    from course.analytics.frames import read_grades, scores_frame

    cd = make_course_dir(tmp_path / "course")
    make_gradebook(cd, "ch01", {"a": {"ch01-001": 2.0}})
    grades = read_grades(db_url(cd.root), "kam-cert")
    paper = grades.assign(chapter="L4-demo-a")
    both = pd.concat([grades.astype({"chapter": str}), paper.astype({"chapter": str})], ignore_index=True)
    assert scores_frame(both, cd.course).equals(scores_frame(grades, cd.course))
