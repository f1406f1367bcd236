"""Decisions on a hand-computed cohort: one learner per rule (eligibility, 文化程度, theory, skills, competency,
re-sit).

The fixture course has levels L4 (30 h, no further 申报条件) and L1 (12 h, 2
years in post, holding L4); 文化程度 大专 or 同等学历, 高中 after 3 years in post;
pass marks 60/60; competency L4: every item 初级, L1: 高级 with one item allowed at
中级. Papers: 20 theory points, 10 skills.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course.certification import outputs
from course.certification.config import Certification, load_certification
from course.loader import Course, load_course
from tests.conftest import CERT

CONTENT = CERT  # the module fixtures `course` and `cert` (tests/conftest.py) load it

#          id   name  region dept     level hours years held education theory(/20) skills(/10) ratings (ach, comm, exec)
COHORT = [
    ("a", "张三", "华东", "政企客户部", "L4", 30.0, 1, "", "大专", 16, 7, ("初级", "初级", "初级")),
    ("b", "李四", "华东", "政企客户部", "L4", 29.5, 1, "", "本科", 16, 7, ("初级", "中级", "初级")),
    ("c", "王五", "华南", "行业拓展部", "L4", 30.0, 1, "", "本科", 11, 7, ("初级", "初级", "初级")),
    ("d", "赵六", "华南", "行业拓展部", "L4", 30.0, 1, "", "同等学历", 16, 5, ("初级", "初级", "初级")),
    ("e", "钱七", "华东", "行业拓展部", "L1", 12.0, 3, "L4", "高中", 12, 6, ("高级", "高级", "中级")),
    ("f", "孙八", "华南", "政企客户部", "L1", 12.0, 3, "L4", "本科", 16, 8, ("高级", "中级", "中级")),
    ("g", "周九", "华北", "政企客户部", "L4", 30.0, 1, "", "本科", 8, 8, ("初级", "初级", "初级")),
    ("h", "吴十", "华北", "行业拓展部", "L1", 12.0, 1, "", "本科", 16, 8, ("资深", "资深", "资深")),
    ("i", "郑一", "华北", "政企客户部", "L4", 30.0, 1, "", "本科", None, None, None),
    ("j", "冯二", "华东", "政企客户部", "L4", 30.0, 2, "", "高中", 16, 8, ("初级", "初级", "初级")),
]
RESIT = {"g": (15, 8)}  # g's re-sit paper L4-b
ITEMS = ("achievement", "communication", "execution")


def roster() -> pd.DataFrame:
    return pd.DataFrame([{"learner_id": r[0], "name": r[1], "region": r[2], "department": r[3], "target_level": r[4]}
                         for r in COHORT]).set_index("learner_id")


def training() -> pd.DataFrame:
    rows = []
    for r in COHORT:
        rows += [{"learner_id": r[0], "course": "面授一", "hours": r[5] - 10, "date": "2026-09-01"},
                 {"learner_id": r[0], "course": "面授二", "hours": 10.0, "date": "2026-09-08"}]
    return pd.DataFrame(rows)


def applicants() -> pd.DataFrame:
    return pd.DataFrame([{"learner_id": r[0], "years_in_post": float(r[6]), "held_level": r[7], "education": r[8]}
                         for r in COHORT]).set_index("learner_id")


def rated() -> pd.DataFrame:
    levels = {lv.title: lv.id for lv in load_course(CERT).competencies.levels}
    return pd.DataFrame([{"learner_id": r[0], "competency": item, "level": levels[lv], "rater": "主管"}
                         for r in COHORT if r[11] for item, lv in zip(ITEMS, r[11], strict=True)])


def manifest(paper: str, level: str, learners: list[str], sitting: int = 1) -> dict:
    return {"paper": paper, "level": level, "sitting": sitting, "resit": sitting > 1, "theory_max": 20,
            "skills_max": 10, "variants": {x: {"assignment": f"{paper}-{x}", "theory": ["t1", "t2"],
                                               "skills": ["k1"]} for x in learners}}


MANIFESTS = [manifest("L4-a", "L4", [r[0] for r in COHORT if r[4] == "L4"]),
             manifest("L1-a", "L1", [r[0] for r in COHORT if r[4] == "L1"]),
             manifest("L4-b", "L4", ["g"], sitting=2)]


def grades() -> pd.DataFrame:
    rows = []

    def sat(learner: str, assignment: str, theory: float, skills: float) -> None:
        rows.extend([{"learner": learner, "chapter": assignment, "question": "t1", "score": theory / 2},
                     {"learner": learner, "chapter": assignment, "question": "t2", "score": theory / 2},
                     {"learner": learner, "chapter": assignment, "question": "k1", "score": skills}])

    for r in COHORT:
        if r[9] is not None:
            sat(r[0], f"{r[4]}-a-{r[0]}", r[9], r[10])
        if r[0] not in ("b", "i"):
            rows.append({"learner": r[0], "chapter": "ch01", "question": "ch01-001", "score": 2.0})
    for learner, (theory, skills) in RESIT.items():
        sat(learner, f"L4-b-{learner}", theory, skills)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def rnd(course: Course, cert: Certification) -> outputs.Round:
    return outputs.round_frames(course, cert, roster(), training(), applicants(), rated(), grades(), MANIFESTS,
                                ["ch01"])


def test_each_rule_decides_its_learner_with_the_reason(rnd: outputs.Round) -> None:
    got = rnd.results.set_index("学员编号")[["文化程度", "资格", "理论", "技能", "能力素质", "结论", "原因"]]
    nan = np.nan
    expected = pd.DataFrame([
        ("a", "大专", "符合", 80.0, 70.0, "达标", "通过", "全部条件达到"),
        ("b", "本科", "不符合", 80.0, 70.0, "达标", "未通过", "培训学时不足（29.5/30学时）"),
        ("c", "本科", "符合", 55.0, 70.0, "达标", "未通过", "理论成绩 55 低于合格线 60"),
        ("d", "同等学历", "符合", 80.0, 50.0, "达标", "未通过", "技能成绩 50 低于合格线 60"),
        ("e", "高中", "符合", 60.0, 60.0, "达标", "通过", "全部条件达到"),  # 高中 after 3 years: the waiver
        ("f", "本科", "符合", 80.0, 80.0, "未达标", "未通过", "能力素质未达标（2项低于要求：沟通倾听能力、执行能力）"),
        ("g", "本科", "符合", 75.0, 80.0, "达标", "通过", "全部条件达到（补考通过，试卷 L4-b）"),
        ("h", "本科", "不符合", 80.0, 80.0, "达标", "未通过", "任职年限不足（1/2年）；未取得四级证书"),
        ("i", "本科", "符合", nan, nan, "未评定", "未通过", "缺考（试卷 L4-a）；能力素质未评定"),
        ("j", "高中", "不符合", 80.0, 80.0, "达标", "未通过",
         "文化程度不符合申报条件（高中；要求大专以上或同等学历；任职满3年者可放宽至高中以上）"),
    ], columns=["学员编号", "文化程度", "资格", "理论", "技能", "能力素质", "结论", "原因"]).set_index("学员编号")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_the_results_list_says_which_sitting_counted(rnd: outputs.Round) -> None:
    """Does 计分考试 name each learner's counted paper: g's re-sit, i's paper even though absent?"""
    assert rnd.results.set_index("学员编号")["计分考试"].to_dict() == {
        "a": "L4-a", "b": "L4-a", "c": "L4-a", "d": "L4-a", "e": "L1-a", "f": "L1-a", "g": "L4-b", "h": "L1-a",
        "i": "L4-a", "j": "L4-a"}


