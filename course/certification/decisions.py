"""Decisions: for each learner and their own target level, certified (通过) or not (未通过), with the reasons.

The rule (certification.yaml holds the pass marks):
eligible AND theory (on 100) ≥ theory pass mark AND skills (on 100) ≥ skills
pass mark AND the competency profile meets the target level's requirement.

Paper scores come from nbgrader's gradebook, per paper variant (assignment).
A learner's **latest sitting they submitted** counts: a re-sit (补考) replaces
the earlier score, and the reason says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from course.certification.config import Certification
from course.loader import Course

RESULT_COLUMNS = ["学员编号", "姓名", "地区", "部门", "目标级别", "培训学时", "文化程度", "资格", "计分考试", "理论",
                  "技能", "能力素质", "结论", "原因"]
NO_PAPER = "—"  # 计分考试 of a learner with no paper at their level
PASSED, FAILED = "通过", "未通过"
ALL_MET = "全部条件达到"


def sitting_scores(manifests: list[dict[str, Any]], grades: pd.DataFrame) -> pd.DataFrame:
    """One row per learner × paper they were given: theory and skills on 100 (NaN: not submitted / not graded).

    ``grades`` is :func:`course.analytics.frames.read_grades`'s frame (learner, chapter = assignment,
    question, score, submitted_at); ``exam_date`` is the day the counted paper was submitted.
    """
    rows = []
    # only the paper assignments: a national gradebook holds millions of chapter rows no paper needs
    assignments = {v["assignment"] for data in manifests for v in data["variants"].values()}
    papers = grades[grades["chapter"].isin(assignments)]
    by_assignment = {key: g for key, g in papers.groupby(["learner", "chapter"], observed=True, sort=False)}
    for data in manifests:
        for learner, variant in data["variants"].items():
            got = by_assignment.get((learner, variant["assignment"]))
            submitted = got is not None
            theory = skills = np.nan
            pending = False
            exam_date = ""
            if got is not None:
                if "submitted_at" in got and got["submitted_at"].notna().any():
                    exam_date = pd.Timestamp(got["submitted_at"].max()).date().isoformat()
                scores = got.set_index("question")["score"]
                # on 100, rounded to 2 decimals so 11/20 is 55, not 55.00000000000001
                theory = round(float(scores.reindex(variant["theory"]).fillna(0).sum()) / data["theory_max"] * 100, 2)
                case = scores.reindex(variant["skills"])
                pending = bool(case.isna().any())
                if variant["skills"] and not pending:
                    skills = round(float(case.sum()) / data["skills_max"] * 100, 2)
            rows.append({"learner": learner, "paper": data["paper"], "assignment": variant["assignment"],
                         "level": data["level"], "sitting": variant.get("sitting", data.get("sitting", 1)),
                         "resit": data.get("resit", False),
                         "submitted": submitted, "skills_pending": pending, "theory": theory, "skills": skills,
                         "exam_date": exam_date})
    cols = ["learner", "paper", "assignment", "level", "sitting", "resit", "submitted", "skills_pending", "theory",
            "skills", "exam_date"]
    return pd.DataFrame(rows, columns=cols)


def counting_sitting(sittings: pd.DataFrame, targets: pd.Series) -> pd.DataFrame:
    """Per learner: the latest submitted sitting at their target level (or their latest paper if none submitted)."""
    at_level = sittings[sittings["level"] == sittings["learner"].map(targets)]
    ordered = at_level.sort_values(["learner", "submitted", "sitting"])
    return ordered.groupby("learner").tail(1).set_index("learner")


def _fmt(value: float) -> str:
    return f"{round(value, 1):g}"


def decide(course: Course, cert: Certification, roster: pd.DataFrame, eligibility: pd.DataFrame,
           sittings: pd.DataFrame, competency: pd.DataFrame) -> pd.DataFrame:
    """The results list (RESULT_COLUMNS), one row per roster learner, in roster order.

    ``roster``: indexed by learner id with name, region, department, target_level;
    ``eligibility``: :func:`course.certification.eligibility.eligibility`;
    ``sittings``: :func:`sitting_scores`; ``competency``: :func:`course.certification.ratings.competency_check`.
    """
    titles = {lv.id: lv.title for lv in course.levels.levels}
    marks = cert.pass_marks
    # plain dicts: a row lookup in a frame costs ~50 µs, too much 30,000 times for a national roster
    elig = eligibility.set_index("learner").to_dict("index")
    comp = competency.set_index("learner").to_dict("index")
    counted = counting_sitting(sittings, roster["target_level"]).to_dict("index")
    rows = []
    for learner, person in roster.to_dict("index").items():
        reasons: list[str] = []
        e = elig[learner]
        if not e["eligible"]:
            reasons.append(str(e["eligibility_reason"]))
        theory = skills = np.nan
        s = counted.get(learner)
        if s is None:
            reasons.append("未安排考试")
        else:
            theory, skills = float(s["theory"]), float(s["skills"])
            if not s["submitted"]:
                reasons.append(f"缺考（试卷 {s['paper']}）")
            else:
                exam: list[str] = []
                if theory < marks.theory:
                    exam.append(f"理论成绩 {_fmt(theory)} 低于合格线 {marks.theory:g}")
                if s["skills_pending"]:
                    exam.append("技能（案例分析）待评分")
                elif skills < marks.skills:
                    exam.append(f"技能成绩 {_fmt(skills)} 低于合格线 {marks.skills:g}")
                if exam and bool(s["resit"]):  # say which sitting the scores are from
                    exam[0] = f"试卷 {s['paper']}：{exam[0]}"
                reasons.extend(exam)
        c = comp[learner]
        # None: not rated; the column is bool (numpy) when every learner was rated
        met = None if c["competency_met"] is None or pd.isna(c["competency_met"]) else bool(c["competency_met"])
        if not met:
            reasons.append(str(c["competency_reason"]))
        passed = not reasons
        note = ALL_MET
        if passed and s is not None and bool(s["resit"]):
            note = f"{ALL_MET}（补考通过，试卷 {s['paper']}）"
        rows.append({
            "学员编号": learner, "姓名": person["name"], "地区": person["region"], "部门": person["department"],
            "目标级别": titles[person["target_level"]], "培训学时": float(e["hours"]),
            "文化程度": e["education"] or "—",
            "资格": "符合" if e["eligible"] else "不符合", "计分考试": NO_PAPER if s is None else str(s["paper"]),
            "理论": theory, "技能": skills,
            "能力素质": "未评定" if met is None else ("达标" if met else "未达标"),
            "结论": PASSED if passed else FAILED, "原因": note if passed else "；".join(reasons),
        })
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def pass_rates(results: pd.DataFrame, by: str, order: list[str] | None = None) -> pd.DataFrame:
    """Pass rate against each learner's own target level, per ``by`` (地区, 部门 or 目标级别).

    Groups in ``order`` when given (levels: 四级 first, never sorted as text; a group not in it
    comes last), else sorted by name.
    """
    grouped = results.assign(passed=results["结论"] == PASSED).groupby(by)["passed"]
    out = grouped.agg(人数="size", 通过人数="sum").reset_index()
    out["通过率"] = out["通过人数"] / out["人数"]
    if order is None:
        return out.sort_values([by], ignore_index=True)
    rank = {name: i for i, name in enumerate(order)}
    return out.sort_values(by, key=lambda s: s.map(lambda v: (rank.get(v, len(rank)), str(v))),
                           ignore_index=True)


def missing_work(roster: pd.DataFrame, grades: pd.DataFrame, chapters: list[str],
                 manifests: list[dict[str, Any]]) -> pd.DataFrame:
    """Per learner with something missing: the chapters (of ``chapters``) and papers they did not submit."""
    pairs = grades[["learner", "chapter"]].drop_duplicates()
    done = set(zip(pairs["learner"].astype(str), pairs["chapter"].astype(str), strict=True))
    rows = []
    for learner, person in roster.to_dict("index").items():
        ch = [c for c in chapters if (learner, c) not in done]
        papers = [d["paper"] for d in manifests if learner in d["variants"]
                  and (learner, d["variants"][learner]["assignment"]) not in done]
        if ch or papers:
            rows.append({"学员编号": learner, "姓名": person["name"], "地区": person["region"],
                         "部门": person["department"], "缺交章节": "、".join(ch) or "—",
                         "缺考试卷": "、".join(papers) or "—"})
    return pd.DataFrame(rows, columns=["学员编号", "姓名", "地区", "部门", "缺交章节", "缺考试卷"])
