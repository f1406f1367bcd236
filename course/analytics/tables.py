"""Tables and texts of the manager pages: who submitted what, pending grades, page headers.

Small pure functions over the tidy scores frame (``frames.scores_frame``); the notebooks
only rename columns to Chinese and display. A learner's "completion" counts the chapters
covered by the page (every chapter someone in the selection submitted) that the learner
submitted; registered learners without any submission are listed too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from course.analytics.roster import UNREGISTERED
from course.loader import Course

SMALL_SAMPLE = 30  # fewer respondents than this: statistics are shown with a caution
PAGE_ROWS = 50  # rows of a learner table shown on a page; the full table goes to a CSV file
NOT_SUBMITTED = "未提交"
NO_DATA = "无数据"


def chapters_covered(scores: pd.DataFrame, course: Course) -> list[str]:
    """Chapter ids with at least one submission, in syllabus order."""
    present = {str(c) for c in scores["chapter"].unique()}  # unique first: millions of rows, 22 chapters
    return [c for c in course.chapters if c in present]


def scope_text(region: str | None, since: str | None = None, until: str | None = None) -> str:
    parts = [f"地区：{region}" if region else "地区：全部"]
    if since or until:
        parts.append(f"提交日期：{since or '最早'} 至 {until or '最新'}")
    return "　".join(parts)


def page_header(course: Course, scores: pd.DataFrame, as_of: dt.datetime, *, level_title: str | None = None,
                region: str | None = None, since: str | None = None, until: str | None = None) -> str:
    """Markdown lines every page opens with: data as of, the chapters covered, level and scope."""
    chapters = chapters_covered(scores, course)
    local = as_of.astimezone() if as_of.tzinfo else as_of
    names = "、".join(f"{c} {course.chapters[c].title}" for c in chapters) or "无"
    lines = [f"- 数据截至：**{local:%Y-%m-%d %H:%M}**（成绩库读取时间）",
             f"- 涵盖章节（{len(chapters)} 章）：{names}",
             f"- {scope_text(region, since, until)}"]
    if level_title:
        lines.insert(0, f"- 认证级别：**{level_title}**")
    return "\n".join(lines)


def pending_grades(scores: pd.DataFrame) -> int:
    """Grades waiting for a grader: nbgrader's ``needs_manual_grade`` rows, as formgrader counts them."""
    return int(scores["needs_manual_grade"].astype(bool).sum())


def pending_by_chapter(scores: pd.DataFrame, course: Course) -> pd.DataFrame:
    """Per covered chapter: grades waiting for a grader (chapter, title, pending)."""
    waiting = scores[scores["needs_manual_grade"].astype(bool)]
    counts = waiting.groupby(waiting["chapter"].astype(str)).size()
    chapters = chapters_covered(scores, course)
    return pd.DataFrame({"chapter": chapters, "title": [course.chapters[c].title for c in chapters],
                         "pending": [int(counts.get(c, 0)) for c in chapters]})


def learners_frame(scores: pd.DataFrame, roster: pd.DataFrame | None, region: str | None = None) -> pd.DataFrame:
    """Every learner of the selection: in the scores, or registered (in ``region``) without a submission.

    Index ``learner``; columns name, region, department, registered.
    """
    seen = scores.drop_duplicates("learner")[["learner", "name", "region", "department"]].astype(object)
    seen = seen.set_index("learner")
    if roster is not None:
        listed = roster if not region else roster[roster["region"] == region]
        listed = listed[["name", "region", "department"]].astype(object)
        seen = pd.concat([seen, listed[~listed.index.isin(seen.index)]])
    seen.index = seen.index.astype(str)
    seen.index.name = "learner"
    seen["registered"] = seen.index.isin(roster.index) if roster is not None else False
    return seen.sort_index()


def results_table(scores: pd.DataFrame, course: Course, roster: pd.DataFrame | None,
                  region: str | None = None) -> pd.DataFrame:
    """Named results: one row per learner, one column per covered chapter, completion and missing work.

    Chapter columns (named by chapter id) hold the chapter's score in percent (earned ÷
    possible over graded questions; NaN when not submitted). Then: submitted and expected
    chapter counts, completion (0–1), missing (chapter ids, 、-separated, "" when none) and
    pending (grades waiting for a grader). Sorted by completion (least first), then learner id.
    """
    chapters = chapters_covered(scores, course)
    people = learners_frame(scores, roster, region)
    graded = scores[scores["score"].notna()]
    sums = graded.groupby(["learner", "chapter"], observed=True)[["score", "points"]].sum()
    percent = _by_text((100 * sums["score"] / sums["points"].where(sums["points"] > 0)).unstack())
    submitted = _by_text(scores.groupby(["learner", "chapter"], observed=True).size().unstack())
    submitted = submitted.reindex(index=people.index, columns=chapters).notna()
    percent = percent.reindex(index=people.index, columns=chapters).where(submitted)
    waiting = scores[scores["needs_manual_grade"].astype(bool)]
    pending = _by_text(waiting.groupby("learner", observed=True).size()).reindex(people.index, fill_value=0)
    out = people[["name", "region", "department"]].copy()
    out[chapters] = percent
    out["submitted"] = submitted.sum(axis=1).astype(int)
    out["expected"] = len(chapters)
    out["completion"] = out["submitted"] / len(chapters) if chapters else math.nan
    out["missing"] = ["、".join(c for c, done in zip(chapters, row, strict=True) if not done)
                      for row in submitted.to_numpy()]
    out["pending"] = pending.astype(int)
    out = out.reset_index().sort_values(["completion", "learner"], kind="stable", ignore_index=True)
    return out


