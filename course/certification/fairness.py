"""How comparable a paper's variants are: expected-score spread, the estimates behind it, observed scores.

Pure functions over a paper manifest (``papers/<paper>.json``), the item estimates it was
balanced with and, after the sitting, the learners' theory scores; :func:`render_fairness`
is what ``course paper report`` prints and the certification page shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from course.certification.difficulty import Estimates

GROUPS = ("较易的三分之一", "中间的三分之一", "较难的三分之一")


MEASURE_KEYS = {"expected": ("expected", "target"), "complete": ("complete", "complete_target")}
MEASURE_TITLES = {"expected": "预期得分", "complete": "完整作答得分"}
SOURCE_TITLES = {"grm": "等级反应模型（2PL）标定", "facility": "得分率（含先验收缩）", "prior": "先验值（按掌握程度）"}


def spread(data: Mapping[str, Any], measure: str = "expected") -> pd.DataFrame:
    """Per balancing ability: the target and the variants' expected theory scores (mean, sd, min, max, within).

    ``measure="complete"``: the expected points of complete answers instead (papers drawn before
    it was balanced have no such record: NaN).
    """
    balance = data.get("balance") or {}
    abilities = list(balance.get("abilities", []))
    tol = float(balance.get("tolerance", np.nan))
    got, aim = MEASURE_KEYS[measure]
    expected = np.array([v.get(got) or [np.nan] * len(abilities) for v in data["variants"].values()],
                        dtype=float).reshape(-1, len(abilities))
    targets = np.array([v.get(aim) or [np.nan] * len(abilities) for v in data["variants"].values()],
                       dtype=float).reshape(-1, len(abilities))
    rows = []
    for k, theta in enumerate(abilities):
        e = expected[:, k]
        seen = int(np.isfinite(e).sum())
        rows.append({"ability": theta, "target": float(np.nanmean(targets[:, k])) if seen else np.nan,
                     "variants": seen,
                     "mean": float(np.nanmean(e)) if seen else np.nan,
                     "sd": float(np.nanstd(e, ddof=1)) if seen > 1 else np.nan,
                     "min": float(np.nanmin(e)) if seen else np.nan, "max": float(np.nanmax(e)) if seen else np.nan,
                     "within": int((np.abs(e - targets[:, k]) <= tol + 1e-9).sum())})
    return pd.DataFrame(rows, columns=["ability", "target", "variants", "mean", "sd", "min", "max", "within"])


def sources(data: Mapping[str, Any], est: Estimates | None) -> pd.DataFrame:
    """Per estimate source (grm, facility, prior): items of the paper's variants and their respondents."""
    drawn = sorted({q for v in data["variants"].values() for q in v["theory"]})
    rows = []
    for qid in drawn:
        item = est.items.get(qid) if est is not None else None
        rows.append({"source": item.source if item else "prior", "n": item.n if item else 0})
    frame = pd.DataFrame(rows, columns=["source", "n"])
    out = frame.groupby("source")["n"].agg(items="size", n_min="min", n_median="median").reset_index()
    order = {"grm": 0, "facility": 1, "prior": 2}
    return out.sort_values("source", key=lambda s: s.map(order), ignore_index=True)


def observed_by_group(data: Mapping[str, Any], theory: Mapping[str, float], ability_index: int) -> pd.DataFrame:
    """Variants split into thirds by expected score at one ability: expected and observed mean theory score on 100.

    ``theory``: learner → theory score on 100 of this paper (learners who did not sit are absent).
    The expected score is recorded in the paper's points (of ``theory_max``) and put on 100 here,
    so the two columns compare. If the balance holds, the thirds' observed means differ no more
    than chance.
    """
    variants = data["variants"]
    scale = 100.0 / float(data["theory_max"])
    learners = [x for x in variants if variants[x].get("expected")]
    expected = pd.Series({x: float(variants[x]["expected"][ability_index]) * scale for x in learners}, dtype=float)
    ranked = expected.rank(method="first", ascending=False)  # the highest expected score is the easiest paper
    third = np.ceil(ranked * 3 / max(len(ranked), 1)).clip(1, 3).astype(int) - 1
    rows = []
    for g, name in enumerate(GROUPS):
        members = third.index[third == g]
        scores = [theory[x] for x in members if x in theory and np.isfinite(theory[x])]
        rows.append({"group": name, "variants": len(members), "expected": float(expected[members].mean())
                     if len(members) else np.nan, "sat": len(scores),
                     "observed": float(np.mean(scores)) if scores else np.nan})
    return pd.DataFrame(rows, columns=["group", "variants", "expected", "sat", "observed"])