def test_a_failed_resit_says_its_scores_are_the_resits(course: Course, cert: Certification) -> None:
    """With g's re-sit at 50 theory, does the reason say the re-sit L4-b counted, and its page name it?"""
    failed = grades()
    failed.loc[failed["chapter"] == "L4-b-g", "score"] = 0.0
    rnd = outputs.round_frames(course, cert, roster(), training(), applicants(), rated(), failed, MANIFESTS, ["ch01"])
    g = rnd.results.set_index("学员编号").loc["g"]
    assert (g["计分考试"], g["结论"]) == ("L4-b", "未通过")
    assert g["原因"] == "试卷 L4-b：理论成绩 0 低于合格线 60；技能成绩 0 低于合格线 60"
    named = outputs.papers_by_name(rnd.results, outputs.paper_names(course, MANIFESTS)).set_index("学员编号").loc["g"]
    assert (named["计分考试"], named["原因"]) == (
        "四级补考（第 2 次考试）", "四级补考（第 2 次考试）：理论成绩 0 低于合格线 60；技能成绩 0 低于合格线 60")


def test_the_results_list_has_the_managers_columns(rnd: outputs.Round) -> None:
    assert list(rnd.results.columns) == ["学员编号", "姓名", "地区", "部门", "目标级别", "培训学时", "文化程度", "资格",
                                         "计分考试", "理论", "技能", "能力素质", "结论", "原因"]
    first = rnd.results.iloc[4]
    assert (first["姓名"], first["目标级别"], first["培训学时"]) == ("钱七", "一级（资深）", 12.0)


