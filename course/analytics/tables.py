"""Tables and texts of the manager pages: who submitted what, pending grades, page headers.

Small pure functions over the tidy scores frame (``frames.scores_frame``); the notebooks
only rename columns to Chinese and display. A learner's "completion" counts the chapters
covered by the page (every chapter someone in the selection submitted) that the learner
submitted; registered learners without any submission are listed too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from course.analytics.roster import UNREGISTERED
from course.loader import Course

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

SMALL_SAMPLE = 30  # fewer respondents than this: statistics are shown with a caution
PAGE_ROWS = 50  # rows of a learner table shown on a page; the full table goes to a CSV file
NOT_SUBMITTED = "未提交"
NO_DATA = "无数据"
EMPTY = "—"
RESULT_HEADERS = {"learner": "学员编号", "name": "姓名", "region": "地区", "department": "部门",
                  "submitted": "已提交章数", "expected": "应提交章数", "completion": "完成率", "missing": "缺交章节",
                  "pending": "待人工评分"}

# Columns sized by their content: a cell never breaks inside a name, a region or a number. Chinese
# text may otherwise break after any character, and a table squeezed by one wide column then shows
# 何/超 on two lines; a header broken by the browser may leave one character on a line (培训学/时).
# Only the long-text columns (``wrap``) wrap, at a readable width. The styles sit on the table itself
# (its id), so they hold in any notebook view.
TABLE_STYLES = [
    {"selector": "", "props": "table-layout: auto; border-collapse: collapse; margin: 0.4em 0 1em 0;"},
    {"selector": "th, td", "props": "white-space: nowrap; text-align: left; vertical-align: top; padding: 3px 8px;"},
    {"selector": "th", "props": "border-bottom: 1px solid #999;"},
]
WRAP_STYLE = "white-space: normal; word-break: normal; min-width: 12em; max-width: 28em;"


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


def chapter_summary(scores: pd.DataFrame, course: Course) -> pd.DataFrame:
    """Per covered chapter: title, learners who submitted, score in percent, grades waiting for a grader.

    The score pools the chapter's graded questions over learners (earned ÷ possible × 100; NaN
    when nothing is graded yet); ``pending`` counts nbgrader's ``needs_manual_grade`` rows.
    """
    chapter = scores["chapter"].astype(str)
    graded = scores["score"].notna()
    earned = scores["score"].where(graded).groupby(chapter).sum()
    possible = scores["points"].where(graded).groupby(chapter).sum()
    learners = scores.groupby(chapter)["learner"].nunique()
    waiting = scores["needs_manual_grade"].astype(bool).groupby(chapter).sum()
    chapters = chapters_covered(scores, course)
    return pd.DataFrame({"chapter": chapters, "title": [course.chapters[c].title for c in chapters],
                         "learners": [int(learners.get(c, 0)) for c in chapters],
                         "score": [100 * earned[c] / possible[c] if possible.get(c, 0) > 0 else math.nan
                                   for c in chapters],
                         "pending": [int(waiting.get(c, 0)) for c in chapters]})


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
    """The first ``rows`` of ``results_table`` with Chinese headers and 未提交 in empty chapter cells.

    Chapter columns are headed "<id> <title>" (the CSV beside the page); ``results_page`` is the page's part.
    """
    chapters = [c for c in results.columns if c in course.chapters]
    shown = results.head(rows).copy()
    for c in chapters:
        shown[c] = [NOT_SUBMITTED if pd.isna(v) else f"{v:.0f}" for v in shown[c]]
    shown["completion"] = [f"{v:.0%}" if pd.notna(v) else NO_DATA for v in shown["completion"]]
    shown["missing"] = shown["missing"].replace("", EMPTY)
    return shown.rename(columns=RESULT_HEADERS | {c: f"{c} {course.chapters[c].title}" for c in chapters})


def results_page(shown: pd.DataFrame) -> Styler:
    """``results_display`` as a page table that fits A4: who, chapters submitted of expected, completion,
    the missing chapters (wrapped) and grades waiting; each chapter's score stays in the CSV beside the page.
    """
    page = shown[["学员编号", "姓名", "地区", "部门"]].copy()
    page["已交章数"] = [f"{a}/{b}" for a, b in zip(shown["已提交章数"], shown["应提交章数"], strict=True)]
    page[["完成率", "缺交章节", "待人工评分"]] = shown[["完成率", "缺交章节", "待人工评分"]]
    return show(page, wrap=["缺交章节"], right=["已交章数", "完成率"])


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


def sample_note(respondents: Mapping[str, int | float], titles: Mapping[str, str],
                minimum: int = SMALL_SAMPLE) -> str:
    """One caution for the chapters answered by fewer than ``minimum`` learners, "" when none.

    ``respondents``: chapter id → number of respondents; ``titles``: chapter id → title, by which the
    caution names the chapters (a manager reads titles, not ids). Said once above a table, not on every row.
    """
    few = {c: int(n) for c, n in respondents.items() if pd.notna(n) and int(n) < minimum}
    if not few:
        return ""
    if len(few) == len(respondents):
        low, high = min(few.values()), max(few.values())
        counts = f"{low} 人" if low == high else f"{low}–{high} 人"
        return f"各章作答人数均少于 {minimum} 人（{counts}），以下统计结果仅供参考。"
    listed = "、".join(f"{titles[c]}（{n} 人）" for c, n in few.items())
    return f"作答人数少于 {minimum} 人的章：{listed}；这些章的统计结果仅供参考。"


def flag_numbers(item_frame: pd.DataFrame) -> pd.Series:
    """Each flagged item's number (1, 2, ... in the frame's order), NA for the others.

    The item scatter writes these numbers next to the points; the flagged-items table lists them.
    """
    flagged = item_frame["flags"].map(bool).to_numpy()
    numbers = pd.Series(pd.NA, index=item_frame.index, dtype="Int64")
    numbers[flagged] = np.arange(1, int(flagged.sum()) + 1)
    return numbers


def level_titles(course: Course) -> list[str]:
    """The level titles from the entry level up: 四级, 三级, 二级, 一级 (never sorted as text)."""
    return [lv.title for lv in sorted(course.levels.levels, key=lambda lv: lv.rank)]


def area_titles(course: Course) -> dict[str, str]:
    """Leaf area id → title, in the one order every chart and table of the pages uses (the content's)."""
    return {a: area.title for a, area in course.leaf_areas.items()}


def region_area_matrix(mastery: pd.DataFrame, scores: pd.DataFrame, titles: dict[str, str]) -> pd.DataFrame:
    """Pooled mastery (0–1) per region (rows, with head counts) × area (columns, in ``titles`` order).

    ``mastery`` is ``weighting.area_mastery``; an area nobody answered is a column of NaN (无数据).
    """
    regions = scores.drop_duplicates("learner").set_index("learner")["region"].astype(str)
    joined = mastery.assign(region=regions.reindex(mastery["learner"].astype(str)).to_numpy())
    pooled = joined.groupby(["region", "area"], observed=True)[["earned", "possible"]].sum()
    matrix = (pooled["earned"] / pooled["possible"]).unstack().reindex(columns=list(titles))
    counts = regions.value_counts()
    matrix.index = [f"{r}（{int(counts.get(r, 0))} 人）" for r in matrix.index]
    matrix.columns = list(titles.values())
    return matrix.astype(float)


def weakest_learners(mastery: pd.DataFrame, scores: pd.DataFrame, titles: dict[str, str],
                     rows: int = 30) -> pd.DataFrame:
    """Mastery (0–1) of the ``rows`` learners with the lowest mean over areas, lowest first.

    Rows are 姓名（学员编号）, columns the areas in ``titles`` order.
    """
    names = scores.drop_duplicates("learner").set_index("learner")["name"].astype(str)
    matrix = mastery.pivot(index="learner", columns="area", values="mastery").reindex(columns=list(titles))
    matrix = matrix.loc[matrix.mean(axis=1).sort_values(kind="stable").index[:rows]]
    matrix.index = [f"{names.get(i, i)}（{i}）" for i in matrix.index.astype(str)]
    matrix.columns = list(titles.values())
    return matrix.astype(float)


def choose_learners(requested: str | None, known: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Learner ids to draw from a ``--learner`` value ("a" or "a,b,c") and notices for the page.

    ``known`` is ``learners_frame``. Without a value nobody is chosen: the page lists learners to
    pick from instead of silently picking one. An id without grades is named in a notice.
    """
    if not requested or not str(requested).strip():
        return [], ["本次报告未指定学员。生成报告时可按学员编号指定一名或多名学员，"
                    "本页即显示其详情；下表列出可选的学员。"]
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


def show(frame: pd.DataFrame, *, wrap: Sequence[str] = (), right: Sequence[str] = (),
         formats: Mapping[str, str] | None = None, na_rep: str = EMPTY, precision: int = 1) -> Styler:
    """A table for a manager page: no index, one line per cell but in ``wrap`` (long texts).

    Numbers, formatted columns and ``right`` (numbers kept as text, e.g. 83% or 未提交) align right,
    other text left.

    Every value and header is escaped: names and texts are shown as text, never as markup.
    """
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and c not in (formats or {})]
    styler = frame.style.hide(axis="index").format(na_rep=na_rep, precision=precision, escape="html")
    if formats:
        styler = styler.format(dict(formats), subset=list(formats), na_rep=na_rep, escape="html")
    styler = styler.format_index(escape="html", axis=1).set_table_styles(TABLE_STYLES)
    right = [*numeric, *(formats or {}), *right]
    per_column = {c: [{"selector": "td, th", "props": "text-align: right;"}] for c in right if c not in wrap}
    per_column |= {c: [{"selector": "td", "props": WRAP_STYLE}] for c in wrap}
    return styler.set_table_styles(per_column, overwrite=False) if per_column else styler