def sitting_theory(data: Mapping[str, Any], grades: pd.DataFrame) -> dict[str, float]:
    """Learner → theory score on 100 of this paper, for the learners who submitted it."""
    from course.certification.decisions import sitting_scores

    sat = sitting_scores([dict(data)], grades)
    return {str(r.learner): float(r.theory) for r in sat.itertuples() if r.submitted}


def _num(x: float, digits: int = 1) -> str:
    return "—" if not np.isfinite(x) else f"{x:.{digits}f}"


def render_fairness(data: Mapping[str, Any], est: Estimates | None, theory: Mapping[str, float]) -> str:
    """The comparability part of ``course paper report``, in Chinese."""
    balance = data.get("balance") or {}
    lines = [f"试卷 {data['paper']}（{data['level']}）各考生试卷的难度平衡："]
    if not balance:
        lines.append("  本试卷生成时尚未进行难度平衡（旧版试卷），没有预期得分记录。")
        return "\n".join(lines)
    src = est.name if est is not None else "先验值（无作答数据）"
    when = f"，数据截至 {est.as_of}" if est is not None and est.as_of else ""
    lines.append(f"  题目难度估计：{src}{when}；容差 ±{balance['tolerance']:g} 分（理论满分 "
                 f"{data['theory_max']:g}）")
    for measure, name in MEASURE_TITLES.items():
        table = spread(data, measure)
        if not table["variants"].sum():
            continue
        lines.append(f"  {name}：")
        lines.append("  能力θ   目标    平均    标准差  最低–最高      在容差内")
        for r in table.itertuples(index=False):
            lines.append(f"  {r.ability:+5.1f}  {_num(r.target):>6} {_num(r.mean):>7} {_num(r.sd, 2):>7}  "
                         f"{_num(r.min)}–{_num(r.max):<8} {r.within}/{r.variants}")
    for r in sources(data, est).itertuples(index=False):
        lines.append(f"  估计来源 {SOURCE_TITLES.get(r.source, r.source)}：{r.items} 题，作答人数 {r.n_min}–中位数 "
                     f"{r.n_median:g}")
    misses = [v["miss"] for v in data["variants"].values() if v.get("miss")]
    for miss in misses:
        lines.append(f"  未达容差：{miss}")
    abilities = list(balance["abilities"])
    k = abilities.index(0) if 0 in abilities else len(abilities) // 2
    groups = observed_by_group(data, theory, k)
    if groups["sat"].sum():
        lines.append(f"  按预期得分（θ={abilities[k]:g}）三等分的实际理论成绩（百分制）：")
        for r in groups.itertuples(index=False):
            lines.append(f"    {r.group}：{r.variants} 份，预期 {_num(r.expected)}，已考 {r.sat} 人，实际平均 "
                         f"{_num(r.observed)}")
    else:
        lines.append("  尚无已评分的作答：考试后再运行本报告可看到各组实际成绩。")
    return "\n".join(lines)


def render_decisions(table: pd.DataFrame, pass_mark: float) -> str:
    """Decision consistency lines (:func:`course.certification.consistency.decision_table`), in Chinese."""
    if table.empty:
        return "判定一致性：尚无已评分的试卷。"
    lines = [f"理论成绩合格判定（合格线 {pass_mark:g}）的一致性（Livingston–Lewis；信度为各知识领域分的 α，偏保守）："]
    names = {"paper": "试卷", "level": "级别"}
    for r in table.itertuples(index=False):
        if not np.isfinite(r.agreement):
            lines.append(f"  {names[r.kind]} {r.key}：{r.n} 人，数据不足以估计（信度 {_num(r.reliability, 2)}）")
            continue
        lines.append(f"  {names[r.kind]} {r.key}：{r.n} 人，平均 {_num(r.mean)}，信度 {_num(r.reliability, 2)}，"
                     f"平行卷判定一致的概率 {r.agreement:.1%}（κ {_num(r.kappa, 2)}），判定准确率 {r.accuracy:.1%}，"
                     f"测量标准误 {_num(r.sem)} 分，合格线处 {_num(r.sem_at_cut)} 分")
    return "\n".join(lines)


# ---------------------------------------------------------------- the certification page
class PageTables(NamedTuple):
    """The certification page's tables (column names are the page's Chinese headers)."""

    balance: pd.DataFrame  # per paper, measure and ability: target and the variants' spread, on 100
    sources: pd.DataFrame  # per paper and estimate source: items and respondents
    observed: pd.DataFrame  # per paper: the thirds by expected score, expected and observed mean on 100
    decisions: pd.DataFrame  # per paper and per level: decision consistency and the SEM at the pass mark