def _by_text(frame: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """A groupby result over categoricals with plain text labels (index and columns)."""
    frame = frame.copy()
    frame.index = frame.index.astype(str)
    if isinstance(frame, pd.DataFrame):
        frame.columns = frame.columns.astype(str)
    return frame


def results_display(results: pd.DataFrame, course: Course, rows: int = PAGE_ROWS) -> pd.DataFrame:
    """The first ``rows`` of ``results_table`` with Chinese headers and 未提交 in empty chapter cells."""
    chapters = [c for c in results.columns if c in course.chapters]
    shown = results.head(rows).copy()
    for c in chapters:
        shown[c] = [NOT_SUBMITTED if pd.isna(v) else f"{v:.0f}" for v in shown[c]]
    shown["completion"] = [f"{v:.0%}" if pd.notna(v) else NO_DATA for v in shown["completion"]]
    shown["missing"] = shown["missing"].replace("", "—")
    names = {"learner": "学员编号", "name": "姓名", "region": "地区", "department": "部门", "submitted": "已提交章数",
             "expected": "应提交章数", "completion": "完成率", "missing": "缺交章节", "pending": "待人工评分"}
    return shown.rename(columns=names | {c: f"{c} {course.chapters[c].title}" for c in chapters})


def completion_summary(results: pd.DataFrame) -> dict[str, int]:
    """Head counts: all learners, complete, with missing work, without any submission."""
    return {"learners": len(results), "complete": int((results["missing"] == "").sum()),
            "missing": int((results["missing"] != "").sum()), "none": int((results["submitted"] == 0).sum())}


def yes_no(flags: Iterable[bool]) -> list[str]:
    return ["是" if bool(f) else "否" for f in flags]


def stem_start(course: Course, question: str, length: int = 18) -> str:
    """The first characters of a question's stem, for item tables."""
    q = next((x for x in course.questions if x.id == question), None)
    if q is None:
        return ""
    text = " ".join(q.stem.split())
    return text if len(text) <= length else text[:length] + "…"


def sample_caution(n: int | float, minimum: int = SMALL_SAMPLE) -> str:
    """A caution for statistics over few respondents, "" when there are enough."""
    if pd.isna(n):
        return NO_DATA
    return f"样本较少（{int(n)} 人），仅供参考" if int(n) < minimum else ""


def region_area_matrix(mastery: pd.DataFrame, scores: pd.DataFrame, titles: dict[str, str]) -> pd.DataFrame:
    """Pooled mastery (0–1) per region (rows, with head counts) × area (columns) from ``area_mastery``."""
    regions = scores.drop_duplicates("learner").set_index("learner")["region"].astype(str)
    joined = mastery.assign(region=regions.reindex(mastery["learner"].astype(str)).to_numpy())
    pooled = joined.groupby(["region", "area"], observed=True)[["earned", "possible"]].sum()
    matrix = (pooled["earned"] / pooled["possible"]).unstack()
    counts = regions.value_counts()
    matrix.index = [f"{r}（{int(counts.get(r, 0))} 人）" for r in matrix.index]
    matrix.columns = [titles.get(str(a), str(a)) for a in matrix.columns]
    return matrix.astype(float)


def choose_learners(requested: str | None, known: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Learner ids to draw from a ``--learner`` value ("a" or "a,b,c") and notices for the page.

    ``known`` is ``learners_frame``. Without a value nobody is chosen: the page lists learners to
    pick from instead of silently picking one. An id without grades is named in a notice.
    """
    if not requested or not str(requested).strip():
        return [], ["未指定学员：请用 `course report --learner 学员编号` 指定一名或多名学员"
                    "（多名用英文逗号分隔），下表列出可选的学员。"]
    wanted = list(dict.fromkeys(x.strip() for x in str(requested).split(",") if x.strip()))
    notices = []
    chosen = []
    for learner in wanted:
        if learner not in known.index:
            notices.append(f"学员 {learner} 不在成绩库或名册中：请检查学员编号。")
        elif not bool(known.loc[learner, "registered"]):
            notices.append(f"学员 {learner} 未在名册中登记（姓名显示为{UNREGISTERED}）。")
            chosen.append(learner)
        else:
            chosen.append(learner)
    return chosen, notices


def learner_choices(results: pd.DataFrame, rows: int = PAGE_ROWS) -> pd.DataFrame:
    """Learners to choose a drill-down from: registered first, by region and id."""
    frame = results[["learner", "name", "region", "department", "submitted", "expected"]].copy()
    frame["registered"] = frame["name"] != UNREGISTERED
    frame = frame.sort_values(["registered", "region", "learner"], ascending=[False, True, True], kind="stable")
    return frame.drop(columns="registered").head(rows).rename(columns={
        "learner": "学员编号", "name": "姓名", "region": "地区", "department": "部门", "submitted": "已提交章数",
        "expected": "应提交章数"})


def radar_values(mastery: pd.Series, areas: list[str]) -> np.ndarray:
    """Mastery per area in ``areas`` order, NaN where the learner has no graded question (无数据)."""
    return mastery.reindex(areas).to_numpy(dtype=float)