def test_pass_rates_by_region_are_against_each_learners_own_level(rnd: outputs.Round) -> None:
    assert rnd.by_region.to_dict("records") == [
        {"地区": "华东", "人数": 4, "通过人数": 2, "通过率": 2 / 4},
        {"地区": "华北", "人数": 3, "通过人数": 1, "通过率": 1 / 3},
        {"地区": "华南", "人数": 3, "通过人数": 0, "通过率": 0.0},
    ]
    assert rnd.by_department.set_index("部门")["通过人数"].to_dict() == {"政企客户部": 2, "行业拓展部": 1}
    assert rnd.by_department.set_index("部门")["人数"].to_dict() == {"政企客户部": 6, "行业拓展部": 4}


def test_pass_rates_by_target_level_go_from_the_entry_level_up(rnd: outputs.Round) -> None:
    """Are levels listed 四级 then 一级 (their rank), not as text sorts them (一级 before 四级)?"""
    from course.certification.decisions import pass_rates

    assert pass_rates(rnd.results, "目标级别")["目标级别"].tolist() == ["一级（资深）", "四级"]  # text order
    ordered = pass_rates(rnd.results, "目标级别", ["四级", "一级（资深）"])
    assert ordered.to_dict("records") == [
        {"目标级别": "四级", "人数": 7, "通过人数": 2, "通过率": 2 / 7},  # a b c d g i j; a and g pass
        {"目标级别": "一级（资深）", "人数": 3, "通过人数": 1, "通过率": 1 / 3},
    ]


def test_a_managers_page_names_papers_instead_of_their_ids(rnd: outputs.Round, course: Course) -> None:
    """Do reasons and missing papers read 四级认证考试 / 四级补考（第 2 次考试） instead of L4-a / L4-b?"""
    names = outputs.paper_names(course, MANIFESTS)
    assert names == {"L4-a": "四级认证考试", "L1-a": "一级（资深）认证考试", "L4-b": "四级补考（第 2 次考试）"}
    results = outputs.papers_by_name(rnd.results, names).set_index("学员编号")["原因"]
    assert results["g"] == "全部条件达到（补考通过，四级补考（第 2 次考试））"
    assert results["i"] == "缺考（四级认证考试）；能力素质未评定"
    assert results["a"] == "全部条件达到"
    missing = outputs.papers_by_name(rnd.missing, names)
    assert missing["缺考试卷"].tolist() == ["—", "四级认证考试"]


def test_missing_chapters_and_papers_are_listed(rnd: outputs.Round) -> None:
    assert rnd.missing[["学员编号", "缺交章节", "缺考试卷"]].to_dict("records") == [
        {"学员编号": "b", "缺交章节": "ch01", "缺考试卷": "—"},
        {"学员编号": "i", "缺交章节": "ch01", "缺考试卷": "L4-a"},
    ]


def test_a_resit_replaces_the_first_sitting_only_once_submitted(course: Course, cert: Certification) -> None:
    """g's re-sit counts; without its submission the first sitting (40) does."""
    without = grades()
    without = without[without["chapter"] != "L4-b-g"]
    frames = outputs.round_frames(course, cert, roster(), training(), applicants(), rated(), without, MANIFESTS,
                                  ["ch01"])
    g = frames.results.set_index("学员编号").loc["g"]
    assert (g["理论"], g["结论"], g["原因"]) == (40.0, "未通过", "理论成绩 40 低于合格线 60")


def test_skills_awaiting_a_hand_grade_are_not_a_pass(course: Course, cert: Certification) -> None:
    pending = grades()
    pending.loc[(pending["learner"] == "a") & (pending["question"] == "k1"), "score"] = np.nan
    frames = outputs.round_frames(course, cert, roster(), training(), applicants(), rated(), pending, MANIFESTS,
                                  ["ch01"])
    a = frames.results.set_index("学员编号").loc["a"]
    assert (a["结论"], a["原因"]) == ("未通过", "技能（案例分析）待评分")


def test_the_cohort_gap_per_item(rnd: outputs.Round) -> None:
    gaps = rnd.gaps.set_index("competency")
    # below requirement: f (comm, exec), e (exec) out of 10 learners, i unrated
    assert gaps.loc["execution", "share_below"] == pytest.approx(2 / 10)
    assert gaps.loc["communication", "share_below"] == pytest.approx(1 / 10)
    assert gaps.loc["achievement", "share_below"] == 0
    assert gaps.loc["execution", "rated"] == 9