def _paper_estimates(root: Path, data: Mapping[str, Any]) -> Estimates | str | None:
    """The estimates a paper was balanced with, None for priors, or a sentence when its file is gone."""
    from course.certification.difficulty import estimates_dir, read_estimates
    from course.errors import CourseError

    name = (data.get("balance") or {}).get("estimates") or ""
    if not name:
        return None
    try:
        return read_estimates(estimates_dir(root) / name)
    except CourseError:
        return "难度估计文件已缺失或损坏，无法核对来源"


def page_tables(course_root: Path | str, content: Path | str | None = None,
                snapshot: Path | str | None = None) -> PageTables | str:
    """The certification page's tables (:class:`PageTables`), or a sentence saying why there are none.

    Scores are on 100 (a paper's theory points × 100 / its theory maximum), as the results list shows them.
    """
    from course.analytics.frames import read_grades
    from course.certification.config import load_certification
    from course.certification.consistency import decision_table
    from course.certification.manifest import manifests
    from course.certification.outputs import paper_names
    from course.loader import load_course

    root = Path(course_root).resolve()
    course = load_course(Path(content) if content else None)
    if not (course.root / "certification.yaml").exists():
        return "本题库未配置认证设置（certification.yaml）。"
    cert = load_certification(course)
    found = manifests(root)
    if not found:
        return "尚未生成认证试卷。"
    if snapshot:
        from course.analytics.snapshot import read_grades as snapshot_grades

        grades = snapshot_grades(snapshot)
    else:
        from course.nbconfig import course_config, db_url

        grades = read_grades(db_url(root), course_config(root).CourseDirectory.course_id)
    # managers read papers and levels by name (四级认证考试, 四级), never by id
    papers = paper_names(course, found)
    titles = {lv.id: lv.title for lv in course.levels.levels}
    rows, source_rows, observed_rows = [], [], []
    for data in found:
        paper, level = papers[data["paper"]], titles.get(data["level"], data["level"])
        scale = 100.0 / float(data["theory_max"])
        for measure, name in MEASURE_TITLES.items():
            for r in spread(data, measure).itertuples(index=False):
                if r.variants:
                    rows.append({"试卷": paper, "级别": level, "指标": name, "能力θ": r.ability,
                                 "目标": r.target * scale, "份数": r.variants, "平均": r.mean * scale,
                                 "标准差": r.sd * scale, "最低": r.min * scale, "最高": r.max * scale,
                                 "在容差内": r.within})
        balance = data.get("balance") or {}
        if not balance:
            continue
        est = _paper_estimates(root, data)
        if isinstance(est, str):
            source_rows.append({"试卷": paper, "级别": level, "估计来源": est, "题数": np.nan,
                                "作答人数（最少）": np.nan, "作答人数（中位数）": np.nan, "数据截至": ""})
        else:
            for r in sources(data, est).itertuples(index=False):
                source_rows.append({"试卷": paper, "级别": level, "估计来源": SOURCE_TITLES.get(r.source, r.source),
                                    "题数": r.items, "作答人数（最少）": r.n_min, "作答人数（中位数）": r.n_median,
                                    "数据截至": est.as_of[:10] if est is not None else "无作答数据"})
        abilities = list(balance.get("abilities", []))
        k = abilities.index(0) if 0 in abilities else len(abilities) // 2
        for r in observed_by_group(data, sitting_theory(data, grades), k).itertuples(index=False):
            observed_rows.append({"试卷": paper, "级别": level, "分组（按θ=0预期得分）": r.group, "份数": r.variants,
                                  "预期": r.expected, "已考人数": r.sat, "实际平均": r.observed})
    table = decision_table(course, cert, found, grades)
    decisions = pd.DataFrame({
        "范围": [papers.get(v, v) if k == "paper" else f"{titles.get(v, v)}（全部试卷）"
               for k, v in zip(table["kind"], table["key"], strict=True)],
        "人数": table["n"], "平均": table["mean"], "信度α（领域分）": table["reliability"],
        "有效题数": table["effective_length"], "判定一致性": table["agreement"], "κ": table["kappa"],
        "判定准确率": table["accuracy"], "测量标准误": table["sem"], "合格线处标准误": table["sem_at_cut"]})
    return PageTables(
        pd.DataFrame(rows, columns=["试卷", "级别", "指标", "能力θ", "目标", "份数", "平均", "标准差", "最低", "最高",
                                    "在容差内"]),
        pd.DataFrame(source_rows, columns=["试卷", "级别", "估计来源", "题数", "作答人数（最少）", "作答人数（中位数）",
                                           "数据截至"]),
        pd.DataFrame(observed_rows, columns=["试卷", "级别", "分组（按θ=0预期得分）", "份数", "预期", "已考人数",
                                             "实际平均"]),
        decisions)
