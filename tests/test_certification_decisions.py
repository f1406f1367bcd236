"""Decisions on a hand-computed cohort: one learner per rule (eligibility, theory, skills, competency, re-sit).

The fixture course has levels L4 (30 h, no further 申报条件) and L1 (12 h, 2
years in post, holding L4); pass marks 60/60; competency L4: every item 初级,
L1: 高级 with one item allowed at 中级. Papers: 20 theory points, 10 skills.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course.certification import eligibility, outputs, ratings
from course.certification.config import Certification, load_certification
from course.errors import InputFileError
from course.loader import Course, load_course

CERT = Path(__file__).parent / "fixtures" / "cert"

#          id   name  region dept     level hours years held  theory(/20) skills(/10) ratings (ach, comm, exec)
COHORT = [
    ("a", "张三", "华东", "政企客户部", "L4", 30.0, 1, "", 16, 7, ("初级", "初级", "初级")),
    ("b", "李四", "华东", "政企客户部", "L4", 29.5, 1, "", 16, 7, ("初级", "中级", "初级")),
    ("c", "王五", "华南", "行业拓展部", "L4", 30.0, 1, "", 11, 7, ("初级", "初级", "初级")),
    ("d", "赵六", "华南", "行业拓展部", "L4", 30.0, 1, "", 16, 5, ("初级", "初级", "初级")),
    ("e", "钱七", "华东", "行业拓展部", "L1", 12.0, 3, "L4", 12, 6, ("高级", "高级", "中级")),
    ("f", "孙八", "华南", "政企客户部", "L1", 12.0, 3, "L4", 16, 8, ("高级", "中级", "中级")),
    ("g", "周九", "华北", "政企客户部", "L4", 30.0, 1, "", 8, 8, ("初级", "初级", "初级")),
    ("h", "吴十", "华北", "行业拓展部", "L1", 12.0, 1, "", 16, 8, ("资深", "资深", "资深")),
    ("i", "郑一", "华北", "政企客户部", "L4", 30.0, 1, "", None, None, None),
]
RESIT = {"g": (15, 8)}  # g's re-sit paper L4-b
ITEMS = ("achievement", "communication", "execution")


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(CERT)


@pytest.fixture(scope="module")
def cert(course: Course) -> Certification:
    return load_certification(course)


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
    return pd.DataFrame([{"learner_id": r[0], "years_in_post": float(r[6]), "held_level": r[7]}
                         for r in COHORT]).set_index("learner_id")


def rated() -> pd.DataFrame:
    levels = {lv.title: lv.id for lv in load_course(CERT).competencies.levels}
    return pd.DataFrame([{"learner_id": r[0], "competency": item, "level": levels[lv], "rater": "主管"}
                         for r in COHORT if r[10] for item, lv in zip(ITEMS, r[10], strict=True)])


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
        if r[8] is not None:
            sat(r[0], f"{r[4]}-a-{r[0]}", r[8], r[9])
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
    got = rnd.results.set_index("学员编号")[["资格", "理论", "技能", "能力素质", "结论", "原因"]]
    nan = np.nan
    expected = pd.DataFrame([
        ("a", "符合", 80.0, 70.0, "达标", "通过", "全部条件达到"),
        ("b", "不符合", 80.0, 70.0, "达标", "未通过", "培训学时不足（29.5/30学时）"),
        ("c", "符合", 55.0, 70.0, "达标", "未通过", "理论成绩 55 低于合格线 60"),
        ("d", "符合", 80.0, 50.0, "达标", "未通过", "技能成绩 50 低于合格线 60"),
        ("e", "符合", 60.0, 60.0, "达标", "通过", "全部条件达到"),
        ("f", "符合", 80.0, 80.0, "未达标", "未通过", "能力素质未达标（2项低于要求：沟通倾听能力、执行能力）"),
        ("g", "符合", 75.0, 80.0, "达标", "通过", "全部条件达到（补考通过，试卷 L4-b）"),
        ("h", "不符合", 80.0, 80.0, "达标", "未通过", "任职年限不足（1/2年）；未取得四级证书"),
        ("i", "符合", nan, nan, "未评定", "未通过", "缺考（试卷 L4-a）；能力素质未评定"),
    ], columns=["学员编号", "资格", "理论", "技能", "能力素质", "结论", "原因"]).set_index("学员编号")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_the_results_list_has_the_managers_columns(rnd: outputs.Round) -> None:
    assert list(rnd.results.columns) == ["学员编号", "姓名", "地区", "部门", "目标级别", "培训学时", "资格", "理论",
                                         "技能", "能力素质", "结论", "原因"]
    first = rnd.results.iloc[4]
    assert (first["姓名"], first["目标级别"], first["培训学时"]) == ("钱七", "一级（资深）", 12.0)


def test_pass_rates_by_region_are_against_each_learners_own_level(rnd: outputs.Round) -> None:
    assert rnd.by_region.to_dict("records") == [
        {"地区": "华东", "人数": 3, "通过人数": 2, "通过率": 2 / 3},
        {"地区": "华北", "人数": 3, "通过人数": 1, "通过率": 1 / 3},
        {"地区": "华南", "人数": 3, "通过人数": 0, "通过率": 0.0},
    ]
    assert rnd.by_department.set_index("部门")["通过人数"].to_dict() == {"政企客户部": 2, "行业拓展部": 1}


def test_pass_rates_by_target_level_go_from_the_entry_level_up(rnd: outputs.Round) -> None:
    """Are levels listed 四级 then 一级 (their rank), not as text sorts them (一级 before 四级)?"""
    from course.certification.decisions import pass_rates

    assert pass_rates(rnd.results, "目标级别")["目标级别"].tolist() == ["一级（资深）", "四级"]  # text order
    ordered = pass_rates(rnd.results, "目标级别", ["四级", "一级（资深）"])
    assert ordered.to_dict("records") == [
        {"目标级别": "四级", "人数": 6, "通过人数": 2, "通过率": 2 / 6},
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
    # below requirement: f (comm, exec), e (exec) out of 9 learners, i unrated
    assert gaps.loc["execution", "share_below"] == pytest.approx(2 / 9)
    assert gaps.loc["communication", "share_below"] == pytest.approx(1 / 9)
    assert gaps.loc["achievement", "share_below"] == 0
    assert gaps.loc["execution", "rated"] == 8


def test_excel_export_reads_back_equal_to_the_results_frame(tmp_path: Path, rnd: outputs.Round) -> None:
    path = outputs.write_excel(rnd, tmp_path / "results.xlsx")
    pd.testing.assert_frame_equal(outputs.read_excel_results(path), rnd.results)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["认证结果", "按地区通过率", "按部门通过率", "缺交缺考"]


# ---------------------------------------------------------------- imports
def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_training_import_names_every_bad_row_and_imports_nothing(tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", "learner_id,course,hours,date\na,面授一,6,2026-09-01\n")
    eligibility.import_training(tmp_path, good)
    before = eligibility.training_store(tmp_path).read_text(encoding="utf-8")
    bad = write(tmp_path / "bad.csv", "learner_id,course,hours,date\n"
                "b,面授一,six,2026-09-01\n,面授二,2,2026-13-01\nc,面授三,-1,2026-09-02\nd,面授四,3,2026-09-03\n")
    with pytest.raises(InputFileError) as info:
        eligibility.import_training(tmp_path, bad)
    assert info.value.problems == [
        "row 2, column hours: 'six' is not a number: write e.g. 4 or 2.5",
        "row 3, column learner_id: is empty: fill in the learner id",
        "row 3, column date: '2026-13-01' is not a date: write YYYY-MM-DD",
        "row 4, column hours: -1 is below 0: write a number of at least 0",
    ]
    assert str(info.value).splitlines()[0].startswith(f"{bad}: row 2")
    assert eligibility.training_store(tmp_path).read_text(encoding="utf-8") == before


def test_a_training_row_imported_twice_is_refused(tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", "learner_id,course,hours,date\na,面授一,6,2026-09-01\n")
    eligibility.import_training(tmp_path, good)
    again = write(tmp_path / "again.csv",
                  "learner_id,course,hours,date\n\nb,面授一,6,2026-09-01\na,面授一,6,2026-09-01\n")
    with pytest.raises(InputFileError) as info:
        eligibility.import_training(tmp_path, again)
    assert info.value.problems == ["row 4: a 面授一 2026-09-01 is already imported: remove the row"]
    assert len(eligibility.read_training(eligibility.training_store(tmp_path))) == 1


def test_applicants_with_an_unknown_level_are_refused(tmp_path: Path, course: Course) -> None:
    path = write(tmp_path / "app.csv", "learner_id,years_in_post,held_level\na,2,L9\na,1,\n")
    with pytest.raises(InputFileError) as info:
        eligibility.import_applicants(tmp_path, path, course)
    assert info.value.problems == [
        "row 2, column held_level: 'L9' is not a level: use one of L4, L1, 四级, 一级（资深） or leave it empty",
        "row 3, column learner_id: 'a' is listed again (first on row 2): keep one row",
    ]
    assert not eligibility.applicant_store(tmp_path).exists()


def test_ratings_import_checks_items_levels_and_repeats(tmp_path: Path, course: Course) -> None:
    path = write(tmp_path / "r.csv", "learner_id,competency,level,rater\n"
                 "a,成就导向,中级,李经理\na,飞行能力,中级,李经理\na,岗位基础知识,初级,李经理\n"
                 "a,achievement,初级,李经理\nb,execution,顶级,李经理\n")
    with pytest.raises(InputFileError) as info:
        ratings.import_ratings(tmp_path, path, course)
    assert info.value.problems == [
        "row 3, column competency: '飞行能力' is not an item of the competency model: use an id or title from "
        "competencies.yaml (e.g. 成就导向)",
        "row 4, column competency: '岗位基础知识' is assessed by the exam, not rated: remove the row",
        "row 5: a is rated on 成就导向 again (first on row 2): keep one row",
        "row 6, column level: '顶级' is not a competency level: use one of 初级, 中级, 高级, 资深",
    ]
    assert not ratings.ratings_store(tmp_path).exists()


def test_a_later_rating_replaces_the_earlier_one(tmp_path: Path, course: Course) -> None:
    first = write(tmp_path / "1.csv", "learner_id,competency,level,rater\na,成就导向,初级,甲\n")
    ratings.import_ratings(tmp_path, first, course)
    stored = ratings.import_ratings(
        tmp_path, write(tmp_path / "2.csv", "learner_id,competency,level,rater\na,成就导向,高级,乙\n"), course)
    assert stored.to_dict("records") == [{"learner_id": "a", "competency": "achievement", "level": "senior",
                                          "rater": "乙"}]