def test_excel_export_reads_back_equal_to_the_results_frame(tmp_path: Path, rnd: outputs.Round) -> None:
    path = outputs.write_excel(rnd.results, rnd.missing, tmp_path / "results.xlsx", "2026A", "2026年第一批",
                               dt.date(2026, 12, 1))
    pd.testing.assert_frame_equal(outputs.read_excel_results(path), rnd.results)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["认证结果", "按地区通过率", "按部门通过率", "按级别通过率", "缺交缺考", "地区-华东",
                            "地区-华北", "地区-华南"]


def test_the_workbook_is_formatted_for_printing_and_reading(tmp_path: Path, rnd: outputs.Round) -> None:
    """Does each sheet name the round and date, freeze its header, size its columns and show rates as percentages?"""
    from openpyxl import load_workbook

    path = outputs.write_excel(rnd.results, rnd.missing, tmp_path / "results.xlsx", "2026A", "2026年第一批",
                               dt.date(2026, 12, 1))
    book = load_workbook(path)
    results, region = book["认证结果"], book["按地区通过率"]
    assert results["A1"].value == "认证结果名单　认证批次 2026A（2026年第一批）　生成日期 2026-12-01"
    assert region["A1"].value == "按地区通过率　认证批次 2026A（2026年第一批）　生成日期 2026-12-01"
    assert results.freeze_panes == region.freeze_panes == "A3"
    assert [c.value for c in results[2]][:3] == ["学员编号", "姓名", "地区"]
    assert results.column_dimensions["A"].width == 10  # 学员编号: 8 display columns + 2
    longest = "文化程度不符合申报条件（高中；要求大专以上或同等学历；任职满3年者可放宽至高中以上）"
    assert results.column_dimensions["N"].width == min(2 * len(longest) - 1 + 2, 60)  # one digit, the rest CJK
    assert (region["D2"].value, region["D3"].value, region["D3"].number_format) == ("通过率", 0.5, "0.0%")
    assert results["J3"].number_format == "0.0"  # 理论
    assert [c.value for c in book["地区-华北"]["A"]][2:] == ["g", "h", "i"]




# ---------------------------------------------------------------- the 文化程度 and validity settings
@pytest.mark.parametrize(("old", "new", "message"), [
    ("  minimum: 大专\n", "  minimum: 大学\n",
     "'大学' is not listed under education.ranks: use one of 初中, 高中, 中专, 大专, 同等学历, 本科"),
    ("minimum: 高中}", "minimum: 本科}",
     "the waiver's minimum '本科' ranks above the minimum '大专': a waiver lowers the standard, so choose a lower one"),
    ("validity_years: {L4: 3, L1: 2}", "validity_years: {L4: 0, L1: 2}",
     "validity_years of L4 is 0: write a whole number of years, at least 1"),
    ("validity_years: {L4: 3, L1: 2}", "validity_years: {L4: 3}",
     "validity_years has no entry for level L1: add `L1:`"),
], ids=["minimum-unknown", "waiver-above-minimum", "validity-zero", "validity-missing-level"])
def test_a_bad_education_or_validity_setting_names_the_line_and_fix(tmp_path: Path, old: str, new: str,
                                                                   message: str) -> None:
    import shutil

    from course.errors import ContentError

    content = tmp_path / "content"
    shutil.copytree(CERT, content)
    path = content / "certification.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_certification(load_course(content))
    [problem] = info.value.problems
    assert problem.message == message
    assert problem.line == next(i for i, t in enumerate(text.replace(old, new).splitlines(), 1) if new.strip() in t)


def test_the_shipped_rule_is_the_seeds_minimum_with_a_default_waiver() -> None:
    """Is the rule the seed's 大专以上或同等学历 (同等学历 as 大专), lowered to 高中 after 3 years by default?"""
    from course.certification.eligibility import education_problem

    rule = load_certification(load_course()).education
    assert (rule.minimum, rule.ranks["同等学历"], rule.ranks["大专"]) == ("大专", 3, 3)
    assert education_problem(rule, "同等学历", 0) == education_problem(rule, "高中", 3) == ""
    assert education_problem(rule, "高中", 2.5) == (
        "文化程度不符合申报条件（高中；要求大专以上或同等学历；任职满3年者可放宽至高中以上）")
    assert education_problem(rule, "初中", 10) == (
        "文化程度不符合申报条件（初中；要求大专以上或同等学历；任职满3年者可放宽至高中以上）")
    strict = rule.model_copy(update={"waiver": None})
    assert education_problem(strict, "高中", 30) == "文化程度不符合申报条件（高中；要求大专以上或同等学历）"
